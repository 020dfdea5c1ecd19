"""Scenario files: YAML in, a validated ``Scenario`` out, or one ``ScenarioError`` naming the file,
the key path (``producers[1].lag.uniform``) and what is wrong, in one line.

The file is read within stated limits (``reading``); every value goes through one checked converter
(``values``); each model class checks what its values mean together.
"""

from __future__ import annotations

import difflib
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Optional

from ..backends.limits import DEFAULT_SHARD_LIMIT, MAX_SHARD_LIMIT
from ..collector import paused
from ..counters import ParameterError, Windowing
from ..errors import ScenarioError
from .checking import check_faults
from .consuming import consumer_spec
from .fault_items import MAX_FAULTS, read_fault, read_file
from .kinds import counter_class, short_name
from .model import CounterSpec, Scenario, StreamSpec
from .producing import check_member_names, producer_specs
from .values import Node, built, description, duration, integer, instant, name, positive_duration, shown, stream_name, text

__all__ = ["load_scenario", "parse_scenario"]


_COUNTER_KEYS = ("kind", "name", "size", "slide", "params")


def _counter(node: Node, window: float, index: int, directory: Optional[Path]) -> CounterSpec:
    """A counter: its kind resolved to a class, its windows and parameters, and one built to check them.
    A kind alone (``- naive``) takes the scenario's window; in a mapping, every key but the common ones
    is a parameter, or the parameters sit under ``params``."""
    if isinstance(node.value, str):
        kind, params, where = node.value, {}, node
        found = node.convert(lambda text: counter_class(text, directory))
        counter_name, windowing = short_name(kind), built(node, lambda: Windowing.of_seconds(window))
    elif isinstance(node.value, dict):
        kind = node.get("kind", lambda value: text(value, 200), required=True)
        found = node.child("kind").convert(lambda _: counter_class(kind, directory))
        declared = getattr(found, "parameters", None)
        flat = [key for key in node.value if key not in _COUNTER_KEYS]
        _parameter_names(node, flat, declared, _COUNTER_KEYS, kind)
        params, where = {key: node.value[key] for key in flat}, node
        if node.value.get("params") is not None:
            if flat:
                raise ScenarioError(node.file, f"{node.path}.{flat[0]}", "give the parameters as the counter's own "
                                    "keys or under 'params', not both")
            where = node.child("params")
            if not isinstance(where.value, dict):
                raise where.error(f"expected a mapping of parameter names to values, got {shown(where.value)}")
            _parameter_names(where, list(where.value), declared, (), kind)
            params = dict(where.value)
        size = node.get("size", duration, window)
        slide = node.get("slide", duration, size)
        windowing = built(node, lambda: Windowing.of_seconds(size, slide))
        short = short_name(kind)
        counter_name = node.get("name", name, short if index == 0 else f"{short}-{index}")
    else:
        raise node.error(f"expected a counter kind or a mapping of keys, got {shown(node.value)}")
    spec = CounterSpec(counter_name, kind, found, windowing, tuple(params.items()))
    _check_builds(node, where, spec)
    return spec


def _parameter_names(node: Node, keys: list, declared: Optional[tuple[str, ...]], common: tuple[str, ...],
                     kind: str) -> None:
    """Parameter names are text, and among those the class declares (as ``parameters``) if it does."""
    for key in keys:
        if not isinstance(key, str):
            raise node.error(f"a parameter's name is text, got {shown(key)}")
        if declared is not None and key not in declared:
            close = difflib.get_close_matches(key, common + tuple(declared), n=1)
            hint = f"did you mean '{close[0]}'?" if close else \
                f"{kind} takes {', '.join(declared)}" if declared else f"{kind} takes no parameters"
            raise ScenarioError(node.file, f"{node.path}.{key}", f"unknown key; {hint}")


def _no_report(start: int, key: str, count: int, at_us: int) -> None:
    """The sink of the counter the loader builds to check the parameters: it never reports."""


def _check_builds(node: Node, where: Node, spec: CounterSpec) -> None:
    """Build the counter once, as each run will, so that a bad parameter is found now; the class's
    ``ParameterError`` names the key, any other failure is the counter's as a whole."""
    try:
        counter = spec.build(_no_report)
    except ParameterError as exc:
        raise ScenarioError(where.file, f"{where.path}.{exc.name}", exc.problem) from None
    except (ValueError, TypeError) as exc:
        raise node.error(str(exc)) from None
    except Exception as exc:  # the class's own code failed: say how, without a traceback
        raise node.error(f"building {spec.kind} failed: {type(exc).__name__}: {exc}") from exc
    if not isinstance(getattr(counter, "windowing", None), Windowing):
        raise node.error(f"{spec.kind} does not keep its windows: a counter keeps the Windowing it is given "
                         f"as its attribute windowing, and kinsim counts the truth in those windows")


def _unique(items: Optional[Node], specs: list, what: str) -> None:
    """No two of ``specs`` (one for each of ``items``, a list) have one name."""
    if len({spec.name for spec in specs}) == len(specs):
        return
    seen: dict[str, int] = {}
    for i, spec in enumerate(specs):
        if spec.name in seen:
            node = items.child(i)
            path = f"{node.path}.name" if isinstance(node.value, dict) else node.path
            raise ScenarioError(node.file, path, f"{what} name '{spec.name}' is already used by "
                                                 f"{what}s[{seen[spec.name]}]")
        seen[spec.name] = i


def _stream(node: Node) -> StreamSpec:
    """The stream: its name, shards and update delay, and the account's shard limit (simulated shards)
    that its shards must fit, each checked at its own key."""
    node.mapping(("name", "shards", "update_delay", "shard_limit"))
    shard_limit = node.get("shard_limit", integer, DEFAULT_SHARD_LIMIT)
    if not 1 <= shard_limit <= MAX_SHARD_LIMIT:
        raise node.child("shard_limit").error(f"the account's shard limit is 1 to {MAX_SHARD_LIMIT:,} here, "
                                              f"got {shard_limit:,}")
    shards = node.get("shards", integer, 1)
    if shards < 1:
        raise node.child("shards").error(f"a stream has at least 1 shard, got {shards:,}")
    if shards > shard_limit:
        raise node.child("shards").error(f"{shards:,} shards are over the account's shard limit of {shard_limit:,}: "
                                         "raise stream.shard_limit")
    delay = node.get("update_delay", duration, 0.0)
    return built(node, lambda: StreamSpec(node.get("name", stream_name), shards, delay, shard_limit))


def parse_scenario(document: Any, file: str, default_name: str, directory: Optional[Path] = None) -> Scenario:
    """A scenario from an already-parsed YAML document. A counter kind or a record processor given by
    import path is looked for in ``directory`` (the scenario file's) first, then on Python's path."""
    root = Node(document, "", file)
    if not isinstance(document, dict):
        raise ScenarioError(file, "", f"expected a mapping of keys at the top, got {shown(document)}")
    root.mapping(("name", "description", "seed", "start", "duration", "window", "stream", "producers",
                  "consumer", "counters", "faults"))
    scenario_name = root.get("name", name, None)
    if scenario_name is None:
        scenario_name = Node(default_name, "", file).convert(name)  # the file's stem: the same rules
    window = root.get("window", positive_duration, 60.0)
    span = root.get("duration", positive_duration, required=True)
    stream_spec = _stream(root.child("stream")) if root.has("stream") else StreamSpec()
    producers_node = root.child("producers") if root.has("producers") else None
    producers = producer_specs(producers_node) if producers_node is not None else []
    _unique(producers_node, producers, "producer")
    if producers_node is not None:
        check_member_names(producers_node, producers)
    consumer = consumer_spec(root.child("consumer") if root.has("consumer") else None, directory)
    counters_node = root.child("counters") if root.has("counters") else None
    counter_nodes = counters_node.items() if counters_node is not None else []
    counters = [_counter(node, window, i, directory) for i, node in enumerate(counter_nodes)]
    _unique(counters_node, counters, "counter")
    for key, found in (("producers", producers), ("counters", counters)):
        if not found:
            raise ScenarioError(file, key, "at least one is required")
    fault_nodes = root.child("faults").items() if root.value.get("faults") is not None else []
    if len(fault_nodes) > MAX_FAULTS:
        raise root.child("faults").error(f"a schedule holds at most {MAX_FAULTS:,} faults, got {len(fault_nodes):,}")
    faults = tuple(read_fault(node, consumer.workers) for node in fault_nodes)
    scenario = built(root, lambda: Scenario(
        name=scenario_name,
        description=root.get("description", description, ""),
        seed=root.get("seed", integer, 0),
        start=root.get("start", instant, datetime(1970, 1, 1, tzinfo=timezone.utc)),
        duration=span, window=window, stream=stream_spec, producers=tuple(producers), consumer=consumer,
        counters=tuple(counters), faults=faults))
    check_faults(scenario, file)
    return scenario


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario file (the cyclic collector paused meanwhile: 100,000 producers made
    into specs, 0.8 s with it, 0.63 s without)."""
    path = Path(path)
    with paused():
        return parse_scenario(read_file(path), str(path), path.stem, path.resolve().parent)

"""Scenario files: YAML in, a validated ``Scenario`` out, or one ``ScenarioError`` naming the file,
the key path (``producers[1].lag.uniform``) and what is wrong. The only module that imports yaml.
"""

from __future__ import annotations

import difflib
import re
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable, Optional, TypeVar

import yaml
from dateutil import parser as dateparser

from ..counters import ParameterError, Windowing
from ..durations import parse_duration, parse_signed_duration
from ..errors import ScenarioError
from ..lag import LAG_KINDS, Constant, LagModel
from ..records import IteratorType
from .kinds import counter_class, short_name
from .model import (
    ConsumerSpec,
    CounterSpec,
    Outage,
    Pacing,
    ProducerSpec,
    Scenario,
    StreamSpec,
)

__all__ = ["load_scenario", "parse_scenario"]

T = TypeVar("T")

_RATE = re.compile(r"\s*(\d+(?:\.\d+)?)\s*/\s*(s|sec|second|m|min|minute|h|hour)\s*")
_RATE_UNITS = {"s": 1, "sec": 1, "second": 1, "m": 60, "min": 60, "minute": 60, "h": 3600, "hour": 3600}


def parse_instant(value: Any) -> datetime:
    """An ISO 8601 instant; one without a zone is UTC."""
    if isinstance(value, datetime):
        instant = value
    elif isinstance(value, str):
        try:
            instant = dateparser.isoparse(value)
        except ValueError:
            raise ValueError(f"expected an ISO 8601 instant like 2018-07-31T21:56:00Z, got {value!r}") from None
    else:
        raise ValueError(f"expected an ISO 8601 instant like 2018-07-31T21:56:00Z, got {value!r}")
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=timezone.utc)
    return instant.astimezone(timezone.utc)


def parse_rate(value: Any) -> float:
    """``30/min``, ``2/s``, ``100/h`` → seconds between records."""
    match = _RATE.fullmatch(value) if isinstance(value, str) else None
    if not match or Decimal(match.group(1)) == 0:
        raise ValueError(f"expected a rate above 0 like 30/min or 2/s, got {value!r}")
    return float(Decimal(_RATE_UNITS[match.group(2)]) / Decimal(match.group(1)))


class _Node:
    """A value in the scenario file and where it sits, for messages that point at it."""

    def __init__(self, value: Any, path: str, file: str) -> None:
        self.value, self.path, self.file = value, path, file

    def error(self, problem: str) -> ScenarioError:
        return ScenarioError(self.file, self.path, problem)

    def child(self, key: Any) -> "_Node":
        path = f"{self.path}[{key}]" if isinstance(key, int) else (f"{self.path}.{key}" if self.path else key)
        return _Node(self.value[key], path, self.file)

    def mapping(self, allowed: tuple[str, ...]) -> "_Node":
        if not isinstance(self.value, dict):
            raise self.error(f"expected a mapping of keys, got {_shown(self.value)}")
        for key in self.value:
            if key not in allowed:
                close = difflib.get_close_matches(str(key), allowed, n=1)
                hint = f"; did you mean '{close[0]}'?" if close else f"; known keys: {', '.join(allowed)}"
                raise ScenarioError(self.file, f"{self.path}.{key}" if self.path else str(key),
                                    f"unknown key{hint}")
        return self

    def items(self) -> list["_Node"]:
        if not isinstance(self.value, list):
            raise self.error(f"expected a list, got {_shown(self.value)}")
        return [self.child(i) for i in range(len(self.value))]

    def has(self, key: str) -> bool:
        return key in self.value

    def get(self, key: str, convert: Callable[[Any], T], default: Optional[T] = None, required: bool = False) -> T:
        if key not in self.value or self.value[key] is None:
            if required:
                raise ScenarioError(self.file, f"{self.path}.{key}" if self.path else key, "is required")
            return default
        return self.child(key).convert(convert)

    def convert(self, convert: Callable[[Any], T]) -> T:
        try:
            return convert(self.value)
        except (ValueError, TypeError) as exc:
            raise self.error(str(exc)) from None


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _text(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise ValueError(f"expected text, got {_shown(value)}")
    return str(value)


def _stream_name(value: Any) -> str:
    name = _text(value)
    if not re.fullmatch(r"[a-zA-Z0-9_.-]{1,128}", name):
        raise ValueError(f"a stream name has 1 to 128 letters, digits, '_', '.' or '-', got {_shown(value)}")
    return name


def _integer(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"expected a whole number, got {_shown(value)}")
    return value


def _number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"expected a number, got {_shown(value)}")
    return float(value)


def _choice(enum_type):
    def convert(value: Any):
        try:
            return enum_type(value)
        except ValueError:
            options = ", ".join(member.value for member in enum_type)
            raise ValueError(f"expected one of {options}, got {_shown(value)}") from None
    return convert


def _built(node: _Node, build: Callable[[], T]) -> T:
    """Build a model object; its own check (``__post_init__``) names the node on failure."""
    try:
        return build()
    except ValueError as exc:
        raise node.error(str(exc)) from None


def _lag(node: _Node) -> LagModel:
    if not isinstance(node.value, dict):
        return Constant(node.convert(parse_duration))
    if len(node.value) != 1:
        raise node.error(f"expected one lag model of {', '.join(LAG_KINDS)}")
    node.mapping(tuple(LAG_KINDS))
    kind = next(iter(node.value))
    model, names, durations = LAG_KINDS[kind]
    spec = node.child(kind)
    raw = spec.value
    if isinstance(raw, dict):
        spec.mapping(names)
        missing = [name for name in names if name not in raw]
        if missing:
            raise spec.error(f"'{missing[0]}' is required ({kind} takes {', '.join(names)})")
        raw = [raw[name] for name in names]
        nodes = [spec.child(name) for name in names]
    elif isinstance(raw, list):
        if len(raw) != len(names):
            raise spec.error(f"{kind} takes {len(names)} values ({', '.join(names)}), got {len(raw)}")
        nodes = spec.items()
    elif len(names) == 1:
        nodes = [spec]
    else:
        raise spec.error(f"{kind} takes {', '.join(names)}, e.g. [{', '.join('20s' for _ in names)}]")
    values = [n.convert(parse_duration if name in durations else _number) for n, name in zip(nodes, names)]
    return _built(spec, lambda: model(*values))


def _outages(node: _Node) -> tuple[Outage, ...]:
    outages = []
    for item in node.items():
        item.mapping(("at", "for"))
        at = item.get("at", parse_duration, required=True)
        duration = item.get("for", parse_duration, required=True)
        outages.append(_built(item, lambda: Outage(at, duration)))
    return tuple(outages)


def _producer(node: _Node) -> ProducerSpec:
    node.mapping(("name", "partition_key", "interval", "rate", "offset", "jitter", "lag", "outages",
                  "clock_skew", "pacing"))
    if node.has("interval") == node.has("rate"):
        raise node.error("give either 'interval' (e.g. 2s) or 'rate' (e.g. 30/min), not both or neither")
    interval = node.get("interval", parse_duration) if node.has("interval") else node.get("rate", parse_rate)
    fields = dict(
        name=node.get("name", _text, required=True),
        partition_key=node.get("partition_key", _text, required=True),
        interval=interval,
        offset=node.get("offset", parse_duration, 0.0),
        jitter=node.get("jitter", parse_duration, 0.0),
        lag=_lag(node.child("lag")) if node.has("lag") else Constant(0.0),
        outages=_outages(node.child("outages")) if node.has("outages") else (),
        clock_skew=node.get("clock_skew", parse_signed_duration, 0.0),
        pacing=node.get("pacing", _choice(Pacing), Pacing.FIXED),
    )
    return _built(node, lambda: ProducerSpec(**fields))


_COUNTER_KEYS = ("kind", "name", "size", "slide", "params")


def _counter(node: _Node, window: float, index: int, directory: Optional[Path]) -> CounterSpec:
    """A counter: its kind resolved to a class, its windows and parameters, and one built to check them.
    A kind alone (``- naive``) takes the scenario's window; in a mapping, every key but the common ones
    is a parameter, or the parameters sit under ``params``."""
    if isinstance(node.value, str):
        kind, params, where = node.value, {}, node
        found = node.convert(lambda text: counter_class(text, directory))
        name, windowing = short_name(kind), _built(node, lambda: Windowing.of_seconds(window))
    elif isinstance(node.value, dict):
        kind = node.get("kind", _text, required=True)
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
                raise where.error(f"expected a mapping of parameter names to values, got {_shown(where.value)}")
            _parameter_names(where, list(where.value), declared, (), kind)
            params = dict(where.value)
        size = node.get("size", parse_duration, window)
        slide = node.get("slide", parse_duration, size)
        windowing = _built(node, lambda: Windowing.of_seconds(size, slide))
        short = short_name(kind)
        name = node.get("name", _text, short if index == 0 else f"{short}-{index}")
    else:
        raise node.error(f"expected a counter kind or a mapping of keys, got {_shown(node.value)}")
    spec = CounterSpec(name, kind, found, windowing, tuple(params.items()))
    _check_builds(node, where, spec)
    return spec


def _parameter_names(node: _Node, keys: list, declared: Optional[tuple[str, ...]], common: tuple[str, ...],
                     kind: str) -> None:
    """Parameter names are text, and among those the class declares (as ``parameters``) if it does."""
    for key in keys:
        if not isinstance(key, str):
            raise node.error(f"a parameter's name is text, got {_shown(key)}")
        if declared is not None and key not in declared:
            close = difflib.get_close_matches(key, common + tuple(declared), n=1)
            hint = f"did you mean '{close[0]}'?" if close else \
                f"{kind} takes {', '.join(declared)}" if declared else f"{kind} takes no parameters"
            raise ScenarioError(node.file, f"{node.path}.{key}", f"unknown key; {hint}")


def _no_report(start: int, key: str, count: int, at_us: int) -> None:
    """The sink of the counter the loader builds to check the parameters: it never reports."""


def _check_builds(node: _Node, where: _Node, spec: CounterSpec) -> None:
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


def _unique(nodes: list[_Node], specs: list, what: str) -> None:
    seen: dict[str, int] = {}
    for i, (node, spec) in enumerate(zip(nodes, specs)):
        if spec.name in seen:
            path = f"{node.path}.name" if isinstance(node.value, dict) else node.path
            raise ScenarioError(node.file, path, f"{what} name '{spec.name}' is already used by "
                                                 f"{what}s[{seen[spec.name]}]")
        seen[spec.name] = i


def parse_scenario(document: Any, file: str, default_name: str, directory: Optional[Path] = None) -> Scenario:
    """A scenario from an already-parsed YAML document. A counter kind given by import path is looked for
    in ``directory`` (the scenario file's) first, then on Python's path."""
    root = _Node(document, "", file)
    if not isinstance(document, dict):
        raise ScenarioError(file, "", f"expected a mapping of keys at the top, got {_shown(document)}")
    root.mapping(("name", "description", "seed", "start", "duration", "window", "stream", "producers",
                  "consumer", "counters"))
    window = root.get("window", parse_duration, 60.0)
    stream = root.child("stream").mapping(("name", "shards")) if root.has("stream") else None
    stream_spec = _built(stream, lambda: StreamSpec(stream.get("name", _stream_name),
                                                    stream.get("shards", _integer, 1))) if stream else StreamSpec()
    producer_nodes = root.child("producers").items() if root.has("producers") else []
    producers = [_producer(node) for node in producer_nodes]
    _unique(producer_nodes, producers, "producer")
    consumer = root.child("consumer").mapping(("poll_interval", "limit", "iterator", "start")) \
        if root.has("consumer") else None
    consumer_spec = ConsumerSpec()
    if consumer is not None:
        consumer_spec = _built(consumer, lambda: ConsumerSpec(
            consumer.get("poll_interval", parse_duration, 1.0), consumer.get("limit", _integer, 10_000),
            consumer.get("iterator", _choice(IteratorType), IteratorType.TRIM_HORIZON),
            consumer.get("start", parse_duration, 0.0)))
    counter_nodes = root.child("counters").items() if root.has("counters") else []
    counters = [_counter(node, window, i, directory) for i, node in enumerate(counter_nodes)]
    _unique(counter_nodes, counters, "counter")
    for key, found in (("producers", producers), ("counters", counters)):
        if not found:
            raise ScenarioError(file, key, "at least one is required")
    return _built(root, lambda: Scenario(
        name=root.get("name", _text, default_name),
        description=root.get("description", _text, ""),
        seed=root.get("seed", _integer, 0),
        start=root.get("start", parse_instant, datetime(1970, 1, 1, tzinfo=timezone.utc)),
        duration=root.get("duration", parse_duration, required=True),
        window=window, stream=stream_spec, producers=tuple(producers), consumer=consumer_spec,
        counters=tuple(counters)))


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario file."""
    path = Path(path)
    file = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ScenarioError(file, "", "no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(file, "", f"cannot read it: {exc}") from None
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ScenarioError(file, "", f"not valid YAML: {where}{problem}") from None
    return parse_scenario(document, file, path.stem, path.resolve().parent)

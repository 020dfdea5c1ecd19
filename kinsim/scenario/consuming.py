"""The ``consumer`` part of a scenario file (DESIGN §5, §11): how it polls, under the tutorial's names
or the KCL's (``max_records`` is ``limit``, ``idle_time_between_reads`` is ``poll_interval``); its
workers, their lease failover time and checkpoint policy; where the counters' state lives; and a record
processor of the user's own. Also the worker a fault names (``crash: w1``): one of those workers.

A key left out takes ``ConsumerSpec``'s default, so the defaults live in one place, the model.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

from ..records import IteratorType
from .kinds import processor_class
from .model import CheckpointPolicy, ConsumerSpec, ProcessorSpec, State
from .values import Node, built, choice, duration, integer, listed, name, positive_duration, shown, text

__all__ = ["consumer_spec", "worker_of", "MAX_WORKERS"]

MAX_WORKERS = 100
_KEYS = ("poll_interval", "idle_time_between_reads", "limit", "max_records", "iterator", "start", "workers",
         "lease", "checkpoint", "state", "processor")
# (the tutorial's name, the KCL's name) of one setting: either may be given, not both
_ALIASES = (("poll_interval", "idle_time_between_reads"), ("limit", "max_records"))
_CHECKPOINTS = "{every: DURATION}, {records: N}, each_batch or none"


def consumer_spec(node: Optional[Node], directory: Optional[Path] = None) -> ConsumerSpec:
    """The consumer a scenario's ``consumer`` mapping describes (None: the default one). A processor
    given by import path is looked for in ``directory`` (the scenario file's) first."""
    if node is None:
        return ConsumerSpec()
    node.mapping(_KEYS)
    given = {key for key, value in node.value.items() if value is not None}
    fields: dict[str, Any] = {}
    for ours, kcl in _ALIASES:
        key = _one_of(node, ours, kcl)
        if key in given:
            convert = positive_duration if ours == "poll_interval" else integer
            fields[ours] = node.get(key, convert)
    if "iterator" in given:
        fields["iterator"] = node.get("iterator", choice(IteratorType))
    if "start" in given:
        fields["start"] = node.get("start", duration)
    if "workers" in given:
        fields["workers"] = _workers(node.child("workers"))
    if "lease" in given:
        lease = node.child("lease").mapping(("failover_time",))
        fields["failover_time"] = lease.get("failover_time", positive_duration, required=True)
    if "checkpoint" in given:
        fields["checkpoint"] = _checkpoint(node.child("checkpoint"))
    if "state" in given:
        fields["state"] = node.get("state", choice(State))
    if "processor" in given:
        where = node.child("processor")
        path = where.convert(lambda value: text(value, 200))
        fields["processor"] = ProcessorSpec(path, where.convert(lambda _: processor_class(path, directory)))
    return built(node, lambda: ConsumerSpec(**fields))


def _one_of(node: Node, ours: str, kcl: str) -> str:
    """The key a setting is given under: ours or the KCL's name; both is an error at the second."""
    keys = [key for key in node.value if key in (ours, kcl)]
    if len(keys) > 1:
        raise node.child(keys[1]).error(f"'{keys[0]}' already gives this ({kcl} is the KCL's name for {ours}): "
                                        f"give one of them")
    return keys[0] if keys else ours


def _worker_name(value: Any) -> str:
    """A worker's name: text, not empty."""
    result = name(value)
    if not result:
        raise ValueError("a worker's name is not empty")
    return result


def _workers(node: Node) -> tuple[str, ...]:
    """``workers: N`` (named w1 to wN) or a list of names, each once."""
    if isinstance(node.value, int) and not isinstance(node.value, bool):
        if not 1 <= node.value <= MAX_WORKERS:
            raise node.error(f"expected 1 to {MAX_WORKERS} workers, got {shown(node.value)}")
        return tuple(f"w{i}" for i in range(1, node.value + 1))
    if not isinstance(node.value, list):
        raise node.error(f"expected a number of workers (1 to {MAX_WORKERS}) or a list of their names, "
                         f"got {shown(node.value)}")
    items = node.items()
    if not 1 <= len(items) <= MAX_WORKERS:
        raise node.error(f"expected 1 to {MAX_WORKERS} workers, got {len(items):,}")
    names = [item.convert(_worker_name) for item in items]
    for j, worker in enumerate(names):
        if worker in names[:j]:
            raise items[j].error(f"{worker} is already listed at {items[names.index(worker)].path}")
    return tuple(names)


def _checkpoint(node: Node) -> CheckpointPolicy:
    """``{every: DURATION}`` | ``{records: N}`` | ``each_batch`` | ``none``."""
    if node.value == "each_batch":
        return CheckpointPolicy(each_batch=True)
    if node.value == "none":
        return CheckpointPolicy()
    if not isinstance(node.value, dict) or not node.value:
        raise node.error(f"expected one of {_CHECKPOINTS}, got {shown(node.value)}")
    node.mapping(("every", "records"))
    keys = list(node.value)
    if len(keys) > 1:
        raise node.child(keys[1]).error(f"one checkpoint policy: this one already has '{keys[0]}'")
    if keys[0] == "every":
        return CheckpointPolicy(every=node.get("every", positive_duration, required=True))
    records = node.get("records", integer, required=True)
    if records < 1:
        raise node.child("records").error(f"checkpoint after at least 1 record, got {shown(records)}")
    return CheckpointPolicy(records=records)


def worker_of(node: Node, workers: tuple[str, ...]) -> str:
    """The worker a fault names: one of ``consumer.workers``."""
    who = node.convert(_worker_name)
    if who not in workers:
        raise node.error(f"there is no worker {shown(who)}; the workers are {listed(workers)}")
    return who

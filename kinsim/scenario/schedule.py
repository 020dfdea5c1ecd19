"""A scenario's fault schedule (DESIGN §10), as frozen dataclasses.

A ``Fault`` happens ``at`` seconds after the scenario's start; a throttle or a pause lasts ``duration``
seconds (the file's ``for``). Each fault keeps its key path in the file (``faults[2]``), so a problem
found later, while checking the schedule against the stream or during the run, can name it.

- ``Split``: SplitShard of ``shard_id`` at ``hash_key`` (None: the middle of its range, as the console does);
- ``Merge``: MergeShards of two adjacent shards;
- ``ShardCount``: UpdateShardCount to ``target`` with UNIFORM_SCALING;
- ``Throttle``: lowered per-shard limits for ``[at, at + for)`` on ``shards`` (None: every shard);
  a limit left None keeps the service's;
- ``Pause``: ``who`` (a worker; the single consumer is the worker ``consumer``) is alive but does
  nothing for ``[at, at + for)``;
- ``Crash``: ``worker`` stops at once, with no callbacks and no renewals (DESIGN §11);
- ``Restart``: a crashed ``worker`` comes back with no leases and no state;
- ``Join``: ``worker`` starts then, not with the others (scaling out).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Optional, Union

__all__ = ["Split", "Merge", "ShardCount", "Throttle", "Pause", "Crash", "Restart", "Join", "Fault", "FaultAction", "RESHARDS",
           "WORKER_FAULTS", "split_point"]


def split_point(start: int, end: int) -> int:
    """Where a split without ``hash_key`` cuts the shard holding hash keys ``start`` to ``end`` (both
    inclusive): the middle, the first key of the upper half. The check of a schedule and the run both
    use this, so they split the same shard at the same key."""
    return start + (end - start + 1) // 2


@dataclass(frozen=True)
class Split:
    shard_id: str
    hash_key: Optional[int] = None

    def describe(self) -> str:
        return f"split {self.shard_id}" + ("" if self.hash_key is None else f" at hash key {self.hash_key}")


@dataclass(frozen=True)
class Merge:
    shard_ids: tuple[str, str]

    def __post_init__(self) -> None:
        if self.shard_ids[0] == self.shard_ids[1]:
            raise ValueError("a shard cannot be merged with itself")

    def describe(self) -> str:
        return f"merge {self.shard_ids[0]} and {self.shard_ids[1]}"


@dataclass(frozen=True)
class ShardCount:
    target: int

    def __post_init__(self) -> None:
        if self.target < 1:
            raise ValueError("a stream keeps at least 1 shard")

    def describe(self) -> str:
        return f"update the shard count to {self.target}"


@dataclass(frozen=True)
class Throttle:
    shards: Optional[tuple[str, ...]] = None  # None: every shard, those opened meanwhile too
    records_per_s: Optional[int] = None
    bytes_per_s: Optional[int] = None
    reads_per_s: Optional[int] = None
    read_bytes_per_s: Optional[int] = None

    def __post_init__(self) -> None:
        limits = (self.records_per_s, self.bytes_per_s, self.reads_per_s, self.read_bytes_per_s)
        if all(limit is None for limit in limits):
            raise ValueError("a throttle lowers at least one of records_per_s, bytes_per_s, reads_per_s, "
                             "read_bytes_per_s")
        if any(limit is not None and limit < 1 for limit in limits):
            raise ValueError("a lowered limit is at least 1")
        if self.shards is not None and (not self.shards or len(set(self.shards)) != len(self.shards)):
            raise ValueError("list each throttled shard once, or say 'all'")

    def describe(self) -> str:
        where = "every shard" if self.shards is None else ", ".join(self.shards)
        limits = [f"{value} {unit}" for value, unit in ((self.records_per_s, "records/s"),
                                                         (self.bytes_per_s, "bytes/s"),
                                                         (self.reads_per_s, "reads/s"),
                                                         (self.read_bytes_per_s, "read bytes/s"))
                  if value is not None]
        return f"throttle {where} to {', '.join(limits)}"


@dataclass(frozen=True)
class Pause:
    who: str = "consumer"

    def describe(self) -> str:
        return f"pause {self.who}"


@dataclass(frozen=True)
class _OfAWorker:
    """A fault that happens to one worker, at an instant."""

    worker: str
    template: ClassVar[str] = "{}"

    def describe(self) -> str:
        return self.template.format(self.worker)


class Crash(_OfAWorker):
    template = "crash {}"


class Restart(_OfAWorker):
    template = "restart {}"


class Join(_OfAWorker):
    template = "{} joins"


FaultAction = Union[Split, Merge, ShardCount, Throttle, Pause, Crash, Restart, Join]
RESHARDS = (Split, Merge, ShardCount)
WORKER_FAULTS = (Pause, Crash, Restart, Join)


@dataclass(frozen=True)
class Fault:
    at: float
    action: FaultAction
    duration: Optional[float] = None  # the file's ``for``: throttles and pauses only, never crashes or restarts
    path: str = "faults"               # where the fault sits in the file, for messages

    def __post_init__(self) -> None:
        if self.at < 0:
            raise ValueError("a fault cannot happen before the scenario starts")
        spans = isinstance(self.action, (Throttle, Pause))  # a reshard, a crash or a restart is an instant
        if spans and (self.duration is None or self.duration <= 0):
            raise ValueError(f"a {self.kind} needs 'for', a duration above 0")
        if not spans and self.duration is not None:
            raise ValueError(f"a {self.kind} happens at an instant: it takes no 'for'")

    @property
    def kind(self) -> str:
        return {Split: "split", Merge: "merge", ShardCount: "shard_count", Throttle: "throttle",
                Pause: "pause", Crash: "crash", Restart: "restart", Join: "join"}[type(self.action)]

    @property
    def end(self) -> Optional[float]:
        return None if self.duration is None else self.at + self.duration

    def describe(self) -> str:
        return self.action.describe()

"""The scenario's fault schedule, carried out on the timeline (DESIGN §10).

Each fault is a stream change at its instant: it happens before anything else then but the stream's own
changes due then (``FAULT``: after a reshard completing then), so a put or a poll at exactly ``at``
already meets it, and one at exactly ``at + for`` no longer does.

- A reshard is an API call through the backend (SplitShard, MergeShards, UpdateShardCount), so it
  happens on a real stream too; the stream completes it after its update delay.
- A throttle lowers the limits of simulated shards for its span (a backend's ``limit_shards``, which
  ``MemoryBackend`` has); a real stream's limits cannot be lowered, which the runner says before the
  run starts.
- A pause stalls a worker (the single consumer is the worker ``consumer``) for the span; a crash stops
  one at once; a restart brings a crashed one back; a join starts one (``workers.Worker``).

What was applied, and when, is kept for the report (``Applied``). A fault the backend refuses mid-run
(only a real stream can: the schedule was checked on simulated shards when the scenario was loaded) is
a ``FaultError`` naming the fault.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Sequence

from ..backends.base import Backend
from ..backends.throughput import SERVICE_LIMITS, ShardLimits
from ..errors import FaultError, KinesisError
from ..scenario.schedule import Crash, Fault, Join, Merge, Pause, Restart, ShardCount, Split, Throttle, split_point
from .timeline import FAULT, Timeline
from .workers import Fleet

__all__ = ["Disruptions", "Applied", "lowered_limits", "check_backend_takes", "reshard"]


@dataclass(frozen=True)
class Applied:
    """A fault as it was applied: when (seconds after the start), and what it did."""

    fault: Fault
    at: float
    outcome: str


def lowered_limits(throttle: Throttle) -> ShardLimits:
    """The service's limits with the throttle's lowered ones in their place."""
    changes = {name: value for name, value in (("write_records_per_s", throttle.records_per_s),
                                               ("write_bytes_per_s", throttle.bytes_per_s),
                                               ("read_calls_per_s", throttle.reads_per_s),
                                               ("read_bytes_per_s", throttle.read_bytes_per_s)) if value is not None}
    return replace(SERVICE_LIMITS, **changes)


def check_backend_takes(faults: Sequence[Fault], backend: Backend) -> None:
    """Refuse, before the run, a fault this backend cannot take: a throttle needs simulated shards."""
    for fault in faults:
        if isinstance(fault.action, Throttle) and not hasattr(backend, "limit_shards"):
            raise FaultError(f"{fault.path} ({fault.describe()}): a real stream's limits cannot be lowered; "
                             f"throttle faults need simulated shards (--backend memory)")


class Disruptions:
    def __init__(self, timeline: Timeline, backend: Backend, stream_name: str, faults: Sequence[Fault],
                 fleet: Fleet) -> None:
        self.timeline = timeline
        self.backend = backend
        self.stream_name = stream_name
        self.fleet = fleet
        self.applied: list[Applied] = []
        for fault in sorted(faults, key=lambda fault: fault.at):  # ties: the file's order
            self._at(fault.at, lambda fault=fault: self._apply(fault))
            if isinstance(fault.action, Throttle):
                self._at(fault.end, lambda fault=fault: self._unthrottle(fault))

    def _at(self, at: float, call) -> None:
        event = self.timeline.wake(max(0.0, at - self.timeline.now), FAULT)
        event.callbacks.append(lambda _: call())

    def _apply(self, fault: Fault) -> None:
        try:
            outcome = self._carry_out(fault)
        except KinesisError as exc:
            raise FaultError(f"{fault.path} ({fault.describe()}) at {fault.at:g} s: the stream refused it: "
                             f"{exc}") from exc
        self.applied.append(Applied(fault, self.timeline.now, outcome))

    def _carry_out(self, fault: Fault) -> str:
        action, backend, stream = fault.action, self.backend, self.stream_name
        if isinstance(action, (Split, Merge, ShardCount)):
            return reshard(backend, stream, action, fault)
        if isinstance(action, Throttle):
            backend.limit_shards(stream, lowered_limits(action), action.shards)  # type: ignore
            return "limits lowered"
        if isinstance(action, Pause):
            self.fleet.workers[action.who].pause(fault.end)  # type: ignore[arg-type]
            return "stalled"
        if isinstance(action, Crash):
            held = self.fleet.workers[action.worker].holder.shards()
            self.fleet.workers[action.worker].crash()
            return f"crashed holding {len(held)} lease{'s' if len(held) != 1 else ''}"
        if isinstance(action, Join):
            self.fleet.join(action.worker)
            return "started"
        if isinstance(action, Restart):
            self.fleet.workers[action.worker].restart()
            return f"restarted as {self.fleet.workers[action.worker].identity}"
        raise TypeError(f"unknown fault {action!r}")

    def _unthrottle(self, fault: Fault) -> None:
        assert isinstance(fault.action, Throttle)
        self.backend.limit_shards(self.stream_name, None, fault.action.shards)  # type: ignore[attr-defined]


def reshard(backend: Backend, stream: str, action, fault: Fault) -> str:
    """Carry out a split, merge or shard count change on ``stream`` now; returns what was done. A split
    without a hash key cuts its shard in the middle; a shard the stream does not have is a FaultError."""
    if isinstance(action, Split):
        key = action.hash_key
        if key is None:
            shard = next((s for s in backend.list_shards(stream) if s.shard_id == action.shard_id), None)
            if shard is None:
                raise FaultError(f"{fault.path} ({fault.describe()}) at {fault.at:g} s: the stream has no shard "
                                 f"{action.shard_id} at that moment")
            key = split_point(shard.hash_key_range.start, shard.hash_key_range.end)
        backend.split_shard(stream, action.shard_id, str(key))
        return f"SplitShard at hash key {key}"
    if isinstance(action, Merge):
        backend.merge_shards(stream, action.shard_ids[0], action.shard_ids[1])
        return "MergeShards"
    before = backend.update_shard_count(stream, action.target)
    return f"UpdateShardCount from {before} to {action.target} shards"

"""A scenario's fault schedule checked against its stream before anything runs (DESIGN §10).

``check_faults`` finds what would go wrong only during a run, and says it as a ``ScenarioError`` at the
fault's key path:

- a fault at or after the scenario's end, a throttle or pause lasting past it;
- a reshard the service would refuse: the reshards are replayed in time order (ties: file order) on a
  fresh ``MemoryBackend`` stream of the scenario's shard count, ``update_delay`` and ``shard_limit``, its
  clock moved to each fault's instant, so that a reshard completes after the delay as it will in the
  run. Shard ids made by earlier reshards are known by then; a split without ``hash_key`` cuts at
  ``split_point``;
- a throttle of a shard that is not open at its start;
- two throttles of one shard (``all`` is every shard) whose spans overlap;
- what a worker cannot do, its pauses, crashes and restarts replayed per worker in the same order: a
  crash of a worker that has crashed and not restarted since, a restart of one that is not crashed, a
  pause of one that is crashed at the pause's start or that overlaps another pause of it (a crash during
  a pause is fine: a stalled process killed);
- a join of a worker that already runs (a worker that joins starts then, not with the others; it
  cannot crash, pause or restart before);
- a schedule after which every worker is crashed, none restarting: nobody would read the stream, so the
  run could never finish (said at the last crash).

Times are replayed from the scenario's start as 0, as the run's timeline counts them, so a reshard at
the very instant an earlier one completes is accepted here as it is in the run (completions come first).
"""

from __future__ import annotations

import re
from typing import Optional

from ..backends import MemoryBackend
from ..clock import ManualClock
from ..durations import duration_text
from ..errors import InvalidArgumentException, KinesisError, ResourceInUseException, ScenarioError
from ..records import HashKeyRange
from .model import Scenario, StreamSpec
from .schedule import RESHARDS, WORKER_FAULTS, Crash, Fault, Join, Merge, Pause, Restart, Split, Throttle, split_point
from .values import listed

__all__ = ["check_faults"]

_STREAM = "kinsim-fault-schedule"


def check_faults(scenario: Scenario, file: str) -> None:
    """Raise a ``ScenarioError`` naming ``file`` and the fault's key path if the schedule cannot happen."""
    for fault in scenario.faults:
        if fault.at >= scenario.duration:
            raise ScenarioError(file, f"{fault.path}.at", f"{duration_text(fault.at)} is not before the scenario's end: "
                                                          f"its duration is {duration_text(scenario.duration)}")
        if fault.end is not None and fault.end > scenario.duration:
            raise ScenarioError(file, f"{fault.path}.for", f"a span past the end: {duration_text(fault.at)} + "
                                f"{duration_text(fault.duration)} ends after the scenario's duration of {duration_text(scenario.duration)}")
    if not scenario.faults:
        return
    replay = _Replay(scenario.stream, file)
    workers = _Workers(scenario.faults)
    throttles: list[Fault] = []
    for index in sorted(range(len(scenario.faults)), key=lambda i: (scenario.faults[i].at, i)):
        fault = scenario.faults[index]
        replay.move_to(fault.at)
        if isinstance(fault.action, RESHARDS):
            replay.reshard(fault)
            continue
        if isinstance(fault.action, WORKER_FAULTS):
            problem = workers.act(fault)
            if problem:
                raise ScenarioError(file, f"{fault.path}.{fault.kind}", problem)
            continue
        if fault.action.shards is not None:
            for j, shard_id in enumerate(fault.action.shards):
                problem = replay.not_open(shard_id, fault.at)
                if problem:
                    raise ScenarioError(file, f"{fault.path}.throttle.shards[{j}]", problem)
        throttles = [other for other in throttles if other.end > fault.at]  # those still on (by time order)
        for other in throttles:
            shared = _shared(other.action, fault.action)
            if shared:
                raise ScenarioError(file, f"{fault.path}.throttle", f"overlaps the throttle {_span(other)} on "
                                                                    f"{shared}: a shard has one throttle at a time")
        throttles.append(fault)
    if workers.last_crash is not None and len(workers.crashed) == len(scenario.consumer.workers):
        raise ScenarioError(file, f"{workers.last_crash.path}.crash", "after this no worker is alive to read "
                                                                      "the stream, and none restarts: the run "
                                                                      "could never finish")


def _shared(first: Throttle, second: Throttle) -> Optional[str]:
    """The shards two overlapping throttles both lower, in words; None if none."""
    if first.shards is None or second.shards is None:
        return "every shard" if first.shards is None and second.shards is None else \
            listed(first.shards or second.shards)
    common = [shard for shard in second.shards if shard in first.shards]
    return listed(common) if common else None


def _span(fault: Fault) -> str:
    return f"{fault.path} ({duration_text(fault.at)} to {duration_text(fault.end)})"


class _Workers:
    """Each worker's state as the schedule has it, its faults taken in time order (ties: file order)."""

    def __init__(self, faults: tuple = ()) -> None:
        self.absent: dict[str, Fault] = {}      # worker → the join it starts at, until then
        for fault in sorted(faults, key=lambda fault: fault.at):  # ties: the file's order
            if isinstance(fault.action, Join):
                self.absent.setdefault(fault.action.worker, fault)
        self.joined: dict[str, Fault] = {}      # worker → the join it started at
        self.crashed: dict[str, Fault] = {}     # worker → the crash it is down from (not restarted since)
        self.restarted: dict[str, Fault] = {}   # worker → its latest restart
        self.paused: dict[str, Fault] = {}      # worker → its latest pause (valid pauses do not overlap)
        self.last_crash: Optional[Fault] = None

    def act(self, fault: Fault) -> Optional[str]:
        """Take ``fault`` (a pause, crash or restart); why it cannot happen, or None."""
        action = fault.action
        worker = action.who if isinstance(action, Pause) else action.worker
        if isinstance(action, Join):
            if worker not in self.absent or self.absent[worker] is not fault:
                first = self.joined.get(worker) or self.absent.get(worker)
                return f"{worker} joins once, at {first.path} ({duration_text(first.at)})"  # type: ignore[union-attr]
            self.joined[worker] = self.absent.pop(worker)
            return None
        if worker in self.absent:
            join = self.absent[worker]
            return f"{worker} has not joined yet then: it joins at {join.path} ({duration_text(join.at)})"
        crash = self.crashed.get(worker)
        down = None if crash is None else f"{worker} has already crashed then, at {crash.path} " \
                                          f"({duration_text(crash.at)}), and is not restarted before this"
        if isinstance(action, Crash):
            if down:
                return down
            self.crashed[worker] = self.last_crash = fault
        elif isinstance(action, Restart):
            if crash is None:
                earlier = self.restarted.get(worker)
                since = "" if earlier is None else f" (restarted by {earlier.path} at {duration_text(earlier.at)})"
                return f"{worker} is not crashed then{since}: a restart brings back a crashed worker"
            del self.crashed[worker]
            self.restarted[worker] = fault
        else:
            if down:
                return f"{down}: a crashed worker cannot pause"
            other = self.paused.get(worker)
            if other is not None and other.end > fault.at:
                who = "the consumer" if worker == "consumer" else worker
                return f"{who} is already paused then, by {_span(other)}"
            self.paused[worker] = fault
        return None


class _Replay:
    """The reshards of a schedule on a fresh simulated stream, and what each did."""

    def __init__(self, stream: StreamSpec, file: str) -> None:
        self.file = file
        self.clock = ManualClock(0.0)
        self.update_delay = stream.update_delay
        self.backend = MemoryBackend(self.clock, update_delay=stream.update_delay, shard_limit=stream.shard_limit)
        self.backend.create_stream(_STREAM, stream.shards)
        self.open: dict[str, HashKeyRange] = {}      # the open shards, as of the last look
        self.closed_by: dict[str, Fault] = {}        # shard id → the reshard that closed it (kept past retention)
        self.last: Optional[Fault] = None            # the latest reshard the service took
        self.updating: Optional[Fault] = None        # the reshard the stream is UPDATING for, if any
        self._observe()

    def move_to(self, at: float) -> None:
        self.clock.set(at)  # runs the completion of an update due by then, as the run's timeline does
        if self.updating is not None and at >= self.updating.at + self.update_delay:
            self.updating = None
        self._observe()

    def _observe(self) -> None:
        """Look at the open shards, and credit those closed since the last look to the latest reshard
        (one updates at a time). Read from the backend's shard logs: a listing would describe them all."""
        self.open = {}
        for shard_id, shard in self.backend.shards_of(_STREAM).items():
            if shard.is_open:
                self.open[shard_id] = shard.hash_key_range
            elif shard_id not in self.closed_by:
                self.closed_by[shard_id] = self.last

    def _open(self) -> list[str]:
        """The open shards' ids in hash-key order."""
        return sorted(self.open, key=lambda shard_id: self.open[shard_id].start)

    def reshard(self, fault: Fault) -> None:
        action = fault.action
        try:
            if isinstance(action, Split):
                self.backend.split_shard(_STREAM, action.shard_id, str(self._split_key(action)))
                updates = True
            elif isinstance(action, Merge):
                self.backend.merge_shards(_STREAM, *action.shard_ids)
                updates = True
            else:
                updates = self.backend.update_shard_count(_STREAM, action.target) != action.target
        except KinesisError as exc:
            raise ScenarioError(self.file, f"{fault.path}.{fault.kind}", self._why(fault, exc)) from None
        self.last = fault
        if updates and self.update_delay > 0:
            self.updating = fault
        self._observe()

    def _split_key(self, split: Split) -> int:
        if split.hash_key is not None:
            return split.hash_key
        found = self.open.get(split.shard_id)
        return 0 if found is None else split_point(found.start, found.end)  # none: the service says so

    def not_open(self, shard_id: str, at: float) -> Optional[str]:
        """Why ``shard_id`` cannot be acted on at ``at``, or None if it is open."""
        by = self.closed_by.get(shard_id)
        if by is not None:
            return f"{shard_id} is closed by then: {by.path} ({by.describe()}) closed it at " \
                   f"{duration_text(by.at + self.update_delay)}"
        if shard_id not in self.open:
            return f"there is no shard {shard_id} at {duration_text(at)}; the open shards then: {listed(self._open())}"
        return None

    def _why(self, fault: Fault, exc: KinesisError) -> str:
        """What the service said, in plain words, and why where the replay knows."""
        action = fault.action
        if isinstance(exc, ResourceInUseException) and self.updating is not None:
            earlier = self.updating
            return (f"the stream is still UPDATING from {earlier.path} ({earlier.describe()} at {duration_text(earlier.at)}), "
                    f"which completes at {duration_text(earlier.at + self.update_delay)}; a reshard waits until then")
        ids = action.shard_ids if isinstance(action, Merge) else (action.shard_id,) if isinstance(action, Split) \
            else ()
        for shard_id in ids:
            problem = self.not_open(shard_id, fault.at)
            if problem:
                return problem
        if isinstance(exc, InvalidArgumentException) and isinstance(action, Merge):
            order = listed(self._open())
            return f"{action.shard_ids[0]} and {action.shard_ids[1]} are not adjacent: their hash-key ranges do " \
                   f"not touch (the open shards then, in hash-key order: {order})"
        if isinstance(exc, InvalidArgumentException) and isinstance(action, Split):
            found = self.open[action.shard_id]
            low, high = found.start + 2, found.end - 1
            where = f"it must lie from {low} to {high}" if low <= high else "the shard's range is too small to split"
            return f"the split's hash key is not inside {action.shard_id}: {where}"
        return f"the service refuses to {fault.describe()}: {exc.code}: {_plain(exc.message)}"


def _plain(message: str) -> str:
    """The service's message without the names of the check's own stream, account and region."""
    message = re.sub(rf" (in|on) stream {_STREAM}", "", message)
    message = re.sub(r" (under|for the) account \d+( in [a-z0-9-]+)?", "", message)
    return message.replace(" for the account", "")

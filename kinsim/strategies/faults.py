"""Hypothesis strategies for fault schedules (DESIGN §10), to check them statically and to run them.

- ``fault_schedules()``: a ``FaultSchedule`` (shard count, update delay, faults) that is valid: built in
  time order on a simulated stream that tracks which shards are open, so each split takes an open shard
  (at its middle or at a hash key inside its range), each merge an adjacent open pair, each
  UpdateShardCount a target from half to double (at most ten of them); a reshard waits for the previous
  one to complete (often to the very instant it does); throttles name shards open at their start and do
  not overlap one another; over a drawn list of workers (``worker_lists()``, or the strategy given), a
  crash takes a live worker, a restart a crashed one, a pause a live one and does not overlap that
  worker's earlier pauses (often it starts the very instant the last one ends), and some worker is
  alive at the end; everything ends within ``duration``.
- ``reshard_schedules()``: splits, merges and UpdateShardCount, valid or not: a valid schedule, one
  with a fault moved in time or pointed at a neighbouring shard or count, or one drawn blind. For
  properties that hold either way.
- ``worker_schedules()``: the same for workers' pauses, crashes and restarts: a valid schedule (with its
  reshards and throttles), one with a worker fault moved in time, pointed at another worker or turned
  into another kind, or worker faults drawn blind.
- ``fault_document(fault)``: a fault as a scenario file writes it, for YAML round trips.

A schedule goes into a ``Scenario`` as its ``faults``, with ``StreamSpec(shards=schedule.shards,
update_delay=schedule.update_delay)`` and ``ConsumerSpec(workers=schedule.workers)``;
``kinsim.strategies.scenarios(faults=True)`` does that.

Times are whole seconds and the update delay too, so ``at + update_delay`` is exact on any clock.
"""

from __future__ import annotations

from typing import Any, NamedTuple, Optional

from hypothesis import strategies as st

from kinsim.backends import MemoryBackend
from kinsim.clock import ManualClock
from kinsim.records import StreamStatus
from kinsim.scenario.schedule import Crash, Fault, Merge, Pause, Restart, ShardCount, Split, Throttle, split_point

from .once import built_once

__all__ = ["FaultSchedule", "fault_schedules", "reshard_schedules", "worker_schedules", "worker_lists",
           "fault_document", "shard_name", "numbered_faults", "down_at_end"]

_STREAM = "schedule"
MAX_OPEN = 12        # generated streams stay small
MAX_RESCALES = 10    # UpdateShardCount calls per rolling 24 hours


class FaultSchedule(NamedTuple):
    """A stream's shard count and update delay, the faults (``kinsim.scenario.Fault``) and the workers."""

    shards: int
    update_delay: float
    faults: tuple[Fault, ...]   # in file order, each with its path faults[i]
    workers: tuple[str, ...] = ("consumer",)   # consumer.workers


def shard_name(index: int) -> str:
    """The id Kinesis gives the ``index``-th shard of a stream: ``shardId-000000000003``."""
    return f"shardId-{index:012d}"


_NAMED = st.lists(st.from_regex(r"[a-z][a-z0-9-]{0,5}", fullmatch=True), min_size=1, max_size=4, unique=True)
_WORKER_LISTS = st.one_of(st.just(("consumer",)),
                          st.integers(1, 4).map(lambda n: tuple(f"w{i}" for i in range(1, n + 1))), _NAMED.map(tuple))


def worker_lists() -> st.SearchStrategy[tuple[str, ...]]:
    """``consumer.workers``: the single consumer, w1 to wN (a scenario writes N), or names of one's own."""
    return _WORKER_LISTS


def _worker(action) -> str:
    return action.who if isinstance(action, Pause) else action.worker


def numbered_faults(faults: list[Fault]) -> tuple[Fault, ...]:
    """The faults with the key paths a file in this order gives them (``faults[0]``, ``faults[1]``, ...)."""
    return tuple(Fault(f.at, f.action, f.duration, f"faults[{i}]") for i, f in enumerate(faults))


class _Tracker:
    """A simulated stream the generator reshards as it goes, to know the open shards at each instant."""

    def __init__(self, shards: int, update_delay: float) -> None:
        self.clock = ManualClock(0.0)
        self.backend = MemoryBackend(self.clock, update_delay=update_delay)
        self.backend.create_stream(_STREAM, shards)
        self.update_delay = update_delay
        self.ready_at = 0.0       # when the stream is next ACTIVE
        self.rescales = 0

    def open_shards(self):
        return sorted((s for s in self.backend.list_shards(_STREAM) if s.is_open),
                      key=lambda s: s.hash_key_range.start)

    def apply(self, action) -> None:
        if isinstance(action, Split):
            shard = next(s for s in self.open_shards() if s.shard_id == action.shard_id)
            key = action.hash_key if action.hash_key is not None else \
                split_point(shard.hash_key_range.start, shard.hash_key_range.end)
            self.backend.split_shard(_STREAM, action.shard_id, str(key))
        elif isinstance(action, Merge):
            self.backend.merge_shards(_STREAM, *action.shard_ids)
        else:
            self.backend.update_shard_count(_STREAM, action.target)
            self.rescales += 1
        if self.backend.describe_stream(_STREAM).status is StreamStatus.UPDATING:
            self.ready_at = self.clock.now() + self.update_delay


def _reshard(draw, tracker: _Tracker):
    """A reshard valid on the tracked stream now, or None if none is."""
    shards = tracker.open_shards()
    splittable = [s for s in shards if s.hash_key_range.end - s.hash_key_range.start >= 3]
    kinds = []
    if len(shards) < MAX_OPEN and splittable:
        kinds.append("split")
    if len(shards) > 1:
        kinds.append("merge")
    if tracker.rescales < MAX_RESCALES:
        kinds.append("shard_count")
    if not kinds:
        return None
    kind = draw(_sampled(tuple(kinds)))
    if kind == "split":
        shard = draw(st.sampled_from(splittable))
        low, high = shard.hash_key_range.start + 2, shard.hash_key_range.end - 1
        key = draw(_split_keys(low, high))
        return Split(shard.shard_id, key)
    if kind == "merge":
        i = draw(st.integers(0, len(shards) - 2))
        pair = (shards[i].shard_id, shards[i + 1].shard_id)
        return Merge(pair[::-1] if draw(st.booleans()) else pair)
    count = len(shards)
    return ShardCount(draw(st.integers((count + 1) // 2, min(2 * count, MAX_OPEN))))


@built_once
def _sampled(choices: tuple) -> st.SearchStrategy:
    return st.sampled_from(choices)


@built_once
def _split_keys(low: int, high: int) -> st.SearchStrategy[Optional[int]]:
    """Where to split a shard: at its middle (None), at either end of the valid keys, or anywhere between."""
    return st.one_of(st.none(), st.sampled_from([low, high]), st.integers(low, high))


@built_once
def _reshard_times(ready: int) -> st.SearchStrategy[int]:
    return st.one_of(st.just(ready), st.integers(ready, ready + 60))


_UP_TO_30 = st.integers(0, 30)
_PAUSE_WAITS = st.one_of(st.just(0), st.integers(0, 30))
_LIMITS = st.fixed_dictionaries({}, optional={
    "records_per_s": st.integers(1, 1000), "bytes_per_s": st.integers(1, 1024 * 1024),
    "reads_per_s": st.integers(1, 5), "read_bytes_per_s": st.integers(1, 2 * 1024 * 1024)})
_SPAN_KINDS = ("reshard", "reshard", "throttle", "pause", "crash", "restart")


@built_once
def _throttled_shards(open_ids: tuple[str, ...]) -> st.SearchStrategy[Optional[tuple[str, ...]]]:
    """The shards a throttle names: all (None), or one to three of those open."""
    return st.one_of(st.none(), st.lists(st.sampled_from(open_ids), min_size=1, max_size=3, unique=True).map(tuple))


@built_once
@st.composite
def fault_schedules(draw, *, duration: float = 600.0, max_faults: int = 8, max_shards: int = 4,
                    spans: bool = True, delays: tuple[float, ...] = (0.0, 1.0, 30.0),
                    workers: Optional[st.SearchStrategy[tuple[str, ...]]] = None) -> FaultSchedule:
    """A valid schedule for a stream of 1 to ``max_shards`` shards over ``duration`` seconds (whole); with
    ``spans``, throttles and the workers' pauses, crashes and restarts too, over ``workers`` (default
    ``worker_lists()``)."""
    shards = draw(st.integers(1, max_shards))
    update_delay = draw(_sampled(tuple(delays)))
    workers = draw(_WORKER_LISTS if workers is None else workers) if spans else ("consumer",)
    tracker = _Tracker(shards, update_delay)
    last = int(duration) - 1          # the last whole second a fault may start at
    faults: list[Fault] = []
    now, throttle_free = 0, 0
    pause_free = {worker: 0 for worker in workers}  # when each worker's latest pause ends
    crashed: list[str] = []                          # the workers down now, in the order they crashed
    kinds = _sampled(_SPAN_KINDS if spans else ("reshard",))
    for _ in range(draw(st.integers(0, max_faults))):
        kind = draw(kinds)
        alive = [worker for worker in workers if worker not in crashed]
        if kind == "restart" and not crashed or kind in ("pause", "crash") and not alive:
            continue
        worker = None if kind in ("reshard", "throttle") else \
            draw(_sampled(tuple(crashed if kind == "restart" else alive)))
        if kind == "reshard":
            ready = max(now, int(tracker.ready_at))
            now = draw(_reshard_times(ready))
        elif kind == "throttle":
            now = max(now, throttle_free) + draw(_UP_TO_30)
        elif kind == "pause":
            now = max(now, pause_free[worker]) + draw(_PAUSE_WAITS)
        else:
            now += draw(_UP_TO_30)
        if now > last:
            break
        tracker.clock.set(float(now))
        if kind == "reshard":
            action = _reshard(draw, tracker)
            if action is None:
                continue
            tracker.apply(action)
            faults.append(Fault(float(now), action))
            continue
        if kind == "crash":
            faults.append(Fault(float(now), Crash(worker)))
            crashed.append(worker)
            continue
        if kind == "restart":
            faults.append(Fault(float(now), Restart(worker)))
            crashed.remove(worker)
            continue
        length = draw(st.integers(1, max(1, min(120, int(duration) - now))))
        if kind == "throttle":
            listed = draw(_throttled_shards(tuple(s.shard_id for s in tracker.open_shards())))
            limits = draw(_LIMITS)
            if not limits:
                limits = {"records_per_s": 1}
            faults.append(Fault(float(now), Throttle(listed, **limits), float(length)))
            throttle_free = now + length
        else:
            faults.append(Fault(float(now), Pause(worker), float(length)))
            pause_free[worker] = now + length
    if crashed and len(crashed) == len(workers):  # nobody left to read: one comes back, last in the file
        last_crash = max(f.at for f in faults if isinstance(f.action, Crash))
        faults.append(Fault(float(draw(st.integers(int(last_crash), last))), Restart(draw(_sampled(tuple(crashed))))))
    return FaultSchedule(shards, update_delay, numbered_faults(faults), workers)


_RESHARD_HOWS = st.sampled_from(["valid", "moved", "retargeted", "blind"])
_WORKER_HOWS = st.sampled_from(["valid", "moved", "retargeted", "rekinded", "blind", "downed"])
_WORKER_KINDS = st.sampled_from(["pause", "crash", "restart"])
_NUDGES = st.sampled_from([-60, -30, -1, 1, 30]) | st.integers(-300, 300)
_ONE_EITHER_WAY = st.sampled_from([-1, 1])
_TWO_EITHER_WAY = st.sampled_from([-2, -1, 1, 2])
_BLIND_SHARDS = st.integers(1, 4)
_BLIND_DELAYS = st.sampled_from([0.0, 1.0, 30.0])
_BLIND_IDS = st.integers(0, 8).map(shard_name)
_BLIND_ACTIONS = st.one_of(
    st.builds(Split, _BLIND_IDS, st.one_of(st.none(), st.none(), st.integers(0, 2**128 - 1))),
    st.tuples(_BLIND_IDS, _BLIND_IDS).filter(lambda pair: pair[0] != pair[1]).map(Merge),
    st.integers(1, 8).map(ShardCount))


@built_once
def _blind_reshards(duration: float, max_faults: int) -> st.SearchStrategy[list[Fault]]:
    """Splits, merges and UpdateShardCount of any of the first shard ids, at any whole second."""
    return st.lists(st.builds(Fault, st.integers(0, int(duration) - 1).map(float), _BLIND_ACTIONS), max_size=max_faults)


@st.composite
def reshard_schedules(draw, *, duration: float = 600.0, max_faults: int = 8) -> FaultSchedule:
    """Splits, merges and UpdateShardCount that may or may not be valid: a valid schedule as it is, or
    with one fault moved in time (into an update, before the shard it names exists) or pointed at a
    neighbouring shard or count, or one drawn blind (any of the first shard ids, at any whole second)."""
    how = draw(_RESHARD_HOWS)
    if how == "blind":
        faults = draw(_blind_reshards(duration, max_faults))
        return FaultSchedule(draw(_BLIND_SHARDS), draw(_BLIND_DELAYS), numbered_faults(faults))
    schedule = draw(fault_schedules(duration=duration, max_faults=max_faults, spans=False))
    faults = list(schedule.faults)
    if how == "valid" or not faults:
        return schedule
    i = draw(st.integers(0, len(faults) - 1))
    fault = faults[i]
    if how == "moved":
        at = fault.at + draw(_NUDGES)
        faults[i] = Fault(float(min(max(at, 0), int(duration) - 1)), fault.action)
    elif isinstance(fault.action, Split):
        other = shard_name(abs(int(fault.action.shard_id[8:]) + draw(_ONE_EITHER_WAY)))
        faults[i] = Fault(fault.at, Split(other, fault.action.hash_key))
    elif isinstance(fault.action, Merge):
        first, second = fault.action.shard_ids
        other = shard_name(max(0, int(second[8:]) + draw(_TWO_EITHER_WAY)))
        faults[i] = Fault(fault.at, Merge((first, other))) if other != first else fault
    else:
        faults[i] = Fault(fault.at, ShardCount(max(1, fault.action.target + draw(_TWO_EITHER_WAY))))
    return FaultSchedule(schedule.shards, schedule.update_delay, numbered_faults(faults))


@st.composite
def worker_schedules(draw, *, duration: float = 600.0, max_faults: int = 8) -> FaultSchedule:
    """Workers' pauses, crashes and restarts that may or may not be valid: a valid schedule as it is (its
    reshards and throttles too), or with one worker fault moved in time, pointed at another worker or
    turned into another kind, or with every worker still up crashed after it all (and sometimes one
    restarted); or worker faults drawn blind over the workers (any kind, any worker, any whole second).
    Every pause ends within ``duration``."""
    how = draw(_WORKER_HOWS)
    if how == "blind":
        workers = draw(_WORKER_LISTS)
        faults = []
        for _ in range(draw(st.integers(0, max_faults))):
            at = draw(st.integers(0, int(duration) - 1))
            worker = draw(_sampled(workers))
            kind = draw(_WORKER_KINDS)
            if kind == "pause":
                faults.append(Fault(float(at), Pause(worker), float(draw(st.integers(1, int(duration) - at)))))
            else:
                faults.append(Fault(float(at), Crash(worker) if kind == "crash" else Restart(worker)))
        return FaultSchedule(1, 0.0, numbered_faults(faults), workers)
    schedule = draw(fault_schedules(duration=duration, max_faults=max_faults))
    faults = list(schedule.faults)
    if how == "downed":
        end = int(max([f.at for f in faults], default=0.0))
        down = down_at_end(faults)
        crashes = {worker: draw(st.integers(end, int(duration) - 1))
                   for worker in draw(st.permutations(schedule.workers)) if not down.get(worker)}
        faults += [Fault(float(at), Crash(worker)) for worker, at in crashes.items()]
        if crashes and draw(st.booleans()):
            worker = draw(_sampled(tuple(sorted(crashes))))
            faults.append(Fault(float(draw(st.integers(crashes[worker], int(duration) - 1))), Restart(worker)))
        return FaultSchedule(schedule.shards, schedule.update_delay, numbered_faults(faults), schedule.workers)
    mine = [i for i, f in enumerate(faults) if isinstance(f.action, (Pause, Crash, Restart))]
    if how == "valid" or not mine:
        return schedule
    i = draw(_sampled(tuple(mine)))
    fault, worker = faults[i], _worker(faults[i].action)
    if how == "moved":
        at = min(max(fault.at + draw(_NUDGES), 0),
                 duration - 1)
        length = None if fault.duration is None else min(fault.duration, duration - at)
        faults[i] = Fault(float(at), fault.action, length)
    elif how == "retargeted":
        other = draw(_sampled(schedule.workers))
        action = Pause(other) if isinstance(fault.action, Pause) else type(fault.action)(other)
        faults[i] = Fault(fault.at, action, fault.duration)
    else:
        kind = draw(_sampled(tuple(k for k in (Pause, Crash, Restart) if not isinstance(fault.action, k))))
        length = float(draw(st.integers(1, int(duration - fault.at)))) if kind is Pause else None
        faults[i] = Fault(fault.at, kind(worker), length)
    return FaultSchedule(schedule.shards, schedule.update_delay, numbered_faults(faults), schedule.workers)


def down_at_end(faults: list[Fault]) -> dict[str, bool]:
    """Whether each worker a crash or restart names is down once the schedule (valid) is over."""
    down = {}
    for fault in sorted(faults, key=lambda f: f.at):  # stable: ties keep the file order
        if isinstance(fault.action, (Crash, Restart)):
            down[fault.action.worker] = isinstance(fault.action, Crash)
    return down


def fault_document(fault: Fault) -> dict[str, Any]:
    """A fault as a scenario file writes it (times in seconds, hash keys as decimal text)."""
    action = fault.action
    item: dict[str, Any] = {"at": fault.at}
    if isinstance(action, Split):
        item["split"] = action.shard_id
        if action.hash_key is not None:
            item["hash_key"] = str(action.hash_key)
    elif isinstance(action, Merge):
        item["merge"] = list(action.shard_ids)
    elif isinstance(action, ShardCount):
        item["shard_count"] = action.target
    elif isinstance(action, Throttle):
        limits = {key: getattr(action, key) for key in ("records_per_s", "bytes_per_s", "reads_per_s",
                                                        "read_bytes_per_s") if getattr(action, key) is not None}
        item["throttle"] = {"shards": "all" if action.shards is None else list(action.shards), **limits}
    elif isinstance(action, Pause):
        item["pause"] = action.who
    else:
        item[fault.kind] = action.worker
    if fault.duration is not None:
        item["for"] = fault.duration
    return item

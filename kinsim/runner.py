"""Run a scenario: build the timeline, the backend, the simulation and the counters, run it to the end of
its input, and measure every counter against the truth.

The runner owns time and randomness: one simpy timeline is the only clock (the backend reads it), the
end of input is a condition it defines (``InputEnd``), and every random draw comes from generators
seeded from the scenario's seed. Setting up a real stream (and waiting for it) happens before the
simulated time starts, on the wall clock.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import Callable, Generator, Optional, Sequence

from .backends import Backend, MemoryBackend
from .backends.retrying import wait_for_stream
from .clock import Clock
from .collector import paused
from .counters import PerShard, Windowing
from .errors import ResourceNotFoundException, StreamNotOwnedError
from .estimate import Budget, check
from .metrics import CountHistory, Observations, Truth, counter_metrics
from .records import Record, StreamStatus
from .scenario import CounterSpec, Scenario
from .simulation import Fleet, InputEnd, RealtimeTimeline, Timeline, Traffic, writer_for
from .simulation.delivery import WorkersSummary
from .simulation.disruptions import Applied, Disruptions, check_backend_takes
from .simulation.members import KeyTable
from .simulation.summary import ShardSummary, Throughput, shard_summaries, throughput
from .simulation.traffic import TrafficStats

__all__ = ["run", "RunResult", "CounterResult", "StreamAction", "ProgressHook", "default_stream_name"]

BackendFactory = Callable[[Clock], Backend]
#: told, every ``progress_every`` simulated seconds, the records delivered so far and the simulated seconds
#: since the start; it only reads (a progress bar): the run is the same with it or without it
ProgressHook = Callable[[int, float], None]
STREAM_WAIT_S = 300.0  # a real stream gets this long to become ACTIVE, or to go


@dataclass(frozen=True)
class StreamAction:
    """A call made on the stream at ``at`` seconds after the start (after the records due then arrive,
    before the polls then): ``call(backend, stream_name)``, e.g. a reshard."""

    at: float
    call: Callable[[Backend, str], object]


@dataclass(frozen=True)
class CounterResult:
    spec: CounterSpec
    counter: PerShard  # one counter per shard, reported as one
    truth: Truth
    observations: Observations
    metrics: dict


@dataclass(frozen=True)
class RunResult:
    scenario: Scenario
    seed: int
    backend: str
    produced: int
    delivered: int
    possible_duplicates: int  # records sent again after an answer was lost (never on simulated shards)
    throttled_puts: int
    polls: int
    throttled_polls: int
    ended_at: float  # simulated seconds after start when input ended
    counters: tuple[CounterResult, ...]
    iterators_renewed: int = 0
    shards: tuple[ShardSummary, ...] = ()
    faults: tuple[Applied, ...] = ()
    throughput: tuple[Throughput, ...] = ()
    workers: Optional[WorkersSummary] = None


def default_stream_name(scenario_name: str, unique: str = "") -> str:
    """The stream kinsim names for a scenario: ``kinsim-<name>`` (and ``-<unique>``), every character the
    API does not take in a stream name made ``-``, at most 128 characters."""
    suffix = f"-{unique}" if unique else ""
    stem = re.sub(r"[^a-zA-Z0-9_.-]", "-", scenario_name)[:128 - len("kinsim-") - len(suffix)]
    return f"kinsim-{stem}{suffix}"


def run(scenario: Scenario, seed: Optional[int] = None, backend_factory: Optional[BackendFactory] = None,
        echo: Optional[Callable[[Record], None]] = None, *, stream_name: Optional[str] = None,
        use_existing_stream: bool = False, keep_stream: bool = False,
        realtime_speed: Optional[float] = None, actions: Sequence[StreamAction] = (),
        budget: Optional[Budget] = Budget(), keep_history: bool = False,
        progress: Optional[ProgressHook] = None, progress_every: float = 1.0) -> RunResult:
    """Simulate ``scenario`` to the end of its input and compare every counter with the truth.

    The backend comes from ``backend_factory(clock)`` (default: fresh simulated shards on the run's
    clock). kinsim creates the stream and deletes it afterwards (unless ``keep_stream``); it refuses a
    stream that already exists unless ``use_existing_stream``. ``realtime_speed`` paces the run on the
    wall clock, that many simulated seconds per real second. The scenario's faults happen at their
    instants (a throttle needs a backend that can lower its limits: ``FaultError`` otherwise, before the
    run starts; a fault the stream refuses mid-run: ``FaultError`` naming it). ``actions`` are calls
    made on the stream at their instants. A run whose estimate is over ``budget`` is refused before it starts
    (``kinsim.estimate``; None: no limit). ``keep_history``: each counter's observations keep every
    change of every cell's count (``metrics.CountHistory``, for ``run --plot``). ``progress`` is told how
    far the run has got every ``progress_every`` simulated seconds (``ProgressHook``). The cyclic
    garbage collector is paused while it runs and then restored (``kinsim.collector``): the next
    collection walks what the run left, once (0.8 s after a run of 30,000 producers); a caller that has
    paused it itself keeps it paused.
    """
    if progress is not None and not progress_every > 0:
        raise ValueError(f"progress_every must be above 0 simulated seconds, got {progress_every!r}")
    check(scenario, scenario.name, budget)
    seed = scenario.seed if seed is None else seed
    start_s = scenario.start_us / 1_000_000
    timeline = Timeline(start_s) if realtime_speed is None else RealtimeTimeline(start_s, realtime_speed)
    backend = _backend(scenario, backend_factory, timeline)
    check_backend_takes(scenario.faults, backend)
    name = stream_name or scenario.stream.name or default_stream_name(scenario.name)
    created = _claim_stream(backend, name, scenario.stream.shards, use_existing_stream)
    try:
        with paused():  # 3M records: 8.2 s with the collector, 6.5 s without, the same peak memory
            return _simulate(scenario, seed, timeline, backend, name, echo, actions,
                             CountHistory if keep_history else Observations, progress, progress_every)
    finally:
        if created and not keep_stream:
            backend.delete_stream(name)
            if not isinstance(backend, MemoryBackend):
                _wait(backend, name, lambda status: status is None)


def _backend(scenario: Scenario, factory: Optional[BackendFactory], timeline: Timeline) -> Backend:
    """The run's backend: the factory's, or simulated shards whose reshards take the scenario's
    ``stream.update_delay``, in an account of its ``stream.shard_limit``."""
    if factory is not None:
        return factory(timeline.clock)
    return MemoryBackend(timeline.clock, update_delay=scenario.stream.update_delay,
                         shard_limit=scenario.stream.shard_limit)


def _wait(backend: Backend, name: str, done: Callable[[Optional[StreamStatus]], bool]) -> None:
    """Wait on the wall clock (before or after simulated time) for a real stream's status."""
    wait_for_stream(backend, name, done, time.sleep, time.monotonic, STREAM_WAIT_S)


def _claim_stream(backend: Backend, name: str, shards: int, use_existing: bool) -> bool:
    """Create the run's stream and wait until it is ACTIVE; True if kinsim created it (and so may delete it)."""
    try:
        backend.describe_stream(name)
    except ResourceNotFoundException:
        backend.create_stream(name, shards)
        _wait(backend, name, lambda status: status is StreamStatus.ACTIVE)
        return True
    if not use_existing:
        raise StreamNotOwnedError(name)
    return False


def _simulate(scenario: Scenario, seed: int, timeline: Timeline, backend: Backend, stream_name: str,
              echo: Optional[Callable[[Record], None]], actions: Sequence[StreamAction],
              sink: Callable[[], Observations], progress: Optional[ProgressHook], progress_every: float) -> RunResult:
    truths: dict[Windowing, Truth] = {}
    parts = []
    for spec in scenario.counters:
        observations = sink()
        counter = PerShard(spec.build, observations)
        truth = truths.setdefault(counter.windowing, Truth(counter.windowing))
        parts.append((spec, counter, truth, observations))

    def on_created(keys, event_us: list[int]) -> None:
        for truth in truths.values():
            if isinstance(keys, str):
                truth.add(keys, event_us)
            else:
                truth.add_each(keys, event_us)

    def on_end(_: float) -> None:
        fleet.finish()
        now_us = scenario.start_us + round(timeline.now * 1_000_000)
        for part in parts:
            part[1].close(now_us)

    keys = KeyTable()  # numbers the keys as the producers first write them; the writer reads their texts
    traffic = Traffic(scenario, writer_for(backend, stream_name, keys.texts, timeline), seed, timeline, on_created,
                      keys)
    end = InputEnd(traffic.stats, timeline.event(), on_end)
    fleet = Fleet(timeline, backend, stream_name, scenario.consumer, [part[1] for part in parts], end,
                  scenario.start_us, seed, echo, scenario.faults)
    disruptions = Disruptions(timeline, backend, stream_name, scenario.faults, fleet)
    timeline.process(traffic.run())
    for action in actions:
        timeline.process(_act(timeline, action, backend, stream_name))
    timeline.process(fleet.start())
    if progress is not None:
        timeline.process(_tell(timeline, progress, progress_every, traffic.stats))
    try:
        timeline.run(until=end.event)
    except RuntimeError as exc:  # nothing left to happen, and input never ended: a kinsim bug, not bad input
        raise RuntimeError("the simulation stopped before its input ended") from exc

    counters = tuple(CounterResult(spec, counter, truth, observations, counter_metrics(truth, observations, counter))
                     for spec, counter, truth, observations in parts)
    stats, reading = traffic.stats, fleet.stats
    return RunResult(scenario, seed, backend.name, stats.produced, stats.delivered, stats.possible_duplicates,
                     stats.throttled_puts, reading.polls, reading.throttled_polls, end.at, counters,
                     reading.iterators_renewed,
                     shard_summaries(backend, stream_name, reading, traffic.writer.throttled_by_shard,
                                     timeline.clock.start_s),
                     tuple(disruptions.applied), throughput(stats, reading, end.at), fleet.summary(stats.delivered))


def _tell(timeline: Timeline, progress: ProgressHook, every: float, stats: TrafficStats) -> Generator:
    """Tell ``progress`` how far the run has got, every ``every`` simulated seconds while anything else is
    still to happen (a run with nothing left to happen still stops, and says so). It reads, and changes
    nothing: the traffic only delivers in smaller steps around its instants, which it does the same way."""
    while True:
        yield timeline.timeout(every)
        progress(stats.delivered, timeline.now)
        if timeline.peek() == float("inf"):
            return


def _act(timeline: Timeline, action: StreamAction, backend: Backend, stream_name: str) -> Generator:
    yield timeline.timeout(action.at)
    action.call(backend, stream_name)

"""KCL-shaped workers under crashes, pauses and restarts (DESIGN §11): properties of whole runs, and a
few runs told by example.

The generated scenarios (``kinsim.strategies.worker_scenarios``) have one to four shards, maybe splits, merges and
shard counts, throttles, one to four workers with a valid schedule of crashes, restarts and pauses, a
lease failover time, a checkpoint policy and a state (memory or checkpointed), and a ``TRIM_HORIZON``
consumer.

Each run is traced (``traced``): the runner's ``Fleet`` is a subclass that notes every processor it
builds (its shard, its worker and that worker's identity in the lease table, the checkpoint it starts
after) and every checkpoint, take, creation and deletion written to its lease table;
``LeaseProcessor.process`` is wrapped to note every batch processed (with whether its worker owned the
lease in the table at that instant), and ``ShardConsumer._write`` every checkpoint a processor tried and
whether the table took it. Everything noted is numbered in the order it happened, so two things at one
instant keep their order. What the stream holds is read back from the kept simulated shards afterwards.
"""

from __future__ import annotations

import dataclasses
import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Optional
from unittest import mock

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import kinsim.runner
from kinsim.backends import MemoryBackend
from kinsim.kcl import CheckpointError
from kinsim.lag import Constant
from kinsim.leases import renew_interval
from kinsim.report import to_json
from kinsim.scenario import ConsumerSpec, ProducerSpec, Scenario, StreamSpec, parse_scenario
from kinsim.scenario.model import CheckpointPolicy, ProcessorSpec, State
from kinsim.scenario.schedule import Crash, Fault, Merge, Pause, ShardCount, Split, Throttle
from kinsim.simulation.payload import event_us_of
from kinsim.simulation.processing import LeaseProcessor
from kinsim.simulation.shard_consumer import ShardConsumer
from kinsim.strategies import PATIENT, START, worker_scenarios
from tests.conftest import read_back

SHARD_0 = "shardId-000000000000"
SHARD_END = "SHARD_END"
RUNS = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# -- tracing a run ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Processor:
    """A processor the fleet built for a lease: ``start`` is the lease's checkpoint it starts after."""

    serial: int
    index: int          # when, in the order of everything traced
    at: float
    shard_id: str
    worker: str         # the worker's name
    identity: str       # its owner name in the lease table (``w1#2`` after a restart)
    start: str


@dataclass(frozen=True)
class Batch:
    """A batch (maybe empty) given to a processor; ``owned``: its worker owned the lease in the table then."""

    index: int
    at: float
    serial: int
    shard_id: str
    worker: str
    identity: str
    numbers: tuple[int, ...]
    owned: bool


@dataclass(frozen=True)
class Write:
    """A write to the lease table: ``operation`` is checkpoint, take, create or delete; ``ok``: taken."""

    index: int
    at: float
    operation: str
    shard_id: str
    owner: Optional[str]
    checkpoint: Optional[str]
    ok: bool


@dataclass(frozen=True)
class Attempt:
    """A checkpoint a processor wrote (through its checkpointer), and whether the table took it."""

    index: int
    at: float
    serial: int
    shard_id: str
    checkpoint: str
    ok: bool


@dataclass
class Trace:
    result: Any = None
    backend: Any = None
    fleet: Any = None
    processors: list[Processor] = field(default_factory=list)
    batches: list[Batch] = field(default_factory=list)
    writes: list[Write] = field(default_factory=list)
    attempts: list[Attempt] = field(default_factory=list)
    _count: int = 0

    def next_index(self) -> int:
        self._count += 1
        return self._count

    def now(self) -> float:
        return self.fleet.timeline.now

    # -- read back afterwards ----------------------------------------------------------------------------------
    def shards(self) -> dict[str, list]:
        """Every shard's records, in order (read back whole from the kept simulated shards)."""
        return read_back(self.backend)

    def parents(self) -> dict[str, tuple[str, ...]]:
        return {shard.shard_id: shard.parents for shard in self.backend.list_shards(self.backend.list_streams()[0])}

    def delivered(self, serial: int) -> list[int]:
        """The sequence numbers given to one processor, in order."""
        return [n for batch in self.batches if batch.serial == serial for n in batch.numbers]


def _watch_table(table, trace: Trace) -> None:
    """Note every checkpoint, take, creation and deletion the fleet's lease table is asked for."""
    checkpoint, take, create, delete = table.checkpoint, table.take, table.create_if_absent, table.delete

    def checkpointed(shard_id, owner, expected_counter, value, state=None):
        written = checkpoint(shard_id, owner, expected_counter, value, state)
        trace.writes.append(Write(trace.next_index(), trace.now(), "checkpoint", shard_id, owner, value,
                                  written is not None))
        return written

    def taken(shard_id, new_owner, expected_counter):
        written = take(shard_id, new_owner, expected_counter)
        trace.writes.append(Write(trace.next_index(), trace.now(), "take", shard_id, new_owner, None,
                                  written is not None))
        return written

    def created(lease):
        added = create(lease)
        trace.writes.append(Write(trace.next_index(), trace.now(), "create", lease.shard_id, lease.owner,
                                  lease.checkpoint, added))
        return added

    def deleted(shard_id):
        gone = delete(shard_id)
        trace.writes.append(Write(trace.next_index(), trace.now(), "delete", shard_id, None, None, gone))
        return gone

    table.checkpoint, table.take, table.create_if_absent, table.delete = checkpointed, taken, created, deleted


def traced(scenario: Scenario) -> Trace:
    """Run ``scenario`` on kept simulated shards, tracing its workers (see the module's docstring)."""
    trace = Trace()
    backends = []

    class Watched(kinsim.runner.Fleet):
        def __init__(self, *args, **kwargs) -> None:
            super().__init__(*args, **kwargs)
            trace.fleet = self
            _watch_table(self.table, trace)

        def processor(self, lease, worker):
            made = super().processor(lease, worker)
            made.traced_serial = len(trace.processors)
            trace.processors.append(Processor(made.traced_serial, trace.next_index(), self.timeline.now,
                                              lease.shard_id, worker.name, worker.identity, lease.checkpoint))
            return made

    process, write = LeaseProcessor.process, ShardConsumer._write

    def processing(self, result, now_s, now_us, checkpointer):
        made = trace.processors[self.traced_serial]
        lease = trace.fleet.table.get(made.shard_id)
        trace.batches.append(Batch(trace.next_index(), now_s, made.serial, made.shard_id, made.worker,
                                   made.identity, tuple(result.records.sequence_ints),
                                   lease is not None and lease.owner == made.identity))
        return process(self, result, now_s, now_us, checkpointer)

    def writing(self, checkpoint):
        written = write(self, checkpoint)
        trace.attempts.append(Attempt(trace.next_index(), trace.now(), self.processor.traced_serial, self.shard_id,
                                      checkpoint, bool(written)))
        return written

    def factory(clock):
        backends.append(MemoryBackend(clock, update_delay=scenario.stream.update_delay))
        return backends[-1]

    with mock.patch.object(kinsim.runner, "Fleet", Watched), mock.patch.object(LeaseProcessor, "process", processing), \
            mock.patch.object(ShardConsumer, "_write", writing):
        trace.result = kinsim.runner.run(scenario, backend_factory=factory, keep_stream=True)
    trace.backend = backends[0]
    return trace


def position(checkpoint: str) -> float:
    """A checkpoint as a place in its shard: before every record, a sequence number, after every record."""
    if checkpoint in ("TRIM_HORIZON", "LATEST", "AT_TIMESTAMP"):
        return -math.inf
    return math.inf if checkpoint == SHARD_END else int(checkpoint)


def last_written(trace: Trace, shard_id: str, before: int) -> Optional[str]:
    """The shard's checkpoint as the lease table held it just before ``before`` (an index): the last
    checkpoint written and taken, or the one its lease was created with; None if it had no lease."""
    found = None
    for write in trace.writes:
        if write.index >= before:
            break
        if write.shard_id == shard_id and write.ok and write.operation in ("create", "checkpoint"):
            found = write.checkpoint
    return found


# -- runs that once broke a property ------------------------------------------------------------------------------
def found(faults, *, shards: int = 1, workers=("consumer",), failover: float = 1.5,
          checkpoint=CheckpointPolicy(every=1.0), key: str = "10.0.0.1", interval: float = 0.25, lag: float = 0.0,
          poll: float = 0.5, limit: int = 3, update_delay: float = 0.0, seed: int = 0, duration: float = 60.0,
          state: State = State.MEMORY) -> Scenario:
    """A run the properties below found broken (each shrunk, each fixed in a commit of its own), kept as
    an explicit example of every property: generated runs meet some of them only once in hundreds."""
    return Scenario("workers", "", seed, START, duration, 10.0, StreamSpec("s", shards, update_delay=update_delay),
                    (ProducerSpec("p0", key, interval, lag=Constant(lag)),),
                    ConsumerSpec(poll_interval=poll, limit=limit, workers=tuple(workers), failover_time=failover,
                                 checkpoint=checkpoint, state=state), PATIENT, tuple(faults))


FOUND = (
    # a split asked for at the instant the previous one completes
    found([Fault(0.0, Split(SHARD_0)), Fault(1.0, Split("shardId-000000000001"))], update_delay=1.0),
    # a worker crashed before the consumer starts
    found([Fault(0.0, Split(SHARD_0)), Fault(0.0, Crash("a"))], shards=2, workers=("a", "b")),
    # a zombie's poll of a shard another has read to its end
    found([Fault(1.0, Pause("w1"), 6.0), Fault(2.0, Merge((SHARD_0, "shardId-000000000001")))], shards=2,
          workers=("w1", "w2"), key="10.0.0.2", checkpoint=CheckpointPolicy(each_batch=True)),
    # a merge child's other parent leased minutes after the first parent ends
    found([Fault(0.0, Pause("consumer"), 103.0), Fault(133.0, Pause("consumer"), 1.0), Fault(133.0, Split(SHARD_0)),
           Fault(133.0, ShardCount(3))], shards=4),
    # back-to-back pauses
    found([Fault(0.0, Pause("w1"), 1.0), Fault(1.0, Pause("w1"), 6.0)], shards=2, workers=("w1", "w2"),
          checkpoint=CheckpointPolicy(each_batch=True)),
    # a read byte throttle
    found([Fault(0.0, Throttle(read_bytes_per_s=2), 17.0)], limit=10_000),
    # a zombie taking its lease back at once
    found([Fault(1.0, Pause("a"), 20.0)], shards=2, workers=("a", "b"), failover=3.0, interval=0.5, seed=1,
          checkpoint=CheckpointPolicy(records=7)),
    found([Fault(0.0, Pause("w1"), 1.0), Fault(2.0, Pause("w1"), 55.0)], shards=2, workers=("w1", "w2"), failover=10.0,
          limit=10_000, checkpoint=CheckpointPolicy(every=5.0), state=State.CHECKPOINTED),
    # a zombie reaching the end of a shard whose children have ended and been cleaned up
    found([Fault(0.0, ShardCount(2)), Fault(1.0, Pause("a"), 9.0)], shards=3, workers=("b", "a"), update_delay=1.0),
    # a zombie's poll reading the stream to its tip before the owner has
    found([Fault(12.0, Pause("w1"), 28.0)], workers=("w1", "w2"), failover=3.0, interval=1.0, lag=1.0, poll=5.0,
          duration=40.0, limit=10_000, state=State.CHECKPOINTED),
)


def with_found(state: Optional[State] = None):
    """Every run in ``FOUND`` as an explicit example (in ``state`` if given)."""
    def decorate(test):
        for scenario in FOUND:
            if state is not None:
                scenario = dataclasses.replace(scenario, consumer=dataclasses.replace(scenario.consumer, state=state))
            test = example(scenario)(test)
        return test
    return decorate


# -- properties over generated runs -------------------------------------------------------------------------------
@RUNS
@given(worker_scenarios())
@with_found()
def test_every_record_is_delivered_at_least_once(scenario):
    """Whatever crashes, pauses and restarts happen (some worker is alive at the end), every record the
    stream holds is given at least once to a processor whose worker owned the lease then (what only a
    zombie was given does not count: its work is thrown away at lease_lost): the sequence numbers of
    those batches, shard by shard, cover every shard read back whole afterwards; and the report's
    figures agree."""
    trace = traced(scenario)
    result, shards = trace.result, trace.shards()
    given_to = {shard_id: set() for shard_id in shards}
    for batch in trace.batches:
        if batch.owned:
            given_to[batch.shard_id].update(batch.numbers)
    for shard_id, records in shards.items():
        missing = [r.sequence_number for r in records if int(r.sequence_number) not in given_to[shard_id]]
        assert not missing, f"{shard_id}: {len(missing)} of {len(records)} records never delivered"
        assert given_to[shard_id] <= {int(r.sequence_number) for r in records}
    held = sum(len(records) for records in shards.values())
    assert held == result.produced
    assert result.workers.never_delivered == 0
    assert result.workers.delivered == sum(len(batch.numbers) for batch in trace.batches)


@RUNS
@given(worker_scenarios(state=st.just(State.CHECKPOINTED)))
@with_found(State.CHECKPOINTED)
def test_checkpointed_state_makes_a_patient_counter_exact_whatever_fails(scenario):
    """``state: checkpointed``: each processor restores the state saved with the checkpoint it starts
    after, so records delivered again replace what a lost processor counted instead of adding to it: a
    buffered counter whose grace (a day) outlasts the run ends exact, every cell, nothing late, whatever
    crashes, pauses and restarts happen."""
    result = traced(scenario).result
    for part in result.counters:
        if part.spec.kind == "buffered":
            assert part.metrics["final_exact"] == 1.0, (part.spec.name, part.metrics, result.workers.duplicates)
            assert part.metrics["never_converged"] == 0 and part.metrics["late_records"] == 0


@RUNS
@given(worker_scenarios(state=st.just(State.MEMORY)))
@with_found(State.MEMORY)
def test_memory_state_makes_the_naive_counter_count_each_delivery_never_less_than_truth(scenario):
    """``state: memory``: each processor counts from nothing what it is given, in a lineage of its own,
    and the counts a lineage printed stand when its processor is gone (``PerShard``: a cell's count is
    the sum of each lineage's latest count). The naive counter prints every cell it changed after each
    batch, so its final count of a cell is the number of *deliveries* of that cell's records (a record
    delivered twice counts twice), and, every record being delivered at least once, never below the
    truth: at-least-once delivery never undercounts with it."""
    trace = traced(scenario)
    result = trace.result
    naive = next(part for part in result.counters if part.spec.kind == "naive")
    windowing = naive.truth.windowing
    record = {int(r.sequence_number): r for records in trace.shards().values() for r in records}
    deliveries: Counter = Counter()
    for batch in trace.batches:
        for number in batch.numbers:
            r = record[number]
            for start in windowing.starts(event_us_of(r.data)):
                deliveries[(start, r.partition_key)] += 1
    final = {cell: report.last for cell, report in naive.observations.cells.items()}
    assert final == dict(deliveries)
    for cell, truth in naive.truth.cells.items():
        assert final.get(cell, 0) >= truth, (cell, final.get(cell), truth)
    assert set(final) == set(naive.truth.cells)


@RUNS
@given(worker_scenarios())
@with_found()
def test_duplicates_are_exactly_the_redeliveries_after_handovers(scenario):
    """Records delivered twice are exactly those a processor of the shard was given after its last
    checkpoint the table took (after its start, if it never checkpointed) and that a later processor
    of the shard is given again. Checked in three steps, from the trace alone:

    - a shard's checkpoint in the table only moves forward;
    - each processor starts right after the checkpoint its lease held when it was built, and is given
      the shard's records from there on, in order, none skipped, none twice;
    - so the expected number of duplicates, computed processor by processor (a record it is given that
      an earlier processor of the shard was given after that one's last checkpoint), is the report's
      ``duplicates``; and it is also the number of deliveries beyond each record's first."""
    trace = traced(scenario)
    result, shards = trace.result, trace.shards()
    order = {shard_id: [int(r.sequence_number) for r in records] for shard_id, records in shards.items()}
    for shard_id in order:
        written = [position(w.checkpoint) for w in trace.writes
                   if w.shard_id == shard_id and w.ok and w.operation == "checkpoint"]
        assert written == sorted(written), f"{shard_id}'s checkpoint went back: {written}"
    expected = 0
    past_checkpoint: dict[str, set[int]] = {shard_id: set() for shard_id in order}  # given after a last checkpoint
    for made in trace.processors:
        assert made.start == last_written(trace, made.shard_id, made.index), made
        given_to = trace.delivered(made.serial)
        start = position(made.start)
        first = 0 if start == -math.inf else order[made.shard_id].index(start) + 1
        assert given_to == order[made.shard_id][first:first + len(given_to)], \
            f"processor {made} was not given its shard's records in order from its checkpoint"
        expected += len(past_checkpoint[made.shard_id].intersection(given_to))
        taken = [position(a.checkpoint) for a in trace.attempts if a.serial == made.serial and a.ok]
        last = taken[-1] if taken else start
        past_checkpoint[made.shard_id].update(n for n in given_to if n > last)
    assert result.workers.duplicates == expected
    deliveries = Counter(n for batch in trace.batches for n in batch.numbers)
    assert result.workers.duplicates == sum(deliveries.values()) - len(deliveries)
    assert result.workers.delivered == sum(deliveries.values())


def lives(events) -> dict[str, list[tuple[str, float, float]]]:
    """Each worker's identities in the lease table, with when each was alive: from the start (or its
    restart) to its crash (or for ever)."""
    found: dict[str, list] = {}
    for event in events:
        if event.what in ("crash", "restart"):
            found.setdefault(event.worker, [[event.worker, 0.0, math.inf]])
            if event.what == "crash":
                found[event.worker][-1][2] = event.at
            else:
                found[event.worker].append([f"{event.worker}#{len(found[event.worker]) + 1}", event.at, math.inf])
    return {worker: [tuple(life) for life in lived] for worker, lived in found.items()}


def stalls(events) -> dict[str, list[tuple[float, float]]]:
    """Each worker's pauses, as [from, to): to its end, or to the restart that ends it sooner."""
    found: dict[str, list] = {}
    for event in events:
        if event.what == "pause":
            restarts = [e.at for e in events if e.worker == event.worker and e.what == "restart" and e.at >= event.at]
            found.setdefault(event.worker, []).append((event.at, min([event.until] + restarts)))
    return found


@RUNS
@given(worker_scenarios())
@with_found()
def test_a_lease_is_processed_only_by_its_owner_but_for_a_zombie_or_an_owner_yet_to_learn(scenario):
    """A lease is never processed by two live, non-zombie workers at once: whenever a worker processes a
    batch of a shard whose lease the table says is not its own, either it was paused since it last took
    the lease and woke at most one renew interval (failover_time / 3) earlier (a zombie: it finishes
    what it was doing before it learns, at its first renew), or another worker took the lease from it
    at most one renew interval earlier (it learns at its next renew). And no worker takes a lease while
    it is paused, or once it has crashed (until it restarts, under a new identity)."""
    trace = traced(scenario)
    events = trace.result.workers.events
    renew = renew_interval(scenario.consumer.failover_time)
    takes = [w for w in trace.writes if w.operation == "take" and w.ok]
    paused = stalls(events)
    for batch in trace.batches:
        if batch.owned:
            continue
        took = max((w for w in takes if w.shard_id == batch.shard_id and w.owner == batch.identity
                    and w.index < batch.index), key=lambda w: w.index)
        zombie = any(took.at <= a < batch.at and b <= batch.at <= b + renew + 1e-9
                     for a, b in paused.get(batch.worker, ()))
        taken_from = [w.at for w in takes if w.shard_id == batch.shard_id and w.owner != batch.identity
                      and took.index < w.index < batch.index]
        learning = bool(taken_from) and batch.at - min(taken_from) <= renew + 1e-9
        assert zombie or learning, (batch, took, taken_from, paused.get(batch.worker))
    alive = {identity: (since, until) for lived in lives(events).values() for identity, since, until in lived}
    for take in takes:
        since, until = alive.get(take.owner, (0.0, math.inf))
        assert since <= take.at < until, f"{take.owner} took {take.shard_id} at {take.at}, alive {since} to {until}"
        worker = next(name for name in scenario.consumer.workers if take.owner in (name, *(
            identity for identity, _, _ in lives(events).get(name, ()))))
        assert not any(a <= take.at < b for a, b in paused.get(worker, ())), (take, paused[worker])


@RUNS
@given(worker_scenarios())
@with_found()
def test_parents_end_before_children_start(scenario):
    """A child shard's first processor is built, and its first batch processed, only after each of its
    parents' leases has been checkpointed at SHARD_END in the table (KCL: parents before children). A
    shard ends once: its SHARD_END is written once, and its lease is never made again afterwards."""
    trace = traced(scenario)
    ends = [w for w in trace.writes if w.operation == "checkpoint" and w.ok and w.checkpoint == SHARD_END]
    ended = {w.shard_id: w.index for w in ends}
    assert len(ended) == len(ends), Counter(w.shard_id for w in ends)
    for write in trace.writes:
        if write.operation == "create" and write.ok:
            assert ended.get(write.shard_id, math.inf) > write.index, f"{write.shard_id}'s lease made after it ended"
    for shard_id, parents in trace.parents().items():
        built = [made.index for made in trace.processors if made.shard_id == shard_id]
        processed = [batch.index for batch in trace.batches if batch.shard_id == shard_id]
        for parent in parents:
            for first in built[:1] + processed[:1]:
                assert parent in ended and ended[parent] < first, (shard_id, parent)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(worker_scenarios())
@with_found()
def test_the_same_scenario_and_seed_give_the_same_report(scenario):
    """Deterministic: two runs of one scenario with one seed give byte-identical JSON reports (leases,
    takeovers, holdings, duplicates and counts included)."""
    assert to_json(kinsim.runner.run(scenario)) == to_json(kinsim.runner.run(scenario))


# -- by example ---------------------------------------------------------------------------------------------------
def scenario_of(consumer: dict, faults: list, *, shards: int = 1, keys=("10.0.0.1",), duration: str = "1m") -> Scenario:
    """A scenario as a file would say it: a record a second per key, the naive counter."""
    return parse_scenario({
        "seed": 1, "start": "2018-07-31T21:56:00Z", "duration": duration, "window": "10s",
        "stream": {"name": "s", "shards": shards},
        "producers": [{"name": f"p{i}", "partition_key": key, "interval": "1s"} for i, key in enumerate(keys)],
        "consumer": consumer, "counters": ["naive"], "faults": faults}, "<test>", "test")


class Recorder:
    """A record processor of the kclpy v3 shape that notes every call made to it and checkpoints after
    each batch (as kclpy's sample does, but each time), at the shard's end and when asked to shut down.
    ``made``: every one built, in order."""

    made: list["Recorder"] = []

    def __init__(self) -> None:
        self.calls: list[tuple] = []
        Recorder.made.append(self)

    def _checkpoint(self, checkpointer) -> None:
        try:
            checkpointer.checkpoint()
        except CheckpointError as error:
            self.calls.append(("refused", error.value))

    def initialize(self, initialize_input) -> None:
        self.calls.append(("initialize", initialize_input.shard_id, initialize_input.sequence_number))

    def process_records(self, process_records_input) -> None:
        self.calls.append(("process_records", len(process_records_input.records)))
        self._checkpoint(process_records_input.checkpointer)

    def lease_lost(self, lease_lost_input) -> None:
        self.calls.append(("lease_lost",))

    def shard_ended(self, shard_ended_input) -> None:
        self.calls.append(("shard_ended",))
        self._checkpoint(shard_ended_input.checkpointer)

    def shutdown_requested(self, shutdown_requested_input) -> None:
        self.calls.append(("shutdown_requested",))
        self._checkpoint(shutdown_requested_input.checkpointer)


def test_a_single_worker_crashed_and_restarted_comes_back_as_a_new_identity_and_takes_its_expired_leases():
    """w1 alone, crashing at 20 s and restarted at 30 s, as w1#2 in the lease table: at its first take
    round (30 s) w1's two leases look alive (their counters were only just seen), so it steals one, its
    fair share; at the next (36 s) the other has not changed for more than the failover time and it takes
    it, expired. Both are read from their last checkpoints again; nothing is lost."""
    trace = traced(scenario_of({"poll_interval": "1s", "workers": ["w1"], "lease": {"failover_time": "3s"},
                                "checkpoint": {"every": "5s"}},
                               [{"at": "20s", "crash": "w1"}, {"at": "30s", "restart": "w1"}],
                               shards=2, keys=("10.0.0.1", "10.0.0.12")))
    result, workers = trace.result, trace.result.workers
    assert [applied.outcome for applied in result.faults] == ["crashed holding 2 leases", "restarted as w1#2"]
    assert [(t.worker, t.previous, t.stolen, t.at, t.after) for t in workers.takeovers] == [
        ("w1#2", "w1", True, 30.0, 10.0), ("w1#2", "w1", False, 36.0, 16.0)]
    assert sorted((h.worker, h.start, h.end, h.how) for h in workers.holdings) == [
        ("w1", 0, 20.0, "crashed"), ("w1", 0, 20.0, "crashed"), ("w1#2", 30.0, None, ""), ("w1#2", 36.0, None, "")]
    assert [l.owner for l in trace.fleet.table.list()] == ["w1#2", "w1#2"]
    restarted = [made for made in trace.processors if made.identity == "w1#2"]
    assert len(restarted) == 2 and all(made.start == last_written(trace, made.shard_id, made.index) != "TRIM_HORIZON"
                                       for made in restarted)
    assert workers.never_delivered == 0 and workers.duplicates > 0


def test_checkpoint_none_and_a_crash_deliver_everything_again_from_trim_horizon():
    """``checkpoint: none``: w1 reads shard 0 for 20 s and never checkpoints; it crashes, and w2 takes the
    expired lease at 30 s and starts from TRIM_HORIZON: every record w1 was given is given again."""
    trace = traced(scenario_of({"poll_interval": "1s", "workers": ["w1", "w2"], "lease": {"failover_time": "3s"},
                                "checkpoint": "none"}, [{"at": "20s", "crash": "w1"}]))
    workers = trace.result.workers
    first, second = trace.processors
    assert (first.identity, second.identity, second.start, second.at) == ("w1", "w2", "TRIM_HORIZON", 30.0)
    shard = [int(r.sequence_number) for r in trace.shards()[SHARD_0]]
    by_w1, by_w2 = trace.delivered(first.serial), trace.delivered(second.serial)
    assert len(by_w1) == 20 and by_w1 == by_w2[:20] == shard[:20] and by_w2 == shard
    assert workers.duplicates == 20 and workers.checkpoints_written == 0 and workers.never_delivered == 0
    assert [(t.worker, t.previous, t.at, t.after) for t in workers.takeovers] == [("w2", "w1", 30.0, 10.0)]


def test_a_pause_longer_than_the_failover_time_makes_a_zombie_whose_checkpoint_is_refused():
    """w1 holds shard 0 and stalls from 10 s to 30 s, longer than the failover time (3 s): w2 takes the
    expired lease at 18 s and goes on after w1's last checkpoint. At 30 s w1 wakes and finishes what it
    was doing: it processes one more batch (records w2 has had already), its checkpoint is refused
    (``ShutdownException``), and its processor gets ``lease_lost``; nothing else. w2's gets
    ``shutdown_requested`` when input ends."""
    Recorder.made.clear()
    scenario = scenario_of({"poll_interval": "1s", "workers": ["w1", "w2"], "lease": {"failover_time": "3s"}},
                           [{"at": "10s", "for": "20s", "pause": "w1"}], duration="40s")
    scenario = dataclasses.replace(scenario, consumer=dataclasses.replace(
        scenario.consumer, processor=ProcessorSpec("tests.test_workers:Recorder", Recorder)))
    trace = traced(scenario)
    workers = trace.result.workers
    assert workers.checkpoints_refused >= 1
    assert [(t.worker, t.previous, t.at, t.after) for t in workers.takeovers] == [("w2", "w1", 18.0, 8.0)]
    zombie, successor = Recorder.made
    assert zombie.calls[0] == ("initialize", SHARD_0, "TRIM_HORIZON")
    assert zombie.calls[-3:] == [("process_records", 21), ("refused", "ShutdownException"), ("lease_lost",)]
    assert not {"shard_ended", "shutdown_requested"} & {call[0] for call in zombie.calls}
    [late] = [batch for batch in trace.batches if not batch.owned]
    assert (late.worker, late.at, len(late.numbers)) == ("w1", 30.0, 21)  # made at 10 s to 30 s
    assert successor.calls[0] == ("initialize", SHARD_0, last_written(trace, SHARD_0, trace.processors[1].index))
    assert successor.calls[0][2].isdigit() and successor.calls[-1] == ("shutdown_requested",)
    assert "lease_lost" not in {call[0] for call in successor.calls}
    assert workers.duplicates >= 21 and workers.never_delivered == 0

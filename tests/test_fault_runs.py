"""Whole runs under fault schedules: what must hold whatever the schedule, and each fault at its edges.

Over generated schedules (splits, merges and shard counts in any order, throttles of every shard or of
some, consumer pauses, some long enough for iterators to expire), with a TRIM_HORIZON consumer and no
clock skew: every
record produced is read exactly once, a child's records after all of its parents', and a counter whose
grace outlasts the run reports every cell exactly, with nothing late.

At the edges (a fault at ``at`` is a stream change before anything else at that instant; a span is
``[at, at + for)``): a throttle's lowered limits meet a put or a poll at exactly ``at`` and not one at
exactly ``at + for``; nobody polls in a pause, a poll due in it happens at its end, a poller whose first
step falls in it waits too; an iterator older than 300 s at the end of a pause is renewed, one exactly
300 s old is not; a reshard at ``at`` with no update delay takes a put at exactly ``at`` into the children
(with a delay, the parents take puts until it completes); a throttle of every shard holds for shards
opened in its span, a throttle of some shards leaves the others alone.

Scenarios are built with ``dataclasses.replace`` and the schedule's dataclasses, not from YAML.
"""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import HealthCheck, given, settings

import kinsim.runner
from kinsim.backends import MemoryBackend
from kinsim.backends.iterators import decode_iterator
from kinsim.backends.shards import sequence_number_shard_index
from kinsim.errors import ProvisionedThroughputExceededException
from kinsim.records import IteratorType
from kinsim.scenario import ConsumerSpec, ProducerSpec, Scenario, StreamSpec
from kinsim.scenario.schedule import Fault, Merge, Pause, ShardCount, Split, Throttle
from kinsim.simulation.payload import event_us_of

from .conftest import read_back
from .test_reference import START, counter, fault_cases

SHARD_0, SHARD_1, SHARD_2 = (f"shardId-{i:012d}" for i in range(3))
START_S = START.timestamp()

#: counters whose watermark cannot pass a window before the shard ends: a day of grace, longer than any
#: lag plus any run here
PATIENT = (counter("naive", "naive", 1.0, 1.0),
           counter("patient", "buffered", 1.0, 1.0, grace=86_400),
           counter("patient-hopping", "buffered", 2.0, 0.5, grace=86_400))


# -- running, and seeing what happened ------------------------------------------------------------------------
class Logged(MemoryBackend):
    """Simulated shards that log each GetRecords: (seconds after the start, shard id, "read" or "throttled")."""

    def __init__(self, clock, **options) -> None:
        super().__init__(clock, **options)
        self.reads: list[tuple[float, str, str]] = []

    def get_records(self, shard_iterator, limit=None):
        at, shard_id = self.clock.now() - START_S, decode_iterator(shard_iterator).shard_id
        try:
            result = super().get_records(shard_iterator, limit)
        except ProvisionedThroughputExceededException:
            self.reads.append((at, shard_id, "throttled"))
            raise
        self.reads.append((at, shard_id, "read"))
        return result


def run(scenario: Scenario, echo=None):
    """kinsim's run of ``scenario`` on logged simulated shards (kept, to be read back afterwards)."""
    backends = []

    def factory(clock):
        backends.append(Logged(clock, update_delay=scenario.stream.update_delay))
        return backends[-1]

    result = kinsim.runner.run(scenario, backend_factory=factory, keep_stream=True, echo=echo)
    return result, backends[0]


def contents(backend: MemoryBackend) -> dict[str, list[tuple[float, float]]]:
    """Each shard's records as (arrival, creation), in seconds after the start (creation: the event time
    the data carries, no clock skew here)."""
    return {shard_id: [(round(r.approximate_arrival_timestamp - START_S, 6), round(event_us_of(r.data) / 1e6 - START_S, 6))
                       for r in records] for shard_id, records in read_back(backend).items()}


def steady(*, shards: int = 1, keys=("10.0.0.1",), interval: float = 0.25, duration: float = 6.0,
           poll: float = 1.0, iterator: IteratorType = IteratorType.TRIM_HORIZON, start: float = 0.0,
           update_delay: float = 0.0, faults=()) -> Scenario:
    """A producer per key, a record every ``interval`` from 0 with no lag (so record k arrives at exactly
    k x interval unless refused), a consumer polling every ``poll``."""
    return Scenario("edges", "", 1, START, duration, 1.0, StreamSpec("s", shards, update_delay=update_delay),
                    tuple(ProducerSpec(f"p{i}", key, interval) for i, key in enumerate(keys)),
                    ConsumerSpec(poll_interval=poll, iterator=iterator, start=start), PATIENT, tuple(faults))


def reads_of(backend: Logged, shard_id: str) -> list[tuple[float, str]]:
    return [(at, outcome) for at, shard, outcome in backend.reads if shard == shard_id]


# -- whatever the schedule ----------------------------------------------------------------------------------
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(fault_cases())
def test_every_record_is_read_once_parents_first_and_a_patient_counter_counts_every_cell(scenario):
    # no clock skew: a skewed producer writes event times its records were not made at, and truth counts
    # the instants they were made at
    scenario = dataclasses.replace(
        scenario, counters=PATIENT, producers=tuple(dataclasses.replace(p, clock_skew=0.0) for p in scenario.producers),
        consumer=dataclasses.replace(scenario.consumer, iterator=IteratorType.TRIM_HORIZON))
    read = []
    result, backend = run(scenario, echo=lambda record: read.append(record.sequence_number))
    assert result.delivered == result.produced
    assert sum(shard.records_read for shard in result.shards) == result.produced
    assert len(read) == len(set(read)) == result.produced  # each record once, none twice
    order = [f"shardId-{sequence_number_shard_index(int(number)):012d}" for number in read]
    first = {shard_id: order.index(shard_id) for shard_id in set(order)}
    last = {shard_id: len(order) - 1 - order[::-1].index(shard_id) for shard_id in set(order)}
    for shard in result.shards:  # a shard's records are each read from that shard, a child's after its parents'
        assert order.count(shard.shard_id) == shard.records_read
        for parent in shard.parents:
            if shard.shard_id in first and parent in last:
                assert last[parent] < first[shard.shard_id]
    held = {shard_id: len(records) for shard_id, records in contents(backend).items()}
    assert held == {s.shard_id: s.records_read for s in result.shards}  # every shard read to its end
    for part in result.counters:
        assert part.metrics["final_exact"] == 1.0 and part.metrics["never_converged"] == 0, part.spec.name
        assert part.metrics["late_records"] == 0 and not part.counter.late
        assert part.counter.records_counted == result.produced


# -- throttles ---------------------------------------------------------------------------------------------
def test_a_write_throttle_meets_a_put_at_its_start_and_not_one_at_its_end():
    """One record a second during [1, 3): the put at exactly 1.0 finds three records in (0, 1] and is
    refused; the one at exactly 3.0 meets the service's 1,000 again and goes in then."""
    result, backend = run(steady(faults=[Fault(1.0, Throttle(records_per_s=1), 2.0)]))
    arrivals = {created: arrived for arrived, created in contents(backend)[SHARD_0]}
    assert arrivals[0.75] == 0.75 and arrivals[1.0] > 1.0 and arrivals[3.0] == 3.0
    during = sorted(a for a in arrivals.values() if 1.0 <= a < 3.0)
    everything = sorted(arrivals.values())
    assert during and all(sum(a - 1.0 < b <= a for b in everything) <= 1 for a in during)  # the lowered limit
    assert result.shards[0].throttled_puts == result.throttled_puts > 0
    assert [(applied.at, applied.outcome) for applied in result.faults] == [(1.0, "limits lowered")]


def test_a_read_throttle_meets_a_poll_at_its_start_and_not_one_at_its_end():
    """One GetRecords a second during [2, 3.5), polls every 0.5 s: the poll at exactly 2.0 finds the one
    at 1.5 in (1, 2] and is refused (the poller sleeps 1 s); 3.0 goes in, 3.5 is the span's end: in too."""
    result, backend = run(steady(poll=0.5, faults=[Fault(2.0, Throttle(reads_per_s=1), 1.5)]))
    assert [read for read in reads_of(backend, SHARD_0) if read[0] <= 4.0] == [
        (0.0, "read"), (0.5, "read"), (1.0, "read"), (1.5, "read"), (2.0, "throttled"), (3.0, "read"),
        (3.5, "read"), (4.0, "read")]
    assert result.shards[0].throttled_reads == result.throttled_polls == 1


def test_a_throttle_of_every_shard_holds_for_shards_opened_in_its_span():
    """Every shard to one record a second during [1, 4); the split at 2.0 opens two children: the one the
    key goes to is throttled too, and at 4.0 every shard has the service's limits again."""
    result, backend = run(steady(faults=[Fault(1.0, Throttle(records_per_s=1), 3.0), Fault(2.0, Split(SHARD_0))]))
    shards = contents(backend)
    [child] = [shard_id for shard_id in (SHARD_1, SHARD_2) if shards[shard_id]]
    arrivals = sorted(arrived for arrived, _ in shards[child])
    assert arrivals[0] >= 2.0 and 4.0 in arrivals
    during = [a for a in arrivals if a < 4.0]
    assert all(sum(a - 1.0 < b <= a for b in arrivals) <= 1 for a in during)
    assert {s.shard_id: s.throttled_puts > 0 for s in result.shards} == {SHARD_0: True, child: True,
                                                                           ({SHARD_1, SHARD_2} - {child}).pop(): False}


def test_a_throttle_of_some_shards_leaves_the_others_alone():
    """Shard 0 of two to one record a second; 10.0.0.12 (shard 1) keeps its pace."""
    result, backend = run(steady(shards=2, keys=("10.0.0.1", "10.0.0.12"),
                                 faults=[Fault(1.0, Throttle((SHARD_0,), records_per_s=1), 3.0)]))
    shards = contents(backend)
    assert [arrived for arrived, created in shards[SHARD_1]] == [created for _, created in shards[SHARD_1]]
    assert [s.throttled_puts for s in result.shards] == [result.throttled_puts, 0] and result.throttled_puts > 0


# -- pauses --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("at, length, last_before, resumed, next_poll", [(3.0, 2.0, 2.0, 5.0, 6.0),
                                                                        (2.5, 1.0, 2.0, 3.5, 4.5)])
def test_nobody_polls_in_a_pause_and_a_poll_due_in_it_happens_at_its_end(at, length, last_before, resumed,
                                                                         next_poll):
    """Polls every second from 0 on two shards; a pause at exactly a poll's instant takes that poll too."""
    _, backend = run(steady(shards=2, keys=("10.0.0.1", "10.0.0.12"), faults=[Fault(at, Pause(), length)]))
    for shard_id in (SHARD_0, SHARD_1):
        times = [t for t, _ in reads_of(backend, shard_id)]
        assert not [t for t in times if at <= t < at + length]
        assert [t for t in times if t < at][-1] == last_before
        assert [t for t in times if t >= at][:2] == [resumed, next_poll]


def test_a_poller_whose_first_step_falls_in_a_pause_starts_at_its_end():
    """A LATEST consumer starting at 1.5 in a pause over [1, 3): its first GetRecords is at 3.0, from an
    iterator issued then, so the first record it reads arrived after 3.0."""
    arrived = []
    result, backend = run(steady(iterator=IteratorType.LATEST, start=1.5, faults=[Fault(1.0, Pause(), 2.0)]),
                          echo=lambda record: arrived.append(round(record.approximate_arrival_timestamp - START_S, 6)))
    assert reads_of(backend, SHARD_0)[0] == (3.0, "read")
    assert arrived[0] == 3.25 and result.iterators_renewed == 0


@pytest.mark.parametrize("length, renewed", [(299.5, 0), (299.501, 2), (330.0, 2)])
def test_an_iterator_older_than_300_s_after_a_pause_is_renewed_where_it_was(length, renewed):
    """Polls every second; the last before the pause at 2.5 is at 2.0, which issued the iterator. Resuming
    exactly 300 s later it is still valid; any later it has expired, and each shard's poller renews it
    after the last record it read, so every record is still read once."""
    read = []
    result, _ = run(steady(shards=2, keys=("10.0.0.1", "10.0.0.12"), faults=[Fault(2.5, Pause(), length)]),
                    echo=lambda record: read.append(record.sequence_number))
    assert result.iterators_renewed == renewed
    assert len(read) == len(set(read)) == result.produced
    assert all(part.metrics["final_exact"] == 1.0 for part in result.counters)


# -- reshards --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("shards, fault", [(1, Split(SHARD_0)), (1, ShardCount(2)), (2, Merge((SHARD_0, SHARD_1))),
                                           (2, ShardCount(1))])
@pytest.mark.parametrize("update_delay, last_in_parent, first_in_child", [(0.0, 1.5, 2.0), (1.0, 2.5, 3.0)])
def test_a_reshard_at_an_instant_takes_a_put_then_into_the_children(shards, fault, update_delay, last_in_parent,
                                                                    first_in_child):
    """A record every 0.5 s; the reshard asked for at exactly 2.0. With no update delay the put at 2.0
    already goes to a child; with 1 s, the parent takes puts until the reshard completes at 3.0."""
    result, backend = run(steady(shards=shards, interval=0.5, update_delay=update_delay,
                                 faults=[Fault(2.0, fault)]))
    holding = {shard_id: [arrived for arrived, _ in records] for shard_id, records in contents(backend).items()
               if records}
    parents = {s.shard_id for s in result.shards if not s.parents}
    assert len(holding) == 2 and set(holding) & parents and set(holding) - parents
    [parent] = set(holding) & parents
    [child] = set(holding) - parents
    assert holding[parent][-1] == last_in_parent and holding[child][0] == first_in_child
    assert {s.shard_id: s.closed_at for s in result.shards if s.shard_id == parent} == {parent: first_in_child}
    assert all(s.opened_at == first_in_child for s in result.shards if s.parents)
    assert [applied.at for applied in result.faults] == [2.0]


@pytest.mark.parametrize("update_delay, second_at", [(1.0, 1.0), (0.0, 0.0)])
def test_a_reshard_at_the_instant_the_previous_one_completes_finds_it_complete(update_delay, second_at):
    """A split at 0 completing after the update delay, and a split of one of its children asked for at
    that very instant (the loader accepts it: its check moves the clock, which completes the first):
    the stream's own change due then comes before the fault, so the child is there to split."""
    result, backend = run(steady(update_delay=update_delay, faults=[Fault(0.0, Split(SHARD_0)),
                                                                    Fault(second_at, Split(SHARD_1))]))
    assert [applied.at for applied in result.faults] == [0.0, second_at]
    assert {s.shard_id for s in result.shards if s.closed_at is not None} == {SHARD_0, SHARD_1}
    assert result.delivered == result.produced


def test_a_read_byte_throttle_holds_for_its_span_only():
    """Two bytes a second of reads during [1, 2): the poll at 1.0 reads two records and owes the shard
    tens of seconds at that rate; when the span ends, what it still owes drains at the service's 2 MiB/s,
    so reads go on within a second or so (they used to be refused until the debt had drained at two
    bytes a second, long after the throttle had ended)."""
    result, backend = run(steady(poll=0.5, faults=[Fault(1.0, Throttle(read_bytes_per_s=2), 1.0)]))
    reads = reads_of(backend, SHARD_0)
    assert (1.0, "read") in reads and (1.5, "throttled") in reads
    assert all(outcome == "read" for at, outcome in reads if at >= 3.0)
    assert result.delivered == result.produced

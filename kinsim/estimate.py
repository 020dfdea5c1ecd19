"""How big a run will be, from its scenario alone, and the budget a run must fit.

Before a run starts, kinsim estimates what it will cost: the records the producers create, the put
attempts (a shard offered more than its 1,000 records/s keeps refusing, and every refused record is
tried again after a backoff), the polls, how long in simulated time it lasts (the last record's lag, a
throttled shard draining, a consumer whose ``Limit`` reads slower than records come in), the cells the
truth and the counters keep, the shards (the first ones and those reshards open), and the memory all
of that takes. A run over the budget is refused before
it starts, with the estimate and the option that raises the limit, instead of running for hours or
until the machine kills it. The estimate is deliberately rough, and errs on the large side.

Every instant a run would report must also be printable (years 1 to 9999): a scenario whose records or
polls would reach past that is a scenario error, with its key path.
"""

from __future__ import annotations

import math
import weakref
from bisect import bisect_right
from dataclasses import dataclass, field
from typing import Optional

from .backends import limits
from .backends.shards import even_ranges, partition_key_hash, shard_id_for
from .clock import EARLIEST_S, LATEST_S
from .errors import KinsimError, ScenarioError, one_line
from .populations import Addresses, Population
from .scenario import Merge, ProducerSpec, Scenario, ShardCount, Split, Throttle

__all__ = ["Budget", "RunEstimate", "RunTooBig", "estimate", "check"]

GiB = 1024**3
MEAN_BACKOFF_S = 2.5          # a throttled put waits 0.05-5 s before it tries again; this is a fair mean
BYTES_PER_RECORD = 100        # kept on a shard (32), waiting to be sent, truth and lanes: an upper guess
BYTES_PER_CELL = 160          # a (window, key) cell held once: in the truth, a counter's state (its own and its
                              # processors' sums) or its observations; 40 to 100 B measured, window by window
BYTES_PER_PRODUCER = 12_000   # three random generators and the producer's state
BYTES_PER_MEMBER = 3_000      # a group's member: its state and lag generator (the others only when drawn from)
BYTES_PER_GENERATOR = 2_600   # a random generator (jitter, key draws)
BYTES_PER_KEY = 300           # a key written: its text, number, lane, and the stream's key table
BYTES_PER_SHARD = 32 * 1024   # a shard: its log, lane, reader and lease, the counters' parts and their cells'
                              # tables; 7 KiB (few records) to 24 KiB (300 a shard) measured, in peak RSS
TOP_KEYS = 1_000              # a population's likeliest keys, whose shards are found; the rest spread evenly
BASE_BYTES = 80 * 1024**2     # Python, kinsim and its libraries


@dataclass(frozen=True)
class Budget:
    """What a run may take: events (records created, put attempts, polls and lease rounds) and memory."""

    max_events: int = 100_000_000
    max_memory_bytes: int = 4 * GiB


@dataclass(frozen=True)
class RunEstimate:
    records: int            # records the producers create
    attempts: int           # put attempts, retries of throttled ones included
    polls: int              # GetRecords calls
    span_s: float           # simulated seconds from the start until input is expected to end
    cells: int              # (window, key) cells kept by the truth and the counters, at most
    memory_bytes: int
    reasons: tuple[str, ...] = field(default=())  # what makes it big, in words
    lease_rounds: int = 0   # the workers' renew and take rounds (each renews every lease it holds)

    @property
    def events(self) -> int:
        return self.records + self.attempts + self.polls + self.lease_rounds

    def describe(self) -> str:
        span = "forever" if math.isinf(self.span_s) else _duration_text(self.span_s)
        rounds = f", {_count(self.lease_rounds)} lease rounds" if self.lease_rounds > self.events / 2 else ""
        return (f"about {_count(self.records)} records, {_count(self.attempts)} put attempts, "
                f"{_count(self.polls)} polls{rounds} over {span} of simulated time, "
                f"{self.memory_bytes / GiB:.1f} GiB of memory")


class RunTooBig(KinsimError):
    """A run whose estimate is over the budget; the message says what it would take and how to allow it."""

    def __init__(self, file: str, run: RunEstimate, limit: str) -> None:
        self.file, self.estimate = file, run
        why = f" ({one_line('; '.join(run.reasons[:2]), 200)})" if run.reasons else ""
        super().__init__(f"{one_line(file, 200)}: this run is too big to start: {run.describe()}{why}; {limit}")


def _count(n: float) -> str:
    if math.isinf(n) or n >= 10**15:
        return "more than a quadrillion"
    if n >= 10**6:
        return f"{n / 10**6:,.1f} million"
    return f"{int(n):,}"


def _duration_text(seconds: float) -> str:
    for unit, size in (("years", 365 * 86400), ("days", 86400), ("hours", 3600), ("minutes", 60)):
        if seconds >= 2 * size:
            return f"{seconds / size:,.0f} {unit}"
    return f"{seconds:,.0f} s"


def estimate(scenario: Scenario) -> RunEstimate:
    """The run's size, from the scenario alone (see the module's docstring). A scenario is frozen: the one
    estimated last is answered again at once (the command line checks the budget, then runs)."""
    last = _last[0]
    if last is not None and last[0]() is scenario:
        return last[1]
    run = _estimate(scenario)
    _last[0] = (weakref.ref(scenario), run)
    return run


_last: list = [None]  # (a weak reference to the scenario estimated last, its estimate)


def _estimate(scenario: Scenario) -> RunEstimate:
    shards, duration = scenario.stream.shards, scenario.duration
    starts = [r.start for r in even_ranges(shards)]
    shard_records, shard_rate, shard_bytes = [0] * shards, [0.0] * shards, [0.0] * shards
    records, latest, reasons, producer_bytes = 0, 0.0, [], 0.0
    largest: dict[tuple[int, int], float] = {}  # (id of a lag model, records) → its largest lag expected
    shard_of: dict[str, int] = {}               # a partition key → its shard
    drawing: list[ProducerSpec] = []            # the producers with populations
    for producer in scenario.producers:         # a loop of 100,000 producers: inline, as below
        until, offset, members, lag = producer.until, producer.offset, producer.members, producer.lag
        stops = duration if until is None else min(duration, until)
        each = 0 if offset >= stops else math.floor((stops - offset) / producer.interval) + 1
        count = each * members
        records += count
        largest_lag = largest.get((id(lag), count))
        if largest_lag is None:
            largest_lag = largest[(id(lag), count)] = lag.beyond(1.0 / (count + 2))
        held = sum(outage.duration for outage in producer.outages) if producer.outages else 0
        latest = max(latest, duration + held + largest_lag)
        if math.isinf(largest_lag) or largest_lag > 10 * 365 * 86400:
            reasons.append(f"{producer.name}'s lag could reach {_duration_text(largest_lag)}")
        key = producer.partition_key
        if key is not None:  # one key: its shard, each key hashed once (a population: ``_population_shares``)
            shard = shard_of.get(key)
            if shard is None:
                shard = shard_of[key] = bisect_right(starts, partition_key_hash(key)) - 1
            shares: list[tuple[int, float]] = [(shard, 1.0)]
        else:
            shares = _population_shares(producer.keys, starts)
            drawing.append(producer)
        size = 26 + _key_bytes(producer)
        for shard, share in shares:
            shard_records[shard] += count * share
            shard_rate[shard] += members / producer.interval * share
            shard_bytes[shard] += size * members / producer.interval * share
        drawn = producer.keys is not None and not producer.keys.each
        producer_bytes += BYTES_PER_PRODUCER if producer.count is None else \
            members * (BYTES_PER_MEMBER + BYTES_PER_GENERATOR * (bool(producer.jitter) + drawn))
    attempts, drained = float(records), 0.0
    for shard in range(shards):
        offered, count = shard_rate[shard], shard_records[shard]
        byte_share = min(1.0, limits.SHARD_WRITE_BYTES_PER_S / shard_bytes[shard]) if shard_bytes[shard] else 1.0
        taken = min(limits.SHARD_WRITE_RECORDS_PER_S, offered * byte_share)
        if count and offered > taken:
            active = count / offered
            wait = active / 2 * (offered / taken - 1)         # a record waits this long on average
            attempts += count * wait / MEAN_BACKOFF_S
            drained = max(drained, count / taken)
            reasons.append(f"{shard_id_for(shard)} is offered {offered:,.0f} records/s and takes {taken:,.0f}: "
                           f"a record waits about {_duration_text(wait)}, retrying")
    attempts += _throttled_attempts(scenario, shard_rate, shard_bytes, reasons)
    consumer = scenario.consumer
    read_rate = min(consumer.limit / consumer.poll_interval, limits.SHARD_READ_CALLS_PER_S * consumer.limit)
    reading = max((count / read_rate for count in shard_records), default=0.0)
    span = max(latest, drained, consumer.start + reading) + consumer.poll_interval
    polls = shards * span * min(1.0 / consumer.poll_interval, limits.SHARD_READ_CALLS_PER_S + 1.0)
    populations = {producer.keys for producer in drawing}
    keys = len(shard_of) + sum(len(population) for population in populations)
    skew = max(map(abs, _skews(scenario)))
    cells, truths = 0.0, {}
    for counter in scenario.counters:  # each counter's state and its observations; the truth once a windowing
        size, slide = counter.windowing.size_us / 1e6, counter.windowing.slide_us / 1e6
        windows = (scenario.duration + 2 * skew + size) / slide
        held = min(_keys_in(scenario, bool(drawing), size, keys) * windows, records * size / slide)
        cells += 2 * held
        truths[counter.windowing] = held
    cells += sum(truths.values())
    tables = sum(8 * len(population) for population in populations if population.draw_weights() is not None)
    made = _shards_made(scenario)
    if BYTES_PER_SHARD * made > GiB:
        opened = f" ({made - shards:,} of them opened by reshards)" if made > shards else ""
        reasons.append(f"{made:,} shards{opened} take {BYTES_PER_SHARD * made / GiB:.1f} GiB")
    memory = BASE_BYTES + BYTES_PER_RECORD * records + BYTES_PER_CELL * cells + producer_bytes + tables \
        + BYTES_PER_KEY * min(keys, records) + BYTES_PER_SHARD * made
    rounds = (span - consumer.start) / (consumer.failover_time / 3) * (len(consumer.workers) + shards)  # renewals
    return RunEstimate(records, _whole(attempts), _whole(polls), span, _whole(cells), _whole(memory), tuple(reasons),
                       _whole(max(0.0, rounds)))


def _shards_made(scenario: Scenario) -> int:
    """The shards a run may make, at most: the stream's first ones and those its reshards open, in time
    order. A split opens two, a merge one; UpdateShardCount splits each open shard at the target's
    boundaries, then merges the pieces of each target range: two shards for each boundary, one for each
    piece merged, at most 2 x target + the shards open before."""
    made = open_now = scenario.stream.shards
    for fault in sorted(scenario.faults, key=lambda fault: fault.at):
        action = fault.action
        if isinstance(action, Split):
            made, open_now = made + 2, open_now + 1
        elif isinstance(action, Merge):
            made, open_now = made + 1, open_now - 1
        elif isinstance(action, ShardCount):
            made, open_now = made + 2 * action.target + open_now, action.target
    return made


def _keys_in(scenario: Scenario, drawing: bool, size: float, keys: int) -> float:
    """About how many keys a window of ``size`` seconds holds, at most: every producer's one key, and
    what each population's draws in that time hit (``expected_distinct``), at most ``keys``.
    ``drawing``: whether any producer has a population (else each adds its one key)."""
    if not drawing:
        return min(float(keys), float(len(scenario.producers)))
    found = 0.0
    for producer in scenario.producers:
        population = producer.keys
        if population is None:
            found += 1
        elif population.each:
            found += len(population)
        else:
            found += population.expected_distinct(producer.members * size / producer.interval)
    return min(float(keys), found)


def _key_bytes(producer: ProducerSpec) -> int:
    """The bytes of a producer's partition key (of a population's: the longest of an address, the mean
    of a list)."""
    key = producer.partition_key
    if key is not None:
        return len(key) if key.isascii() else len(key.encode("utf-8"))
    if isinstance(producer.keys, Addresses):
        return 15
    return round(sum(len(key.encode("utf-8")) for key in producer.keys.keys) / len(producer.keys.keys))


def _population_shares(population: Population, starts: list[int]) -> list[tuple[int, float]]:
    """Which of the first shards a population's records go to, and what share of them: the shards of its
    ``TOP_KEYS`` likeliest keys, and the rest evenly."""
    if population.each:
        top = [(i, 1.0 / len(population)) for i in range(min(TOP_KEYS, len(population)))]
    else:
        top = population.top_shares(TOP_KEYS)
    shares = [(bisect_right(starts, partition_key_hash(population.key(i))) - 1, share) for i, share in top]
    rest = max(0.0, 1.0 - sum(share for _, share in top))
    if rest:
        shares += [(shard, rest / len(starts)) for shard in range(len(starts))]
    return shares


def _throttled_attempts(scenario: Scenario, shard_rate: list[float], shard_bytes: list[float],
                        reasons: list[str]) -> float:
    """Put attempts a throttle fault adds: on each throttled shard offered more than its lowered limit, a
    backlog grows for the span (a triangle of waiting records), each retrying every ``MEAN_BACKOFF_S``.
    A shard opened by a reshard counts as the busiest of the stream's first shards."""
    extra = 0.0
    busiest = max(range(len(shard_rate)), key=lambda i: shard_rate[i])
    for fault in scenario.faults:
        action = fault.action
        if not isinstance(action, Throttle) or fault.duration is None:
            continue
        if action.shards is None:
            chosen = list(range(len(shard_rate)))
        else:
            chosen = [int(shard_id[-12:]) if int(shard_id[-12:]) < len(shard_rate) else busiest
                      for shard_id in action.shards]
        for shard in chosen:
            offered = shard_rate[shard]
            taken = float(action.records_per_s or limits.SHARD_WRITE_RECORDS_PER_S)
            if action.bytes_per_s and shard_bytes[shard]:
                taken = min(taken, offered * action.bytes_per_s / shard_bytes[shard])
            if offered > taken:
                backlog = (offered - taken) * fault.duration
                extra += backlog * fault.duration / 2 / MEAN_BACKOFF_S
                reasons.append(f"{fault.path} throttles {shard_id_for(shard)} to {taken:,.0f} of its "
                               f"{offered:,.0f} records/s for {_duration_text(fault.duration)}")
    return extra


def _skews(scenario: Scenario) -> set[float]:
    """The producers' clock skews, each once (a scenario has at least one producer)."""
    return {producer.clock_skew for producer in scenario.producers}


def _whole(value: float) -> int:
    return 10**18 if math.isinf(value) or value > 10**18 else math.ceil(value)


def check(scenario: Scenario, file: str, budget: Optional[Budget] = Budget()) -> RunEstimate:
    """The run's estimate, once its instants are printable (else a ``ScenarioError``) and it fits the
    budget (else ``RunTooBig``; no budget: no limit)."""
    run = estimate(scenario)
    start_s = scenario.start_us / 1_000_000
    skews = _skews(scenario)
    earliest = min(skews)
    if start_s + earliest < EARLIEST_S:
        raise ScenarioError(file, "start", "with the producers' clock skew, event times would fall before the year 1, "
                                           "which no report can print")
    stamps = scenario.duration + max(0.0, max(skews))
    for key, seconds in (("duration", stamps), ("start", run.span_s)):
        if start_s + seconds > LATEST_S:
            raise ScenarioError(file, key, f"the run would reach past the year 9999 ({_duration_text(seconds)} after "
                                           f"its start), which no report can print")
    if budget is None:
        return run
    if run.events > budget.max_events:
        raise RunTooBig(file, run, f"the limit is {_count(budget.max_events)} events (records, put attempts, "
                                   "polls and lease rounds): raise it with --max-events to run anyway")
    if run.memory_bytes > budget.max_memory_bytes:
        raise RunTooBig(file, run, f"the limit is {budget.max_memory_bytes / GiB:.1f} GiB of memory: raise it with "
                                   "--max-memory to run anyway")
    return run

"""A deliberately simple, record-by-record reference model of a whole kinsim run, for the tests.

``reference(scenario, update_delay=, throttling=, actions=)`` plays a ``kinsim.scenario.Scenario`` (its fault
schedule too) with one heap of events and plain lists, and returns an ``Outcome``. It shares no code with the
simulation: it reads the scenario's dataclasses and the lag models' parameters, draws from its own
``random.Random``s (seeded as kinsim seeds each producer's lag, jitter and backoff generators), hashes keys
with MD5, and keeps its own shards and counters, following DESIGN §4-§6 and §10 and the README.

Producers create records on their schedule, hold those created in an outage until it ends, and retry a
throttled put after a capped exponential backoff (a retry in an outage waits for it). A group of ``count``
is that many producers ``name-0`` on; a producer with a key population draws each record's key when it
creates it (one draw of its ``keys`` generator: uniform floor(u n), weighted by running sums of the weights,
zipf rank r weighing r ** -s), and each of its records retries with a backoff generator of its own. Shards take 1,000
records or 1 MiB in any ``(now - 1, now]``, 5 reads and 2 MiB/s (a throttle lowers these for its span);
iterators last 300 s. Reshards are done as ``kinsim/backends/stream_state.py`` does them, and complete
``t_asked + update_delay`` seconds after the start (the timeline's own time, summed as simpy sums it);
limits and arrival times are on the service's clock, ``start + t`` in float seconds since the epoch.

The consumer starts at ``consumer.start``: from TRIM_HORIZON at the shards none of whose parents is listed
(retention is not modelled, so: the stream's first shards), from LATEST at the open shards. Each poller gets
an iterator, polls, and sleeps the poll interval (1 s after a throttled poll). Each GetRecords issues a new
iterator; one older than 300 s is renewed where it was and counted. A poll due while the consumer is paused
happens when the pause ends (``t + (end - t)``, as simpy sums a timeout). A poll that reads a closed shard
to its end ends that shard's counters (a buffered one fires all it holds, a naive one lets its cells go)
and gives its children leases. The consumer is one KCL worker (DESIGN §11): it ticks every
``failover_time / 3`` from its start (a tick due in a pause happens at the pause's end, after the polls
then; it takes if a take tick was among those missed); every sixth tick takes every lease nobody holds,
after everything else at that instant; at the other ticks and after a take it starts a poller for each
lease held whose parents are read (or were never leased). Input ends at the first poll after which all
is delivered and every poller's last caught-up poll (a lease not yet polled: none) is at or after the
last delivery; nothing happens after that.

Counters: one per shard and counter of the scenario, made at the shard's first poll that returned (records
or not). A cell's reported count is the sum over shards of each shard's latest count for it.

At one instant ``t`` (float seconds after the start, summed as simpy sums them): (1) stream changes: the
faults due then (in the schedule's order; a throttle's end right after its start in that order), then a
reshard's completion; (2) the producers' attempts due at ``t`` are made, in order of (producer, record number,
attempt number); (3) processes that start at ``t`` run their first step: the consumer at its ``start`` when
that is 0, each poller it starts (get an iterator, poll at once), and a child's poller right after the poll
that started it; (4) the other events at ``t``, in the order they were scheduled: scripted actions, the
consumer's start when later than 0, polls, the worker's ticks; (5) a tick that waited out a pause;
(6) the take round. Not modelled: retention (a run must end within 24 h),
PutRecords, other iterator types.
"""

from __future__ import annotations

import hashlib
import heapq
import ipaddress
import math
import random
from bisect import bisect_right
from collections import namedtuple
from dataclasses import dataclass
from datetime import datetime, timedelta

from kinsim.durations import parse_duration
from kinsim.lag import Constant, Exponential, LogNormal, Normal, Pareto, Uniform
from kinsim.scenario import Pacing, Scenario
from kinsim.scenario.schedule import Merge, Pause, ShardCount, Split, Throttle

__all__ = ["Outcome", "ShardOutcome", "CounterOutcome", "Stream", "BeyondRetention", "reference"]

MiB = 1024 * 1024
HASH_MAX = 2**128 - 1
EPOCH = datetime(1970, 1, 1)
ITERATOR_LIFE_S = 300.0
STREAM, ATTEMPT, FIRST_STEP, LATER, WOKEN, TAKE = 0, 1, 2, 3, 4, 5  # the phases of one instant (steps 1 to 6)
SPANS_MIN = (1, 2, 5, 10, 15, 30, 60, 120, 180, 360, 720, 1440)  # the throughput table's spans, in minutes

#: a shard's throughput limits: write records/s, write bytes/s, read calls/s, read bytes/s
Limits = namedtuple("Limits", "records bytes reads read_bytes")
SERVICE = Limits(1000, MiB, 5, 2 * MiB)

#: records: (partition key, data, arrival in seconds after start rounded to the µs), in shard order;
#: opened_at, closed_at: seconds after the start rounded to the µs (closed_at None: open); records_read,
#: throttled_reads, most_millis_behind, iterators_renewed: what the consumer saw of it; throttled_puts:
#: attempts it refused
ShardOutcome = namedtuple("ShardOutcome", "shard_id parents is_open records opened_at closed_at records_read "
                                          "throttled_puts throttled_reads most_millis_behind iterators_renewed")
#: sink_calls: (window start µs, key, count, processing time µs); late: (shard id, key, event µs, late by
#: µs, processed µs); both in order
CounterOutcome = namedtuple("CounterOutcome", "name sink_calls late emitted_rows peak_state_cells records_counted")


@dataclass(frozen=True)
class Outcome:
    produced: int
    delivered: int
    throttled_puts: int
    polls: int
    throttled_polls: int
    ended_at: float               # seconds after start when input ended
    shards: tuple                 # a ShardOutcome per shard of the final listing (closed ones too)
    counters: tuple               # a CounterOutcome per counter, in scenario order
    iterators_renewed: int = 0
    throughput: tuple = ()        # (start s, span s, records in, throttled puts, records read, throttled reads)
    faults: tuple = ()            # (at, kind, what it did) per fault applied, in order


class BeyondRetention(Exception):
    """The run lasts a day or more (a heavy-tailed lag, say): retention, which the model leaves out, may
    change what it reads."""


LAGS = {Constant: lambda m, rng: m.value,
        Uniform: lambda m, rng: rng.uniform(m.low, m.high),
        Exponential: lambda m, rng: rng.expovariate(1.0 / m.mean),
        Normal: lambda m, rng: max(0.0, rng.gauss(m.mean, m.stddev)),
        LogNormal: lambda m, rng: rng.lognormvariate(math.log(m.median), m.sigma),
        Pareto: lambda m, rng: m.scale * rng.paretovariate(m.shape)}


def key_text(population, index: int) -> str:
    """Key ``index`` of a population: an IPv4 address counted up from ``first``, or the list's."""
    if hasattr(population, "count"):
        return str(ipaddress.IPv4Address(population.first + index))
    return population.keys[index]


def outage_end(spec, t: float):
    ends = [o.at + o.duration for o in spec.outages if o.at <= t < o.at + o.duration]
    return ends[0] if ends else None


def even_ranges(count: int) -> list[tuple[int, int]]:
    size = (HASH_MAX + 1) // count
    return [(i * size, (i + 1) * size - 1 if i < count - 1 else HASH_MAX) for i in range(count)]


# -- the stream -------------------------------------------------------------------------------------------
class Shard:
    def __init__(self, index: int, low: int, high: int, parents: tuple, opened: float, limits) -> None:
        self.id, self.low, self.high, self.parents = f"shardId-{index:012d}", low, high, parents
        self.is_open, self.children = True, []
        self.opened, self.closed = opened, None  # on the service's clock
        self.limits = limits             # a Limits, or None: no limits
        self.records = []                # (key, data, arrival on the service's clock, size), in order
        self.bytes_before = [0]          # bytes_before[i]: the sizes of records[:i] summed (only for speed)
        self.read_calls, self.read_busy_until = [], -math.inf
        self.throttled_puts = self.records_read = self.throttled_reads = self.most_behind = self.renewed = 0

    def relimit(self, now: float, limits) -> None:
        """New limits from ``now``: the read bytes still owed drain at the new rate."""
        if self.limits is not None and limits is not None and self.read_busy_until > now:
            owed = (self.read_busy_until - now) * self.limits.read_bytes
            self.read_busy_until = now + owed / limits.read_bytes
        self.limits = limits


class Stream:
    def __init__(self, count: int, limits=SERVICE, now: float = 0.0) -> None:
        self.limits = limits             # what a new shard gets
        self.now = now                   # the service's clock, for a shard's opening and closing
        self.shards: dict[str, Shard] = {}  # by id, in creation order
        for low, high in even_ranges(count):
            self.new_shard(low, high, ())

    def new_shard(self, low: int, high: int, parents: tuple) -> Shard:
        index = len(self.shards)
        return self.shards.setdefault(f"shardId-{index:012d}", Shard(index, low, high, parents, self.now, self.limits))

    def open_shards(self) -> list[Shard]:
        return [shard for shard in self.shards.values() if shard.is_open]

    def route(self, key: str) -> Shard:
        hash_key = int(hashlib.md5(key.encode("utf-8")).hexdigest(), 16)
        return next(s for s in self.open_shards() if s.low <= hash_key <= s.high)

    def close(self, shard: Shard, children: list) -> None:
        shard.children, shard.is_open, shard.closed = children, False, self.now

    def split(self, shard: Shard, key: int) -> None:
        children = [self.new_shard(shard.low, key - 1, (shard.id,)), self.new_shard(key, shard.high, (shard.id,))]
        self.close(shard, children)

    def merge(self, shard: Shard, adjacent: Shard) -> None:
        child = self.new_shard(min(shard.low, adjacent.low), max(shard.high, adjacent.high), (shard.id, adjacent.id))
        self.close(shard, [child])
        self.close(adjacent, [child])

    def scale(self, target: int) -> None:
        ranges = even_ranges(target)
        for piece in sorted(self.open_shards(), key=lambda s: s.low):
            for boundary, _ in ranges[1:]:
                if piece.low < boundary <= piece.high:
                    self.split(piece, boundary)
                    piece = piece.children[1]
        for low, high in ranges:
            pieces = sorted((s for s in self.open_shards() if low <= s.low <= high), key=lambda s: s.low)
            for piece in pieces[1:]:
                self.merge(pieces[0], piece)
                pieces[0] = pieces[0].children[0]

    def change(self, action: tuple, updating: bool = False):
        """The change a scripted action asks for, checked as the service checks it (None: nothing to do)."""
        name, args = action[1], action[2:]
        if name == "split":
            shard, key = self.shards[args[0]], int(args[1])
            accepted, change = shard.is_open and shard.low + 1 < key < shard.high, lambda: self.split(shard, key)
        elif name == "merge":
            a, b = self.shards[args[0]], self.shards[args[1]]
            accepted = a.is_open and b.is_open and (a.high + 1 == b.low or b.high + 1 == a.low)
            change = lambda: self.merge(a, b)  # noqa: E731
        else:
            target, current = args[0], len(self.open_shards())
            accepted = name == "update_shard_count" and current <= 2 * target and target <= 2 * current
            change = None if target == current else (lambda: self.scale(target))
        if updating or not accepted:
            raise ValueError(f"the service refuses {action}" + ": the stream is UPDATING" * updating)
        return change


# -- counters ---------------------------------------------------------------------------------------------
class Counter:
    """One counter of the scenario, run as one counter per shard (``Naive`` or ``Buffered``), each made
    when its shard is first polled. What the sink hears, and the figures, are theirs summed."""

    def __init__(self, spec) -> None:
        self.spec = spec
        self.shards: dict = {}           # shard id → its own counter, in the order first polled
        self.ended: set = set()
        self.latest: dict = {}           # (window start, key) → {shard id: that shard's latest count}
        self.calls = []
        self.reports = 0
        self.held = self.peak_state_cells = 0  # cells held by all shards' counters together, and the most

    def take(self, shard_id: str, records: list, now_us: int) -> None:
        """One poll of one shard, its records (key, event µs) maybe none, to that shard's counter."""
        if shard_id not in self.shards:
            self.shards[shard_id] = (Naive if self.spec.kind == "naive" else Buffered)(self.spec, shard_id, self)
        self.shards[shard_id].take(records, now_us)

    def end_shard(self, shard_id: str, now_us: int) -> None:
        """A closed shard is read to its end (or input has ended): its counter reports what it holds."""
        if shard_id in self.shards and shard_id not in self.ended:
            self.ended.add(shard_id)
            self.shards[shard_id].end(now_us)

    def close(self, now_us: int) -> None:
        for shard_id in sorted(self.shards):
            self.end_shard(shard_id, now_us)

    # what the shards' counters call
    def report(self, shard_id: str, start: int, key: str, count: int, now_us: int) -> None:
        self.reports += 1
        shares = self.latest.setdefault((start, key), {})
        shares[shard_id] = count
        self.calls.append((start, key, sum(shares.values()), now_us))

    def counted(self) -> None:
        """A shard's counter has counted a record: measure the cells held by all of them."""
        self.peak_state_cells = max(self.peak_state_cells, self.held)

    # the figures
    def outcome(self) -> CounterOutcome:
        counters = list(self.shards.values())
        rows = sum(c.rows for c in counters) if self.spec.kind == "naive" else self.reports
        late = sorted((r for c in counters for r in c.late), key=lambda r: r[4])  # ties: shards as first polled
        return CounterOutcome(self.spec.name, tuple(self.calls), tuple(late), rows, self.peak_state_cells,
                              sum(c.counted for c in counters))


class Naive:
    """One shard's naive counter: a cell per (window, key), never closed; after each poll that returned
    records it prints every cell it holds (``rows``) and reports the cells that changed."""

    def __init__(self, spec, shard_id: str, whole: Counter) -> None:
        self.size, self.slide = spec.windowing.size_us, spec.windowing.slide_us
        self.shard_id, self.whole = shard_id, whole
        self.cells: dict = {}            # (window start, key) → count
        self.late = []
        self.rows = self.counted = 0

    def starts(self, ts: int) -> range:
        last = ts - ts % self.slide
        return range(last - self.size + self.slide, last + 1, self.slide)

    def take(self, records: list, now_us: int) -> None:
        if not records:
            return
        changed = set()
        for key, ts in records:
            for start in self.starts(ts):
                if (start, key) not in self.cells:
                    self.whole.held += 1
                self.cells[(start, key)] = self.cells.get((start, key), 0) + 1
                changed.add((start, key))
            self.counted += 1
            self.whole.counted()
        self.rows += len(self.cells)
        for start, key in sorted(changed):
            self.whole.report(self.shard_id, start, key, self.cells[(start, key)], now_us)

    def end(self, now_us: int) -> None:  # the naive counter holds nothing back, and its cells go
        self.whole.held -= len(self.cells)


class Buffered(Naive):
    """One shard's buffered counter: its own watermark (none before its first record), grace and
    allowed lateness; at its end every window it holds fires."""

    def __init__(self, spec, shard_id: str, whole: Counter) -> None:
        super().__init__(spec, shard_id, whole)
        params = dict(spec.params)
        self.grace, self.lateness = (round(parse_duration(params.get(name, 0)) * 1_000_000)
                                     for name in ("grace", "allowed_lateness"))
        idle = params.get("idle_timeout")
        self.idle = None if idle is None else round(parse_duration(idle) * 1_000_000)
        self.last_read = None            # processing time of its last poll that returned records
        self.max_ts = -math.inf
        self.windows: dict = {}          # window start → {key: count}
        self.fired: set = set()          # starts of the windows held that have fired

    def take(self, records: list, now_us: int) -> None:
        # Every poll comes here, records or none. idle_timeout (DESIGN §6): a shard whose last record was
        # read at least that long ago gets a watermark of at least now - idle_timeout - grace, first.
        if self.idle is not None and self.last_read is not None and now_us - self.last_read >= self.idle:
            self.max_ts = max(self.max_ts, now_us - self.idle)
            self.advance(self.max_ts - self.grace, now_us)
        if records:
            self.last_read = now_us
        for key, ts in records:
            watermark, counted = self.max_ts - self.grace, False
            for start in self.starts(ts):
                if watermark >= start + self.size + self.lateness:
                    continue             # evicted
                if start not in self.windows:
                    self.windows[start] = {}
                    if watermark >= start + self.size:
                        self.fired.add(start)  # passed while empty: its counts are corrections
                if key not in self.windows[start]:
                    self.whole.held += 1
                self.windows[start][key] = self.windows[start].get(key, 0) + 1
                counted = True
                if start in self.fired:
                    self.whole.report(self.shard_id, start, key, self.windows[start][key], now_us)
            if not counted:
                self.late.append((self.shard_id, key, ts, watermark - ts, now_us))
                continue
            self.counted += 1
            self.whole.counted()
            if ts > self.max_ts:
                self.max_ts = ts
                self.advance(ts - self.grace, now_us)

    def advance(self, watermark: float, now_us: int) -> None:
        for start in sorted(self.windows):
            if start not in self.fired and start + self.size <= watermark:
                for key in sorted(self.windows[start]):
                    self.whole.report(self.shard_id, start, key, self.windows[start][key], now_us)
                self.fired.add(start)
        for start in sorted(self.windows):
            if start in self.fired and start + self.size + self.lateness <= watermark:
                self.whole.held -= len(self.windows.pop(start))
                self.fired.discard(start)

    def end(self, now_us: int) -> None:
        self.advance(math.inf, now_us)


# -- the run ----------------------------------------------------------------------------------------------
class Poller:
    def __init__(self, shard: Shard, latest: bool) -> None:
        self.shard, self.latest = shard, latest
        self.position = 0                # the next record to read
        self.issued = None               # when its iterator was issued (the service's clock)
        self.first_issued = None         # when its first iterator was (a LATEST one renewed before any
        self.read_any = False            #   record was read restarts AT_TIMESTAMP just after that instant)


class Run:
    def __init__(self, scenario: Scenario, update_delay: float, throttling: bool, actions) -> None:
        self.s, self.update_delay = scenario, update_delay
        self.start_s = scenario.start_us / 1_000_000
        self.service = SERVICE if throttling else None
        self.stream = Stream(scenario.stream.shards, self.service, self.start_s)
        self.updating = False            # a reshard asked for and not yet complete
        self.events, self.seq = [], 0    # heap of (time, phase, (producer, record, attempt) or seq, kind, arg)
        self.waiting = 0                 # attempts in the heap
        self.produced = self.delivered = self.throttled_puts = self.polls = self.throttled_polls = 0
        self.renewed = 0
        self.last_delivery, self.ended = 0.0, None
        self.paused_until = -math.inf
        self.applied = []                # (at, kind, what it did)
        self.tallies = ({}, {}, {}, {})  # minute → records in, throttled puts, records read, throttled reads
        self.counters = [Counter(spec) for spec in scenario.counters]
        self.pollers: dict = {}          # shard id → its Poller
        self.leased: dict = {}           # shard id → whether its lease starts at LATEST (every lease ever made)
        self.held: set = set()           # leases the worker holds and has not ended
        self.began, self.tick, self.taking = 0.0, 0, False
        self.caught_up_at: dict = {}     # shard id → its poller's last caught-up poll, or None
        self.finished: set = set()       # closed shards read to their ends
        for fault in sorted(scenario.faults, key=lambda f: f.at):  # ties: the schedule's order
            self.schedule(fault.at, STREAM, "fault", fault)
            if isinstance(fault.action, Throttle):
                self.schedule(fault.at + fault.duration, STREAM, "unthrottle", fault)
        self.members = []                # (spec, name, its one key or None: each record's key is drawn)
        for spec in scenario.producers:  # a group of ``count`` is that many producers, ``name-0`` on
            for i in range(1 if spec.count is None else spec.count):
                key = spec.partition_key if spec.keys is None else key_text(spec.keys, i) if spec.keys.each else None
                self.members.append((spec, spec.name if spec.count is None else f"{spec.name}-{i}", key))
        self.tables = {}                 # population → (its size, the running sums of its weights or None)
        self.rngs, self.next_k = [], [0] * len(self.members)
        for p, (spec, name, _) in enumerate(self.members):
            prefix = f"kinsim/{scenario.seed}/producer/{name}/"
            self.rngs.append({kind: random.Random(prefix + kind) for kind in ("lag", "jitter", "backoff", "keys")})
            created = spec.offset + self.jitter(p)
            self.create(p, created)
            while spec.pacing is Pacing.FIXED and created < self.stops(spec):
                created = spec.offset + self.next_k[p] * spec.interval + self.jitter(p)
                self.create(p, created)
        for action in actions:
            self.schedule(action[0], LATER, "action", action)
        self.schedule(scenario.consumer.start, LATER if scenario.consumer.start > 0 else FIRST_STEP, "consumer", None)

    def schedule(self, t: float, phase: int, kind: str, arg, order=None) -> None:
        heapq.heappush(self.events, (t, phase, self.seq if order is None else order, kind, arg))
        self.seq += 1

    def tally(self, which: int, t: float, count: int = 1) -> None:
        minute = int(t // 60)
        self.tallies[which][minute] = self.tallies[which].get(minute, 0) + count

    # -- producers ----------------------------------------------------------------------------------------
    def jitter(self, p: int) -> float:
        spec = self.members[p][0]
        return self.rngs[p]["jitter"].uniform(0.0, spec.jitter) if spec.jitter else 0.0

    def retry(self, at: float, p: int, k: int, tries: int, tag: tuple) -> None:
        self.schedule(at, ATTEMPT, "attempt", tag, order=(p, k, tries))
        self.waiting += 1

    def stops(self, spec) -> float:
        """A producer creates records before its ``until``, if it has one before the duration."""
        return spec.until if spec.until is not None and spec.until < self.s.duration else self.s.duration

    def draw_key(self, p: int) -> str:
        """A record's key drawn from its producer's population: one draw u of its key generator; uniform:
        key floor(u n); weighted (zipf: rank r weighs r ** -s): the first whose running sum is above u x total."""
        population, u = self.members[p][0].keys, self.rngs[p]["keys"].random()
        if population not in self.tables:
            if hasattr(population, "count"):
                weights = None if population.zipf is None else \
                    [float(r) ** -population.zipf.s for r in range(1, population.count + 1)]
                size = population.count
            else:
                weights, size = population.weights, len(population.keys)
            sums, total = None, 0.0
            if weights is not None:
                sums = []
                for weight in weights:
                    total += weight
                    sums.append(total)
            self.tables[population] = size, sums
        size, sums = self.tables[population]
        if sums is None:
            return key_text(population, int(u * size))
        return key_text(population, bisect_right(sums, u * sums[-1]))

    def create(self, p: int, created: float) -> None:
        spec, _, key = self.members[p]
        if created >= self.stops(spec):
            return
        held = outage_end(spec, created)
        first = (created if held is None else held) + LAGS[type(spec.lag)](spec.lag, self.rngs[p]["lag"])
        stamp = self.s.start_us + round(created * 1_000_000) + round(spec.clock_skew * 1_000_000)
        tag = (stamp, self.draw_key(p) if key is None else key)
        self.retry(first, p, self.next_k[p], 0, tag)
        self.next_k[p] += 1
        self.produced += 1

    def attempt(self, at: float, p: int, k: int, tries: int, tag: tuple) -> None:
        spec, name, key = self.members[p]
        rng = self.rngs[p]["backoff"]
        if key is None:  # a producer drawing its keys: each record retries with a generator of its own
            if k not in self.rngs[p]:
                self.rngs[p][k] = random.Random(f"kinsim/{self.s.seed}/producer/{name}/backoff/{k}")
            rng = self.rngs[p][k]
        held = outage_end(spec, at) if tries else None
        if held is not None:
            self.retry(held + LAGS[type(spec.lag)](spec.lag, rng), p, k, tries, tag)
        elif not self.put(at, tag[1], tag[0]):
            self.throttled_puts += 1
            self.tally(1, at)
            self.retry(at + min(5.0, 0.1 * 2**tries) * (0.5 + rng.random() / 2), p, k, tries + 1, tag)
        else:
            self.delivered += 1
            self.tally(0, at)
            self.last_delivery = max(self.last_delivery, at)
            if spec.pacing is Pacing.AFTER_PUT:
                self.create(p, at + spec.interval + self.jitter(p))

    def put(self, at: float, key: str, tag: int) -> bool:
        now, shard = self.start_s + at, self.stream.route(key)
        data = (EPOCH + timedelta(microseconds=tag)).isoformat(timespec="microseconds").encode("ascii")
        size = len(data) + len(key.encode("utf-8"))
        first = bisect_right(shard.records, now - 1.0, key=lambda r: r[2])  # the records of (now - 1, now]
        recent_bytes = shard.bytes_before[-1] - shard.bytes_before[first]  # their sizes summed
        if shard.limits is not None and (len(shard.records) - first >= shard.limits.records or
                                         recent_bytes + size > shard.limits.bytes):
            shard.throttled_puts += 1
            return False
        shard.records.append((key, data, now, size))
        shard.bytes_before.append(shard.bytes_before[-1] + size)
        return True

    # -- the stream's changes -----------------------------------------------------------------------------
    def reshard(self, t: float, action: tuple) -> None:
        """Ask for a reshard: done now with no update delay, else the stream is UPDATING until it completes."""
        change = self.stream.change(action, updating=self.updating)
        if change is None:
            return
        if self.update_delay <= 0:
            self.complete(t, change)
        else:
            self.updating = True
            # before the faults due at that instant (scheduled at the start, so ordered first otherwise)
            self.schedule(t + self.update_delay, STREAM, "complete", change, order=-1)

    def complete(self, t: float, change) -> None:
        self.stream.now = self.start_s + t
        change()
        self.updating = False

    def fault(self, t: float, fault) -> None:
        action, stream = fault.action, self.stream
        if isinstance(action, Split):
            shard = stream.shards[action.shard_id]
            key = shard.low + (shard.high - shard.low + 1) // 2 if action.hash_key is None else action.hash_key
            self.reshard(t, (t, "split", shard.id, key))
            did = f"SplitShard at hash key {key}"
        elif isinstance(action, Merge):
            self.reshard(t, (t, "merge", *action.shard_ids))
            did = "MergeShards"
        elif isinstance(action, ShardCount):
            before = len(stream.open_shards())
            self.reshard(t, (t, "update_shard_count", action.target))
            did = f"UpdateShardCount from {before} to {action.target} shards"
        elif isinstance(action, Throttle):
            lowered = (action.records_per_s, action.bytes_per_s, action.reads_per_s, action.read_bytes_per_s)
            limits = Limits(*(s if low is None else low for s, low in zip(SERVICE, lowered)))
            if action.shards is None:    # every shard, and those opened meanwhile
                stream.limits = limits
                for shard in stream.shards.values():
                    shard.relimit(self.start_s + t, limits)
            else:
                for shard_id in action.shards:
                    stream.shards[shard_id].relimit(self.start_s + t, limits)
            did = "limits lowered"
        else:
            assert isinstance(action, Pause) and action.who == "consumer"
            self.paused_until = max(self.paused_until, fault.at + fault.duration)
            did = "stalled"
        self.applied.append((t, fault.kind, did))

    def unthrottle(self, t: float, fault) -> None:
        """A throttle's end: every shard back to the service's limits, or its shards to the stream's."""
        if fault.action.shards is None:
            self.stream.limits = self.service
            for shard in self.stream.shards.values():
                shard.relimit(self.start_s + t, self.service)
        else:
            for shard_id in fault.action.shards:
                self.stream.shards[shard_id].relimit(self.start_s + t, self.stream.limits)

    # -- the consumer -------------------------------------------------------------------------------------
    def start_consumer(self, t: float) -> None:
        listed = self.stream.shards
        if self.s.consumer.iterator.value == "LATEST":
            first = [(shard.id, True) for shard in self.stream.open_shards()]
        else:
            first = [(shard.id, False) for shard in listed.values()
                     if not any(parent in listed for parent in shard.parents)]
        for shard_id, latest in first:
            self.leased[shard_id] = latest
            self.caught_up_at[shard_id] = None
        self.began, self.tick = t, 0
        self.worker_tick(t)

    def worker_tick(self, t: float, woken: bool = False) -> None:
        if self.ended is not None:
            return
        every = self.s.consumer.failover_time / 3
        if self.paused_until > t:  # woken too: a pause starting as the last one ended stalls it on
            self.schedule(t + (self.paused_until - t), WOKEN, "woken", None)
            return
        if woken:
            missed = int((t - self.began) // every)
            while self.began + (missed + 1) * every <= t:   # the ticks due by t, as they are scheduled
                missed += 1
            take = any(k % 6 == 0 for k in range(self.tick, missed + 1))
            self.tick = missed + 1
        else:
            take = self.tick % 6 == 0
            self.tick += 1
        if take:
            if not self.taking:
                self.taking = True
                self.schedule(t, TAKE, "take", None)
        else:
            self.start_ready(t)
        self.schedule(t + max(0.0, self.began + self.tick * every - t), LATER, "tick", None)

    def take(self, t: float) -> None:
        self.taking = False
        self.held.update(shard_id for shard_id in self.leased if shard_id not in self.finished)
        self.start_ready(t)

    def start_ready(self, t: float) -> None:
        for shard_id in sorted(self.held):
            parents = self.stream.shards[shard_id].parents
            if shard_id not in self.pollers and all(p in self.finished or p not in self.leased for p in parents):
                self.start_poller(self.stream.shards[shard_id], t, latest=self.leased[shard_id])

    def start_poller(self, shard: Shard, t: float, latest: bool) -> None:
        self.pollers[shard.id] = Poller(shard, latest)
        self.schedule(t, FIRST_STEP, "first", shard.id)

    def first_step(self, shard_id: str, t: float) -> None:
        """A poller's first step: wait out a pause (once), then get an iterator and poll."""
        if self.paused_until > t:
            self.schedule(t + (self.paused_until - t), LATER, "issue", shard_id)
            return
        self.issue(shard_id, t)

    def issue(self, shard_id: str, t: float) -> None:
        poller = self.pollers[shard_id]
        poller.position = len(poller.shard.records) if poller.latest else 0
        poller.issued = poller.first_issued = self.start_s + t
        self.poll(shard_id, t)

    def poll(self, shard_id: str, t: float) -> None:
        if self.ended is not None:
            return                       # input has ended: pollers stop
        if self.paused_until > t:
            self.schedule(t + (self.paused_until - t), LATER, "poll", shard_id)
            return
        poller, now = self.pollers[shard_id], self.start_s + t
        shard, position = poller.shard, poller.position
        if now - poller.issued > ITERATOR_LIFE_S:
            poller.issued = now          # expired: renewed where it was (after the last record read)
            if poller.latest and not poller.read_any:  # ... or at the first arrival after its first issue
                position = poller.position = next(
                    (i for i, r in enumerate(shard.records) if r[2] > poller.first_issued), len(shard.records))
            shard.renewed += 1
            self.renewed += 1
        limits = shard.limits
        if limits is not None:
            calls = [c for c in shard.read_calls if c > now - 1.0]
            if len(calls) >= limits.reads or shard.read_busy_until > now:
                self.throttled_polls += 1
                shard.throttled_reads += 1
                self.tally(3, t)
                self.schedule(t + 1.0, LATER, "poll", shard_id)
                return
            shard.read_calls = calls + [now]
        stop, size = position, 0
        while stop < len(shard.records) and stop - position < self.s.consumer.limit and \
                size + shard.records[stop][3] <= 10 * MiB:
            size += shard.records[stop][3]
            stop += 1
        if limits is not None:
            shard.read_busy_until = max(shard.read_busy_until, now - 1.0) + size / limits.read_bytes
        poller.position, poller.issued = stop, now
        self.polls += 1
        behind = round((now - shard.records[stop][2]) * 1000) if stop < len(shard.records) else 0
        shard.most_behind = max(shard.most_behind, behind)
        if stop > position:
            poller.read_any = True
            shard.records_read += stop - position
            self.tally(2, t, stop - position)
        events = [(key, (datetime.fromisoformat(data.decode()) - EPOCH) // timedelta(microseconds=1))
                  for key, data, _, _ in shard.records[position:stop]]
        now_us = self.s.start_us + round(t * 1_000_000)
        for counter in self.counters:    # every poll, records or none
            counter.take(shard_id, events, now_us)
        if not shard.is_open and stop == len(shard.records):
            if self.end_shard(shard_id, t):
                return
        else:
            caught_up = stop == len(shard.records) and stop - position < self.s.consumer.limit
            self.caught_up_at[shard_id] = t if caught_up else None
        self.check_end(t)
        if self.ended is None and shard_id in self.caught_up_at:
            self.schedule(t + self.s.consumer.poll_interval, LATER, "poll", shard_id)

    def end_shard(self, shard_id: str, t: float) -> bool:
        """A closed shard read to its end. A child of a merge whose other parent was never leased cannot
        have its lease yet: the end waits a poll interval at a time, until it can (True: it waits)."""
        shard = self.stream.shards[shard_id]
        blocked = any(len(child.parents) > 1 and child.id not in self.leased
                      and any(p != shard_id and p not in self.leased for p in child.parents) for child in shard.children)
        if blocked:
            self.caught_up_at[shard_id] = None
            self.schedule(t + self.s.consumer.poll_interval, LATER, "end", shard_id)
            return True
        now_us = self.s.start_us + round(t * 1_000_000)
        for counter in self.counters:  # read to its end: its counters report all they hold
            counter.end_shard(shard_id, now_us)
        self.finished.add(shard_id)  # its children get leases, taken at the next take round
        self.held.discard(shard_id)
        del self.caught_up_at[shard_id]
        for child in shard.children:
            if child.id not in self.leased:
                self.leased[child.id] = False
                self.caught_up_at.setdefault(child.id, None)
        return False

    def retry_end(self, shard_id: str, t: float) -> None:
        if self.ended is not None or self.end_shard(shard_id, t):
            return
        self.check_end(t)

    def check_end(self, t: float) -> None:
        if self.ended is None and not self.waiting and \
                all(at is not None and at >= self.last_delivery for at in self.caught_up_at.values()):
            self.ended = t               # the end of input
            for counter in self.counters:
                counter.close(self.s.start_us + round(t * 1_000_000))

    # -- the whole run ------------------------------------------------------------------------------------
    def run(self) -> Outcome:
        while self.events and self.ended is None:
            t, _, order, kind, arg = heapq.heappop(self.events)
            if kind == "attempt":
                self.waiting -= 1
                self.attempt(t, *order, arg)
            elif kind == "fault":
                self.fault(t, arg)
            elif kind == "unthrottle":
                self.unthrottle(t, arg)
            elif kind == "complete":
                self.complete(t, arg)
            elif kind == "action":       # the old way of asking for a reshard: not a fault, not reported
                self.reshard(t, arg)
            elif kind == "consumer":
                self.start_consumer(t)
            elif kind == "tick":
                self.worker_tick(t)
            elif kind == "woken":
                self.worker_tick(t, woken=True)
            elif kind == "take":
                self.take(t)
            elif kind == "end":
                self.retry_end(arg, t)
            elif kind == "first":
                self.first_step(arg, t)
            elif kind == "issue":
                self.issue(arg, t)
            else:
                self.poll(arg, t)
        if self.ended is None:
            raise RuntimeError("the model stopped before its input ended")
        if self.ended >= 86_400:
            raise BeyondRetention(f"input ended {self.ended:g} s after the start, past retention (24 h)")
        start = self.start_s
        return Outcome(
            self.produced, self.delivered, self.throttled_puts, self.polls, self.throttled_polls, self.ended,
            tuple(ShardOutcome(s.id, s.parents, s.is_open,
                               tuple((k, d, round(a - start, 6)) for k, d, a, _ in s.records),
                               round(max(0.0, s.opened - start), 6),
                               None if s.closed is None else round(s.closed - start, 6),
                               s.records_read, s.throttled_puts, s.throttled_reads, s.most_behind, s.renewed)
                  for s in self.stream.shards.values()),
            tuple(counter.outcome() for counter in self.counters),
            self.renewed, self.throughput(), tuple(self.applied))

    def throughput(self) -> tuple:
        """Per minute (or per wider span, so that there are at most 60 rows), from the first minute to the
        last one in which input ended or anything was counted."""
        last = max([int(self.ended // 60)] + [minute for tally in self.tallies for minute in tally])
        span = next((s for s in SPANS_MIN if last // s < 60), -(-(last + 1) // 60))
        return tuple((row * span * 60.0, span * 60.0,
                      *(sum(n for minute, n in tally.items() if minute // span == row) for tally in self.tallies))
                     for row in range(last // span + 1))


def reference(scenario: Scenario, *, update_delay=None, throttling: bool = True, actions=()) -> Outcome:
    """Play ``scenario``, its faults included, record by record. A reshard takes effect ``update_delay``
    seconds after it is asked for (None: the scenario's ``stream.update_delay``). ``actions`` are reshards
    asked for without the fault schedule (as ``kinsim.runner.StreamAction``s): ``(at, "split", shard_id,
    new_starting_hash_key)``, ``(at, "merge", shard_id, adjacent_shard_id)`` or ``(at, "update_shard_count",
    target)``, ``at`` in seconds after the start."""
    delay = scenario.stream.update_delay if update_delay is None else update_delay
    return Run(scenario, delay, throttling, sorted(actions, key=lambda a: a[0])).run()

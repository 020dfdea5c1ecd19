"""A deliberately simple, record-by-record reference model of a whole kinsim run, for the tests.

``reference(scenario, update_delay=, throttling=, actions=)`` plays a ``kinsim.scenario.Scenario`` with one
heap of events and plain lists, and returns an ``Outcome``. It shares no code with the simulation: it reads
the scenario's dataclasses and the lag models' parameters, draws from its own ``random.Random``s (seeded as
kinsim seeds each producer's lag, jitter and backoff generators), hashes keys with MD5, and keeps its own
shards and counters, following DESIGN §4-§6 and §10 and the README.

Producers create records on their schedule, hold those created in an outage until it ends, and retry a
throttled put after a capped exponential backoff (a retry in an outage waits for it). Shards take 1,000
records or 1 MiB in any ``(now - 1, now]``, 5 reads and 2 MiB/s; iterators last 300 s. Reshards are done
as ``kinsim/backends/stream_state.py`` does them, and complete ``t_asked + update_delay`` seconds after the
start (the timeline's own time, summed as simpy sums it); limits and arrival times are on the service's
clock, ``start + t`` in float seconds since the epoch. The consumer polls each open shard from its
``start``, and a child (TRIM_HORIZON) once all its parents are read to their ends; input ends at the first
poll after which all is delivered and every poller's last caught-up poll is at or after the last delivery.

At one instant ``t`` (float seconds after the start, summed as simpy sums them): (1) a reshard whose update
has completed takes effect; (2) the producers' attempts due at ``t`` are made, in order of (producer, record
number, attempt number); (3) processes that start at ``t`` run their first step: the consumer at its
``start``, then each poller it starts (get an iterator, poll at once), and a child's poller right after the
poll that started it; (4) the other events at ``t``, in the order they were scheduled: scripted actions,
then polls. Not modelled: retention (a run must end within 24 h), PutRecords, other iterator types.
"""

from __future__ import annotations

import hashlib
import heapq
import math
import random
from bisect import bisect_right
from collections import namedtuple
from dataclasses import dataclass
from datetime import datetime, timedelta

from kinsim.durations import parse_duration
from kinsim.lag import Constant, Exponential, LogNormal, Normal, Pareto, Uniform
from kinsim.scenario import Pacing, Scenario

__all__ = ["Outcome", "ShardOutcome", "CounterOutcome", "Stream", "reference"]

MiB = 1024 * 1024
HASH_MAX = 2**128 - 1
EPOCH = datetime(1970, 1, 1)
ATTEMPT, FIRST_STEP, LATER = 0, 1, 2  # the phases of one instant (steps 2, 3 and 4 above)


#: records: (partition key, data, arrival in seconds after start rounded to the µs), in shard order
ShardOutcome = namedtuple("ShardOutcome", "shard_id parents is_open records")
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


LAGS = {Constant: lambda m, rng: m.value,
        Uniform: lambda m, rng: rng.uniform(m.low, m.high),
        Exponential: lambda m, rng: rng.expovariate(1.0 / m.mean),
        Normal: lambda m, rng: max(0.0, rng.gauss(m.mean, m.stddev)),
        LogNormal: lambda m, rng: rng.lognormvariate(math.log(m.median), m.sigma),
        Pareto: lambda m, rng: m.scale * rng.paretovariate(m.shape)}


def outage_end(spec, t: float):
    ends = [o.at + o.duration for o in spec.outages if o.at <= t < o.at + o.duration]
    return ends[0] if ends else None


def even_ranges(count: int) -> list[tuple[int, int]]:
    size = (HASH_MAX + 1) // count
    return [(i * size, (i + 1) * size - 1 if i < count - 1 else HASH_MAX) for i in range(count)]


# -- the stream -------------------------------------------------------------------------------------------
class Shard:
    def __init__(self, index: int, low: int, high: int, parents: tuple) -> None:
        self.id, self.low, self.high, self.parents = f"shardId-{index:012d}", low, high, parents
        self.is_open, self.children = True, []
        self.records = []                # (key, data, arrival on the service's clock, size), in order
        self.read_calls, self.read_busy_until = [], -math.inf


class Stream:
    def __init__(self, count: int) -> None:
        self.shards: dict[str, Shard] = {}  # by id, in creation order
        for low, high in even_ranges(count):
            self.new_shard(low, high, ())

    def new_shard(self, low: int, high: int, parents: tuple) -> Shard:
        return self.shards.setdefault(f"shardId-{len(self.shards):012d}", Shard(len(self.shards), low, high, parents))

    def open_shards(self) -> list[Shard]:
        return [shard for shard in self.shards.values() if shard.is_open]

    def route(self, key: str) -> Shard:
        hash_key = int(hashlib.md5(key.encode("utf-8")).hexdigest(), 16)
        return next(s for s in self.open_shards() if s.low <= hash_key <= s.high)

    def split(self, shard: Shard, key: int) -> None:
        shard.children = [self.new_shard(shard.low, key - 1, (shard.id,)), self.new_shard(key, shard.high, (shard.id,))]
        shard.is_open = False

    def merge(self, shard: Shard, adjacent: Shard) -> None:
        child = self.new_shard(min(shard.low, adjacent.low), max(shard.high, adjacent.high), (shard.id, adjacent.id))
        shard.children, adjacent.children = [child], [child]
        shard.is_open = adjacent.is_open = False

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
class Naive:
    def __init__(self, spec) -> None:
        self.size, self.slide = spec.windowing.size_us, spec.windowing.slide_us
        self.cells: dict = {}            # (window start, key) → count, over all shards
        self.calls, self.late = [], []
        self.emitted_rows = self.peak_state_cells = self.records_counted = 0

    def starts(self, ts: int) -> range:
        last = ts - ts % self.slide
        return range(last - self.size + self.slide, last + 1, self.slide)

    def take(self, shard_id: str, records: list, now_us: int) -> None:
        changed = set()
        for key, ts in records:
            for start in self.starts(ts):
                self.cells[(start, key)] = self.cells.get((start, key), 0) + 1
                changed.add((start, key))
            self.records_counted += 1
        self.peak_state_cells = max(self.peak_state_cells, len(self.cells))
        self.emitted_rows += len(self.cells)
        for start, key in sorted(changed):
            self.calls.append((start, key, self.cells[(start, key)], now_us))

    def close(self, now_us: int) -> None:  # the naive counter holds nothing back
        return


class Buffered(Naive):
    def __init__(self, spec) -> None:
        super().__init__(spec)
        params = dict(spec.params)
        self.grace, self.lateness = (round(parse_duration(params.get(name, 0)) * 1_000_000)
                                     for name in ("grace", "allowed_lateness"))
        self.state: dict = {}            # shard id → [max_ts, {window start: {key: count}}, starts fired]
        self.held = 0                    # cells held, over all shards

    def take(self, shard_id: str, records: list, now_us: int) -> None:
        state = self.state.setdefault(shard_id, [-math.inf, {}, set()])
        for key, ts in records:
            max_ts, windows, fired = state
            watermark, counted = max_ts - self.grace, False
            for start in self.starts(ts):
                if watermark >= start + self.size + self.lateness:
                    continue             # evicted
                if start not in windows:
                    windows[start] = {}
                    if watermark >= start + self.size:
                        fired.add(start)  # passed while empty: its counts are corrections
                if key not in windows[start]:
                    self.held += 1
                windows[start][key] = windows[start].get(key, 0) + 1
                counted = True
                if start in fired:
                    self.report(start, key, windows[start][key], now_us)
            if not counted:
                self.late.append((shard_id, key, ts, watermark - ts, now_us))
                continue
            self.records_counted += 1
            self.peak_state_cells = max(self.peak_state_cells, self.held)
            if ts > max_ts:
                state[0] = ts
                self.advance(state, ts - self.grace, now_us)

    def report(self, start: int, key: str, count: int, now_us: int) -> None:
        self.emitted_rows += 1
        self.calls.append((start, key, count, now_us))

    def advance(self, state: list, watermark: float, now_us: int) -> None:
        _, windows, fired = state
        for start in sorted(windows):
            if start not in fired and start + self.size <= watermark:
                for key in sorted(windows[start]):
                    self.report(start, key, windows[start][key], now_us)
                fired.add(start)
        for start in sorted(windows):
            if start in fired and start + self.size + self.lateness <= watermark:
                self.held -= len(windows.pop(start))
                fired.discard(start)

    def close(self, now_us: int) -> None:
        for shard_id in sorted(self.state):
            self.advance(self.state[shard_id], math.inf, now_us)


# -- the run ----------------------------------------------------------------------------------------------
class Run:
    def __init__(self, scenario: Scenario, update_delay: float, throttling: bool, actions) -> None:
        self.s, self.update_delay, self.throttling = scenario, update_delay, throttling
        self.start_s = scenario.start_us / 1_000_000
        self.stream = Stream(scenario.stream.shards)
        self.pending = None              # (completion in seconds after the start, change) of a reshard under way
        self.events, self.seq = [], 0    # heap of (time, phase, (producer, record, attempt) or seq, kind, arg)
        self.waiting = 0                 # attempts in the heap
        self.produced = self.delivered = self.throttled_puts = self.polls = self.throttled_polls = 0
        self.last_delivery, self.ended = 0.0, None
        self.counters = [Naive(c) if c.kind == "naive" else Buffered(c) for c in scenario.counters]
        self.pollers: dict = {}          # shard id → [shard, next index to read, iterator issued at (absolute)]
        self.caught_up_at: dict = {}     # shard id → its poller's last caught-up poll, or None
        self.finished: set = set()       # closed shards read to their ends
        self.rngs, self.next_k = [], [0] * len(scenario.producers)
        for p, spec in enumerate(scenario.producers):
            prefix = f"kinsim/{scenario.seed}/producer/{spec.name}/"
            self.rngs.append({kind: random.Random(prefix + kind) for kind in ("lag", "jitter", "backoff")})
            created = spec.offset + self.jitter(p)
            self.create(p, created)
            while spec.pacing is Pacing.FIXED and created < scenario.duration:
                created = spec.offset + self.next_k[p] * spec.interval + self.jitter(p)
                self.create(p, created)
        self.schedule(scenario.consumer.start, FIRST_STEP, "consumer", None)
        for action in actions:
            self.schedule(action[0], LATER, "action", action)

    def schedule(self, t: float, phase: int, kind: str, arg, order=None) -> None:
        heapq.heappush(self.events, (t, phase, self.seq if order is None else order, kind, arg))
        self.seq += 1

    # -- producers ----------------------------------------------------------------------------------------
    def jitter(self, p: int) -> float:
        spec = self.s.producers[p]
        return self.rngs[p]["jitter"].uniform(0.0, spec.jitter) if spec.jitter else 0.0

    def retry(self, at: float, p: int, k: int, tries: int, tag: int) -> None:
        self.schedule(at, ATTEMPT, "attempt", tag, order=(p, k, tries))
        self.waiting += 1

    def create(self, p: int, created: float) -> None:
        if created >= self.s.duration:
            return
        spec = self.s.producers[p]
        held = outage_end(spec, created)
        first = (created if held is None else held) + LAGS[type(spec.lag)](spec.lag, self.rngs[p]["lag"])
        tag = self.s.start_us + round(created * 1_000_000) + round(spec.clock_skew * 1_000_000)
        self.retry(first, p, self.next_k[p], 0, tag)
        self.next_k[p] += 1
        self.produced += 1

    def attempt(self, at: float, p: int, k: int, tries: int, tag: int) -> None:
        spec, rng = self.s.producers[p], self.rngs[p]["backoff"]
        held = outage_end(spec, at) if tries else None
        if held is not None:
            self.retry(held + LAGS[type(spec.lag)](spec.lag, rng), p, k, tries, tag)
        elif not self.put(at, spec.partition_key, tag):
            self.throttled_puts += 1
            self.retry(at + min(5.0, 0.1 * 2**tries) * (0.5 + rng.random() / 2), p, k, tries + 1, tag)
        else:
            self.delivered += 1
            self.last_delivery = max(self.last_delivery, at)
            if spec.pacing is Pacing.AFTER_PUT:
                self.create(p, at + spec.interval + self.jitter(p))

    def put(self, at: float, key: str, tag: int) -> bool:
        now, shard = self.start_s + at, self.stream.route(key)
        data = (EPOCH + timedelta(microseconds=tag)).isoformat(timespec="microseconds").encode("ascii")
        size = len(data) + len(key.encode("utf-8"))
        first = bisect_right(shard.records, now - 1.0, key=lambda r: r[2])  # the records of (now - 1, now]
        if self.throttling and (len(shard.records) - first >= 1000 or
                                sum(r[3] for r in shard.records[first:]) + size > MiB):
            return False
        shard.records.append((key, data, now, size))
        return True

    # -- the consumer -------------------------------------------------------------------------------------
    def start_poller(self, shard: Shard, t: float, latest: bool) -> None:
        """Its iterator (LATEST: after all the shard holds, as nothing arrives before its first step, at t)."""
        self.caught_up_at[shard.id] = None
        self.pollers[shard.id] = [shard, len(shard.records) if latest else 0, self.start_s + t]
        self.schedule(t, FIRST_STEP, "poll", shard.id)

    def poll(self, shard_id: str, t: float) -> None:
        poller, now = self.pollers[shard_id], self.start_s + t
        if now - poller[2] > 300.0:
            poller[2] = now              # expired: renewed where it was (after the last record read)
        shard, position, _ = poller
        if self.throttling:
            calls = [c for c in shard.read_calls if c > now - 1.0]
            if len(calls) >= 5 or shard.read_busy_until > now:
                self.throttled_polls += 1
                self.schedule(t + 1.0, LATER, "poll", shard_id)
                return
            shard.read_calls = calls + [now]
        stop, size = position, 0
        while stop < len(shard.records) and stop - position < self.s.consumer.limit and \
                size + shard.records[stop][3] <= 10 * MiB:
            size += shard.records[stop][3]
            stop += 1
        if self.throttling:
            shard.read_busy_until = max(shard.read_busy_until, now - 1.0) + size / (2 * MiB)
        poller[1:] = [stop, now]
        self.polls += 1
        if stop > position:
            events = [(key, (datetime.fromisoformat(data.decode()) - EPOCH) // timedelta(microseconds=1))
                      for key, data, _, _ in shard.records[position:stop]]
            for counter in self.counters:
                counter.take(shard_id, events, self.s.start_us + round(t * 1_000_000))
        if not shard.is_open and stop == len(shard.records):
            self.finished.add(shard_id)  # read to its end: on to the children whose parents are all done
            del self.caught_up_at[shard_id]
            for child in shard.children:
                if child.id not in self.caught_up_at and all(p in self.finished for p in child.parents):
                    self.start_poller(child, t, latest=False)
        else:
            caught_up = stop == len(shard.records) and stop - position < self.s.consumer.limit
            self.caught_up_at[shard_id] = t if caught_up else None
        if self.ended is None and not self.waiting and \
                all(at is not None and at >= self.last_delivery for at in self.caught_up_at.values()):
            self.ended = t               # the end of input
            for counter in self.counters:
                counter.close(self.s.start_us + round(t * 1_000_000))
        if self.ended is None and shard_id in self.caught_up_at:
            self.schedule(t + self.s.consumer.poll_interval, LATER, "poll", shard_id)

    # -- the whole run ------------------------------------------------------------------------------------
    def run(self) -> Outcome:
        while self.events:
            t, _, order, kind, arg = heapq.heappop(self.events)
            if self.pending is not None and self.pending[0] <= t:
                self.pending[1]()        # step 1: a reshard completes
                self.pending = None
            if kind == "attempt":
                self.waiting -= 1
                self.attempt(t, *order, arg)
            elif kind == "action":       # takes effect update_delay later (with 0, before the next event)
                change = self.stream.change(arg, updating=self.pending is not None)
                if change is not None:
                    self.pending = (t + self.update_delay, change)
            elif self.ended is not None:
                continue                 # input has ended: pollers stop
            elif kind == "consumer":
                latest = self.s.consumer.iterator.value == "LATEST"
                for shard in self.stream.open_shards():
                    self.start_poller(shard, t, latest)
            else:
                self.poll(arg, t)
        if self.ended is None or self.ended >= 86_400:
            raise RuntimeError("the model stopped before its input ended, or ran past retention (24 h)")
        if self.pending is not None:
            self.pending[1]()            # a reshard still under way completes after the end
        return Outcome(
            self.produced, self.delivered, self.throttled_puts, self.polls, self.throttled_polls, self.ended,
            tuple(ShardOutcome(s.id, s.parents, s.is_open,
                               tuple((k, d, round(a - self.start_s, 6)) for k, d, a, _ in s.records))
                  for s in self.stream.shards.values()),
            tuple(CounterOutcome(spec.name, tuple(c.calls), tuple(c.late), c.emitted_rows, c.peak_state_cells,
                                 c.records_counted) for spec, c in zip(self.s.counters, self.counters)))


def reference(scenario: Scenario, *, update_delay: float = 0.0, throttling: bool = True, actions=()) -> Outcome:
    """Play ``scenario`` record by record. ``actions`` are ``(at, "split", shard_id, new_starting_hash_key)``,
    ``(at, "merge", shard_id, adjacent_shard_id)`` or ``(at, "update_shard_count", target)``, ``at`` in
    seconds after the start; a reshard takes effect ``update_delay`` seconds after it is asked for."""
    return Run(scenario, update_delay, throttling, sorted(actions, key=lambda a: a[0])).run()

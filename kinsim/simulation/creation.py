"""Records of fixed-pacing producers, created ahead of delivery in chunks (``Schedule``).

Creation does not depend on delivery, so the traffic asks for every record due by some time and gets
them ``CREATE_AHEAD_S`` further, as first attempts split by lane (``FreshAttempts``). Only the producers
due in a chunk are visited, in scenario order: their next creation times wait in sorted runs, one run
per chunk that made them, and a chunk takes a prefix of each run due by then (no heap operation and no
object per producer and chunk).

A producer with many records in a chunk makes them in columns, numpy arrays for its lane (``_run``).
Those with few (a group's members, or many producers writing now and then) have them made all at once,
over arrays of their parameters (``SparseProducers``), when their records are plain, or jittered and
one in the chunk; any other (outages, keys drawn from a population, two jittered records) makes them in
a loop of its own (``_few``). So what a record costs does not grow with the producers. Every way gives
the same records, to the bit: record ``k`` is created at ``offset + k x interval`` (plus its jitter), its
lag drawn in record order, arriving at its creation (or its outage's end) plus its lag.
"""

from __future__ import annotations

import heapq
from itertools import repeat
from operator import add, mul
from typing import Callable, Optional, Sequence

import numpy as np

from .lanes import FreshAttempts
from .members import KeyTable, Member
from .sparse import SparseProducers

__all__ = ["Schedule", "CREATE_AHEAD_S", "FEW_RECORDS"]

CREATE_AHEAD_S = 30.0
FEW_RECORDS = 12  # a producer with fewer records than this in a chunk makes them one by one
_MILLION = 1_000_000.0


class Schedule:
    """The fixed-pacing producers' next creations, and the chunks of records they make.

    The next creations wait in sorted runs (a run: the producers' next creation times from one chunk, in
    time order, beside the producers', as arrays), in a heap by each run's first time: a chunk takes every
    run's prefix due by its horizon, a slice and a bisection each, with no heap operation per record."""

    def __init__(self, producers: list[Member], start_us: int, keys: KeyTable,
                 on_created: Callable, lanes_of: Callable[[Sequence[int]], list[str]],
                 produced: Callable[[int], None]) -> None:
        self._producers = producers
        self._start_us = start_us
        self._keys = keys
        self._on_created = on_created
        self._lanes_of = lanes_of
        self._produced = produced
        self._runs: list[tuple[float, int, _Run]] = []  # a heap: (the run's first time, its number, the run)
        self._numbered = 0                               # runs made so far (ties in the heap go by number)
        self._starting: tuple[list[float], list[int]] = ([], [])  # producers started, not yet in a run
        self._created_until = float("-inf")              # records are created up to here
        self._next = np.zeros(len(producers), np.int64)  # by producer: its next record's number
        self._sparse = SparseProducers(producers, start_us, self._next)
        self.few_records = FEW_RECORDS

    def start(self, producer: Member, first: float) -> None:
        """A producer whose first record is created at ``first`` (before it stops)."""
        self._starting[0].append(first)
        self._starting[1].append(producer.index)

    def _add_run(self, times: np.ndarray, producers: np.ndarray) -> None:
        """Next creation times, and whose they are, as one run."""
        if len(times):
            order = times.argsort(kind="stable")  # equal times in the order given (``_take`` sorts by producer)
            run = _Run(times[order], producers[order])
            heapq.heappush(self._runs, (float(run.times[0]), self._numbered, run))
            self._numbered += 1

    def next_due(self) -> Optional[float]:
        if self._starting[0]:
            self._add_run(np.array(self._starting[0], np.float64), np.array(self._starting[1], np.int64))
            self._starting = ([], [])
        return self._runs[0][0] if self._runs else None

    def _take(self, horizon: float) -> tuple[np.ndarray, np.ndarray]:
        """Every producer whose next creation is by ``horizon``, and when, in producer order (each producer
        waits in one run, once)."""
        runs, times, producers = self._runs, [], []
        while runs and runs[0][0] <= horizon:
            _, number, run = heapq.heappop(runs)
            head = run.head
            cut = head + int(run.times[head:].searchsorted(horizon, side="right"))
            times.append(run.times[head:cut])
            producers.append(run.producers[head:cut])
            run.head = cut
            if cut < len(run.times):
                if cut > len(run.times) // 2:  # what was taken goes, so a run holds at most twice what waits
                    run.times, run.producers, run.head = run.times[cut:], run.producers[cut:], 0
                heapq.heappush(runs, (float(run.times[run.head]), number, run))
        if not times:
            return np.zeros(0, np.int64), np.zeros(0, np.float64)
        numbers = np.concatenate(producers)
        order = numbers.argsort()  # each producer once: no ties
        return numbers[order], np.concatenate(times)[order]

    def create(self, until: float) -> dict[str, FreshAttempts]:
        """Every record due by ``until`` and not yet made, and those of the next ``CREATE_AHEAD_S``, as
        first attempts by lane."""
        if until < self._created_until:
            return {}
        self.next_due()  # producers started since, into a run
        horizon = until + CREATE_AHEAD_S
        fresh: dict[str, FreshAttempts] = {}
        drawn, keys, events = FreshAttempts.empty(), [], []
        next_times, next_producers = [], []
        due, due_times = self._take(horizon)
        # producer p's own key is key p (``KeyTable``): their lanes in one call (a drawing producer's is unused)
        lanes = self._lanes_of(due.tolist())
        # the records of producers that make few, all at once where they can be (``SparseProducers``)
        left, sparse_next, seconds = self._sparse.make(due, due_times, horizon, self.few_records, lanes, fresh, keys,
                                                       events)
        for i, index, created in zip(left.tolist(), due[left].tolist(), due_times[left].tolist()):
            lane = lanes[i]
            producer = self._producers[index]
            group = producer.group
            if (horizon - created) / group.interval >= self.few_records:
                after = self._run(producer, created, horizon, fresh)
            else:
                after = self._few(producer, created, horizon, fresh, lane, drawn, keys, events, seconds.get(i))
            if after is not None:
                next_times.append(after)
                next_producers.append(index)
        self._add_run(np.concatenate((sparse_next[0], np.array(next_times, np.float64))),
                      np.concatenate((sparse_next[1], np.array(next_producers, np.int64))))
        self._created_until = horizon
        if keys:
            self._produced(len(keys))
            self._on_created(list(map(self._keys.texts.__getitem__, keys)), events)
        if drawn.times:
            self._split(drawn.keys, drawn.times, drawn.producers, drawn.records, drawn.stamps_us, fresh)
        return fresh

    # -- a few at a time ---------------------------------------------------------------------------------
    def _few(self, producer: Member, created: float, until: float, fresh: dict[str, FreshAttempts], lane: str,
             drawn: FreshAttempts, keys: list[int], events: list[int],
             second: Optional[float] = None) -> Optional[float]:
        """A producer's records from the one created at ``created`` on, while created by ``until`` (the
        same values ``_run`` makes): their first attempts into their lane's columns (or, for keys drawn
        from a population, into ``drawn``, split by lane at the end), their keys and event times into
        ``keys`` and ``events``; when its next one is created. ``lane``: its own key's. ``second``: when
        the record after the first is created, if its jitter is drawn already (``SparseProducers``)."""
        group, start_us = producer.group, self._start_us
        spec = group.spec
        offset, interval, stops, step = spec.offset, spec.interval, group.stops, group.whole_step_us
        first_k = k = int(self._next[producer.index])
        next_created: Optional[float] = created
        times = []
        while created <= until:
            times.append(created)
            k += 1
            if second is not None:
                created, second = second, None
            else:
                created = offset + k * interval
                if spec.jitter:
                    created += producer.jitter()
            if created >= stops:
                next_created = None
                break
            next_created = created
        count = k - first_k
        self._next[producer.index] = k
        lags = producer.lags(first_k, count)  # its own generators: jitter and lag drawn apart
        sent = _sent(spec, times)
        if step is not None:
            first = start_us + group.offset_us + first_k * step
            made = range(first, first + count * step, step)
        else:
            made = [start_us + round(c * _MILLION) for c in times]
        events += made
        key = producer.key
        if key is None:
            attempts = drawn
            attempts.keys.extend(producer.draw_keys(count))
            keys += attempts.keys[-count:]
        else:
            attempts = fresh.get(lane)
            if attempts is None:
                attempts = fresh[lane] = FreshAttempts.empty()
            attempts.keys.extend(repeat(key, count))
            keys.extend(repeat(key, count))
        attempts.times.extend(map(add, sent, lags))
        attempts.producers.extend(repeat(producer.index, count))
        attempts.records.extend(range(first_k, k))
        attempts.stamps_us.extend(made if not group.skew_us else map(add, made, repeat(group.skew_us)))
        return next_created

    # -- in columns -------------------------------------------------------------------------------------
    def _run(self, producer: Member, created: float, until: float, fresh: dict[str, FreshAttempts]) -> Optional[float]:
        """One producer's records from the one created at ``created`` on, while due by ``until``; when its
        next one is created (None: it has made its last)."""
        group = producer.group
        spec, duration = group.spec, group.stops
        first_k = int(self._next[producer.index])
        next_created: Optional[float]
        if spec.jitter:
            times: Optional[list[float]] = []
            while created <= until:
                times.append(created)
                created = spec.offset + (first_k + len(times)) * spec.interval + producer.jitter()
                if created >= duration:
                    break
            count = len(times)
            next_created = created if created < duration else None
        else:
            offset, interval = spec.offset, spec.interval
            last = min(until, duration)
            k = first_k + max(0, int((last - offset) / interval) - first_k)
            while offset + (k + 1) * interval <= until and offset + (k + 1) * interval < duration:
                k += 1  # the float formula decides, not the division
            while k >= first_k and not (offset + k * interval <= until and offset + k * interval < duration):
                k -= 1
            times = None  # record j is created at offset + j x interval, for j in first_k..k
            count = k + 1 - first_k
            next_created = offset + (k + 1) * interval
            if next_created >= duration:
                next_created = None
        self._next[producer.index] = first_k + count
        self._launch(producer, first_k, count, times, fresh)
        return next_created

    def _launch(self, producer: Member, first_k: int, count: int, times: Optional[list[float]],
                fresh: dict[str, FreshAttempts]) -> None:
        """Event times and first attempts of records ``first_k`` on, created at ``times`` (None: on the
        producer's fixed schedule, offset + k x interval)."""
        group, start_us = producer.group, self._start_us
        spec = group.spec
        offset, interval = spec.offset, spec.interval
        lags = producer.lags(first_k, count)
        if times is None and (spec.outages or group.whole_step_us is None):
            times = [offset + j * interval for j in range(first_k, first_k + count)]
        if group.whole_step_us is not None and count:
            # whole-microsecond offset and interval: the float formula's rounding lands on these integers
            step = group.whole_step_us
            first = start_us + group.offset_us + first_k * step
            events = list(range(first, first + count * step, step))
        else:
            events = list(map(add, repeat(start_us), map(round, map(mul, times, repeat(_MILLION)))))
        skew, index, key = group.skew_us, producer.index, producer.key
        self._produced(count)
        if key is None:
            if times is None:
                arrivals = [offset + j * interval + lag for j, lag in zip(range(first_k, first_k + count), lags)]
            else:
                arrivals = list(map(add, _sent(spec, times), lags))
            stamps = events if not skew else list(map(add, events, repeat(skew)))
            keys = producer.draw_keys(count)
            self._on_created(list(map(self._keys.texts.__getitem__, keys)), events)
            self._split(keys, arrivals, repeat(index, count), range(first_k, first_k + count), stamps, fresh)
            return
        numbers = np.arange(first_k, first_k + count, dtype=np.int64)
        if times is None:  # created on schedule and sent at once: arrival = creation + lag, in one pass
            arrivals_np = offset + numbers * interval + np.array(lags)
        else:
            arrivals_np = np.array(_sent(spec, times)) + np.array(lags)
        if group.whole_step_us is not None and count:
            stamps_np = np.arange(first + skew, first + skew + count * step, step, dtype=np.int64)
        else:
            stamps_np = np.array(events, dtype=np.int64) + skew
        lane = self._lanes_of((key,))[0]
        attempts = fresh.get(lane)
        if attempts is None:
            attempts = fresh[lane] = FreshAttempts.empty()
        own = np.full(count, index, np.uint32)  # producer p's own key is key p (``KeyTable``)
        attempts.parts.append((arrivals_np, own, numbers, stamps_np, own))
        self._on_created(self._keys.texts[key], events)

    def _split(self, keys: list[int], times: list[float], producers, records, stamps_us: list[int],
               fresh: dict[str, FreshAttempts]) -> None:
        """First attempts of records of many keys, column by column, split by their keys' lanes."""
        producers, records = list(producers), list(records)
        by_lane: dict[str, list[int]] = {}
        for i, lane in enumerate(self._lanes_of(keys)):
            picked = by_lane.get(lane)
            if picked is None:
                picked = by_lane[lane] = []
            picked.append(i)
        for lane, picked in by_lane.items():
            attempts = fresh.get(lane)
            if attempts is None:
                attempts = fresh[lane] = FreshAttempts.empty()
            for column, values in zip(attempts.columns(), (times, producers, records, stamps_us, keys)):
                column.extend(map(values.__getitem__, picked))


def _sent(spec, times: list[float]) -> list[float]:
    """When records created at ``times`` are sent: at once (``times`` itself, for a producer without
    outages), or at the end of the outage they fall in."""
    if not spec.outages:
        return times
    return [c if (end := spec.outage_end(c)) is None else end for c in times]


class _Run:
    """Next creation times from one chunk, in time order, beside their producers (arrays); ``head``: the
    first still waiting."""

    __slots__ = ("times", "producers", "head")

    def __init__(self, times: np.ndarray, producers: np.ndarray) -> None:
        self.times, self.producers, self.head = times, producers, 0

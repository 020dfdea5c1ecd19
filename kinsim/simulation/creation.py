"""Records of fixed-pacing producers, created ahead of delivery in chunks (``Schedule``).

Creation does not depend on delivery, so the traffic asks for every record due by some time and gets
them ``CREATE_AHEAD_S`` further, as first attempts split by lane (``FreshAttempts``). Only the producers
due in a chunk are visited (a heap of their next creation times), in scenario order.

A producer with many records in a chunk makes them in columns, in C loops (``_run``); one with few
(a group's member writing now and then) makes them one by one into columns shared by all such
producers of the chunk (``_few``), so what each record costs does not grow with the producers. Both
ways give the same records, to the bit: record ``k`` is created at ``offset + k x interval`` (plus
its jitter), its lag drawn in record order, arriving at its creation (or its outage's end) plus its lag.
"""

from __future__ import annotations

import heapq
from itertools import repeat
from operator import add, itemgetter, mul
from typing import Callable, Optional, Sequence

from .lanes import FreshAttempts
from .members import KeyTable, Member

__all__ = ["Schedule", "CREATE_AHEAD_S", "FEW_RECORDS"]

CREATE_AHEAD_S = 30.0
FEW_RECORDS = 4  # a producer with at most this many records in a chunk makes them one by one
_MILLION = 1_000_000.0


class Schedule:
    """The fixed-pacing producers' next creations, and the chunks of records they make."""

    def __init__(self, producers: list[Member], start_us: int, keys: KeyTable,
                 on_created: Callable, lanes_of: Callable[[Sequence[int]], list[str]],
                 produced: Callable[[int], None]) -> None:
        self._producers = producers
        self._start_us = start_us
        self._keys = keys
        self._on_created = on_created
        self._lanes_of = lanes_of
        self._produced = produced
        self._due: list[float] = []               # a heap of the producers' next creation times, each once
        self._at: dict[float, list[int]] = {}     # creation time → the producers whose next record it is
        self._created_until = float("-inf")       # records are created up to here
        self.few_records = FEW_RECORDS

    def start(self, producer: Member, first: float) -> None:
        """A producer whose first record is created at ``first`` (before it stops)."""
        self._next(first, producer.index)

    def _next(self, created: float, index: int) -> None:
        waiting = self._at.get(created)
        if waiting is None:
            self._at[created] = [index]
            heapq.heappush(self._due, created)
        else:
            waiting.append(index)

    def next_due(self) -> Optional[float]:
        return self._due[0] if self._due else None

    def create(self, until: float) -> dict[str, FreshAttempts]:
        """Every record due by ``until`` and not yet made, and those of the next ``CREATE_AHEAD_S``, as
        first attempts by lane."""
        if until < self._created_until:
            return {}
        horizon = until + CREATE_AHEAD_S
        due, heap = [], self._due
        while heap and heap[0] <= horizon:
            created = heapq.heappop(heap)
            due += zip(repeat(created), self._at.pop(created))
        fresh: dict[str, FreshAttempts] = {}
        few, events = FreshAttempts.empty(), []
        for created, index in sorted(due, key=itemgetter(1)):
            producer = self._producers[index]
            if (horizon - created) / producer.group.spec.interval < self.few_records:
                next_created = self._few(producer, created, horizon, few, events)
            else:
                next_created = self._run(producer, created, horizon, fresh)
            if next_created is not None:
                self._next(next_created, index)
        self._created_until = horizon
        if few.times:
            self._produced(len(few.times))
            self._on_created(list(map(self._keys.texts.__getitem__, few.keys)), events)
            self._split(few.keys, few.times, few.producers, few.records, few.stamps_us, fresh)
        return fresh

    # -- one by one -------------------------------------------------------------------------------------
    def _few(self, producer: Member, created: float, until: float, few: FreshAttempts,
             events: list[int]) -> Optional[float]:
        """A producer's records from the one created at ``created`` on, while created by ``until``, one by
        one into ``few`` and ``events`` (the same values ``_run`` makes); when its next one is created."""
        group, start_us = producer.group, self._start_us
        spec = group.spec
        offset, interval, stops, step = spec.offset, spec.interval, group.stops, group.whole_step_us
        lag, rng = spec.lag, producer.lag_rng
        first_k = k = producer.next_record
        next_created: Optional[float] = created
        while created <= until:
            event = start_us + group.offset_us + k * step if step is not None else start_us + round(created * _MILLION)
            held = spec.outage_end(created) if spec.outages else None
            few.times.append((created if held is None else held) + lag.sample(rng))
            events.append(event)
            k += 1
            created = offset + k * interval
            if spec.jitter:
                created += producer.jitter()
            if created >= stops:
                next_created = None
                break
            next_created = created
        count = k - first_k
        producer.next_record = k
        few.producers.extend(repeat(producer.index, count))
        few.records.extend(range(first_k, k))
        few.stamps_us.extend(events[-count:] if not group.skew_us else map(add, events[-count:], repeat(group.skew_us)))
        few.keys.extend(repeat(producer.key, count) if producer.key is not None else producer.draw_keys(count))
        return next_created

    # -- in columns -------------------------------------------------------------------------------------
    def _run(self, producer: Member, created: float, until: float, fresh: dict[str, FreshAttempts]) -> Optional[float]:
        """One producer's records from the one created at ``created`` on, while due by ``until``; when its
        next one is created (None: it has made its last)."""
        group = producer.group
        spec, duration = group.spec, group.stops
        first_k = producer.next_record
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
        producer.next_record = first_k + count
        self._launch(producer, first_k, count, times, fresh)
        return next_created

    def _launch(self, producer: Member, first_k: int, count: int, times: Optional[list[float]],
                fresh: dict[str, FreshAttempts]) -> None:
        """Event times and first attempts of records ``first_k`` on, created at ``times`` (None: on the
        producer's fixed schedule, offset + k x interval)."""
        group, start_us = producer.group, self._start_us
        spec = group.spec
        offset, interval = spec.offset, spec.interval
        lags = spec.lag.samples(producer.lag_rng, count)
        if times is None and (spec.outages or group.whole_step_us is None):
            times = [offset + j * interval for j in range(first_k, first_k + count)]
        if group.whole_step_us is not None and count:
            # whole-microsecond offset and interval: the float formula's rounding lands on these integers
            step = group.whole_step_us
            first = start_us + group.offset_us + first_k * step
            events = list(range(first, first + count * step, step))
        else:
            events = list(map(add, repeat(start_us), map(round, map(mul, times, repeat(_MILLION)))))
        if times is None:  # created on schedule and sent at once: arrival = creation + lag, in one pass
            arrivals = [offset + j * interval + lag for j, lag in zip(range(first_k, first_k + count), lags)]
        elif spec.outages:
            ends = [spec.outage_end(c) for c in times]
            arrivals = list(map(add, [c if end is None else end for c, end in zip(times, ends)], lags))
        else:
            arrivals = list(map(add, times, lags))
        skew, index, key = group.skew_us, producer.index, producer.key
        stamps = events if not skew else list(map(add, events, repeat(skew)))
        self._produced(count)
        records = range(first_k, first_k + count)
        if key is None:
            keys = producer.draw_keys(count)
            self._on_created(list(map(self._keys.texts.__getitem__, keys)), events)
            self._split(keys, arrivals, repeat(index, count), records, stamps, fresh)
            return
        lane = self._lanes_of((key,))[0]
        attempts = fresh.get(lane)
        if attempts is None:
            attempts = fresh[lane] = FreshAttempts.empty()
        attempts.times.extend(arrivals)
        attempts.producers.extend(repeat(index, count))
        attempts.records.extend(records)
        attempts.stamps_us.extend(stamps)
        attempts.keys.extend(repeat(key, count))
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
            for column, values in zip(attempts, (times, producers, records, stamps_us, keys)):
                column.extend(map(values.__getitem__, picked))

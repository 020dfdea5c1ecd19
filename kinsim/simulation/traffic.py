"""Producers and the network between them and the stream: one process on the timeline.

The order of everything is defined, so a run is the same however the attempts are grouped (DESIGN §3:
at one instant, scenario order, then sequence):

- producer ``p`` numbers its records ``k = 0, 1, ...``. With ``pacing: fixed`` record ``k`` is created at
  ``offset + k x interval + jitter_k``; with ``after_put`` the first at ``offset + jitter_0`` and each next
  one ``interval + jitter`` after the previous put succeeded. Only records created before ``duration`` (or
  the producer's ``until``)
  exist. Jitter and lag are drawn from the producer's own generators, in ``k`` order;
- a record created during an outage is sent when the outage ends; it reaches the stream ``lag_k``
  later: that is its first attempt. An attempt the stream throttles is tried again after a capped
  exponential backoff with jitter (drawn from the producer's backoff generator, as retries happen);
  a retry that falls in an outage waits for its end and a fresh lag from the same generator;
- attempts run in order of (time, producer, record number, tries) within a lane (a shard); the
  attempts due at an instant reach the stream before anyone else acts at that instant (``TRAFFIC``).

The process wakes when the next attempt is due and delivers every attempt due before the timeline's
next other event (``Timeline.horizon``): nobody can look at the stream in between. Fixed-pacing records
are created ahead, in chunks, into per-lane sorted columns; a run of them goes to the stream in one
call, which takes the longest prefix the shard admits (``StreamWriter.append``); retries and after-put
records wait in a heap and go one by one, merged in order.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from itertools import repeat
from operator import add, mul
from typing import Callable, Generator, Optional

from ..scenario import Pacing, ProducerSpec, Scenario
from .lanes import Attempt, DueAttempts, FreshAttempts, Lane
from .tally import MinuteTally
from .timeline import TRAFFIC, Timeline
from .writers import LOST, StreamWriter

__all__ = ["Traffic", "TrafficStats"]

BACKOFF_BASE_S = 0.1
BACKOFF_CAP_S = 5.0
CREATE_AHEAD_S = 30.0
LOOKAHEAD_S = 60.0  # at most this far ahead of now, even when nothing else is scheduled
THROTTLED_RUN = 16  # attempts per call once a shard has refused one
_MILLION = 1_000_000.0


@dataclass
class TrafficStats:
    produced: int = 0
    delivered: int = 0
    throttled_puts: int = 0
    possible_duplicates: int = 0  # records sent again after an answer was lost (never on simulated shards)
    last_delivery: float = 0.0    # seconds after start
    done: bool = False            # every record created and delivered
    arrived: MinuteTally = field(default_factory=MinuteTally)    # records in, by arrival time
    throttled: MinuteTally = field(default_factory=MinuteTally)  # puts refused, by attempt time


class _Producer:
    __slots__ = ("index", "spec", "stops", "lag_rng", "jitter_rng", "backoff_rng", "next_record", "skew_us", "offset_us",
                 "whole_step_us")

    def __init__(self, index: int, spec: ProducerSpec, seed: int, duration: float) -> None:
        self.index = index
        self.spec = spec
        self.stops = spec.stops(duration)  # records are created before this
        self.lag_rng = random.Random(f"kinsim/{seed}/producer/{spec.name}/lag")
        self.jitter_rng = random.Random(f"kinsim/{seed}/producer/{spec.name}/jitter")
        self.backoff_rng = random.Random(f"kinsim/{seed}/producer/{spec.name}/backoff")
        self.next_record = 0
        self.skew_us = round(spec.clock_skew * 1_000_000)
        # with no jitter and whole microseconds, record k's event time is offset + k x interval exactly
        self.offset_us = round(spec.offset * 1_000_000)
        step = round(spec.interval * 1_000_000)
        exact = not spec.jitter and self.offset_us / 1_000_000 == spec.offset and step / 1_000_000 == spec.interval
        self.whole_step_us: Optional[int] = step if exact and step > 0 else None

    def jitter(self) -> float:
        return self.jitter_rng.uniform(0.0, self.spec.jitter) if self.spec.jitter else 0.0

    def backoff(self, tries: int) -> float:
        return min(BACKOFF_CAP_S, BACKOFF_BASE_S * 2**tries) * (0.5 + self.backoff_rng.random() / 2)


class Traffic:
    """Creates every producer's records and puts them into the stream, on the timeline."""

    def __init__(self, scenario: Scenario, writer: StreamWriter, seed: int, timeline: Timeline,
                 on_created: Callable[[str, list[int]], None]) -> None:
        self.scenario = scenario
        self._start_us = scenario.start_us
        self.writer = writer
        self.timeline = timeline
        self.on_created = on_created
        self.stats = TrafficStats()
        self._producers = [_Producer(i, spec, seed, scenario.duration) for i, spec in enumerate(scenario.producers)]
        self._fixed = [p for p in self._producers if p.spec.pacing is Pacing.FIXED]
        self._fixed_next: dict[int, float] = {}        # producer → creation time of its next record
        self._created_until = float("-inf")            # fixed-pacing records are created up to here
        self._lanes: dict[str, Lane] = {}
        self._routing_version, self._lane_of = writer.routing()
        for producer in self._producers:
            first = producer.spec.offset + producer.jitter()
            if producer.spec.pacing is Pacing.FIXED:
                if first < producer.stops:
                    self._fixed_next[producer.index] = first
            else:
                self._create_one(producer, first)

    # -- the process --------------------------------------------------------------------------------
    def run(self) -> Generator:
        """Wake when the next attempt is due; deliver what is due before anyone else acts; repeat."""
        timeline = self.timeline
        due = self.next_due()
        while due is not None:
            yield timeline.wake(max(0.0, due - timeline.now), TRAFFIC)
            horizon = timeline.horizon(LOOKAHEAD_S)
            if horizon > timeline.now:
                self._deliver(horizon, inclusive=False)
            else:
                self._deliver(timeline.now, inclusive=True)
            due = self.next_due()
            self.stats.done = due is None
        self.stats.done = True

    def next_due(self) -> Optional[float]:
        """When something next happens (a creation or an attempt), or None when all is delivered."""
        times = [t for t in (lane.next_due() for lane in self._lanes.values()) if t is not None]
        if self._fixed_next:
            times.append(min(self._fixed_next.values()))
        return min(times) if times else None

    # -- creating -------------------------------------------------------------------------------------
    def _create_one(self, producer: _Producer, created: float) -> None:
        """An after-put record: created now, its first attempt into the heap."""
        if created >= producer.stops:
            return
        spec = producer.spec
        event_us = self._start_us + round(created * 1_000_000)
        held = spec.outage_end(created) if spec.outages else None
        first = (created if held is None else held) + spec.lag.sample(producer.lag_rng)
        self.stats.produced += 1
        self.on_created(spec.partition_key, [event_us])
        self._lane(producer.index).push(Attempt(first, producer.index, producer.next_record, 0,
                                                event_us + producer.skew_us))
        producer.next_record += 1

    def _create_fixed(self, until: float) -> None:
        """Create every fixed-pacing record due by ``until``: created ahead, in chunks of ``CREATE_AHEAD_S``
        (creation does not depend on delivery, and big chunks are cheap)."""
        if until < self._created_until:
            return
        horizon = until + CREATE_AHEAD_S
        fresh: dict[str, FreshAttempts] = {}
        for producer in self._fixed:
            created = self._fixed_next.get(producer.index)
            if created is not None and created <= horizon:
                self._create_run(producer, created, horizon, fresh)
        self._created_until = horizon
        for lane, attempts in fresh.items():
            self._lane_named(lane).add(attempts)

    def _create_run(self, producer: _Producer, created: float, until: float, fresh: dict[str, FreshAttempts]) -> None:
        """One producer's records from the one created at ``created`` on, while due by ``until``."""
        spec, duration = producer.spec, producer.stops
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
        if next_created is None:
            del self._fixed_next[producer.index]
        else:
            self._fixed_next[producer.index] = next_created
        producer.next_record = first_k + count
        self._launch(producer, first_k, count, times, fresh)

    def _launch(self, producer: _Producer, first_k: int, count: int, times: Optional[list[float]],
                fresh: dict[str, FreshAttempts]) -> None:
        """Event times and first attempts of records ``first_k`` on, created at ``times`` (None: on the
        producer's fixed schedule, offset + k x interval)."""
        spec, start_us = producer.spec, self._start_us
        offset, interval = spec.offset, spec.interval
        lags = spec.lag.samples(producer.lag_rng, count)
        if times is None and (spec.outages or producer.whole_step_us is None):
            times = [offset + j * interval for j in range(first_k, first_k + count)]
        if producer.whole_step_us is not None and count:
            # whole-microsecond offset and interval: the float formula's rounding lands on these integers
            step = producer.whole_step_us
            first = start_us + producer.offset_us + first_k * step
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
        skew, index, lane = producer.skew_us, producer.index, self._lane_of[producer.index]
        attempts = fresh.get(lane)
        if attempts is None:
            attempts = fresh[lane] = FreshAttempts.empty()
        attempts.times.extend(arrivals)
        attempts.producers.extend(repeat(index, count))
        attempts.records.extend(range(first_k, first_k + count))
        attempts.stamps_us.extend(events if not skew else map(add, events, repeat(skew)))
        self.stats.produced += count
        self.on_created(spec.partition_key, events)

    # -- delivering -----------------------------------------------------------------------------------
    def _lane_named(self, name: str) -> Lane:
        lane = self._lanes.get(name)
        if lane is None:
            lane = self._lanes[name] = Lane()
        return lane

    def _lane(self, producer: int) -> Lane:
        return self._lane_named(self._lane_of[producer])

    def _relane(self) -> None:
        """The writer split producers anew (a reshard): put every waiting attempt in its new lane."""
        old, self._lanes = self._lanes, {}
        moved: dict[str, FreshAttempts] = {}
        for lane in old.values():
            for time, producer, record, stamp in zip(*lane.pending()):
                attempts = moved.get(self._lane_of[producer])
                if attempts is None:
                    attempts = moved[self._lane_of[producer]] = FreshAttempts.empty()
                for column, value in zip(attempts, (time, producer, record, stamp)):
                    column.append(value)
            for attempt in lane.waiting:
                self._lane(attempt.producer).push(attempt)
        for name, attempts in moved.items():
            self._lane_named(name).add(attempts)

    def _deliver(self, limit: float, inclusive: bool) -> None:
        """Make every attempt due before ``limit`` (at it too, when ``inclusive``), in order per lane."""
        version, lanes = self.writer.routing()
        if version != self._routing_version:
            self._routing_version, self._lane_of = version, lanes
            self._relane()
        self._create_fixed(limit)
        for name in sorted(self._lanes):
            self._deliver_lane(name, self._lanes[name], limit, inclusive)

    def _deliver_lane(self, name: str, lane: Lane, limit: float, inclusive: bool) -> None:
        """The lane's first attempts due, in runs between its waiting attempts, merged in order. Once the
        shard refuses one, runs are cut short (``THROTTLED_RUN``, doubling as they go in whole), so a
        saturated shard costs each attempt only a few records' work, not the whole run's."""
        due = lane.take(limit, inclusive)
        i, count, most = 0, len(due.times), len(due.times)
        while True:
            waiting = lane.waiting_due(limit, inclusive)
            before = count - i if waiting is None else due.count_before(i, waiting)
            if before:
                i, refused = self._put_run(name, due, i, i + min(before, most))
                most = THROTTLED_RUN if refused else most * 2
            elif waiting is not None:
                self._attempt(name, lane.pop())
            else:
                return

    def _put_run(self, name: str, due: DueAttempts, start: int, end: int) -> tuple[int, bool]:
        """First attempts ``start`` to ``end`` of a lane in one call; the first one refused is retried.
        Returns where the lane goes on from (a retry may now come before the rest of the run), and
        whether one was refused."""
        taken, refused = self.writer.append(name, due.times[start:end], due.producers[start:end],
                                            due.stamps_us[start:end])
        if taken:
            self.stats.delivered += taken
            self.stats.last_delivery = max(self.stats.last_delivery, due.times[start + taken - 1])
            self.stats.arrived.add_sorted(due.times[start:start + taken])
        start += taken
        if start < end:
            self._retry(due.attempt(start), refused)
            return start + 1, True
        return start, False

    def _attempt(self, name: str, attempt: Attempt) -> None:
        """One waiting attempt: held by an outage, put, or retried."""
        producer = self._producers[attempt.producer]
        spec = producer.spec
        held = spec.outage_end(attempt.time) if spec.outages and attempt.tries else None
        if held is not None:  # a retry that ran into an outage waits for its end, then the link
            self._lane(attempt.producer).push(attempt._replace(time=held + spec.lag.sample(producer.backoff_rng)))
            return
        taken, refused = self.writer.append(name, [attempt.time], [attempt.producer], [attempt.stamp_us])
        if not taken:
            self._retry(attempt, refused)
            return
        self.stats.delivered += 1
        self.stats.arrived.add(attempt.time)
        self.stats.last_delivery = max(self.stats.last_delivery, attempt.time)
        if spec.pacing is Pacing.AFTER_PUT:
            self._create_one(producer, attempt.time + spec.interval + producer.jitter())

    def _retry(self, attempt: Attempt, refused: Optional[str]) -> None:
        """A throttled attempt (or one whose answer was lost) is tried again after a backoff."""
        stats = self.stats
        if refused == LOST:
            stats.possible_duplicates += 1
        else:
            stats.throttled_puts += 1
            stats.throttled.add(attempt.time)
        producer = self._producers[attempt.producer]
        self._lane(attempt.producer).push(attempt._replace(time=attempt.time + producer.backoff(attempt.tries),
                                                            tries=attempt.tries + 1))

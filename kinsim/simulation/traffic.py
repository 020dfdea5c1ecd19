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
next other event (``Timeline.horizon``): nobody can look at the stream in between. Lanes go one after
another, each up to that limit, except where a put makes a record that may go to another lane: an
``after_put`` producer drawing its keys (a *chained* one). Then lanes go in passes, each up to the
earliest time a chained producer's next record could arrive (its pending attempt's time plus its
interval), so no record reaches a lane that has already gone past its time. Fixed-pacing records
are created ahead, in chunks, into per-lane sorted columns; a run of them goes to the stream in one
call, which takes the longest prefix the shard admits (``StreamWriter.append``); retries and after-put
records wait in a heap and go one by one, merged in order.
"""

from __future__ import annotations

import heapq
import random
from dataclasses import dataclass, field
from typing import Callable, Generator, Optional, Sequence, Union

from ..scenario import Pacing, Scenario
from .creation import Schedule
from .lanes import Attempt, DueAttempts, FreshAttempts, Lane
from .members import Group, KeyTable, Member, backoff
from .tally import MinuteTally
from .timeline import TRAFFIC, Timeline
from .writers import LOST, StreamWriter

__all__ = ["Traffic", "TrafficStats"]

LOOKAHEAD_S = 60.0  # at most this far ahead of now, even when nothing else is scheduled
THROTTLED_RUN = 16  # attempts per call once a shard has refused one

#: told of every record created: its key (one for all of them, or one each) and its event times in µs
Created = Callable[[Union[str, Sequence[str]], list[int]], None]


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


class Traffic:
    """Creates every producer's records and puts them into the stream, on the timeline."""

    def __init__(self, scenario: Scenario, writer: StreamWriter, seed: int, timeline: Timeline,
                 on_created: Created, keys: Optional[KeyTable] = None) -> None:
        self.scenario = scenario
        self._start_us = scenario.start_us
        self.writer = writer
        self.timeline = timeline
        self.on_created = on_created
        self.stats = TrafficStats()
        self.keys = KeyTable() if keys is None else keys
        self._producers: list[Member] = []
        for spec in scenario.producers:
            group = Group(spec, scenario.duration, self.keys)
            for member in range(spec.members):
                index = len(self._producers)
                if self.keys.own(group.member_text(member)) != index:
                    raise ValueError("the traffic numbers its producers' own keys first: give it a new KeyTable")
                self._producers.append(Member(index, group, member, seed, None if group.sampler else index))
        self._schedule = Schedule(self._producers, self._start_us, self.keys, on_created, self._lanes_of,
                                  self._count_produced)
        self._lanes: dict[str, Lane] = {}
        self._due: list[tuple[float, str]] = []        # a heap: (a lane's next due time, the lane)
        self._touched: set[str] = set()                # lanes changed since their entry in the heap
        self._routing_version = writer.routing()
        self._lane_of: list[str] = []                  # by key: its lane
        self._chained: dict[int, float] = {}            # chained producer → earliest arrival of its next record
        self._retried: dict[tuple[int, int], random.Random] = {}  # (producer, record) → its backoff generator
        for producer in self._producers:
            spec = producer.group.spec
            first = spec.offset + producer.jitter()
            if spec.pacing is Pacing.FIXED:
                if first < producer.group.stops:
                    self._schedule.start(producer, first)
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
        due, fixed = self._lanes_due(), self._schedule.next_due()
        if fixed is not None:
            return fixed if due is None or fixed < due else due
        return due

    def _lanes_due(self) -> Optional[float]:
        """When the first attempt waiting in any lane is due: the lane heap's first entry that still
        holds (an entry is pushed whenever a lane changes; one whose lane has changed since is stale)."""
        heap, lanes = self._due, self._lanes
        for name in self._touched:
            due = lanes[name].next_due()
            if due is not None:
                heapq.heappush(heap, (due, name))
        self._touched.clear()
        while heap:
            due, name = heap[0]
            lane = lanes.get(name)
            if lane is not None and lane.next_due() == due:
                return due
            heapq.heappop(heap)
        return None

    # -- keys and lanes -----------------------------------------------------------------------------
    def _lanes_of(self, keys: Sequence[int]) -> list[str]:
        """Each key's lane (routing keys first written since the last call)."""
        lane_of = self._lane_of
        try:
            return list(map(lane_of.__getitem__, keys))
        except IndexError:
            lane_of.extend(self.writer.lanes(range(len(lane_of), len(self.keys.texts))))
            return list(map(lane_of.__getitem__, keys))

    def _lane_named(self, name: str) -> Lane:
        """A lane, to change it (it is marked so, for the lane heap)."""
        lane = self._lanes.get(name)
        if lane is None:
            lane = self._lanes[name] = Lane()
        self._touched.add(name)
        return lane

    def _push(self, attempt: Attempt) -> None:
        """A retry or an after-put record into its key's lane's heap."""
        self._lane_named(self._lanes_of((attempt.key,))[0]).push(attempt)
        producer = self._producers[attempt.producer]
        if producer.group.chained:  # its next record comes no sooner than an interval after this attempt
            self._chained[producer.index] = attempt.time + producer.group.spec.interval

    # -- creating -------------------------------------------------------------------------------------
    def _create_one(self, producer: Member, created: float) -> None:
        """An after-put record: created now, its first attempt into the heap."""
        group = producer.group
        if created >= group.stops:
            return
        spec = group.spec
        event_us = self._start_us + round(created * 1_000_000)
        held = spec.outage_end(created) if spec.outages else None
        first = (created if held is None else held) + spec.lag.sample(producer.lag_rng)
        key = producer.key if producer.key is not None else producer.draw_keys(1)[0]
        self.stats.produced += 1
        self.on_created(self.keys.texts[key], [event_us])
        self._push(Attempt(first, producer.index, producer.next_record, 0, event_us + group.skew_us, key))
        producer.next_record += 1

    def _count_produced(self, count: int) -> None:
        self.stats.produced += count

    def _create_fixed(self, until: float) -> None:
        """Create every fixed-pacing record due by ``until`` (``Schedule.create``) into its lane."""
        fresh = self._schedule.create(until)
        for lane, attempts in fresh.items():
            self._lane_named(lane).add(attempts)

    # -- delivering -----------------------------------------------------------------------------------
    def _relane(self) -> None:
        """The stream was resharded: route every key anew, and put every waiting attempt in its new lane."""
        self._lane_of = self.writer.lanes(range(len(self._lane_of)))
        old, self._lanes, self._due, self._touched = self._lanes, {}, [], set()
        moved: dict[str, FreshAttempts] = {}
        for lane in old.values():
            pending = lane.pending()
            for i, name in enumerate(self._lanes_of(pending.keys)):
                attempts = moved.get(name)
                if attempts is None:
                    attempts = moved[name] = FreshAttempts.empty()
                for column, values in zip(attempts.columns(), pending.columns()):
                    column.append(values[i])
            for attempt in lane.waiting:
                self._push(attempt)
        for name, attempts in moved.items():
            self._lane_named(name).add(attempts)

    def _deliver(self, limit: float, inclusive: bool) -> None:
        """Make every attempt due before ``limit`` (at it too, when ``inclusive``), in order per lane."""
        version = self.writer.routing()
        if version != self._routing_version:
            self._routing_version = version
            self._relane()
        self._create_fixed(limit)
        while self._chained:
            cap = min(self._chained.values())
            if cap > limit or cap == limit and not inclusive:
                break
            self._deliver_lanes(cap, inclusive=False)  # each pass moves cap on by an interval at least
        self._deliver_lanes(limit, inclusive)

    def _deliver_lanes(self, limit: float, inclusive: bool) -> None:
        """Every lane with an attempt due, in the order of their names (the lane heap's entries due: some
        may be stale, and a lane with nothing due does nothing)."""
        self._lanes_due()
        heap, due = self._due, set()
        while heap and (heap[0][0] < limit or inclusive and heap[0][0] == limit):
            due.add(heapq.heappop(heap)[1])
        for name in sorted(due):
            lane = self._lanes.get(name)
            if lane is not None:
                self._touched.add(name)
                self._deliver_lane(name, lane, limit, inclusive)

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
        taken, refused = self.writer.append(name, due.times[start:end], due.keys[start:end],
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

    def _backoff_rng(self, attempt: Attempt) -> random.Random:
        """The generator a retry of this attempt draws from: its producer's, or (when the producer draws
        its keys) its record's own (``Member.record_backoff_rng``), kept while the record is retried."""
        producer = self._producers[attempt.producer]
        if producer.key is not None:
            return producer.backoff_rng
        rng = self._retried.get((attempt.producer, attempt.record))
        if rng is None:
            rng = self._retried[(attempt.producer, attempt.record)] = producer.record_backoff_rng(attempt.record)
        return rng

    def _attempt(self, name: str, attempt: Attempt) -> None:
        """One waiting attempt: held by an outage, put, or retried."""
        producer = self._producers[attempt.producer]
        spec = producer.group.spec
        held = spec.outage_end(attempt.time) if spec.outages and attempt.tries else None
        if held is not None:  # a retry that ran into an outage waits for its end, then the link
            self._push(attempt._replace(time=held + spec.lag.sample(self._backoff_rng(attempt))))
            return
        taken, refused = self.writer.append(name, [attempt.time], [attempt.key], [attempt.stamp_us])
        if not taken:
            self._retry(attempt, refused)
            return
        if attempt.tries and producer.key is None:
            self._retried.pop((attempt.producer, attempt.record), None)
        self.stats.delivered += 1
        self.stats.arrived.add(attempt.time)
        self.stats.last_delivery = max(self.stats.last_delivery, attempt.time)
        if spec.pacing is Pacing.AFTER_PUT:
            self._chained.pop(producer.index, None)
            self._create_one(producer, attempt.time + spec.interval + producer.jitter())

    def _retry(self, attempt: Attempt, refused: Optional[str]) -> None:
        """A throttled attempt (or one whose answer was lost) is tried again after a backoff."""
        stats = self.stats
        if refused == LOST:
            stats.possible_duplicates += 1
        else:
            stats.throttled_puts += 1
            stats.throttled.add(attempt.time)
        self._push(attempt._replace(time=attempt.time + backoff(self._backoff_rng(attempt), attempt.tries),
                                    tries=attempt.tries + 1))

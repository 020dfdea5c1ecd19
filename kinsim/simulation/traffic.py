"""Producers and the network between them and the stream.

The order of everything is defined, so a run is the same whether records are handed over one by one
or in bulk (DESIGN §3: at one instant, scenario order, then sequence):

- producer ``p`` numbers its records ``k = 0, 1, ...``. With ``pacing: fixed`` record ``k`` is created at
  ``offset + k x interval + jitter_k``; with ``after_put`` the first at ``offset + jitter_0`` and each next
  one ``interval + jitter`` after the previous put succeeded. Only records created before ``duration``
  exist. Jitter and lag are drawn from the producer's own generators, in ``k`` order;
- a record created during an outage is sent when the outage ends; it reaches the stream ``lag_k``
  later: that is its first attempt. An attempt the stream throttles is tried again after a capped
  exponential backoff with jitter (drawn from the producer's backoff generator, as retries happen);
  a retry that falls in an outage waits for its end and a fresh lag from the same generator;
- attempts run in order of (time, producer, record number) within a lane (a shard); the attempts due at
  a time run before a consumer polls at that time.

The traffic is pulled: before each poll at time ``t`` the consumer asks it to ``deliver_until(t)``.
Fixed-pacing records are created ahead, in chunks, into per-lane sorted columns (a lane per simulated
shard: records of different shards never wait for each other); retries and after-put records wait in a
heap per lane. When nothing dynamic is due in a lane, its whole batch goes to the stream in one call
(``Writer.bulk``, column by column), which a writer may decline, and then each attempt is made alone,
in order.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import repeat
from operator import add, mul
from typing import Callable, Optional, Protocol, Sequence

from ..scenario import Pacing, ProducerSpec, Scenario
from .lanes import Attempt, Columns, Lane

__all__ = ["Traffic", "TrafficStats", "Writer", "event_text", "render", "Attempt", "Columns", "EVENT_TEXT_BYTES"]

_EPOCH = datetime(1970, 1, 1)
BACKOFF_BASE_S = 0.1
BACKOFF_CAP_S = 5.0
CREATE_AHEAD_S = 30.0


class Writer(Protocol):
    """Puts records into the stream for the traffic. Times are seconds after the scenario's start.

    A writer splits producers into lanes (a simulated shard each, or one lane for a real stream):
    attempts are ordered within a lane, and lanes are independent of each other. ``lanes_version``
    changes when the split changes (a reshard)."""

    lanes_version: object

    def lane(self, producer: int) -> str:
        """The lane of a producer's records."""

    def write(self, time: float, producer: int, tag: int) -> bool:
        """Put one record at ``time`` (its data: ``render([tag])``); False if the stream throttled it."""

    def bulk(self, times: Sequence[float], producers: Sequence[int], tags: Sequence[int]) -> bool:
        """Put all of these first attempts (columns, in order) and return True, or put none and return
        False."""


def render(tags: Sequence[int]) -> list[bytes]:
    """The data of records whose event times (producer clock skew included) are ``tags``, as the
    tutorial's producer writes it: ISO 8601, UTC, microseconds, no zone suffix; always
    ``EVENT_TEXT_BYTES`` long. Text up to the second is made once per second."""
    if not tags:
        return []
    first, last = min(tags) // 1_000_000, max(tags) // 1_000_000
    if last - first > 4 * len(tags) + 64:  # far apart: one head per distinct second, not per second between
        heads = {second: _head(second) for second in {tag // 1_000_000 for tag in tags}}
        return [heads[second] + b"%06d" % micro for second, micro in map(divmod, tags, _MICRO)]
    dense = [_head(second) for second in range(first, last + 1)]
    return [dense[second - first] + b"%06d" % micro for second, micro in map(divmod, tags, _MICRO)]


def _head(second: int) -> bytes:
    return ((_EPOCH + timedelta(seconds=second)).isoformat() + ".").encode("ascii")


EVENT_TEXT_BYTES = 26  # len("2018-07-31T21:56:42.972560"): datetime pads every year to four digits


_MICRO = repeat(1_000_000)
_MILLION = 1_000_000.0


def event_text(event_us: int) -> str:
    """An event time as the tutorial's producer writes it: ISO 8601, UTC, no zone suffix."""
    return (_EPOCH + timedelta(microseconds=event_us)).isoformat(timespec="microseconds")


@dataclass
class TrafficStats:
    produced: int = 0
    delivered: int = 0
    throttled_puts: int = 0
    last_delivery: float = 0.0   # seconds after start
    done: bool = False           # every record created and delivered


class _Producer:
    __slots__ = ("index", "spec", "lag_rng", "jitter_rng", "backoff_rng", "next_k", "skew_us", "offset_us",
                 "step_us")

    def __init__(self, index: int, spec: ProducerSpec, seed: int) -> None:
        self.index = index
        self.spec = spec
        self.lag_rng = random.Random(f"kinsim/{seed}/producer/{spec.name}/lag")
        self.jitter_rng = random.Random(f"kinsim/{seed}/producer/{spec.name}/jitter")
        self.backoff_rng = random.Random(f"kinsim/{seed}/producer/{spec.name}/backoff")
        self.next_k = 0
        self.skew_us = round(spec.clock_skew * 1_000_000)
        # with no jitter and whole microseconds, record k's event time is offset + k x interval exactly
        self.offset_us = round(spec.offset * 1_000_000)
        step = round(spec.interval * 1_000_000)
        exact = not spec.jitter and self.offset_us / 1_000_000 == spec.offset and step / 1_000_000 == spec.interval
        self.step_us = step if exact and step > 0 else 0

    def jitter(self) -> float:
        return self.jitter_rng.uniform(0.0, self.spec.jitter) if self.spec.jitter else 0.0


class Traffic:
    """Creates every producer's records and puts them into the stream, when pulled."""

    def __init__(self, scenario: Scenario, writer: Writer, seed: int,
                 on_created: Callable[[str, list[int]], None]) -> None:
        self.scenario = scenario
        self._start_us = scenario.start_us
        self.writer = writer
        self.on_created = on_created
        self.stats = TrafficStats()
        self._producers = [_Producer(i, spec, seed) for i, spec in enumerate(scenario.producers)]
        self._fixed = [p for p in self._producers if p.spec.pacing is Pacing.FIXED]
        self._fixed_next: dict[int, float] = {}        # producer → creation time of its next record
        self._created_until = float("-inf")            # fixed-pacing records are created up to here
        self._delivered_until = float("-inf")          # every attempt due by here is made
        self._lanes: dict[str, Lane] = {}
        self._lanes_version = writer.lanes_version
        for producer in self._producers:
            first = producer.spec.offset + producer.jitter()
            if producer.spec.pacing is Pacing.FIXED:
                if first < scenario.duration:
                    self._fixed_next[producer.index] = first
            else:
                self._create_one(producer, first)

    # -- creating -------------------------------------------------------------------------------------
    def _create_one(self, producer: _Producer, created: float) -> None:
        """An after-put record: created now, first attempt into the heap."""
        if created >= self.scenario.duration:
            return
        spec = producer.spec
        event_us = self._start_us + round(created * 1_000_000)
        held = spec.outage_end(created) if spec.outages else None
        first = (created if held is None else held) + spec.lag.sample(producer.lag_rng)
        self.stats.produced += 1
        self.on_created(spec.partition_key, [event_us])
        tag = event_us + producer.skew_us
        self._lane(producer.index).push((first, producer.index, producer.next_k, 0, tag))
        producer.next_k += 1

    def _create_fixed(self, until: float) -> None:
        """Create every fixed-pacing record due at or before ``until``: created ahead, in chunks of
        ``CREATE_AHEAD_S`` (creation does not depend on delivery, and big chunks are cheap)."""
        if until < self._created_until:
            return
        horizon = until + CREATE_AHEAD_S
        fresh: dict[str, Columns] = {}
        for producer in self._fixed:
            created = self._fixed_next.get(producer.index)
            if created is not None and created <= horizon:
                self._create_run(producer, created, horizon, fresh)
        self._created_until = horizon
        for lane, columns in fresh.items():
            self._lane_named(lane).add(*columns)

    def _create_run(self, producer: _Producer, created: float, until: float, fresh: dict[str, Columns]) -> None:
        """One producer's records from the one created at ``created`` on, while due by ``until``."""
        spec, index, duration = producer.spec, producer.index, self.scenario.duration
        first_k = producer.next_k
        if spec.jitter:
            times = []
            while created <= until:
                times.append(created)
                created = spec.offset + (first_k + len(times)) * spec.interval + producer.jitter()
                if created >= duration:
                    created = None
                    break
            count = len(times)
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
            created = offset + (k + 1) * interval
            if created >= duration:
                created = None
        if created is None:
            del self._fixed_next[index]
        else:
            self._fixed_next[index] = created
        producer.next_k = first_k + count
        self._launch(producer, first_k, count, times, fresh)

    def _launch(self, producer: _Producer, first_k: int, count: int, times: Optional[list[float]],
                fresh: dict[str, Columns]) -> None:
        """Event times and first attempts of records ``first_k`` on, created at ``times`` (None: on the
        producer's fixed schedule, offset + k x interval)."""
        spec, start_us = producer.spec, self._start_us
        offset, interval = spec.offset, spec.interval
        lags = spec.lag.samples(producer.lag_rng, count)
        if times is None and (spec.outages or not producer.step_us):
            times = [offset + j * interval for j in range(first_k, first_k + count)]
        if producer.step_us and count:
            # whole-microsecond offset and interval: the float formula's rounding lands on these integers
            first = start_us + producer.offset_us + first_k * producer.step_us
            events = list(range(first, first + count * producer.step_us, producer.step_us))
        else:
            events = list(map(add, repeat(start_us), map(round, map(mul, times, repeat(_MILLION)))))
        if times is None:  # created on schedule and sent at once: arrival = creation + lag, in one pass
            arrivals = [offset + j * interval + lag for j, lag in zip(range(first_k, first_k + count), lags)]
        elif spec.outages:
            ends = [spec.outage_end(c) for c in times]
            arrivals = list(map(add, [c if end is None else end for c, end in zip(times, ends)], lags))
        else:
            arrivals = list(map(add, times, lags))
        skew, index, lane = producer.skew_us, producer.index, self.writer.lane(producer.index)
        columns = fresh.get(lane)
        if columns is None:
            columns = fresh[lane] = ([], [], [], [])
        columns[0].extend(arrivals)
        columns[1].extend(repeat(index, count))
        columns[2].extend(range(first_k, first_k + count))
        columns[3].extend(events if not skew else map(add, events, repeat(skew)))
        self.stats.produced += count
        self.on_created(spec.partition_key, events)

    # -- delivering -----------------------------------------------------------------------------------
    def _lane_named(self, name: str) -> Lane:
        lane = self._lanes.get(name)
        if lane is None:
            lane = self._lanes[name] = Lane()
        return lane

    def _lane(self, producer: int) -> Lane:
        return self._lane_named(self.writer.lane(producer))

    def _relane(self) -> None:
        """The writer split producers anew (a reshard): put every waiting attempt in its new lane."""
        old, self._lanes = self._lanes, {}
        self._lanes_version = self.writer.lanes_version
        by_lane: dict[str, Columns] = {}
        for lane in old.values():
            for attempt in zip(*lane.pending()):
                columns = by_lane.get(self.writer.lane(attempt[1]))
                if columns is None:
                    columns = by_lane[self.writer.lane(attempt[1])] = ([], [], [], [])
                for column, value in zip(columns, attempt):
                    column.append(value)
            for attempt in lane.dynamic:
                self._lane(attempt[1]).push(attempt)
        for name, columns in by_lane.items():
            self._lane_named(name).add(*columns)

    def next_due(self) -> Optional[float]:
        """When something next happens (a creation or an attempt), or None when all is delivered."""
        times = [lane.next_due() for lane in self._lanes.values()]
        times.append(min(self._fixed_next.values(), default=None))
        times = [t for t in times if t is not None]
        return min(times) if times else None

    def deliver_until(self, t: float) -> None:
        """Make every attempt due at or before ``t``, in order within each lane."""
        if t <= self._delivered_until and self.writer.lanes_version == self._lanes_version:
            return  # every shard's poll at one instant pulls: the first did it all
        self._delivered_until = t
        if self.writer.lanes_version != self._lanes_version:
            self._relane()
        self._create_fixed(t)
        for name in sorted(self._lanes):
            lane = self._lanes[name]
            times, producers, tags, taken = lane.take_until(t)
            if times and not lane.dynamic_due(t) and self.writer.bulk(times, producers, tags):
                self.stats.delivered += len(times)
                self.stats.last_delivery = max(self.stats.last_delivery, times[-1])
            else:
                numbers = lane.numbers_at(taken)
                for attempt in lane.merged(zip(times, producers, numbers, repeat(0), tags), t):
                    self._attempt(attempt)
        self.stats.done = self.next_due() is None

    def _attempt(self, attempt: Attempt) -> None:
        at, index, k, tries, tag = attempt
        producer = self._producers[index]
        spec = producer.spec
        held = spec.outage_end(at) if spec.outages and tries else None  # retries only: a first attempt left before
        if held is not None:  # a retry that ran into an outage waits for its end, then the link
            self._lane(index).push((held + spec.lag.sample(producer.backoff_rng), index, k, tries, tag))
            return
        if not self.writer.write(at, index, tag):
            self.stats.throttled_puts += 1
            backoff = min(BACKOFF_CAP_S, BACKOFF_BASE_S * 2**tries) * (0.5 + producer.backoff_rng.random() / 2)
            self._lane(index).push((at + backoff, index, k, tries + 1, tag))
            return
        self.stats.delivered += 1
        self.stats.last_delivery = max(self.stats.last_delivery, at)
        if spec.pacing is Pacing.AFTER_PUT:
            self._create_one(producer, at + spec.interval + producer.jitter())

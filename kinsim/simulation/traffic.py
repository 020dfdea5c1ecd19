"""Producers and the network between them and the stream, as one simpy process.

No simpy process per record: creations and deliveries wait in one heap ordered by (time, order of
scheduling), and one process walks it on simpy's clock, so equal-time events keep a defined order.
Producers do not know they are lagged (the lag lives on the link, as in simpy's latency example):

- a record is created on its producer's schedule, its event time written into its data (plus the
  producer's clock skew); during an outage it is held and sent, in order, when the outage ends;
- it reaches the stream after a delay drawn from the producer's lag model; a throttled put is retried
  after a capped exponential backoff with jitter, and counted;
- with ``pacing: after_put`` the next record is created ``interval`` after the put completed.
"""

from __future__ import annotations

import heapq
import itertools
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable, Generator

import simpy

from ..backends.base import Backend
from ..errors import ProvisionedThroughputExceededException
from ..scenario import Pacing, ProducerSpec, Scenario

__all__ = ["Traffic", "TrafficStats", "event_text"]

_EPOCH = datetime(1970, 1, 1)
_CREATE, _DELIVER = 0, 1
BACKOFF_BASE_S = 0.1
BACKOFF_CAP_S = 5.0


def event_text(event_us: int) -> str:
    """An event time as the tutorial's producer writes it: ISO 8601, UTC, no zone suffix."""
    return (_EPOCH + timedelta(microseconds=event_us)).isoformat(timespec="microseconds")


@dataclass
class TrafficStats:
    produced: int = 0
    delivered: int = 0
    throttled_puts: int = 0
    last_delivery: float = 0.0   # simulated seconds after start
    done: bool = False           # every record created and delivered


class _Producer:
    __slots__ = ("spec", "lag_rng", "jitter_rng", "backoff_rng", "created", "skew_us")

    def __init__(self, spec: ProducerSpec, seed: int) -> None:
        self.spec = spec
        self.lag_rng = random.Random(f"kinsim/{seed}/producer/{spec.name}/lag")
        self.jitter_rng = random.Random(f"kinsim/{seed}/producer/{spec.name}/jitter")
        self.backoff_rng = random.Random(f"kinsim/{seed}/producer/{spec.name}/backoff")
        self.created = 0
        self.skew_us = round(spec.clock_skew * 1_000_000)

    def jitter(self) -> float:
        return self.jitter_rng.uniform(0.0, self.spec.jitter) if self.spec.jitter else 0.0


class Traffic:
    """Creates every producer's records and puts them into the stream, on the simulation's clock."""

    def __init__(self, env: simpy.Environment, scenario: Scenario, backend: Backend, stream_name: str, seed: int,
                 on_created: Callable[[str, int], None]) -> None:
        self.env = env
        self.scenario = scenario
        self.backend = backend
        self.stream_name = stream_name
        self.on_created = on_created
        self.stats = TrafficStats()
        self._producers = [_Producer(spec, seed) for spec in scenario.producers]
        self._heap: list = []
        self._order = itertools.count()

    def _schedule(self, at: float, kind: int, producer: int, payload=None) -> None:
        heapq.heappush(self._heap, (at, next(self._order), kind, producer, payload))

    def _schedule_creation(self, i: int, at: float) -> None:
        if at < self.scenario.duration:
            self._schedule(at, _CREATE, i)

    def run(self) -> Generator:
        for i, producer in enumerate(self._producers):
            self._schedule_creation(i, producer.spec.offset + producer.jitter())
        env, heap = self.env, self._heap
        while heap:
            at, _, kind, i, payload = heapq.heappop(heap)
            if at > env.now:
                yield env.timeout(at - env.now)
            if kind == _CREATE:
                self._create(i, at)
            else:
                self._deliver(i, at, *payload)
        self.stats.done = True

    def _create(self, i: int, at: float) -> None:
        producer = self._producers[i]
        spec = producer.spec
        event_us = self.scenario.start_us + round(at * 1_000_000)
        data = event_text(event_us + producer.skew_us).encode("ascii")
        producer.created += 1
        self.stats.produced += 1
        self.on_created(spec.partition_key, event_us)
        held_until = spec.outage_end(at)
        send_at = at if held_until is None else held_until
        self._schedule(send_at + spec.lag.sample(producer.lag_rng), _DELIVER, i, (data, 0))
        if spec.pacing is Pacing.FIXED:
            self._schedule_creation(i, spec.offset + producer.created * spec.interval + producer.jitter())

    def _deliver(self, i: int, at: float, data: bytes, attempt: int) -> None:
        producer = self._producers[i]
        spec = producer.spec
        held_until = spec.outage_end(at)
        if held_until is not None:  # a retry that ran into an outage waits for its end, then the link
            self._schedule(held_until + spec.lag.sample(producer.lag_rng), _DELIVER, i, (data, attempt))
            return
        try:
            self.backend.put_record(self.stream_name, data, spec.partition_key)
        except ProvisionedThroughputExceededException:
            self.stats.throttled_puts += 1
            backoff = min(BACKOFF_CAP_S, BACKOFF_BASE_S * 2**attempt) * (0.5 + producer.backoff_rng.random() / 2)
            self._schedule(at + backoff, _DELIVER, i, (data, attempt + 1))
            return
        self.stats.delivered += 1
        self.stats.last_delivery = at
        if spec.pacing is Pacing.AFTER_PUT:
            self._schedule_creation(i, at + spec.interval + producer.jitter())

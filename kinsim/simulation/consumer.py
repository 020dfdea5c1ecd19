"""The consumer: a poller per shard, as the tutorial's ``KinesisConsumer`` polls.

Each poller gets an iterator of the scenario's type, then loops: GetRecords with the scenario's
``Limit``, hand the records to every counter, sleep the poll interval; on
``ProvisionedThroughputExceededException`` it sleeps one second, as the tutorial does. An expired
iterator is renewed after the last sequence number read. When a closed shard is read to its end, its
children are polled once all their parents are done.

Input ends when every record is created and delivered and every shard has been read to the tip after
the last delivery: then the counters are closed (their watermarks become +inf).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Callable, Generator, Optional, Sequence

import simpy

from ..backends.base import Backend
from ..counters import Counter
from ..errors import ExpiredIteratorException, ProvisionedThroughputExceededException
from ..records import IteratorType, Record
from ..scenario import ConsumerSpec
from .traffic import TrafficStats

__all__ = ["Consumer", "event_us_of"]

_EPOCH = datetime(1970, 1, 1)
THROTTLED_SLEEP_S = 1.0


def event_us_of(data: bytes) -> int:
    """The event time a record's data carries (the tutorial's ISO 8601 text), in microseconds."""
    moment = datetime.fromisoformat(data.decode("ascii"))
    if moment.tzinfo is not None:
        moment = moment.replace(tzinfo=None) - moment.utcoffset()
    delta = moment - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


@dataclass
class _Progress:
    read: int = 0
    polls: int = 0
    throttled_polls: int = 0
    caught_up_at: dict[str, Optional[float]] = field(default_factory=dict)  # shard → last caught-up poll
    finished: set[str] = field(default_factory=set)                         # closed shards read to the end


class Consumer:
    def __init__(self, env: simpy.Environment, backend: Backend, stream_name: str, spec: ConsumerSpec,
                 counters: Sequence[Counter], traffic: TrafficStats, clock_us: Callable[[], int],
                 echo: Optional[Callable[[Record], None]] = None) -> None:
        self.env = env
        self.backend = backend
        self.stream_name = stream_name
        self.spec = spec
        self.counters = counters
        self.traffic = traffic
        self.clock_us = clock_us
        self.echo = echo
        self.progress = _Progress()
        self.ended: Optional[float] = None  # simulated seconds when input ended

    def start(self) -> Generator:
        """The consumer's process: wait for its start, then poll every open shard."""
        if self.spec.start > self.env.now:
            yield self.env.timeout(self.spec.start - self.env.now)
        for shard in self.backend.list_shards(self.stream_name):
            if shard.is_open:
                self._poll(shard.shard_id, self.spec.iterator)

    def _poll(self, shard_id: str, kind: IteratorType) -> None:
        self.progress.caught_up_at[shard_id] = None
        self.env.process(self._poller(shard_id, kind))

    def _poller(self, shard_id: str, kind: IteratorType) -> Generator:
        iterator = self.backend.get_shard_iterator(self.stream_name, shard_id, kind)
        last_sequence: Optional[str] = None
        while self.ended is None:
            try:
                result = self.backend.get_records(iterator, self.spec.limit)
            except ProvisionedThroughputExceededException:
                self.progress.throttled_polls += 1
                yield self.env.timeout(THROTTLED_SLEEP_S)
                continue
            except ExpiredIteratorException:
                iterator = self._renew(shard_id, kind, last_sequence)
                continue
            self.progress.polls += 1
            if result.records:
                last_sequence = result.records[-1].sequence_number
                self._process(shard_id, result.records)
            if result.next_shard_iterator is None:
                self._finish(shard_id, result.child_shards)
                self._check_end()
                return
            iterator = result.next_shard_iterator
            caught_up = result.millis_behind_latest == 0 and len(result.records) < self.spec.limit
            self.progress.caught_up_at[shard_id] = self.env.now if caught_up else None
            self._check_end()
            if self.ended is None:
                yield self.env.timeout(self.spec.poll_interval)

    def _renew(self, shard_id: str, kind: IteratorType, last_sequence: Optional[str]) -> str:
        if last_sequence is None:
            return self.backend.get_shard_iterator(self.stream_name, shard_id, kind)
        return self.backend.get_shard_iterator(self.stream_name, shard_id, IteratorType.AFTER_SEQUENCE_NUMBER,
                                               last_sequence)

    def _process(self, shard_id: str, records: Sequence[Record]) -> None:
        self.progress.read += len(records)
        if self.echo is not None:
            for record in records:
                self.echo(record)
        pairs = [(record.partition_key, event_us_of(record.data)) for record in records]
        now_us = self.clock_us()
        for counter in self.counters:
            counter.process(shard_id, pairs, now_us)

    def _finish(self, shard_id: str, children) -> None:
        """A closed shard is read to its end: poll each child whose parents are all done."""
        self.progress.finished.add(shard_id)
        del self.progress.caught_up_at[shard_id]
        for child in children:
            if child.shard_id not in self.progress.caught_up_at and \
                    all(parent in self.progress.finished for parent in child.parent_shards):
                self._poll(child.shard_id, IteratorType.TRIM_HORIZON)

    def _check_end(self) -> None:
        if self.ended is not None or not self.traffic.done:
            return
        last = self.traffic.last_delivery
        if all(at is not None and at >= last for at in self.progress.caught_up_at.values()):
            self.ended = self.env.now
            now_us = self.clock_us()
            for counter in self.counters:
                counter.close(now_us)

"""The consumer: a poller per shard, as the tutorial's ``KinesisConsumer`` polls.

Each poller gets an iterator of the scenario's type, then loops: GetRecords with the scenario's
``Limit``, hand the records to every counter, sleep the poll interval. On
``ProvisionedThroughputExceededException`` it sleeps one second, as the tutorial does; an expired
iterator is renewed after the last sequence number read (before any was read, where it started: a
``LATEST`` one at the instant it was issued, so what arrived meanwhile is not skipped); a lost answer is
asked again after a second. When a closed shard is read to its
end, its children are polled once all their parents are done. Pollers report to the runner's
``InputEnd`` and stop when it is reached.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Generator, Optional, Sequence

from ..backends.base import Backend
from ..counters import Counter
from ..errors import AnswerLostError, ExpiredIteratorException, ProvisionedThroughputExceededException
from ..records import ChildShard, GetRecordsResult, IteratorType, Record
from ..scenario import ConsumerSpec
from .ending import InputEnd
from .payload import EVENT_TIMES
from .timeline import Timeline

__all__ = ["Consumer", "ConsumerStats"]

THROTTLED_SLEEP_S = 1.0


@dataclass
class ConsumerStats:
    polls: int = 0
    throttled_polls: int = 0
    iterators_renewed: int = 0


class Consumer:
    def __init__(self, timeline: Timeline, backend: Backend, stream_name: str, spec: ConsumerSpec,
                 counters: Sequence[Counter], end: InputEnd, start_us: int,
                 echo: Optional[Callable[[Record], None]] = None) -> None:
        self.timeline = timeline
        self.backend = backend
        self.stream_name = stream_name
        self.spec = spec
        self.counters = counters
        self.end = end
        self.start_us = start_us
        self.echo = echo
        self.stats = ConsumerStats()

    def start(self) -> Generator:
        """The consumer's process: wait for its start, then poll every open shard."""
        if self.spec.start > self.timeline.now:
            yield self.timeline.timeout(self.spec.start - self.timeline.now)
        for shard in self.backend.list_shards(self.stream_name):
            if shard.is_open:
                self._poll(shard.shard_id, self.spec.iterator)

    def _poll(self, shard_id: str, kind: IteratorType) -> None:
        self.end.reading(shard_id)
        self.timeline.process(self._poller(shard_id, kind))

    def _now_us(self) -> int:
        return self.start_us + round(self.timeline.now * 1_000_000)

    def _poller(self, shard_id: str, kind: IteratorType) -> Generator:
        issued_at = self.backend.now()
        iterator = self.backend.get_shard_iterator(self.stream_name, shard_id, kind)
        last_sequence: Optional[str] = None
        while not self.end.reached:
            try:
                result = self.backend.get_records(iterator, self.spec.limit)
            except ProvisionedThroughputExceededException:
                self.stats.throttled_polls += 1
                yield self.timeline.timeout(THROTTLED_SLEEP_S)
                continue
            except AnswerLostError:
                yield self.timeline.timeout(THROTTLED_SLEEP_S)
                continue
            except ExpiredIteratorException:
                iterator = self._renew(shard_id, kind, issued_at, last_sequence)
                continue
            self.stats.polls += 1
            if result.records:
                last_sequence = result.records.last_sequence_number
                self._process(shard_id, result)
            if result.next_shard_iterator is None:
                self._finish(shard_id, result.child_shards)
                self.end.check()
                return
            iterator = result.next_shard_iterator
            self.end.polled(shard_id, result.millis_behind_latest == 0 and len(result.records) < self.spec.limit)
            if not self.end.reached:
                yield self.timeline.timeout(self.spec.poll_interval)

    def _renew(self, shard_id: str, kind: IteratorType, issued_at: float, last_sequence: Optional[str]) -> str:
        """A new iterator where the expired one was: after the last record read; before any was, where it
        started (``LATEST``: the first record that arrived after the instant it was issued)."""
        self.stats.iterators_renewed += 1
        if last_sequence is not None:
            return self.backend.get_shard_iterator(self.stream_name, shard_id, IteratorType.AFTER_SEQUENCE_NUMBER,
                                                   last_sequence)
        if kind is IteratorType.LATEST:
            return self.backend.get_shard_iterator(self.stream_name, shard_id, IteratorType.AT_TIMESTAMP,
                                                   timestamp=math.nextafter(issued_at, math.inf))
        return self.backend.get_shard_iterator(self.stream_name, shard_id, kind)

    def _process(self, shard_id: str, result: GetRecordsResult) -> None:
        records = result.records
        if self.echo is not None:
            for record in records:
                self.echo(record)
        keys, times, now_us = records.partition_keys, records.values(EVENT_TIMES), self._now_us()
        for counter in self.counters:
            counter.process(shard_id, keys, times, now_us)

    def _finish(self, shard_id: str, children: Sequence[ChildShard]) -> None:
        """A closed shard is read to its end: poll each child whose parents are all done."""
        self.end.shard_finished(shard_id)
        for child in children:
            if not self.end.is_reading(child.shard_id) and \
                    all(parent in self.end.finished for parent in child.parent_shards):
                self._poll(child.shard_id, IteratorType.TRIM_HORIZON)

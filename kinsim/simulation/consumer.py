"""The consumer: a poller per shard, as the tutorial's ``KinesisConsumer`` polls.

It starts where a KCL application would: from ``TRIM_HORIZON``, at the oldest shards of the lineage
(those whose parents are gone), each child once all its parents are read to their end; from
``LATEST``, at the open shards. Each poller gets an iterator, then loops: GetRecords with the
scenario's ``Limit``, hand the records to the counters (a poll that returned nothing too: a counter may
act on processing time), sleep the poll interval. On ``ProvisionedThroughputExceededException`` it
sleeps one second, as the tutorial does; an expired iterator is renewed after the last sequence number
read (before any was read, where it started: a ``LATEST`` one at the instant it was issued, so what
arrived meanwhile is not skipped); a lost answer is asked again after a second. While the consumer is
paused (a scripted fault) nobody polls. When a closed shard is read to its end, the counters close
that shard's share and its children (from GetRecords' ``ChildShards``, or the listing where the service
does not give them) are polled once all their parents are done. Pollers report to the
runner's ``InputEnd`` and stop when it is reached.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable, Generator, Optional, Sequence

from ..backends.base import Backend
from ..counters import PerShard
from ..errors import AnswerLostError, ExpiredIteratorException, ProvisionedThroughputExceededException
from ..records import ChildShard, GetRecordsResult, IteratorType, Record, Shard, oldest_shards
from ..scenario import ConsumerSpec
from .ending import InputEnd
from .payload import EVENT_TIMES
from .tally import MinuteTally
from .timeline import Timeline

__all__ = ["Consumer", "ConsumerStats", "ShardReading", "first_shards"]

THROTTLED_SLEEP_S = 1.0


@dataclass
class ShardReading:
    """What the consumer saw of one shard."""

    records: int = 0
    polls: int = 0
    throttled_polls: int = 0
    iterators_renewed: int = 0
    most_millis_behind: int = 0     # the largest MillisBehindLatest a poll of it answered


@dataclass
class ConsumerStats:
    polls: int = 0
    throttled_polls: int = 0
    iterators_renewed: int = 0
    shards: dict[str, ShardReading] = field(default_factory=dict)  # in the order shards were first read
    records_read: MinuteTally = field(default_factory=MinuteTally)
    throttled: MinuteTally = field(default_factory=MinuteTally)


def first_shards(shards: Sequence[Shard], kind: IteratorType) -> list[Shard]:
    """Where a consumer starts: the open shards from ``LATEST``; else the shards none of whose parents
    is listed (the oldest of the lineage), the others following as their parents end."""
    if kind is IteratorType.LATEST:
        return [shard for shard in shards if shard.is_open]
    return oldest_shards(shards)


class Consumer:
    def __init__(self, timeline: Timeline, backend: Backend, stream_name: str, spec: ConsumerSpec,
                 counters: Sequence[PerShard], end: InputEnd, start_us: int,
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
        self.paused_until = float("-inf")  # seconds after the start

    def pause(self, until: float) -> None:
        """Nobody polls until ``until`` (seconds after the start)."""
        self.paused_until = max(self.paused_until, until)

    def start(self) -> Generator:
        """The consumer's process: wait for its start, then poll where a KCL application would."""
        if self.spec.start > self.timeline.now:
            yield self.timeline.timeout(self.spec.start - self.timeline.now)
        for shard in first_shards(self.backend.list_shards(self.stream_name), self.spec.iterator):
            self._poll(shard.shard_id, self.spec.iterator)

    def _poll(self, shard_id: str, kind: IteratorType) -> None:
        self.end.reading(shard_id)
        self.stats.shards[shard_id] = ShardReading()
        self.timeline.process(self._poller(shard_id, kind))

    def _now_us(self) -> int:
        return self.start_us + round(self.timeline.now * 1_000_000)

    def _poller(self, shard_id: str, kind: IteratorType) -> Generator:
        timeline, reading = self.timeline, self.stats.shards[shard_id]
        if self.paused_until > timeline.now:
            yield timeline.timeout(self.paused_until - timeline.now)
        issued_at = self.backend.now()
        iterator = self.backend.get_shard_iterator(self.stream_name, shard_id, kind)
        last_sequence: Optional[str] = None
        while not self.end.reached:
            if self.paused_until > timeline.now:
                yield timeline.timeout(self.paused_until - timeline.now)
                continue
            try:
                result = self.backend.get_records(iterator, self.spec.limit)
            except ProvisionedThroughputExceededException:
                self.stats.throttled_polls += 1
                reading.throttled_polls += 1
                self.stats.throttled.add(timeline.now)
                yield timeline.timeout(THROTTLED_SLEEP_S)
                continue
            except AnswerLostError:
                yield timeline.timeout(THROTTLED_SLEEP_S)
                continue
            except ExpiredIteratorException:
                iterator = self._renew(shard_id, kind, issued_at, last_sequence)
                reading.iterators_renewed += 1
                continue
            self.stats.polls += 1
            reading.polls += 1
            reading.most_millis_behind = max(reading.most_millis_behind, result.millis_behind_latest or 0)
            if result.records:
                last_sequence = result.records.last_sequence_number
                reading.records += len(result.records)
                self.stats.records_read.add(timeline.now, len(result.records))
            self._process(shard_id, result)
            if result.next_shard_iterator is None:
                self._finish(shard_id, result.child_shards)
                self.end.check()
                return
            iterator = result.next_shard_iterator
            self.end.polled(shard_id, result.millis_behind_latest == 0 and len(result.records) < self.spec.limit)
            if not self.end.reached:
                yield timeline.timeout(self.spec.poll_interval)

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
        """A closed shard is read to its end: its counters fire what they hold, and each child whose
        parents are all done is polled."""
        now_us = self._now_us()
        for counter in self.counters:
            counter.end_shard(shard_id, now_us)
        self.end.shard_finished(shard_id)
        listed: Optional[set[str]] = None
        if not children:  # a service that does not say (kinesalite): the listing does
            children = [ChildShard(shard.shard_id, shard.parents, shard.hash_key_range)
                        for shard in self.backend.list_shards(self.stream_name) if shard_id in shard.parents]
        for child in children:
            if self.end.is_reading(child.shard_id):
                continue
            waiting = [parent for parent in child.parent_shards if parent not in self.end.finished]
            if waiting and listed is None:  # a parent no longer listed (past retention) is not waited for
                listed = {shard.shard_id for shard in self.backend.list_shards(self.stream_name)}
            if not any(parent in listed for parent in waiting):  # type: ignore[operator]
                self._poll(child.shard_id, IteratorType.TRIM_HORIZON)

"""The consumer: a poller per shard, as the tutorial's ``KinesisConsumer`` polls.

Each poller gets an iterator of the scenario's type, then loops: GetRecords with the scenario's
``Limit``, hand the records to every counter, sleep the poll interval; on
``ProvisionedThroughputExceededException`` it sleeps one second, as the tutorial does. An expired
iterator is renewed after the last sequence number read. When a closed shard is read to its end, its
children are polled once all their parents are done.

Before each poll at time ``t`` the consumer pulls the traffic up to ``t`` (attempts due at ``t`` come
before a poll at ``t``) and sets the backend's clock to ``t``.

Input ends when every record is created and delivered and every shard has been read to the tip after
the last delivery: then the counters are closed (their watermarks become +inf).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Callable, Generator, Optional, Sequence

import simpy

from ..backends.base import Backend
from ..clock import ManualClock
from ..counters import Counter
from ..errors import ExpiredIteratorException, ProvisionedThroughputExceededException
from ..records import IteratorType, Record, RecordBatch
from ..scenario import ConsumerSpec
from .traffic import Traffic

__all__ = ["Consumer", "event_us_of", "event_times"]

_EPOCH = datetime(1970, 1, 1)
THROTTLED_SLEEP_S = 1.0


def event_us_of(data: bytes) -> int:
    """The event time a record's data carries (the tutorial's ISO 8601 text), in microseconds."""
    moment = datetime.fromisoformat(data.decode("ascii"))
    if moment.tzinfo is not None:
        moment = moment.replace(tzinfo=None) - moment.utcoffset()
    delta = moment - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def event_times(datas: Sequence[bytes]) -> list[int]:
    """``event_us_of`` for many records at once: the text up to the second is parsed once per second."""
    seconds: dict[bytes, int] = {}
    times = []
    for data in datas:
        head = data[:20]
        base = seconds.get(head)
        if base is None:
            if len(data) != 26 or data[19:20] != b".":  # not the producers' own format: parse it whole
                times.append(event_us_of(data))
                continue
            base = seconds[head] = event_us_of(head + b"000000")
        times.append(base + int(data[20:]))
    return times


@dataclass
class _Progress:
    polls: int = 0
    throttled_polls: int = 0
    caught_up_at: dict[str, Optional[float]] = field(default_factory=dict)  # shard → last caught-up poll
    finished: set[str] = field(default_factory=set)                         # closed shards read to the end


class Consumer:
    def __init__(self, env: simpy.Environment, backend: Backend, stream_name: str, spec: ConsumerSpec,
                 counters: Sequence[Counter], traffic: Traffic, clock: ManualClock, start_us: int,
                 echo: Optional[Callable[[Record], None]] = None) -> None:
        self.env = env
        self.backend = backend
        self.stream_name = stream_name
        self.spec = spec
        self.counters = counters
        self.traffic = traffic
        self.clock = clock
        self.start_us = start_us
        self.start_s = start_us / 1_000_000
        self.echo = echo
        self.progress = _Progress()
        self.ended: Optional[float] = None  # simulated seconds when input ended

    def start(self) -> Generator:
        """The consumer's process: wait for its start, then poll every open shard."""
        if self.spec.start > self.env.now:
            yield self.env.timeout(self.spec.start - self.env.now)
        self._now()
        for shard in self.backend.list_shards(self.stream_name):
            if shard.is_open:
                self._poll(shard.shard_id, self.spec.iterator)

    def _poll(self, shard_id: str, kind: IteratorType) -> None:
        self.progress.caught_up_at[shard_id] = None
        self.env.process(self._poller(shard_id, kind))

    def _now(self) -> None:
        """Bring the stream up to this instant: deliver what is due, then move the backend's clock."""
        self.traffic.deliver_until(self.env.now)
        self.clock.set(max(self.clock.now(), self.start_s + self.env.now))

    def _now_us(self) -> int:
        return self.start_us + round(self.env.now * 1_000_000)

    def _read(self, iterator: str) -> RecordBatch:
        if self.echo is None:
            return self.backend.get_record_batch(iterator, self.spec.limit, want_data=False)
        result = self.backend.get_records(iterator, self.spec.limit)
        for record in result.records:
            self.echo(record)
        return RecordBatch.of(result)

    def _poller(self, shard_id: str, kind: IteratorType) -> Generator:
        self._now()
        iterator = self.backend.get_shard_iterator(self.stream_name, shard_id, kind)
        last_sequence: Optional[str] = None
        while self.ended is None:
            self._now()
            try:
                result = self._read(iterator)
            except ProvisionedThroughputExceededException:
                self.progress.throttled_polls += 1
                yield self.env.timeout(THROTTLED_SLEEP_S)
                continue
            except ExpiredIteratorException:
                iterator = self._renew(shard_id, kind, last_sequence)
                continue
            self.progress.polls += 1
            if result.count:
                last_sequence = result.last_sequence_number
                self._process(shard_id, result)
            if result.next_shard_iterator is None:
                self._finish(shard_id, result.child_shards)
                self._check_end()
                return
            iterator = result.next_shard_iterator
            caught_up = result.millis_behind_latest == 0 and result.count < self.spec.limit
            self.progress.caught_up_at[shard_id] = self.env.now if caught_up else None
            self._check_end()
            if self.ended is None:
                yield self.env.timeout(self.spec.poll_interval)

    def _renew(self, shard_id: str, kind: IteratorType, last_sequence: Optional[str]) -> str:
        if last_sequence is None:
            return self.backend.get_shard_iterator(self.stream_name, shard_id, kind)
        return self.backend.get_shard_iterator(self.stream_name, shard_id, IteratorType.AFTER_SEQUENCE_NUMBER,
                                               last_sequence)

    def _process(self, shard_id: str, batch: RecordBatch) -> None:
        times = tuple(batch.event_us if batch.event_us is not None else event_times(batch.datas))
        now_us = self._now_us()
        keys = batch.partition_keys if type(batch.partition_keys) is tuple else tuple(batch.partition_keys)
        for counter in self.counters:
            counter.process(shard_id, keys, times, now_us)

    def _finish(self, shard_id: str, children) -> None:
        """A closed shard is read to its end: poll each child whose parents are all done."""
        self.progress.finished.add(shard_id)
        del self.progress.caught_up_at[shard_id]
        for child in children:
            if child.shard_id not in self.progress.caught_up_at and \
                    all(parent in self.progress.finished for parent in child.parent_shards):
                self._poll(child.shard_id, IteratorType.TRIM_HORIZON)

    def _check_end(self) -> None:
        stats = self.traffic.stats
        if self.ended is not None or not stats.done:
            return
        if all(at is not None and at >= stats.last_delivery for at in self.progress.caught_up_at.values()):
            self.ended = self.env.now
            now_us = self._now_us()
            for counter in self.counters:
                counter.close(now_us)

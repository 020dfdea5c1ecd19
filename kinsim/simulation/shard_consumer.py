"""One worker's processing of one lease, as the KCL's ``ShardConsumer`` (and the tutorial's poller).

It starts after the lease's checkpoint (``TRIM_HORIZON`` or ``LATEST`` for a new lease, else after the
sequence number checkpointed), with a processor of its own, then loops: GetRecords with the scenario's
``Limit``, hand the batch to the processor (an empty one too: a counter may act on processing time),
sleep the poll interval. On ``ProvisionedThroughputExceededException`` it sleeps one second, as the
tutorial does; an expired iterator is renewed after the last sequence number read (before any was read,
where it started: a ``LATEST`` one at the instant it was issued, so what arrived meanwhile is not
skipped); a lost answer is asked again after a second. While its worker is paused it does nothing;
when the worker wakes it goes on with what it was doing before it learns (at the worker's next renew,
or from a refused checkpoint) that the lease is another's: then ``lease_lost``. A crashed worker's
consumer just stops. At a closed shard's end: ``shard_ended``, whose checkpoint at SHARD_END creates
the children's leases (called again each poll interval until the processor checkpoints); a child of a
merge whose other parent has no lease yet waits for it, a poll interval at a time
(``Fleet.children_blocked``). Each poll is reported to the run's ``InputEnd``, but a zombie's: the owner
has not read what the zombie reads.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Generator, Optional, Protocol, Sequence

from ..backends.base import Backend
from ..errors import AnswerLostError, ExpiredIteratorException, ProvisionedThroughputExceededException
from ..kcl import SHARD_END, Checkpointer
from ..leases import Lease, Leaseholder, LeaseTable, Position
from ..records import ChildShard, IteratorType, Shard, oldest_shards
from ..scenario.model import ConsumerSpec
from .delivery import Delivery
from .ending import InputEnd
from .processing import LeaseProcessor
from .tally import MinuteTally
from .timeline import Timeline

__all__ = ["ShardConsumer", "ConsumerStats", "ShardReading", "first_shards", "THROTTLED_SLEEP_S"]

THROTTLED_SLEEP_S = 1.0


@dataclass
class ShardReading:
    """What the workers saw of one shard."""

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


class Application(Protocol):
    """What a shard consumer uses of the application its worker belongs to (``workers.Fleet``)."""

    timeline: Timeline
    backend: Backend
    stream_name: str
    spec: ConsumerSpec
    end: InputEnd
    stats: "ConsumerStats"
    delivery: Delivery
    table: LeaseTable
    keeps_state: bool
    progress_at: float

    def now_us(self) -> int: ...

    def children_blocked(self, shard_id: str, children: Sequence[ChildShard]) -> bool: ...


class Owner(Protocol):
    """What a shard consumer uses of its worker (``workers.Worker``)."""

    fleet: Application
    incarnation: int
    paused_until: float
    holder: Leaseholder

    @property
    def identity(self) -> str: ...

    def checkpoint(self, shard_id: str, checkpoint: str, state: object) -> Optional[Lease]: ...

    def end_shard(self, shard_id: str, children: Sequence[ChildShard], state: object) -> Optional[Lease]: ...

    def consumer_done(self, consumer: "ShardConsumer") -> None: ...


class ShardConsumer:
    def __init__(self, worker: Owner, lease: Lease, processor: LeaseProcessor) -> None:
        self.worker = worker
        self.fleet = worker.fleet
        self.shard_id = lease.shard_id
        self.start = lease.checkpoint
        self.processor = processor
        self.incarnation = worker.incarnation
        self.last_sequence: Optional[str] = None    # the last record delivered to this processor
        self.checkpointer = Checkpointer(self.shard_id, lambda: self.last_sequence, self._write, self.start)
        self._children: Sequence[ChildShard] = ()
        self.lost = False     # its worker learnt the lease was taken: lease_lost at its next step

    @property
    def stopped(self) -> bool:
        """The worker crashed (or restarted) since this consumer started, or input has ended."""
        return self.worker.incarnation != self.incarnation or self.fleet.end.reached

    def run(self) -> Generator:
        fleet, worker, shard_id = self.fleet, self.worker, self.shard_id
        timeline, backend, spec = fleet.timeline, fleet.backend, fleet.spec
        reading = fleet.stats.shards.setdefault(shard_id, ShardReading())
        stats = fleet.stats
        fleet.end.reading(shard_id)
        while worker.paused_until > timeline.now:  # started by a worker that stalls at once: nothing yet
            yield timeline.timeout(worker.paused_until - timeline.now)
        if self.stopped:
            return
        self.processor.initialize(self.start)
        issued_at = backend.now()
        iterator = self._iterator()
        end, incarnation, processor, checkpointer = fleet.end, self.incarnation, self.processor, self.checkpointer
        limit, poll_interval, get_records = spec.limit, spec.poll_interval, backend.get_records
        leases, timeout = fleet.table, timeline.timeout
        while worker.incarnation == incarnation and end.at is None:  # not self.stopped
            now = timeline.now
            if worker.paused_until > now:
                yield timeout(worker.paused_until - now)
                continue
            if self.lost or not worker.holder.holds(shard_id):
                self._lost()
                return
            try:
                result = get_records(iterator, limit)
            except ProvisionedThroughputExceededException:
                stats.throttled_polls += 1
                reading.throttled_polls += 1
                stats.throttled.add(now)
                yield timeout(THROTTLED_SLEEP_S)
                continue
            except AnswerLostError:
                yield timeout(THROTTLED_SLEEP_S)
                continue
            except ExpiredIteratorException:
                iterator = self._renew(issued_at)
                reading.iterators_renewed += 1
                stats.iterators_renewed += 1
                continue
            stats.polls += 1
            reading.polls += 1
            behind = result.millis_behind_latest
            if behind and behind > reading.most_millis_behind:
                reading.most_millis_behind = behind
            records = result.records
            count = len(records)
            if count:
                numbers = records.sequence_ints
                fleet.delivery.batch(shard_id, numbers)
                fleet.progress_at = now
                lease = leases.get(shard_id)  # self._owned(), inline
                if lease is None or lease.owner != worker.identity:
                    fleet.delivery.without_lease += count
                self.last_sequence = str(numbers[-1])
                reading.records += count
                stats.records_read.add(now, count)
            if count or now >= processor.quiet_until:
                processor.process(result, now, fleet.now_us(), checkpointer)
            if result.next_shard_iterator is None:
                self._children = result.child_shards
                while fleet.children_blocked(shard_id, self._children_of()):
                    end.reading(shard_id)  # not done: its children are still to come
                    yield timeout(poll_interval)
                    if self.stopped:
                        return
                    if self.lost:
                        self._lost()
                        return
                yield from self._end_shard()
                return
            iterator = result.next_shard_iterator
            # owned (``_owned``, inline): a zombie's poll says nothing of how far the shard's owner has read
            lease = leases.get(shard_id)
            if lease is not None and lease.owner == worker.identity:
                end.polled(shard_id, behind == 0 and count < limit, now)
            if end.at is None:
                yield timeout(poll_interval)

    def _owned(self) -> bool:
        """Whether the lease table says this consumer's worker owns the lease now."""
        lease = self.fleet.table.get(self.shard_id)
        return lease is not None and lease.owner == self.worker.identity

    def shutdown(self) -> None:
        """Input has ended: the processor's last chance to checkpoint."""
        if not self.checkpointer.closed and self.worker.holder.holds(self.shard_id):
            self.processor.shutdown_requested(self.checkpointer)
        self.checkpointer.close()

    def crashed(self) -> None:
        self.processor.crashed()
        self.checkpointer.close()

    def _iterator(self) -> str:
        backend, stream = self.fleet.backend, self.fleet.stream_name
        if self.start in (Position.TRIM_HORIZON.value, Position.LATEST.value):
            return backend.get_shard_iterator(stream, self.shard_id, IteratorType(self.start))
        return backend.get_shard_iterator(stream, self.shard_id, IteratorType.AFTER_SEQUENCE_NUMBER, self.start)

    def _renew(self, issued_at: float) -> str:
        """A new iterator where the expired one was: after the last record read; before any was, where it
        started (``LATEST``: the first record that arrived after the instant it was issued)."""
        backend, stream = self.fleet.backend, self.fleet.stream_name
        if self.last_sequence is not None:
            return backend.get_shard_iterator(stream, self.shard_id, IteratorType.AFTER_SEQUENCE_NUMBER,
                                              self.last_sequence)
        if self.start == Position.LATEST.value:
            return backend.get_shard_iterator(stream, self.shard_id, IteratorType.AT_TIMESTAMP,
                                              timestamp=math.nextafter(issued_at, math.inf))
        return self._iterator()

    def _end_shard(self) -> Generator:
        """Read to the end: the processor's ``shard_ended``, which must checkpoint SHARD_END (that creates
        the children's leases). One that does not is called again a poll interval later, as the KCL
        retries its shutdown task ("the application didn't checkpoint at the end of the shard"), until it
        does or the lease is lost; then this consumer's turn is over."""
        timeline, fleet = self.fleet.timeline, self.fleet
        self.checkpointer.end_shard()
        while True:
            self.processor.shard_ended(fleet.now_us(), self.checkpointer)
            if self.checkpointer.reached_shard_end or self.checkpointer.lost:
                break
            yield timeline.timeout(fleet.spec.poll_interval)
            if self.stopped:
                return
            if self.lost or not self.worker.holder.holds(self.shard_id):
                self._lost()
                return
        self.checkpointer.close()
        self.worker.consumer_done(self)
        fleet.end.check()

    def _lost(self) -> None:
        self.processor.lease_lost()
        self.checkpointer.close()
        self.worker.consumer_done(self)

    def _write(self, checkpoint: str) -> object:
        """The checkpointer's write: the lease's checkpoint, with the counters' state when it is kept."""
        state = self.processor.snapshot() if self.fleet.keeps_state else None
        if checkpoint == SHARD_END:
            return self.worker.end_shard(self.shard_id, self._children_of(), state)
        return self.worker.checkpoint(self.shard_id, checkpoint, state)

    def _children_of(self) -> Sequence[ChildShard]:
        """The shard's children: from GetRecords' ``ChildShards``, or the listing where the service does
        not give them (kinesalite)."""
        if self._children:
            return self._children
        self._children = [ChildShard(shard.shard_id, shard.parents, shard.hash_key_range)
                for shard in self.fleet.backend.list_shards(self.fleet.stream_name) if self.shard_id in shard.parents]
        return self._children

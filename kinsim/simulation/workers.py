"""The consuming application: KCL-shaped workers sharing one lease table (DESIGN §11).

The ``Fleet`` creates a lease for each shard a consumer starts at (``first_shards``) when the consumer
starts, then starts its workers. Each ``Worker`` is a simpy process that renews the leases it holds
every ``failover_time / 3`` and takes leases every ``2 × failover_time`` (``leases.Leaseholder``), both
from its start, as the KCL's renewer and taker do; after each round it starts a ``ShardConsumer`` for
every lease it holds whose parents have ended. A shard read to its end creates its children's leases
and checkpoints SHARD_END (a child of a merge waits for its other parent's lease); an ended lease is
deleted once its children are leased and their parents have ended (the KCL's lease cleanup, without its
delay). Ended leases count toward nobody's fair share. Take rounds due at one instant run together.

Faults: a crash stops a worker at once (its processors' state is gone, nothing is called, nothing is
renewed); a pause stalls all its processes until its end, when the shard consumers go on with what they
were doing before the worker renews (so a zombie's processing and its refused checkpoint happen); a
restart brings the worker back with no leases and no state, under a new identity in the lease table
(``w1#2``), as a KCL worker started again gets a new worker id.

What happened is kept for the report: holdings (who held which lease when), takeovers with the time
since the previous owner crashed or stalled, worker events, deliveries and duplicates. Holdings and
takeovers name workers as the lease table does (``w1#2`` for w1 restarted), events by their names.
"""

from __future__ import annotations

import random
from collections import deque
from typing import Callable, Generator, Optional, Sequence

from ..backends.base import Backend
from ..counters import PerShard
from ..durations import duration_text
from ..errors import StalledError
from ..leases import Lease, Leaseholder, MemoryLeaseTable, Takeover, renew_interval
from ..records import ChildShard, Record
from ..scenario.model import ConsumerSpec, State
from ..scenario.schedule import Fault, Join
from .delivery import Delivery, Holding, TakeoverRecord, WorkerEvent, WorkersSummary
from .ending import InputEnd
from .processing import LeaseProcessor
from .shard_consumer import ConsumerStats, ShardConsumer, first_shards
from .timeline import Timeline

__all__ = ["Fleet", "Worker", "AFTER_PROCESSING"]

AFTER_PROCESSING = 2  # a simpy priority after NORMAL: a waking worker renews after its consumers went on
TAKE_ROUND = 3        # after that: the take rounds due at an instant, together
TAKES_PER_RENEW = 6   # 2 × failover_time / (failover_time / 3)
STALL_S = 600.0       # input that cannot end: nothing given to a processor for this long (or 30 × failover,
                      # or 60 polls)


def last_tick(began: float, every: float, now: float) -> int:
    """The last tick due by ``now``: the largest k whose instant ``began + k × every`` (as the schedule
    computes it) is at or before ``now``. Floor division alone can fall one short (``100 // (10 / 3)`` is
    29.0, yet ``30 × (10 / 3)`` is 100.0): a worker waking at a tick's instant would then run that tick's
    round again at once, and join one take round twice."""
    k = int((now - began) // every)
    while began + (k + 1) * every <= now:
        k += 1
    return k


class Worker:
    """One worker: its leases (a ``Leaseholder`` under its current identity) and its shard consumers."""

    def __init__(self, fleet: "Fleet", name: str) -> None:
        self.fleet = fleet
        self.name = name
        self.incarnation = 0
        self.crashed = False
        self.paused_until = float("-inf")
        self.paused_at = float("-inf")
        self.holder = Leaseholder(name, fleet.table, fleet.spec.failover_time)
        self.consumers: dict[str, ShardConsumer] = {}    # shard id → its consumer, while it runs
        self._holdings: dict[str, Holding] = {}

    @property
    def identity(self) -> str:
        """The owner name in the lease table: the worker's name, ``name#2`` after its first restart, ..."""
        return self.holder.worker

    def start(self) -> None:
        self.fleet.timeline.process(self._coordinate(self.incarnation))

    # -- faults ---------------------------------------------------------------------------------------
    def crash(self) -> None:
        now = self.fleet.timeline.now
        self.incarnation += 1
        self.crashed = True
        for consumer in self.consumers.values():
            consumer.crashed()
            self.fleet.end.reading(consumer.shard_id)  # not read to its tip by anyone now
        self.consumers.clear()
        for shard_id in list(self._holdings):
            self._let_go(shard_id, "crashed")
        self.holder.held.clear()
        self.fleet.crashed_at[self.identity] = now
        self.fleet.events.append(WorkerEvent(self.name, "crash", now))

    def pause(self, until: float) -> None:
        self.paused_at = self.fleet.timeline.now
        self.paused_until = max(self.paused_until, until)
        self.fleet.events.append(WorkerEvent(self.name, "pause", self.fleet.timeline.now, until))

    def restart(self) -> None:
        self.incarnation += 1
        self.crashed = False
        self.paused_until = float("-inf")
        self.holder = Leaseholder(f"{self.name}#{self.incarnation // 2 + 1}", self.fleet.table,
                                  self.fleet.spec.failover_time)
        self.fleet.events.append(WorkerEvent(self.name, "restart", self.fleet.timeline.now))
        if self.fleet.started:  # else the fleet starts it with the others
            self.start()

    # -- the renewer and the taker --------------------------------------------------------------------
    def _coordinate(self, incarnation: int) -> Generator:
        timeline, fleet = self.fleet.timeline, self.fleet
        every = renew_interval(fleet.spec.failover_time)
        began, tick = timeline.now, 0
        while self.incarnation == incarnation and not fleet.end.reached:
            if self.paused_until > timeline.now:
                while self.paused_until > timeline.now:  # a pause starting as one ends (or in it) stalls on
                    yield timeline.wake(self.paused_until - timeline.now, AFTER_PROCESSING)
                if self.incarnation != incarnation or fleet.end.reached:  # crashed in the pause, or done
                    return
                missed = last_tick(began, every, timeline.now)
                take = any(k % TAKES_PER_RENEW == 0 for k in range(tick, missed + 1))
                self._round(take)
                tick = missed + 1
            else:
                self._round(tick % TAKES_PER_RENEW == 0)
                tick += 1
            if self.incarnation != incarnation or fleet.end.reached:
                return
            fleet.check_stalled()
            yield timeline.timeout(max(0.0, began + tick * every - timeline.now))

    def _round(self, take: bool) -> None:
        now = self.fleet.timeline.now
        for shard_id in self.holder.renew(now):
            self._lost(shard_id)
        if take:
            self.fleet.join_take_round(self)   # it starts consumers after the round
        else:
            self.start_consumers()

    def took(self, takeover: Takeover) -> None:
        self.fleet.took(self, takeover.shard_id, takeover.previous_owner, takeover.stolen)
        self._holdings[takeover.shard_id] = Holding(self.identity, takeover.shard_id, takeover.at)
        self.fleet.holdings.append(self._holdings[takeover.shard_id])

    def start_consumers(self) -> None:
        """A shard consumer for each lease held whose parents have ended and that has none yet."""
        if self.crashed:
            return
        for shard_id in self.holder.shards():
            if shard_id not in self.consumers and self.holder.processable(shard_id):
                self._consume(self.holder.held[shard_id])

    def _consume(self, lease: Lease) -> None:
        consumer = ShardConsumer(self, lease, self.fleet.processor(lease, self))
        self.consumers[lease.shard_id] = consumer
        self.fleet.timeline.process(consumer.run())

    # -- what shard consumers call --------------------------------------------------------------------
    def checkpoint(self, shard_id: str, checkpoint: str, state: object) -> Optional[Lease]:
        lease = self.holder.checkpoint(shard_id, checkpoint, state)
        self._checkpointed(shard_id, lease)
        return lease

    def end_shard(self, shard_id: str, children: Sequence[ChildShard], state: object) -> Optional[Lease]:
        lease = self.holder.end_shard(shard_id, children, state)
        self._checkpointed(shard_id, lease)
        if lease is None:
            return None
        self.fleet.ended(shard_id, children)
        self.holder.held.pop(shard_id, None)
        self._let_go(shard_id, "ended")
        return lease

    def consumer_done(self, consumer: ShardConsumer) -> None:
        if self.consumers.get(consumer.shard_id) is consumer:
            del self.consumers[consumer.shard_id]

    def _checkpointed(self, shard_id: str, lease: Optional[Lease]) -> None:
        if lease is None:
            self.fleet.checkpoints_refused += 1
            self._lost(shard_id)
        else:
            self.fleet.checkpoints_written += 1

    def _lost(self, shard_id: str) -> None:
        """The worker learns that another took the lease: its shard consumer, if any, ends at its next step
        with ``lease_lost``, even if this worker takes the lease again meanwhile (then a new consumer
        starts after the lease's checkpoint, as the KCL starts a new one for a lease taken again)."""
        self._let_go(shard_id, "lost")
        consumer = self.consumers.get(shard_id)
        if consumer is not None:
            consumer.lost = True

    def _let_go(self, shard_id: str, how: str) -> None:
        holding = self._holdings.pop(shard_id, None)
        if holding is not None:
            holding.end, holding.how = self.fleet.timeline.now, how


class Fleet:
    """The workers of the scenario's consumer, their lease table, and what they did."""

    def __init__(self, timeline: Timeline, backend: Backend, stream_name: str, spec: ConsumerSpec,
                 counters: Sequence[PerShard], end: InputEnd, start_us: int, seed: int = 0,
                 echo: Optional[Callable[[Record], None]] = None, faults: Sequence[Fault] = ()) -> None:
        self.timeline = timeline
        self.backend = backend
        self.stream_name = stream_name
        self.spec = spec
        self.counters = counters
        self.end = end
        self.start_us = start_us
        self.echo = echo
        self.seed = seed
        self.faults = faults
        self.quiet_until = max((fault.end or fault.at for fault in faults), default=0.0)  # stalls before: scripted
        self.progress_at = 0.0           # the last time a processor was given records, or a lease changed hands
        self._all_put_at: Optional[float] = None   # when the workers first saw every record in the stream
        self._takers: Optional[list[Worker]] = None   # the workers in this instant's take round
        self.started = False             # the consumer has started: its leases made, its workers running
        self.joining = {fault.action.worker for fault in faults if isinstance(fault.action, Join)}  # not yet
        self.keeps_state = spec.state is State.CHECKPOINTED
        self.table = MemoryLeaseTable()
        self.workers = {name: Worker(self, name) for name in spec.workers}
        self.stats = ConsumerStats()
        self.delivery = Delivery()
        self.holdings: list[Holding] = []
        self.takeovers: list[TakeoverRecord] = []
        self.events: list[WorkerEvent] = []
        self.crashed_at: dict[str, float] = {}   # a crashed worker's identity → when it crashed
        self.checkpoints_written = 0
        self.checkpoints_refused = 0
        self._children: dict[str, tuple[str, ...]] = {}   # an ended shard → its children
        self._processors: dict[str, int] = {}    # shard id → processors started on it

    def now_us(self) -> int:
        return self.start_us + round(self.timeline.now * 1_000_000)

    def start(self) -> Generator:
        """The consumer's process: at its start, a lease for each shard to start at, then the workers, but
        those crashed by then (a fault at the consumer's very start comes first; a restart starts them)."""
        if self.spec.start > self.timeline.now:
            yield self.timeline.timeout(self.spec.start - self.timeline.now)
        for shard in first_shards(self.backend.list_shards(self.stream_name), self.spec.iterator):
            self.table.create_if_absent(Lease(shard.shard_id, checkpoint=self.spec.iterator.value))
            self.end.reading(shard.shard_id)
        self.started = True
        for worker in self.workers.values():
            if worker.name not in self.joining and not worker.crashed:
                worker.start()

    def join(self, name: str) -> None:
        """A worker joins now (a ``join`` fault); before the consumer starts, it starts with the others."""
        self.joining.discard(name)
        if self.started:
            self.workers[name].start()

    def processor(self, lease: Lease, worker: Worker) -> LeaseProcessor:
        """A new processor for a lease a worker starts on; its counters restored from the lease's state when
        the scenario keeps it. Kept state makes every processor of a shard one lineage (one without
        state to restore starts from the lease's first position, with nothing counted, as its
        predecessor did); otherwise each processor's counts are a lineage of their own (the shard's
        first processor's is the shard id, as when one consumer reads it). ``worker`` is the worker it
        will run in (what a subclass tracing processors needs; the processor itself does not)."""
        shard_id = lease.shard_id
        started = self._processors[shard_id] = self._processors.get(shard_id, 0) + 1
        user = self.spec.processor.build() if self.spec.processor is not None else None
        restore = lease.state if self.keeps_state else None
        lineage = shard_id if started == 1 or self.keeps_state else f"{shard_id}@{started}"
        return LeaseProcessor(lease.shard_id, self.counters, lineage, restore, self.spec.checkpoint,  # type: ignore[arg-type]
                              self.timeline.now, user, self.echo)

    def join_take_round(self, worker: Worker) -> None:
        """Take leases for ``worker`` in this instant's take round (after everything else then)."""
        if self._takers is None:
            self._takers = []
            self.timeline.wake(0, TAKE_ROUND).callbacks.append(lambda _: self._take_round())
        self._takers.append(worker)

    def _take_round(self) -> None:
        """The take rounds of every worker due at this instant, as concurrent KCL takers run them: each
        plans on the table as it is, shuffles the leases it wants (seeded; the KCL shuffles too), and the
        takes go one at a time in turn, by worker name; a take someone else's came before is refused."""
        workers = sorted((worker for worker in self._takers or () if not worker.crashed), key=lambda w: w.name)
        self._takers = None
        now = self.timeline.now
        queues = []
        for worker in workers:
            wanted = worker.holder.plan(now)
            free = [item for item in wanted if not item[1]]
            random.Random(f"{self.seed}/{worker.identity}/{now!r}").shuffle(free)
            queues.append((worker, deque(free + [item for item in wanted if item[1]])))
        queues = [(worker, queue) for worker, queue in queues if queue]
        while queues:
            for worker, queue in queues:
                shard_id, stolen = queue.popleft()
                takeover = worker.holder.take_one(shard_id, stolen, now)
                if takeover is not None:
                    worker.took(takeover)
            queues = [(worker, queue) for worker, queue in queues if queue]
        for worker in workers:
            worker.start_consumers()

    def check_stalled(self) -> None:
        """Raise ``StalledError`` when input can never end (see ``errors.StalledError``): every record is in
        the stream, and for a long stretch since then (and since the last scripted fault) no processor was
        given any."""
        now = self.timeline.now
        if not self.end.traffic_done:
            return
        if self._all_put_at is None:
            self._all_put_at = now
        quiet_since = max(self.progress_at, self._all_put_at, self.quiet_until)
        if now - quiet_since <= max(STALL_S, 30 * self.spec.failover_time, 60 * self.spec.poll_interval):
            return
        unread = self.end.unread()
        raise StalledError(f"input never ended: every record was in the stream by {duration_text(self._all_put_at)}, "
                           f"but no processor was given any for {duration_text(now - quiet_since)} "
                           f"and {', '.join(unread) or 'no shard'} {'is' if len(unread) == 1 else 'are'} not read "
                           f"to the end (a processor must checkpoint at shard_ended, or the children "
                           f"never start)")

    def took(self, worker: Worker, shard_id: str, previous: Optional[str], stolen: bool) -> None:
        now = self.progress_at = self.timeline.now
        self.takeovers.append(TakeoverRecord(shard_id, worker.identity, previous, stolen, now,
                                             self._since_trouble(previous)))

    def children_blocked(self, shard_id: str, children: Sequence[ChildShard]) -> bool:
        """Whether a child of a merge cannot have its lease yet: the other parent, still listed by the
        stream, has no lease while this one has (KCL ``ShutdownTask``: ``BlockedOnParentShardException``;
        the shard's end is retried each poll interval). A parent no longer listed (past retention) is not
        waited for."""
        blocking = [child for child in children if len(child.parent_shards) > 1
                    and self.table.get(child.shard_id) is None
                    and any(self.table.get(parent) is None for parent in child.parent_shards if parent != shard_id)]
        if not blocking:
            return False
        listed = {shard.shard_id for shard in self.backend.list_shards(self.stream_name)}
        return any(parent != shard_id and self.table.get(parent) is None and parent in listed
                   for child in blocking for parent in child.parent_shards)

    def ended(self, shard_id: str, children: Sequence[ChildShard]) -> None:
        """A shard's SHARD_END is checkpointed: its children's leases exist. An ended lease is cleaned up
        (deleted) once every one of its children has a lease, and so are its parents'."""
        self.end.shard_finished(shard_id)
        self._children[shard_id] = tuple(child.shard_id for child in children)
        for child in children:
            if not self.end.is_reading(child.shard_id) and self.table.get(child.shard_id) is not None:
                self.end.reading(child.shard_id)
        for candidate in (shard_id,) + tuple(p for child in children for p in child.parent_shards):
            if self._cleanable(candidate):
                self.table.delete(candidate)

    def _cleanable(self, shard_id: str) -> bool:
        """An ended lease may go once each of its children has a lease and every parent of those children
        has ended (no co-parent of a merge will look for it any more)."""
        lease = self.table.get(shard_id)
        if lease is None or not lease.ended or shard_id not in self._children:
            return False
        for child_id in self._children[shard_id]:
            child = self.table.get(child_id)
            if child is None:
                return False
            if not all(self.table.get(p) is None or self.table.get(p).ended for p in child.parents):  # type: ignore[union-attr]
                return False
        return True

    def finish(self) -> None:
        """Input has ended: every running processor is asked to shut down, in worker then shard order."""
        for worker in self.workers.values():
            for shard_id in sorted(worker.consumers):
                worker.consumers[shard_id].shutdown()

    def summary(self, accepted: int) -> WorkersSummary:
        """What the workers did, for the report; ``accepted``: the records the stream took."""
        delivery = self.delivery
        return WorkersSummary(tuple(self.workers), delivery.delivered, delivery.duplicates,
                              max(0, accepted - delivery.distinct), self.checkpoints_written,
                              self.checkpoints_refused, delivery.without_lease, tuple(t for t in self.takeovers if t.previous is not None),
                              tuple(self.holdings), tuple(self.events))

    def _since_trouble(self, previous: Optional[str]) -> Optional[float]:
        """Seconds since the lease's previous owner crashed, or began the pause it is still in."""
        now = self.timeline.now
        if previous is None:
            return None
        if previous in self.crashed_at:
            return now - self.crashed_at[previous]
        for worker in self.workers.values():
            if worker.identity == previous and worker.paused_until > now:
                return now - worker.paused_at
        return None

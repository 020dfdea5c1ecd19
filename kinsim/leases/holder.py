"""One worker's side of the lease table: the leases it believes it holds, renewed, taken, checkpointed.

A worker (a simpy process, built on this) calls ``renew(now)`` every ``failover_time / 3`` and
``take(now)`` every ``2 × failover_time`` (KCL: renewer and taker intervals); the times are given,
nothing here reads a clock. A renew the table refuses means another worker took the lease: it is
dropped, and the worker's processor gets ``lease_lost``. Until that renew, the worker still believes
the lease is its own (a stolen lease, for at most one renew interval; a paused worker's, for as long as
it is paused): its checkpoints are then refused by the table, which is the zombie case
(``ShutdownException``).

Parents before children: a lease may be taken before its parents end (the KCL's taker ignores
parents), but ``processable`` stays False until every parent's lease is at SHARD_END (KCL
``BlockOnParentShardTask``). At a shard's end, ``end_shard`` creates the children's leases *before*
checkpointing SHARD_END (KCL ``ShutdownTask``): a crash in between leaves children waiting for a
parent someone will finish, never an ended parent whose children nobody creates.

A crash is the holder no longer being called; a restart is a new holder (no leases, nothing seen).
"""

from __future__ import annotations

from typing import Optional, Sequence

from ..records import ChildShard
from .table import Lease, LeaseTable, Position, create_child_leases, parents_ended
from .taker import LeaseTaker, Takeover, TakeRound

__all__ = ["Leaseholder", "renew_interval", "take_interval"]


def renew_interval(failover_time: float) -> float:
    return failover_time / 3


def take_interval(failover_time: float) -> float:
    return 2 * failover_time


class Leaseholder:
    def __init__(self, worker: str, table: LeaseTable, failover_time: float) -> None:
        self.worker = worker
        self.table = table
        self.taker = LeaseTaker(worker, failover_time)
        self.held: dict[str, Lease] = {}          # shard id → the lease as this worker last wrote it
        self.checkpoints_written = 0
        self.checkpoints_refused = 0               # by the table, or because the lease was known lost

    def holds(self, shard_id: str) -> bool:
        return shard_id in self.held

    def shards(self) -> list[str]:
        return sorted(self.held)

    def take(self, now: float) -> TakeRound:
        round_ = self.taker.take_round(self.table, now)
        for takeover in round_.taken:
            self.held[takeover.shard_id] = takeover.lease
        return round_

    def plan(self, now: float) -> list[tuple[str, bool]]:
        """The first half of a take round, for workers whose rounds run at one instant: what this worker
        would take (shard id, whether a steal), decided on the table as it is now."""
        return self.taker.wanted(self.taker.plan(self.table, now))

    def take_one(self, shard_id: str, stolen: bool, now: float) -> Optional[Takeover]:
        """The second half, one lease at a time: None if someone else's write came first."""
        takeover = self.taker.take(self.table, shard_id, stolen, now)
        if takeover is not None:
            self.held[shard_id] = takeover.lease
        return takeover

    def renew(self, now: float) -> list[str]:
        """Renew every lease held; returns the shards lost (someone took them), in shard id order."""
        lost = []
        for shard_id in self.shards():
            lease = self.table.renew(shard_id, self.worker, self.held[shard_id].counter)
            if lease is None:
                del self.held[shard_id]
                lost.append(shard_id)
            else:
                self.held[shard_id] = lease
        return lost

    def checkpoint(self, shard_id: str, checkpoint: str, state: object = None) -> Optional[Lease]:
        """Write a checkpoint (and the state saved with it); None if refused, and the lease is then lost."""
        mine = self.held.get(shard_id)
        if mine is None:
            self.checkpoints_refused += 1
            return None
        lease = self.table.checkpoint(shard_id, self.worker, mine.counter, checkpoint, state)
        if lease is None:
            self.checkpoints_refused += 1
            del self.held[shard_id]
            return None
        self.checkpoints_written += 1
        self.held[shard_id] = lease
        return lease

    def release(self, shard_id: str) -> bool:
        """Let a lease go (graceful shutdown): it becomes unowned for anyone to take at once."""
        if self.held.pop(shard_id, None) is None:
            return False
        return self.table.evict(shard_id, self.worker) is not None

    def processable(self, shard_id: str) -> bool:
        """Held, and every parent has ended."""
        mine = self.held.get(shard_id)
        return mine is not None and parents_ended(self.table, mine)

    def end_shard(self, shard_id: str, children: Sequence[ChildShard],
                  state: object = None) -> Optional[Lease]:
        """The shard was read to its end: create the children's leases, then checkpoint SHARD_END. Not
        the children's leases of a shard that has ended already (its lease at SHARD_END, or cleaned
        up): a zombie's end after another worker's, whose children's leases may have come and gone."""
        found = self.table.get(shard_id)
        if found is not None and not found.ended:
            create_child_leases(self.table, children)
        return self.checkpoint(shard_id, Position.SHARD_END.value, state)

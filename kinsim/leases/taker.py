"""Which leases a worker takes, as the KCL 2.x ``DynamoDBLeaseTaker`` decides, on times passed in.

A worker cannot read another's clock, so it judges a lease by its counter: each time it lists the table
it notes, per lease, the instant it last saw the counter change (``LeaseTaker.scan``). A lease is
**available** when it has no owner or its counter has not changed for *more than* ``failover_time``
(KCL ``Lease.isExpired``: ``age > leaseDuration``; unchanged for exactly ``failover_time`` is not
expired). A lease first seen unowned has never changed; one first seen owned counts as changed at
that scan (KCL ``updateAllLeases``).

Each take round (``plan_take``):

1. The **live workers** are the owners of leases that are not available, and the worker itself.
   Its **target** is ``ceil(leases / live workers)``, or 1 when there are at least as many workers as
   leases.
2. If it holds fewer than its target and some leases are available, it takes available ones up to its
   target, in shard id order (the KCL shuffles; kinsim is deterministic, and two workers reaching for
   the same lease are settled by the table: one take is refused).
3. Only if no lease is available does it steal, one lease, from the most loaded worker (most leases,
   then the smallest name), that worker's smallest shard id: when that worker holds more than the
   target, or exactly the target while this one needs more than one (KCL ``chooseLeasesToSteal``; the
   second case is what lets 4 leases held 2/2/0 even out to 2/1/1).

Leases at SHARD_END are left out: nobody takes them, and they count toward no share (the KCL takes
them and shuts their processors down at once, until its cleanup deletes them).

Not modelled: the KCL's "very old lease" priority taking and ``maxLeasesForWorker``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Optional, Sequence

from .table import Lease, LeaseTable

__all__ = ["Seen", "Steal", "TakePlan", "Takeover", "TakeRound", "plan_take", "LeaseTaker"]

NEVER = float("-inf")


@dataclass(frozen=True)
class Seen:
    """A lease as one worker last listed it, with the instant it last saw the counter change."""

    lease: Lease
    since: float

    def available(self, now: float, failover_time: float) -> bool:
        return self.lease.owner is None or now - self.since > failover_time


@dataclass(frozen=True)
class Steal:
    shard_id: str
    victim: str
    victim_held: int        # how many leases the victim held, as the thief counted


@dataclass(frozen=True)
class TakePlan:
    """What one worker decided in one take round, and from what."""

    worker: str
    target: int
    held: int                               # leases it held that others would not take
    counts: tuple[tuple[str, int], ...]     # live workers and their leases, by name
    take: tuple[str, ...] = ()              # available leases to take, by shard id
    steal: Optional[Steal] = None


@dataclass(frozen=True)
class Takeover:
    """A lease a worker took: from nobody, from an owner whose lease expired, or stolen."""

    shard_id: str
    worker: str
    previous_owner: Optional[str]
    stolen: bool
    at: float
    lease: Lease                            # as written by the take


@dataclass(frozen=True)
class TakeRound:
    plan: TakePlan
    taken: tuple[Takeover, ...]
    refused: tuple[str, ...]                # shards whose take the table refused (someone was first)


def plan_take(worker: str, seen: Sequence[Seen], now: float, failover_time: float) -> TakePlan:
    """The KCL's choice for ``worker`` given the leases it has seen; pure."""
    ordered = sorted((s for s in seen if not s.lease.ended), key=lambda s: s.lease.shard_id)
    available = [s.lease for s in ordered if s.available(now, failover_time)]
    counts: dict[str, int] = {worker: 0}
    for s in ordered:
        if not s.available(now, failover_time):
            counts[s.lease.owner] = counts.get(s.lease.owner, 0) + 1
    by_name = tuple(sorted(counts.items()))
    held = counts[worker]
    if not ordered:
        return TakePlan(worker, 0, held, by_name)
    target = 1 if len(counts) >= len(ordered) else math.ceil(len(ordered) / len(counts))
    needed = target - held
    if needed <= 0:
        return TakePlan(worker, target, held, by_name)
    if available:
        return TakePlan(worker, target, held, by_name, take=tuple(l.shard_id for l in available[:needed]))
    victim, most = min(by_name, key=lambda pair: (-pair[1], pair[0]))
    if most > target or (most == target and needed > 1):
        shard_id = min(s.lease.shard_id for s in ordered if s.lease.owner == victim)
        return TakePlan(worker, target, held, by_name, steal=Steal(shard_id, victim, most))
    return TakePlan(worker, target, held, by_name)


class LeaseTaker:
    """One worker's view of the table between take rounds, and its take rounds."""

    def __init__(self, worker: str, failover_time: float) -> None:
        if not failover_time > 0:
            raise ValueError(f"failover_time must be positive, got {failover_time!r}")
        self.worker = worker
        self.failover_time = float(failover_time)
        self._seen: dict[str, Seen] = {}

    def scan(self, leases: Sequence[Lease], now: float) -> tuple[Seen, ...]:
        """Note what the table holds at ``now``; leases gone from it are forgotten."""
        fresh: dict[str, Seen] = {}
        for lease in sorted(leases, key=lambda l: l.shard_id):
            old = self._seen.get(lease.shard_id)
            if old is not None and old.lease.counter == lease.counter:
                since = old.since
            elif old is not None or lease.owner is not None:
                since = now
            else:
                since = NEVER
            fresh[lease.shard_id] = Seen(lease, since)
        self._seen = fresh
        return tuple(fresh.values())

    def seen(self, shard_id: str) -> Optional[Seen]:
        return self._seen.get(shard_id)

    def take_round(self, table: LeaseTable, now: float) -> TakeRound:
        """List the table, plan, and take what the plan says, each take conditional on the counter seen."""
        plan = self.plan(table, now)
        taken, refused = [], []
        for shard_id, stolen in self.wanted(plan):
            takeover = self.take(table, shard_id, stolen, now)
            if takeover is None:
                refused.append(shard_id)
            else:
                taken.append(takeover)
        return TakeRound(plan, tuple(taken), tuple(refused))

    def plan(self, table: LeaseTable, now: float) -> TakePlan:
        """List the table and decide (the first half of a take round)."""
        return plan_take(self.worker, self.scan(table.list(), now), now, self.failover_time)

    @staticmethod
    def wanted(plan: TakePlan) -> list[tuple[str, bool]]:
        """The leases a plan takes, each with whether it is a steal: the available ones, then the steal."""
        wanted = [(shard_id, False) for shard_id in plan.take]
        if plan.steal is not None:
            wanted.append((plan.steal.shard_id, True))
        return wanted

    def take(self, table: LeaseTable, shard_id: str, stolen: bool, now: float) -> Optional[Takeover]:
        """Take one lease, conditional on the counter this worker last saw; None if refused."""
        before = self._seen[shard_id].lease
        lease = table.take(shard_id, self.worker, before.counter)
        if lease is None:
            return None
        self._seen[shard_id] = Seen(lease, now)
        return Takeover(shard_id, self.worker, before.owner, stolen, now, lease)

"""Leases (DESIGN §11): which worker processes which shard, decided as the KCL decides it.

- ``table``: ``Lease``, the ``LeaseTable`` interface and ``MemoryLeaseTable``; conditional writes,
  refusals kept; child leases created when a parent ends.
- ``taker``: the KCL 2.x lease-taking algorithm (expiry by unchanged counter, fair share, one steal),
  pure over the times it is given.
- ``holder``: one worker's leases: renew, take, checkpoint, parents before children.

No clock, no randomness: the workers (``simulation.workers``, simpy processes) pass the time in, and every
choice is ordered by worker name, then shard id (the workers shuffle, seeded, what one take round
wants, as concurrent KCL takers race).
"""

from .holder import Leaseholder, renew_interval, take_interval
from .table import (Lease, LeaseTable, MemoryLeaseTable, Position, Refusal, create_child_leases,
                    parents_ended)
from .taker import LeaseTaker, Seen, Steal, TakePlan, Takeover, TakeRound, plan_take

__all__ = [
    "Lease", "LeaseTable", "MemoryLeaseTable", "Position", "Refusal", "create_child_leases", "parents_ended",
    "LeaseTaker", "Seen", "Steal", "TakePlan", "Takeover", "TakeRound", "plan_take",
    "Leaseholder", "renew_interval", "take_interval",
]

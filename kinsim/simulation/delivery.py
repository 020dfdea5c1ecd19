"""What the workers did, as the report tells it (DESIGN §11, "Delivery metrics"): records delivered to
processors and delivered again, who held which lease when, and each takeover with the time since its
previous owner crashed or stalled.

Within a shard, records are delivered in sequence number order, and a processor starts after a
checkpoint, which is at or before anything delivered. So a batch's records at or below the shard's
highest sequence number delivered so far are the ones delivered again (duplicates); the others are new.
One comparison per batch when nothing is redelivered (a binary search in the batch when something is).
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass, field
from typing import Optional, Sequence

__all__ = ["Delivery", "Holding", "TakeoverRecord", "WorkerEvent", "WorkersSummary"]


@dataclass
class Delivery:
    delivered: int = 0        # records handed to processors, duplicates included
    duplicates: int = 0       # of those, records handed over before (to this or another processor)
    distinct: int = 0         # records handed over at least once
    without_lease: int = 0    # records handed to a processor whose worker no longer held the lease (a zombie)
    highest: dict[str, int] = field(default_factory=dict)   # shard id → highest sequence number delivered

    def batch(self, shard_id: str, sequence_numbers: Sequence[int]) -> int:
        """Count one batch delivered from ``shard_id``; returns how many of it were delivered before."""
        count = len(sequence_numbers)
        if not count:
            return 0
        self.delivered += count
        highest = self.highest.get(shard_id)
        again = 0
        if highest is not None and sequence_numbers[0] <= highest:
            again = bisect_right(sequence_numbers, highest)
            self.duplicates += again
        self.distinct += count - again
        if again < count:
            self.highest[shard_id] = sequence_numbers[-1]
        return again


@dataclass(frozen=True)
class WorkerEvent:
    """A worker crashed, stalled (a pause) or restarted, at ``at`` seconds after the start."""

    worker: str
    what: str           # "crash" | "pause" | "restart"
    at: float
    until: Optional[float] = None   # a pause's end


@dataclass(frozen=True)
class TakeoverRecord:
    """A lease taken: by ``worker`` from ``previous`` (None: nobody held it), at ``at``; both as the lease
    table names them (a restarted worker's new identity, ``w1#2``). ``after`` is the time since
    ``previous`` crashed or stalled (None: it was neither: an expired lease it let go, or a steal from a
    live worker)."""

    shard_id: str
    worker: str
    previous: Optional[str]
    stolen: bool
    at: float
    after: Optional[float] = None


@dataclass
class Holding:
    """``worker`` (as the lease table names it: ``w1#2`` for w1 restarted) held ``shard_id``'s lease from
    ``start`` to ``end`` (None: to the end of the run), and why it stopped holding it: "ended"
    (SHARD_END), "lost" (another took it), "crashed"."""

    worker: str
    shard_id: str
    start: float
    end: Optional[float] = None
    how: str = ""


@dataclass(frozen=True)
class WorkersSummary:
    """What the report says of the workers. ``never_delivered``: records the stream took that no processor
    was given (0 unless retention trimmed them, or a ``LATEST`` start passed them by)."""

    names: tuple[str, ...]
    delivered: int
    duplicates: int
    never_delivered: int
    checkpoints_written: int
    checkpoints_refused: int
    without_lease: int                         # records a zombie processed after its lease was taken
    takeovers: tuple[TakeoverRecord, ...]     # leases taken from another worker, in time order
    holdings: tuple[Holding, ...]             # in the order leases were taken
    events: tuple[WorkerEvent, ...]

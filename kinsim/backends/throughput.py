"""A shard's throughput limits, and its read budget on the clock.

Writes: at most ``write_records_per_s`` records and ``write_bytes_per_s`` bytes in any one-second span
``(now - 1, now]``; the shard checks them against its own records as it appends (``ShardLog.append``).
Reads: at most ``read_calls_per_s`` GetRecords calls in any such span, and ``read_bytes_per_s`` of
returned data as a debt that drains at that rate: one call may return up to 10 MiB, after which the
shard refuses reads until the debt has drained (a 10 MiB read blocks the next ~4 s, as the service
documents "within the next 5 seconds"). When the shard's limits change (a throttle's start or end),
what it still owes drains at the new rate from then on: a lowered read rate holds for its span only.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Optional

from . import limits

__all__ = ["ShardLimits", "SERVICE_LIMITS", "ReadBudget"]


@dataclass(frozen=True)
class ShardLimits:
    write_records_per_s: int = limits.SHARD_WRITE_RECORDS_PER_S
    write_bytes_per_s: int = limits.SHARD_WRITE_BYTES_PER_S
    read_calls_per_s: int = limits.SHARD_READ_CALLS_PER_S
    read_bytes_per_s: int = limits.SHARD_READ_BYTES_PER_S


SERVICE_LIMITS = ShardLimits()


class ReadBudget:
    """The read calls and bytes of one shard, measured on the clock."""

    __slots__ = ("_calls", "_busy_until")

    def __init__(self) -> None:
        self._calls: deque[float] = deque()
        self._busy_until = float("-inf")

    def admit(self, now: float, shard_limits: ShardLimits) -> bool:
        """Whether a GetRecords call may run now (and count it); a refused call takes nothing."""
        calls, horizon = self._calls, now - 1.0
        while calls and calls[0] <= horizon:
            calls.popleft()
        if len(calls) >= shard_limits.read_calls_per_s or self._busy_until > now:
            return False
        calls.append(now)
        return True

    def charge(self, now: float, size: int, shard_limits: ShardLimits) -> None:
        """Account ``size`` bytes returned by an admitted read against the bytes-per-second budget."""
        start = max(self._busy_until, now - 1.0)
        self._busy_until = start + size / shard_limits.read_bytes_per_s

    def relimit(self, now: float, old: Optional[ShardLimits], new: Optional[ShardLimits]) -> None:
        """The shard's limits change from ``old`` to ``new`` at ``now``: the bytes still owed drain at the
        new rate from now on."""
        if old is None or new is None or self._busy_until <= now or old.read_bytes_per_s == new.read_bytes_per_s:
            return
        owed = (self._busy_until - now) * old.read_bytes_per_s
        self._busy_until = now + owed / new.read_bytes_per_s

"""Per-shard read limits, measured on the injected clock. (Write limits are read off the shard's own
columns: ``ShardLog.write_load``.)

Reads: at most 5 GetRecords calls in
any one-second span, and 2 MiB/s of returned data as a debt that drains at that rate: one call may
return up to 10 MiB, after which the shard refuses reads until the debt has drained (a 10 MiB read
blocks the next ~4 s, as the service documents "within the next 5 seconds").
"""

from __future__ import annotations

from collections import deque

from . import limits

__all__ = ["ShardThroughput"]


class _SlidingWindow:
    """Sums of (count, bytes) over the half-open span (now - span, now]."""

    __slots__ = ("_span", "_entries", "count", "size")

    def __init__(self, span: float = 1.0) -> None:
        self._span = span
        self._entries: deque[list] = deque()  # [time, count, size], times non-decreasing
        self.count = 0
        self.size = 0

    def expire(self, now: float) -> None:
        entries = self._entries
        horizon = now - self._span
        while entries and entries[0][0] <= horizon:
            _, count, size = entries.popleft()
            self.count -= count
            self.size -= size

    def add(self, now: float, count: int, size: int) -> None:
        entries = self._entries
        if entries and entries[-1][0] == now:
            entries[-1][1] += count
            entries[-1][2] += size
        else:
            entries.append([now, count, size])
        self.count += count
        self.size += size


class ShardThroughput:
    """The read budget of one shard."""

    __slots__ = ("_read_calls", "_read_busy_until")

    def __init__(self) -> None:
        self._read_calls = _SlidingWindow()
        self._read_busy_until = float("-inf")

    def admit_read(self, now: float) -> bool:
        """Whether a GetRecords call may run now; a refused call takes nothing."""
        calls = self._read_calls
        calls.expire(now)
        if calls.count >= limits.SHARD_READ_CALLS_PER_S or self._read_busy_until > now:
            return False
        calls.add(now, 1, 0)
        return True

    def charge_read(self, now: float, size: int) -> None:
        """Account ``size`` bytes returned by an admitted read against the 2 MiB/s budget."""
        start = max(self._read_busy_until, now - 1.0)
        self._read_busy_until = start + size / limits.SHARD_READ_BYTES_PER_S

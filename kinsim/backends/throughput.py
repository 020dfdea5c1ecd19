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


class _Calls:
    """How many calls fell in the half-open span (now - span, now]."""

    __slots__ = ("_span", "_times")

    def __init__(self, span: float = 1.0) -> None:
        self._span = span
        self._times: deque[float] = deque()

    def count(self, now: float) -> int:
        times, horizon = self._times, now - self._span
        while times and times[0] <= horizon:
            times.popleft()
        return len(times)

    def add(self, now: float) -> None:
        self._times.append(now)


class ShardThroughput:
    """The read budget of one shard."""

    __slots__ = ("_read_calls", "_read_busy_until")

    def __init__(self) -> None:
        self._read_calls = _Calls()
        self._read_busy_until = float("-inf")

    def admit_read(self, now: float) -> bool:
        """Whether a GetRecords call may run now; a refused call takes nothing."""
        if self._read_calls.count(now) >= limits.SHARD_READ_CALLS_PER_S or self._read_busy_until > now:
            return False
        self._read_calls.add(now)
        return True

    def charge_read(self, now: float, size: int) -> None:
        """Account ``size`` bytes returned by an admitted read against the 2 MiB/s budget."""
        start = max(self._read_busy_until, now - 1.0)
        self._read_busy_until = start + size / limits.SHARD_READ_BYTES_PER_S

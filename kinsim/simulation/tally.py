"""Counts per minute of simulated time, for the report's throughput table."""

from __future__ import annotations

from bisect import bisect_left
from typing import Sequence

__all__ = ["MinuteTally"]


class MinuteTally:
    """How many things happened in each minute after the start (minute ``m`` is ``[60 m, 60 m + 60)``)."""

    __slots__ = ("counts",)

    def __init__(self) -> None:
        self.counts: dict[int, int] = {}

    def add(self, at: float, count: int = 1) -> None:
        minute = int(at // 60)
        self.counts[minute] = self.counts.get(minute, 0) + count

    def add_sorted(self, times: Sequence[float]) -> None:
        """Count each of these times (in order): one step per minute they span, not per time."""
        i, n, counts = 0, len(times), self.counts
        while i < n:
            minute = int(times[i] // 60)
            j = bisect_left(times, (minute + 1) * 60.0, i + 1, n)
            counts[minute] = counts.get(minute, 0) + j - i
            i = j

"""Clocks: where simulated shards get the time from.

Time is given, never taken: a backend asks the clock it was handed. ``ManualClock`` moves only when told
(tests, and the simulation, which sets it from its own virtual time); ``WallClock`` follows the real
clock and is chosen only at the top, by ``kinsim.client()``, to behave like a live endpoint.
Times are float seconds since the Unix epoch, UTC.
"""

from __future__ import annotations

import time
from typing import Callable, Protocol, runtime_checkable

__all__ = ["Clock", "ManualClock", "WallClock", "FunctionClock"]


@runtime_checkable
class Clock(Protocol):
    def now(self) -> float:
        """Seconds since the Unix epoch."""


class ManualClock:
    """A clock that stands still until moved; it never goes back."""

    def __init__(self, start: float = 0.0) -> None:
        self._now = float(start)

    def now(self) -> float:
        return self._now

    def advance(self, seconds: float) -> float:
        if seconds < 0:
            raise ValueError(f"a clock cannot go back (advance by {seconds})")
        self._now += seconds
        return self._now

    def set(self, instant: float) -> None:
        if instant < self._now:
            raise ValueError(f"a clock cannot go back (from {self._now} to {instant})")
        self._now = float(instant)

    def __repr__(self) -> str:
        return f"ManualClock({self._now!r})"


class FunctionClock:
    """A clock read from a function, e.g. ``lambda: start + env.now`` for a simpy environment."""

    def __init__(self, now: Callable[[], float]) -> None:
        self._now = now

    def now(self) -> float:
        return self._now()


class WallClock:
    """The real clock. Only the top of the program (``kinsim.client()``) should pick this one."""

    def now(self) -> float:
        return time.time()

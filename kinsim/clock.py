"""Clocks: where simulated shards get the time from, and how they make things happen later.

Time is given, never taken: a backend asks the clock it was handed. A clock also runs what must happen
at an instant of its own (a reshard completing after the stream's update delay, retention reclaiming
old records): ``call_after(delay, callback)`` runs ``callback(instant)`` once ``delay`` seconds have
passed, with the instant it was due.

- ``ManualClock`` moves only when told (tests, library users); moving it runs every callback that falls
  due on the way, in time order, each with the clock standing at its own instant.
- ``WallClock`` follows the real clock, for ``kinsim.client()`` as a live endpoint; ``FunctionClock``
  reads any function. They run due callbacks whenever they are read, before answering: every backend
  call reads the clock first, so no call sees the stream as it was before a change that is due.
- The simulation's clock (``kinsim.simulation.timeline``) reads its simpy environment, where each
  callback is an event at its instant.

Times are float seconds since the Unix epoch, UTC.
"""

from __future__ import annotations

import heapq
import itertools
import time
from typing import Callable, Protocol, runtime_checkable

__all__ = ["Clock", "ManualClock", "WallClock", "FunctionClock"]

Callback = Callable[[float], None]  # called with the instant it was due


@runtime_checkable
class Clock(Protocol):
    def now(self) -> float:
        """Seconds since the Unix epoch."""

    def call_after(self, delay: float, callback: Callback) -> None:
        """Run ``callback(instant)`` once ``delay`` seconds have passed: in order of the instants they
        are due, then of asking."""


class _Pending:
    """Callbacks waiting for their instant, in order."""

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, Callback]] = []
        self._order = itertools.count()

    def add(self, when: float, callback: Callback) -> None:
        heapq.heappush(self._heap, (float(when), next(self._order), callback))

    def next_due(self, until: float):
        """The next callback due by ``until`` as (when, callback), taken out; None if there is none."""
        if self._heap and self._heap[0][0] <= until:
            when, _, callback = heapq.heappop(self._heap)
            return when, callback
        return None


EARLIEST_S = -62_135_596_800.0   # 0001-01-01T00:00:00Z: the earliest instant an API timestamp carries
LATEST_S = 253_402_300_799.0     # 9999-12-31T23:59:59Z: the latest


def _instant(value: float) -> float:
    instant = float(value)
    if not EARLIEST_S <= instant <= LATEST_S:
        raise ValueError(f"a clock reads instants between the years 1 and 9999 ({EARLIEST_S:g} to {LATEST_S:g} "
                         f"seconds since the epoch), got {value!r}")
    return instant


class ManualClock:
    """A clock that stands still until moved; it never goes back, nor past the years 1 to 9999. Moving it
    runs the callbacks that fall due on the way, each at its own instant."""

    def __init__(self, start: float = 0.0) -> None:
        self._now = _instant(start)
        self._pending = _Pending()

    def now(self) -> float:
        return self._now

    def call_after(self, delay: float, callback: Callback) -> None:
        if delay <= 0:
            callback(self._now)
        else:
            self._pending.add(self._now + delay, callback)

    def advance(self, seconds: float) -> float:
        if not seconds >= 0:
            raise ValueError(f"a clock cannot go back (advance by {seconds})")
        self._move_to(_instant(self._now + seconds))
        return self._now

    def set(self, instant: float) -> None:
        if not instant >= self._now:
            raise ValueError(f"a clock cannot go back (from {self._now} to {instant})")
        self._move_to(_instant(instant))

    def _move_to(self, instant: float) -> None:
        while (due := self._pending.next_due(instant)) is not None:
            self._now = max(self._now, due[0])
            due[1](self._now)
        self._now = instant

    def __repr__(self) -> str:
        return f"ManualClock({self._now!r})"


class FunctionClock:
    """A clock read from a function, e.g. ``time.time``; due callbacks run whenever it is read."""

    def __init__(self, now: Callable[[], float]) -> None:
        self._read = now
        self._pending = _Pending()
        self._running = False

    def now(self) -> float:
        instant = self._read()
        if not self._running:
            self._running = True
            try:
                while (due := self._pending.next_due(instant)) is not None:
                    due[1](due[0])
            finally:
                self._running = False
        return instant

    def call_after(self, delay: float, callback: Callback) -> None:
        self._pending.add(self._read() + delay, callback)


class WallClock(FunctionClock):
    """The real clock. Only the top of the program (``kinsim.client()``) should pick this one."""

    def __init__(self) -> None:
        super().__init__(time.time)

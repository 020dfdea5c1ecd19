"""One owner of time: the simulation's simpy environment, and the clock a backend reads from it.

Everything that happens in a run is a process or an event on this timeline. At one instant, events run
in this order (simpy orders by time, then priority, then the order they were scheduled in):

1. ``STREAM``: stream changes due then (a reshard completing after the update delay, retention);
2. ``FAULT``: the scenario's faults due then, in the schedule's order: after the stream's own changes,
   so a reshard asked for at the very instant the previous one completes finds it complete, as the
   loader's check of the schedule does (``scenario.checking``);
3. ``TRAFFIC``: the producers' attempts due then reach the stream;
4. processes starting then (simpy's ``URGENT``);
5. everything else, in the order it was scheduled (simpy's ``NORMAL``): polls, scripted actions.
6. a worker waking from a pause renews, after its shard consumers went on (``workers.AFTER_PROCESSING``);
7. the take rounds due then, all workers' together (``workers.TAKE_ROUND``).

The traffic may run ahead through a gap in which nothing else is scheduled (``horizon``): delivering a
thousand records at their own instants in one step is the same as a thousand steps, as long as nobody
else acts in between; it moves the clock along as it goes (``advance_to``), so a backend never sees a
record arrive after its own now. On the wall clock (``RealtimeTimeline``) it never runs ahead: each
record is put when it is due.
"""

from __future__ import annotations

import simpy
import simpy.rt
from simpy.events import Event

from ..clock import Callback

__all__ = ["Timeline", "RealtimeTimeline", "SimulationClock", "STREAM", "FAULT", "TRAFFIC"]

STREAM = -3
FAULT = -2
TRAFFIC = -1


class Wake(Event):
    """An event that fires ``delay`` seconds from now with a priority of its own: simpy's ``Timeout``
    with a chosen priority (``STREAM``, ``TRAFFIC``), built the way ``Timeout`` builds itself."""

    def __init__(self, env: simpy.Environment, delay: float, priority: int) -> None:
        super().__init__(env)
        self._ok = True
        self._value = None
        env.schedule(self, priority, delay)


class SimulationClock:
    """A backend's clock on a timeline: seconds since the epoch, ``start_s`` at the timeline's zero."""

    def __init__(self, timeline: "Timeline", start_s: float) -> None:
        self._timeline = timeline
        self.start_s = start_s

    def now(self) -> float:
        return self.start_s + self._timeline.now

    def call_after(self, delay: float, callback: Callback) -> None:
        """An event ``delay`` seconds from now, before anything else at its instant."""
        event = self._timeline.wake(max(0.0, delay), STREAM)
        event.callbacks.append(lambda _: callback(self.now()))


class Timeline(simpy.Environment):
    """A simpy environment whose zero is ``start_s`` seconds since the epoch."""

    lookahead = True  # the traffic may run ahead through gaps where nothing else is scheduled

    def __init__(self, start_s: float) -> None:
        simpy.Environment.__init__(self)
        self.clock = SimulationClock(self, start_s)

    def wake(self, delay: float, priority: int) -> Wake:
        """An event ``delay`` seconds from now with the given priority (``STREAM``, ``TRAFFIC``)."""
        return Wake(self, delay, priority)

    def horizon(self, most: float) -> float:
        """The time of the next scheduled event, but at most ``most`` seconds from now: nothing but the
        caller happens before it."""
        return min(self.peek(), self.now + most) if self.lookahead else self.now

    def advance_to(self, instant: float) -> None:
        """Move now forward through a gap in which nothing else is scheduled (up to ``horizon``)."""
        if instant == self._now:
            return
        if instant < self._now:
            raise ValueError(f"the timeline cannot go back from {self._now!r} to {instant!r}")
        if instant > self.peek() or not self.lookahead:
            raise ValueError(f"cannot advance to {instant!r}: something else happens at {self.peek()!r}")
        self._now = instant


class RealtimeTimeline(Timeline, simpy.rt.RealtimeEnvironment):
    """A timeline paced on the wall clock, ``speed`` simulated seconds per real second."""

    lookahead = False

    def __init__(self, start_s: float, speed: float) -> None:
        simpy.rt.RealtimeEnvironment.__init__(self, factor=1.0 / speed, strict=False)
        self.clock = SimulationClock(self, start_s)

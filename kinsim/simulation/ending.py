"""The end of input, a condition the runner owns: every record created and delivered, and every shard
read to its tip at or after the last delivery.

Pollers report what they see; the traffic reports through its stats; when the condition first holds,
the runner's ``on_end`` is called at that instant (it closes the counters: their watermarks become
+inf), pollers stop, and ``event`` fires: the run ends there, whatever else the timeline holds (a
retention event a day later, say).
"""

from __future__ import annotations

from typing import Callable, Optional

from simpy.events import Event

from .traffic import TrafficStats

__all__ = ["InputEnd"]


class InputEnd:
    def __init__(self, traffic: TrafficStats, event: Event, on_end: Callable[[float], None]) -> None:
        self._traffic = traffic
        self.event = event
        self._now = lambda: event.env.now
        self._on_end = on_end
        self._caught_up_at: dict[str, Optional[float]] = {}  # shard → its last poll that reached the tip
        self.finished: set[str] = set()                       # closed shards read to their end
        self.at: Optional[float] = None                       # when input ended (seconds after the start)

    @property
    def traffic_done(self) -> bool:
        """Every record created and delivered to the stream."""
        return self._traffic.done

    def unread(self) -> list[str]:
        """The shards not read to their tip since the last delivery, in shard id order."""
        last = self._traffic.last_delivery
        return sorted(shard for shard, at in self._caught_up_at.items() if at is None or at < last)

    @property
    def reached(self) -> bool:
        return self.at is not None

    def reading(self, shard_id: str) -> None:
        """A poller has started on this shard, or it is to be read (a new lease, a crashed reader's). A
        shard already read to its end stays finished (a zombie's poller, or its crash, says nothing new)."""
        if shard_id not in self.finished:
            self._caught_up_at[shard_id] = None

    def is_reading(self, shard_id: str) -> bool:
        return shard_id in self._caught_up_at

    def polled(self, shard_id: str, caught_up: bool, now: Optional[float] = None) -> None:
        """A poll of an open shard, which did or did not reach its tip (of a finished one: a zombie's, which
        another worker has read to its end already; it changes nothing). ``now``: the timeline's now, if
        the caller has it."""
        if shard_id not in self.finished:
            self._caught_up_at[shard_id] = (self._now() if now is None else now) if caught_up else None
        if self.at is None and self._traffic.done:
            self.check()

    def shard_finished(self, shard_id: str) -> None:
        """A closed shard has been read to its end."""
        self.finished.add(shard_id)
        self._caught_up_at.pop(shard_id, None)

    def check(self) -> None:
        if self.at is not None or not self._traffic.done:
            return
        last = self._traffic.last_delivery
        if all(at is not None and at >= last for at in self._caught_up_at.values()):
            self.at = self._now()
            self._on_end(self.at)
            self.event.succeed(self.at)

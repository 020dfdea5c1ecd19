"""Windows aligned to the Unix epoch, in whole microseconds: tumbling when slide == size, hopping when
slide < size (a record then belongs to every window that contains its timestamp)."""

from __future__ import annotations

from collections import Counter as Tally
from dataclasses import dataclass
from itertools import compress, repeat
from operator import le
from typing import Sequence

__all__ = ["Windowing"]

_last_starts: list = [None, None, None]  # (times, slide, starts): one poll's answer, for its next counter
_last_tally: list = [None, None, None, None]  # (times, keys, slide, counts): likewise
_FEW_WINDOWS = 4  # a poll spanning at most this many windows is tallied window by window


@dataclass(frozen=True)
class Windowing:
    size_us: int
    slide_us: int

    def __post_init__(self) -> None:
        if self.size_us <= 0 or self.slide_us <= 0 or self.size_us % self.slide_us:
            raise ValueError("windows need size > 0, slide > 0 and size a whole number of slides")

    @classmethod
    def of_seconds(cls, size: float, slide: float) -> "Windowing":
        return cls(round(size * 1_000_000), round(slide * 1_000_000))

    def latest_starts(self, event_us: Sequence[int]) -> list[int]:
        """For each time, the start of the latest window holding it (its only one when tumbling).
        The counters of one poll ask about the same tuple of times: the last answer is kept for the next
        (only for a tuple, which cannot change under it)."""
        last = _last_starts
        if last[0] is event_us and last[1] == self.slide_us:
            return last[2]
        slide = self.slide_us
        starts = [ts - ts % slide for ts in event_us]
        if type(event_us) is tuple:
            last[:] = [event_us, slide, starts]
        return starts

    def tally(self, event_us: Sequence[int], keys: Sequence[str]) -> dict[tuple[int, str], int]:
        """How many records of each key have each latest window start; kept for the poll's next counter,
        like ``latest_starts``. A poll's times mostly span a few windows: then the keys are counted
        from each window's start on, and the counts subtracted, without a start per record."""
        last = _last_tally
        if last[0] is event_us and last[1] is keys and last[2] == self.slide_us:
            return last[3]
        slide = self.slide_us
        low, high = min(event_us), max(event_us)
        first, final = low - low % slide, high - high % slide
        if final - first < _FEW_WINDOWS * slide:
            counts: dict[tuple[int, str], int] = {}
            later: dict[str, int] = {}  # keys of the records in the windows after ``start``
            for start in range(final, first - 1, -slide):
                from_here = Tally(keys if start == first else compress(keys, map(le, repeat(start), event_us)))
                for key, count in from_here.items():
                    count -= later.get(key, 0)
                    if count:
                        counts[(start, key)] = count
                later = from_here
        else:
            counts = Tally(zip(self.latest_starts(event_us), keys))
        if type(event_us) is tuple and type(keys) is tuple:
            last[:] = [event_us, keys, self.slide_us, counts]
        return counts

    def hops(self, latest_start: int) -> range:
        """Starts of every window that holds what the window at ``latest_start`` holds last."""
        return range(latest_start - self.size_us + self.slide_us, latest_start + 1, self.slide_us)

    def starts(self, ts_us: int) -> range:
        """Starts of the windows ``[start, start + size)`` that contain ``ts_us``, earliest first."""
        last = ts_us - ts_us % self.slide_us
        return range(last - self.size_us + self.slide_us, last + 1, self.slide_us)

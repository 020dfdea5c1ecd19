"""Windows aligned to the Unix epoch, in whole microseconds: tumbling when slide == size, hopping when
slide < size (a record then belongs to every window that contains its timestamp).

Every method is pure: it computes its answer from its arguments and returns a new object the caller owns.
"""

from __future__ import annotations

from collections import _count_elements  # what collections.Counter counts with (C), without its checks
from dataclasses import dataclass
from itertools import compress, repeat
from operator import lt
from typing import Optional, Sequence

__all__ = ["Windowing", "add_counts"]


def _tally(items) -> dict:
    """How many times each item occurs, as ``collections.Counter(items)`` counts them, in a plain dict
    (a counter's checks cost more than a few records' counting: a poll of 8 records 1.0 -> 0.4 µs)."""
    counts: dict = {}
    _count_elements(counts, items)
    return counts


@dataclass(frozen=True)
class Windowing:
    size_us: int
    slide_us: int

    def __post_init__(self) -> None:
        if self.size_us <= 0:
            raise ValueError("a window's size must be above 0")
        if not 0 < self.slide_us <= self.size_us:
            raise ValueError("slide must be above 0 and at most the size, or windows would leave gaps")
        if self.size_us % self.slide_us:
            raise ValueError("size must be a whole number of slides, so windows align")

    @classmethod
    def of_seconds(cls, size: float, slide: Optional[float] = None) -> "Windowing":
        """Windows of ``size`` seconds every ``slide`` seconds (default: ``size``, tumbling)."""
        return cls(round(size * 1_000_000), round((size if slide is None else slide) * 1_000_000))

    @property
    def tumbling(self) -> bool:
        return self.size_us == self.slide_us

    def latest_starts(self, event_us: Sequence[int]) -> list[int]:
        """For each time, the start of the latest window holding it (its only one when tumbling)."""
        slide = self.slide_us
        return [ts - ts % slide for ts in event_us]

    def tally(self, event_us: Sequence[int], keys: Sequence[str], low: Optional[int] = None,
              high: Optional[int] = None) -> dict[int, dict[str, int]]:
        """How many records of each key have each latest window start: ``{start: {key: count}}``, in new
        dicts the caller may keep; ``low`` and ``high`` are ``min(event_us)`` and ``max(event_us)`` when
        the caller has them already.

        A poll's times mostly fall in one window, or in two: then the keys are counted at once (and those
        of the earlier window on their own, and subtracted), with no window start per record."""
        slide = self.slide_us
        if low is None or high is None:
            low, high = min(event_us), max(event_us)
        earliest, latest = low - low % slide, high - high % slide
        if earliest == latest:
            return {latest: {keys[0]: 1} if len(keys) == 1 else _tally(keys)}
        if earliest == latest - slide:
            earlier, in_latest = _tally(compress(keys, map(lt, event_us, repeat(latest)))), _tally(keys)
            for key, count in earlier.items():
                left = in_latest[key] - count
                if left:
                    in_latest[key] = left
                else:
                    in_latest.pop(key)
            return {earliest: earlier, latest: in_latest}
        counts: dict[int, dict[str, int]] = {}
        for (start, key), count in _tally(zip(self.latest_starts(event_us), keys)).items():
            window = counts.get(start)
            if window is None:
                counts[start] = {key: count}
            else:
                window[key] = count
        return counts

    def hops(self, latest_start: int) -> range:
        """Starts of every window that holds what the window at ``latest_start`` holds last."""
        return range(latest_start - self.size_us + self.slide_us, latest_start + 1, self.slide_us)

    def starts(self, ts_us: int) -> range:
        """Starts of the windows ``[start, start + size)`` that contain ``ts_us``, earliest first."""
        last = ts_us - ts_us % self.slide_us
        return range(last - self.size_us + self.slide_us, last + 1, self.slide_us)


def add_counts(cells: dict[str, int], counts: dict[str, int]) -> int:
    """Add one window's counts per key into its cells; returns how many cells are new."""
    held = len(cells)
    get = cells.get
    for key, count in counts.items():
        cells[key] = get(key, 0) + count
    return len(cells) - held

"""Windows aligned to the Unix epoch, in whole microseconds: tumbling when slide == size, hopping when
slide < size (a record then belongs to every window that contains its timestamp)."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Windowing"]


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

    def starts(self, ts_us: int) -> range:
        """Starts of the windows ``[start, start + size)`` that contain ``ts_us``, earliest first."""
        last = ts_us - ts_us % self.slide_us
        return range(last - self.size_us + self.slide_us, last + 1, self.slide_us)

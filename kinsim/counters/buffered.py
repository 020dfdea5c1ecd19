"""The buffered counter: per-shard watermark, grace and allowed lateness (DESIGN §6).

Records are taken one by one in shard order. Per shard, ``max_ts`` is the largest event time among
records that were not late, and the watermark is ``W = max_ts - grace``; it never goes back. A window
``[s, e)`` fires once ``W >= e``: its counts are reported at the processing time of that poll. The cell
is then kept until ``W >= e + allowed_lateness``, and a record for it meanwhile updates the count and
reports the correction. After that the cell is evicted, and a record whose every window is evicted is
late: not counted, kept in ``late`` with how late it was. At the end of input ``W`` becomes +inf and
every open window fires.
"""

from __future__ import annotations

import heapq
from typing import Optional, Sequence

from .base import LateRecord, Sink
from .windows import Windowing

__all__ = ["BufferedCounter"]


class _Shard:
    """One shard's watermark and the windows it holds."""

    __slots__ = ("max_ts", "windows", "to_fire", "to_evict", "fired")

    def __init__(self) -> None:
        self.max_ts: Optional[int] = None
        self.windows: dict[int, dict[str, int]] = {}  # window start → key → count
        self.to_fire: list[int] = []                   # heap of starts of windows not yet fired
        self.to_evict: list[int] = []                  # heap of starts of fired windows still held
        self.fired: set[int] = set()


class BufferedCounter:
    kind = "buffered"

    def __init__(self, name: str, windowing: Windowing, sink: Sink, grace_us: int = 0,
                 allowed_lateness_us: int = 0) -> None:
        if grace_us < 0 or allowed_lateness_us < 0:
            raise ValueError("grace and allowed lateness cannot be negative")
        self.name = name
        self.windowing = windowing
        self.grace_us = grace_us
        self.allowed_lateness_us = allowed_lateness_us
        self._sink = sink
        self._shards: dict[str, _Shard] = {}
        self._cells = 0
        self.records_counted = 0
        self.emitted_rows = 0
        self.peak_state_cells = 0
        self.late: list[LateRecord] = []

    @property
    def state_cells(self) -> int:
        return self._cells

    def watermark(self, shard_id: str) -> Optional[int]:
        """The shard's watermark in microseconds, or None before its first record."""
        shard = self._shards.get(shard_id)
        if shard is None or shard.max_ts is None:
            return None
        return shard.max_ts - self.grace_us

    def _report(self, start: int, key: str, count: int, now_us: int) -> None:
        self.emitted_rows += 1
        self._sink(start, key, count, now_us)

    def process(self, shard_id: str, records: Sequence[tuple[str, int]], now_us: int) -> None:
        self.process_columns(shard_id, [key for key, _ in records], [ts for _, ts in records], now_us)

    def process_columns(self, shard_id: str, keys: Sequence[str], event_us: Sequence[int], now_us: int) -> None:
        shard = self._shards.get(shard_id)
        if shard is None:
            shard = self._shards[shard_id] = _Shard()
        size, lateness = self.windowing.size_us, self.allowed_lateness_us
        for key, ts in zip(keys, event_us):
            watermark = None if shard.max_ts is None else shard.max_ts - self.grace_us
            counted = False
            for start in self.windowing.starts(ts):
                end = start + size
                if watermark is not None and watermark >= end + lateness:
                    continue  # evicted
                cells = shard.windows.get(start)
                if cells is None:
                    cells = shard.windows[start] = {}
                    if watermark is not None and watermark >= end:
                        shard.fired.add(start)  # passed while empty: counts from now on are corrections
                        heapq.heappush(shard.to_evict, start)
                    else:
                        heapq.heappush(shard.to_fire, start)
                if key not in cells:
                    self._cells += 1
                cells[key] = cells.get(key, 0) + 1
                counted = True
                if start in shard.fired:
                    self._report(start, key, cells[key], now_us)
            if not counted:
                self.late.append(LateRecord(shard_id, key, ts, watermark - ts, now_us))
                continue
            self.records_counted += 1
            self.peak_state_cells = max(self.peak_state_cells, self._cells)
            if shard.max_ts is None or ts > shard.max_ts:
                shard.max_ts = ts
                self._advance(shard, shard.max_ts - self.grace_us, now_us)

    def _advance(self, shard: _Shard, watermark: float, now_us: int) -> None:
        """Fire the windows the watermark has passed, then evict those past their allowed lateness."""
        size, lateness = self.windowing.size_us, self.allowed_lateness_us
        while shard.to_fire and shard.to_fire[0] + size <= watermark:
            start = heapq.heappop(shard.to_fire)
            cells = shard.windows[start]
            for key in sorted(cells):
                self._report(start, key, cells[key], now_us)
            shard.fired.add(start)
            heapq.heappush(shard.to_evict, start)
        while shard.to_evict and shard.to_evict[0] + size + lateness <= watermark:
            start = heapq.heappop(shard.to_evict)
            self._cells -= len(shard.windows.pop(start))
            shard.fired.discard(start)

    def close(self, now_us: int) -> None:
        for shard_id in sorted(self._shards):
            self._advance(self._shards[shard_id], float("inf"), now_us)

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
from bisect import bisect_left
from itertools import accumulate, repeat
from operator import add, le
from typing import Optional, Sequence

from .base import LateRecord, Sink
from .windows import Windowing

__all__ = ["BufferedCounter"]

_NONE = float("-inf")  # the max_ts of a shard that has seen nothing


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
                 allowed_lateness_us: int = 0, *, bulk: bool = True) -> None:
        if grace_us < 0 or allowed_lateness_us < 0:
            raise ValueError("grace and allowed lateness cannot be negative")
        self.name = name
        self.windowing = windowing
        self.grace_us = grace_us
        self.allowed_lateness_us = allowed_lateness_us
        self.bulk = bulk  # take a poll at once when that gives the same results (tests switch it off)
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
        if keys and not (self.bulk and self._in_bulk(shard, keys, event_us, now_us)):
            self._one_by_one(shard_id, shard, keys, event_us, now_us)

    def _in_bulk(self, shard: _Shard, keys: Sequence[str], event_us: Sequence[int], now_us: int) -> bool:
        """Take the whole poll at once when no record in it meets a window the watermark has passed (no
        late record, no correction), with results identical to taking them one by one; else False."""
        windowing, grace, lateness = self.windowing, self.grace_us, self.allowed_lateness_us
        before = _NONE if shard.max_ts is None else shard.max_ts
        low, highest = min(event_us), max(before, max(event_us))
        if low - low % windowing.slide_us + windowing.slide_us + grace <= highest:
            # some record may meet a window the watermark has passed: look at each one
            reach = windowing.slide_us + grace
            maxima = accumulate(event_us, max, initial=before)  # the max_ts each record meets
            if any(map(le, map(add, windowing.latest_starts(event_us), repeat(reach)), maxima)):
                return False
        created: list[tuple[int, str]] = []           # the new cells
        windows = shard.windows
        tumbling = windowing.size_us == windowing.slide_us
        for (start, key), count in windowing.tally(event_us, keys).items():
            for hop in (start,) if tumbling else windowing.hops(start):
                cells = windows.get(hop)
                if cells is None:
                    cells = windows[hop] = {}
                    heapq.heappush(shard.to_fire, hop)
                if key not in cells:
                    created.append((hop, key))
                    cells[key] = count
                else:
                    cells[key] += count
        self.records_counted += len(keys)
        cells_now = self._cells
        self._cells += len(created)
        shard.max_ts = highest
        evicted = self._advance(shard, highest - grace, now_us)
        if not evicted:
            self.peak_state_cells = max(self.peak_state_cells, self._cells)
            return True
        # the peak, as one-by-one would measure it: after each record's new cells, before its evictions
        events = [(i, 0, 1) for i in self._first_records(created, keys, event_us)]
        maxima = list(accumulate(event_us, max, initial=before))
        for start, count in evicted:
            events.append((bisect_left(maxima, start + windowing.size_us + lateness + grace, 1) - 1, 1, -count))
        for _, _, change in sorted(events):
            cells_now += change
            if change > 0 and cells_now > self.peak_state_cells:
                self.peak_state_cells = cells_now
        return True

    def _first_records(self, created: list[tuple[int, str]], keys: Sequence[str],
                       event_us: Sequence[int]) -> list[int]:
        """For each new cell (window start, key), the index of the poll's first record that falls in it."""
        latest = self.windowing.latest_starts(event_us)
        firsts = dict(zip(zip(reversed(latest), reversed(keys)), range(len(keys) - 1, -1, -1)))
        if self.windowing.size_us == self.windowing.slide_us:
            return [firsts[cell] for cell in created]
        slide, size = self.windowing.slide_us, self.windowing.size_us
        return [min(firsts[(start, key)] for start in range(hop, hop + size, slide) if (start, key) in firsts)
                for hop, key in created]

    def _one_by_one(self, shard_id: str, shard: _Shard, keys: Sequence[str], event_us: Sequence[int],
                    now_us: int) -> None:
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

    def _advance(self, shard: _Shard, watermark: float, now_us: int) -> list[tuple[int, int]]:
        """Fire the windows the watermark has passed, then evict those past their allowed lateness;
        returns the evicted windows' (start, cells)."""
        size, lateness = self.windowing.size_us, self.allowed_lateness_us
        while shard.to_fire and shard.to_fire[0] + size <= watermark:
            start = heapq.heappop(shard.to_fire)
            cells = shard.windows[start]
            for key in sorted(cells):
                self._report(start, key, cells[key], now_us)
            shard.fired.add(start)
            heapq.heappush(shard.to_evict, start)
        evicted = []
        while shard.to_evict and shard.to_evict[0] + size + lateness <= watermark:
            start = heapq.heappop(shard.to_evict)
            count = len(shard.windows.pop(start))
            self._cells -= count
            shard.fired.discard(start)
            evicted.append((start, count))
        return evicted

    def close(self, now_us: int) -> None:
        for shard_id in sorted(self._shards):
            self._advance(self._shards[shard_id], float("inf"), now_us)

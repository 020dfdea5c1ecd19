"""The buffered counter: per-shard watermark, grace and allowed lateness (DESIGN §6).

Records are taken one by one in shard order. Per shard, ``max_ts`` is the largest event time among
records that were not late, and the watermark is ``W = max_ts - grace``; it never goes back. A window
``[s, e)`` fires once ``W >= e``: its counts are reported at the processing time of that poll. The cell
is then kept until ``W >= e + allowed_lateness``, and a record for it meanwhile updates the count and
reports the correction. After that the cell is evicted, and a record whose every window is evicted is
late: not counted, kept in ``late`` with how late it was. At the end of input ``W`` becomes +inf and
every open window fires.

Idle shards: every poll reaches the counter, those that returned nothing too. With ``idle_timeout``
set, at a poll of a shard whose last poll with records was at least ``idle_timeout`` of processing time
ago, before its records are taken, ``max_ts`` becomes at least ``now - idle_timeout`` (``W = max(W, now -
idle_timeout - grace)``), which fires and evicts as above; records later than that are then late. A
shard that has never returned a record has nothing to close, and no such watermark.

How a poll is taken, with exactly those results: a record is *plain* when the watermark it meets is
below its earliest window's end (all its windows are open: it can be neither late nor a correction).
A run of plain records after none of which the watermark fires or evicts anything is a *segment*: it is
counted with one tally, and the watermark then advanced once. Any other record, and a plain record
alone, takes the rules above on its own. Most polls are one segment, which a bound on their first and
last event times shows at once.
"""

from __future__ import annotations

import heapq
from bisect import bisect_left
from itertools import accumulate, repeat
from operator import add
from typing import Any, Optional, Sequence

from .base import LateRecord, ParameterError, Sink, duration_us, report_rows
from .windows import Windowing, add_counts

__all__ = ["BufferedCounter"]

_NO_RECORD = float("-inf")  # the max_ts of a shard that has counted nothing: no watermark yet


class _Shard:
    """One shard's watermark and the windows it holds."""

    __slots__ = ("max_ts", "windows", "to_fire", "to_evict", "last_read_us")

    def __init__(self) -> None:
        self.max_ts: Optional[int] = None
        self.last_read_us: Optional[int] = None        # processing time of its last poll with records
        self.windows: dict[int, dict[str, int]] = {}  # window start → key → count
        self.to_fire: list[int] = []                   # heap of starts of windows not yet fired
        self.to_evict: list[int] = []                  # heap of starts of fired windows still held


class BufferedCounter:
    kind = "buffered"
    parameters = ("grace", "allowed_lateness", "idle_timeout")

    def __init__(self, name: str, windowing: Windowing, sink: Sink, grace: Any = 0, allowed_lateness: Any = 0,
                 idle_timeout: Any = None) -> None:
        self.name = name
        self.windowing = windowing
        self.grace_us = duration_us("grace", grace)
        self.allowed_lateness_us = duration_us("allowed_lateness", allowed_lateness)
        self.idle_timeout_us: Optional[int] = None  # None: off
        if idle_timeout is not None:
            self.idle_timeout_us = duration_us("idle_timeout", idle_timeout)
            if self.idle_timeout_us <= 0:
                raise ParameterError("idle_timeout", f"must be above 0 (or left out), got {idle_timeout!r}")
        self._sink = sink
        self._shards: dict[str, _Shard] = {}
        self.state_cells = 0  # (window, key) cells held now
        self.records_counted = 0
        self.emitted_rows = 0
        self.peak_state_cells = 0
        self.late: list[LateRecord] = []

    @property
    def params(self) -> dict[str, float]:
        """What the report shows, in seconds; ``idle_timeout`` only when it is on."""
        params = {"size": self.windowing.size_us / 1e6, "slide": self.windowing.slide_us / 1e6,
                  "grace": self.grace_us / 1e6, "allowed_lateness": self.allowed_lateness_us / 1e6}
        if self.idle_timeout_us is not None:
            params["idle_timeout"] = self.idle_timeout_us / 1e6
        return params

    @property
    def wants_empty_polls(self) -> bool:
        """Whether a poll with no records may change anything: only the idle timeout acts on one."""
        return self.idle_timeout_us is not None

    def watermark(self, shard_id: str) -> Optional[int]:
        """The shard's watermark in microseconds, or None before its first record."""
        shard = self._shards.get(shard_id)
        if shard is None or shard.max_ts is None:
            return None
        return shard.max_ts - self.grace_us

    def process(self, shard_id: str, keys: Sequence[str], event_us: Sequence[int], now_us: int) -> None:
        if self.idle_timeout_us is not None:
            self._idle(shard_id, self.idle_timeout_us, now_us)
        if not len(keys):
            return
        if type(keys) not in (tuple, list) or type(event_us) not in (tuple, list):
            keys, event_us = tuple(keys), tuple(event_us)  # sliced and read several times below
        shard = self._shards.get(shard_id)
        if shard is None:
            shard = self._shards[shard_id] = _Shard()
        slide, grace = self.windowing.slide_us, self.grace_us
        low, high = min(event_us), max(event_us)
        highest = high if shard.max_ts is None else max(shard.max_ts, high)
        if highest < min(self._limit(shard), low - low % slide + slide + grace):
            # no record meets a watermark at its earliest window's end, and nothing fires: one segment
            if len(keys) == 1 and self.windowing.tumbling:  # one record: its one cell (``_count_segment``)
                cells, key = self._window(shard, low - low % slide, passed=False), keys[0]
                held = cells.get(key, 0)
                cells[key] = held + 1
                if not held:
                    self.state_cells += 1
                self.records_counted += 1
                self.peak_state_cells = max(self.peak_state_cells, self.state_cells)
            else:
                self._count_segment(shard, self.windowing.tally(event_us, keys, low, high), len(keys))
            shard.max_ts = highest
        else:
            self._in_segments(shard_id, shard, keys, event_us, now_us)
        shard.last_read_us = now_us  # a poll with records, even if every one was late

    def close(self, now_us: int) -> None:
        for shard_id in sorted(self._shards):
            self._advance(self._shards[shard_id], float("inf"), now_us)

    # -- the rules ---------------------------------------------------------------------------------------
    def _idle(self, shard_id: str, idle_timeout_us: int, now_us: int) -> None:
        """Before a poll's records: a shard quiet for ``idle_timeout`` since its last poll with records
        has its max_ts raised to ``now - idle_timeout``, and fires and evicts what that passes."""
        shard = self._shards.get(shard_id)
        if shard is None or shard.last_read_us is None or shard.max_ts is None:
            return
        idle_mark = now_us - idle_timeout_us
        if idle_mark >= shard.last_read_us and idle_mark > shard.max_ts:
            shard.max_ts = idle_mark
            self._advance(shard, idle_mark - self.grace_us, now_us)

    def _in_segments(self, shard_id: str, shard: _Shard, keys: Sequence[str], event_us: Sequence[int],
                     now_us: int) -> None:
        """Take a poll in segments, and each record no segment holds on its own."""
        n = len(keys)
        # per record: the max_ts it meets (maxima[n] is the poll's), and its reach: the max_ts at which the
        # watermark reaches its earliest window's end
        maxima = list(accumulate(event_us, max, initial=_NO_RECORD if shard.max_ts is None else shard.max_ts))
        reach = list(map(add, self.windowing.latest_starts(event_us), repeat(self.windowing.slide_us + self.grace_us)))
        # A segment from record i stops before the first record m whose max_ts has reached the reach of a
        # record p from i to m: record m itself meets a watermark past its earliest window's end (p = m), or
        # one of the segment's windows would fire after record m - 1. For record p that first m is
        # max(p, the first m with maxima[m] >= reach[p]); for a segment from i, the least of those for p >= i.
        stops = list(map(max, range(n), map(bisect_left, repeat(maxima), reach, repeat(0), repeat(n))))
        stops = list(accumulate(reversed(stops), min))[::-1]
        i = 0
        while i < n:
            end = stops[i]
            if end > i + 1:  # ... or before the first record at which max_ts fires or evicts a window held
                end = min(end, bisect_left(maxima, self._limit(shard), i + 1, n))
            if end <= i + 1:
                self._count_one(shard_id, shard, keys[i], event_us[i], now_us)
                i += 1
                continue
            self._count_segment(shard, self.windowing.tally(event_us[i:end], keys[i:end]), end - i)
            shard.max_ts = maxima[end]
            self._advance(shard, shard.max_ts - self.grace_us, now_us)
            i = end

    def _limit(self, shard: _Shard) -> float:
        """The smallest max_ts at which the watermark fires or evicts a window the shard holds."""
        size, grace = self.windowing.size_us, self.grace_us
        limit = shard.to_fire[0] + size + grace if shard.to_fire else float("inf")
        if shard.to_evict:
            limit = min(limit, shard.to_evict[0] + size + self.allowed_lateness_us + grace)
        return limit

    def _count_segment(self, shard: _Shard, counts: dict[int, dict[str, int]], records: int) -> None:
        """Count a tally of records whose windows are all open, and after none of which the watermark
        fires or evicts anything (cells only grow meanwhile, so the peak is measured once, at the end)."""
        windowing = self.windowing
        for latest, window_counts in counts.items():
            for start in (latest,) if windowing.tumbling else windowing.hops(latest):
                self.state_cells += add_counts(self._window(shard, start, passed=False), window_counts)
        self.records_counted += records
        self.peak_state_cells = max(self.peak_state_cells, self.state_cells)

    def _count_one(self, shard_id: str, shard: _Shard, key: str, ts: int, now_us: int) -> None:
        """One record by the rules: a record with every window evicted (its latest one is) is late; else,
        window by window, an evicted window is skipped, an open one counts it, a fired one counts it and
        reports the correction. A counted record later than max_ts moves the watermark."""
        size, lateness = self.windowing.size_us, self.allowed_lateness_us
        watermark = _NO_RECORD if shard.max_ts is None else shard.max_ts - self.grace_us
        if watermark >= ts - ts % self.windowing.slide_us + size + lateness:  # its latest window is evicted
            self.late.append(LateRecord(shard_id, key, ts, watermark - ts, now_us))
            return
        for start in self.windowing.starts(ts):
            end = start + size
            if watermark >= end + lateness:
                continue
            cells = self._window(shard, start, passed=watermark >= end)
            self.state_cells += add_counts(cells, {key: 1})
            if watermark >= end:
                self._report(start, key, cells[key], now_us)
        self.records_counted += 1
        self.peak_state_cells = max(self.peak_state_cells, self.state_cells)
        if shard.max_ts is None or ts > shard.max_ts:
            shard.max_ts = ts
            self._advance(shard, ts - self.grace_us, now_us)

    def _window(self, shard: _Shard, start: int, passed: bool) -> dict[str, int]:
        """The cells of the window at ``start``, made if new. A new window the watermark has already
        passed is fired at birth: what it counts from then on are corrections."""
        cells = shard.windows.get(start)
        if cells is None:
            cells = shard.windows[start] = {}
            heapq.heappush(shard.to_evict if passed else shard.to_fire, start)
        return cells

    def _advance(self, shard: _Shard, watermark: float, now_us: int) -> None:
        """Fire the windows the watermark has passed, in start order and each one's keys sorted; then
        evict those past their allowed lateness."""
        size, lateness = self.windowing.size_us, self.allowed_lateness_us
        while shard.to_fire and shard.to_fire[0] + size <= watermark:
            start = heapq.heappop(shard.to_fire)
            cells = shard.windows[start]
            keys = sorted(cells)
            self.emitted_rows += len(keys)
            report_rows(self._sink, start, keys, list(map(cells.__getitem__, keys)), now_us)
            heapq.heappush(shard.to_evict, start)
        while shard.to_evict and shard.to_evict[0] + size + lateness <= watermark:
            self.state_cells -= len(shard.windows.pop(heapq.heappop(shard.to_evict)))

    def _report(self, start: int, key: str, count: int, now_us: int) -> None:
        self.emitted_rows += 1
        self._sink(start, key, count, now_us)

"""A counter of your own: ``user_counter.yaml`` names it ``user_counters:ProcessingTimeCounter``.

It closes windows on processing time, the classic alternative to a watermark: each window's counts are
reported once, at the first poll it is given at least ``delay`` after the window's end (kinsim hands a
counter every poll of its shard, empty ones too, and closes it at the shard's end or the end of input),
whatever the records' event times say. Its latency is fixed (``delay``, plus up to a poll interval) and no producer's clock can
move it; but a record read more than ``delay`` after its window ended is refused as late, so a backlog
(an outage, a consumer that falls behind) costs accuracy that a watermark would have kept.

kinsim builds it as ``ProcessingTimeCounter(name, windowing, sink, delay=...)`` with the scenario's
raw value (``"100s"``, or a number of seconds) when it loads the scenario, and again for each run.
"""

from __future__ import annotations

from kinsim.counters import LateRecord, duration_us


class ProcessingTimeCounter:
    parameters = ("delay",)  # the keys a scenario may give it: kinsim refuses others by name

    def __init__(self, name, windowing, sink, delay="30s"):
        self.name = name
        self.windowing = windowing           # kinsim counts the truth in the same windows
        self.delay_us = duration_us("delay", delay)  # a bad value is a scenario error at its key
        self._sink = sink
        self._windows = {}                   # window start → key → count, for windows not reported yet
        self._closed_until = float("-inf")   # windows ending by then are reported: later records are late
        self.records_counted = 0
        self.state_cells = 0
        self.peak_state_cells = 0
        self.late = []

    @property
    def params(self):
        """What the report shows for this counter, in seconds."""
        return {"size": self.windowing.size_us / 1e6, "delay": self.delay_us / 1e6}

    def process(self, shard_id, keys, event_us, now_us):
        size = self.windowing.size_us
        for key, ts in zip(keys, event_us):
            starts = [start for start in self.windowing.starts(ts) if start + size > self._closed_until]
            if not starts:
                self.late.append(LateRecord(shard_id, key, ts, self._closed_until - ts, now_us))
                continue
            for start in starts:
                cells = self._windows.setdefault(start, {})
                self.state_cells += key not in cells
                cells[key] = cells.get(key, 0) + 1
            self.records_counted += 1
        self.peak_state_cells = max(self.peak_state_cells, self.state_cells)
        self._report(now_us - self.delay_us, now_us)

    def close(self, now_us):
        self._report(float("inf"), now_us)

    def _report(self, until_us, now_us):
        """Report, once, every window that ended by ``until_us``, and close them."""
        size = self.windowing.size_us
        for start in sorted(self._windows):
            if start + size > until_us:
                break
            cells = self._windows.pop(start)
            for key in sorted(cells):
                self._sink(start, key, cells[key], now_us)
            self.state_cells -= len(cells)
        self._closed_until = max(self._closed_until, until_us)

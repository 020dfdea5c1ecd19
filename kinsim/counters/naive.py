"""The tutorial's ``CounterConsumer``: a cell per (window, key), counted forever, never closed.

After each poll that returned records it prints every cell it holds, so its output grows with every
window it has ever seen, and a count it prints may still be too low: nothing says when a window is
complete. The sink hears each printed cell whose value changed (or is new); ``emitted_rows`` counts
every row printed, unchanged ones included, as the tutorial's printout repeats them.
"""

from __future__ import annotations

from typing import Iterable, Sequence

from .base import LateRecord, Sink, report_rows
from .windows import Windowing, add_counts

__all__ = ["NaiveCounter"]


class NaiveCounter:
    kind = "naive"
    parameters: tuple[str, ...] = ()  # none beyond its windows
    wants_empty_polls = False  # a poll with no records changes nothing

    def __init__(self, name: str, windowing: Windowing, sink: Sink) -> None:
        self.name = name
        self.windowing = windowing
        self._sink = sink
        self._windows: dict[int, dict[str, int]] = {}  # window start → key → count
        self.state_cells = 0
        self.records_counted = 0
        self.emitted_rows = 0
        self.peak_state_cells = 0
        self.late: list[LateRecord] = []  # the naive counter never refuses a record

    @property
    def params(self) -> dict[str, float]:
        """What the report shows: the window size, and the slide when windows hop."""
        params = {"size": self.windowing.size_us / 1e6}
        if not self.windowing.tumbling:
            params["slide"] = self.windowing.slide_us / 1e6
        return params

    def process(self, shard_id: str, keys: Sequence[str], event_us: Sequence[int], now_us: int) -> None:
        count = len(keys)
        if not count:
            return
        windows, windowing, tumbling = self._windows, self.windowing, self.windowing.tumbling
        if count == 1 and tumbling:  # one record (a poll of a quiet shard): its one cell, as below
            key, ts = keys[0], event_us[0]
            start = ts - ts % windowing.slide_us
            cells = windows.get(start)
            if cells is None:
                cells = windows[start] = {}
            total = cells[key] = cells.get(key, 0) + 1
            if total == 1:
                self.state_cells += 1
            self.records_counted += 1
            self.peak_state_cells = max(self.peak_state_cells, self.state_cells)
            self.emitted_rows += self.state_cells
            report_rows(self._sink, start, [key], [total], now_us)
            return
        tally = windowing.tally(event_us, keys)
        changed: dict[int, Iterable[str]] = tally if tumbling else {}  # window start → its keys counted now
        for latest, counts in tally.items():
            for start in (latest,) if tumbling else windowing.hops(latest):
                cells = windows.get(start)
                if cells is None:
                    cells = windows[start] = {}
                self.state_cells += add_counts(cells, counts)
                if not tumbling:
                    changed.setdefault(start, set()).update(counts)
        self.records_counted += len(keys)
        self.peak_state_cells = max(self.peak_state_cells, self.state_cells)
        self.emitted_rows += self.state_cells
        for start in sorted(changed):
            keys = sorted(changed[start])
            report_rows(self._sink, start, keys, list(map(windows[start].__getitem__, keys)), now_us)

    def close(self, now_us: int) -> None:
        """Nothing to flush: every count was printed when it changed."""

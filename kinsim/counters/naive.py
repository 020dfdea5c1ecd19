"""The tutorial's ``CounterConsumer``: a cell per (window, key), counted forever, never closed.

After each poll that returned records it prints every cell it holds, so its output grows with every
window it has ever seen, and a count it prints may still be too low: nothing says when a window is
complete. The sink hears each printed cell whose value changed (or is new); ``emitted_rows`` counts
every row printed, unchanged ones included, as the tutorial's printout repeats them.
"""

from __future__ import annotations

from typing import Sequence

from .base import LateRecord, Sink
from .windows import Windowing

__all__ = ["NaiveCounter"]


class NaiveCounter:
    kind = "naive"

    def __init__(self, name: str, windowing: Windowing, sink: Sink) -> None:
        self.name = name
        self.windowing = windowing
        self._sink = sink
        self.cells: dict[tuple[int, str], int] = {}
        self.records_counted = 0
        self.emitted_rows = 0
        self.peak_state_cells = 0
        self.late: list[LateRecord] = []  # the naive counter never refuses a record

    @property
    def state_cells(self) -> int:
        return len(self.cells)

    def process(self, shard_id: str, records: Sequence[tuple[str, int]], now_us: int) -> None:
        self.process_columns(shard_id, [key for key, _ in records], [ts for _, ts in records], now_us)

    def process_columns(self, shard_id: str, keys: Sequence[str], event_us: Sequence[int], now_us: int) -> None:
        if not keys:
            return
        cells, windowing = self.cells, self.windowing
        self.records_counted += len(keys)
        tally = windowing.tally(event_us, keys)
        if windowing.size_us == windowing.slide_us:  # tumbling: a record's latest window is its only one
            get = cells.get
            for cell, count in tally.items():
                cells[cell] = get(cell, 0) + count
            changed = tally.keys()
        else:
            changed = set()
            for (start, key), count in tally.items():
                for hop in windowing.hops(start):
                    cell = (hop, key)
                    cells[cell] = cells.get(cell, 0) + count
                    changed.add(cell)
        self.peak_state_cells = max(self.peak_state_cells, len(cells))
        self.emitted_rows += len(cells)
        sink = self._sink
        for cell in sorted(changed):
            sink(cell[0], cell[1], cells[cell], now_us)

    def close(self, now_us: int) -> None:
        """Nothing to flush: every count was printed when it changed."""

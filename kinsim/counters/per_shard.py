"""One counter per shard, as one processor per shard lease (DESIGN §6, §11), reported as one.

Each shard's records are counted by that shard's own counter, built when the shard is first read: a
child shard starts with empty state and no watermark. When a closed shard has been read to its end,
its counter is closed (``end_shard``): it fires every window it still holds, its share of them being
complete. A cell's reported count is the sum, over shards, of each shard's latest count for it, so a
key whose window is split between a parent and its children is counted whole.

The figures a report reads are summed over the shards' counters: records counted, rows emitted, late
records (in processing order), cells held. ``peak_state_cells`` is the most cells held at once by all
of them together: during a poll of one shard, that shard's counter's own peak plus what the others
hold (a counter measures its peak as ``max(peak_state_cells, state_cells)`` as it goes; the built-in
ones do, after each record or run of records they count).
"""

from __future__ import annotations

from typing import Any, Callable, Optional, Sequence

from .base import Counter, LateRecord, Sink
from .windows import Windowing

__all__ = ["PerShard"]


def _no_report(start: int, key: str, count: int, at_us: int) -> None:
    """The sink of the counter built only to read its name, kind and parameters."""


class PerShard:
    """A counter kind run as one counter per shard: ``build(sink)`` makes each one."""

    def __init__(self, build: Callable[[Sink], Counter], sink: Sink) -> None:
        self._build = build
        self._sink = sink
        self._template = build(_no_report)
        self.name: str = self._template.name
        self.windowing: Windowing = self._template.windowing
        self.counters: dict[str, Counter] = {}   # shard id → its counter, in the order shards were first read
        self._ended: set[str] = set()
        self._totals: dict[tuple[int, str], int] = {}  # cell → the sum of each shard's latest count
        self._counts_cells = hasattr(self._template, "state_cells")
        self.state_cells = 0
        self._peak = 0
        self._reports = 0

    # -- what a report reads --------------------------------------------------------------------------
    def __getattr__(self, name: str) -> Any:
        """``kind``, ``params`` and anything else a report may ask of the counter: the counter's own
        (an attribute it does not have is missing here too)."""
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self._template, name)

    @property
    def records_counted(self) -> int:
        return sum(getattr(counter, "records_counted", 0) for counter in self.counters.values())

    @property
    def emitted_rows(self) -> int:
        if not hasattr(self._template, "emitted_rows"):
            return self._reports
        return sum(counter.emitted_rows for counter in self.counters.values())  # type: ignore[attr-defined]

    @property
    def peak_state_cells(self) -> Optional[int]:
        if self._counts_cells:
            return self._peak
        if hasattr(self._template, "peak_state_cells"):  # an upper bound: the shards' peaks may not coincide
            return sum(counter.peak_state_cells for counter in self.counters.values())  # type: ignore[attr-defined]
        return None

    @property
    def late(self) -> list[LateRecord]:
        late = [record for counter in self.counters.values() for record in getattr(counter, "late", ())]
        return sorted(late, key=lambda record: record.processed_us)  # stable: shards in the order first read

    # -- what the consumer calls ----------------------------------------------------------------------
    def process(self, shard_id: str, keys: Sequence[str], event_us: Sequence[int], now_us: int) -> None:
        """One poll of one shard (its records may be none) to that shard's counter."""
        counter = self.counters.get(shard_id)
        if counter is None:
            counter = self.counters[shard_id] = self._build(self._sink_for(shard_id))
        self._run(counter, counter.process, shard_id, keys, event_us, now_us)

    def end_shard(self, shard_id: str, now_us: int) -> None:
        """A closed shard has been read to its end: its counter fires what it holds."""
        counter = self.counters.get(shard_id)
        if counter is not None and shard_id not in self._ended:
            self._ended.add(shard_id)
            self._run(counter, counter.close, now_us)

    def close(self, now_us: int) -> None:
        """Input has ended: every shard's counter still open reports what it holds, in shard order."""
        for shard_id in sorted(self.counters):
            self.end_shard(shard_id, now_us)

    # -- the sum over shards --------------------------------------------------------------------------
    def _run(self, counter: Counter, call: Callable[..., None], *args: Any) -> None:
        """Call the counter, and keep the total of cells held and its peak: the counter's own peak during
        the call (its ``peak_state_cells`` is set to its cells before, and read after) plus what the
        other shards hold meanwhile."""
        if not self._counts_cells:
            call(*args)
            return
        before = counter.state_cells  # type: ignore[attr-defined]
        saved = getattr(counter, "peak_state_cells", None)
        try:
            counter.peak_state_cells = before  # type: ignore[attr-defined]
        except AttributeError:  # a read-only peak: the counter's cells after the call are what is known
            saved = None
        call(*args)
        after = counter.state_cells  # type: ignore[attr-defined]
        held = after
        if saved is not None:
            held = max(after, counter.peak_state_cells)  # type: ignore[attr-defined]
            counter.peak_state_cells = max(saved, held)  # type: ignore[attr-defined]
        self.state_cells += after - before
        self._peak = max(self._peak, self.state_cells - after + held)

    def _sink_for(self, shard_id: str) -> Sink:
        """The sink of one shard's counter: each cell's sum over shards to the report's sink, kept as the
        cell's total and this shard's part of it."""
        mine: dict[tuple[int, str], int] = {}
        totals, sink = self._totals, self._sink

        def report(start: int, key: str, count: int, at_us: int) -> None:
            cell = (start, key)
            total = totals.get(cell, 0) + count - mine.get(cell, 0)
            mine[cell] = count
            totals[cell] = total
            sink(start, key, total, at_us)

        if hasattr(self._template, "emitted_rows"):
            return report

        def counted(start: int, key: str, count: int, at_us: int) -> None:
            self._reports += 1
            report(start, key, count, at_us)
        return counted

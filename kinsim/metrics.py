"""Ground truth and the metrics that compare a counter's reports with it (DESIGN §7).

Truth is exact: the simulation knows every event it produced, so for each windowing it counts
produced events per (window, key) by their true event time. ``Observations`` is a counter's sink: it
keeps, per cell, the first reported count and the report after which the count stopped changing;
``CountHistory`` keeps every change too, for a picture of a cell's count over time (``run --plot``).

Both keep their cells window by window (``windows``: window start → key → value), as the counters do
and as the reports read them: no (start, key) pair is made per cell (a run of 10M records over a million
keys has 2.4 million cells, each held by the truth and by every counter's observations). ``cells`` is
the same cells seen as one mapping of (start, key) pairs.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import Counter as Tally
from collections.abc import Iterator, MutableMapping
from dataclasses import dataclass
from itertools import islice, repeat
from operator import le
from typing import Any, Optional, Sequence

from .counters import Counter, LateRecord, Windowing

__all__ = ["Truth", "Observations", "CountHistory", "CellReport", "Cells", "counter_metrics", "late_records",
           "nearest_rank"]

Cell = tuple[int, str]  # (window start in microseconds, key)


def _window(windows: dict[int, dict], start: int) -> dict:
    """The window at ``start``, made empty if there is none yet."""
    window = windows.get(start)
    if window is None:
        window = windows[start] = {}
    return window


class Cells(MutableMapping):
    """Cells kept window by window (``windows[start][key]``), seen as one mapping of (start, key) pairs
    to their values. A window left without cells goes."""

    __slots__ = ("windows",)

    def __init__(self, windows: dict[int, dict[Any, Any]]) -> None:
        self.windows = windows

    def __getitem__(self, cell: Cell) -> Any:
        start, key = cell
        return self.windows[start][key]

    def get(self, cell: Cell, default: Any = None) -> Any:
        window = self.windows.get(cell[0])
        return default if window is None else window.get(cell[1], default)

    def __contains__(self, cell: object) -> bool:
        try:
            start, key = cell  # type: ignore[misc]
        except (TypeError, ValueError):
            return False
        window = self.windows.get(start)
        return window is not None and key in window

    def __setitem__(self, cell: Cell, value: Any) -> None:
        start, key = cell
        _window(self.windows, start)[key] = value

    def __delitem__(self, cell: Cell) -> None:
        start, key = cell
        window = self.windows[start]
        del window[key]
        if not window:
            del self.windows[start]

    def __iter__(self) -> Iterator[Cell]:
        for start, window in self.windows.items():
            for key in window:
                yield start, key

    def __len__(self) -> int:
        return sum(map(len, self.windows.values()))

    def __repr__(self) -> str:
        return f"Cells({dict(self.items())!r})"


class Truth:
    """Produced events per (window, key) for one windowing."""

    def __init__(self, windowing: Windowing) -> None:
        self.windowing = windowing
        self.windows: dict[int, dict[str, int]] = {}  # window start → key → events
        self.cells = Cells(self.windows)

    def add(self, key: str, event_us: Sequence[int]) -> None:
        """Count events of ``key`` at these times (in time order, as a producer makes them, is fastest)."""
        windowing = self.windowing
        if len(event_us) > 32 and event_us[0] <= event_us[-1] and all(map(le, event_us, islice(event_us, 1, None))):
            size, slide = windowing.size_us, windowing.slide_us
            first, last = event_us[0], event_us[-1]
            for start in range(first - first % slide - size + slide, last - last % slide + 1, slide):
                count = bisect_left(event_us, start + size) - bisect_left(event_us, start)
                if count:
                    window = _window(self.windows, start)
                    window[key] = window.get(key, 0) + count
            return
        for start, count in Tally(windowing.latest_starts(event_us)).items():
            for hop in windowing.hops(start):
                window = _window(self.windows, hop)
                window[key] = window.get(key, 0) + count

    def add_each(self, keys: Sequence[str], event_us: Sequence[int]) -> None:
        """Count events, each of its own key (``keys[i]`` is event ``i``'s)."""
        if not event_us:
            return
        windowing = self.windowing
        for start, counts in windowing.tally(event_us, keys).items():
            for hop in windowing.hops(start):
                window = _window(self.windows, hop)
                if window.keys().isdisjoint(counts):
                    window.update(counts)
                else:
                    get = window.get
                    for key, count in counts.items():
                        window[key] = get(key, 0) + count


@dataclass(slots=True)
class CellReport:
    first: int
    first_at: int
    last: int
    changed_at: int  # processing time of the report from which ``last`` has held


class Observations:
    """A counter's sink that remembers what matters for the metrics, cell by cell, and how many rows
    it was given (a counter's ``emitted_rows`` when it does not count them itself)."""

    def __init__(self) -> None:
        self.windows: dict[int, dict[str, CellReport]] = {}  # window start → key → what was reported
        self.cells = Cells(self.windows)
        self.reports = 0

    def __call__(self, start: int, key: str, count: int, at_us: int) -> None:
        self.rows(start, (key,), (count,), at_us)

    def rows(self, start: int, keys: Sequence[str], counts: Sequence[int], at_us: int) -> None:
        """One window's reports at once (``kinsim.counters.report_rows``): cells reported for the first
        time in one update, the others one by one."""
        if not keys:
            return
        self.reports += len(keys)
        window = _window(self.windows, start)
        if keys[0] not in window and window.keys().isdisjoint(keys):  # most often a window's first reports
            held = len(window)
            window.update(zip(keys, map(CellReport, counts, repeat(at_us), counts, repeat(at_us))))
            if len(window) - held == len(keys):
                return
            for key in keys:  # a key given twice in one call: undone, and taken one by one below
                window.pop(key, None)
        for key, count in zip(keys, counts):
            report = window.get(key)
            if report is None:
                window[key] = CellReport(count, at_us, count, at_us)
            elif count != report.last:
                report.last = count
                report.changed_at = at_us


class CountHistory(Observations):
    """Observations that also keep, per cell, each reported count that differs from the one before it,
    with its processing time: ``history[cell]`` is ``[(at_us, count), ...]``, the first report first.

    Its ``cells`` and ``reports`` are what ``Observations`` keeps, so the metrics and the report are the
    same with either sink. It costs a pair per change of a cell's count (at most one per record counted,
    usually far fewer: a poll changes a cell once), so the runner uses it only when asked
    (``run(..., keep_history=True)``)."""

    def __init__(self) -> None:
        super().__init__()
        self.history: dict[Cell, list[tuple[int, int]]] = {}

    def rows(self, start: int, keys: Sequence[str], counts: Sequence[int], at_us: int) -> None:
        """One window's reports (or one report: ``Observations.__call__``), row by row."""
        if not keys:
            return
        self.reports += len(keys)
        window, history = _window(self.windows, start), self.history
        for key, count in zip(keys, counts):
            report = window.get(key)
            if report is None:
                window[key] = CellReport(count, at_us, count, at_us)
                history[(start, key)] = [(at_us, count)]
            elif count != report.last:
                report.last = count
                report.changed_at = at_us
                history[(start, key)].append((at_us, count))


def nearest_rank(sorted_values: list[float], share: float) -> float:
    """The nearest-rank percentile of already sorted values."""
    rank = max(1, -(-len(sorted_values) * share // 1))
    return sorted_values[int(rank) - 1]


def _summary(values: list[float]) -> Optional[dict[str, float]]:
    if not values:
        return None
    values = sorted(values)
    return {"p50": nearest_rank(values, 0.50), "p95": nearest_rank(values, 0.95), "max": values[-1]}


def late_records(counter: Counter) -> list[LateRecord]:
    """The records a counter refused as late; none for a counter that does not say."""
    return getattr(counter, "late", [])


def counter_metrics(truth: Truth, observations: Observations, counter: Counter) -> dict:
    """The metrics of DESIGN §7. A counter that does not count its own ``emitted_rows`` gets the rows its
    sink was given; one that does not measure ``peak_state_cells`` gets None."""
    size = truth.windowing.size_us
    first_exact = total = 0
    settled = []  # per cell whose last count is exact: when that count was reported, after its window's start
    reported = observations.windows
    for start, window in truth.windows.items():
        total += len(window)
        reports = reported.get(start)
        if reports is None:
            continue
        for expected, report in zip(window.values(), map(reports.get, window)):
            if report is None:
                continue
            first_exact += report.first == expected
            if report.last == expected:
                settled.append(report.changed_at - start)
    final_exact = len(settled)
    # the latency in seconds grows with ``settled``: its percentiles are those of ``settled``, converted
    summary = _summary(settled)
    latencies = None if summary is None else {name: round((us - size) / 1e6, 6) for name, us in summary.items()}
    late = late_records(counter)
    late_by = [round(record.late_by_us / 1e6, 6) for record in late]
    return {
        "final_exact": round(final_exact / total, 6) if total else 1.0,
        "first_exact": round(first_exact / total, 6) if total else 1.0,
        "convergence_latency_s": latencies,
        "never_converged": total - final_exact,
        "late_records": len(late),
        "late_by_s": _summary(late_by),
        "emitted_rows": getattr(counter, "emitted_rows", observations.reports),
        "peak_state_cells": getattr(counter, "peak_state_cells", None),
    }

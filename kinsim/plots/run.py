"""The picture of one run (``run --plot FILE.png``): how counts settle, and how late the late records were.

One panel per windowing (at most ``MAX_CELLS``) shows the cell that took longest to settle: the one
whose count a counter of that windowing corrected last, counted from its window's end (for a counter
that ends exact, that is its convergence latency: the naive counter's, on the cell whose last record
came latest; a counter that refused that record as late stops short of the truth). Each counter's
reported count is a step line over processing time, measured from the window's end (a dotted line at 0),
beside the truth (a dashed line); the legend says where each counter ended. The last panel is a
histogram of the late records' lateness (the shard's watermark minus the record's event time, in
seconds), one set of bars per counter that refused any, on a log scale when they span more than two
decades; it says so when no counter refused a record.

The counts over time come from the run's ``CountHistory`` sinks: run with ``keep_history=True``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

from ..counters import Windowing
from ..metrics import CountHistory, late_records
from ..report.base import counter_kind, utc_text
from ..runner import CounterResult, RunResult
from . import require_matplotlib, save_figure

__all__ = ["SlowCell", "slowest_cells", "run_figure", "plot_run", "MAX_CELLS"]

MAX_CELLS = 4        # panels of cells, one per windowing, in the order the counters name them
HISTOGRAM_BINS = 30
LOG_SPAN = 100       # late records spanning more than this ratio get logarithmic bins


@dataclass(frozen=True)
class SlowCell:
    """A windowing's cell whose reported count settled last, and the counters of that windowing."""

    windowing: Windowing
    start_us: int
    key: str
    truth: int
    settled_us: int                       # the last change of any counter's count, after the window's end
    corrected: bool                       # that change corrected an earlier report of the same counter
    parts: tuple[CounterResult, ...]

    @property
    def end_us(self) -> int:
        return self.start_us + self.windowing.size_us


def slowest_cells(result: RunResult) -> list[SlowCell]:
    """Per windowing (in the order the counters name them, at most ``MAX_CELLS``), the reported cell whose
    count took longest to settle: the one whose last correction (a change of a counter's count after its
    first report) came latest after its window's end; with no correction in a windowing, the last
    report. Ties go to the earlier window, then the key."""
    groups: dict[Windowing, list[CounterResult]] = {}
    for part in result.counters:
        groups.setdefault(part.truth.windowing, []).append(part)
    cells = []
    for windowing, parts in list(groups.items())[:MAX_CELLS]:
        latest: dict[tuple[int, str], tuple[bool, int]] = {}  # cell → (corrected, when it last changed)
        for part in parts:
            for cell, report in part.observations.cells.items():
                settled = (report.changed_at != report.first_at, report.changed_at)
                if settled > latest.get(cell, (False, settled[1] - 1)):
                    latest[cell] = settled
        if not latest:
            continue
        size = windowing.size_us
        (start, key), (corrected, changed) = min(
            latest.items(), key=lambda item: (not item[1][0], item[0][0] + size - item[1][1], item[0]))
        truth = parts[0].truth.cells.get((start, key), 0)
        cells.append(SlowCell(windowing, start, key, truth, changed - start - size, corrected, tuple(parts)))
    return cells


def _unit(span_s: float) -> tuple[str, float]:
    """A time unit that keeps the axis' numbers short: seconds, minutes or hours."""
    if span_s <= 600:
        return "s", 1.0
    if span_s <= 36_000:
        return "min", 60.0
    return "h", 3600.0


def _windowing_text(windowing: Windowing) -> str:
    size, slide = windowing.size_us / 1e6, windowing.slide_us / 1e6
    return f"windows of {size:g} s" + (f" every {slide:g} s" if slide != size else "")


def _history(part: CounterResult, cell: tuple[int, str]) -> Optional[list[tuple[int, int]]]:
    observations = part.observations
    if not isinstance(observations, CountHistory):
        raise ValueError("a run's picture needs the counts over time: run(..., keep_history=True)")
    return observations.history.get(cell)


def _draw_cell(axes: Any, slow: SlowCell, several: bool) -> None:
    """One cell: each counter's count as a step line from its first report to a little after the last
    change of any counter's (the counts hold from there to the end of input)."""
    from matplotlib.ticker import MaxNLocator

    cell, end_us = (slow.start_us, slow.key), slow.end_us
    histories = [(part, _history(part, cell)) for part in slow.parts]
    first_us = min([end_us] + [history[0][0] for _, history in histories if history])
    changed_us = max([end_us] + [history[-1][0] for _, history in histories if history])
    last_us = changed_us + max(1_000_000, (changed_us - first_us) // 6)  # room to see the last counts hold
    unit, per = _unit((last_us - first_us) / 1e6)
    markers = "osD^vP*X"
    for i, (part, history) in enumerate(histories):
        name = part.spec.name
        if not history:
            axes.plot([], [], label=f"{name}: never reported")
            continue
        final = history[-1][1]
        xs = [(at - end_us) / 1e6 / per for at, _ in history] + [(last_us - end_us) / 1e6 / per]
        ys = [count for _, count in history] + [final]
        exact = (f"exact {(history[-1][0] - end_us) / 1e6:g} s after the window" if final == slow.truth
                 else "never exact")
        axes.step(xs, ys, where="post", zorder=2 + i, marker=markers[i % len(markers)],
                  markevery=list(range(len(history))), markersize=4, linewidth=1.6, alpha=0.85,
                  label=f"{name} ({counter_kind(part)}): ends at {final}, {exact}")
    axes.axhline(slow.truth, color="black", linestyle="--", linewidth=1.2, zorder=1, label=f"truth: {slow.truth}")
    axes.axvline(0, color="grey", linestyle=":", linewidth=1.2, label="window end")
    how = "last corrected" if slow.corrected else "reported"
    axes.set_title(f"key {slow.key}, window {utc_text(slow.start_us)} to {utc_text(end_us)}"
                   + (f" ({_windowing_text(slow.windowing)})" if several else "")
                   + f"\n{how} {slow.settled_us / 1e6:g} s after the window ended", fontsize=10)
    axes.set_xlabel(f"processing time after the window's end ({unit})")
    axes.set_ylabel("reported count (records)")
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    axes.grid(True, alpha=0.3)
    axes.legend(loc="lower right", fontsize=8)


def _bins(values: int) -> int:
    """Bars for a histogram of this many values: about their square root, 10 to 30."""
    return min(HISTOGRAM_BINS, max(10, round(values ** 0.5)))


def _draw_lateness(axes: Any, result: RunResult) -> None:
    """A histogram of how late each counter's late records were; a sentence when there are none."""
    import numpy

    late = [(part.spec.name, [record.late_by_us / 1e6 for record in late_records(part.counter)])
            for part in result.counters]
    late = [(name, values) for name, values in late if values]
    axes.set_xlabel("late by (s): the shard's watermark minus the record's event time")
    axes.set_ylabel("late records")
    if not late:
        axes.set_title("late records: none", fontsize=10)
        axes.text(0.5, 0.5, "no late records: every counter counted every record it was given",
                  ha="center", va="center", transform=axes.transAxes)
        axes.set_yticks([])
        return
    every = [value for _, values in late for value in values]
    low, high = min(every), max(every)
    if low > 0 and high / low > LOG_SPAN:
        bins = numpy.geomspace(low, high, _bins(len(every)) + 1)
        axes.set_xscale("log")
    else:
        bins = numpy.histogram_bin_edges(every, _bins(len(every)))
    # one set of bars per counter, the most late records behind, see-through over each other
    for name, values in sorted(late, key=lambda item: -len(item[1])):
        axes.hist(values, bins=bins, alpha=0.55, label=f"{name}: {len(values)} late")
    axes.set_title(f"late records: {len(every)} refused, late by {low:g} s to {high:g} s", fontsize=10)
    axes.grid(True, alpha=0.3)
    axes.legend(loc="upper right", fontsize=8)


def run_figure(result: RunResult) -> Any:
    """The picture of a run (see the module's docstring), as a ``matplotlib.figure.Figure``."""
    require_matplotlib()
    from matplotlib.figure import Figure

    cells = slowest_cells(result)
    figure = Figure(figsize=(10, 3.8 * (len(cells) + 1)), layout="constrained")
    axes = figure.subplots(len(cells) + 1, 1, squeeze=False)[:, 0]
    figure.suptitle(f"{result.scenario.name} (seed {result.seed}): the slowest cell to settle"
                    + (" per windowing" if len(cells) > 1 else "") + ", and the late records")
    for panel, slow in zip(axes, cells):
        _draw_cell(panel, slow, several=len(cells) > 1)
    _draw_lateness(axes[-1], result)
    return figure


def plot_run(result: RunResult, path: str | Path) -> None:
    """Draw the run's picture into ``path`` (.png, .svg, .pdf)."""
    save_figure(run_figure(result), path)

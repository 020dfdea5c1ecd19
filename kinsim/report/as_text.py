"""The text report, in the spirit of the tutorial's printout: the metrics table per counter, what the
stream and the workers went through, and a table of each window's counts; written to its output as it
is made."""

from __future__ import annotations

import io
from typing import Callable, Optional, TextIO

from .. import __version__
from ..durations import duration_text
from ..metrics import late_records
from ..runner import RunResult
from . import base
from .base import counter_kind, utc_text

__all__ = ["to_text", "write_text"]


def _seconds(value: Optional[float]) -> str:
    return "-" if value is None else f"{value:g}"


def _count(value: Optional[int]) -> str:
    return "-" if value is None else str(value)


def _table(headers: list[str], rows: list[list[str]], right: set[int]) -> list[str]:
    widths = [max(len(str(cell)) for cell in column) for column in zip(headers, *rows)]
    line = _liner(widths, right)
    return [line(headers), line(["-" * w for w in widths])] + [line(row) for row in rows]


def _liner(widths: list[int], right: set[int]) -> Callable[[list[str]], str]:
    """A table's line: its cells as text, padded to the column widths (on the left for the columns in
    ``right``), two spaces apart, with no space at its end."""
    template = "  ".join(_fields(widths, right))
    return lambda cells: template.format(*map(str, cells)).rstrip()


def _fields(widths: list[int], right: set[int]) -> list[str]:
    """Each column's field in a line's template."""
    return ["{:" + (">" if i in right else "<") + (str(w) if w else "") + "}" for i, w in enumerate(widths)]


def _metrics_table(result: RunResult) -> list[str]:
    rows = []
    for part in result.counters:
        m = part.metrics
        latency = m["convergence_latency_s"] or {}
        rows.append([part.spec.name, counter_kind(part), f"{m['final_exact']:.3f}", f"{m['first_exact']:.3f}",
                     "/".join(_seconds(latency.get(k)) for k in ("p50", "p95", "max")) if latency else "-",
                     str(m["never_converged"]), str(m["late_records"]), str(m["emitted_rows"]),
                     _count(m["peak_state_cells"])])
    headers = ["counter", "kind", "final_exact", "first_exact", "latency p50/p95/max s", "never_converged",
               "late_records", "emitted_rows", "peak_state_cells"]
    return _table(headers, rows, right=set(range(2, 9)))


def _offset(seconds: Optional[float]) -> str:
    """Seconds after the start, as a duration (``3m30s``); None as ``-``."""
    return "-" if seconds is None else duration_text(seconds)


def _stream_tables(result: RunResult) -> list[str]:
    """The shards (lineage and load), the faults applied, and the throughput over time."""
    lines = ["", "shards (times after the start)"]
    rows = [[s.shard_id, ",".join(p[-4:] for p in s.parents) or "-", _offset(s.opened_at), _offset(s.closed_at),
             str(s.records_read), str(s.throttled_puts), str(s.throttled_reads), str(s.most_millis_behind)]
            for s in result.shards]
    lines += _table(["shard", "parents", "opened", "closed", "records read", "throttled puts", "throttled reads",
                     "most ms behind"], rows, right=set(range(2, 8)))
    if result.scenario.faults:
        lines += ["", f"faults: {len(result.faults)} of {len(result.scenario.faults)} applied before input ended"]
        rows = [[_offset(a.at), a.fault.path, a.fault.describe()
                 + ("" if a.fault.end is None else f" until {_offset(a.fault.end)}"), a.outcome]
                for a in result.faults]
        lines += _table(["at", "fault", "what", "outcome"], rows, right={0})
    span = result.throughput[0].span if result.throughput else 60.0
    lines += ["", f"throughput per {_offset(span)}"]
    rows = [[_offset(row.start), str(row.records_in), str(row.throttled_puts), str(row.records_read),
             str(row.throttled_reads)] for row in result.throughput]
    lines += _table(["from", "records in", "throttled puts", "records read", "throttled reads"], rows,
                    right=set(range(0, 5)))
    return lines


def _worker_tables(result: RunResult) -> list[str]:
    """What processors were given and checkpointed; with several workers or a worker's fault, who held
    which lease when, and the takeovers."""
    w = result.workers
    if w is None:
        return []
    spec = result.scenario.consumer
    lines = ["", f"workers: {', '.join(w.names)}; checkpoint {spec.checkpoint.describe()}, state {spec.state.value}, "
                 f"failover time {_offset(spec.failover_time)}",
             f"delivered to processors: {w.delivered} records, {w.duplicates} of them again; {w.never_delivered} "
             f"never delivered; {w.without_lease} processed by a worker that had lost the lease; checkpoints: "
             f"{w.checkpoints_written} written, {w.checkpoints_refused} refused"]
    if len(w.names) == 1 and not w.events:
        return lines
    lines += ["", "leases held (times after the start)"]
    rows = [[h.worker, h.shard_id, _offset(round(h.start, 3)), _offset(None if h.end is None else round(h.end, 3)),
             h.how or "-"] for h in w.holdings]
    lines += _table(["worker", "shard", "from", "to", "how it ended"], rows, right={2, 3})
    if w.takeovers:
        lines += ["", "takeovers"]
        rows = [[_offset(t.at), t.shard_id, t.worker, t.previous or "-", "yes" if t.stolen else "no",
                 _seconds(None if t.after is None else round(t.after, 3))] for t in w.takeovers]
        lines += _table(["at", "shard", "worker", "from", "stolen", "s after crash/stall"], rows, right={0, 5})
    return lines


def _write_window_tables(result: RunResult, out: TextIO) -> None:
    """A table per windowing: each cell's truth and each counter's count, written row by row once the
    columns' widths are known; a window's lines from one template where its keys are text and its
    numbers whole (its time in the template, the last column a number: no space to strip)."""
    groups: dict = {}
    for part in result.counters:
        groups.setdefault(part.truth.windowing, []).append(part)
    for windowing, parts in groups.items():
        size, slide = windowing.size_us / 1e6, windowing.slide_us / 1e6
        title = f"windows of {size:g} s" + (f" every {slide:g} s" if slide != size else "")
        windows = list(base.windows(parts))

        headers = ["window", "key", "truth"] + [p.spec.name for p in parts]
        widths = _column_widths(headers, windows)
        right = set(range(2, 3 + len(parts)))
        line = _liner(widths, right)
        out.write(f"\n{title}\n{line(headers)}\n{line(['-' * w for w in widths])}\n")
        for window in windows:
            plain = _plain_line(window.text, widths, right).__mod__ if window.plain else None
            for rows in window.chunks():
                out.write("\n".join(map(plain, rows) if plain else [line([window.text, *row]) for row in rows])
                          + "\n")


def _plain_line(text: str, widths: list[int], right: set[int]) -> str:
    """The %-template of the lines of a plain window (text keys, whole numbers) starting at ``text``:
    ``_liner``'s line for them, its last column a number (no space at its end to strip)."""
    fields = [("%" if i in right else "%-") + (str(w) if w else "") + "s" for i, w in enumerate(widths)]
    return "  ".join([_fields(widths, right)[0].format(text).replace("%", "%%")] + fields[1:])


def _column_widths(headers: list[str], windows: list[base.Window]) -> list[int]:
    """The widths of a windows table's columns: its headers', or the longest text of a column's cells."""
    widths = [len(header) for header in headers]
    for window in windows:
        longest = [len(window.text), _longest(window.keys)] + [_longest(values) for values in [window.truths,
                                                                                                *window.counts]]
        widths = list(map(max, widths, longest))
    return widths


def _longest(values: list) -> int:
    """The length of the longest text of ``values`` (of whole numbers, the highest's or the lowest's)."""
    kinds = set(map(type, values))
    if kinds == {int}:
        return max(len(str(max(values))), len(str(min(values))))
    return max(map(len, values if kinds == {str} else map(str, values)), default=0)


def write_text(result: RunResult, out: TextIO) -> None:
    """Write the text report to ``out`` as it is made."""
    scenario = result.scenario
    lines = [f"kinsim {__version__}: {scenario.name} (seed {result.seed}, backend {result.backend})"]
    if scenario.description:
        lines.append(scenario.description)
    ended = utc_text(scenario.start_us + round(result.ended_at * 1_000_000))
    lines += [
        "",
        f"records: {result.produced} produced, {result.delivered} delivered"
        + (f" ({result.possible_duplicates} possibly twice)" if result.possible_duplicates else "")
        + f", {result.throttled_puts} puts "
        f"throttled and retried; consumer: {result.polls} polls, {result.throttled_polls} throttled, "
        f"{result.iterators_renewed} iterators renewed; input ended at {ended}",
        "",
    ]
    lines += _metrics_table(result)
    for part in result.counters:
        late_ones = late_records(part.counter)
        if late_ones:
            late_by = part.metrics["late_by_s"]
            lines += ["", f"{part.spec.name}: {len(late_ones)} late records, late by "
                          f"p50 {late_by['p50']:g} s, max {late_by['max']:g} s; first ones:"]
            for late in late_ones[:5]:
                lines.append(f"  {late.key} at {utc_text(late.event_us)}, {late.late_by_us / 1e6:g} s behind the "
                             f"watermark of {late.shard_id}")
    lines += _stream_tables(result)
    lines += _worker_tables(result)
    out.write("\n".join(lines) + "\n")
    _write_window_tables(result, out)


def to_text(result: RunResult) -> str:
    """The text report as one string."""
    text = io.StringIO()
    write_text(result, text)
    return text.getvalue()

"""The report of a run: JSON exactly as DESIGN §8 (plus late-record detail), or readable text.

The JSON holds no wall-clock value, so the same scenario and seed give byte-identical output. Times
are UTC with a ``Z``; ``rows`` has one entry per (window, key) with truth or a count, sorted by window
start then key, ``count`` being the counter's last reported value (0 if none).

Both reports are written to their output as they are made (``write_json``, ``write_text``): a run with
a million cells never holds its report whole, as rows of dictionaries or as one string. The JSON is
byte for byte what ``json.dumps(report_dict(result), indent=2, ensure_ascii=False)`` gives.
"""

from __future__ import annotations

import io
import json
from datetime import datetime, timedelta
from json.encoder import encode_basestring
from typing import Any, Callable, Iterator, Optional, TextIO

from . import __version__
from .durations import duration_text
from .metrics import late_records
from .runner import CounterResult, RunResult

__all__ = ["report_dict", "to_json", "to_text", "utc_text", "write_json", "write_text"]

_EPOCH = datetime(1970, 1, 1)
LATE_EXAMPLES = 20
_CHUNK = 1000  # rows joined into one write


def utc_text(us: int) -> str:
    """An instant in microseconds since the epoch as ISO 8601 UTC text. Past the years 1 to 9999 (a lag
    drawn from a heavy tail can reach there) the year is written with a sign and as many digits as it
    takes (ISO 8601's expanded years), instead of failing."""
    seconds, micro = divmod(us, 1_000_000)
    days, second = divmod(seconds, 86_400)
    try:
        moment = _EPOCH + timedelta(days=days)
        year, month, day = moment.year, moment.month, moment.day
        date = f"{year:04d}-{month:02d}-{day:02d}"
    except OverflowError:
        date = _far_date(days)
    text = f"{date}T{second // 3600:02d}:{second // 60 % 60:02d}:{second % 60:02d}"
    if micro:
        text += f".{micro:06d}".rstrip("0")
    return text + "Z"


def _far_date(days: int) -> str:
    """The proleptic Gregorian date ``days`` after 1970-01-01, for any year (H. Hinnant's civil_from_days)."""
    z = days + 719_468
    era = z // 146_097
    doe = z - era * 146_097
    yoe = (doe - doe // 1460 + doe // 36_524 - doe // 146_096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    day = doy - (153 * mp + 2) // 5 + 1
    month = mp + 3 if mp < 10 else mp - 9
    year = yoe + era * 400 + (month <= 2)
    return f"{'+' if year > 0 else '-'}{abs(year):04d}-{month:02d}-{day:02d}"


def _window_texts() -> Callable[[int], str]:
    """``utc_text`` for window bounds, each worked out once: a report names few windows, many times."""
    texts: dict[int, str] = {}

    def text(us: int) -> str:
        found = texts.get(us)
        if found is None:
            found = texts[us] = utc_text(us)
        return found
    return text


def _cells(parts: list[CounterResult]) -> list:
    """The cells with truth or a count in any of ``parts`` (one windowing), sorted by window start, then key."""
    return sorted(set(parts[0].truth.cells).union(*(part.observations.cells for part in parts)))


class _Rows:
    """One counter's rows, made as they are written: as dictionaries (``report_dict``) or as JSON text."""

    def __init__(self, part: CounterResult) -> None:
        self.part = part

    def _values(self) -> Iterator[tuple]:
        """(window start, window end, key, truth, count) per cell, in order."""
        text, size = _window_texts(), self.part.truth.windowing.size_us
        truth, observed = self.part.truth.cells, self.part.observations.cells
        for cell in _cells([self.part]):
            report = observed.get(cell)
            yield text(cell[0]), text(cell[0] + size), cell[1], truth.get(cell, 0), report.last if report else 0

    def __iter__(self) -> Iterator[dict]:
        for start, end, key, truth, count in self._values():
            yield {"window_start": start, "window_end": end, "key": key, "truth": truth, "count": count}

    def write_json(self, out: TextIO, level: int) -> None:
        """The rows as ``_dumps`` writes a list at ``level``: each row a fixed shape, its times ASCII."""
        pad, inner = "\n" + "  " * (level + 1), ",\n" + "  " * (level + 2)
        chunk, written = [], False
        for start, end, key, truth, count in self._values():
            chunk.append(f'{pad}{{{inner[1:]}"window_start": "{start}"{inner}"window_end": "{end}"{inner}"key": '
                         f'{_scalar(key, level + 2)}{inner}"truth": {_scalar(truth, level + 2)}{inner}"count": '
                         f'{_scalar(count, level + 2)}{pad}}}')
            if len(chunk) == _CHUNK:
                out.write(("," if written else "[") + ",".join(chunk))
                chunk, written = [], True
        if chunk:
            out.write(("," if written else "[") + ",".join(chunk))
        out.write("\n" + "  " * level + "]" if chunk or written else "[]")


def _scalar(value: Any, level: int) -> str:
    """A value in a row as ``_dumps`` writes it: text and whole numbers at once, anything else through it."""
    if type(value) is str:
        return encode_basestring(value)  # what json.dumps(value, ensure_ascii=False) calls
    if type(value) is int:
        return str(value)
    return _dumps(value, level)


def _dumps(value: Any, level: int) -> str:
    """``value`` as ``json.dumps(..., indent=2)`` writes it nested ``level`` deep in a document (its text
    holds no raw newline but those between its items)."""
    text = json.dumps(value, indent=2, ensure_ascii=False)
    return text.replace("\n", "\n" + "  " * level) if level else text


def _late(part: CounterResult) -> list[dict]:
    return [{"shard_id": late.shard_id, "key": late.key, "event_time": utc_text(late.event_us),
             "late_by_s": round(late.late_by_us / 1e6, 6), "processed_at": utc_text(late.processed_us)}
            for late in late_records(part.counter)[:LATE_EXAMPLES]]


def _kind(part: CounterResult) -> str:
    """The counter's own ``kind`` if it has one, else the kind as the scenario names it."""
    return str(getattr(part.counter, "kind", part.spec.kind))


def _params(part: CounterResult) -> dict:
    """The counter's own ``params`` if it has them, else its window size and slide in seconds and the
    parameters the scenario gave it."""
    params = getattr(part.counter, "params", None)
    if params is None:
        windowing = part.spec.windowing
        params = {"size": windowing.size_us / 1e6, "slide": windowing.slide_us / 1e6, **dict(part.spec.params)}
    return _plain(params)


def _plain(value):
    """A value JSON can hold: text, numbers, booleans, null, lists and mappings of them; else its text."""
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    return str(value)


def _records(result: RunResult) -> dict:
    records = {"produced": result.produced, "delivered": result.delivered}
    if result.possible_duplicates:  # only a real stream can double a record; simulated shards cannot
        records["possible_duplicates"] = result.possible_duplicates
    return records


def _at(result: RunResult, seconds: Optional[float]) -> Optional[str]:
    """Seconds after the start as a UTC instant (None stays None)."""
    return None if seconds is None else utc_text(result.scenario.start_us + round(seconds * 1_000_000))


def _stream(result: RunResult) -> dict:
    """What the stream went through: each shard's lineage and load, the faults applied, the throughput."""
    return {
        "shards": [{"shard_id": s.shard_id, "parents": list(s.parents), "opened_at": _at(result, s.opened_at),
                    "closed_at": _at(result, s.closed_at), "records_read": s.records_read,
                    "throttled_puts": s.throttled_puts,
                    "throttled_reads": s.throttled_reads, "most_millis_behind_latest": s.most_millis_behind}
                   for s in result.shards],
        "faults": [{"at": _at(result, applied.at), "path": applied.fault.path, "kind": applied.fault.kind,
                    "fault": applied.fault.describe(), "until": _at(result, applied.fault.end),
                    "outcome": applied.outcome} for applied in result.faults],
        "throughput": [{"start": _at(result, row.start), "span_s": row.span, "records_in": row.records_in,
                        "throttled_puts": row.throttled_puts, "records_read": row.records_read,
                        "throttled_reads": row.throttled_reads} for row in result.throughput],
    }


def _consumer(result: RunResult) -> dict:
    """The consuming workers: polls, what processors were given, checkpoints, who held which lease when."""
    consumer = {"polls": result.polls, "throttled_polls": result.throttled_polls,
                "iterators_renewed": result.iterators_renewed}
    w = result.workers
    if w is None:
        return consumer
    consumer.update({
        "workers": list(w.names), "delivered": w.delivered, "duplicates": w.duplicates,
        "never_delivered": w.never_delivered, "checkpoints_written": w.checkpoints_written,
        "checkpoints_refused": w.checkpoints_refused, "processed_without_lease": w.without_lease,
        "takeovers": [{"at": _at(result, t.at), "shard_id": t.shard_id, "worker": t.worker, "from": t.previous,
                       "stolen": t.stolen, "after_s": None if t.after is None else round(t.after, 6)}
                      for t in w.takeovers],
        "leases": [{"worker": h.worker, "shard_id": h.shard_id, "from": _at(result, h.start),
                    "to": _at(result, h.end), "ended": h.how or None} for h in w.holdings],
        "worker_events": [{"worker": e.worker, "event": e.what, "at": _at(result, e.at),
                           "until": _at(result, e.until)} for e in w.events],
    })
    return consumer


class _Open(dict):
    """A mapping that ``_write_json`` writes member by member, as it holds something written in pieces."""


def _report(result: RunResult) -> _Open:
    """The report, with each counter's rows still to be made."""
    return _Open({
        "kinsim": __version__,
        "scenario": result.scenario.name,
        "seed": result.seed,
        "backend": result.backend,
        "records": _records(result),
        "consumer": _consumer(result),
        "stream": _stream(result),
        "counters": [
            _Open({"name": part.spec.name, "kind": _kind(part), "params": _params(part),
                   "metrics": part.metrics, "rows": _Rows(part), "late": _late(part)})
            for part in result.counters
        ],
    })


def _materialised(value: Any) -> Any:
    if isinstance(value, _Rows):
        return list(value)
    if isinstance(value, _Open):
        return {key: _materialised(item) for key, item in value.items()}
    if isinstance(value, list) and value and isinstance(value[0], _Open):
        return [_materialised(item) for item in value]
    return value


def report_dict(result: RunResult) -> dict:
    """The JSON report as dictionaries and lists (every row made at once)."""
    return _materialised(_report(result))


def _write_json(out: TextIO, value: Any, level: int) -> None:
    """``value`` as ``_dumps`` would write it at ``level``, written piece by piece where it is open."""
    if isinstance(value, _Rows):
        value.write_json(out, level)
    elif value and (isinstance(value, _Open) or isinstance(value, list) and isinstance(value[0], _Open)):
        pairs = value.items() if isinstance(value, dict) else ((None, item) for item in value)
        pad = "\n" + "  " * (level + 1)
        for i, (key, item) in enumerate(pairs):
            out.write(("," if i else "{" if key is not None else "[") + pad
                      + ("" if key is None else json.dumps(key, ensure_ascii=False) + ": "))
            _write_json(out, item, level + 1)
        out.write("\n" + "  " * level + ("}" if isinstance(value, dict) else "]"))
    else:
        out.write(_dumps(value, level))


def write_json(result: RunResult, out: TextIO) -> None:
    """Write the JSON report to ``out`` (a text file, or anything with ``write``) as it is made."""
    _write_json(out, _report(result), 0)
    out.write("\n")


def to_json(result: RunResult) -> str:
    """The JSON report as one string."""
    text = io.StringIO()
    write_json(result, text)
    return text.getvalue()


# -- text ---------------------------------------------------------------------------------------------
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
    template = "  ".join("{:" + (">" if i in right else "<") + (str(w) if w else "") + "}"
                         for i, w in enumerate(widths))
    return lambda cells: template.format(*map(str, cells)).rstrip()


def _metrics_table(result: RunResult) -> list[str]:
    rows = []
    for part in result.counters:
        m = part.metrics
        latency = m["convergence_latency_s"] or {}
        rows.append([part.spec.name, _kind(part), f"{m['final_exact']:.3f}", f"{m['first_exact']:.3f}",
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
    """A table per windowing: each cell's truth and each counter's count, written row by row (the
    cells are gone over twice: once for the columns' widths, once to write)."""
    groups: dict = {}
    for part in result.counters:
        groups.setdefault(part.truth.windowing, []).append(part)
    for windowing, parts in groups.items():
        size, slide = windowing.size_us / 1e6, windowing.slide_us / 1e6
        title = f"windows of {size:g} s" + (f" every {slide:g} s" if slide != size else "")
        cells, text = _cells(parts), _window_texts()
        truth, observed = parts[0].truth.cells, [part.observations.cells for part in parts]

        def rows() -> Iterator[list[str]]:
            for cell in cells:
                counts = []
                for cells_of in observed:
                    report = cells_of.get(cell)
                    counts.append(str(report.last if report else 0))
                yield [text(cell[0]), cell[1], str(truth.get(cell, 0))] + counts

        headers = ["window", "key", "truth"] + [p.spec.name for p in parts]
        widths = [len(header) for header in headers]
        for row in rows():
            widths = [max(width, len(str(cell))) for width, cell in zip(widths, row)]
        line = _liner(widths, set(range(2, 3 + len(parts))))
        out.write(f"\n{title}\n{line(headers)}\n{line(['-' * w for w in widths])}\n")
        chunk = []
        for row in rows():
            chunk.append(line(row))
            if len(chunk) == _CHUNK:
                out.write("\n".join(chunk) + "\n")
                chunk = []
        if chunk:
            out.write("\n".join(chunk) + "\n")


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

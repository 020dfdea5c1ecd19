"""The JSON report, exactly as DESIGN §8 has it (plus late-record detail): written to its output as it
is made, byte for byte what ``json.dumps(report_dict(result), indent=2, ensure_ascii=False)`` gives."""

from __future__ import annotations

import io
import json
from json.encoder import encode_basestring
from typing import Any, Iterator, Optional, TextIO

from .. import __version__
from ..metrics import late_records
from ..runner import CounterResult, RunResult
from . import base
from .base import counter_kind, utc_text

__all__ = ["report_dict", "to_json", "write_json"]

LATE_EXAMPLES = 20


class _Rows:
    """One counter's rows, made as they are written: as dictionaries (``report_dict``) or as JSON text."""

    def __init__(self, part: CounterResult, truths: base.TruthWindows) -> None:
        self.part, self.truths = part, truths

    def _windows(self) -> Iterator[tuple[base.Window, str]]:
        """The counter's windows in order, each with its end as text."""
        size = self.part.truth.windowing.size_us
        for window in base.windows([self.part], self.truths):
            yield window, utc_text(window.start + size)

    def __iter__(self) -> Iterator[dict]:
        for window, end in self._windows():
            for key, truth, count in zip(window.keys, window.truths, *window.counts):
                yield {"window_start": window.text, "window_end": end, "key": key, "truth": truth, "count": count}

    def write_json(self, out: TextIO, level: int) -> None:
        """The rows as ``_dumps`` writes a list at ``level``: each row a fixed shape, its times ASCII; the
        rows of a plain window (text keys, whole numbers) from an f-string at once, else value by value."""
        pad, inner = "\n" + "  " * (level + 1), ",\n" + "  " * (level + 2)
        truth_at, count_at, close = f'{inner}"truth": ', f'{inner}"count": ', pad + "}"
        written = False
        for window, end in self._windows():
            head = f'{pad}{{{inner[1:]}"window_start": "{window.text}"{inner}"window_end": "{end}"{inner}"key": '
            if window.plain:
                chunks = ([f"{head}{encode_basestring(key)}{truth_at}{truth}{count_at}{count}{close}"
                           for key, truth, count in rows] for rows in window.chunks())
            else:
                chunks = ([f"{head}{_scalar(key, level + 2)}{truth_at}{_scalar(truth, level + 2)}{count_at}"
                           f"{_scalar(count, level + 2)}{close}" for key, truth, count in rows]
                          for rows in window.chunks())
            for rows in chunks:
                out.write(("," if written else "[") + ",".join(rows))
                written = True
        out.write("\n" + "  " * level + "]" if written else "[]")


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
    """The report, with each counter's rows still to be made (the truth grouped once for the counters
    that share it one after another)."""
    truths = base.TruthWindows()
    return _Open({
        "kinsim": __version__,
        "scenario": result.scenario.name,
        "seed": result.seed,
        "backend": result.backend,
        "records": _records(result),
        "consumer": _consumer(result),
        "stream": _stream(result),
        "counters": [
            _Open({"name": part.spec.name, "kind": counter_kind(part), "params": _params(part),
                   "metrics": part.metrics, "rows": _Rows(part, truths), "late": _late(part)})
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

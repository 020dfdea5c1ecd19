"""The per-window rows as CSV, for a spreadsheet: one row per (counter, window, key), written as it is made.

The columns are the JSON report's ``rows`` with the counter they belong to::

    counter,kind,window_start,window_end,key,truth,count

counters in the scenario's order, each one's rows sorted by window start then key (as in the JSON);
``truth`` is the exact count and ``count`` the counter's last reported value (0 if it never reported
the cell). Quoting is RFC 4180's (the ``csv`` module's defaults: a field with a comma, a quote or a line
break is quoted, quotes doubled; lines end with CRLF). Nothing in it depends on the wall clock.
"""

from __future__ import annotations

import csv
import io
from typing import Iterator, TextIO

from ..runner import CounterResult, RunResult
from . import base
from .base import counter_kind, utc_text

__all__ = ["CSV_COLUMNS", "to_csv", "write_csv"]

CSV_COLUMNS = ("counter", "kind", "window_start", "window_end", "key", "truth", "count")


def _rows(part: CounterResult, truths: base.TruthWindows) -> Iterator[tuple]:
    """A counter's rows, in order: the JSON report's rows, led by the counter's name and kind."""
    name, kind, size = part.spec.name, counter_kind(part), part.truth.windowing.size_us
    for start, text, keys, truth, [counts] in base.windows([part], truths):
        end = utc_text(start + size)
        for key in keys:
            yield name, kind, text, end, key, truth.get(key, 0), counts.get(key, 0)


def write_csv(result: RunResult, out: TextIO) -> None:
    """Write the CSV to ``out`` as it is made, a thousand rows a write (a file for it is best opened with
    ``newline=""``, as for any CSV)."""
    piece = io.StringIO()
    writer = csv.writer(piece)  # RFC 4180: minimal quoting, "" for a quote, \r\n after each row
    writer.writerow(CSV_COLUMNS)
    rows, truths = 0, base.TruthWindows()
    for part in result.counters:
        for row in _rows(part, truths):
            writer.writerow(row)
            rows += 1
            if rows == base.CHUNK:
                out.write(piece.getvalue())
                piece.seek(0)
                piece.truncate()
                rows = 0
    out.write(piece.getvalue())


def to_csv(result: RunResult) -> str:
    """The CSV as one string."""
    text = io.StringIO()
    write_csv(result, text)
    return text.getvalue()

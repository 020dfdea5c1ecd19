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
_QUOTED = ',"\r\n'  # the characters for which the csv module quotes a field (found trying every one)


def _pieces(part: CounterResult, truths: base.TruthWindows) -> Iterator[str]:
    """A counter's rows, in order, ``base.CHUNK`` at most in a piece: the JSON report's rows, led by the
    counter's name and kind; those of a plain window (whole numbers, text keys) with nothing to quote in
    its keys from an f-string at once, else through the ``csv`` module."""
    name, kind, size = part.spec.name, counter_kind(part), part.truth.windowing.size_us
    piece = io.StringIO()
    writer = csv.writer(piece)  # RFC 4180: minimal quoting, "" for a quote, \r\n after each row
    for window in base.windows([part], truths):
        lead = (name, kind, window.text, utc_text(window.start + size))
        if window.plain and not any(map("".join(window.keys).__contains__, _QUOTED)):
            writer.writerow(lead + ("",))  # the fields before the key, as the csv module writes them
            head = piece.getvalue()[:-2]
            piece.seek(0)
            piece.truncate()
            for rows in window.chunks():
                yield "".join([f"{head}{key},{truth},{count}\r\n" for key, truth, count in rows])
        else:
            for rows in window.chunks():
                writer.writerows([lead + row for row in rows])
                yield piece.getvalue()
                piece.seek(0)
                piece.truncate()


def write_csv(result: RunResult, out: TextIO) -> None:
    """Write the CSV to ``out`` as it is made, a thousand rows a write at most (a file for it is best
    opened with ``newline=""``, as for any CSV)."""
    header = io.StringIO()
    csv.writer(header).writerow(CSV_COLUMNS)
    out.write(header.getvalue())
    truths = base.TruthWindows()
    for part in result.counters:
        for piece in _pieces(part, truths):
            out.write(piece)


def to_csv(result: RunResult) -> str:
    """The CSV as one string."""
    text = io.StringIO()
    write_csv(result, text)
    return text.getvalue()

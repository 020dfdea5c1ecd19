"""What the reports (JSON, text, CSV) are made of: instants as UTC text, a counter's kind, and the cells
of one windowing window by window."""

from __future__ import annotations

from datetime import datetime, timedelta
from itertools import repeat
from operator import attrgetter, is_not
from typing import Any, Iterator, NamedTuple, Optional

from ..metrics import CellReport
from ..runner import CounterResult

__all__ = ["CHUNK", "utc_text", "windows", "Window", "TruthWindows", "counter_kind"]

_EPOCH = datetime(1970, 1, 1)
CHUNK = 1000  # rows joined into one write
_TEXT, _WHOLE = frozenset([str]), frozenset([int])  # a value's type in them: not a subclass's (bool)
_NEVER = CellReport(0, 0, 0, 0)  # a cell a counter never reported: its count 0
_LAST = attrgetter("last")


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


class Window(NamedTuple):
    """One window's rows: its start, as text too; its keys in order; the truth per key; and per counter
    its last count per key (0 where it never reported the cell), each list in the keys' order. ``plain``:
    its keys are all text and its truths and counts all whole numbers (not booleans), rows a report can
    write from one template, without asking ``json.dumps`` or ``str`` about each value."""
    start: int
    text: str
    keys: list
    truths: list
    counts: list[list]
    plain: bool

    def chunks(self) -> Iterator[Iterator[tuple]]:
        """The window's rows, (key, truth, count of each counter), ``CHUNK`` rows at a time."""
        size = CHUNK
        for i in range(0, len(self.keys), size):
            yield zip(self.keys[i:i + size], self.truths[i:i + size], *(of[i:i + size] for of in self.counts))


class TruthWindows:
    """Each window of a truth with its keys sorted, for a report's counters taken in turn: sorted once for
    counters that share a truth one after another (a scenario's counters of one windowing), and only the
    last truth's held."""

    def __init__(self) -> None:
        self._truth: Any = None
        self._sorted: dict[int, Optional[tuple[list, list, bool]]] = {}

    def in_order(self, truth: Any, start: int) -> Optional[tuple[list, list, bool]]:
        """A window of ``truth``, if its keys are all text: its keys in order, the truth per key, and
        whether those are all whole numbers. None if its keys are not all text: keys of other types are
        sorted as they always were, with the counts'."""
        if truth is not self._truth:
            self._truth, self._sorted = truth, {}  # the last one let go first
        if start not in self._sorted:
            cells = truth.windows[start]
            if _TEXT.issuperset(map(type, cells)):
                keys = sorted(cells)  # in the dict's order, nearly sorted: several times faster than a set's
                values = list(map(cells.__getitem__, keys))
                self._sorted[start] = keys, values, _WHOLE.issuperset(map(type, values))
            else:
                self._sorted[start] = None
        return self._sorted[start]


def windows(parts: list[CounterResult], truths: Optional[TruthWindows] = None) -> Iterator[Window]:
    """The cells with truth or a count in any of ``parts`` (one windowing), window by window in order,
    as the truth and the observations keep them (``windows``: no lookup of a (start, key) pair per row),
    sorted window by window. ``truths``: the truth's windows sorted by an earlier call, where it was the
    same."""
    truth, truths = parts[0].truth, truths or TruthWindows()
    grouped = truth.windows
    reports = [part.observations.windows for part in parts]
    for start in sorted(set(grouped).union(*reports)):
        cells = grouped.get(start)
        found = None if cells is None else truths.in_order(truth, start)
        yield _window(start, cells, found, [of.get(start, {}) for of in reports])


def _window(start: int, cells: Optional[dict], found: Optional[tuple[list, list, bool]],
            reports: list[dict]) -> Window:
    """One window's rows from its truth (None if it has none), its keys in order as ``in_order`` has
    them, and each counter's reports by key. Its keys are the truth's, sorted once for all the counters,
    where they are text and every counter reported only cells with a truth (as a counter does that
    counts what it is given); else the keys of all, sorted as they always were."""
    if found is not None:
        keys, values, whole = found
        got = [list(map(of.get, keys, repeat(_NEVER))) for of in reports]
        if all(sum(map(is_not, mine, repeat(_NEVER))) == len(of) for mine, of in zip(got, reports)):
            counts = [list(map(_LAST, mine)) for mine in got]
            return Window(start, utc_text(start), keys, values, counts, whole and _all_whole(counts))
    cells = cells or {}
    keys = sorted(set(cells).union(*reports))
    values = list(map(cells.get, keys, repeat(0)))
    counts = [list(map(_LAST, map(of.get, keys, repeat(_NEVER)))) for of in reports]
    return Window(start, utc_text(start), keys, values, counts,
                  _TEXT.issuperset(map(type, keys)) and _all_whole([values, *counts]))


def _all_whole(columns: list[list]) -> bool:
    return all(_WHOLE.issuperset(map(type, column)) for column in columns)


def counter_kind(part: CounterResult) -> str:
    """The counter's own ``kind`` if it has one, else the kind as the scenario names it."""
    return str(getattr(part.counter, "kind", part.spec.kind))

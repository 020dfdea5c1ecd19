"""What every counter shares: its interface, its output, how it reports lateness and bad parameters.

Counters are pure: they see partition keys, event times and a processing time, never a clock, simpy or
boto3, so the same counter runs in a simulation, against a real stream and inside your own consumer.
Times are whole microseconds since the Unix epoch.

A counter kind is one class, built as ``cls(name, windowing, sink, **params)``: the parameters are the
scenario's raw values (a duration may be ``"90s"`` or a number of seconds), and the class checks them
itself, raising ``ParameterError`` for a bad one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Protocol, Sequence

from ..durations import parse_duration
from .windows import Windowing

__all__ = ["Sink", "LateRecord", "Counter", "ParameterError", "duration_us", "collect", "report_rows"]

#: Receives a reported count: (window start, key, count, processing time). A sink may also take one
#: window's reports at once, ``sink.rows(start, keys, counts, at_us)``: the same as a call per key in turn
#: (the runner's sinks do; ``report_rows`` is how a counter reports a window either way).
Sink = Callable[[int, str, int, int], None]


def report_rows(sink: Sink, start: int, keys: Sequence[str], counts: Sequence[int], at_us: int) -> None:
    """Report one window's cells, ``keys[i]`` counted ``counts[i]``, in that order: through the sink's own
    ``rows`` when it has one (one call for a window, not one per cell: a run of a million cells makes
    two million reports), else a call of the sink per cell."""
    rows = getattr(sink, "rows", None)
    if rows is not None:
        rows(start, keys, counts, at_us)
        return
    for key, count in zip(keys, counts):
        sink(start, key, count, at_us)


@dataclass(frozen=True)
class LateRecord:
    """A record a counter refused because every window it belongs to was already evicted."""

    shard_id: str
    key: str
    event_us: int
    late_by_us: int       # the shard's watermark minus the record's event time
    processed_us: int


class ParameterError(ValueError):
    """A counter's parameter ``name`` cannot be used; ``problem`` says why."""

    def __init__(self, name: str, problem: str) -> None:
        super().__init__(f"{name}: {problem}")
        self.name = name
        self.problem = problem


class Counter(Protocol):
    """What kinsim calls. The report also reads, when a counter has them: ``kind`` (text),
    ``records_counted``, ``emitted_rows`` (default: the rows it gave its sink), ``peak_state_cells``
    (default: not shown), ``state_cells``, ``late`` (a list of ``LateRecord``; default: none) and
    ``params`` (a dict for the report; default: its window size and slide, and its scenario parameters).
    A counter whose state a poll with no records cannot change may say ``wants_empty_polls = False``
    (default: true): it is then given only the polls that returned records."""

    name: str
    #: the windows its counts are for; ground truth is counted in the same windows
    windowing: Windowing

    def process(self, shard_id: str, keys: Sequence[str], event_us: Sequence[int], now_us: int) -> None:
        """The records of one poll of one shard, in shard order: partition keys and event times in two
        columns of equal length (any sequences); ``now_us`` is the processing time. Reports go to the
        sink given at construction."""

    def close(self, now_us: int) -> None:
        """Input has ended: report everything still held."""


def duration_us(name: str, value: Any) -> int:
    """A duration parameter (``"90s"``, ``"1m30s"``, ``1.5`` seconds) in whole microseconds; a value that is
    not a duration raises ``ParameterError`` naming the parameter."""
    try:
        return round(parse_duration(value) * 1_000_000)
    except ValueError as exc:
        raise ParameterError(name, str(exc)) from None


def collect() -> tuple[list[tuple[int, str, int, int]], Sink]:
    """A list and a sink that appends every report to it, for use in your own consumer."""
    rows: list[tuple[int, str, int, int]] = []
    return rows, lambda start, key, count, at: rows.append((start, key, count, at))

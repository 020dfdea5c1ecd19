"""What every counter shares: its input, its output and how it reports lateness.

Counters are pure: they see (key, event time) pairs and a processing time, never a clock, simpy or
boto3, so the same counter runs in a simulation, against a real stream and inside your own consumer.
Times are whole microseconds since the Unix epoch.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Protocol, Sequence

__all__ = ["Sink", "LateRecord", "Counter", "collect"]

#: Receives a reported count: (window start, key, count, processing time).
Sink = Callable[[int, str, int, int], None]


@dataclass(frozen=True)
class LateRecord:
    """A record a counter refused because every window it belongs to was already evicted."""

    shard_id: str
    key: str
    event_us: int
    late_by_us: int       # the shard's watermark minus the record's event time
    processed_us: int


class Counter(Protocol):
    name: str
    kind: str
    #: records counted in at least one window; with ``late``, every record the counter was given
    records_counted: int
    #: (window, key) rows this counter has reported: its output volume
    emitted_rows: int
    #: the most (window, key) cells it held at once
    peak_state_cells: int
    late: list[LateRecord]

    def process(self, shard_id: str, records: Sequence[tuple[str, int]], now_us: int) -> None:
        """Take the records of one poll of one shard, in shard order, as (key, event time) pairs."""

    def process_columns(self, shard_id: str, keys: Sequence[str], event_us: Sequence[int], now_us: int) -> None:
        """``process``, with keys and event times in two columns."""

    def close(self, now_us: int) -> None:
        """Input has ended: report everything still held."""

    @property
    def state_cells(self) -> int:
        """(window, key) cells held now."""


def collect() -> tuple[list[tuple[int, str, int, int]], Sink]:
    """A list and a sink that appends every report to it, for use in your own consumer."""
    rows: list[tuple[int, str, int, int]] = []
    return rows, lambda start, key, count, at: rows.append((start, key, count, at))

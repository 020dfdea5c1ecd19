"""What the stream went through in a run, for the report: each shard's lineage and load, and the
throughput over time.

Lineage comes from the stream's own listing at the end of the run (parents, and on simulated shards
when each shard opened and closed: a real stream does not say); the load from what the producers and
the consumer saw: records read from the shard, puts it refused (as the writer counted them), reads it
refused, the largest ``MillisBehindLatest`` a poll of it answered.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Optional

from ..backends.base import Backend
from .shard_consumer import ConsumerStats, ShardReading
from .traffic import TrafficStats

__all__ = ["ShardSummary", "Throughput", "shard_summaries", "throughput"]

MOST_ROWS = 60  # the throughput table has at most this many rows: longer runs get wider spans
SPANS_MIN = (1, 2, 5, 10, 15, 30, 60, 120, 180, 360, 720, 1440)


@dataclass(frozen=True)
class ShardSummary:
    shard_id: str
    parents: tuple[str, ...]
    opened_at: Optional[float]  # seconds after the start (None: not known on a real stream)
    closed_at: Optional[float]  # None: open at the end (or not known)
    records_read: int           # by the consumer
    throttled_puts: int
    throttled_reads: int
    most_millis_behind: int


@dataclass(frozen=True)
class Throughput:
    """A span of the run (seconds after the start) and what happened in it."""

    start: float
    span: float
    records_in: int
    throttled_puts: int
    records_read: int
    throttled_reads: int


def shard_summaries(backend: Backend, stream_name: str, consumer: ConsumerStats, throttled: Mapping[str, int],
                    start_s: float) -> tuple[ShardSummary, ...]:
    """Every shard the stream lists, and any other the consumer read, in shard id order; ``throttled``:
    the puts each shard refused."""
    listed = {shard.shard_id: shard for shard in backend.list_shards(stream_name)}
    times = {}
    if hasattr(backend, "shards_of"):  # simulated shards know when they opened and closed
        times = {shard_id: (log.opened_at - start_s,  # type: ignore[attr-defined]
                            None if log.closed_at is None else log.closed_at - start_s)  # type: ignore[attr-defined]
                 for shard_id, log in backend.shards_of(stream_name).items()}
    summaries = []
    for shard_id in sorted(set(listed) | set(consumer.shards)):
        shard = listed.get(shard_id)
        parents = () if shard is None else shard.parents
        opened, closed = times.get(shard_id, (None, None))
        reading = consumer.shards.get(shard_id, ShardReading())
        summaries.append(ShardSummary(shard_id, parents, None if opened is None else round(max(0.0, opened), 6),
                                      None if closed is None else round(closed, 6), reading.records,
                                      throttled.get(shard_id, 0),
                                      reading.throttled_polls, reading.most_millis_behind))
    return tuple(summaries)


def throughput(traffic: TrafficStats, consumer: ConsumerStats, ended_at: float) -> tuple[Throughput, ...]:
    """Records in and read, puts and reads refused, per minute of the run (or per wider span, so that
    there are at most ``MOST_ROWS`` rows), from the first minute to the one the input ended in."""
    tallies = (traffic.arrived.counts, traffic.throttled.counts, consumer.records_read.counts,
               consumer.throttled.counts)
    last = max([int(ended_at // 60)] + [max(counts) for counts in tallies if counts])
    span = next((s for s in SPANS_MIN if last // s < MOST_ROWS), -(-(last + 1) // MOST_ROWS))
    sums = [[0] * (last // span + 1) for _ in tallies]
    for column, counts in zip(sums, tallies):
        for minute, count in counts.items():
            column[minute // span] += count
    return tuple(Throughput(row * span * 60.0, span * 60.0, *(column[row] for column in sums))
                 for row in range(last // span + 1))

"""Counters: pure windowed counting of (key, event time) records, no clock and no I/O (DESIGN §6).

    rows, sink = collect()
    counter = BufferedCounter("buffered", Windowing.of_seconds(60), sink, grace="90s")
    counter.process("shardId-000000000000", ["8.8.8.8"], [ts_us], now_us)
    counter.close(now_us)

``BUILT_IN`` maps the kinds a scenario names by word to their classes; a scenario names any other
counter class by its import path.
"""

from .base import Counter, LateRecord, ParameterError, Sink, collect, duration_us, report_rows
from .buffered import BufferedCounter
from .naive import NaiveCounter
from .per_shard import Part, PerShard
from .windows import Windowing

BUILT_IN: dict[str, type] = {"naive": NaiveCounter, "buffered": BufferedCounter}

__all__ = ["Counter", "LateRecord", "ParameterError", "Sink", "collect", "duration_us", "report_rows",
           "BufferedCounter", "NaiveCounter", "Part", "PerShard", "Windowing", "BUILT_IN"]

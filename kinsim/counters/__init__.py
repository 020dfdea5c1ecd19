"""Counters: pure windowed counting of (key, event time) records, no clock and no I/O (DESIGN §6).

    rows, sink = collect()
    counter = BufferedCounter("buffered", Windowing.of_seconds(60, 60), sink, grace_us=90_000_000)
    counter.process("shardId-000000000000", [("8.8.8.8", ts_us)], now_us)
    counter.close(now_us)
"""

from .base import Counter, LateRecord, Sink, collect
from .buffered import BufferedCounter
from .naive import NaiveCounter
from .windows import Windowing

__all__ = ["Counter", "LateRecord", "Sink", "collect", "BufferedCounter", "NaiveCounter", "Windowing"]

"""Lanes: the attempts waiting to reach one simulated shard (or, for a real stream, all of them).

First attempts of fixed-pacing records are known ahead and wait in columns sorted by (time, producer,
record number), in typed arrays: no Python object per waiting record. They come in chunks, as lists or
(a producer's run of records) as numpy arrays, and a chunk is merged in by one numpy sort of the lane's
columns: by time, stably, and by the whole order only when two times are equal. Each attempt carries
its key (a producer drawing from a population writes to many keys, so to many lanes). Retries and the
records of ``after_put`` producers are known only as attempts happen, and wait in a heap of
``Attempt``s. The traffic takes what is due from each lane in that order.
"""

from __future__ import annotations

import heapq
from array import array
from bisect import bisect_left, bisect_right
from typing import NamedTuple, Optional

import numpy as np

__all__ = ["Attempt", "FreshAttempts", "DueAttempts", "Lane"]


class Attempt(NamedTuple):
    """One try at putting a record; attempts run in this field order."""

    time: float     # seconds after the scenario's start
    producer: int   # the producer's index, in scenario order
    record: int     # the producer's record number, from 0
    tries: int      # earlier tries that failed
    stamp_us: int   # the event time its data carries (the producer's clock skew included), in µs
    key: int        # its partition key, as the traffic numbers keys (``KeyTable``)


class FreshAttempts(NamedTuple):
    """First attempts of records just created, column by column (lists of equal length, any order). An
    attempt's key is most often its producer's own, numbered as the producer (``KeyTable``): a lane
    whose keys are all that keeps no column of them."""

    times: list[float]
    producers: list[int]
    records: list[int]
    stamps_us: list[int]
    keys: list[int]
    parts: list[tuple[np.ndarray, ...]]  # more attempts, a producer's run each: the five columns as arrays

    @classmethod
    def empty(cls) -> "FreshAttempts":
        return cls([], [], [], [], [], [])

    def columns(self) -> tuple[list, ...]:
        """The five columns kept as lists (not ``parts``)."""
        return self[:5]


class DueAttempts(NamedTuple):
    """First attempts taken out of a lane, in order; record numbers are looked up only when needed."""

    times: array
    producers: array
    stamps_us: array
    keys: array     # the producers' (the same array) when every key is its producer's own
    order: array    # where each one's record number is in ``records``
    records: array

    def record(self, i: int) -> int:
        return self.records[self.order[i]]

    def attempt(self, i: int) -> Attempt:
        return Attempt(self.times[i], self.producers[i], self.record(i), 0, self.stamps_us[i], self.keys[i])

    def count_before(self, start: int, other: Attempt) -> int:
        """How many of these attempts, from ``start`` on, come before ``other``."""
        times = self.times
        low = bisect_left(times, other.time, start)
        high = bisect_right(times, other.time, low)
        ahead = other.producer, other.record, other.tries
        return low - start + sum(1 for i in range(low, high) if (self.producers[i], self.record(i), 0) < ahead)


class Lane:
    """Attempts waiting in one lane (see the module's docstring)."""

    __slots__ = ("times", "producers", "stamps_us", "keys", "records", "order", "head", "waiting")

    def __init__(self) -> None:
        self.times = array("d")
        self.producers = array("I")
        self.stamps_us = array("q")
        self.keys: Optional[array] = None  # None: every key is its producer's own
        self.records = array("q")  # unsorted: the attempt at sorted position i is records[order[i]]
        self.order = array("I")
        self.head = 0
        self.waiting: list[Attempt] = []  # a heap: retries and after-put records

    def pending(self) -> FreshAttempts:
        """The first attempts not yet taken, in order."""
        head = self.head
        producers = self.producers[head:].tolist()
        return FreshAttempts(self.times[head:].tolist(), producers,
                             list(map(self.records.__getitem__, self.order[head:])), self.stamps_us[head:].tolist(),
                             list(producers) if self.keys is None else self.keys[head:].tolist(), [])

    def add(self, fresh: FreshAttempts) -> None:
        """Merge freshly created first attempts in, keeping typed arrays (no object outlives its chunk)."""
        head = self.head
        parts: list = []
        if head < len(self.times):  # the pending ones: their record numbers looked up through ``order``
            records = np.frombuffer(self.records, np.int64)[np.frombuffer(self.order, np.uint32)[head:]]
            producers = self.producers[head:]
            parts.append((self.times[head:], producers, records, self.stamps_us[head:],
                          producers if self.keys is None else self.keys[head:]))
        if fresh.times:
            parts.append(fresh.columns())
        parts += fresh.parts
        if not parts:
            return
        times, producers, records, stamps, keys = (np.concatenate([np.asarray(part[c], dtype) for part in parts])
                                                   for c, dtype in enumerate(_DTYPES))
        order = np.argsort(times, kind="stable")
        in_time = times[order]
        if len(in_time) > 1 and (in_time[1:] == in_time[:-1]).any():  # equal times: by producer, record too
            order = np.lexsort((records, producers, times))
            in_time = times[order]
        self.order = _array("I", order.astype(np.uint32))
        self.times = _array("d", in_time)
        self.records = _array("q", records)
        self.producers = _array("I", producers[order])
        self.stamps_us = _array("q", stamps[order])
        self.keys = None if np.array_equal(keys, producers) else _array("I", keys[order])
        self.head = 0

    def push(self, attempt: Attempt) -> None:
        heapq.heappush(self.waiting, attempt)

    def pop(self) -> Attempt:
        return heapq.heappop(self.waiting)

    def next_due(self) -> Optional[float]:
        first = self.times[self.head] if self.head < len(self.times) else None
        if self.waiting and (first is None or self.waiting[0].time < first):
            return self.waiting[0].time
        return first

    def waiting_due(self, limit: float, inclusive: bool) -> Optional[Attempt]:
        """The heap's next attempt if it is due by ``limit`` (at it too, when ``inclusive``)."""
        if self.waiting:
            time = self.waiting[0].time
            if time < limit or inclusive and time == limit:
                return self.waiting[0]
        return None

    def take(self, limit: float, inclusive: bool) -> DueAttempts:
        """Take out the first attempts due before ``limit`` (or at it, when ``inclusive``)."""
        head = self.head
        cut = (bisect_right if inclusive else bisect_left)(self.times, limit, head)
        self.head = cut
        producers = self.producers[head:cut]
        return DueAttempts(self.times[head:cut], producers, self.stamps_us[head:cut],
                           producers if self.keys is None else self.keys[head:cut], self.order[head:cut], self.records)


_DTYPES = (np.float64, np.uint32, np.int64, np.int64, np.uint32)


def _array(typecode: str, values: np.ndarray) -> array:
    """A typed array of a numpy array's values (of the same item type: copied as bytes)."""
    made = array(typecode)
    made.frombytes(values.tobytes())
    return made

"""Lanes: the attempts waiting to reach one simulated shard (or, for a real stream, all of them).

First attempts of fixed-pacing records are known ahead and wait in columns sorted by (time, producer,
record number), in typed arrays; retries and after-put records are known only as deliveries happen and
wait in a heap. ``Traffic`` takes what is due from each lane in order.
"""

from __future__ import annotations

import heapq
from array import array
from bisect import bisect_right
from itertools import islice
from operator import eq
from typing import Iterator, Optional, Sequence

__all__ = ["Attempt", "Columns", "Lane", "in_order"]

#: (time, producer, record number, attempt, tag): one try at putting a record, its time in seconds after
#: the start; the tag is the event time its data carries, in µs (``render`` gives the data)
Attempt = tuple

#: first attempts, column by column: (times, producers, record numbers, tags), sequences of equal length
Columns = tuple


class Lane:
    """Attempts waiting in one lane: first attempts of fixed-pacing records in columns sorted by (time,
    producer, record number), and a heap of the rest (retries and after-put records), which can only be
    known as deliveries happen. Record numbers are looked up only when needed (to try attempts one by
    one): they stay in the order they came, with the sorting permutation."""

    __slots__ = ("times", "producers", "tags", "numbers", "order", "head", "dynamic")

    def __init__(self) -> None:
        self.times = array("d")
        self.producers = array("I")
        self.tags = array("q")
        self.numbers = array("q")  # unsorted: the record at sorted position i has numbers[order[i]]
        self.order = array("I")
        self.head = 0
        self.dynamic: list[Attempt] = []

    def numbers_at(self, positions: slice) -> list[int]:
        return list(map(self.numbers.__getitem__, self.order[positions]))

    def pending(self) -> Columns:
        """The first attempts not yet taken, in order."""
        head = self.head
        return (self.times[head:].tolist(), self.producers[head:].tolist(), self.numbers_at(slice(head, None)),
                self.tags[head:].tolist())

    def add(self, times: list[float], producers: list[int], numbers: list[int], tags: list[int]) -> None:
        """Merge freshly created first attempts in. The columns are kept in typed arrays: no Python
        object per waiting record (objects that outlive their neighbours scatter the heap)."""
        columns = self.pending()
        for column, fresh in zip(columns, (times, producers, numbers, tags)):
            column.extend(fresh)
        order, sorted_times = in_order(*columns[:3])
        self.order, self.times = array("I", order), array("d", sorted_times)
        self.numbers = array("q", columns[2])
        self.producers = array("I", list(map(columns[1].__getitem__, order)))  # from a list: far faster
        self.tags = array("q", list(map(columns[3].__getitem__, order)))
        self.head = 0

    def push(self, attempt: Attempt) -> None:
        heapq.heappush(self.dynamic, attempt)

    def next_due(self) -> Optional[float]:
        times = [self.times[self.head]] if self.head < len(self.times) else []
        if self.dynamic:
            times.append(self.dynamic[0][0])
        return min(times) if times else None

    def dynamic_due(self, t: float) -> bool:
        return bool(self.dynamic) and self.dynamic[0][0] <= t

    def take_until(self, t: float) -> tuple[Sequence[float], Sequence[int], Sequence[int], slice]:
        """The first attempts due at or before ``t``, taken out: (times, producers, tags, positions);
        their record numbers are ``numbers_at(positions)``."""
        head, cut = self.head, bisect_right(self.times, t, self.head)
        self.head = cut
        return self.times[head:cut], self.producers[head:cut], self.tags[head:cut], slice(head, cut)

    def merged(self, ready: Iterator[Attempt], t: float) -> Iterator[Attempt]:
        """``ready`` (in order) and the heap's attempts due by ``t``, in order; the heap may grow meanwhile."""
        dynamic = self.dynamic
        following = next(ready, None)
        while True:
            if dynamic and dynamic[0][0] <= t and (following is None or dynamic[0] < following):
                yield heapq.heappop(dynamic)
            elif following is not None:
                yield following
                following = next(ready, None)
            else:
                return


def in_order(times: list[float], producers: list[int], numbers: list[int]) -> tuple[list[int], list[float]]:
    """The permutation that sorts the columns by (time, producer, record number), and the sorted times:
    an order by time first (fast, on floats), then any run of equal times by the whole key."""
    order = sorted(range(len(times)), key=times.__getitem__)
    times = list(map(times.__getitem__, order))
    if any(map(eq, times, islice(times, 1, None))):
        start = 0
        for i in range(1, len(times) + 1):
            if i == len(times) or times[i] != times[start]:
                if i - start > 1:
                    order[start:i] = sorted(order[start:i], key=lambda j: (producers[j], numbers[j]))
                start = i
    return order, times

"""Sparse producers' records, made all at once (``Schedule.create``): the chunk's records of every plain
producer that makes few in it, and the one record of every producer only jittered that makes one.

Many producers writing now and then (a crowd of 100,000, each a record a minute) make one record a chunk
each, or a few. Made one by one, a record costs a pass through a loop (about 1.3 µs); here the chunk's
producers are sorted out in numpy, from their parameters held as arrays by producer number, and their
records come from the ``offset + k x interval`` formula over arrays (a grid of each one's next records,
as wide as the most any makes): the same floats and integers as the loop's, bit for bit
(``tests/test_populations.py`` makes sparse producers' records this way and in columns, producer by
producer). A producer's lags stay its own call, drawn from its own generator in record order, and so
does a jittered producer's jitter: the next record's, drawn for every jittered producer due, as the loop
would draw it; one whose next record also falls in the chunk is left to the loop with that draw
(``Schedule._few``'s ``second``). A record's number is the schedule's array, shared.
"""

from __future__ import annotations

from itertools import chain
from typing import Sequence

import numpy as np

from .lanes import FreshAttempts
from .members import Member

__all__ = ["SparseProducers"]


class _Codes(dict):
    """A lane's name → its number, numbered when first looked up; ``names``: by number, the names."""

    def __init__(self) -> None:
        super().__init__()
        self.names: list[str] = []

    def __missing__(self, name: str) -> int:
        code = self[name] = len(self.names)
        self.names.append(name)
        return code


class SparseProducers:
    """The producers' parameters as arrays by producer number, and the chunk's sparse records."""

    def __init__(self, producers: list[Member], start_us: int, next_records: np.ndarray) -> None:
        self._producers = producers
        self._next = next_records  # by producer: its next record's number (the schedule's, shared)
        groups = [producer.group for producer in producers]
        # a plain producer of its own key: records on the float formula, event times in whole microseconds
        self._plain = np.array([group.plain and producer.key is not None for producer, group in zip(producers, groups)],
                               bool)
        # ... or one whose records are jittered, and only that (no outages): a jitter draw a record
        self._jittered = np.array([bool(group.spec.jitter) and not group.spec.outages and producer.key is not None
                                   for producer, group in zip(producers, groups)], bool)
        self._start_us = start_us
        self._offset = np.array([group.offset for group in groups], np.float64)
        self._interval = np.array([group.interval for group in groups], np.float64)
        self._stops = np.array([group.stops for group in groups], np.float64)
        self._first_event = np.array([start_us + group.offset_us for group in groups], np.int64)
        self._step = np.array([group.whole_step_us or 0 for group in groups], np.int64)
        self._skew = np.array([group.skew_us for group in groups], np.int64)
        self._lanes = _Codes()

    def make(self, numbers: np.ndarray, created: np.ndarray, horizon: float, few: int, lanes: Sequence[str],
             fresh: dict[str, FreshAttempts], keys: list[int],
             events: list[int]) -> tuple[np.ndarray, tuple, dict[int, float]]:
        """The records by ``horizon`` of each producer due (``numbers``, its next created at ``created``)
        that makes fewer than ``few`` in the chunk: a plain producer's, however many, and a jittered
        one's if it makes one. Their first attempts go into their lanes' (``lanes``) parts of ``fresh``,
        their keys and event times onto ``keys`` and ``events``. Returns the positions in ``numbers`` of
        the producers it left (to be made one by one); the next creation times of those it made records
        of that make more, beside their numbers; and, for a jittered producer it left, when its second
        record is created (its jitter drawn here: ``Schedule._few`` takes it), by position."""
        interval = self._interval[numbers]
        # the loop's test, on the same floats: fewer than ``few`` records in the chunk
        few_ones = (horizon - created) / interval < few
        made = [self._plain_records(np.flatnonzero(self._plain[numbers] & few_ones), numbers, created, horizon)]
        seconds: dict[int, float] = {}
        jittered = np.flatnonzero(self._jittered[numbers] & few_ones)
        if len(jittered):
            made.append(self._jittered_records(jittered, numbers, created, horizon, seconds))
        positions, counts, arrivals, producers, records, event, next_times, next_producers = \
            (np.concatenate(column) for column in zip(*made))
        if len(records):
            keys += producers.tolist()
            events += event.tolist()
            stamps = event + self._skew[producers]
            self._into_lanes(list(map(lanes.__getitem__, np.repeat(positions, counts).tolist())), arrivals, producers,
                             records, stamps, fresh)
        left = np.ones(len(numbers), bool)
        left[positions] = False
        return np.flatnonzero(left), (next_times, next_producers), seconds

    def _plain_records(self, positions: np.ndarray, numbers: np.ndarray, created: np.ndarray,
                       horizon: float) -> tuple:
        """Every record by ``horizon`` of these plain producers (at ``positions`` of ``numbers``): the
        first at ``created``, each next at ``offset + k x interval`` while by ``horizon`` and before the
        producer stops, as ``make``'s columns."""
        producers = numbers[positions]
        k = self._next[producers]
        offset, interval, stops = self._offset[producers, None], self._interval[producers, None], \
            self._stops[producers, None]
        width = 2
        while True:  # the records after the first, in a grid as wide as the most any one makes, and one more
            later = offset + (k[:, None] + np.arange(1, width + 1)) * interval
            valid = (later <= horizon) & (later < stops)  # a prefix of each row: ``later`` only grows
            if not len(valid) or not valid[:, -1].any():
                break
            width *= 2
        extra = valid.sum(axis=1)
        counts = extra + 1
        following = later[np.arange(len(producers)), extra]  # the first record not made now
        more = following < stops[:, 0]
        members = list(map(self._producers.__getitem__, producers.tolist()))
        if extra.any():
            taken = np.concatenate((np.ones((len(producers), 1), bool), valid), axis=1)
            made = np.concatenate((created[positions, None], later), axis=1)[taken]
            records = (k[:, None] + np.arange(width + 1))[taken]
            lags = list(chain.from_iterable(map(Member.lags, members, k.tolist(), counts.tolist())))
            owners = np.repeat(producers, counts)
        else:  # one record each (a crowd's, most often)
            made, records, owners = created[positions], k, producers
            lags = list(map(Member.lag, members, k.tolist()))
        event = self._first_event[owners] + records * self._step[owners]
        self._next[producers] = k + counts
        return (positions, counts, made + np.array(lags, np.float64), owners, records, event, following[more],
                producers[more])

    def _jittered_records(self, positions: np.ndarray, numbers: np.ndarray, created: np.ndarray, horizon: float,
                          seconds: dict[int, float]) -> tuple:
        """The one record by ``horizon`` of each of these jittered producers (at ``positions`` of
        ``numbers``) that makes one, as ``make``'s columns. Each one's next record's jitter is drawn
        now, as the loop draws it; for one whose next record falls by ``horizon`` too, its creation goes
        into ``seconds`` by position, and the producer is left to the loop."""
        producers = numbers[positions]
        k = self._next[producers]
        after = self._offset[producers] + (k + 1) * self._interval[producers]
        after += np.array([self._producers[p].jitter() for p in producers.tolist()], np.float64)
        stops = self._stops[producers]
        one = ~((after <= horizon) & (after < stops))  # the next is past the horizon, or never
        seconds.update(zip(positions[~one].tolist(), after[~one].tolist()))
        positions, producers, k, after, stops = positions[one], producers[one], k[one], after[one], stops[one]
        made = created[positions]
        members = list(map(self._producers.__getitem__, producers.tolist()))
        lags = np.array(list(map(Member.lag, members, k.tolist())), np.float64)
        event = self._start_us + np.rint(made * 1_000_000.0).astype(np.int64)  # as ``round`` does
        self._next[producers] = k + 1
        more = after < stops
        return positions, np.ones(len(positions), np.int64), made + lags, producers, k, event, after[more], \
            producers[more]

    def _into_lanes(self, lanes: list[str], arrivals: np.ndarray, producers: np.ndarray, records: np.ndarray,
                    stamps: np.ndarray, fresh: dict[str, FreshAttempts]) -> None:
        """These records' first attempts, a part of arrays for each lane (a producer's key is its own)."""
        codes = np.array(list(map(self._lanes.__getitem__, lanes)), np.int64)
        names = self._lanes.names
        order = codes.argsort(kind="stable")
        own = producers.astype(np.uint32)
        for part in np.split(order, np.flatnonzero(np.diff(codes[order])) + 1):
            name = names[codes[part[0]]]
            attempts = fresh.get(name)
            if attempts is None:
                attempts = fresh[name] = FreshAttempts.empty()
            attempts.parts.append((arrivals[part], own[part], records[part], stamps[part], own[part]))

"""Sparse producers' records, made all at once: a chunk's one record of every plain (or only jittered)
producer that makes just one in it (``Schedule.create``).

Many producers writing now and then (a crowd of 100,000, each a record a minute) make one record a chunk
each. Made one by one, a record costs a pass through the chunk's loop (about 1.3 µs); here the chunk's
producers are sorted out in numpy, from their parameters held as arrays by producer number, and each
one's record is its ``offset + k x interval`` formula over arrays: the same floats and integers as the
loop's, bit for bit (``tests/test_populations.py`` makes sparse producers' records this way and in
columns, producer by producer). Only a producer's lag stays its own call, drawn from its own generator
in record order, and so does a jittered producer's jitter: the next record's, drawn for every jittered
producer due, as the loop would draw it; one whose next record also falls in the chunk is left to the
loop with that draw (``Schedule._few``'s ``second``). A record's number is the schedule's array, shared.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from .lanes import FreshAttempts
from .members import Member

__all__ = ["SparseProducers"]


class _Codes(dict):
    """A lane's name → its number, numbered when first looked up."""

    def __missing__(self, name: str) -> int:
        code = self[name] = len(self)
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
        self._lane_names: list[str] = []

    def make(self, numbers: np.ndarray, created: np.ndarray, horizon: float, few: int, lanes: Sequence[str],
             fresh: dict[str, FreshAttempts], keys: list[int],
             events: list[int]) -> tuple[np.ndarray, tuple, dict[int, float]]:
        """The one record of each plain (or only jittered) producer due (``numbers``, created at
        ``created``) that makes exactly one by ``horizon`` and fewer than ``few`` in the chunk: its first attempt into its lane's
        (``lanes``) part of ``fresh``, its key and event time onto ``keys`` and ``events``. Returns the
        positions in ``numbers`` of the producers it left (to be made one by one); the next creation
        times of those it made records of that make more, beside their numbers; and, for a jittered
        producer it left, when its second record is created (its jitter drawn here: ``Schedule._few``
        takes it), by position."""
        nothing = np.arange(len(numbers)), (np.zeros(0, np.float64), np.zeros(0, np.int64)), {}
        interval = self._interval[numbers]
        # the loop's test, on the same floats: fewer than ``few`` records in the chunk
        candidates = np.flatnonzero((self._plain[numbers] | self._jittered[numbers])
                                    & ((horizon - created) / interval < few))
        if not len(candidates):
            return nothing
        producers = numbers[candidates]
        plain = self._plain[producers]
        k = self._next[producers]
        after = self._offset[producers] + (k + 1) * interval[candidates]  # the next record's creation
        jittered = np.flatnonzero(~plain)
        seconds: dict[int, float] = {}
        if len(jittered):  # plus its jitter, drawn now as the loop draws it (the loop takes it if it is left)
            after[jittered] += np.array([self._producers[p].jitter() for p in producers[jittered].tolist()],
                                        np.float64)
        stops = self._stops[producers]
        one = ~((after <= horizon) & (after < stops))  # the next is past the horizon, or never
        if len(jittered):
            more_than_one = jittered[~one[jittered]]
            seconds = dict(zip(candidates[more_than_one].tolist(), after[more_than_one].tolist()))
        if not one.any():
            return np.arange(len(numbers)), nothing[1], seconds
        chosen, k, after, stops, plain = producers[one], k[one], after[one], stops[one], plain[one]
        made = created[candidates[one]]
        members = list(map(self._producers.__getitem__, chosen.tolist()))
        arrivals = made + np.array(list(map(Member.lag, members, k.tolist())), np.float64)
        # event times: whole microseconds on the schedule, or the creation time rounded as ``round`` does
        event = np.where(plain, self._first_event[chosen] + k * self._step[chosen],
                         self._start_us + np.rint(made * 1_000_000.0).astype(np.int64))
        stamps = event + self._skew[chosen]
        self._next[chosen] = k + 1
        more = after < stops
        keys += chosen.tolist()
        events += event.tolist()
        self._into_lanes(list(map(lanes.__getitem__, candidates[one].tolist())), arrivals, chosen, k, stamps, fresh)
        left = np.ones(len(numbers), bool)
        left[candidates[one]] = False
        return np.flatnonzero(left), (after[more], chosen[more]), seconds

    def _into_lanes(self, lanes: list[str], arrivals: np.ndarray, producers: np.ndarray, records: np.ndarray,
                    stamps: np.ndarray, fresh: dict[str, FreshAttempts]) -> None:
        """These records' first attempts, a part of arrays for each lane (a producer's key is its own)."""
        codes = np.array(list(map(self._lanes.__getitem__, lanes)), np.int64)
        names = self._lane_names
        names += list(self._lanes)[len(names):]
        order = codes.argsort(kind="stable")
        own = producers.astype(np.uint32)
        for part in np.split(order, np.flatnonzero(np.diff(codes[order])) + 1):
            name = names[codes[part[0]]]
            attempts = fresh.get(name)
            if attempts is None:
                attempts = fresh[name] = FreshAttempts.empty()
            attempts.parts.append((arrivals[part], own[part], records[part], stamps[part], own[part]))

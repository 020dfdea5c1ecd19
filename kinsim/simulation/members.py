"""The traffic's producers and keys: a ``Member`` per producer (a producer group of ``count`` has that
many), and the ``KeyTable`` that numbers every partition key the traffic writes.

A member costs its state and no more: its random generators (lag, jitter, backoff and key draws, each
seeded from the scenario's seed and the member's name, ``name-i`` in a group) are made when first drawn
from (a producer that draws its keys has a backoff generator per record retried, while it is retried), and
what all members of a group share (pace, stop, clock skew, key population) sits once in its ``Group``. A
group of ``count`` members is, draw for draw, the ``count`` producers it stands for.

A generator holds 2.5 KB of state, far more than a producer's parameters, and a producer with few
records keeps it for the whole run. So a fixed-pacing producer without jitter, whose records are known
from the start, draws the lags of all its records at once when it first needs one, if they are at most
``PREDRAWN``, and keeps only those (8 bytes a record): the same draws in the same order.

Keys are numbered in the order the traffic first writes them, so every per-key table is a list as long
as the keys written so far, whatever the population's size: a producer's one key is numbered when it
starts, a population's keys as they are drawn (``KeyTable.population``).
"""

from __future__ import annotations

import random
from array import array
from typing import Optional

from ..lag import Constant
from ..populations import Population, Sampler
from ..scenario import Pacing, ProducerSpec

__all__ = ["Group", "Member", "KeyTable", "backoff", "BACKOFF_BASE_S", "BACKOFF_CAP_S", "PREDRAWN"]

BACKOFF_BASE_S = 0.1
BACKOFF_CAP_S = 5.0
PREDRAWN = 32  # a producer of at most this many records (known ahead) draws all their lags at once


class KeyTable:
    """Every partition key the traffic writes, numbered from 0: ``texts[key]``. Producer ``p``'s own key
    is number ``p`` (a producer that draws its keys holds its population's first there, unwritten), so a
    lane of one-key producers needs no column of keys beside its producers; a population's keys come
    after, numbered as first drawn."""

    def __init__(self) -> None:
        self.texts: list[str] = []
        self._populations: dict[Population, tuple["_Numbered", Sampler]] = {}

    def own(self, text: str) -> int:
        """Number the next producer's own key."""
        self.texts.append(text)
        return len(self.texts) - 1

    def population(self, population: Population) -> tuple["_Numbered", Sampler]:
        """A population's numbering (its index → the key's number, numbered when first looked up) and its
        sampler, made once per run for all producers that draw from it."""
        found = self._populations.get(population)
        if found is None:
            found = self._populations[population] = (_Numbered(population, self.texts), Sampler(population))
        return found

class _Numbered(dict):
    """A population's index → the key's number in the table, numbering a key when first looked up (so
    ``map(numbered.__getitem__, indexes)`` runs at C speed once the keys are known)."""

    def __init__(self, population: Population, texts: list[str]) -> None:
        super().__init__()
        self._population, self._texts = population, texts

    def __missing__(self, index: int) -> int:
        key = self[index] = len(self._texts)
        self._texts.append(self._population.key(index))
        return key


class Group:
    """What the members of one producer spec share."""

    __slots__ = ("spec", "offset", "interval", "stops", "skew_us", "offset_us", "whole_step_us", "numbered",
                 "sampler", "chained", "draws_lag", "records", "plain")

    def __init__(self, spec: ProducerSpec, duration: float, table: KeyTable) -> None:
        self.spec = spec
        self.offset, self.interval = spec.offset, spec.interval
        self.stops = spec.stops(duration)  # records are created before this
        self.draws_lag = not isinstance(spec.lag, Constant)
        self.skew_us = round(spec.clock_skew * 1_000_000)
        # with no jitter and whole microseconds, record k's event time is offset + k x interval exactly
        self.offset_us = round(spec.offset * 1_000_000)
        step = round(spec.interval * 1_000_000)
        exact = not spec.jitter and self.offset_us / 1_000_000 == spec.offset and step / 1_000_000 == spec.interval
        self.whole_step_us: Optional[int] = step if exact and step > 0 else None
        self.numbered: Optional[_Numbered] = None
        self.sampler: Optional[Sampler] = None
        if spec.keys is not None:
            if not spec.keys.each:
                self.numbered, self.sampler = table.population(spec.keys)
        # a put of one of its records creates the next, which may go to another lane (see ``Traffic``)
        self.chained = self.sampler is not None and spec.pacing is Pacing.AFTER_PUT
        # fixed pacing, no jitter: record k is created at offset + k x interval, before ``stops``
        self.records: Optional[int] = self._count_records() if spec.pacing is Pacing.FIXED and not spec.jitter \
            else None
        # ... each sent when it is created, its event time offset + k x interval in whole microseconds
        self.plain = self.records is not None and not spec.outages and self.whole_step_us is not None

    def _count_records(self) -> int:
        """How many k >= 0 have offset + k x interval before ``stops``, by the float formula."""
        offset, interval, stops = self.offset, self.interval, self.stops
        k = max(0, int((stops - offset) / interval))
        while offset + k * interval < stops:
            k += 1
        while k and offset + (k - 1) * interval >= stops:
            k -= 1
        return k

    def member_text(self, member: int) -> str:
        """The one key member ``member`` writes (for a producer that draws its keys: its population's
        first, which it does not write as its own)."""
        spec = self.spec
        if spec.partition_key is not None:
            return spec.partition_key
        return spec.keys.key(member if self.sampler is None else 0)  # type: ignore[union-attr]


class Member:
    """One producer: its number in scenario order, its group, its one key (its own number; None: it
    draws them), its next record number (an ``after_put`` producer's: fixed-pacing producers' are kept
    by their ``Schedule``, as an array), and its generators, made on first use."""

    __slots__ = ("index", "group", "member", "key", "next_record", "_seed", "_lag", "_jitter", "_backoff", "_keys",
                 "_lags")

    def __init__(self, index: int, group: Group, member: int, seed: int, key: Optional[int]) -> None:
        self.index = index
        self.group = group
        self.member = member  # its number in the group
        self.key = key
        self.next_record = 0
        self._seed = seed
        self._lag: Optional[random.Random] = None
        self._jitter: Optional[random.Random] = None
        self._backoff: Optional[random.Random] = None
        self._keys: Optional[random.Random] = None
        self._lags: Optional[array] = None  # every record's lag, drawn at once (see the module's docstring)

    @property
    def name(self) -> str:
        return self.group.spec.member_name(self.member)

    def _generator(self, kind: str) -> random.Random:
        return random.Random(f"kinsim/{self._seed}/producer/{self.name}/{kind}")

    @property
    def lag_rng(self) -> Optional[random.Random]:
        """Its lag generator (None for a constant lag, which draws nothing)."""
        if self._lag is None and self.group.draws_lag:
            self._lag = self._generator("lag")
        return self._lag

    def lags(self, first: int, count: int) -> list[float]:
        """The lags of fixed-pacing records ``first`` to ``first + count - 1``, asked for in record order."""
        lags, group = self._lags, self.group
        if lags is None:
            if not (first == 0 and group.draws_lag and group.records is not None and group.records <= PREDRAWN):
                return group.spec.lag.samples(self.lag_rng, count)
            lags = self._lags = array("d", group.spec.lag.samples(self._generator("lag"), group.records))
        return lags[first:first + count].tolist()

    def lag(self, record: int) -> float:
        """The lag of fixed-pacing record ``record`` (``lags``, for one)."""
        lags = self._lags
        return lags[record] if lags is not None else self.lags(record, 1)[0]

    @property
    def backoff_rng(self) -> random.Random:
        if self._backoff is None:
            self._backoff = self._generator("backoff")
        return self._backoff

    def jitter(self) -> float:
        spec = self.group.spec
        if not spec.jitter:
            return 0.0
        if self._jitter is None:
            self._jitter = self._generator("jitter")
        return self._jitter.uniform(0.0, spec.jitter)

    def record_backoff_rng(self, record: int) -> random.Random:
        """The backoff generator of one record of a producer that draws its keys: its records wait on
        several shards at once, and each shard's retries happen in their own order, so each record
        draws from its own."""
        return self._generator(f"backoff/{record}")

    def draw_keys(self, count: int) -> list[int]:
        """The keys of this member's next ``count`` records (it draws them: ``key`` is None)."""
        group = self.group
        if self._keys is None:
            self._keys = self._generator("keys")
        indexes = group.sampler.draw(self._keys, count)  # type: ignore[union-attr]
        return list(map(group.numbered.__getitem__, indexes))  # type: ignore[union-attr]


def backoff(rng: random.Random, tries: int) -> float:
    """How long a put waits after its ``tries``-th refusal: capped exponential, with jitter."""
    return min(BACKOFF_CAP_S, BACKOFF_BASE_S * 2**tries) * (0.5 + rng.random() / 2)

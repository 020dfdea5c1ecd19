"""Strategies for what a Kinesis producer or reader hands the service: hash keys, partition keys, record
data, PutRecord and PutRecords calls (as kinsim's ``PutEntry`` or as boto3's ``Records=[...]``), clock
starts and steps, shard counts and GetRecords limits.

Each is valid by construction, with bounds and ``.map``, never a filter: every PutRecords batch drawn is
one the service accepts (1 to 500 records, small payloads, partition keys of 1 to 256 characters), and
the edges come up often (hash keys 0, 1, the middle and the top of the space; a clock that does not
move; a GetRecords ``Limit`` of 1). Each strategy is built once (per arguments, ``once.built_once``).
"""

from __future__ import annotations

from typing import Any, NamedTuple, Optional

from hypothesis import strategies as st

from kinsim.records import HASH_KEY_MAX, PutEntry

from .once import built_once

__all__ = [
    "HASH_KEY_MAX",
    "Put",
    "PutBatch",
    "hash_keys",
    "explicit_hash_keys",
    "partition_keys",
    "partition_key_pools",
    "record_data",
    "clock_starts",
    "clock_steps",
    "shard_counts",
    "get_records_limits",
    "limit_cycles",
    "puts",
    "put_batches",
    "put_actions",
    "boto3_records",
]


class Put(NamedTuple):
    """One PutRecord call."""

    data: bytes
    partition_key: str
    explicit_hash_key: Optional[str] = None


class PutBatch(NamedTuple):
    """One PutRecords call."""

    entries: tuple[PutEntry, ...]

    def boto3_records(self) -> list[dict[str, Any]]:
        """The batch as boto3's ``put_records(Records=...)`` takes it."""
        return [{"Data": entry.data, "PartitionKey": entry.partition_key,
                 **({} if entry.explicit_hash_key is None else {"ExplicitHashKey": entry.explicit_hash_key})}
                for entry in self.entries]


# -- scalar inputs ------------------------------------------------------------------------------------

_HASH_KEY_EDGES = (0, 1, 2, HASH_KEY_MAX // 2, HASH_KEY_MAX // 2 + 1, HASH_KEY_MAX - 1, HASH_KEY_MAX)


_HASH_KEYS = st.one_of(st.sampled_from(_HASH_KEY_EDGES), st.integers(0, HASH_KEY_MAX))
_EXPLICIT_HASH_KEYS = _HASH_KEYS.map(str)
_PARTITION_KEYS = st.one_of(
    st.text(min_size=1, max_size=12),
    st.text(st.characters(codec="utf-8"), min_size=1, max_size=256),
    st.integers(0, 10**6).map(lambda n: f"key-{n}"),
)


def hash_keys() -> st.SearchStrategy[int]:
    """Any 128-bit hash key, often one of the space's edges or middle."""
    return _HASH_KEYS


def explicit_hash_keys() -> st.SearchStrategy[str]:
    """An ExplicitHashKey as the API takes it: the decimal string of a hash key (no leading zeros)."""
    return _EXPLICIT_HASH_KEYS


def partition_keys() -> st.SearchStrategy[str]:
    """A valid partition key: 1 to 256 Unicode characters, usually short."""
    return _PARTITION_KEYS


@built_once
def partition_key_pools(min_size: int = 1, max_size: int = 6) -> st.SearchStrategy[list[str]]:
    """A few distinct partition keys for a workload to draw from, so keys repeat across puts."""
    return st.lists(partition_keys(), min_size=min_size, max_size=max_size, unique=True)


@built_once
def record_data(max_size: int = 64) -> st.SearchStrategy[bytes]:
    """Record payloads; small, so throughput limits never refuse a generated workload."""
    return st.binary(min_size=0, max_size=max_size)


_CLOCK_STARTS = st.one_of(st.just(0.0), st.integers(1_000_000_000, 2_000_000_000).map(float),
                         st.floats(1e9, 2e9, allow_nan=False, allow_infinity=False))


def clock_starts() -> st.SearchStrategy[float]:
    """Where a manual clock starts (seconds since the epoch, for ``ManualClock``): the epoch, or some
    instant of the last decades."""
    return _CLOCK_STARTS


@built_once
def clock_steps(max_seconds: float = 2.0) -> st.SearchStrategy[float]:
    """How far the clock moves between calls: often not at all, sometimes a sub-millisecond, up to
    ``max_seconds`` (kept well under the 5-minute iterator lifetime and the retention period)."""
    return st.one_of(
        st.just(0.0),
        st.sampled_from([1e-6, 0.001, 0.5, 1.0]),
        st.floats(0.0, max_seconds, allow_nan=False, allow_infinity=False),
    )


@built_once
def shard_counts(min_count: int = 1, max_count: int = 5) -> st.SearchStrategy[int]:
    """A stream's shard count, from ``min_count`` to ``max_count``."""
    return st.integers(min_count, max_count)


_GET_RECORDS_LIMITS = st.one_of(st.none(), st.integers(1, 4), st.integers(1, 10_000))
_LIMIT_CYCLES = st.lists(_GET_RECORDS_LIMITS, min_size=1, max_size=4)


def get_records_limits() -> st.SearchStrategy[Optional[int]]:
    """A GetRecords Limit: None (the default, 10,000), a small page, or anything valid (1 to 10,000)."""
    return _GET_RECORDS_LIMITS


def limit_cycles() -> st.SearchStrategy[list[Optional[int]]]:
    """Limits for successive GetRecords calls of one reader, used round-robin."""
    return _LIMIT_CYCLES


# -- puts ---------------------------------------------------------------------------------------------


@built_once
def _maybe_explicit(explicit: bool) -> st.SearchStrategy[Optional[str]]:
    return st.one_of(st.none(), explicit_hash_keys()) if explicit else st.none()


def _keys(pool: Optional[list[str]]) -> st.SearchStrategy[str]:
    """A key of ``pool``, or without one any partition key."""
    return st.sampled_from(pool) if pool is not None else partition_keys()


def _new_puts(pool: Optional[list[str]], explicit: bool) -> st.SearchStrategy[Put]:
    """``puts``, built anew: a strategy of its own, for a ``one_of`` that gives puts two branches
    (``one_of`` draws from each of its branches once, however often it is given one)."""
    return st.builds(Put, record_data(), _keys(pool), _maybe_explicit(explicit))


def _new_put_batches(pool: Optional[list[str]], explicit: bool, max_entries: int) -> st.SearchStrategy[PutBatch]:
    """``put_batches``, built anew (see ``_new_puts``)."""
    if not 1 <= max_entries <= 500:
        raise ValueError("a PutRecords call holds 1 to 500 records")
    if pool is None:
        return partition_key_pools().flatmap(lambda drawn: put_batches(drawn, explicit, max_entries))
    entry = st.builds(PutEntry, record_data(), _keys(pool), _maybe_explicit(explicit))
    return st.lists(entry, min_size=1, max_size=max_entries).map(lambda entries: PutBatch(tuple(entries)))


def new_put_actions(pool: Optional[list[str]], explicit: bool) -> st.SearchStrategy[Put | PutBatch]:
    """``put_actions``, built anew (see ``_new_puts``)."""
    return st.one_of(_new_puts(pool, explicit), _new_put_batches(pool, explicit, 20))


@built_once
def puts(pool: Optional[list[str]] = None, explicit: bool = True) -> st.SearchStrategy[Put]:
    """A PutRecord of a key from ``pool`` (default: any partition key); with ``explicit``, sometimes
    routed by an ExplicitHashKey."""
    return _new_puts(pool, explicit)


@built_once
def put_batches(pool: Optional[list[str]] = None, explicit: bool = True,
                max_entries: int = 20) -> st.SearchStrategy[PutBatch]:
    """A PutRecords call of 1 to ``max_entries`` (at most 500) entries with keys from ``pool`` (default: a
    pool of a few keys drawn for the batch); with ``explicit``, some entries carry an ExplicitHashKey."""
    return _new_put_batches(pool, explicit, max_entries)


@built_once
def put_actions(pool: Optional[list[str]] = None, explicit: bool = True) -> st.SearchStrategy[Put | PutBatch]:
    """A PutRecord or a PutRecords call (see ``puts`` and ``put_batches``)."""
    return new_put_actions(pool, explicit)


@built_once
def boto3_records(pool: Optional[list[str]] = None, explicit: bool = True,
                  max_entries: int = 20) -> st.SearchStrategy[list[dict[str, Any]]]:
    """The ``Records`` argument of boto3's ``put_records``: ``[{"Data": b"...", "PartitionKey": "..."},
    ...]``, some with an ``ExplicitHashKey`` unless ``explicit`` is false; what ``put_batches`` draws."""
    return put_batches(pool, explicit, max_entries).map(PutBatch.boto3_records)

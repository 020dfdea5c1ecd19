"""Hypothesis strategies for kinsim's simulated Kinesis service: reusable, valid by construction.

Inputs whose validity depends only on themselves (hash keys, partition keys, record data, GetRecords
limits, clock steps, PutRecords batches) are built valid directly, with bounds, ``.map`` and
``@st.composite``; nothing here filters. Inputs whose validity depends on the stream's state at the
moment they are used (which shard to split and where, which adjacent pair to merge, which target
shard count UpdateShardCount accepts) are drawn as *picks*: unbounded integers that the test reduces
against the shards it lists at that moment (``pick % len(choices)``), so every pick names a valid
operation whatever came before, and shrinking a pick towards 0 shrinks towards the first choice.
The picks lean towards the edges (0 and -1 select the first and last choice), so boundary cases such
as NewStartingHashKey = StartingHashKey + 2 or EndingHashKey - 1 come up often.

Actions are small named tuples; ``workloads()`` interleaves them into the lists tests replay.
"""

from __future__ import annotations

from typing import NamedTuple, Optional, Union

from hypothesis import strategies as st

from kinsim.records import HASH_KEY_MAX, PutEntry

__all__ = [
    "HASH_KEY_MAX",
    "Advance",
    "Put",
    "PutBatch",
    "Split",
    "Merge",
    "Rescale",
    "Action",
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
    "picks",
    "advances",
    "puts",
    "put_batches",
    "put_actions",
    "splits",
    "merges",
    "rescales",
    "reshard_actions",
    "workloads",
    "reshard_workloads",
]

# -- actions ------------------------------------------------------------------------------------------


class Advance(NamedTuple):
    """Move the manual clock forward by ``seconds`` (possibly zero)."""

    seconds: float


class Put(NamedTuple):
    """One PutRecord call."""

    data: bytes
    partition_key: str
    explicit_hash_key: Optional[str] = None


class PutBatch(NamedTuple):
    """One PutRecords call."""

    entries: tuple[PutEntry, ...]


class Split(NamedTuple):
    """Split the ``shard_pick``-th splittable open shard (by starting hash key) at its ``key_pick``-th
    valid NewStartingHashKey (StartingHashKey + 2 .. EndingHashKey - 1)."""

    shard_pick: int
    key_pick: int


class Merge(NamedTuple):
    """Merge the ``pair_pick``-th adjacent pair of open shards; ``swap`` passes the higher one first."""

    pair_pick: int
    swap: bool


class Rescale(NamedTuple):
    """UpdateShardCount to the ``target_pick``-th target the current open count allows (half to double)."""

    target_pick: int


Action = Union[Advance, Put, PutBatch, Split, Merge, Rescale]

# -- scalar inputs ------------------------------------------------------------------------------------

_HASH_KEY_EDGES = (0, 1, 2, HASH_KEY_MAX // 2, HASH_KEY_MAX // 2 + 1, HASH_KEY_MAX - 1, HASH_KEY_MAX)


def hash_keys() -> st.SearchStrategy[int]:
    """Any 128-bit hash key, often one of the space's edges or middle."""
    return st.one_of(st.sampled_from(_HASH_KEY_EDGES), st.integers(0, HASH_KEY_MAX))


def explicit_hash_keys() -> st.SearchStrategy[str]:
    """An ExplicitHashKey as the API takes it: the decimal string of a hash key (no leading zeros)."""
    return hash_keys().map(str)


def partition_keys() -> st.SearchStrategy[str]:
    """A valid partition key: 1 to 256 Unicode characters, usually short."""
    return st.one_of(
        st.text(min_size=1, max_size=12),
        st.text(st.characters(codec="utf-8"), min_size=1, max_size=256),
        st.integers(0, 10**6).map(lambda n: f"key-{n}"),
    )


def partition_key_pools(min_size: int = 1, max_size: int = 6) -> st.SearchStrategy[list[str]]:
    """A few distinct partition keys for a workload to draw from, so keys repeat across puts."""
    return st.lists(partition_keys(), min_size=min_size, max_size=max_size, unique=True)


def record_data(max_size: int = 64) -> st.SearchStrategy[bytes]:
    """Record payloads; small, so throughput limits never refuse a generated workload."""
    return st.binary(min_size=0, max_size=max_size)


def clock_starts() -> st.SearchStrategy[float]:
    """Where a manual clock starts: the epoch, or some instant of the last decades."""
    return st.one_of(st.just(0.0), st.integers(1_000_000_000, 2_000_000_000).map(float),
                     st.floats(1e9, 2e9, allow_nan=False, allow_infinity=False))


def clock_steps(max_seconds: float = 2.0) -> st.SearchStrategy[float]:
    """How far the clock moves between calls: often not at all, sometimes a sub-millisecond, up to
    ``max_seconds`` (kept well under the 5-minute iterator lifetime and the retention period)."""
    return st.one_of(
        st.just(0.0),
        st.sampled_from([1e-6, 0.001, 0.5, 1.0]),
        st.floats(0.0, max_seconds, allow_nan=False, allow_infinity=False),
    )


def shard_counts(min_count: int = 1, max_count: int = 5) -> st.SearchStrategy[int]:
    return st.integers(min_count, max_count)


def get_records_limits() -> st.SearchStrategy[Optional[int]]:
    """A GetRecords Limit: None (the default, 10,000), a small page, or anything valid (1 to 10,000)."""
    return st.one_of(st.none(), st.integers(1, 4), st.integers(1, 10_000))


def limit_cycles() -> st.SearchStrategy[list[Optional[int]]]:
    """Limits for successive GetRecords calls of one reader, used round-robin."""
    return st.lists(get_records_limits(), min_size=1, max_size=4)


def picks() -> st.SearchStrategy[int]:
    """An index into choices only known later (reduced modulo their number); 0 and -1 pick the ends."""
    return st.one_of(st.sampled_from([0, -1, 1, -2]), st.integers(-(2**130), 2**130))


# -- actions ------------------------------------------------------------------------------------------


def advances(max_seconds: float = 2.0) -> st.SearchStrategy[Advance]:
    return clock_steps(max_seconds).map(Advance)


def _maybe_explicit(explicit: bool) -> st.SearchStrategy[Optional[str]]:
    return st.one_of(st.none(), explicit_hash_keys()) if explicit else st.none()


def puts(pool: list[str], explicit: bool = True) -> st.SearchStrategy[Put]:
    """A PutRecord of a key from ``pool``; with ``explicit``, sometimes routed by an ExplicitHashKey."""
    return st.builds(Put, record_data(), st.sampled_from(pool), _maybe_explicit(explicit))


def put_batches(pool: list[str], explicit: bool = True, max_entries: int = 20) -> st.SearchStrategy[PutBatch]:
    """A PutRecords call of 1 to ``max_entries`` entries with keys from ``pool``."""
    entry = st.builds(PutEntry, record_data(), st.sampled_from(pool), _maybe_explicit(explicit))
    return st.lists(entry, min_size=1, max_size=max_entries).map(lambda entries: PutBatch(tuple(entries)))


def put_actions(pool: list[str], explicit: bool = True) -> st.SearchStrategy[Union[Put, PutBatch]]:
    return st.one_of(puts(pool, explicit), put_batches(pool, explicit))


def splits() -> st.SearchStrategy[Split]:
    return st.builds(Split, picks(), picks())


def merges() -> st.SearchStrategy[Merge]:
    return st.builds(Merge, picks(), st.booleans())


def rescales() -> st.SearchStrategy[Rescale]:
    return st.builds(Rescale, picks())


def reshard_actions(update_shard_count: bool = True) -> st.SearchStrategy[Union[Split, Merge, Rescale]]:
    """SplitShard, MergeShards and (unless told not to) UpdateShardCount, as picks."""
    kinds = [splits(), merges()]
    if update_shard_count:
        kinds.append(rescales())
    return st.one_of(*kinds)


@st.composite
def workloads(draw, *, explicit: bool = True, reshards: bool = True, update_shard_count: bool = True,
              min_size: int = 0, max_size: int = 30) -> list[Action]:
    """An interleaving of puts (PutRecord and PutRecords over a pool of partition keys), clock steps
    (including zero) and, with ``reshards``, splits and merges (and UpdateShardCount)."""
    pool = draw(partition_key_pools())
    kinds = [put_actions(pool, explicit), put_actions(pool, explicit), advances()]
    if reshards:
        kinds.append(reshard_actions(update_shard_count))
    return draw(st.lists(st.one_of(*kinds), min_size=min_size, max_size=max_size))


@st.composite
def reshard_workloads(draw, *, min_before: int = 0, max_before: int = 12, min_after: int = 0,
                      max_after: int = 20) -> list[Action]:
    """Puts (and clock steps), then a SplitShard or MergeShards, then more puts interleaved with clock
    steps and further reshards. No ExplicitHashKey, so each partition key keeps one hash key and the
    order of its records is defined across the reshards."""
    pool = draw(partition_key_pools())
    writes = put_actions(pool, explicit=False)
    before = draw(st.lists(st.one_of(writes, writes, advances()), min_size=min_before, max_size=max_before))
    first = draw(st.one_of(splits(), merges()))
    after = draw(st.lists(st.one_of(writes, writes, advances(), reshard_actions()),
                          min_size=min_after, max_size=max_after))
    return [*before, first, *after]

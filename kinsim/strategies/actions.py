"""Strategies for workloads: interleavings of puts, clock steps and reshards for a test to replay against
a backend (``MemoryBackend``, or any other through the same calls).

Actions are small named tuples. Inputs whose validity depends on the stream's state at the moment they
are used (which shard to split and where, which adjacent pair to merge, which target shard count
UpdateShardCount accepts) are drawn as *picks*: unbounded integers that the test reduces against the
shards it lists at that moment (``pick % len(choices)``), so every pick names a valid operation whatever
came before, and shrinking a pick towards 0 shrinks towards the first choice. The picks lean towards
the edges (0 and -1 select the first and last choice), so boundary cases such as NewStartingHashKey =
StartingHashKey + 2 or EndingHashKey - 1 come up often.

A test replays a workload like this (``choices`` sorted by starting hash key)::

    for action in workload:
        if isinstance(action, Split):
            shard = splittable[action.shard_pick % len(splittable)]
            ...
"""

from __future__ import annotations

from typing import NamedTuple, Union

from hypothesis import strategies as st

from .once import built_once
from .records import Put, PutBatch, clock_steps, new_put_actions, partition_key_pools, put_actions

__all__ = [
    "Advance",
    "Split",
    "Merge",
    "Rescale",
    "Action",
    "picks",
    "advances",
    "splits",
    "merges",
    "rescales",
    "reshard_actions",
    "workloads",
    "reshard_workloads",
]


class Advance(NamedTuple):
    """Move the manual clock forward by ``seconds`` (possibly zero)."""

    seconds: float


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


_PICKS = st.one_of(st.sampled_from([0, -1, 1, -2]), st.integers(-(2**130), 2**130))
_SPLITS = st.builds(Split, _PICKS, _PICKS)
_MERGES = st.builds(Merge, _PICKS, st.booleans())
_RESCALES = st.builds(Rescale, _PICKS)


def picks() -> st.SearchStrategy[int]:
    """An index into choices only known later (reduced modulo their number); 0 and -1 pick the ends."""
    return _PICKS


@built_once
def advances(max_seconds: float = 2.0) -> st.SearchStrategy[Advance]:
    """A clock step (``clock_steps``) as an action."""
    return clock_steps(max_seconds).map(Advance)


def splits() -> st.SearchStrategy[Split]:
    """A SplitShard, as picks."""
    return _SPLITS


def merges() -> st.SearchStrategy[Merge]:
    """A MergeShards, as a pick and an order."""
    return _MERGES


def rescales() -> st.SearchStrategy[Rescale]:
    """An UpdateShardCount, as a pick."""
    return _RESCALES


@built_once
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
    return draw(_workload_steps(pool, explicit, reshards, update_shard_count, min_size, max_size))


@built_once
def _workload_steps(pool: list[str], explicit: bool, reshards: bool, update_shard_count: bool, min_size: int,
                    max_size: int) -> st.SearchStrategy[list[Action]]:
    # two strategies of puts, not one given twice: puts are two branches in three or four
    kinds = [new_put_actions(pool, explicit), new_put_actions(pool, explicit), advances()]
    if reshards:
        kinds.append(reshard_actions(update_shard_count))
    return st.lists(st.one_of(*kinds), min_size=min_size, max_size=max_size)


@st.composite
def reshard_workloads(draw, *, min_before: int = 0, max_before: int = 12, min_after: int = 0,
                      max_after: int = 20) -> list[Action]:
    """Puts (and clock steps), then a SplitShard or MergeShards, then more puts interleaved with clock
    steps and further reshards. No ExplicitHashKey, so each partition key keeps one hash key and the
    order of its records is defined across the reshards."""
    pool = draw(partition_key_pools())
    before = draw(_writes_and_steps(pool, False, min_before, max_before))
    first = draw(_FIRST_RESHARDS)
    after = draw(_writes_and_steps(pool, True, min_after, max_after))
    return [*before, first, *after]


_FIRST_RESHARDS = st.one_of(_SPLITS, _MERGES)


@built_once
def _writes_and_steps(pool: list[str], reshards: bool, min_size: int, max_size: int) -> st.SearchStrategy[list[Action]]:
    """Puts without an ExplicitHashKey and clock steps, and with ``reshards`` reshards too."""
    writes = put_actions(pool, explicit=False)
    kinds = (writes, writes, advances(), reshard_actions()) if reshards else (writes, writes, advances())
    return st.lists(st.one_of(*kinds), min_size=min_size, max_size=max_size)

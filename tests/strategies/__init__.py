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

For counters, ``counter_polls()`` makes the polls a consumer would hand them: several shards, records out
of order within each, event times on window edges.

For fault schedules, ``faults`` (re-exported here) makes valid ones (tracking the open shards and each
worker's state as it goes), reshards and worker faults drawn blind or mutated (valid or not), and valid
ones spoilt by one bad fault with the error it gets.

For the wire protocol, ``wire`` (re-exported here) makes the parameters and responses of every operation
kinsim serves, typed as botocore's model says.

For bad and extreme input, ``bad_input`` (re-exported here) makes scenario files mutated from the shipped
ones or pushed to their limits, and calls to every Kinesis operation with whatever botocore lets through.
"""

from __future__ import annotations

from typing import NamedTuple, Optional, Union

from hypothesis import strategies as st

from kinsim.records import HASH_KEY_MAX, PutEntry

from .bad_input import (
    client_calls,
    extreme_documents,
    junk_values,
    mutated_documents,
    runnable_documents,
    scenario_files,
)
from .faults import (
    BadSchedule,
    FaultSchedule,
    bad_fault_schedules,
    fault_document,
    fault_schedules,
    reshard_schedules,
    shard_name,
    worker_lists,
    worker_schedules,
)
from .wire import operation_params, operation_responses, wire_calls

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
    "Poll",
    "window_shapes",
    "counter_polls",
    "junk_values",
    "mutated_documents",
    "extreme_documents",
    "runnable_documents",
    "scenario_files",
    "client_calls",
    "FaultSchedule",
    "BadSchedule",
    "fault_schedules",
    "reshard_schedules",
    "worker_schedules",
    "worker_lists",
    "bad_fault_schedules",
    "fault_document",
    "shard_name",
    "operation_params",
    "operation_responses",
    "wire_calls",
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


# -- counter inputs -----------------------------------------------------------------------------------

S = 1_000_000  # one second in microseconds


class Poll(NamedTuple):
    """One poll of one shard, as a counter is given it."""

    shard_id: str
    keys: tuple[str, ...]
    event_us: tuple[int, ...]
    now_us: int


def window_shapes() -> st.SearchStrategy[tuple[int, int]]:
    """(size, slide) in microseconds: tumbling and hopping, from one second to a minute."""
    return st.sampled_from([(60, 60), (60, 20), (60, 15), (10, 10), (30, 10), (1, 1), (3, 1)]).map(
        lambda pair: (pair[0] * S, pair[1] * S))


@st.composite
def counter_polls(draw, slide_us: int, max_records: int = 60, offsets: tuple[int, ...] = (0,),
                  steps: tuple[int, ...] = (0, 1, S), quiet_rounds: int = 0,
                  silent_shards: bool = False) -> list[Poll]:
    """Records made over half a minute to ten minutes, each reaching its key's shard after a lag (so
    shards see them out of order), cut into polls of 1 to 10 records (sometimes none, sometimes a
    shard's whole backlog at once), the shards taking turns; sometimes a few stragglers come last, as
    after an outage. Event times sit on window edges plus one of ``offsets`` (a counter's grace, say),
    a microsecond either side, on whole seconds or anywhere; around the epoch or a real date.

    Processing time moves by one of ``steps`` (microseconds) before each poll. For idle shards: up to
    ``quiet_rounds`` rounds of empty polls of every shard follow the records, and with ``silent_shards``
    every one of the three shards is polled, those that never get a record too."""
    base = draw(st.sampled_from([0, -300 * S, 1_533_074_160 * S]))
    span_s = draw(st.sampled_from([30, 120, 600]))
    edges = st.builds(lambda k, offset, nudge: k * slide_us + offset + nudge, st.integers(0, span_s * S // slide_us),
                      st.sampled_from(offsets), st.sampled_from([-1, 0, 0, 1]))
    times = st.one_of(edges, edges, st.integers(0, span_s).map(lambda s: s * S), st.integers(0, span_s * S))
    max_lag_s = draw(st.sampled_from([0, 5, 30, 90]))
    lags = st.integers(0, max_lag_s).map(lambda s: s * S) | st.integers(0, max_lag_s * S)
    keys = draw(st.lists(st.sampled_from(["10.0.0.1", "10.0.0.2", "8.8.8.8", "8.8.8.9"]), min_size=1,
                         max_size=4, unique=True))
    shard_of = {key: f"shard-{draw(st.integers(0, 2))}" for key in keys}
    records = draw(st.lists(st.tuples(st.sampled_from(keys), times, lags), min_size=1, max_size=max_records))
    records = sorted(records, key=lambda r: r[1] + r[2])  # by arrival; equal arrivals keep their order
    records += draw(st.lists(st.tuples(st.sampled_from(keys), times, st.just(0)), max_size=3))  # stragglers
    arrived: dict[str, list[tuple[str, int]]] = {}
    for key, ts, _ in records:
        arrived.setdefault(shard_of[key], []).append((key, base + ts))
    whole = draw(st.booleans())
    cuts = [max_records + 3] if whole else draw(st.lists(st.integers(0, 10), min_size=1, max_size=12))
    if not any(cuts):
        cuts = [1]
    polls, now, turn = [], base + 600 * S, 0
    if silent_shards:
        arrived = {f"shard-{i}": arrived.get(f"shard-{i}", []) for i in range(3)}
    queues = {shard: records for shard, records in sorted(arrived.items())}
    while any(queues.values()):
        for shard, queue in queues.items():
            take = cuts[turn % len(cuts)]  # every shard meets every cut: each round, the same turn
            now += draw(st.sampled_from(steps))
            polls.append(Poll(shard, tuple(k for k, _ in queue[:take]), tuple(t for _, t in queue[:take]), now))
            queues[shard] = queue[take:]
        turn += 1
    for _ in range(draw(st.integers(0, quiet_rounds)) if quiet_rounds else 0):
        for shard in queues:
            now += draw(st.sampled_from(steps))
            polls.append(Poll(shard, (), (), now))
    return polls

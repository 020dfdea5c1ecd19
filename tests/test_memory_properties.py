"""Property-based tests of ``MemoryBackend``: hash-key routing, sequence numbers, reads and resharding.

Each test replays generated actions (``kinsim.strategies``) against a fresh ``MemoryBackend`` on
a ``ManualClock`` through the public backend API, keeps its own record of what it put, and checks:

1. every hash key in [0, 2**128 - 1] lies in exactly one open shard, the open shards' ranges are
   contiguous, non-overlapping and cover the space, and a put with that ExplicitHashKey (or a
   partition key, by its MD5) lands in that shard -- before and after any splits, merges and
   UpdateShardCount calls, each of which must leave the shards it describes;
2. sequence numbers rise strictly within each shard, whatever the interleaving of PutRecord,
   PutRecords and clock steps;
3. reading a shard from TRIM_HORIZON through NextShardIterator, with any Limit, returns exactly the
   records put to that shard, once each, in put order, with their arrival times, inside the shard's
   listed sequence-number range;
4. reading parents to their end (NextShardIterator None, ChildShards naming the children) and then
   their children returns every partition key's records in put order across reshards.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict, deque
from typing import Optional

from hypothesis import given, settings
from hypothesis import strategies as st

from kinsim.backends import MemoryBackend
from kinsim.clock import ManualClock
from kinsim import strategies as ks
from kinsim.records import HASH_KEY_MAX, IteratorType, PutFailure, PutResult, Record, Shard

STREAM = "props"
MAX_OPEN = 24          # keep generated streams small: splits and UpdateShardCount stay at or below this
MAX_RESCALES = 10      # UpdateShardCount calls allowed per rolling 24 hours
READ_PACE = 0.3        # seconds between GetRecords calls when throttled: 4 calls/s, under the 5/s limit


def md5_hash_key(partition_key: str) -> int:
    return int.from_bytes(hashlib.md5(partition_key.encode("utf-8")).digest(), "big")


def is_open(shard: Shard) -> bool:
    return shard.ending_sequence_number is None


def by_start(shards) -> list[Shard]:
    return sorted(shards, key=lambda s: s.hash_key_range.start)


class Harness:
    """A stream on a fresh backend, the generated actions applied to it, and a log of what was put."""

    def __init__(self, shard_count: int, *, throttling: bool = False, start: float = 1_700_000_000.0) -> None:
        self.clock = ManualClock(start)
        self.backend = MemoryBackend(self.clock, throttling=throttling)
        self.backend.create_stream(STREAM, shard_count)
        # shard id -> [(sequence number, data, partition key, arrival)], in put order
        self.by_shard: dict[str, list[tuple[int, bytes, str, float]]] = defaultdict(list)
        # partition key -> [(shard id, sequence number, data)], in put order
        self.by_key: dict[str, list[tuple[str, int, bytes]]] = defaultdict(list)
        self.rescale_calls = 0
        self.reshards = 0

    # -- looking --------------------------------------------------------------------------------------
    def shards(self) -> list[Shard]:
        return self.backend.list_shards(STREAM)

    def open_shards(self) -> list[Shard]:
        return by_start(s for s in self.shards() if is_open(s))

    # -- acting ---------------------------------------------------------------------------------------
    def _log(self, result: PutResult, data: bytes, partition_key: str) -> None:
        sequence_number = int(result.sequence_number)
        self.by_shard[result.shard_id].append((sequence_number, data, partition_key, self.clock.now()))
        self.by_key[partition_key].append((result.shard_id, sequence_number, data))

    def apply(self, action: ks.Action):
        """Carry out one action; returns what a test may check about it (None if it was skipped)."""
        if isinstance(action, ks.Advance):
            self.clock.advance(action.seconds)
            return None
        if isinstance(action, ks.Put):
            result = self.backend.put_record(STREAM, action.data, action.partition_key,
                                             explicit_hash_key=action.explicit_hash_key)
            self._log(result, action.data, action.partition_key)
            return [result]
        if isinstance(action, ks.PutBatch):
            outcomes = self.backend.put_records(STREAM, list(action.entries))
            assert len(outcomes) == len(action.entries)
            for entry, outcome in zip(action.entries, outcomes):
                if isinstance(outcome, PutResult):
                    self._log(outcome, entry.data, entry.partition_key)
            return outcomes
        if isinstance(action, ks.Split):
            return self.split(action)
        if isinstance(action, ks.Merge):
            return self.merge(action)
        if isinstance(action, ks.Rescale):
            return self.rescale(action)
        raise TypeError(action)

    def split(self, action: ks.Split) -> Optional[tuple[Shard, int]]:
        open_shards = self.open_shards()
        # a valid NewStartingHashKey k has start + 1 < k < end, so the range needs end - start >= 3
        candidates = [s for s in open_shards if s.hash_key_range.end - s.hash_key_range.start >= 3]
        if len(open_shards) >= MAX_OPEN or not candidates:
            return None
        shard = candidates[action.shard_pick % len(candidates)]
        low, high = shard.hash_key_range.start + 2, shard.hash_key_range.end - 1
        key = low + action.key_pick % (high - low + 1)
        assert shard.hash_key_range.start + 1 < key < shard.hash_key_range.end
        self.backend.split_shard(STREAM, shard.shard_id, str(key))
        self.reshards += 1
        return shard, key

    def merge(self, action: ks.Merge) -> Optional[tuple[Shard, Shard]]:
        open_shards = self.open_shards()
        if len(open_shards) < 2:
            return None
        i = action.pair_pick % (len(open_shards) - 1)
        first, second = open_shards[i], open_shards[i + 1]
        if action.swap:
            first, second = second, first
        self.backend.merge_shards(STREAM, first.shard_id, second.shard_id)
        self.reshards += 1
        return first, second

    def rescale(self, action: ks.Rescale) -> Optional[tuple[int, int, int]]:
        if self.rescale_calls >= MAX_RESCALES:
            return None
        current = len(self.open_shards())
        low, high = (current + 1) // 2, min(2 * current, MAX_OPEN)
        target = low + action.target_pick % (high - low + 1)
        returned = self.backend.update_shard_count(STREAM, target)
        self.rescale_calls += 1
        self.reshards += target != current
        return current, target, returned

    # -- reading --------------------------------------------------------------------------------------
    def read_shard(self, shard: Shard, limits: list[Optional[int]], pace: float = 0.0):
        """Read ``shard`` from TRIM_HORIZON through NextShardIterator: a closed shard until the iterator
        is None, an open one until a call returns nothing. Returns (records, child shards at the end)."""
        iterator = self.backend.get_shard_iterator(STREAM, shard.shard_id, IteratorType.TRIM_HORIZON)
        records: list[Record] = []
        bound = len(self.by_shard.get(shard.shard_id, ())) + 3
        for calls in range(bound):
            if pace:
                self.clock.advance(pace)
            limit = limits[calls % len(limits)]
            result = self.backend.get_records(iterator, limit=limit)
            assert limit is None or len(result.records) <= limit, (limit, len(result.records))
            records.extend(result.records)
            if result.next_shard_iterator is None:
                assert not is_open(shard), f"open shard {shard.shard_id} ended its iterator chain"
                return records, result.child_shards
            assert result.child_shards == (), f"ChildShards before the end of {shard.shard_id}"
            if is_open(shard) and not result.records:
                return records, ()
            iterator = result.next_shard_iterator
        raise AssertionError(f"{shard.shard_id} not read to its end in {bound} GetRecords calls "
                             f"({len(records)} records so far)")


def run(harness: Harness, actions: list[ks.Action]) -> None:
    for action in actions:
        harness.apply(action)


# -- 1. hash keys map to exactly one open shard ------------------------------------------------------------


def check_open_shards_partition_the_space(harness: Harness, probes: list[int], keys: list[str]) -> None:
    shards = harness.shards()
    open_shards = by_start(s for s in shards if is_open(s))
    assert open_shards, "no open shard"
    ranges = [(s.hash_key_range.start, s.hash_key_range.end) for s in open_shards]
    assert ranges[0][0] == 0, f"hash keys below {ranges[0][0]} have no open shard: {ranges}"
    assert ranges[-1][1] == HASH_KEY_MAX, f"hash keys above {ranges[-1][1]} have no open shard: {ranges}"
    for (_, end), (start, _) in zip(ranges, ranges[1:]):
        assert start == end + 1, f"open ranges overlap or leave a gap between {end} and {start}: {ranges}"

    targets = {0, HASH_KEY_MAX, *probes}
    for s in shards:  # every open and closed range edge, and the keys just outside it
        r = s.hash_key_range
        targets.update({r.start, r.end, max(r.start - 1, 0), min(r.end + 1, HASH_KEY_MAX)})
    for hash_key in sorted(targets):
        holders = [s.shard_id for s in open_shards if hash_key in s.hash_key_range]
        assert len(holders) == 1, f"hash key {hash_key} is in open shards {holders}"
        result = harness.backend.put_record(STREAM, b"probe", "probe", explicit_hash_key=str(hash_key))
        assert result.shard_id == holders[0], \
            f"ExplicitHashKey {hash_key} routed to {result.shard_id}, but it is in {holders[0]}"
    for key in keys:
        hash_key = md5_hash_key(key)
        holder = next(s.shard_id for s in open_shards if hash_key in s.hash_key_range)
        result = harness.backend.put_record(STREAM, b"probe", key)
        assert result.shard_id == holder, f"partition key {key!r} routed to {result.shard_id}, not {holder}"


def check_lineage(shards: list[Shard]) -> None:
    """Every closed shard's children cover its range, contiguously and without overlap."""
    for parent in shards:
        if is_open(parent):
            continue
        children = by_start(s for s in shards if parent.shard_id in (s.parent_shard_id, s.adjacent_parent_shard_id))
        assert children, f"closed shard {parent.shard_id} has no child"
        r = parent.hash_key_range
        assert children[0].hash_key_range.start <= r.start and children[-1].hash_key_range.end >= r.end, \
            f"children of {parent.shard_id} do not cover {r}"
        for a, b in zip(children, children[1:]):
            assert b.hash_key_range.start == a.hash_key_range.end + 1, f"children of {parent.shard_id} not contiguous"


def check_reshard_outcome(harness: Harness, action: ks.Action, outcome) -> None:
    if outcome is None:
        return
    shards = {s.shard_id: s for s in harness.shards()}
    if isinstance(action, ks.Split):
        parent, key = outcome
        assert not is_open(shards[parent.shard_id]), f"split parent {parent.shard_id} still open"
        children = by_start(s for s in shards.values() if s.parent_shard_id == parent.shard_id)
        r = parent.hash_key_range
        assert [(c.hash_key_range.start, c.hash_key_range.end) for c in children] == \
            [(r.start, key - 1), (key, r.end)], f"split of {r} at {key} gave {children}"
        assert all(is_open(c) and c.adjacent_parent_shard_id is None for c in children), children
    elif isinstance(action, ks.Merge):
        first, second = outcome
        assert not is_open(shards[first.shard_id]) and not is_open(shards[second.shard_id])
        children = [s for s in shards.values() if s.parent_shard_id == first.shard_id]
        assert len(children) == 1, f"merge of {first.shard_id} and {second.shard_id} gave {children}"
        child = children[0]
        assert child.adjacent_parent_shard_id == second.shard_id and is_open(child), child
        low, high = by_start([first, second])
        assert (child.hash_key_range.start, child.hash_key_range.end) == \
            (low.hash_key_range.start, high.hash_key_range.end), child
    elif isinstance(action, ks.Rescale):
        before, target, returned = outcome
        assert returned == before, f"UpdateShardCount returned {returned}, open count was {before}"
        open_shards = [s for s in shards.values() if is_open(s)]
        assert len(open_shards) == target, f"UpdateShardCount to {target} left {len(open_shards)} open"
        if target != before:
            sizes = [s.hash_key_range.end - s.hash_key_range.start + 1 for s in open_shards]
            assert max(sizes) - min(sizes) < target, f"UpdateShardCount to {target} is not uniform: {sizes}"


@settings(max_examples=100, deadline=None)
@given(shard_count=ks.shard_counts(),
       actions=st.lists(ks.reshard_actions(), max_size=12),
       probes=st.lists(ks.hash_keys(), max_size=6),
       keys=st.lists(ks.partition_keys(), max_size=3))
def test_every_hash_key_maps_to_exactly_one_open_shard(shard_count, actions, probes, keys):
    harness = Harness(shard_count)
    check_open_shards_partition_the_space(harness, probes, keys)
    for action in actions:
        outcome = harness.apply(action)
        check_reshard_outcome(harness, action, outcome)
        check_open_shards_partition_the_space(harness, probes, keys)
        check_lineage(harness.shards())


# -- 2. sequence numbers rise within a shard ---------------------------------------------------------------


@settings(max_examples=100, deadline=None)
@given(shard_count=ks.shard_counts(), start=ks.clock_starts(), throttling=st.booleans(),
       actions=ks.workloads(min_size=5, max_size=40))
def test_sequence_numbers_rise_strictly_within_each_shard(shard_count, start, throttling, actions):
    harness = Harness(shard_count, throttling=throttling, start=start)
    for action in actions:
        outcome = harness.apply(action)
        if isinstance(action, (ks.Put, ks.PutBatch)):
            # a few hundred tiny records never come near 1,000 records or 1 MiB per shard-second
            assert not any(isinstance(o, PutFailure) for o in outcome), outcome
    for shard_id, puts in harness.by_shard.items():
        numbers = [number for number, *_ in puts]
        for earlier, later in zip(numbers, numbers[1:]):
            assert later > earlier, f"{shard_id}: sequence number {later} put after {earlier}"
    listed = {s.shard_id for s in harness.shards()}
    assert set(harness.by_shard) <= listed


# -- 3. reading a shard returns what was put to it ---------------------------------------------------------


@settings(max_examples=100, deadline=None)
@given(shard_count=ks.shard_counts(), start=ks.clock_starts(), throttling=st.booleans(),
       actions=ks.workloads(min_size=5, max_size=40), limits=ks.limit_cycles())
def test_reading_a_shard_returns_exactly_its_records_in_order(shard_count, start, throttling, actions, limits):
    harness = Harness(shard_count, throttling=throttling, start=start)
    run(harness, actions)
    shards = harness.shards()
    assert set(harness.by_shard) <= {s.shard_id for s in shards}
    for shard in shards:
        records, _ = harness.read_shard(shard, limits, pace=READ_PACE if throttling else 0.0)
        got = [(int(r.sequence_number), r.data, r.partition_key, r.approximate_arrival_timestamp)
               for r in records]
        assert got == harness.by_shard.get(shard.shard_id, []), f"records read from {shard.shard_id}"
        # and they lie in the shard's listed SequenceNumberRange
        low = int(shard.starting_sequence_number)
        high = None if is_open(shard) else int(shard.ending_sequence_number)
        for number, *_ in got:
            assert number >= low and (high is None or number <= high), \
                f"{shard.shard_id}: sequence number {number} outside its range [{low}, {high}]"


# -- 4. parents, then children: each partition key's records in put order ----------------------------------


@settings(max_examples=100, deadline=None)
@given(shard_count=ks.shard_counts(2, 4), actions=ks.reshard_workloads(min_before=3, min_after=3),
       limits=ks.limit_cycles())
def test_reading_parents_then_children_keeps_each_partition_keys_order(shard_count, actions, limits):
    harness = Harness(shard_count)
    run(harness, actions)
    assert harness.reshards >= 1
    listed = {s.shard_id: s for s in harness.shards()}
    children_of = {sid: {c.shard_id for c in listed.values()
                         if sid in (c.parent_shard_id, c.adjacent_parent_shard_id)} for sid in listed}

    queue = deque(s.shard_id for s in by_start(s for s in listed.values() if s.parent_shard_id is None))
    done: set[str] = set()
    read_by_key: dict[str, list[tuple[str, int, bytes]]] = defaultdict(list)
    highest: dict[str, int] = {}  # shard id -> highest sequence number read from it
    while queue:
        shard_id = queue.popleft()
        shard = listed[shard_id]
        records, child_shards = harness.read_shard(shard, limits)
        parents = [p for p in (shard.parent_shard_id, shard.adjacent_parent_shard_id) if p is not None]
        for record in records:
            number = int(record.sequence_number)
            read_by_key[record.partition_key].append((shard_id, number, record.data))
            for parent in parents:
                assert number > highest.get(parent, -1), \
                    f"{shard_id} holds sequence number {number}, below one of its parent {parent}"
        highest[shard_id] = max((int(r.sequence_number) for r in records), default=-1)
        done.add(shard_id)
        if is_open(shard):
            assert child_shards == ()
            continue
        named = {c.shard_id for c in child_shards}
        assert named == children_of[shard_id], \
            f"ChildShards at the end of {shard_id} name {named}, ListShards says {children_of[shard_id]}"
        for child in child_shards:
            assert shard_id in child.parent_shards, child
            assert child.hash_key_range == listed[child.shard_id].hash_key_range, child
            lineage = {p for p in (listed[child.shard_id].parent_shard_id,
                                   listed[child.shard_id].adjacent_parent_shard_id) if p is not None}
            assert set(child.parent_shards) == lineage, child
            if lineage <= done and child.shard_id not in done and child.shard_id not in queue:
                queue.append(child.shard_id)
    assert done == set(listed), f"shards never reached through ChildShards: {set(listed) - done}"
    for key, puts in harness.by_key.items():
        assert read_by_key[key] == puts, f"records of partition key {key!r} read out of put order"
    assert set(read_by_key) == set(harness.by_key)

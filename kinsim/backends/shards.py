"""One simulated shard: its hash-key range, its lineage and its records, stored column by column.

Sequence numbers are 56-digit decimal strings like the service's: ``49``, the shard's index in six
digits, then a stream-wide put counter in 48 digits (a shard stores only the counter). They rise
strictly within a shard, a child's are above its parents', and the shard a number belongs to can be
read back from it.
"""

from __future__ import annotations

import hashlib
import sys
from array import array
from bisect import bisect_left, bisect_right
from operator import itemgetter
from typing import Optional, Union

from ..records import HASH_KEY_MAX, ChildShard, HashKeyRange, Record, Shard

__all__ = [
    "ShardLog",
    "partition_key_hash",
    "even_ranges",
    "encode_sequence_number",
    "sequence_number_shard_index",
    "shard_id_for",
]

NO_TAG = -(2**63)  # no tag: the smallest int64, far before any event
_SEQ_PREFIX = 49 * 10**54
_SHARD_SPAN = 10**48


def partition_key_hash(partition_key: str) -> int:
    """The 128-bit hash key of a partition key: MD5 of its UTF-8 bytes, as the service does."""
    return int.from_bytes(hashlib.md5(partition_key.encode("utf-8")).digest(), "big")


def even_ranges(count: int, start: int = 0, end: int = HASH_KEY_MAX) -> list[HashKeyRange]:
    """Split ``[start, end]`` into ``count`` contiguous ranges as even as integers allow."""
    size = (end - start + 1) // count
    bounds = [start + i * size for i in range(count)] + [end + 1]
    return [HashKeyRange(bounds[i], bounds[i + 1] - 1) for i in range(count)]


def encode_sequence_number(shard_index: int, counter: int) -> int:
    return _SEQ_PREFIX + shard_index * _SHARD_SPAN + counter


def sequence_number_shard_index(sequence_number: int) -> Optional[int]:
    """The shard index a sequence number encodes, or None if kinsim never issued such a number."""
    rest = sequence_number - _SEQ_PREFIX
    if rest < 0 or len(str(sequence_number)) != 56:
        return None
    return rest // _SHARD_SPAN


def shard_id_for(index: int) -> str:
    return f"shardId-{index:012d}"


class ShardLog:
    """A shard and its records, column by column, in sequence order.

    A record costs its put counter (the low part of its sequence number), arrival time, partition key
    (an index into the stream's key table), size (data plus key) and tag in typed arrays, and its data
    as a bytes object in a table by put counter. The simulation's writer stores its records as tags
    alone (the event time their data carries): their data is rendered from the tag when read, so such
    a record costs about 32 bytes, and no Python object.
    """

    __slots__ = (
        "index",
        "shard_id",
        "hash_key_range",
        "starting_sequence_number",
        "ending_sequence_number",
        "parents",
        "children",
        "closed_at",
        "base",
        "key_table",
        "counters",
        "arrivals",
        "datas",
        "key_ids",
        "sizes",
        "tags",
        "owner",
    )

    def __init__(self, index: int, hash_key_range: HashKeyRange, starting_sequence_number: int,
                 parents: tuple[str, ...] = (), key_table: Optional[list[str]] = None, owner=None) -> None:
        self.index = index
        self.shard_id = shard_id_for(index)
        self.hash_key_range = hash_key_range
        self.starting_sequence_number = starting_sequence_number
        self.ending_sequence_number: Optional[int] = None
        self.parents = parents
        self.children: list["ShardLog"] = []
        self.closed_at: Optional[float] = None
        self.base = encode_sequence_number(index, 0)
        self.key_table = key_table if key_table is not None else []
        self.counters = array("q")
        self.arrivals = array("d")
        self.datas: dict[int, bytes] = {}  # put counter → data, for records that are not stored as tags
        self.key_ids = array("H")   # widened to "I" past 65,535 distinct keys
        self.sizes = array("I")
        self.tags = array("q")      # what the simulation's writer attached (the event time), or NO_TAG
        self.owner = owner          # the stream, whose ``render`` turns tags into data

    @property
    def is_open(self) -> bool:
        return self.closed_at is None

    def __len__(self) -> int:
        return len(self.counters)

    def append(self, counter: int, arrival: float, data: bytes, key_id: int, size: int, tag: int = NO_TAG) -> None:
        if key_id > 0xFFFF and self.key_ids.typecode == "H":
            self.key_ids = array("I", self.key_ids)
        self.counters.append(counter)
        self.arrivals.append(arrival)
        if data is not None:
            self.datas[counter] = data
        self.key_ids.append(key_id)
        self.sizes.append(size)
        self.tags.append(tag)

    def extend(self, counters: list[int], arrivals: list[float], key_ids: list[int], sizes: list[int],
               tags: Union[list[int], array]) -> None:
        """Append records stored as tags, column by column: lists (``array.fromlist`` is the fast way in),
        and the tags as a list or an array of 64-bit integers."""
        if self.key_ids.typecode == "H" and len(self.key_table) > 0x10000 and max(key_ids) > 0xFFFF:
            self.key_ids = array("I", self.key_ids)
        self.counters.fromlist(counters)
        self.arrivals.fromlist(arrivals)
        self.key_ids.fromlist(key_ids)
        self.sizes.fromlist(sizes)
        if type(tags) is array:
            self.tags.extend(tags)
        else:
            self.tags.fromlist(tags)

    def tags_of(self, start: int, stop: int) -> Optional[tuple[int, ...]]:
        """The tags of records ``start`` to ``stop``, or None if any has none."""
        tags = self.tags[start:stop]
        if self.datas and NO_TAG in tags:  # a record has a tag or its data (no data stored: no scan)
            return None
        return tuple(tags)

    def write_load(self, now: float) -> tuple[int, int]:
        """(records, bytes) written in the last second, ``(now - 1, now]``."""
        first = bisect_right(self.arrivals, now - 1.0)
        return len(self.counters) - first, sum(self.sizes[first:])

    def close(self, now: float, ending_sequence_number: int, children: list["ShardLog"]) -> None:
        self.closed_at = now
        self.ending_sequence_number = ending_sequence_number
        self.children = children

    def trim_through(self, cutoff: float) -> None:
        """Drop the records that arrived at or before ``cutoff``: their retention has run out."""
        drop = bisect_right(self.arrivals, cutoff)
        if drop:
            if self.datas:
                for counter in self.counters[:drop]:
                    self.datas.pop(counter, None)
            for column in (self.counters, self.arrivals, self.key_ids, self.sizes, self.tags):
                del column[:drop]

    def sequence_number(self, i: int) -> int:
        return self.base + self.counters[i]

    def position(self, sequence_floor: int) -> int:
        """Index of the first retained record whose sequence number is at least ``sequence_floor``."""
        return bisect_left(self.counters, sequence_floor - self.base)

    def span(self, start: int, limit: int, max_bytes: int) -> tuple[int, int]:
        """(stop, bytes) of the records one read from ``start`` returns: at most ``limit`` records and
        ``max_bytes`` bytes."""
        stop = min(len(self.counters), start + limit)
        total = sum(self.sizes[start:stop])
        if total <= max_bytes:
            return stop, total
        sizes, stop, total = self.sizes, start, 0
        while total + sizes[stop] <= max_bytes:
            total += sizes[stop]
            stop += 1
        return stop, total

    def first_at_or_after(self, instant: float) -> int:
        return bisect_left(self.arrivals, instant)

    def datas_of(self, start: int, stop: int) -> list[bytes]:
        """The data of records ``start`` to ``stop``; records stored as tags are rendered now."""
        stored = self.datas
        datas = [stored.get(counter) for counter in self.counters[start:stop]]
        if None in datas:
            missing = [i for i, data in enumerate(datas) if data is None]
            for i, data in zip(missing, self.owner.render([self.tags[start + i] for i in missing])):
                datas[i] = data
        return datas

    def record(self, i: int) -> Record:
        return Record(str(self.base + self.counters[i]), self.arrivals[i], self.datas_of(i, i + 1)[0],
                      self.key_table[self.key_ids[i]])

    def keys(self, start: int, stop: int) -> tuple[str, ...]:
        ids = self.key_ids[start:stop]
        if len(ids) < 2:
            return tuple(self.key_table[i] for i in ids)
        return itemgetter(*ids)(self.key_table)

    def describe(self) -> Shard:
        parent = self.parents[0] if self.parents else None
        adjacent = self.parents[1] if len(self.parents) > 1 else None
        ending = None if self.ending_sequence_number is None else str(self.ending_sequence_number)
        return Shard(self.shard_id, self.hash_key_range, str(self.starting_sequence_number), ending,
                     parent, adjacent)

    def storage_bytes(self) -> int:
        """Bytes the record columns take, their contents included (for the benchmark)."""
        total = sum(sys.getsizeof(column) for column in (self.counters, self.arrivals, self.datas, self.key_ids,
                                                          self.sizes, self.tags))
        return total + sum(sys.getsizeof(data) for data in self.datas.values())

    def child_shards(self) -> tuple[ChildShard, ...]:
        return tuple(ChildShard(c.shard_id, c.parents, c.hash_key_range) for c in self.children)

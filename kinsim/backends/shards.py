"""One simulated shard: its hash-key range, its lineage and its records, stored column by column, with
the one primitive that appends records and the one that reads them, each checking the shard's limits.

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
from typing import Optional, Sequence

import numpy as np

from ..records import HASH_KEY_MAX, ChildShard, HashKeyRange, PayloadCodec, Records, SequenceNumbers, Shard
from .throughput import ReadBudget, ShardLimits

__all__ = [
    "ShardLog",
    "partition_key_hash",
    "even_ranges",
    "encode_sequence_number",
    "sequence_number_shard_index",
    "shard_id_for",
    "NO_RECORDS",
]

DATA_HELD_AS_BYTES = -(2**63)  # in the values column: this record's data is stored as bytes
_SEQ_PREFIX = 49 * 10**54
_SHARD_SPAN = 10**48
_NUMPY_TYPES = {"H": np.uint16, "I": np.uint32}  # a key-id column's item type, by its typecode
NO_RECORDS = Records((), (), (), ())  # what an empty read returns (nothing changes a Records)


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
    (an index into the stream's key table), size (data plus key) and value in typed arrays. Its data is
    either a bytes object in a table by put counter, or, for records appended as values of the
    stream's payload codec, rendered from the value when read: such a record costs about 32 bytes,
    and no Python object.
    """

    __slots__ = (
        "index",
        "shard_id",
        "hash_key_range",
        "starting_sequence_number",
        "ending_sequence_number",
        "parents",
        "children",
        "opened_at",
        "closed_at",
        "base",
        "key_table",
        "limits",
        "reads",
        "counters",
        "arrivals",
        "datas",
        "key_ids",
        "sizes",
        "values",
        "_window_low",
        "_window_bytes",
    )

    def __init__(self, index: int, hash_key_range: HashKeyRange, starting_sequence_number: int,
                 parents: tuple[str, ...] = (), key_table: Optional[list[str]] = None,
                 shard_limits: Optional[ShardLimits] = None, opened_at: float = 0.0) -> None:
        self.index = index
        self.shard_id = shard_id_for(index)
        self.hash_key_range = hash_key_range
        self.starting_sequence_number = starting_sequence_number
        self.ending_sequence_number: Optional[int] = None
        self.parents = parents
        self.children: list["ShardLog"] = []
        self.opened_at = opened_at
        self.closed_at: Optional[float] = None
        self.base = encode_sequence_number(index, 0)
        self.key_table = key_table if key_table is not None else []
        self.limits = shard_limits   # None: no throughput limits
        self.reads = ReadBudget()
        self.counters = array("q")
        self.arrivals = array("d")
        self.datas: dict[int, bytes] = {}  # put counter → data, for records not held as values
        self.key_ids = array("H")   # widened to "I" past 65,535 distinct keys
        self.sizes = array("I")
        self.values = array("q")    # the payload codec's value, or DATA_HELD_AS_BYTES
        self._window_low = 0        # the write window: records from here to the end, and their bytes
        self._window_bytes = 0

    @property
    def is_open(self) -> bool:
        return self.closed_at is None

    def set_limits(self, now: float, shard_limits: Optional[ShardLimits]) -> None:
        """New throughput limits from ``now`` on (a throttle's start or end); the read debt follows them."""
        self.reads.relimit(now, self.limits, shard_limits)
        self.limits = shard_limits

    def __len__(self) -> int:
        return len(self.counters)

    # -- the write primitive ------------------------------------------------------------------------
    def append(self, first_counter: int, arrivals: list[float], key_ids: list[int], sizes: list[int],
               values: Optional[Sequence[int]] = None, datas: Optional[Sequence[bytes]] = None) -> int:
        """Append the longest prefix of these records that the shard's write limits admit, each checked
        at its own arrival time against what the shard already holds; returns how many were appended.

        Records come in arrival order, none before the shard's last one; their put counters are
        ``first_counter`` on. Each record's data is ``datas[i]``, or ``values[i]`` of the stream's
        payload codec when ``datas`` is None. (Lists, or the values as an int64 array: those are the
        fast ways in; or arrivals, key ids and sizes as numpy arrays, as a simulation's runs come.)
        """
        count = len(arrivals)
        if not count:
            return 0
        if self.counters and arrivals[0] < self.arrivals[-1]:
            raise ValueError(f"records must reach {self.shard_id} in arrival order")
        in_numpy = isinstance(arrivals, np.ndarray)
        total = int(np.add.reduce(sizes, dtype=np.int64)) if in_numpy else sum(sizes)
        admitted = count if self.limits is None else self._admitted(arrivals, sizes, total)
        if not admitted:
            return 0
        if admitted < count:
            arrivals, key_ids, sizes = arrivals[:admitted], key_ids[:admitted], sizes[:admitted]
            values = None if values is None else values[:admitted]
            datas = None if datas is None else datas[:admitted]
            total = int(np.add.reduce(sizes, dtype=np.int64)) if in_numpy else sum(sizes)
        if self.key_ids.typecode == "H" and len(self.key_table) > 0x10000 and \
                (int(np.maximum.reduce(key_ids)) if in_numpy else max(key_ids)) > 0xFFFF:
            self.key_ids = array("I", self.key_ids)
        self._window_bytes += total
        if in_numpy:  # a run in numpy: each column copied as bytes
            self.counters.frombytes(np.arange(first_counter, first_counter + admitted, dtype=np.int64).tobytes())
            self.arrivals.frombytes(arrivals.tobytes())
            self.key_ids.frombytes(key_ids.astype(_NUMPY_TYPES[self.key_ids.typecode]).tobytes())
            self.sizes.frombytes(sizes.astype(np.uint32).tobytes())
        else:
            self.counters.fromlist(list(range(first_counter, first_counter + admitted)))
            self.arrivals.fromlist(arrivals)
            self.key_ids.fromlist(key_ids)
            self.sizes.fromlist(sizes)
        if datas is None:
            if type(values) is array:
                self.values.extend(values)
            else:
                self.values.fromlist(values)
        else:
            self.values.fromlist([DATA_HELD_AS_BYTES] * admitted)
            self.datas.update(zip(range(first_counter, first_counter + admitted), datas))
        return admitted

    def _admitted(self, arrivals: list[float], sizes: list[int], total: int) -> int:
        """How many of these records, from the first, the write limits take: record i fits if fewer than
        the record limit and, with it, at most the byte limit arrived in ``(arrival_i - 1, arrival_i]``
        (``total``: the sizes' sum)."""
        most_records, most_bytes = self.limits.write_records_per_s, self.limits.write_bytes_per_s
        count = len(arrivals)
        held, written = self.write_load(float(arrivals[0]))
        if held + count <= most_records and written + total <= most_bytes:
            return count  # even all at one instant would fit
        # record by record: the one-second window slides right over the shard's records and the batch's
        if isinstance(arrivals, np.ndarray):
            arrivals, sizes = arrivals.tolist(), sizes.tolist()
        shard_arrivals, shard_sizes, shard_end = self.arrivals, self.sizes, len(self.arrivals)
        low, batch_low = shard_end - held, 0
        for i, arrival in enumerate(arrivals):
            edge = arrival - 1.0
            while low < shard_end and shard_arrivals[low] <= edge:
                held -= 1
                written -= shard_sizes[low]
                low += 1
            while batch_low < i and arrivals[batch_low] <= edge:
                held -= 1
                written -= sizes[batch_low]
                batch_low += 1
            if held >= most_records or written + sizes[i] > most_bytes:
                return i
            held += 1
            written += sizes[i]
        return count

    def write_load(self, now: float) -> tuple[int, int]:
        """(records, bytes) written in the last second, ``(now - 1, now]``: a window that only slides
        forward, as appends come in arrival order (so a put costs the records leaving it, not the
        records in it)."""
        arrivals, low, edge = self.arrivals, self._window_low, now - 1.0
        if low and arrivals[low - 1] > edge:  # asked about an earlier instant: measure afresh
            low = self._window_low = bisect_right(arrivals, edge)
            self._window_bytes = sum(self.sizes[low:])
        elif low < len(arrivals) and arrivals[low] <= edge:
            first = bisect_right(arrivals, edge, low)
            self._window_bytes -= sum(self.sizes[low:first])
            self._window_low = low = first
        return len(arrivals) - low, self._window_bytes

    # -- the read primitive -------------------------------------------------------------------------
    def read(self, sequence_floor: int, limit: int, max_bytes: int, now: float,
             retention_cutoff: float) -> Optional[tuple[int, int]]:
        """(start, stop) indexes of what one GetRecords from ``sequence_floor`` returns at ``now``: at most
        ``limit`` records and ``max_bytes`` bytes, none that arrived at or before ``retention_cutoff``;
        None if the shard's read limits refuse the call."""
        shard_limits, counters, arrivals = self.limits, self.counters, self.arrivals
        if shard_limits is not None and not self.reads.admit(now, shard_limits):
            return None
        start = bisect_left(counters, sequence_floor - self.base)
        if arrivals and arrivals[0] <= retention_cutoff:
            start = max(start, bisect_right(arrivals, retention_cutoff))
        stop = min(len(counters), start + limit)
        size = sum(self.sizes[start:stop]) if stop > start else 0
        if size > max_bytes:
            sizes, stop, size = self.sizes, start, 0
            while size + sizes[stop] <= max_bytes:
                size += sizes[stop]
                stop += 1
        if shard_limits is not None:
            self.reads.charge(now, size, shard_limits)
        return start, stop

    def records(self, start: int, stop: int, codec: Optional[PayloadCodec]) -> Records:
        """Records ``start`` to ``stop``, as columns."""
        if stop <= start:
            return NO_RECORDS
        counters = self.counters[start:stop]
        values = self.values[start:stop]
        ids = self.key_ids[start:stop]
        keys = itemgetter(*ids)(self.key_table) if len(ids) > 1 else (self.key_table[ids[0]],)
        numbers = SequenceNumbers(self.base, counters)
        arrivals = self.arrivals[start:stop]
        if not self.datas or DATA_HELD_AS_BYTES not in values:  # every record is held as a value
            return Records(keys, numbers, arrivals, None, values, codec)
        datas = list(map(self.datas.get, counters))
        if None not in datas:  # every record is held as bytes
            return Records(keys, numbers, arrivals, datas)
        return Records(keys, numbers, arrivals, datas, values, codec)

    def sequence_number(self, i: int) -> int:
        return self.base + self.counters[i]

    def first_at_or_after(self, instant: float) -> int:
        return bisect_left(self.arrivals, instant)

    # -- lineage and retention ----------------------------------------------------------------------
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
            if drop > self._window_low:
                self._window_bytes -= sum(self.sizes[self._window_low:drop])
            self._window_low = max(0, self._window_low - drop)
            for column in (self.counters, self.arrivals, self.key_ids, self.sizes, self.values):
                del column[:drop]

    def describe(self) -> Shard:
        parent = self.parents[0] if self.parents else None
        adjacent = self.parents[1] if len(self.parents) > 1 else None
        ending = None if self.ending_sequence_number is None else str(self.ending_sequence_number)
        return Shard(self.shard_id, self.hash_key_range, str(self.starting_sequence_number), ending,
                     parent, adjacent)

    def storage_bytes(self) -> int:
        """Bytes the record columns take, their contents included (for the benchmark)."""
        total = sum(sys.getsizeof(column) for column in (self.counters, self.arrivals, self.datas, self.key_ids,
                                                          self.sizes, self.values))
        return total + sum(sys.getsizeof(data) for data in self.datas.values())

    def child_shards(self) -> tuple[ChildShard, ...]:
        return tuple(ChildShard(c.shard_id, c.parents, c.hash_key_range) for c in self.children)

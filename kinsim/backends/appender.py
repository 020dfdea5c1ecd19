"""``Appender``: records for a fixed set of partition keys, appended to a simulated stream at their own
arrival times, as values of a payload codec, through the stream's one write primitive.

It is what a simulation's producers need and no more: the keys are checked and interned once, and
hashed once per reshard; a record costs no Python object on its way in (a run given as numpy arrays
finds its keys' ids and sizes by indexing), and the answer is how many records, from the first, the
shard's write limits took (the caller retries the rest). Nothing here decides admission: that is
``ShardLog.append``, the same primitive PutRecord and PutRecords use.
"""

from __future__ import annotations

from array import array
from typing import Callable, Sequence

import numpy as np

from ..records import PayloadCodec
from . import limits
from .shards import partition_key_hash
from .stream_state import StreamState

__all__ = ["Appender"]


class Appender:
    """Appends records of ``partition_keys[source]`` to the stream ``lookup()`` returns (it raises the
    service's error when the stream does not take writes).

    ``partition_keys`` may grow while the appender lives (a simulation numbers the keys of a population
    as its producers first draw them): a key is checked and interned when it is first routed
    (``shards_of``) or appended, and its hash is computed when it is routed, once per reshard."""

    def __init__(self, lookup: Callable[[], StreamState], partition_keys: Sequence[str], codec: PayloadCodec,
                 now: Callable[[], float]) -> None:
        stream = lookup()
        stream.use_codec(codec)
        self._lookup = lookup
        self._now = now
        self._codec = codec
        self._keys = partition_keys
        self._key_ids: list[int] = []   # by source: the key's index in the stream's key table
        self._sizes: list[int] = []     # by source: data plus key, in bytes
        self._ids_np = np.zeros(0, np.uint32)   # the two above as arrays (``_columns``), the first _held
        self._sizes_np = np.zeros(0, np.uint32)
        self._held = 0
        self._learn(len(partition_keys) - 1)

    def _learn(self, source: int) -> None:
        """Check and intern every key up to ``source``'s."""
        stream = self._lookup()
        for index in range(len(self._key_ids), source + 1):
            key = self._keys[index]
            size = self._codec.data_bytes + len(key.encode("utf-8"))
            if not 1 <= len(key) <= limits.MAX_PARTITION_KEY_CHARS or size > limits.MAX_RECORD_BYTES:
                raise ValueError(f"partition key {key[:60]!r} cannot be written: 1 to 256 characters, and data "
                                 "plus key at most 1 MiB")
            self._key_ids.append(stream.key_id(key))
            self._sizes.append(size)

    def routing(self) -> object:
        """The version of the stream's routing: it changes at every reshard."""
        stream = self._lookup()
        return stream.uid, stream.routing_version

    def shards_of(self, sources: Sequence[int]) -> list[str]:
        """The shard each of these sources' records go to now."""
        if sources and max(sources) >= len(self._key_ids):
            self._learn(max(sources))
        stream, keys = self._lookup(), self._keys
        return [stream.route(partition_key_hash(keys[source])).shard_id for source in sources]

    def append(self, shard_id: str, arrivals: list[float], sources: Sequence[int], values: Sequence[int]) -> int:
        """Append records of these sources, holding these values, to an open shard at these arrival times
        (in order, none after the clock's now): how many, from the first, the shard took."""
        if len(arrivals) and arrivals[-1] > self._now():
            raise ValueError(f"a record cannot arrive at {arrivals[-1]!r}, after the clock's now ({self._now()!r})")
        stream = self._lookup()
        shard = stream.shards[shard_id]
        if isinstance(arrivals, np.ndarray):  # a run in numpy: its keys' ids and sizes by indexing
            indexes = np.frombuffer(sources, np.uint32) if isinstance(sources, array) and sources.typecode == "I" \
                else np.asarray(sources)
            ids, sizes_by_source = self._columns()
            try:
                key_ids, sizes = ids[indexes], sizes_by_source[indexes]
            except IndexError:  # a key not routed yet
                self._learn(int(np.maximum.reduce(indexes)))
                ids, sizes_by_source = self._columns()
                key_ids, sizes = ids[indexes], sizes_by_source[indexes]
            return stream.append(shard, arrivals, key_ids, sizes, values=values)
        try:
            key_ids = list(map(self._key_ids.__getitem__, sources))
        except IndexError:  # a key not routed yet
            self._learn(max(sources))
            key_ids = list(map(self._key_ids.__getitem__, sources))
        sizes = list(map(self._sizes.__getitem__, sources))
        return stream.append(shard, arrivals, key_ids, sizes, values=values)

    def _columns(self) -> tuple[np.ndarray, np.ndarray]:
        """Key ids and sizes by source, as numpy arrays as long as the keys learnt (views of arrays grown
        in room doubled as needed, so a population learnt key by key costs each key once, not each
        append the table)."""
        held, known = self._held, len(self._key_ids)
        if held < known:
            ids, sizes = self._ids_np, self._sizes_np
            if known > len(ids):
                room = max(known, 2 * len(ids))
                ids, sizes = np.zeros(room, np.uint32), np.zeros(room, np.uint32)
                ids[:held], sizes[:held] = self._ids_np[:held], self._sizes_np[:held]
                self._ids_np, self._sizes_np = ids, sizes
            ids[held:known] = self._key_ids[held:known]
            sizes[held:known] = self._sizes[held:known]
            self._held = known
        return self._ids_np[:known], self._sizes_np[:known]

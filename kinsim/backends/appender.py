"""``Appender``: records for a fixed set of partition keys, appended to a simulated stream at their own
arrival times, as values of a payload codec, through the stream's one write primitive.

It is what a simulation's producers need and no more: the keys are checked, interned and hashed once,
a record costs no Python object on its way in, and the answer is how many records, from the first,
the shard's write limits took (the caller retries the rest). Nothing here decides admission: that is
``ShardLog.append``, the same primitive PutRecord and PutRecords use.
"""

from __future__ import annotations

from typing import Callable, Sequence

from ..records import PayloadCodec
from . import limits
from .shards import partition_key_hash
from .stream_state import StreamState

__all__ = ["Appender"]


class Appender:
    """Appends records of ``partition_keys[source]`` to the stream ``lookup()`` returns (it raises the
    service's error when the stream does not take writes)."""

    def __init__(self, lookup: Callable[[], StreamState], partition_keys: Sequence[str], codec: PayloadCodec,
                 now: Callable[[], float]) -> None:
        stream = lookup()
        stream.use_codec(codec)
        for key in partition_keys:
            size = codec.data_bytes + len(key.encode("utf-8"))
            if not 1 <= len(key) <= limits.MAX_PARTITION_KEY_CHARS or size > limits.MAX_RECORD_BYTES:
                raise ValueError(f"partition key {key[:60]!r} cannot be written: 1 to 256 characters, and data "
                                 "plus key at most 1 MiB")
        self._lookup = lookup
        self._now = now
        self._hashes = [partition_key_hash(key) for key in partition_keys]
        self._key_ids = [stream.key_id(key) for key in partition_keys]
        self._sizes = [codec.data_bytes + len(key.encode("utf-8")) for key in partition_keys]
        self._routed: tuple = (None, None)
        self._shard_ids: list[str] = []

    def routing(self) -> tuple[object, list[str]]:
        """(version, the shard each source's records go to now); the version changes at every reshard."""
        stream = self._lookup()
        version = (stream.uid, stream.routing_version)
        if self._routed != version:
            self._shard_ids = [stream.route(h).shard_id for h in self._hashes]
            self._routed = version
        return version, self._shard_ids

    def append(self, shard_id: str, arrivals: list[float], sources: Sequence[int], values: Sequence[int]) -> int:
        """Append records of these sources, holding these values, to an open shard at these arrival times
        (in order, none after the clock's now): how many, from the first, the shard took."""
        if arrivals and arrivals[-1] > self._now():
            raise ValueError(f"a record cannot arrive at {arrivals[-1]!r}, after the clock's now ({self._now()!r})")
        stream = self._lookup()
        shard = stream.shards[shard_id]
        key_ids = list(map(self._key_ids.__getitem__, sources))
        sizes = list(map(self._sizes.__getitem__, sources))
        return stream.append(shard, arrivals, key_ids, sizes, values=values)

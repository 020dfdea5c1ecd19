"""The simulation's fast way into and out of ``MemoryBackend``: same results, fewer steps.

``MemoryWriter`` puts the traffic's attempts without the API's request checks (the simulation's records
are valid by construction). It stores each record's tag (the event time its data carries) and renders
the data from it only when someone reads the data, like a compressed column. When it can prove no
record of a batch would be throttled, it appends the whole batch column by column; otherwise it
declines and the traffic makes the attempts one by one.
Reads come back as columns (``RecordBatch``) without building a ``Record`` per record, with the tags,
so the simulation's consumer need not parse back what its producers wrote.
"""

from __future__ import annotations

from bisect import bisect_right
from itertools import accumulate, islice, repeat
from operator import add, sub
from typing import TYPE_CHECKING, Callable, Sequence

from ..clock import ManualClock
from ..records import StreamStatus
from . import limits
from .shards import ShardLog, partition_key_hash

if TYPE_CHECKING:  # pragma: no cover
    from .memory import MemoryBackend
    from .stream_state import StreamState

__all__ = ["MemoryWriter", "Renderer"]

#: Turns tags into the data they stand for (the simulation's event texts)
Renderer = Callable[[Sequence[int]], list]


class MemoryWriter:
    """Puts one stream's records for the simulation; times are seconds after ``start_s``."""

    def __init__(self, backend: "MemoryBackend", stream_name: str, partition_keys: Sequence[str],
                 start_s: float, render: Renderer, data_bytes: int) -> None:
        if not isinstance(backend.clock, ManualClock):
            raise TypeError("the simulation's writer moves the backend's clock: it needs a ManualClock")
        self.backend = backend
        self.clock: ManualClock = backend.clock
        self.stream_name = stream_name
        self.partition_keys = list(partition_keys)
        self.hashes = [partition_key_hash(key) for key in partition_keys]
        self.key_sizes = [len(key.encode("utf-8")) for key in partition_keys]
        self.start_s = start_s
        self.render = render
        self.sizes = [data_bytes + size for size in self.key_sizes]
        self._routed: tuple = (None, None)
        self._shards: list[ShardLog] = []
        self._key_ids: list[int] = []

    def _route(self, stream: "StreamState") -> None:
        if self._routed != (stream.uid, stream.routing_version):
            self._shards = [stream.route(h) for h in self.hashes]
            self._key_ids = [stream.key_id(key) for key in self.partition_keys]
            self._routed = (stream.uid, stream.routing_version)

    def _stream(self, at: float) -> "StreamState":
        self.clock.set(max(self.clock.now(), at))
        stream = self.backend._writable(self.stream_name)
        self._route(stream)
        if stream.render is not self.render:
            if stream.render is not None:
                raise ValueError(f"stream {stream.name} already renders another writer's tags")
            stream.render = self.render
        return stream

    @property
    def lanes_version(self) -> object:
        stream = self.backend._streams.get(self.stream_name)
        if stream is not None:
            self._route(stream)
        return self._routed

    def lane(self, producer: int) -> str:
        """A lane per shard: records of different shards never wait for each other."""
        if not self._shards:
            self.lanes_version  # noqa: B018 -- routes the producers
        return self._shards[producer].shard_id

    def write(self, time: float, producer: int, tag: int) -> bool:
        now = self.start_s + time
        stream = self._stream(now)
        shard = self._shards[producer]
        size = self.sizes[producer]
        if self.backend.throttling:
            count, written = shard.write_load(now)
            if count >= limits.SHARD_WRITE_RECORDS_PER_S or written + size > limits.SHARD_WRITE_BYTES_PER_S:
                return False
        stream.counter += 1
        shard.append(stream.counter, now, None, self._key_ids[producer], size, tag)
        stream.written(now)
        return True

    def bulk(self, times: Sequence[float], producers: Sequence[int], tags: Sequence[int]) -> bool:
        """Put these records (columns, in order): all of them, or none (False) if the stream is not
        active or a record would be throttled."""
        start_s = self.start_s
        first = start_s + times[0]
        stream = self._stream(first)
        if self.backend._status(stream) is not StreamStatus.ACTIVE or stream.pending_reshard is not None:
            return False
        shards, key_ids, counter = self._shards, self._key_ids, stream.counter
        arrivals = list(map(add, repeat(start_s), times))
        sizes = list(map(self.sizes.__getitem__, producers))
        numbers = list(range(counter + 1, counter + 1 + len(times)))
        targets = {id(shards[p]): shards[p] for p in set(producers)}
        if len(targets) == 1:
            groups = {next(iter(targets)): (numbers, arrivals, list(map(key_ids.__getitem__, producers)), sizes,
                                            tags)}
        else:
            slot = {p: id(shards[p]) for p in set(producers)}
            members: dict[int, list[int]] = {target: [] for target in targets}
            for i, p in enumerate(producers):
                members[slot[p]].append(i)
            groups = {target: ([numbers[i] for i in rows], [arrivals[i] for i in rows],
                               [key_ids[producers[i]] for i in rows], [sizes[i] for i in rows], [tags[i] for i in rows])
                      for target, rows in members.items()}
        if self.backend.throttling:
            for target, group in groups.items():
                if not _all_admitted(targets[target], group[1], group[3]):
                    return False  # a record would be refused: let the traffic try them one by one
        for target, group in groups.items():
            targets[target].extend(*group)
        stream.counter = counter + len(times)
        stream.written(first)
        self.clock.set(max(self.clock.now(), arrivals[-1]))
        return True


def _all_admitted(shard: ShardLog, arrivals: list[float], sizes: list[int]) -> bool:
    """Whether the shard's write limits would take every one of these records, appended in order."""
    count, written = shard.write_load(arrivals[0])
    if count + len(arrivals) <= limits.SHARD_WRITE_RECORDS_PER_S and \
            written + sum(sizes) <= limits.SHARD_WRITE_BYTES_PER_S:
        return True  # even all at one instant would fit
    # the exact test: every record's one-second window, over what the shard holds and the batch before it
    earlier = bisect_right(shard.arrivals, arrivals[0] - 1.0)
    times = shard.arrivals[earlier:].tolist() + arrivals
    totals = list(accumulate(shard.sizes[earlier:].tolist() + sizes, initial=0))
    held = len(times) - len(arrivals)
    lows = list(map(bisect_right, repeat(times), map(add, arrivals, repeat(-1.0))))  # first in each window
    before = max(map(sub, range(held, len(times)), lows))                         # records already in it
    written = max(map(sub, islice(totals, held + 1, None), map(totals.__getitem__, lows)))
    return before < limits.SHARD_WRITE_RECORDS_PER_S and written <= limits.SHARD_WRITE_BYTES_PER_S

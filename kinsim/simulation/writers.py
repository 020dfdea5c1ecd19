"""How the traffic's attempts reach the stream: two writers with one contract.

A writer splits keys into lanes (attempts are ordered within a lane; lanes are independent of each
other) and puts a run of first attempts of one lane: as many as it can, from the first, and why the
next one did not go in (the stream throttled it, or its answer was lost). Keys are numbered as the
traffic numbers them (``partition_keys[key]``, a list that may grow as a population's keys are drawn).

- ``AppendingWriter``: simulated shards. A lane per shard, so records of different shards never wait
  for each other; a run goes in through ``MemoryBackend.appender``, at its records' own arrival times,
  each record kept as its event time (``EVENT_TIMES``). The shard's write primitive decides admission.
- ``CallingWriter``: any backend, by the API: one ``put_record`` per attempt, with the timeline at the
  attempt's time, in one lane (every attempt in one global order, as a real stream sees them).

Both count the puts each shard refused (``throttled_by_shard``): a simulated shard's lane is the shard;
a real stream's refusal names no shard, so the calling writer finds it from the key's hash and the
open shards it last listed (listed again once a put lands on a shard it did not know).
"""

from __future__ import annotations

from array import array
from bisect import bisect_right
from itertools import repeat
from operator import add
from typing import Optional, Protocol, Sequence

import numpy as np

from ..backends.base import Backend
from ..backends.memory import MemoryBackend
from ..backends.shards import partition_key_hash
from ..errors import AnswerLostError, ProvisionedThroughputExceededException
from .payload import EVENT_TIMES
from .timeline import Timeline

_RUN = 8  # a run of at least this many records goes through numpy (below, a list is faster)

__all__ = ["StreamWriter", "AppendingWriter", "CallingWriter", "writer_for", "THROTTLED", "LOST"]

THROTTLED = "throttled"
LOST = "lost"  # the answer was lost: the record may have been written


class StreamWriter(Protocol):
    def routing(self) -> object:
        """The lanes' version: it changes when a key's lane may have (a reshard)."""

    def lanes(self, keys: Sequence[int]) -> list[str]:
        """The lane each of these keys' records go to now."""

    throttled_by_shard: dict[str, int]  # puts each shard refused

    def append(self, lane: str, times: Sequence[float], keys: Sequence[int],
               stamps_us: Sequence[int]) -> tuple[int, Optional[str]]:
        """Put these attempts of one lane, in order (times in seconds after the start, none after the
        timeline's horizon): how many went in from the first, and why the next did not (``THROTTLED`` or
        ``LOST``; None when all went in)."""


class AppendingWriter:
    def __init__(self, backend: MemoryBackend, stream_name: str, partition_keys: Sequence[str],
                 timeline: Timeline) -> None:
        self._appender = backend.appender(stream_name, partition_keys, EVENT_TIMES)
        self._timeline = timeline
        self._start_s = timeline.clock.start_s
        self.throttled_by_shard: dict[str, int] = {}

    def routing(self) -> object:
        return self._appender.routing()

    def lanes(self, keys: Sequence[int]) -> list[str]:
        return self._appender.shards_of(keys)

    def append(self, lane: str, times: Sequence[float], keys: Sequence[int],
               stamps_us: Sequence[int]) -> tuple[int, Optional[str]]:
        timeline = self._timeline
        timeline.advance_to(max(timeline.now, times[-1]))
        if type(times) is array and len(times) >= _RUN:  # a lane's run: one add in numpy
            arrivals: Sequence[float] = np.frombuffer(times, np.float64) + self._start_s
        else:
            arrivals = list(map(add, repeat(self._start_s), times))
        appended = self._appender.append(lane, arrivals, keys, stamps_us)
        if appended == len(times):
            return appended, None
        self.throttled_by_shard[lane] = self.throttled_by_shard.get(lane, 0) + 1
        return appended, THROTTLED


class CallingWriter:
    def __init__(self, backend: Backend, stream_name: str, partition_keys: Sequence[str],
                 timeline: Timeline) -> None:
        self._backend = backend
        self._stream_name = stream_name
        self._keys = partition_keys
        self._timeline = timeline
        self.throttled_by_shard: dict[str, int] = {}
        self._open: Optional[tuple[list[int], list[str]]] = None  # range starts and ids of the open shards

    def routing(self) -> object:
        return 0

    def lanes(self, keys: Sequence[int]) -> list[str]:
        return [""] * len(keys)  # one lane: every attempt in one global order

    def append(self, lane: str, times: Sequence[float], keys: Sequence[int],
               stamps_us: Sequence[int]) -> tuple[int, Optional[str]]:
        timeline = self._timeline
        for i, (time, key, data) in enumerate(zip(times, keys, EVENT_TIMES.render(stamps_us))):
            timeline.advance_to(max(timeline.now, time))
            try:
                put = self._backend.put_record(self._stream_name, data, self._keys[key])
            except ProvisionedThroughputExceededException:
                shard_id = self._shard_of(self._keys[key])
                self.throttled_by_shard[shard_id] = self.throttled_by_shard.get(shard_id, 0) + 1
                return i, THROTTLED
            except AnswerLostError:
                return i, LOST
            if self._open is not None and put.shard_id not in self._open[1]:
                self._open = None  # a shard it did not know: the stream has been resharded
        return len(times), None

    def _shard_of(self, partition_key: str) -> str:
        """The open shard a key's records go to, by the last listing of the stream."""
        if self._open is None:
            shards = sorted((s.hash_key_range.start, s.shard_id)
                            for s in self._backend.list_shards(self._stream_name) if s.is_open)
            self._open = ([start for start, _ in shards], [shard_id for _, shard_id in shards])
        starts, ids = self._open
        return ids[bisect_right(starts, partition_key_hash(partition_key)) - 1]


def writer_for(backend: Backend, stream_name: str, partition_keys: Sequence[str], timeline: Timeline) -> StreamWriter:
    """Simulated shards are appended to; any other backend is called."""
    if isinstance(backend, MemoryBackend):
        return AppendingWriter(backend, stream_name, partition_keys, timeline)
    return CallingWriter(backend, stream_name, partition_keys, timeline)

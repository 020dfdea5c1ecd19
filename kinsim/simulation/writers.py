"""How the traffic's attempts reach the stream: two writers with one contract.

A writer splits producers into lanes (attempts are ordered within a lane; lanes are independent of
each other) and puts a run of first attempts of one lane: as many as it can, from the first, and why
the next one did not go in (the stream throttled it, or its answer was lost).

- ``AppendingWriter``: simulated shards. A lane per shard, so records of different shards never wait
  for each other; a run goes in through ``MemoryBackend.appender``, at its records' own arrival times,
  each record kept as its event time (``EVENT_TIMES``). The shard's write primitive decides admission.
- ``CallingWriter``: any backend, by the API: one ``put_record`` per attempt, with the timeline at the
  attempt's time, in one lane (every attempt in one global order, as a real stream sees them).
"""

from __future__ import annotations

from itertools import repeat
from operator import add
from typing import Optional, Protocol, Sequence

from ..backends.base import Backend
from ..backends.memory import MemoryBackend
from ..errors import AnswerLostError, ProvisionedThroughputExceededException
from .payload import EVENT_TIMES
from .timeline import Timeline

__all__ = ["StreamWriter", "AppendingWriter", "CallingWriter", "writer_for", "THROTTLED", "LOST"]

THROTTLED = "throttled"
LOST = "lost"  # the answer was lost: the record may have been written


class StreamWriter(Protocol):
    def routing(self) -> tuple[object, Sequence[str]]:
        """(version, each producer's lane); the version changes when the lanes do (a reshard)."""

    def append(self, lane: str, times: Sequence[float], producers: Sequence[int],
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

    def routing(self) -> tuple[object, Sequence[str]]:
        return self._appender.routing()

    def append(self, lane: str, times: Sequence[float], producers: Sequence[int],
               stamps_us: Sequence[int]) -> tuple[int, Optional[str]]:
        timeline = self._timeline
        timeline.advance_to(max(timeline.now, times[-1]))
        arrivals = list(map(add, repeat(self._start_s), times))
        appended = self._appender.append(lane, arrivals, producers, stamps_us)
        return appended, None if appended == len(times) else THROTTLED


class CallingWriter:
    def __init__(self, backend: Backend, stream_name: str, partition_keys: Sequence[str],
                 timeline: Timeline) -> None:
        self._backend = backend
        self._stream_name = stream_name
        self._keys = list(partition_keys)
        self._timeline = timeline
        self._lanes = [""] * len(self._keys)

    def routing(self) -> tuple[object, Sequence[str]]:
        return 0, self._lanes

    def append(self, lane: str, times: Sequence[float], producers: Sequence[int],
               stamps_us: Sequence[int]) -> tuple[int, Optional[str]]:
        timeline = self._timeline
        for i, (time, producer, data) in enumerate(zip(times, producers, EVENT_TIMES.render(stamps_us))):
            timeline.advance_to(max(timeline.now, time))
            try:
                self._backend.put_record(self._stream_name, data, self._keys[producer])
            except ProvisionedThroughputExceededException:
                return i, THROTTLED
            except AnswerLostError:
                return i, LOST
        return len(times), None


def writer_for(backend: Backend, stream_name: str, partition_keys: Sequence[str], timeline: Timeline) -> StreamWriter:
    """Simulated shards are appended to; any other backend is called."""
    if isinstance(backend, MemoryBackend):
        return AppendingWriter(backend, stream_name, partition_keys, timeline)
    return CallingWriter(backend, stream_name, partition_keys, timeline)

"""How the traffic puts records into any backend: one ``put_record`` per attempt, the backend's clock
set to the attempt's time first (a real service keeps its own time and ignores it)."""

from __future__ import annotations

from typing import Sequence

from ..backends.base import Backend
from ..clock import ManualClock
from ..errors import ProvisionedThroughputExceededException
from .traffic import render

__all__ = ["BackendWriter"]


class BackendWriter:
    lanes_version = 0  # one lane: every attempt in one global order, as a real stream sees them

    def lane(self, producer: int) -> str:
        return ""

    def __init__(self, backend: Backend, stream_name: str, partition_keys: Sequence[str], clock: ManualClock,
                 start_s: float) -> None:
        self.backend = backend
        self.stream_name = stream_name
        self.partition_keys = partition_keys
        self.clock = clock
        self.start_s = start_s

    def write(self, time: float, producer: int, tag: int) -> bool:
        self.clock.set(max(self.clock.now(), self.start_s + time))
        try:
            self.backend.put_record(self.stream_name, render([tag])[0], self.partition_keys[producer])
        except ProvisionedThroughputExceededException:
            return False
        return True

    def bulk(self, times: Sequence[float], producers: Sequence[int], tags: Sequence[int]) -> bool:
        return False  # one call per attempt, so every attempt meets the service on its own

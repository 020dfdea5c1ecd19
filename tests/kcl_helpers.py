"""Test helpers for kinsim.kcl: kinsim records, and one lease's checkpointer as a worker would drive it."""

from __future__ import annotations

import pytest

from kinsim.kcl import CheckpointError, Checkpointer, ProcessRecordsInput
from kinsim.records import Record as StreamRecord

T0 = 1_533_074_160.25


def stream_records(first: int, n: int) -> list[StreamRecord]:
    return [StreamRecord(str(first + i), T0 + i / 1000, f"event {i}".encode(), f"key-{i % 3}") for i in range(n)]


class Shard:
    """What a worker would do for one lease: deliver batches, keep what was written, refuse on demand."""

    def __init__(self, start: str = "TRIM_HORIZON") -> None:
        self.delivered: list[str] = []
        self.writes: list[str] = []
        self.accept = True
        self.checkpointer = Checkpointer("shardId-000000000000", lambda: self.delivered[-1] if self.delivered else None,
                                         self.write, start)

    def write(self, value: str) -> bool:
        if self.accept:
            self.writes.append(value)
        return self.accept

    def batch(self, first: int, n: int) -> ProcessRecordsInput:
        records = stream_records(first, n)
        self.delivered += [r.sequence_number for r in records]
        return ProcessRecordsInput.of(records, self.checkpointer, millis_behind_latest=0)


def refused(call) -> str:
    with pytest.raises(CheckpointError) as info:
        call()
    return info.value.value

"""What a record processor is given, in amazon-kclpy v3's shape (``amazon_kclpy.messages``).

Same attribute names, same types, so a class written for ``amazon_kclpy.v3.processor.RecordProcessorBase``
reads them unchanged: ``sequence_number`` is the API's decimal string, ``data`` is base64 text and
``binary_data`` its bytes, ``approximate_arrival_timestamp`` a naive local ``datetime`` made from whole
milliseconds (kclpy: ``datetime.fromtimestamp(int(millis) / 1000.0)``), ``timestamp_millis`` those
milliseconds. ``record["partitionKey"]`` / ``record.get(...)`` read the multilang JSON field names, as
kclpy's ``Record`` allows. Sub-sequence numbers are always 0: kinsim has no KPL aggregation.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar, Optional, Sequence

from ..records import Record as StreamRecord

__all__ = ["InitializeInput", "Record", "ProcessRecordsInput", "LeaseLostInput", "ShardEndedInput",
           "ShutdownRequestedInput"]


@dataclass(frozen=True)
class InitializeInput:
    """``sequence_number``: the lease's checkpoint the processor starts after (a decimal string, or a
    sentinel such as ``TRIM_HORIZON``), as the multilang daemon passes it."""

    shard_id: str
    sequence_number: Optional[str]
    sub_sequence_number: int = 0

    action: ClassVar[str] = "initialize"


@dataclass(frozen=True)
class Record:
    """One record as kclpy's ``amazon_kclpy.messages.Record`` shows it."""

    sequence_number: str
    binary_data: bytes
    partition_key: str
    timestamp_millis: int
    sub_sequence_number: int = 0

    @classmethod
    def of(cls, record: StreamRecord) -> "Record":
        """From a kinsim record (arrival in float seconds → whole milliseconds, as the daemon sends it)."""
        return cls(record.sequence_number, record.data, record.partition_key,
                   int(record.approximate_arrival_timestamp * 1000))

    @property
    def data(self) -> str:
        """The data as base64 text (what the daemon sends; ``binary_data`` is it decoded)."""
        return base64.b64encode(self.binary_data).decode("ascii")

    @property
    def approximate_arrival_timestamp(self) -> datetime:
        return datetime.fromtimestamp(self.timestamp_millis / 1000.0)

    action: ClassVar[str] = "record"

    def _json(self) -> dict[str, Any]:
        return {"action": self.action, "data": self.data, "partitionKey": self.partition_key,
                "sequenceNumber": self.sequence_number, "subSequenceNumber": self.sub_sequence_number,
                "approximateArrivalTimestamp": self.timestamp_millis}

    def get(self, field: str) -> Any:
        return self._json()[field]

    def __getitem__(self, field: str) -> Any:
        return self.get(field)


@dataclass(frozen=True)
class ProcessRecordsInput:
    """A batch of records; ``checkpointer`` confirms up to and including its last record."""

    records: Sequence[Record]
    checkpointer: Any
    millis_behind_latest: int = 0

    @classmethod
    def of(cls, records: Sequence[StreamRecord], checkpointer: Any, millis_behind_latest: int = 0
           ) -> "ProcessRecordsInput":
        return cls([Record.of(r) for r in records], checkpointer, millis_behind_latest)

    action: ClassVar[str] = "processRecords"


@dataclass(frozen=True)
class LeaseLostInput:
    """The lease is another worker's now: no checkpointer, checkpointing is no longer possible."""

    action: ClassVar[str] = "leaseLost"


@dataclass(frozen=True)
class ShardEndedInput:
    """The shard was read to its end: the processor must ``checkpointer.checkpoint()`` (SHARD_END), or the
    children never start."""

    checkpointer: Any

    action: ClassVar[str] = "shardEnded"


@dataclass(frozen=True)
class ShutdownRequestedInput:
    """The worker is shutting down gracefully: one last chance to checkpoint."""

    checkpointer: Any

    action: ClassVar[str] = "shutdownRequested"

"""The one seam: what kinsim needs from a Kinesis stream, simulated or real.

Everything above this interface (the simulation, the api layer and the clients on it) is the same
whether records live in ``MemoryBackend``'s simulated shards or in a real stream behind boto3.
Methods take and return the domain types of ``kinsim.records`` and raise ``kinsim.errors.KinesisError``
subclasses named after the API's error codes.

A backend is the raw service: one call does one thing, and a throttled call, an expired iterator or a
stream still CREATING comes back as the service's error. Retrying, backing off, renewing iterators and
waiting belong above it, to the actors or to an explicit wrapper (``kinsim.backends.retrying``).
"""

from __future__ import annotations

import abc
from datetime import datetime
from typing import Optional, Sequence, Union

from ..records import (
    GetRecordsResult,
    IteratorType,
    PutEntry,
    PutOutcome,
    PutResult,
    Shard,
    StreamDescription,
)

__all__ = ["Backend"]


class Backend(abc.ABC):
    """A Kinesis service: streams, shards, records."""

    #: Name written into reports ("memory", "kinesis").
    name: str = "backend"

    @abc.abstractmethod
    def now(self) -> float:
        """The service's clock, in seconds since the epoch: what arrival times and AT_TIMESTAMP use."""

    # -- streams ------------------------------------------------------------------------------------
    @abc.abstractmethod
    def create_stream(self, stream_name: str, shard_count: int) -> None:
        """Create a stream whose hash-key space is split evenly over ``shard_count`` shards."""

    @abc.abstractmethod
    def delete_stream(self, stream_name: str) -> None: ...

    @abc.abstractmethod
    def describe_stream(self, stream_name: str) -> StreamDescription:
        """Status, retention and every shard still listed (open, and closed within retention)."""

    @abc.abstractmethod
    def list_streams(self) -> list[str]:
        """Stream names in lexicographic order."""

    def list_shards(self, stream_name: str) -> list[Shard]:
        return list(self.describe_stream(stream_name).shards)

    @abc.abstractmethod
    def set_retention_period(self, stream_name: str, hours: int, *, increase: bool) -> None:
        """Increase (``increase=True``) or decrease the retention period, as the two API calls do."""

    # -- records ------------------------------------------------------------------------------------
    @abc.abstractmethod
    def put_record(self, stream_name: str, data: bytes, partition_key: str,
                   explicit_hash_key: Optional[str] = None,
                   sequence_number_for_ordering: Optional[str] = None) -> PutResult: ...

    @abc.abstractmethod
    def put_records(self, stream_name: str, entries: Sequence[PutEntry]) -> list[PutOutcome]:
        """One outcome per entry, in order; a PutFailure leaves the other entries written."""

    @abc.abstractmethod
    def get_shard_iterator(self, stream_name: str, shard_id: str, iterator_type: Union[IteratorType, str],
                           starting_sequence_number: Optional[str] = None,
                           timestamp: Union[datetime, float, None] = None) -> str: ...

    @abc.abstractmethod
    def get_records(self, shard_iterator: str, limit: Optional[int] = None) -> GetRecordsResult:
        """The records from the iterator's position, as columns (``Records``), and where to read next."""

    # -- resharding ---------------------------------------------------------------------------------
    @abc.abstractmethod
    def split_shard(self, stream_name: str, shard_id: str, new_starting_hash_key: str) -> None: ...

    @abc.abstractmethod
    def merge_shards(self, stream_name: str, shard_id: str, adjacent_shard_id: str) -> None: ...

    @abc.abstractmethod
    def update_shard_count(self, stream_name: str, target_shard_count: int) -> int:
        """Reshard to ``target_shard_count`` even open shards; returns the open count before."""

    def close(self) -> None:
        """Release what the backend holds (connections); the default holds nothing."""

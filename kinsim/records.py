"""Domain types of a Kinesis stream: small frozen records and enums, no wire format.

PascalCase dictionaries and base64 exist only at the boto3 border and in the boto3-shaped client;
everything between them speaks these types. Hash keys are ints, sequence numbers are the API's
decimal strings (compare them with ``int()``), times are float seconds since the Unix epoch.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Optional, Sequence, Union

__all__ = [
    "HASH_KEY_MAX",
    "IteratorType",
    "StreamStatus",
    "HashKeyRange",
    "Shard",
    "ChildShard",
    "Record",
    "PutEntry",
    "PutResult",
    "PutFailure",
    "PutOutcome",
    "GetRecordsResult",
    "RecordBatch",
    "StreamDescription",
]

HASH_KEY_MAX = 2**128 - 1


class IteratorType(str, enum.Enum):
    TRIM_HORIZON = "TRIM_HORIZON"
    LATEST = "LATEST"
    AT_SEQUENCE_NUMBER = "AT_SEQUENCE_NUMBER"
    AFTER_SEQUENCE_NUMBER = "AFTER_SEQUENCE_NUMBER"
    AT_TIMESTAMP = "AT_TIMESTAMP"


class StreamStatus(str, enum.Enum):
    CREATING = "CREATING"
    DELETING = "DELETING"
    ACTIVE = "ACTIVE"
    UPDATING = "UPDATING"


@dataclass(frozen=True)
class HashKeyRange:
    """Hash keys ``start`` to ``end``, both inclusive."""

    start: int
    end: int

    def __post_init__(self) -> None:
        if not 0 <= self.start <= self.end <= HASH_KEY_MAX:
            raise ValueError(f"bad hash key range [{self.start}, {self.end}]")

    def __contains__(self, hash_key: int) -> bool:
        return self.start <= hash_key <= self.end


@dataclass(frozen=True)
class Shard:
    """A shard as listed by DescribeStream/ListShards. Open while ``ending_sequence_number`` is None."""

    shard_id: str
    hash_key_range: HashKeyRange
    starting_sequence_number: str
    ending_sequence_number: Optional[str] = None
    parent_shard_id: Optional[str] = None
    adjacent_parent_shard_id: Optional[str] = None

    @property
    def is_open(self) -> bool:
        return self.ending_sequence_number is None


@dataclass(frozen=True)
class ChildShard:
    """A child of a closed shard, as GetRecords returns it at the parent's end."""

    shard_id: str
    parent_shards: tuple[str, ...]
    hash_key_range: HashKeyRange


@dataclass(frozen=True)
class Record:
    sequence_number: str
    approximate_arrival_timestamp: float
    data: bytes
    partition_key: str


@dataclass(frozen=True)
class PutEntry:
    """One record of a PutRecords batch."""

    data: bytes
    partition_key: str
    explicit_hash_key: Optional[str] = None


@dataclass(frozen=True)
class PutResult:
    shard_id: str
    sequence_number: str


@dataclass(frozen=True)
class PutFailure:
    """A record of a PutRecords batch that was not written; the rest of the batch may have been."""

    error_code: str
    error_message: str


PutOutcome = Union[PutResult, PutFailure]


@dataclass(frozen=True)
class GetRecordsResult:
    records: tuple[Record, ...]
    next_shard_iterator: Optional[str]
    millis_behind_latest: int
    child_shards: tuple[ChildShard, ...] = ()


@dataclass(frozen=True)
class RecordBatch:
    """What one GetRecords returned, column by column: what a consumer that counts needs, cheaply."""

    partition_keys: Sequence[str]
    datas: Optional[Sequence[bytes]]  # None when not asked for and ``event_us`` says it all
    last_sequence_number: Optional[str]
    next_shard_iterator: Optional[str]
    millis_behind_latest: int
    child_shards: tuple[ChildShard, ...] = ()
    #: event times the simulation's writer attached, when the backend kept them: equal to what parsing
    #: the data gives, without parsing
    event_us: Optional[Sequence[int]] = None

    @property
    def count(self) -> int:
        return len(self.partition_keys)

    @classmethod
    def of(cls, result: GetRecordsResult) -> "RecordBatch":
        records = result.records
        return cls([r.partition_key for r in records], [r.data for r in records],
                   records[-1].sequence_number if records else None, result.next_shard_iterator,
                   result.millis_behind_latest, result.child_shards)


@dataclass(frozen=True)
class StreamDescription:
    name: str
    arn: str
    status: StreamStatus
    shards: tuple[Shard, ...]
    retention_period_hours: int
    created_at: float

    @property
    def open_shard_count(self) -> int:
        return sum(1 for shard in self.shards if shard.is_open)

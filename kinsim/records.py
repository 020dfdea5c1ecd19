"""Domain types of a Kinesis stream: small frozen records and enums, no wire format.

PascalCase dictionaries and base64 exist only in the api layer, its adapters and the boto3 backend;
everything between them speaks these types. Hash keys are ints, sequence numbers are the API's
decimal strings (compare them with ``int()``), times are float seconds since the Unix epoch.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Iterator, Optional, Protocol, Sequence, Union

__all__ = [
    "HASH_KEY_MAX",
    "IteratorType",
    "StreamStatus",
    "HashKeyRange",
    "Shard",
    "oldest_shards",
    "ChildShard",
    "Record",
    "PutEntry",
    "PutResult",
    "PutFailure",
    "PutOutcome",
    "GetRecordsResult",
    "Records",
    "SequenceNumbers",
    "PayloadCodec",
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

    @property
    def parents(self) -> tuple[str, ...]:
        """Its parent's id and, after a merge, the adjacent parent's."""
        return tuple(p for p in (self.parent_shard_id, self.adjacent_parent_shard_id) if p is not None)


def oldest_shards(shards: Sequence[Shard]) -> list[Shard]:
    """The shards none of whose parents is among ``shards``: where reading from the trim horizon starts
    (ListShards' ``AT_TRIM_HORIZON``)."""
    listed = {shard.shard_id for shard in shards}
    return [shard for shard in shards if not any(parent in listed for parent in shard.parents)]


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


class PayloadCodec(Protocol):
    """Stores record data compactly as 64-bit integers and renders the bytes only when someone reads them.

    A writer that knows what its data says (the simulation's producers write an event time as text)
    may append values instead of bytes; a stream keeps the codec and renders each value to exactly
    ``data_bytes`` bytes when the data is read. ``parse`` is the way back from bytes, for records that
    were written as bytes (by any client) or read from a real stream.
    """

    data_bytes: int

    def render(self, values: Sequence[int]) -> list[bytes]:
        """The data the values stand for."""

    def parse(self, datas: Sequence[bytes]) -> list[int]:
        """The values these data stand for (``render``'s inverse)."""


class SequenceNumbers(Sequence[int]):
    """Sequence numbers as a base plus each record's offset from it, added only when one is asked for."""

    __slots__ = ("base", "offsets")

    def __init__(self, base: int, offsets: Sequence[int]) -> None:
        self.base = base
        self.offsets = offsets

    def __len__(self) -> int:
        return len(self.offsets)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return [self.base + offset for offset in self.offsets[index]]
        return self.base + self.offsets[index]

    def __iter__(self) -> Iterator[int]:
        base = self.base
        return (base + offset for offset in self.offsets)


class Records(Sequence[Record]):
    """The records one GetRecords returned, column by column: a ``Record`` is built only when one is
    asked for, and the data only rendered when it is read. A consumer that counts takes the columns."""

    __slots__ = ("partition_keys", "_sequence_numbers", "_arrivals", "_datas", "_values", "_codec")

    def __init__(self, partition_keys: Sequence[str], sequence_numbers: Sequence[int], arrivals: Sequence[float],
                 datas: Optional[Sequence[Optional[bytes]]] = None, values: Optional[Sequence[int]] = None,
                 codec: Optional[PayloadCodec] = None) -> None:
        """``datas[i]`` is record i's data, or None where ``values[i]`` holds it for ``codec``; ``datas`` is
        None when every record is held as a value, ``values`` None when none is."""
        self.partition_keys = tuple(partition_keys)
        self._sequence_numbers = sequence_numbers
        self._arrivals = arrivals
        self._datas = datas
        self._values = values
        self._codec = codec

    @classmethod
    def of(cls, records: Sequence[Record]) -> "Records":
        return cls([r.partition_key for r in records], [int(r.sequence_number) for r in records],
                   [r.approximate_arrival_timestamp for r in records], [r.data for r in records])

    def __len__(self) -> int:
        return len(self.partition_keys)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return tuple(self[i] for i in range(*index.indices(len(self))))
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError("record index out of range")
        data = self._datas[index] if self._datas is not None else None
        if data is None:  # held as a value: render this one only
            data = self._codec.render([self._values[index]])[0]
        return Record(str(self._sequence_numbers[index]), self._arrivals[index], data, self.partition_keys[index])

    def __iter__(self) -> Iterator[Record]:
        return iter([Record(str(number), arrival, data, key) for number, arrival, data, key in
                     zip(self._sequence_numbers, self._arrivals, self.datas, self.partition_keys)])

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Sequence) and not isinstance(other, (str, bytes)):
            return tuple(self) == tuple(other)
        return NotImplemented

    def __add__(self, other: Sequence[Record]) -> tuple[Record, ...]:
        return tuple(self) + tuple(other)

    def __radd__(self, other: Sequence[Record]) -> tuple[Record, ...]:
        return tuple(other) + tuple(self)

    def __repr__(self) -> str:
        return f"Records({list(self)!r})"

    @property
    def sequence_numbers(self) -> list[str]:
        return [str(number) for number in self._sequence_numbers]

    @property
    def sequence_ints(self) -> Sequence[int]:
        """The sequence numbers as integers, in order (no text is made)."""
        return self._sequence_numbers

    @property
    def last_sequence_number(self) -> Optional[str]:
        return str(self._sequence_numbers[-1]) if self.partition_keys else None

    @property
    def arrival_times(self) -> list[float]:
        return list(self._arrivals)

    @property
    def datas(self) -> list[bytes]:
        """Every record's data, rendered from its value where it is held as one."""
        if self._values is None:
            return list(self._datas or ())
        if self._datas is None:
            return self._codec.render(self._values)
        datas = list(self._datas)
        held = [i for i, data in enumerate(datas) if data is None]
        for i, data in zip(held, self._codec.render([self._values[i] for i in held])):
            datas[i] = data
        return datas

    def values(self, codec: PayloadCodec) -> tuple[int, ...]:
        """What each record's data stands for under ``codec``: the values themselves where the records
        were written through that codec, else parsed from the data."""
        if self._values is not None and self._datas is None and self._codec is codec:
            return tuple(self._values)
        if self._values is None or self._codec is not codec:
            return tuple(codec.parse(self.datas))
        raw = self._datas
        parsed = iter(codec.parse([data for data in raw if data is not None]))
        return tuple(next(parsed) if data is not None else value for data, value in zip(raw, self._values))


@dataclass(frozen=True)
class GetRecordsResult:
    records: Records
    next_shard_iterator: Optional[str]
    millis_behind_latest: int
    child_shards: tuple[ChildShard, ...] = ()


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

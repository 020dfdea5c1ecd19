"""``MemoryBackend``: simulated Kinesis shards in memory, on an injected clock.

It does what the real service does where emulators cut corners (DESIGN §4): the API's parameter
constraints and error codes, per-shard write and read throughput per second of the injected clock,
iterators that expire after 5 minutes, retention, and resharding that routes writes to open shards
only. Nothing here reads the wall clock: a five-minute expiry or a day of retention costs no waiting.
"""

from __future__ import annotations

from datetime import datetime
from typing import Optional, Sequence, Union

from .. import errors
from ..clock import Clock, ManualClock
from ..records import (
    HASH_KEY_MAX,
    GetRecordsResult,
    IteratorType,
    PutEntry,
    PutFailure,
    PutOutcome,
    PutResult,
    RecordBatch,
    StreamDescription,
    StreamStatus,
)
from . import limits
from .base import Backend
from .bulk import MemoryWriter, Renderer
from .iterators import (
    IteratorPosition,
    check_expiry,
    decode_iterator,
    encode_iterator,
    starting_floor,
)
from .resharding import Resharding
from .shards import ShardLog, partition_key_hash
from .stream_state import StreamState
from .throughput import ShardThroughput
from .validation import Constraints, check_record, check_stream_name, record_size

__all__ = ["MemoryBackend"]


class MemoryBackend(Resharding, Backend):
    """Simulated streams. ``throttling=False`` lifts the per-shard throughput limits; the delays make
    streams pass through CREATING, UPDATING and DELETING for that many seconds of the clock."""

    name = "memory"

    def __init__(self, clock: Optional[Clock] = None, *, throttling: bool = True,
                 region: str = "us-east-1", account_id: str = "000000000000",
                 shard_limit: int = limits.DEFAULT_SHARD_LIMIT, create_delay: float = 0.0,
                 update_delay: float = 0.0, delete_delay: float = 0.0) -> None:
        self.clock = clock if clock is not None else ManualClock()
        self.throttling = throttling
        self.region = region
        self.account_id = account_id
        self.shard_limit = shard_limit
        self.create_delay = create_delay
        self.update_delay = update_delay
        self.delete_delay = delete_delay
        self._streams: dict[str, StreamState] = {}
        self._uids = 0
        self._throughput: dict[tuple[int, str], ShardThroughput] = {}

    # -- lookups ------------------------------------------------------------------------------------
    def _not_found(self, stream_name: str) -> errors.ResourceNotFoundException:
        return errors.ResourceNotFoundException(
            f"Stream {stream_name} under account {self.account_id} not found.")

    def _stream(self, stream_name: str) -> StreamState:
        """The stream by name, with its status brought up to the clock's time."""
        stream = self._streams.get(stream_name)
        if stream is None:
            raise self._not_found(stream_name)
        now = self.clock.now()
        if stream.deleting_until is not None and now >= stream.deleting_until:
            del self._streams[stream_name]
            raise self._not_found(stream_name)
        if stream.updating_until is not None and now >= stream.updating_until:
            if stream.pending_reshard is not None:
                stream.pending_reshard(stream.updating_until)
                stream.pending_reshard = None
            stream.updating_until = None
        stream.trim(now)
        return stream

    def _status(self, stream: StreamState) -> StreamStatus:
        now = self.clock.now()
        if stream.deleting_until is not None:
            return StreamStatus.DELETING
        if now < stream.ready_at:
            return StreamStatus.CREATING
        if stream.updating_until is not None:
            return StreamStatus.UPDATING
        return StreamStatus.ACTIVE

    def _writable(self, stream_name: str) -> StreamState:
        stream = self._stream(stream_name)
        if self._status(stream) not in (StreamStatus.ACTIVE, StreamStatus.UPDATING):
            raise self._not_found(stream_name)
        return stream

    def _active(self, stream_name: str) -> StreamState:
        stream = self._stream(stream_name)
        status = self._status(stream)
        if status is not StreamStatus.ACTIVE:
            raise errors.ResourceInUseException(
                f"Stream {stream_name} under account {self.account_id} not ACTIVE, instead in state {status.value}")
        return stream

    def _shard(self, stream: StreamState, shard_id: str) -> ShardLog:
        shard = stream.shards.get(shard_id)
        if shard is None:
            raise errors.ResourceNotFoundException(
                f"Shard {shard_id} in stream {stream.name} under account {self.account_id} does not exist")
        return shard

    def _open_shard_total(self) -> int:
        return sum(len(s.open_shards()) for s in self._streams.values() if s.deleting_until is None)

    def _check_shard_limit(self, extra: int) -> None:
        current = self._open_shard_total()
        if current + extra > self.shard_limit:
            raise errors.LimitExceededException(
                f"This request would exceed the shard limit for the account {self.account_id} in "
                f"{self.region}. Current shard count for the account: {current}. Limit: {self.shard_limit}. "
                f"Number of additional shards that would have resulted from this request: {extra}.")

    def _throughput_of(self, stream: StreamState, shard: ShardLog) -> ShardThroughput:
        key = (stream.uid, shard.shard_id)
        meter = self._throughput.get(key)
        if meter is None:
            meter = self._throughput[key] = ShardThroughput()
        return meter

    # -- streams ------------------------------------------------------------------------------------
    def create_stream(self, stream_name: str, shard_count: int) -> None:
        check = Constraints()
        check_stream_name(check, stream_name)
        if check.required("shardCount", shard_count):
            check.value("shardCount", shard_count, 1, 100_000)
        check.check()
        if stream_name in self._streams:
            try:
                self._stream(stream_name)
            except errors.ResourceNotFoundException:
                pass  # its deletion has completed
            else:
                raise errors.ResourceInUseException(
                    f"Stream {stream_name} under account {self.account_id} already exists.")
        self._check_shard_limit(shard_count)
        now = self.clock.now()
        self._uids += 1
        arn = f"arn:aws:kinesis:{self.region}:{self.account_id}:stream/{stream_name}"
        self._streams[stream_name] = StreamState(stream_name, self._uids, arn, shard_count, now,
                                                 limits.DEFAULT_RETENTION_HOURS, now + self.create_delay)

    def delete_stream(self, stream_name: str) -> None:
        check = Constraints()
        check_stream_name(check, stream_name)
        check.check()
        stream = self._stream(stream_name)
        if self._status(stream) in (StreamStatus.CREATING, StreamStatus.DELETING):
            raise errors.ResourceInUseException(
                f"Stream {stream_name} under account {self.account_id} is in state "
                f"{self._status(stream).value} and cannot be deleted.")
        if self.delete_delay > 0:
            stream.deleting_until = self.clock.now() + self.delete_delay
        else:
            del self._streams[stream_name]

    def describe_stream(self, stream_name: str) -> StreamDescription:
        check = Constraints()
        check_stream_name(check, stream_name)
        check.check()
        stream = self._stream(stream_name)
        shards = tuple(shard.describe() for shard in stream.shards.values())
        return StreamDescription(stream.name, stream.arn, self._status(stream), shards,
                                 stream.retention_hours, stream.created_at)

    def list_streams(self) -> list[str]:
        names = []
        for name in sorted(self._streams):
            try:
                self._stream(name)
            except errors.ResourceNotFoundException:
                continue
            names.append(name)
        return names

    def set_retention_period(self, stream_name: str, hours: int, *, increase: bool) -> None:
        check = Constraints()
        check_stream_name(check, stream_name)
        if check.required("retentionPeriodHours", hours):
            check.value("retentionPeriodHours", hours, 1, 2_147_483_647)
        check.check()
        stream = self._active(stream_name)
        low, high = limits.MIN_RETENTION_HOURS, limits.MAX_RETENTION_HOURS
        if not low <= hours <= high:
            raise errors.InvalidArgumentException(
                f"Minimum allowed retention period is {low} hours. Maximum allowed retention period is "
                f"{high} hours. Requested retention period ({hours} hours) is "
                f"{'too short' if hours < low else 'too long'}.")
        if increase and hours < stream.retention_hours or not increase and hours > stream.retention_hours:
            verb, relation = ("increase", "lesser") if increase else ("decrease", "greater")
            raise errors.InvalidArgumentException(
                f"Requested retention period ({hours} hours) for stream {stream_name} can not be {relation} "
                f"than existing retention period ({stream.retention_hours} hours). Use "
                f"{'Decrease' if increase else 'Increase'}RetentionPeriod API.")
        stream.retention_hours = hours
        stream.trim(self.clock.now(), force=True)

    # -- records ------------------------------------------------------------------------------------
    def _hash_key(self, partition_key: str, explicit_hash_key: Optional[str]) -> int:
        if explicit_hash_key is None:
            return partition_key_hash(partition_key)
        value = int(explicit_hash_key)
        if value > HASH_KEY_MAX:
            raise errors.InvalidArgumentException(
                "Invalid ExplicitHashKey. ExplicitHashKey must be in the range: [0, 2^128-1]. "
                f"Specified value was {explicit_hash_key}")
        return value

    def _throttled(self, stream: StreamState, shard: ShardLog) -> str:
        return (f"Rate exceeded for shard {shard.shard_id} in stream {stream.name} "
                f"under account {self.account_id}.")

    def _write(self, stream: StreamState, hash_key: int, data: bytes, partition_key: str,
               size: int, now: float) -> Union[PutResult, ShardLog]:
        """Append one record, or return the shard that refused it for throughput."""
        shard = stream.route(hash_key)
        if self.throttling and not _admits(shard, now, size):
            return shard
        stream.counter += 1
        shard.append(stream.counter, now, data, stream.key_id(partition_key), size)
        stream.written(now)
        return PutResult(shard.shard_id, str(shard.base + stream.counter))

    def put_record(self, stream_name: str, data: bytes, partition_key: str,
                   explicit_hash_key: Optional[str] = None,
                   sequence_number_for_ordering: Optional[str] = None) -> PutResult:
        check = Constraints()
        check_stream_name(check, stream_name)
        check_record(check, "", data, partition_key, explicit_hash_key)
        check.pattern("sequenceNumberForOrdering", sequence_number_for_ordering,
                      limits.SEQUENCE_NUMBER_PATTERN)
        check.check()
        size = record_size(check, "", data, partition_key)
        check.check()
        stream = self._writable(stream_name)
        hash_key = self._hash_key(partition_key, explicit_hash_key)
        outcome = self._write(stream, hash_key, bytes(data), partition_key, size, self.clock.now())
        if isinstance(outcome, ShardLog):
            raise errors.ProvisionedThroughputExceededException(self._throttled(stream, outcome))
        return outcome

    def put_records(self, stream_name: str, entries: Sequence[PutEntry]) -> list[PutOutcome]:
        check = Constraints()
        check_stream_name(check, stream_name)
        if check.required("records", entries):
            check.length("records", entries, 1, limits.MAX_PUT_RECORDS_COUNT)
            for i, entry in enumerate(entries[: limits.MAX_PUT_RECORDS_COUNT], start=1):
                check_record(check, f"records.{i}.member.", entry.data, entry.partition_key,
                                  entry.explicit_hash_key)
        check.check()
        sizes = [record_size(check, f"records.{i}.member.", e.data, e.partition_key)
                 for i, e in enumerate(entries, start=1)]
        check.check()
        if sum(sizes) > limits.MAX_PUT_RECORDS_BYTES:
            raise errors.InvalidArgumentException("Records size exceeds 5 MB limit")
        stream = self._writable(stream_name)
        hash_keys = [self._hash_key(e.partition_key, e.explicit_hash_key) for e in entries]
        now = self.clock.now()
        outcomes: list[PutOutcome] = []
        for entry, hash_key, size in zip(entries, hash_keys, sizes):
            outcome = self._write(stream, hash_key, bytes(entry.data), entry.partition_key, size, now)
            if isinstance(outcome, ShardLog):
                outcome = PutFailure("ProvisionedThroughputExceededException", self._throttled(stream, outcome))
            outcomes.append(outcome)
        return outcomes

    def get_shard_iterator(self, stream_name: str, shard_id: str, iterator_type: Union[IteratorType, str],
                           starting_sequence_number: Optional[str] = None,
                           timestamp: Union[datetime, float, None] = None) -> str:
        check = Constraints()
        check_stream_name(check, stream_name)
        if check.required("shardId", shard_id):
            check.length("shardId", shard_id, 1, 128)
            check.pattern("shardId", shard_id, limits.SHARD_ID_PATTERN)
        kind = iterator_type.value if isinstance(iterator_type, IteratorType) else iterator_type
        if check.required("shardIteratorType", kind):
            check.one_of("shardIteratorType", kind, tuple(t.value for t in IteratorType))
        check.pattern("startingSequenceNumber", starting_sequence_number, limits.SEQUENCE_NUMBER_PATTERN)
        check.check()
        stream = self._stream(stream_name)
        shard = self._shard(stream, shard_id)
        now = self.clock.now()
        floor = starting_floor(stream, shard, IteratorType(kind), starting_sequence_number, timestamp, now,
                               self.account_id)
        return encode_iterator(IteratorPosition(stream.name, stream.uid, shard.shard_id, floor, now))

    def get_records(self, shard_iterator: str, limit: Optional[int] = None) -> GetRecordsResult:
        shard, start, stop, next_iterator, behind = self._read(shard_iterator, limit)
        records = tuple(shard.record(i) for i in range(start, stop))
        return GetRecordsResult(records, next_iterator, behind, () if next_iterator else shard.child_shards())

    def get_record_batch(self, shard_iterator: str, limit: Optional[int] = None, *,
                         want_data: bool = True) -> RecordBatch:
        shard, start, stop, next_iterator, behind = self._read(shard_iterator, limit)
        last = str(shard.sequence_number(stop - 1)) if stop > start else None
        tags = shard.tags_of(start, stop)
        datas = shard.datas_of(start, stop) if want_data or tags is None else None
        return RecordBatch(shard.keys(start, stop), datas, last, next_iterator, behind,
                           () if next_iterator else shard.child_shards(), tags)

    def _read(self, shard_iterator: str, limit: Optional[int]) -> tuple[ShardLog, int, int, Optional[str], int]:
        """One GetRecords: (shard, first index, stop index, next iterator or None at a closed end, ms behind)."""
        check = Constraints()
        if check.required("shardIterator", shard_iterator):
            check.length("shardIterator", shard_iterator, 1, limits.MAX_SHARD_ITERATOR_CHARS)
        check.value("limit", limit, 1, limits.MAX_GET_RECORDS_LIMIT)
        check.check()
        position = decode_iterator(shard_iterator)
        now = self.clock.now()
        check_expiry(position, now)
        try:
            stream = self._stream(position.stream_name)
            if stream.uid != position.stream_uid:
                raise self._not_found(position.stream_name)
        except errors.ResourceNotFoundException:
            raise errors.ResourceNotFoundException(
                f"Shard {position.shard_id} in stream {position.stream_name} under account "
                f"{self.account_id} does not exist") from None
        shard = self._shard(stream, position.shard_id)
        meter = self._throughput_of(stream, shard) if self.throttling else None
        if meter is not None and not meter.admit_read(now):
            raise errors.ProvisionedThroughputExceededException(self._throttled(stream, shard))
        start = shard.position(position.sequence_floor)
        stop, size = shard.span(start, limit or limits.MAX_GET_RECORDS_LIMIT, limits.MAX_GET_RECORDS_BYTES)
        if meter is not None:
            meter.charge_read(now, size)
        floor = shard.sequence_number(stop - 1) + 1 if stop > start else position.sequence_floor
        remaining = stop < len(shard)
        behind = round((now - shard.arrivals[stop]) * 1000) if remaining else 0
        if not shard.is_open and not remaining:
            return shard, start, stop, None, behind
        next_iterator = encode_iterator(IteratorPosition(stream.name, stream.uid, shard.shard_id, floor, now))
        return shard, start, stop, next_iterator, behind

    def writer(self, stream_name: str, partition_keys: Sequence[str], start_s: float, render: Renderer,
               data_bytes: int) -> MemoryWriter:
        """The simulation's fast way to put records into ``stream_name`` (see ``bulk``): their data is
        ``render([tag])``, ``data_bytes`` long."""
        return MemoryWriter(self, stream_name, partition_keys, start_s, render, data_bytes)


def _admits(shard: ShardLog, now: float, size: int) -> bool:
    """Whether one more record of ``size`` bytes fits the shard's write limits at ``now``."""
    count, written = shard.write_load(now)
    return count < limits.SHARD_WRITE_RECORDS_PER_S and written + size <= limits.SHARD_WRITE_BYTES_PER_S

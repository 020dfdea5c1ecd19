"""``MemoryBackend``: simulated Kinesis shards in memory, on an injected clock.

It does what the real service does where emulators cut corners (DESIGN §4): the API's parameter
constraints and error codes, per-shard write and read throughput per second of the injected clock,
iterators that expire after 5 minutes, retention, and resharding that routes writes to open shards
only. Nothing here reads the wall clock: a five-minute expiry or a day of retention costs no waiting.
What completes later (a stream's creation, update or deletion after its delay, retention) is a clock
event at its instant (``Clock.call_after``).

Every write goes through one primitive, ``StreamState.append`` → ``ShardLog.append``, which checks
the shard's limits; every read through ``ShardLog.read``. ``PutRecord`` is a batch of one.
"""

from __future__ import annotations

from datetime import datetime
from typing import Optional, Sequence, Union

from .. import errors
from ..clock import EARLIEST_S, LATEST_S, Clock, ManualClock
from ..records import (
    HASH_KEY_MAX,
    GetRecordsResult,
    IteratorType,
    PayloadCodec,
    PutEntry,
    PutFailure,
    PutOutcome,
    PutResult,
    Shard,
    StreamDescription,
    StreamStatus,
)
from . import limits, resharding
from .account import Account
from .appender import Appender
from .base import Backend
from .iterators import IteratorPosition, check_expiry, decode_iterator, encode_iterator, starting_floor
from .shards import NO_RECORDS, partition_key_hash
from .stream_state import StreamState
from .throughput import SERVICE_LIMITS, ShardLimits
from .validation import Constraints, check_record, check_stream_name, plain_sizes, record_size

__all__ = ["MemoryBackend"]

KEY_HASHES_KEPT = 100_000  # partition keys whose hash keys a backend remembers (then it starts afresh)


class MemoryBackend(Backend):
    """Simulated streams. ``throttling=False`` lifts the per-shard throughput limits; the delays make
    streams pass through CREATING, UPDATING and DELETING for that many seconds of the clock."""

    name = "memory"

    def __init__(self, clock: Optional[Clock] = None, *, throttling: bool = True,
                 region: str = "us-east-1", account_id: str = "000000000000",
                 shard_limit: int = limits.DEFAULT_SHARD_LIMIT, create_delay: float = 0.0,
                 update_delay: float = 0.0, delete_delay: float = 0.0) -> None:
        self.clock = clock if clock is not None else ManualClock()
        self.account = Account(self.clock, region, account_id, shard_limit, SERVICE_LIMITS if throttling else None)
        self._throttling = throttling
        self.create_delay = create_delay
        self.update_delay = update_delay
        self.delete_delay = delete_delay
        self._key_hashes: dict[str, int] = {}  # partition keys put lately and their MD5 hash keys

    @property
    def region(self) -> str:
        return self.account.region

    @property
    def account_id(self) -> str:
        return self.account.account_id

    @property
    def throttling(self) -> bool:
        return self.account.shard_limits is not None

    @throttling.setter
    def throttling(self, on: bool) -> None:
        """Lift (False) or restore (True) the throughput limits of every shard, now and to come."""
        self._throttling = on
        self.limit_all(None)

    def now(self) -> float:
        return self._now()

    def _now(self) -> float:
        """The clock's now, which every call reads first (so what is due happens before it); a clock
        outside the years 1 to 9999, which no API timestamp can carry, is the service failing."""
        now = self.clock.now()
        if not EARLIEST_S <= now <= LATEST_S:
            raise errors.kinesis_error("InternalFailure", f"The service's clock reads {now!r} seconds since the "
                                                          "epoch, outside the years 1 to 9999 a timestamp can carry.")
        return now

    # -- streams ------------------------------------------------------------------------------------
    def create_stream(self, stream_name: str, shard_count: int) -> None:
        check = Constraints()
        check_stream_name(check, stream_name)
        if check.required("shardCount", shard_count):
            check.value("shardCount", shard_count, 1, 100_000)
        check.check()
        account = self.account
        self._now()  # what is due happens first
        if stream_name in account.streams:
            raise errors.ResourceInUseException(f"Stream {stream_name} under account {account.account_id} "
                                                "already exists.")
        account.check_shard_limit(shard_count)
        arn = f"arn:aws:kinesis:{account.region}:{account.account_id}:stream/{stream_name}"
        stream = StreamState(stream_name, account.next_uid(), arn, shard_count, self.clock,
                             limits.DEFAULT_RETENTION_HOURS, account.shard_limits)
        account.streams[stream_name] = stream
        if self.create_delay > 0:
            stream.status = StreamStatus.CREATING
            self.clock.call_after(self.create_delay, lambda instant: _settle(stream, StreamStatus.CREATING))

    def delete_stream(self, stream_name: str) -> None:
        check = Constraints()
        check_stream_name(check, stream_name)
        check.check()
        self._now()
        stream = self.account.stream(stream_name)
        if stream.status in (StreamStatus.CREATING, StreamStatus.DELETING):
            raise errors.ResourceInUseException(
                f"Stream {stream_name} under account {self.account_id} is in state "
                f"{stream.status.value} and cannot be deleted.")
        if self.delete_delay <= 0:
            del self.account.streams[stream_name]
            return
        stream.status = StreamStatus.DELETING

        def gone(instant: float) -> None:
            if self.account.streams.get(stream_name) is stream:
                del self.account.streams[stream_name]
        self.clock.call_after(self.delete_delay, gone)

    def describe_stream(self, stream_name: str) -> StreamDescription:
        check = Constraints()
        check_stream_name(check, stream_name)
        check.check()
        now = self._now()
        stream = self.account.stream(stream_name)
        shards = tuple(shard.describe() for shard in stream.listed_shards(now))
        return StreamDescription(stream.name, stream.arn, stream.status, shards, stream.retention_hours,
                                 stream.created_at)

    def list_streams(self) -> list[str]:
        self._now()
        return sorted(self.account.streams)

    def list_shards(self, stream_name: str) -> list[Shard]:
        return list(self.describe_stream(stream_name).shards)

    def set_retention_period(self, stream_name: str, hours: int, *, increase: bool) -> None:
        check = Constraints()
        check_stream_name(check, stream_name)
        if check.required("retentionPeriodHours", hours):
            check.value("retentionPeriodHours", hours, 1, 2_147_483_647)
        check.check()
        now = self._now()
        stream = self.account.active(stream_name)
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
        stream.trim(now)

    # -- records ------------------------------------------------------------------------------------
    def _hash_key(self, partition_key: str, explicit_hash_key: Optional[str]) -> int:
        if explicit_hash_key is None:  # an MD5 costs as much as the rest of a record's put: once per key
            found = self._key_hashes.get(partition_key)
            if found is None:
                if len(self._key_hashes) >= KEY_HASHES_KEPT:
                    self._key_hashes.clear()
                found = self._key_hashes[partition_key] = partition_key_hash(partition_key)
            return found
        value = int(explicit_hash_key)
        if value > HASH_KEY_MAX:
            raise errors.InvalidArgumentException(
                "Invalid ExplicitHashKey. ExplicitHashKey must be in the range: [0, 2^128-1]. "
                f"Specified value was {explicit_hash_key}")
        return value

    def _put(self, stream_name: str, entries: Sequence[PutEntry], sizes: list[int]) -> list[PutOutcome]:
        """Write the records of one call at the clock's now: each a PutResult, or a PutFailure where its
        shard's write limits refused it (the others are written all the same)."""
        now = self._now()
        stream = self.account.writable(stream_name)
        hash_keys = [self._hash_key(e.partition_key, e.explicit_hash_key) for e in entries]
        key_ids = [stream.key_id(e.partition_key) for e in entries]
        written = stream.put(hash_keys, key_ids, sizes, [bytes(e.data) for e in entries], now)
        return [PutResult(shard.shard_id, str(number)) if number is not None else
                PutFailure("ProvisionedThroughputExceededException", self.account.throttled(stream, shard))
                for shard, number in written]

    def put_record(self, stream_name: str, data: bytes, partition_key: str,
                   explicit_hash_key: Optional[str] = None,
                   sequence_number_for_ordering: Optional[str] = None) -> PutResult:
        check = Constraints()
        check_stream_name(check, stream_name)
        check_record(check, "", data, partition_key, explicit_hash_key)
        check.pattern("sequenceNumberForOrdering", sequence_number_for_ordering, limits.SEQUENCE_NUMBER_PATTERN)
        check.check()
        size = record_size(check, "", data, partition_key)
        check.check()
        [outcome] = self._put(stream_name, [PutEntry(data, partition_key, explicit_hash_key)], [size])
        if isinstance(outcome, PutFailure):
            raise errors.ProvisionedThroughputExceededException(outcome.error_message)
        return outcome

    def put_records(self, stream_name: str, entries: Sequence[PutEntry]) -> list[PutOutcome]:
        return self._put(stream_name, entries, self.check_put_records(stream_name, entries))

    def check_put_records(self, stream_name: str, entries: Sequence[PutEntry]) -> list[int]:
        """Refuse a PutRecords call as the service refuses it whole, before any record is written or fails
        alone (an endpoint's injected partial failures come after this); the records' sizes."""
        check = Constraints()
        check_stream_name(check, stream_name)
        sizes = plain_sizes(entries) if entries is not None and len(entries) <= limits.MAX_PUT_RECORDS_COUNT else None
        if check.required("records", entries):
            check.length("records", entries, 1, limits.MAX_PUT_RECORDS_COUNT)
            for i, entry in enumerate(entries[: limits.MAX_PUT_RECORDS_COUNT] if sizes is None else (), start=1):
                check_record(check, f"records.{i}.member.", entry.data, entry.partition_key, entry.explicit_hash_key)
        check.check()
        if sizes is None:
            sizes = [record_size(check, f"records.{i}.member.", e.data, e.partition_key)
                     for i, e in enumerate(entries, start=1)]
        check.check()
        if sum(sizes) > limits.MAX_PUT_RECORDS_BYTES:
            raise errors.InvalidArgumentException("Records size exceeds 5 MB limit")
        self._now()
        self.account.writable(stream_name)
        return sizes

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
        now = self._now()
        stream = self.account.stream(stream_name)
        shard = self.account.shard(stream, shard_id, now)
        floor = starting_floor(stream, shard, IteratorType(kind), starting_sequence_number, timestamp, now,
                               self.account_id)
        return encode_iterator(IteratorPosition(stream.name, stream.uid, shard.shard_id, floor, now))

    def get_records(self, shard_iterator: str, limit: Optional[int] = None) -> GetRecordsResult:
        if not (type(shard_iterator) is str and 0 < len(shard_iterator) <= limits.MAX_SHARD_ITERATOR_CHARS and
                (limit is None or type(limit) is int and 0 < limit <= limits.MAX_GET_RECORDS_LIMIT)):
            check = Constraints()  # something may be amiss (what certainly is not skips this)
            if check.required("shardIterator", shard_iterator):
                check.length("shardIterator", shard_iterator, 1, limits.MAX_SHARD_ITERATOR_CHARS)
            check.value("limit", limit, 1, limits.MAX_GET_RECORDS_LIMIT)
            check.check()
        position = decode_iterator(shard_iterator)
        now = self.clock.now()
        if not EARLIEST_S <= now <= LATEST_S:
            now = self._now()  # which says what is wrong
        if now - position.issued_at > limits.ITERATOR_LIFETIME_S:
            check_expiry(position, now)
        stream = self.account.streams.get(position.stream_name)
        if stream is None or stream.uid != position.stream_uid:
            raise errors.ResourceNotFoundException(f"Shard {position.shard_id} in stream {position.stream_name} "
                                                   f"under account {self.account_id} does not exist")
        shard = stream.shards.get(position.shard_id)
        if shard is None or shard.closed_at is not None:  # an open shard is listed; else ask
            shard = self.account.shard(stream, position.shard_id, now)
        span = shard.read(position.sequence_floor, limit or limits.MAX_GET_RECORDS_LIMIT,
                          limits.MAX_GET_RECORDS_BYTES, now, now - stream.retention_s)
        if span is None:
            raise errors.ProvisionedThroughputExceededException(self.account.throttled(stream, shard))
        start, stop = span
        if stop > start:
            records = shard.records(start, stop, stream.codec)
            floor = shard.base + shard.counters[stop - 1] + 1
        else:
            records, floor = NO_RECORDS, position.sequence_floor
        remaining = stop < len(shard.counters)
        behind = round((now - shard.arrivals[stop]) * 1000) if remaining else 0
        if shard.closed_at is not None and not remaining:
            return GetRecordsResult(records, None, behind, shard.child_shards())
        next_iterator = encode_iterator(IteratorPosition(stream.name, stream.uid, shard.shard_id, floor, now))
        return GetRecordsResult(records, next_iterator, behind)

    # -- resharding ---------------------------------------------------------------------------------
    def split_shard(self, stream_name: str, shard_id: str, new_starting_hash_key: str) -> None:
        self._now()
        resharding.split_shard(self.account, self.update_delay, stream_name, shard_id, new_starting_hash_key)

    def merge_shards(self, stream_name: str, shard_id: str, adjacent_shard_id: str) -> None:
        self._now()
        resharding.merge_shards(self.account, self.update_delay, stream_name, shard_id, adjacent_shard_id)

    def update_shard_count(self, stream_name: str, target_shard_count: int) -> int:
        self._now()
        return resharding.update_shard_count(self.account, self.update_delay, stream_name, target_shard_count)

    # -- for simulations ----------------------------------------------------------------------------
    def appender(self, stream_name: str, partition_keys: Sequence[str], codec: PayloadCodec) -> Appender:
        """Appends records of these keys to the stream at their own arrival times, as values of ``codec``
        (see ``Appender``): the way a simulation's producers write, through the same write primitive."""
        return Appender(lambda: self.account.writable(stream_name), partition_keys, codec, self.clock.now)

    def limit_shards(self, stream_name: str, shard_limits: Optional[ShardLimits],
                     shard_ids: Optional[Sequence[str]] = None) -> None:
        """Give these shards these throughput limits (a scripted throttle; not a Kinesis call). Shard ids
        None: every shard, and every shard opened from now on. Limits None: the stream's own again."""
        stream = self.account.stream(stream_name)
        if shard_ids is None:
            stream.set_limits(self.account.shard_limits if shard_limits is None else shard_limits)
            return
        for shard_id in shard_ids:
            shard = stream.shards.get(shard_id)
            if shard is None:
                raise errors.ResourceNotFoundException(f"Shard {shard_id} in stream {stream_name} under account "
                                                       f"{self.account_id} does not exist")
            shard.set_limits(self.clock.now(), stream.shard_limits if shard_limits is None else shard_limits)

    def limit_all(self, shard_limits: Optional[ShardLimits]) -> None:
        """Give every shard of every stream, and every shard made from now on, these throughput limits (a
        scripted throttle; not a Kinesis call). None: the service's again (or none, with throttling off)."""
        if shard_limits is None:
            shard_limits = SERVICE_LIMITS if self._throttling else None
        self.account.shard_limits = shard_limits
        for stream in self.account.streams.values():
            stream.set_limits(shard_limits)

    def shards_of(self, stream_name: str) -> dict[str, object]:
        """The stream's shards by id, closed ones included (read only: for reports and benchmarks)."""
        return dict(self.account.stream(stream_name).shards)


def _settle(stream: StreamState, from_status: StreamStatus) -> None:
    """A creation or update delay has run out: the stream is ACTIVE (unless something else has happened)."""
    if stream.status is from_status:
        stream.status = StreamStatus.ACTIVE

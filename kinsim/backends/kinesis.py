"""``KinesisBackend``: the ``Backend`` interface over the real Kinesis API, through boto3.

It talks to AWS, or to kinesalite or moto's server by ``endpoint_url``; region and profile are taken
the way awscli takes them (arguments, then ``AWS_PROFILE``/``AWS_DEFAULT_REGION`` and the config files).
This is the only module that imports boto3 and botocore types; their errors are mapped to kinsim's at
the border (``_mapped``), the API's error code kept, and no botocore type escapes.

What a careful producer and consumer do, it does, so no record is lost silently:

- throttled calls and the failed records of a partially failed PutRecords are retried after a capped
  exponential backoff with full jitter; a record still failing after the last attempt comes back as a
  ``PutFailure`` (a batch) or an exception (a single put), never dropped;
- a put whose answer was lost (a timeout, a dropped connection, a 5xx) is sent again, and counted in
  ``stats.possible_duplicates``: the first may have been written;
- an expired iterator is renewed after the last sequence number read from it;
- shards are listed page by page with ``NextToken`` alone (boto3's own paginator resends the stream
  name, which the service refuses past the first page).
"""

from __future__ import annotations

import random
import time
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Callable, Iterator, Optional, Sequence, Union

import boto3
import botocore.exceptions
from botocore.config import Config

from .. import errors
from ..records import (
    GetRecordsResult,
    IteratorType,
    PutEntry,
    PutFailure,
    PutOutcome,
    PutResult,
    Shard,
    StreamDescription,
    StreamStatus,
)
from ..wire import (
    child_shard_from_wire,
    record_from_wire,
    shard_from_wire,
    timestamp_from_wire,
)
from .base import Backend

__all__ = ["KinesisBackend", "RetryPolicy", "KinesisStats"]

_RETRYABLE_CODES = {"ProvisionedThroughputExceededException", "LimitExceededException", "ThrottlingException",
                    "InternalFailure", "ServiceUnavailable", "KMSThrottlingException"}
_AMBIGUOUS_CODES = {"InternalFailure", "ServiceUnavailable"}  # the write may have happened


class _Ambiguous(Exception):
    """A call whose answer was lost: it may or may not have taken effect."""

    def __init__(self, error: errors.KinsimError) -> None:
        super().__init__(str(error))
        self.error = error


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 10          # calls in all, the first included
    base_s: float = 0.05        # the first backoff's ceiling
    cap_s: float = 5.0          # no backoff is longer

    def backoff(self, attempt: int, rng: random.Random) -> float:
        """Full jitter: uniform over [0, min(cap, base * 2**attempt)]."""
        return rng.uniform(0.0, min(self.cap_s, self.base_s * 2**attempt))


@dataclass
class KinesisStats:
    retried_calls: int = 0
    retried_records: int = 0
    possible_duplicates: int = 0   # records sent again after an answer was lost
    renewed_iterators: int = 0


@dataclass
class _Chain:
    """Where an iterator chain reads, so an expired iterator can be renewed."""

    stream: str
    shard_id: str
    last_sequence: Optional[str]
    kind: IteratorType
    start_sequence: Optional[str]
    timestamp: Optional[float]


class KinesisBackend(Backend):
    name = "kinesis"

    def __init__(self, client=None, *, endpoint_url: Optional[str] = None, region: Optional[str] = None,
                 profile: Optional[str] = None, retry: RetryPolicy = RetryPolicy(),
                 sleep: Callable[[float], None] = time.sleep, rng: Optional[random.Random] = None,
                 wall_clock: Callable[[], float] = time.time, wait_timeout_s: float = 300.0,
                 shard_page_size: Optional[int] = None) -> None:
        if client is None:
            with _mapped("connect"):
                session = boto3.session.Session(profile_name=profile, region_name=region)
                client = session.client("kinesis", endpoint_url=endpoint_url,
                                        config=Config(retries={"max_attempts": 1, "mode": "standard"}))
        self.client = client
        self.region = getattr(getattr(client, "meta", None), "region_name", region)
        self.retry = retry
        self.stats = KinesisStats()
        self._sleep = sleep
        self._rng = rng if rng is not None else random.Random(0)
        self._wall_clock = wall_clock
        self._wait_timeout_s = wait_timeout_s
        self._chains: dict[str, _Chain] = {}
        self._page = {} if shard_page_size is None else {"MaxResults": shard_page_size}

    # -- calling the service ------------------------------------------------------------------------
    def _call(self, operation: str, **params):
        """One API call, retried while the service throttles or fails transiently."""
        method = getattr(self.client, operation)
        for attempt in range(self.retry.attempts):
            try:
                with _mapped(operation):
                    return method(**params)
            except _Ambiguous as lost:
                if attempt + 1 == self.retry.attempts:
                    raise lost.error from None
                if operation == "put_record":
                    self.stats.possible_duplicates += 1
                elif operation == "put_records":
                    self.stats.possible_duplicates += len(params["Records"])
            except errors.KinesisError as exc:
                if exc.code not in _RETRYABLE_CODES or attempt + 1 == self.retry.attempts:
                    raise
            self.stats.retried_calls += 1
            self._sleep(self.retry.backoff(attempt, self._rng))
        raise AssertionError("unreachable")

    def _wait_for(self, stream_name: str, done: Callable[[Optional[StreamStatus]], bool]) -> None:
        deadline = self._wall_clock() + self._wait_timeout_s
        delay = 0.05
        while True:
            try:
                status = StreamStatus(self._call("describe_stream_summary", StreamName=stream_name)
                                      ["StreamDescriptionSummary"]["StreamStatus"])
            except errors.ResourceNotFoundException:
                status = None
            if done(status):
                return
            if self._wall_clock() > deadline:
                raise errors.BackendError(f"stream {stream_name} is still {status.value if status else 'absent'} "
                                          f"after {self._wait_timeout_s:g} s")
            self._sleep(delay)
            delay = min(1.0, delay * 2)

    # -- streams ------------------------------------------------------------------------------------
    def create_stream(self, stream_name: str, shard_count: int) -> None:
        """Create the stream and wait until it is ACTIVE."""
        self._call("create_stream", StreamName=stream_name, ShardCount=shard_count)
        self._wait_for(stream_name, lambda status: status is StreamStatus.ACTIVE)

    def delete_stream(self, stream_name: str) -> None:
        """Delete the stream and wait until it is gone."""
        self._call("delete_stream", StreamName=stream_name)
        self._wait_for(stream_name, lambda status: status is None)

    def describe_stream(self, stream_name: str) -> StreamDescription:
        summary = self._call("describe_stream_summary", StreamName=stream_name)["StreamDescriptionSummary"]
        return StreamDescription(summary["StreamName"], summary["StreamARN"], StreamStatus(summary["StreamStatus"]),
                                 tuple(self.list_shards(stream_name)), summary["RetentionPeriodHours"],
                                 timestamp_from_wire(summary["StreamCreationTimestamp"]))

    def list_streams(self) -> list[str]:
        names: list[str] = []
        params: dict = {}
        while True:
            page = self._call("list_streams", **params)
            names += page["StreamNames"]
            if not page.get("HasMoreStreams") or not page["StreamNames"]:
                return sorted(names)
            params = {"NextToken": page["NextToken"]} if page.get("NextToken") else \
                {"ExclusiveStartStreamName": page["StreamNames"][-1]}

    def list_shards(self, stream_name: str) -> list[Shard]:
        shards: list[Shard] = []
        page = self._call("list_shards", StreamName=stream_name, **self._page)
        while True:
            shards += [shard_from_wire(s) for s in page["Shards"]]
            if not page.get("NextToken"):
                return shards
            page = self._call("list_shards", NextToken=page["NextToken"], **self._page)

    def set_retention_period(self, stream_name: str, hours: int, *, increase: bool) -> None:
        operation = "increase_stream_retention_period" if increase else "decrease_stream_retention_period"
        self._call(operation, StreamName=stream_name, RetentionPeriodHours=hours)

    # -- records ------------------------------------------------------------------------------------
    def put_record(self, stream_name: str, data: bytes, partition_key: str,
                   explicit_hash_key: Optional[str] = None,
                   sequence_number_for_ordering: Optional[str] = None) -> PutResult:
        params = {"StreamName": stream_name, "Data": data, "PartitionKey": partition_key}
        if explicit_hash_key is not None:
            params["ExplicitHashKey"] = explicit_hash_key
        if sequence_number_for_ordering is not None:
            params["SequenceNumberForOrdering"] = sequence_number_for_ordering
        response = self._call("put_record", **params)
        return PutResult(response["ShardId"], response["SequenceNumber"])

    def put_records(self, stream_name: str, entries: Sequence[PutEntry]) -> list[PutOutcome]:
        """Every entry's outcome in order; failed entries are sent again until they succeed or the
        attempts run out, and then come back as ``PutFailure``."""
        outcomes: list[Optional[PutOutcome]] = [None] * len(entries)
        pending = list(range(len(entries)))
        for attempt in range(self.retry.attempts):
            records = []
            for i in pending:
                record = {"Data": entries[i].data, "PartitionKey": entries[i].partition_key}
                if entries[i].explicit_hash_key is not None:
                    record["ExplicitHashKey"] = entries[i].explicit_hash_key
                records.append(record)
            response = self._call("put_records", StreamName=stream_name, Records=records)
            still = []
            for i, result in zip(pending, response["Records"]):
                if "ErrorCode" in result:
                    outcomes[i] = PutFailure(result["ErrorCode"], result.get("ErrorMessage", ""))
                    still.append(i)
                else:
                    outcomes[i] = PutResult(result["ShardId"], result["SequenceNumber"])
            pending = still
            if not pending or attempt + 1 == self.retry.attempts:
                break
            self.stats.retried_records += len(pending)
            self._sleep(self.retry.backoff(attempt, self._rng))
        return outcomes  # type: ignore[return-value]

    def get_shard_iterator(self, stream_name: str, shard_id: str, iterator_type: Union[IteratorType, str],
                           starting_sequence_number: Optional[str] = None,
                           timestamp: Union[datetime, float, None] = None) -> str:
        kind = IteratorType(iterator_type)
        params = {"StreamName": stream_name, "ShardId": shard_id, "ShardIteratorType": kind.value}
        if starting_sequence_number is not None:
            params["StartingSequenceNumber"] = starting_sequence_number
        if timestamp is not None:
            params["Timestamp"] = timestamp
        if kind is IteratorType.LATEST:  # renewed, it must not skip what arrived since it was issued
            kind, timestamp = IteratorType.AT_TIMESTAMP, self._wall_clock()
        iterator = self._call("get_shard_iterator", **params)["ShardIterator"]
        moment = None if timestamp is None else timestamp_from_wire(timestamp)
        self._chains[iterator] = _Chain(stream_name, shard_id, None, kind, starting_sequence_number, moment)
        return iterator

    def _renew(self, chain: _Chain) -> str:
        self.stats.renewed_iterators += 1
        if chain.last_sequence is not None:
            return self.get_shard_iterator(chain.stream, chain.shard_id, IteratorType.AFTER_SEQUENCE_NUMBER,
                                           chain.last_sequence)
        return self.get_shard_iterator(chain.stream, chain.shard_id, chain.kind, chain.start_sequence,
                                       chain.timestamp)

    def get_records(self, shard_iterator: str, limit: Optional[int] = None) -> GetRecordsResult:
        chain = self._chains.pop(shard_iterator, None)
        params = {} if limit is None else {"Limit": limit}
        try:
            response = self._call("get_records", ShardIterator=shard_iterator, **params)
        except errors.ExpiredIteratorException:
            if chain is None:
                raise
            renewed = self._renew(chain)
            response = self._call("get_records", ShardIterator=renewed, **params)
            chain = self._chains.pop(renewed)
        records = tuple(record_from_wire(r) for r in response["Records"])
        next_iterator = response.get("NextShardIterator")
        if next_iterator is not None and chain is not None:
            if records:
                chain.last_sequence = records[-1].sequence_number
            self._chains[next_iterator] = chain
        children = tuple(child_shard_from_wire(c) for c in response.get("ChildShards", ()))
        return GetRecordsResult(records, next_iterator, response.get("MillisBehindLatest", 0), children)

    # -- resharding ---------------------------------------------------------------------------------
    def split_shard(self, stream_name: str, shard_id: str, new_starting_hash_key: str) -> None:
        self._call("split_shard", StreamName=stream_name, ShardToSplit=shard_id,
                   NewStartingHashKey=str(new_starting_hash_key))
        self._wait_for(stream_name, lambda status: status is StreamStatus.ACTIVE)

    def merge_shards(self, stream_name: str, shard_id: str, adjacent_shard_id: str) -> None:
        self._call("merge_shards", StreamName=stream_name, ShardToMerge=shard_id,
                   AdjacentShardToMerge=adjacent_shard_id)
        self._wait_for(stream_name, lambda status: status is StreamStatus.ACTIVE)

    def update_shard_count(self, stream_name: str, target_shard_count: int) -> int:
        response = self._call("update_shard_count", StreamName=stream_name, TargetShardCount=target_shard_count,
                              ScalingType="UNIFORM_SCALING")
        self._wait_for(stream_name, lambda status: status is StreamStatus.ACTIVE)
        return response["CurrentShardCount"]

    def close(self) -> None:
        close = getattr(self.client, "close", None)
        if close is not None:
            close()


@contextmanager
def _mapped(operation: str) -> Iterator[None]:
    """botocore's errors as kinsim's, most specific first; the cause is kept."""
    try:
        yield
    except botocore.exceptions.ClientError as exc:
        error = exc.response.get("Error", {})
        code, message = error.get("Code", "Unknown"), error.get("Message", "")
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 400)
        mapped = errors.kinesis_error(code, message)
        if code in _AMBIGUOUS_CODES or status >= 500:
            raise _Ambiguous(mapped) from exc
        raise mapped from exc
    except botocore.exceptions.ParamValidationError as exc:
        raise errors.ValidationException(str(exc)) from exc
    except (botocore.exceptions.NoCredentialsError, botocore.exceptions.PartialCredentialsError,
            botocore.exceptions.NoRegionError, botocore.exceptions.ProfileNotFound) as exc:
        raise errors.BackendError(f"cannot call Kinesis ({operation}): {exc}") from exc
    except (botocore.exceptions.ReadTimeoutError, botocore.exceptions.ConnectionClosedError) as exc:
        raise _Ambiguous(errors.BackendError(f"{operation} got no answer: {exc}")) from exc
    except botocore.exceptions.EndpointConnectionError as exc:
        raise errors.BackendError(f"cannot reach Kinesis ({operation}): {exc}") from exc
    except botocore.exceptions.BotoCoreError as exc:
        raise errors.BackendError(f"{operation} failed: {exc}") from exc

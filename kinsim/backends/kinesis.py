"""``KinesisBackend``: the ``Backend`` interface over the real Kinesis API, through boto3.

It talks to AWS, or to kinesalite or moto's server by ``endpoint_url``; region and profile are taken
the way awscli takes them (arguments, then ``AWS_PROFILE``/``AWS_DEFAULT_REGION`` and the config files).
This is the only backend that imports boto3 and botocore; their errors are mapped to kinsim's at the
border (``_mapped``), most specific first, the API's error code and the cause kept, and no botocore
type escapes.

It is the raw service: one API call per call (boto3's own retries are off), so a throttled call, a
partly failed batch or an expired iterator comes back as the service answered it, and a call whose
answer was lost (a timeout, a dropped connection, a 5xx) is an ``AnswerLostError``. Listing pages
through ``NextToken`` alone (boto3's own paginator resends the stream name, which the service refuses
past the first page). Retrying, renewing and waiting are the caller's: the simulation's actors, or
``kinsim.backends.retrying.RetryingBackend`` over any backend.
"""

from __future__ import annotations

import time
from contextlib import contextmanager
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
    Records,
    Shard,
    StreamDescription,
    StreamStatus,
)
from ..wire import child_shard_from_wire, record_from_wire, shard_from_wire, timestamp_from_wire
from .base import Backend

__all__ = ["KinesisBackend"]

_LOST_ANSWER_CODES = {"InternalFailure", "ServiceUnavailable", "InternalFailureException"}  # may have happened


class KinesisBackend(Backend):
    name = "kinesis"

    def __init__(self, client=None, *, endpoint_url: Optional[str] = None, region: Optional[str] = None,
                 profile: Optional[str] = None, wall_clock: Callable[[], float] = time.time,
                 shard_page_size: Optional[int] = None) -> None:
        if client is None:
            with _mapped("connect"):
                session = boto3.session.Session(profile_name=profile, region_name=region)
                client = session.client("kinesis", endpoint_url=endpoint_url,
                                        config=Config(retries={"max_attempts": 1, "mode": "standard"}))
        self.client = client
        self.region = getattr(getattr(client, "meta", None), "region_name", region)
        self._wall_clock = wall_clock
        self._page = {} if shard_page_size is None else {"MaxResults": shard_page_size}

    def now(self) -> float:
        """The service keeps its own time: the wall clock here is the best guess of it."""
        return self._wall_clock()

    def _call(self, operation: str, **params):
        """One API call, its errors mapped."""
        with _mapped(operation):
            return getattr(self.client, operation)(**params)

    # -- streams ------------------------------------------------------------------------------------
    def create_stream(self, stream_name: str, shard_count: int) -> None:
        self._call("create_stream", StreamName=stream_name, ShardCount=shard_count)

    def delete_stream(self, stream_name: str) -> None:
        self._call("delete_stream", StreamName=stream_name)

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
        records = []
        for entry in entries:
            record = {"Data": entry.data, "PartitionKey": entry.partition_key}
            if entry.explicit_hash_key is not None:
                record["ExplicitHashKey"] = entry.explicit_hash_key
            records.append(record)
        response = self._call("put_records", StreamName=stream_name, Records=records)
        return [PutFailure(r["ErrorCode"], r.get("ErrorMessage", "")) if "ErrorCode" in r else
                PutResult(r["ShardId"], r["SequenceNumber"]) for r in response["Records"]]

    def get_shard_iterator(self, stream_name: str, shard_id: str, iterator_type: Union[IteratorType, str],
                           starting_sequence_number: Optional[str] = None,
                           timestamp: Union[datetime, float, None] = None) -> str:
        params = {"StreamName": stream_name, "ShardId": shard_id,
                  "ShardIteratorType": IteratorType(iterator_type).value}
        if starting_sequence_number is not None:
            params["StartingSequenceNumber"] = starting_sequence_number
        if timestamp is not None:
            params["Timestamp"] = timestamp
        return self._call("get_shard_iterator", **params)["ShardIterator"]

    def get_records(self, shard_iterator: str, limit: Optional[int] = None) -> GetRecordsResult:
        params = {} if limit is None else {"Limit": limit}
        response = self._call("get_records", ShardIterator=shard_iterator, **params)
        records = Records.of([record_from_wire(r) for r in response["Records"]])
        children = tuple(child_shard_from_wire(c) for c in response.get("ChildShards", ()))
        return GetRecordsResult(records, response.get("NextShardIterator"), response.get("MillisBehindLatest", 0),
                                children)

    # -- resharding ---------------------------------------------------------------------------------
    def split_shard(self, stream_name: str, shard_id: str, new_starting_hash_key: str) -> None:
        self._call("split_shard", StreamName=stream_name, ShardToSplit=shard_id,
                   NewStartingHashKey=str(new_starting_hash_key))

    def merge_shards(self, stream_name: str, shard_id: str, adjacent_shard_id: str) -> None:
        self._call("merge_shards", StreamName=stream_name, ShardToMerge=shard_id,
                   AdjacentShardToMerge=adjacent_shard_id)

    def update_shard_count(self, stream_name: str, target_shard_count: int) -> int:
        response = self._call("update_shard_count", StreamName=stream_name, TargetShardCount=target_shard_count,
                              ScalingType="UNIFORM_SCALING")
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
        if code in _LOST_ANSWER_CODES or status >= 500:
            raise errors.AnswerLostError(operation, f"{code}: {message}", code) from exc
        raise errors.kinesis_error(code, message) from exc
    except botocore.exceptions.ParamValidationError as exc:
        raise errors.ValidationException(str(exc)) from exc
    except (botocore.exceptions.NoCredentialsError, botocore.exceptions.PartialCredentialsError,
            botocore.exceptions.NoRegionError, botocore.exceptions.ProfileNotFound) as exc:
        raise errors.BackendError(f"cannot call Kinesis ({operation}): {exc}") from exc
    except (botocore.exceptions.ReadTimeoutError, botocore.exceptions.ConnectionClosedError) as exc:
        raise errors.AnswerLostError(operation, str(exc)) from exc
    except botocore.exceptions.EndpointConnectionError as exc:
        raise errors.BackendError(f"cannot reach Kinesis ({operation}): {exc}") from exc
    except botocore.exceptions.BotoCoreError as exc:
        raise errors.BackendError(f"{operation} failed: {exc}") from exc

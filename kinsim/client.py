"""A boto3-shaped Kinesis client over any kinsim backend.

``kinsim.client()`` answers like ``boto3.client("kinesis")``: the same method and parameter names, the
same response dictionaries, parameters checked by botocore's own validator against the API model it
ships, and errors raised as ``botocore.exceptions.ClientError`` carrying the real ``Error.Code`` —
also reachable as ``client.exceptions.<Code>``. Code written against boto3 runs here unchanged.

One difference on purpose: boto3 retries throttled calls by itself a few times; this client answers
each call once, so a ``ProvisionedThroughputExceededException`` reaches the caller at once.
"""

from __future__ import annotations

import base64
import functools
import types
from typing import Any, Callable, Optional

import botocore.session
from botocore.errorfactory import ClientExceptionsFactory
from botocore.exceptions import ParamValidationError
from botocore.hooks import HierarchicalEmitter
from botocore.paginate import Paginator
from botocore.serialize import JSONSerializer
from botocore.validate import ParamValidator
from botocore.waiter import create_waiter_with_client

from . import wire
from .backends.base import Backend
from .errors import InvalidArgumentException, KinesisError
from .records import PutEntry, PutFailure, Shard

__all__ = ["KinesisClient"]

Params = dict[str, Any]
_SERIALIZER = JSONSerializer()  # with boto3's default timestamp precision


@functools.lru_cache(maxsize=None)
def _botocore_session() -> botocore.session.Session:
    return botocore.session.get_session()


@functools.lru_cache(maxsize=None)
def _service_model():
    return _botocore_session().get_service_model("kinesis")


@functools.lru_cache(maxsize=None)
def _exceptions():
    return ClientExceptionsFactory().create_client_exceptions(_service_model())


def _api(operation_name: str) -> Callable[..., Params]:
    def method(self: "KinesisClient", **params: Any) -> Params:
        return self._call(operation_name, params)

    method.__name__ = botocore.xform_name(operation_name)
    method.__doc__ = f"Kinesis ``{operation_name}``, with boto3's parameters and response."
    return method


def _stream_name(params: Params) -> str:
    """The stream a request names, by ``StreamName`` or by ``StreamARN``."""
    if params.get("StreamName") is not None:
        return params["StreamName"]
    arn = params.get("StreamARN")
    if arn is not None:
        return arn.rsplit("/", 1)[-1]
    raise InvalidArgumentException("Either StreamName or StreamARN should be provided.")


def _timestamp(value: Any) -> Optional[float]:
    """A timestamp parameter as this botocore's JSON serializer puts it on the wire (whole seconds up to
    botocore 1.43, full precision since), so AT_TIMESTAMP starts where boto3 would."""
    if value is None:
        return None
    return float(_SERIALIZER._convert_timestamp_to_str(value, "unixtimestamp"))


def _page(items: list, limit: int) -> tuple[list, bool]:
    return items[:limit], len(items) > limit


class KinesisClient:
    """The subset of ``boto3.client("kinesis")`` that kinsim's backends serve."""

    create_stream = _api("CreateStream")
    delete_stream = _api("DeleteStream")
    describe_stream = _api("DescribeStream")
    describe_stream_summary = _api("DescribeStreamSummary")
    list_streams = _api("ListStreams")
    list_shards = _api("ListShards")
    increase_stream_retention_period = _api("IncreaseStreamRetentionPeriod")
    decrease_stream_retention_period = _api("DecreaseStreamRetentionPeriod")
    put_record = _api("PutRecord")
    put_records = _api("PutRecords")
    get_shard_iterator = _api("GetShardIterator")
    get_records = _api("GetRecords")
    split_shard = _api("SplitShard")
    merge_shards = _api("MergeShards")
    update_shard_count = _api("UpdateShardCount")

    def __init__(self, backend: Backend) -> None:
        self.backend = backend
        self.exceptions = _exceptions()
        self.meta = types.SimpleNamespace(service_model=_service_model(), events=HierarchicalEmitter(),
                                          region_name=getattr(backend, "region", "us-east-1"))
        self._validator = ParamValidator()
        self._requests = 0

    def __repr__(self) -> str:
        return f"<kinsim KinesisClient over {self.backend.name}>"

    # -- boto3's conveniences -----------------------------------------------------------------------
    def can_paginate(self, operation_name: str) -> bool:
        return _botocore_session().get_paginator_model("kinesis")._paginator_config.get(
            self._operation(operation_name)) is not None

    def get_paginator(self, operation_name: str) -> Paginator:
        name = self._operation(operation_name)
        config = _botocore_session().get_paginator_model("kinesis").get_paginator(name)
        return Paginator(getattr(self, operation_name), config, _service_model().operation_model(name))

    def get_waiter(self, waiter_name: str):
        model = _botocore_session().get_waiter_model("kinesis")
        return create_waiter_with_client(_waiter_name(model, waiter_name), model, self)

    def close(self) -> None:
        self.backend.close()

    @staticmethod
    def _operation(method_name: str) -> str:
        for name in _service_model().operation_names:
            if botocore.xform_name(name) == method_name:
                return name
        raise ValueError(f"no Kinesis operation is called {method_name}")

    # -- one call -----------------------------------------------------------------------------------
    def _metadata(self, status: int) -> Params:
        self._requests += 1
        request_id = f"00000000-0000-4000-8000-{self._requests:012d}"
        return {"RequestId": request_id, "HTTPStatusCode": status,
                "HTTPHeaders": {"x-amzn-requestid": request_id}, "RetryAttempts": 0}

    def _call(self, operation_name: str, params: Params) -> Params:
        shape = _service_model().operation_model(operation_name).input_shape
        report = self._validator.validate(params, shape)
        if report.has_errors():
            raise ParamValidationError(report=report.generate_report())
        handler = getattr(self, "_do_" + botocore.xform_name(operation_name))
        try:
            response = handler(params)
        except KinesisError as exc:
            error = {"Error": {"Code": exc.code, "Message": exc.message}, "ResponseMetadata": self._metadata(400)}
            raise self.exceptions.from_code(exc.code)(error, operation_name) from exc
        response["ResponseMetadata"] = self._metadata(200)
        return response

    # -- streams ------------------------------------------------------------------------------------
    def _do_create_stream(self, p: Params) -> Params:
        self.backend.create_stream(p.get("StreamName"), p.get("ShardCount"))
        return {}

    def _do_delete_stream(self, p: Params) -> Params:
        self.backend.delete_stream(_stream_name(p))
        return {}

    def _do_describe_stream(self, p: Params) -> Params:
        description = self.backend.describe_stream(_stream_name(p))
        shards = sorted(description.shards, key=lambda s: s.shard_id)
        start = p.get("ExclusiveStartShardId")
        if start is not None:
            shards = [s for s in shards if s.shard_id > start]
        page, more = _page(shards, p.get("Limit", 100))
        return {"StreamDescription": wire.stream_description_to_wire(description, page, more)}

    def _do_describe_stream_summary(self, p: Params) -> Params:
        d = self.backend.describe_stream(_stream_name(p))
        return {"StreamDescriptionSummary": {
            "StreamName": d.name, "StreamARN": d.arn, "StreamStatus": d.status.value,
            "StreamModeDetails": {"StreamMode": "PROVISIONED"}, "RetentionPeriodHours": d.retention_period_hours,
            "StreamCreationTimestamp": wire.timestamp_to_wire(d.created_at),
            "EnhancedMonitoring": [{"ShardLevelMetrics": []}], "EncryptionType": "NONE",
            "OpenShardCount": d.open_shard_count, "ConsumerCount": 0}}

    def _do_list_streams(self, p: Params) -> Params:
        names = self.backend.list_streams()
        start = p.get("ExclusiveStartStreamName")
        if p.get("NextToken") is not None:
            start = _decode_token(p["NextToken"])
        if start is not None:
            names = [n for n in names if n > start]
        page, more = _page(names, p.get("Limit", 100))
        summaries = []
        for name in page:
            d = self.backend.describe_stream(name)
            summaries.append({"StreamName": d.name, "StreamARN": d.arn, "StreamStatus": d.status.value,
                              "StreamModeDetails": {"StreamMode": "PROVISIONED"},
                              "StreamCreationTimestamp": wire.timestamp_to_wire(d.created_at)})
        response: Params = {"StreamNames": page, "HasMoreStreams": more, "StreamSummaries": summaries}
        if more:
            response["NextToken"] = _encode_token(page[-1])
        return response

    def _do_list_shards(self, p: Params) -> Params:
        token = p.get("NextToken")
        for other in ("StreamName", "StreamARN", "ExclusiveStartShardId", "StreamCreationTimestamp"):
            if token is not None and p.get(other) is not None:
                raise InvalidArgumentException(f"NextToken and {other} cannot be provided together.")
        if token is not None:
            stream_name, after = _decode_token(token).split("/", 1)
        else:
            stream_name, after = _stream_name(p), p.get("ExclusiveStartShardId")
        shards = sorted(self.backend.list_shards(stream_name), key=lambda s: s.shard_id)
        shards = _filter_shards(shards, p.get("ShardFilter"))
        if after:
            shards = [s for s in shards if s.shard_id > after]
        page, more = _page(shards, p.get("MaxResults", 1000))
        response: Params = {"Shards": [wire.shard_to_wire(s) for s in page]}
        if more:
            response["NextToken"] = _encode_token(f"{stream_name}/{page[-1].shard_id}")
        return response

    def _do_increase_stream_retention_period(self, p: Params) -> Params:
        self.backend.set_retention_period(_stream_name(p), p.get("RetentionPeriodHours"), increase=True)
        return {}

    def _do_decrease_stream_retention_period(self, p: Params) -> Params:
        self.backend.set_retention_period(_stream_name(p), p.get("RetentionPeriodHours"), increase=False)
        return {}

    # -- records ------------------------------------------------------------------------------------
    def _do_put_record(self, p: Params) -> Params:
        result = self.backend.put_record(_stream_name(p), _data(p.get("Data")), p.get("PartitionKey"),
                                         p.get("ExplicitHashKey"), p.get("SequenceNumberForOrdering"))
        return {"ShardId": result.shard_id, "SequenceNumber": result.sequence_number}

    def _do_put_records(self, p: Params) -> Params:
        entries = [PutEntry(_data(r.get("Data")), r.get("PartitionKey"), r.get("ExplicitHashKey"))
                   for r in p.get("Records", ())]
        outcomes = self.backend.put_records(_stream_name(p), entries)
        records = [
            {"ErrorCode": o.error_code, "ErrorMessage": o.error_message} if isinstance(o, PutFailure)
            else {"SequenceNumber": o.sequence_number, "ShardId": o.shard_id}
            for o in outcomes
        ]
        return {"FailedRecordCount": sum(isinstance(o, PutFailure) for o in outcomes), "Records": records}

    def _do_get_shard_iterator(self, p: Params) -> Params:
        iterator = self.backend.get_shard_iterator(_stream_name(p), p.get("ShardId"), p.get("ShardIteratorType"),
                                                   p.get("StartingSequenceNumber"), _timestamp(p.get("Timestamp")))
        return {"ShardIterator": iterator}

    def _do_get_records(self, p: Params) -> Params:
        return wire.get_records_to_wire(self.backend.get_records(p.get("ShardIterator"), p.get("Limit")))

    # -- resharding ---------------------------------------------------------------------------------
    def _do_split_shard(self, p: Params) -> Params:
        self.backend.split_shard(_stream_name(p), p.get("ShardToSplit"), p.get("NewStartingHashKey"))
        return {}

    def _do_merge_shards(self, p: Params) -> Params:
        self.backend.merge_shards(_stream_name(p), p.get("ShardToMerge"), p.get("AdjacentShardToMerge"))
        return {}

    def _do_update_shard_count(self, p: Params) -> Params:
        name = _stream_name(p)
        current = self.backend.update_shard_count(name, p.get("TargetShardCount"))
        arn = self.backend.describe_stream(name).arn
        return {"StreamName": name, "CurrentShardCount": current, "TargetShardCount": p.get("TargetShardCount"),
                "StreamARN": arn}


def _waiter_name(model, method_name: str) -> str:
    """boto3 names waiters in snake case (``stream_exists``); the model in CamelCase."""
    for name in model.waiter_names:
        if botocore.xform_name(name) == method_name:
            return name
    raise ValueError(f"no Kinesis waiter is called {method_name}")


def _data(value: Any) -> Optional[bytes]:
    """boto3 takes Data as bytes, a file-like object or text (sent as UTF-8)."""
    if value is None:
        return None
    if isinstance(value, str):
        return value.encode("utf-8")
    if hasattr(value, "read"):
        return value.read()
    return bytes(value)


def _encode_token(value: str) -> str:
    return base64.b64encode(value.encode("utf-8")).decode("ascii")


def _decode_token(token: str) -> str:
    try:
        return base64.b64decode(token.encode("ascii"), validate=True).decode("utf-8")
    except ValueError:
        raise InvalidArgumentException(f"NextToken {token} is invalid.") from None


def _filter_shards(shards: list[Shard], shard_filter: Optional[Params]) -> list[Shard]:
    """ListShards' ShardFilter over the listed shards (open ones and closed ones still retained)."""
    if not shard_filter:
        return shards
    kind = shard_filter["Type"]
    if kind == "AT_LATEST":
        return [s for s in shards if s.is_open]
    if kind == "AFTER_SHARD_ID":
        if shard_filter.get("ShardId") is None:
            raise InvalidArgumentException("ShardId must be specified with ShardFilter type AFTER_SHARD_ID.")
        return [s for s in shards if s.shard_id > shard_filter["ShardId"]]
    if kind == "FROM_TRIM_HORIZON":
        return shards
    if kind == "AT_TRIM_HORIZON":
        listed = {s.shard_id for s in shards}
        return [s for s in shards if s.parent_shard_id not in listed and s.adjacent_parent_shard_id not in listed]
    raise InvalidArgumentException(f"ShardFilter type {kind} is not supported by kinsim's simulated shards.")

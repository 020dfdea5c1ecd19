"""A boto3-shaped Kinesis client over any kinsim backend: a thin adapter on the api layer.

``kinsim.client()`` answers like ``boto3.client("kinesis")``: the same method and parameter names, the
same response dictionaries, parameters checked by botocore's own validator against the API model it
ships, and errors raised as ``botocore.exceptions.ClientError`` carrying the real ``Error.Code`` —
also reachable as ``client.exceptions.<Code>``. Code written against boto3 runs here unchanged.

Everything the service does is ``kinsim.api``'s; this adapter only puts values in boto3's forms on the
way in (blobs given as text or files, timestamps as this botocore serialises them) and out (timestamps
as aware datetimes in the local zone, to the millisecond, as boto3 parses them).

One difference on purpose: boto3 retries throttled calls by itself a few times; this client answers
each call once, so a ``ProvisionedThroughputExceededException`` reaches the caller at once.
"""

from __future__ import annotations

import functools
import types
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Optional

import botocore.session
from botocore.errorfactory import ClientExceptionsFactory
from botocore.exceptions import ParamValidationError
from botocore.hooks import HierarchicalEmitter
from botocore.paginate import Paginator
from botocore.serialize import JSONSerializer
from botocore.validate import ParamValidator
from botocore.waiter import create_waiter_with_client
from dateutil.tz import tzlocal

from .api import KinesisApi
from .backends.base import Backend
from .errors import KinesisError
from .wire import shape_converter, shown_millis

__all__ = ["KinesisClient"]

Params = dict[str, Any]
_SERIALIZER = JSONSerializer()  # with boto3's default timestamp precision
_LOCAL_ZONE = tzlocal()          # one for every timestamp: building one per record was most of a read's time


@functools.lru_cache(maxsize=None)
def _botocore_session() -> botocore.session.Session:
    return botocore.session.get_session()


@functools.lru_cache(maxsize=None)
def _service_model():
    return _botocore_session().get_service_model("kinesis")


@functools.lru_cache(maxsize=None)
def _exceptions():
    return ClientExceptionsFactory().create_client_exceptions(_service_model())


@functools.lru_cache(maxsize=None)
def _modeled_message(code: str) -> bool:
    """Whether the model's shape for this error code has a ``message`` member."""
    shape = _service_model().shape_for_error_code(code)
    return shape is not None and "message" in shape.members


def _api(operation_name: str) -> Callable[..., Params]:
    def method(self: "KinesisClient", **params: Any) -> Params:
        return self._call(operation_name, params)

    method.__name__ = botocore.xform_name(operation_name)
    method.__doc__ = f"Kinesis ``{operation_name}``, with boto3's parameters and response."
    return method


def _timestamp_in(value: Any) -> float:
    """A timestamp parameter as this botocore's JSON serializer puts it on the wire (whole seconds up to
    botocore 1.43, full precision since), so AT_TIMESTAMP starts where boto3 would; one it cannot put
    there is a ``ParamValidationError``, as botocore's own check would say."""
    try:
        return float(_SERIALIZER._convert_timestamp_to_str(value, "unixtimestamp"))
    except (ValueError, OverflowError, TypeError, OSError) as exc:
        raise ParamValidationError(report=f"Invalid timestamp {value!r}: {exc}") from None


def _blob_in(value: Any) -> bytes:
    """boto3 takes a blob as bytes, a file-like object or text (text, read from a file or not, is sent as
    UTF-8)."""
    if hasattr(value, "read"):
        value = value.read()
    if isinstance(value, str):
        return value.encode("utf-8", "surrogatepass")
    return bytes(value)


def _timestamp_out(instant: float) -> datetime:
    """A time as boto3 returns it: an aware datetime in the local zone (dateutil's ``tzlocal``), to the
    millisecond: what ``datetime.fromtimestamp(millis / 1000, tzlocal())`` gives, made in C from the
    UTC time and the shift ``tzlocal`` gives its second, worked out once a second."""
    millis = shown_millis(instant)
    shift, fold = _local_shift(millis // 1000)
    return (datetime.fromtimestamp(millis / 1000, timezone.utc) + shift).replace(tzinfo=_LOCAL_ZONE, fold=fold)


@functools.lru_cache(maxsize=4096)
def _local_shift(second: int) -> tuple[timedelta, int]:
    """What ``tzlocal`` adds to a UTC time in this whole second to make it local, and the fold it gives.
    It is the same for every instant of the second: tzlocal's offsets are whole seconds, and it asks
    the C library (``time.localtime``) about whole seconds. Building the datetime through tzlocal's
    ``fromutc`` in Python took four fifths of a GetRecords answer of 10,000 records."""
    local = datetime.fromtimestamp(second, _LOCAL_ZONE)
    return local.replace(tzinfo=None) - datetime.fromtimestamp(second, timezone.utc).replace(tzinfo=None), local.fold


@functools.lru_cache(maxsize=None)
def _adapters(operation_name: str) -> tuple[Optional[Callable], Optional[Callable]]:
    """(blobs and timestamps in, timestamps out) converters of one operation."""
    model = _service_model().operation_model(operation_name)
    return (shape_converter(model.input_shape, {"blob": _blob_in, "timestamp": _timestamp_in}, copy=True),
            shape_converter(model.output_shape, {"timestamp": _timestamp_out}, copy=False) if model.output_shape
            else None)


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
        self.api = KinesisApi(backend)
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
        try:
            report = self._validator.validate(params, shape)
        except (ValueError, TypeError, OverflowError, RuntimeError, OSError) as exc:  # botocore's check itself failed
            raise ParamValidationError(report=f"a parameter cannot be checked: {type(exc).__name__}: {exc}") from None
        if report.has_errors():
            raise ParamValidationError(report=report.generate_report())
        values_in, timestamps_out = _adapters(operation_name)
        if values_in is not None:
            params = values_in(params)
        try:
            response = self.api.handle(operation_name, params)
        except KinesisError as exc:
            error = {"Error": {"Code": exc.code, "Message": exc.message}, "ResponseMetadata": self._metadata(400)}
            if _modeled_message(exc.code):  # botocore adds an error shape's members, as it read them
                error["message"] = exc.message
            raise self.exceptions.from_code(exc.code)(error, operation_name) from exc
        if timestamps_out is not None:
            response = timestamps_out(response)
        response["ResponseMetadata"] = self._metadata(200)
        return response


def _waiter_name(model, method_name: str) -> str:
    """boto3 names waiters in snake case (``stream_exists``); the model in CamelCase."""
    for name in model.waiter_names:
        if botocore.xform_name(name) == method_name:
            return name
    raise ValueError(f"no Kinesis waiter is called {method_name}")

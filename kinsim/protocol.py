"""The Kinesis wire protocol: HTTP requests to ``(operation, params)`` and answers back to bytes.

Kinesis speaks JSON 1.1 (``application/x-amz-json-1.1``, what botocore, the AWS CLI and the JavaScript
SDK send) and CBOR 1.1 (``application/x-amz-cbor-1.1``, the Java SDK's default). The operation is named
by the ``X-Amz-Target`` header (``Kinesis_20131202.PutRecords``); the body is one map of parameters.
What differs between the two is how values travel:

- blobs: base64 text in JSON, byte strings in CBOR;
- timestamps: seconds since the epoch as a number in JSON; in CBOR, as the Java SDK writes them,
  tag 1 around whole *milliseconds* (an untagged CBOR number is read as seconds, as in JSON).

Both directions are driven by the API model botocore ships, so every operation the api layer serves is
read and written the same way, and a value of the wrong type is refused as the service refuses it:
``SerializationException`` with the service's message (``class java.lang.String can not be converted
to an Integer``). Members the model does not know are dropped, as the service drops them. Errors go
back with the service's status (400; 500 for ``InternalFailure``; 503 for ``ServiceUnavailable``) and
body (``{"__type": code, "message": text}``).

Parameters leave here in the api layer's Python forms (``bytes``, float seconds): nothing here knows
streams or shards.
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
import math
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Optional

import botocore.session

from .errors import KinesisError, kinesis_error
from .wire import shape_converter, shown_millis

__all__ = ["JSON", "CBOR", "TARGET_PREFIX", "Reply", "read_request", "reply", "error_reply", "status_of",
           "operation_names"]

JSON = "application/x-amz-json-1.1"
CBOR = "application/x-amz-cbor-1.1"
TARGET_PREFIX = "Kinesis_20131202"
_STATUS = {"InternalFailure": 500, "ServiceUnavailable": 503}
_NOT_BASE64 = re.compile(r"[^a-zA-Z0-9+/=]|=[^=]")  # a character out of the alphabet, or padding inside
_INTEGER_MAX = 2**31 - 1  # the service holds a larger Integer at this (a Long is kept whole)

Params = dict[str, Any]


@dataclass(frozen=True)
class Reply:
    """An HTTP answer: status, headers (besides the request id each front end adds) and body."""

    status: int
    body: bytes
    content_type: str = JSON
    headers: tuple[tuple[str, str], ...] = field(default=())


def status_of(code: str) -> int:
    """The HTTP status the service answers an error code with."""
    return _STATUS.get(code, 400)


@functools.lru_cache(maxsize=None)
def _model():
    return botocore.session.get_session().get_service_model("kinesis")


@functools.lru_cache(maxsize=None)
def operation_names() -> frozenset[str]:
    return frozenset(_model().operation_names)


# -- reading a request ------------------------------------------------------------------------------
def _header(headers: Mapping[str, str], name: str) -> str:
    for key, value in headers.items():
        if key.lower() == name:
            return value.decode("latin-1") if isinstance(value, bytes) else value
    return ""


def read_request(headers: Mapping[str, str], body: bytes, query: str = "") -> tuple[str, Params, str]:
    """``(operation, params, content_type)`` of one request, or the ``KinesisError`` the service would
    answer it with (``UnknownOperationException``, ``SerializationException``,
    ``MissingAuthenticationTokenException`` when it is signed neither in its ``Authorization`` header nor
    in its query string); the error's ``content_type`` is how to answer it."""
    content_type = _header(headers, "content-type").split(";")[0].strip().lower()
    answer_in = CBOR if content_type == CBOR else JSON
    if content_type not in (JSON, CBOR):
        raise _refused("UnknownOperationException", f"Content type {content_type or '(none)'} is not accepted: "
                       f"send {JSON} or {CBOR}.", answer_in)
    service, _, operation = _header(headers, "x-amz-target").partition(".")
    if service != TARGET_PREFIX or operation not in operation_names():
        raise _refused("UnknownOperationException", "", answer_in)
    if not _header(headers, "authorization") and "x-amz-algorithm=" not in query.lower():
        raise _refused("MissingAuthenticationTokenException", "Missing Authentication Token", answer_in)
    document = _decode(body, answer_in)
    if not isinstance(document, dict):
        raise _refused("SerializationException", "Start of structure or map expected.", answer_in)
    shape = _model().operation_model(operation).input_shape
    try:
        params = _structure_in(document, shape, answer_in == CBOR) if shape is not None else {}
    except _TypeMismatch as exc:
        raise _refused("SerializationException", str(exc), answer_in) from None
    return operation, params, answer_in


def _refused(code: str, message: str, content_type: str) -> KinesisError:
    error = kinesis_error(code, message)
    error.content_type = content_type  # type: ignore[attr-defined]
    return error


def _decode(body: bytes, content_type: str) -> Any:
    if not body:
        return None
    try:
        if content_type == CBOR:
            import cbor2  # the serve extra's; JSON clients never need it

            return cbor2.loads(body, semantic_decoders={1: _cbor_epoch})
        return json.loads(body)
    except Exception:  # noqa: BLE001 - any parser failure is the service's SerializationException
        return None


class _Millis(float):
    """A CBOR timestamp as the Java SDK sends it: tag 1 around epoch milliseconds."""


def _cbor_epoch(*args: Any) -> Any:
    value = args[0]
    if hasattr(value, "decode") and not isinstance(value, (bytes, str)):  # a decoder (cbor2's documented form)
        value = value.decode()
    return _Millis(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else value


class _TypeMismatch(Exception):
    """A value of the wrong type for its shape: the service's SerializationException message."""


def _kind_of(value: Any) -> str:
    if isinstance(value, bool):
        return "class java.lang.Boolean"
    if isinstance(value, (int, float)):
        return "class com.amazon.coral.value.json.numbers.TruncatingBigNumber"
    return "class java.lang.String"


def _value_in(value: Any, shape, cbor: bool) -> Any:
    kind = shape.type_name
    if isinstance(value, list) and kind != "list":
        raise _TypeMismatch("Start of list found where not expected")
    if isinstance(value, dict) and kind not in ("structure", "map"):
        raise _TypeMismatch("Start of structure or map found where not expected.")
    if kind == "structure":
        if not isinstance(value, dict):
            raise _TypeMismatch("Expected null")
        return _structure_in(value, shape, cbor)
    if kind == "list":
        if not isinstance(value, list):
            raise _TypeMismatch("Expected list or null")
        return [_value_in(item, shape.member, cbor) for item in value if item is not None]
    if kind == "map":
        if not isinstance(value, dict):
            raise _TypeMismatch("Expected map or null")
        return {key: _value_in(item, shape.value, cbor) for key, item in value.items() if item is not None}
    if kind == "string":
        if not isinstance(value, str):
            raise _TypeMismatch(f"{_kind_of(value)} can not be converted to an String")
        return value
    if kind in ("integer", "long"):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise _TypeMismatch(f"{_kind_of(value)} can not be converted to an {kind.capitalize()}")
        if isinstance(value, float):
            if not math.isfinite(value):
                raise _TypeMismatch(f"{value} can not be converted to an {kind.capitalize()}")
            value = math.floor(value)
        return min(value, _INTEGER_MAX) if kind == "integer" else value
    if kind in ("double", "float"):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise _TypeMismatch(f"{_kind_of(value)} can not be converted to an Double")
        return float(value)
    if kind == "boolean":
        if not isinstance(value, bool):
            shown = f"'{value.upper()}'" if isinstance(value, str) else _kind_of(value)
            raise _TypeMismatch(f"{shown} can not be converted to an Boolean")
        return value
    if kind == "blob":
        return _blob_in(value)
    if kind == "timestamp":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise _TypeMismatch(f"{_kind_of(value)} can not be converted to milliseconds since epoch")
        return value / 1000.0 if isinstance(value, _Millis) else float(value)
    raise _TypeMismatch(f"kinsim cannot read a value of type {kind}")  # pragma: no cover - not in the model


def _blob_in(value: Any) -> bytes:
    if isinstance(value, (bytes, bytearray)):
        return bytes(value)
    if not isinstance(value, str):
        raise _TypeMismatch(f"{_kind_of(value)} can not be converted to a Blob")
    refused = f"'{value[:64]}' can not be converted to a Blob: "
    if len(value) % 4:
        raise _TypeMismatch(f"{refused}Base64 encoded length is expected a multiple of 4 bytes but found: "
                            f"{len(value)}")
    wrong = _NOT_BASE64.search(value)
    if wrong:
        raise _TypeMismatch(f"{refused}Invalid Base64 character: '{wrong.group()[0]}'")
    try:
        blob = base64.b64decode(value.encode("ascii"), validate=True)
    except binascii.Error:
        blob = None
    if blob is None or base64.b64encode(blob).decode("ascii") != value:  # bits set past the last byte
        raise _TypeMismatch(f"{refused}Invalid last non-pad Base64 character dectected")  # (sic)
    return blob


def _structure_in(value: dict, shape, cbor: bool) -> Params:
    members = shape.members
    return {name: _value_in(item, members[name], cbor) for name, item in value.items()
            if name in members and item is not None}


# -- writing an answer ------------------------------------------------------------------------------
def reply(operation: str, response: Params, content_type: str = JSON) -> Reply:
    """The 200 answer to ``operation`` carrying ``response`` (the api layer's Python forms)."""
    shape = _model().operation_model(operation).output_shape
    cbor = content_type == CBOR
    document = _writer(operation, cbor)(response) if shape is not None else {}
    return Reply(200, _encode(document, cbor), content_type)


def error_reply(error: KinesisError, content_type: Optional[str] = None) -> Reply:
    """The service's answer to a request that failed with ``error``."""
    content_type = content_type or getattr(error, "content_type", JSON)
    document = {"__type": error.code, "message": error.message}
    return Reply(status_of(error.code), _encode(document, content_type == CBOR), content_type,
                 (("x-amzn-ErrorType", f"{error.code}:"),))


def _encode(document: Any, cbor: bool) -> bytes:
    if cbor:
        import cbor2

        return cbor2.dumps(document)
    return json.dumps(document, separators=(",", ":"), allow_nan=False).encode("utf-8")


@functools.lru_cache(maxsize=None)
def _writer(operation: str, cbor: bool) -> Callable[[Any], Any]:
    shape = _model().operation_model(operation).output_shape
    leaves = {"timestamp": _timestamp_cbor} if cbor else {"timestamp": _timestamp_json, "blob": _blob_json}
    return shape_converter(shape, leaves, copy=True) or (lambda value: value)


def _timestamp_json(value: float) -> float:
    return shown_millis(value) / 1000


def _timestamp_cbor(value: float) -> Any:
    import cbor2

    return cbor2.CBORTag(1, shown_millis(value))


def _blob_json(value: bytes) -> str:
    return base64.b64encode(value).decode("ascii")

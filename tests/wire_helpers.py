"""Requests and answers on the wire, made and read by botocore's own serializer and parser (and by cbor2
as the Java SDK writes CBOR), for the protocol, endpoint and mock tests.

- ``json_request(operation, params)``: headers and body as botocore sends them (signed: an
  ``Authorization`` header is added unless told not to).
- ``cbor_request(operation, params)``: the same call in CBOR 1.1 (timestamps as tag 1 around epoch
  milliseconds, blobs as byte strings).
- ``meant(params)``: the parameters as the api layer should receive them (blobs ``bytes``, timestamps
  float seconds).
- ``parsed(operation, reply)``: what botocore makes of an answer (``ResponseMetadata`` dropped).
- ``cbor_loads(body)``: a CBOR body with every tag 1 kept as a ``CBORTag``, to see the milliseconds.
- ``Caller``: one endpoint called through those, as a client would.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Optional

import cbor2
from botocore.parsers import create_parser
from botocore.serialize import create_serializer

from kinsim.endpoint import Endpoint
from kinsim.protocol import CBOR, JSON, Reply
from tests.strategies.wire import EPOCH, MODEL

__all__ = ["SIGNED", "json_request", "cbor_request", "meant", "parsed", "cbor_loads", "Caller"]

SERIALIZER = create_serializer("json", include_validation=False)
PARSER = create_parser("json")
SIGNED = {"Authorization": "AWS4-HMAC-SHA256 Credential=kinsim/20180731/us-east-1/kinesis/aws4_request, "
                           "SignedHeaders=host;x-amz-date, Signature=00", "X-Amz-Date": "20180731T215600Z"}


def json_request(operation: str, params: dict, signed: bool = True) -> tuple[dict, bytes]:
    request = SERIALIZER.serialize_to_request(params, MODEL.operation_model(operation))
    headers = dict(request["headers"])
    if signed:
        headers.update(SIGNED)
    return headers, request["body"]


def _walk(value: Any, shape, leaf: dict) -> Any:
    """``value`` of ``shape`` with ``leaf[type]`` applied to its blobs and timestamps."""
    kind = shape.type_name
    if kind == "structure":
        return {name: _walk(item, shape.members[name], leaf) for name, item in value.items()}
    if kind == "list":
        return [_walk(item, shape.member, leaf) for item in value]
    if kind == "map":
        return {key: _walk(item, shape.value, leaf) for key, item in value.items()}
    return leaf[kind](value) if kind in leaf else value


def _micros(instant: datetime) -> int:
    return (instant - EPOCH) // timedelta(microseconds=1)


def cbor_request(operation: str, params: dict, signed: bool = True) -> tuple[dict, bytes]:
    """The call as the Java SDK sends it (its timestamps must lie on whole milliseconds)."""
    def millis(instant: datetime) -> cbor2.CBORTag:
        micros = _micros(instant)
        assert micros % 1000 == 0, f"{instant} is not on a whole millisecond: CBOR cannot carry it"
        return cbor2.CBORTag(1, micros // 1000)

    shape = MODEL.operation_model(operation).input_shape
    headers = {"Content-Type": CBOR, "X-Amz-Target": f"Kinesis_20131202.{operation}", **(SIGNED if signed else {})}
    return headers, cbor2.dumps(_walk(params, shape, {"timestamp": millis}))


def meant(operation: str, params: dict) -> dict:
    """What botocore means by ``params``: timestamps as the seconds its serializer writes."""
    shape = MODEL.operation_model(operation).input_shape
    return _walk(params, shape, {"timestamp": lambda instant: _micros(instant) / 10**6})


def parsed(operation: str, reply: Reply) -> dict:
    """botocore's reading of ``reply`` (an error is ``{"Error": {"Code", "Message"}}``)."""
    headers = {"x-amzn-requestid": "kinsim-test", "content-type": reply.content_type, **dict(reply.headers)}
    response = PARSER.parse({"status_code": reply.status, "headers": headers, "body": reply.body},
                            MODEL.operation_model(operation).output_shape)
    response.pop("ResponseMetadata", None)
    return response


def _tag1(*args: Any) -> cbor2.CBORTag:
    value = args[0]
    if hasattr(value, "decode") and not isinstance(value, (bytes, str)):  # older cbor2 hands the decoder
        value = value.decode()
    return cbor2.CBORTag(1, value)


def cbor_loads(body: bytes) -> Any:
    return cbor2.loads(body, semantic_decoders={1: _tag1})


class Caller:
    """Calls to an ``Endpoint`` made by botocore's serializer, answers read by its parser.

    ``call`` returns the parsed answer (``{"Error": ...}`` for an error, None for a dropped connection);
    ``exchanges`` keeps every ``Exchange`` in order."""

    def __init__(self, endpoint: Endpoint, content_type: str = JSON) -> None:
        self.endpoint = endpoint
        self.content_type = content_type
        self.exchanges: list = []

    def call(self, operation: str, **params: Any) -> Optional[dict]:
        build = cbor_request if self.content_type == CBOR else json_request
        exchange = self.endpoint.exchange(*build(operation, params))
        self.exchanges.append(exchange)
        return None if exchange.reply is None else parsed(operation, exchange.reply)

    def ok(self, operation: str, **params: Any) -> dict:
        """A call that must succeed."""
        answer = self.call(operation, **params)
        assert answer is not None and "Error" not in answer, (operation, answer)
        return answer

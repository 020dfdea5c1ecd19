"""The wire codec (``kinsim.protocol``) against botocore's own serializer and parser, and cbor2.

1. Any call to any operation kinsim serves, serialised by botocore, is read as exactly the parameters
   botocore meant (blobs ``bytes``, timestamps float seconds); the same call in CBOR as the Java SDK
   writes it reads the same.
2. Any response the api layer gives is parsed back by botocore as exactly that response (timestamps
   to the millisecond); in CBOR it decodes to the same values, timestamps as tag 1 around milliseconds.
3. A value of the wrong type is the service's SerializationException, with the service's words (as
   kinesalite's ``validations/index.js`` took them from the service); an unknown target, a content type
   the service does not speak and an unsigned request are refused as it refuses them; errors go back
   with the service's status and ``{"__type", "message"}`` body.
"""

from __future__ import annotations

import json
import math
from datetime import timedelta

import cbor2
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from kinsim.api import OPERATIONS
from kinsim.errors import KinesisError, kinesis_error
from kinsim.protocol import CBOR, JSON, error_reply, read_request, reply
from tests.strategies.wire import EPOCH, MODEL, operation_responses, wire_calls
from tests.wire_helpers import SIGNED, cbor_loads, cbor_request, json_request, meant, parsed

TARGET = "Kinesis_20131202"


def refused(headers: dict, body: bytes, query: str = "") -> KinesisError:
    with pytest.raises(KinesisError) as caught:
        read_request(headers, body, query)
    return caught.value


def body_of(answer) -> dict:
    return cbor2.loads(answer.body) if answer.content_type == CBOR else json.loads(answer.body)


def headers_for(operation: str, content_type: str = JSON, **more: str) -> dict:
    return {"Content-Type": content_type, "X-Amz-Target": f"{TARGET}.{operation}", **SIGNED, **more}


# -- 1. requests ---------------------------------------------------------------------------------------
@settings(max_examples=300, deadline=None)
@given(wire_calls())
def test_json_requests_read_as_botocore_meant_them(call):
    operation, params = call
    headers, body = json_request(operation, params)
    assert read_request(headers, body) == (operation, meant(operation, params), JSON)


@settings(max_examples=200, deadline=None)
@given(wire_calls(unit="ms"))
def test_cbor_requests_read_as_their_json_form(call):
    operation, params = call
    as_json = read_request(*json_request(operation, params))
    as_cbor = read_request(*cbor_request(operation, params))
    assert as_cbor == (operation, as_json[1], CBOR)


@given(st.integers(0, 4_102_444_800_000))
def test_a_cbor_timestamp_is_tag_1_around_milliseconds_and_untagged_seconds(millis):
    def timestamp(value) -> float:
        body = cbor2.dumps({"StreamName": "s", "ShardId": "shardId-000000000000",
                            "ShardIteratorType": "AT_TIMESTAMP", "Timestamp": value})
        return read_request(headers_for("GetShardIterator", CBOR), body)[1]["Timestamp"]

    assert timestamp(cbor2.CBORTag(1, millis)) == millis / 1000
    assert timestamp(millis / 1000) == millis / 1000
    assert timestamp(millis // 1000) == millis // 1000


def test_members_the_model_does_not_know_and_nulls_are_dropped():
    body = json.dumps({"StreamName": "s", "ShardCount": None, "Shards": 3, "streamname": "t"}).encode()
    assert read_request(headers_for("CreateStream"), body) == ("CreateStream", {"StreamName": "s"}, JSON)


def test_an_integer_given_with_a_fraction_is_floored_and_one_past_32_bits_is_held_at_the_largest():
    def limit(value):
        body = json.dumps({"ShardIterator": "i", "Limit": value}).encode()
        return read_request(headers_for("GetRecords"), body)[1]["Limit"]

    assert limit(2.9) == 2 and limit(-0.5) == -1
    assert limit(2**40) == 2**31 - 1 and limit(1e300) == 2**31 - 1


# -- 2. replies ----------------------------------------------------------------------------------------
def operation_and_response():
    return st.sampled_from(OPERATIONS).flatmap(lambda op: st.tuples(st.just(op), operation_responses(op)))


def _compare(got, sent, shape, path="") -> None:
    """botocore's reading ``got`` of the api layer's ``sent``: equal, timestamps to the millisecond."""
    kind = shape.type_name
    if kind == "structure":
        assert set(got) == set(sent), (path, got, sent)
        for name in sent:
            _compare(got[name], sent[name], shape.members[name], f"{path}.{name}")
    elif kind == "list":
        assert len(got) == len(sent), path
        for i, (g, s) in enumerate(zip(got, sent)):
            _compare(g, s, shape.member, f"{path}[{i}]")
    elif kind == "map":
        assert set(got) == set(sent), path
        for key in sent:
            _compare(got[key], sent[key], shape.value, f"{path}.{key}")
    elif kind == "timestamp":
        since = got - EPOCH
        assert since % timedelta(milliseconds=1) == timedelta(0), (path, got)
        assert 0 <= sent - since.total_seconds() < 0.001 + 1e-6, (path, got, sent)  # the millisecond it is in
    else:
        assert got == sent and type(got) is type(sent), (path, got, sent)


@settings(max_examples=300, deadline=None)
@given(operation_and_response())
def test_botocore_parses_back_what_the_api_layer_answered(answer):
    operation, response = answer
    answered = reply(operation, response)
    assert (answered.status, answered.content_type) == (200, JSON)
    shape = MODEL.operation_model(operation).output_shape
    if shape is None:  # nothing to answer but an empty map
        assert (answered.body, parsed(operation, answered)) == (b"{}", {})
    else:
        _compare(parsed(operation, answered), response, shape)


def _millis_tagged(value, shape):
    kind = shape.type_name
    if kind == "structure":
        return {name: _millis_tagged(item, shape.members[name]) for name, item in value.items()}
    if kind == "list":
        return [_millis_tagged(item, shape.member) for item in value]
    if kind == "map":
        return {key: _millis_tagged(item, shape.value) for key, item in value.items()}
    if kind == "timestamp":
        return ("tag 1", math.floor(value * 1000 + 1e-6))  # the millisecond it falls in
    return value


def _tags_as_pairs(value):
    if isinstance(value, cbor2.CBORTag):
        return (f"tag {value.tag}", value.value)
    if isinstance(value, dict):
        return {key: _tags_as_pairs(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_tags_as_pairs(item) for item in value]
    return value


@settings(max_examples=200, deadline=None)
@given(operation_and_response())
# two times found by runs of this test, each shown a millisecond late (in the millisecond after their own)
@example(("DescribeStream", {"StreamDescription": {"StreamCreationTimestamp": 1.9999995231628418}}))
@example(("DescribeStream", {"StreamDescription": {"StreamCreationTimestamp": 2147483648.9999995}}))
def test_cbor_replies_decode_to_the_same_values_with_timestamps_in_tagged_milliseconds(answer):
    operation, response = answer
    answered = reply(operation, response, CBOR)
    assert (answered.status, answered.content_type) == (200, CBOR)
    shape = MODEL.operation_model(operation).output_shape
    expected = {} if shape is None else _millis_tagged(response, shape)
    assert _tags_as_pairs(cbor_loads(answered.body)) == expected


# -- 3. refusals ---------------------------------------------------------------------------------------
NUMBER = "class com.amazon.coral.value.json.numbers.TruncatingBigNumber"
BOOLEAN = "class java.lang.Boolean"
STRING = "class java.lang.String"

TYPE_ERRORS = [  # operation, parameters, the service's message
    ("PutRecord", {"StreamName": 1}, f"{NUMBER} can not be converted to an String"),
    ("PutRecord", {"StreamName": 1.5}, f"{NUMBER} can not be converted to an String"),
    ("PutRecord", {"StreamName": True}, f"{BOOLEAN} can not be converted to an String"),
    ("PutRecord", {"StreamName": ["s"]}, "Start of list found where not expected"),
    ("PutRecord", {"StreamName": {"a": 1}}, "Start of structure or map found where not expected."),
    ("CreateStream", {"ShardCount": "1"}, f"{STRING} can not be converted to an Integer"),
    ("CreateStream", {"ShardCount": False}, f"{BOOLEAN} can not be converted to an Integer"),
    ("CreateStream", {"ShardCount": []}, "Start of list found where not expected"),
    ("CreateStream", {"ShardCount": {}}, "Start of structure or map found where not expected."),
    ("GetRecords", {"Limit": "10"}, f"{STRING} can not be converted to an Integer"),
    ("PutRecord", {"Data": True}, f"{BOOLEAN} can not be converted to a Blob"),
    ("PutRecord", {"Data": 12}, f"{NUMBER} can not be converted to a Blob"),
    ("PutRecord", {"Data": [1]}, "Start of list found where not expected"),
    ("PutRecord", {"Data": {}}, "Start of structure or map found where not expected."),
    ("PutRecord", {"Data": "abc"}, "'abc' can not be converted to a Blob: Base64 encoded length is expected a "
                                   "multiple of 4 bytes but found: 3"),
    ("PutRecord", {"Data": "ab!d"}, "'ab!d' can not be converted to a Blob: Invalid Base64 character: '!'"),
    ("PutRecord", {"Data": "a=bc"}, "'a=bc' can not be converted to a Blob: Invalid Base64 character: '='"),
    ("PutRecord", {"Data": "AB=="}, "'AB==' can not be converted to a Blob: Invalid last non-pad Base64 "
                                    "character dectected"),
    ("GetShardIterator", {"Timestamp": "2018-07-31"}, f"{STRING} can not be converted to milliseconds since "
                                                      "epoch"),
    ("GetShardIterator", {"Timestamp": True}, f"{BOOLEAN} can not be converted to milliseconds since epoch"),
    ("GetShardIterator", {"Timestamp": [1]}, "Start of list found where not expected"),
    ("GetShardIterator", {"Timestamp": {}}, "Start of structure or map found where not expected."),
    ("DeleteStream", {"EnforceConsumerDeletion": "yes"}, "'YES' can not be converted to an Boolean"),
    ("DeleteStream", {"EnforceConsumerDeletion": 1}, f"{NUMBER} can not be converted to an Boolean"),
    ("DeleteStream", {"EnforceConsumerDeletion": []}, "Start of list found where not expected"),
    ("DeleteStream", {"EnforceConsumerDeletion": {}}, "Start of structure or map found where not expected."),
    ("PutRecords", {"Records": "x"}, "Expected list or null"),
    ("PutRecords", {"Records": 5}, "Expected list or null"),
    ("PutRecords", {"Records": {"a": 1}}, "Start of structure or map found where not expected."),
    ("PutRecords", {"Records": ["x"]}, "Expected null"),
    ("PutRecords", {"Records": [[]]}, "Start of list found where not expected"),
    ("PutRecords", {"Records": [{"PartitionKey": 5}]}, f"{NUMBER} can not be converted to an String"),
    ("ListShards", {"ShardFilter": "AT_LATEST"}, "Expected null"),
    ("ListShards", {"ShardFilter": True}, "Expected null"),
    ("CreateStream", {"Tags": "x"}, "Expected map or null"),
    ("CreateStream", {"Tags": ["x"]}, "Start of list found where not expected"),
    ("CreateStream", {"Tags": {"k": 1}}, f"{NUMBER} can not be converted to an String"),
]


@pytest.mark.parametrize("content_type", [JSON, CBOR])
@pytest.mark.parametrize("operation, params, message", TYPE_ERRORS)
def test_a_value_of_the_wrong_type_is_the_services_serialization_exception(operation, params, message,
                                                                           content_type):
    body = cbor2.dumps(params) if content_type == CBOR else json.dumps(params).encode()
    error = refused(headers_for(operation, content_type), body)
    assert (error.code, error.message) == ("SerializationException", message)
    answer = error_reply(error)
    assert (answer.status, answer.content_type) == (400, content_type)
    assert body_of(answer) == {"__type": "SerializationException", "message": message}


@pytest.mark.parametrize("body", [b"", b"{", b"[]", b'"text"', b"3", b"null", b"\xff\xfe"])
def test_a_body_that_is_not_one_map_is_a_serialization_exception(body):
    assert refused(headers_for("ListStreams"), body).code == "SerializationException"


@pytest.mark.parametrize("target", ["", "Kinesis_20131202", "Kinesis_20131202.", "Kinesis_20131202.NoSuchThing",
                                    "DynamoDB_20120810.ListTables", "Kinesis_20131202.listStreams",
                                    "kinesis_20131202.ListStreams", ".ListStreams"])
@pytest.mark.parametrize("content_type", [JSON, CBOR])
def test_an_unknown_target_is_an_unknown_operation_exception(target, content_type):
    error = refused({"Content-Type": content_type, "X-Amz-Target": target, **SIGNED}, b"{}")
    assert error.code == "UnknownOperationException"
    answer = error_reply(error)
    assert (answer.status, answer.content_type) == (400, content_type)
    assert body_of(answer) == {"__type": "UnknownOperationException", "message": error.message}


@pytest.mark.parametrize("content_type", ["", "application/json", "text/plain", "application/x-amz-json-1.0",
                                          "application/cbor", "application/x-www-form-urlencoded"])
def test_a_content_type_the_service_does_not_speak_is_refused(content_type):
    headers = headers_for("ListStreams", content_type)
    error = refused(headers, b"{}")
    assert error.code == "UnknownOperationException"
    assert error_reply(error).content_type == JSON


def test_content_type_parameters_and_case_and_header_case_do_not_matter():
    headers = {"content-type": "Application/X-Amz-Json-1.1; charset=utf-8", "x-amz-target": f"{TARGET}.ListStreams",
               "authorization": SIGNED["Authorization"]}
    assert read_request(headers, b"{}") == ("ListStreams", {}, JSON)
    as_bytes = {key.encode(): value.encode() for key, value in headers.items()}
    assert read_request({k.decode(): v for k, v in as_bytes.items()}, b"{}")[0] == "ListStreams"


@pytest.mark.parametrize("content_type", [JSON, CBOR])
def test_an_unsigned_request_is_a_missing_authentication_token(content_type):
    headers, body = (cbor_request if content_type == CBOR else json_request)("ListStreams", {}, signed=False)
    error = refused(headers, body)
    assert (error.code, error.message) == ("MissingAuthenticationTokenException", "Missing Authentication Token")
    answer = error_reply(error)
    assert answer.status == 400 and answer.content_type == content_type
    # signed in its query string (a presigned URL) is signed
    assert read_request(headers, body, "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=k")[0] == "ListStreams"


@pytest.mark.parametrize("code, status", [("ResourceNotFoundException", 400), ("ValidationException", 400),
                                          ("ProvisionedThroughputExceededException", 400),
                                          ("SerializationException", 400), ("InternalFailure", 500),
                                          ("ServiceUnavailable", 503)])
@pytest.mark.parametrize("content_type", [JSON, CBOR])
def test_errors_go_back_with_the_services_status_and_body(code, status, content_type):
    answer = error_reply(kinesis_error(code, "what went wrong"), content_type)
    assert (answer.status, answer.content_type) == (status, content_type)
    assert ("x-amzn-ErrorType", f"{code}:") in answer.headers
    assert body_of(answer) == {"__type": code, "message": "what went wrong"}
    if content_type == JSON:
        assert parsed("ListStreams", answer)["Error"] == {"Code": code, "Message": "what went wrong"}

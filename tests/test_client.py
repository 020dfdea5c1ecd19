"""The boto3-shaped client: boto3's names, parameters, responses, errors and conveniences."""

from __future__ import annotations

import io
import json

import pytest
from botocore.exceptions import ClientError, ParamValidationError
from botocore.serialize import create_serializer

import kinsim
from kinsim.client import _service_model
from kinsim.clock import ManualClock

SHARD0 = "shardId-000000000000"


def test_errors_are_client_errors_with_the_api_code_and_operation(kinesis):
    with pytest.raises(ClientError) as excinfo:
        kinesis.describe_stream(StreamName="missing")
    error = excinfo.value
    assert error.response["Error"] == {
        "Code": "ResourceNotFoundException",
        "Message": "Stream missing under account 000000000000 not found.",
    }
    assert error.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert error.operation_name == "DescribeStream"
    assert isinstance(error, kinesis.exceptions.ResourceNotFoundException)
    assert str(error) == ("An error occurred (ResourceNotFoundException) when calling the DescribeStream "
                          "operation: Stream missing under account 000000000000 not found.")


@pytest.mark.parametrize("name", [
    "ResourceNotFoundException", "ResourceInUseException", "InvalidArgumentException", "ValidationException",
    "LimitExceededException", "ProvisionedThroughputExceededException", "ExpiredIteratorException",
])
def test_every_error_code_is_reachable_on_client_exceptions(kinesis, name):
    assert issubclass(getattr(kinesis.exceptions, name), ClientError)


def test_parameters_are_checked_like_boto3_before_any_call(kinesis, backend):
    with pytest.raises(ParamValidationError, match="Missing required parameter"):
        kinesis.get_records()
    with pytest.raises(ParamValidationError, match="Unknown parameter"):
        kinesis.put_record(StreamName="s", Data=b"x", PartitionKey="k", Color="red")
    with pytest.raises(ParamValidationError, match="Invalid type"):
        kinesis.create_stream(StreamName="s", ShardCount="one")
    assert backend.list_streams() == []


def test_a_parameter_the_model_leaves_optional_but_the_service_needs_is_a_validation_error(kinesis):
    """Newer botocore models mark PutRecord's PartitionKey optional; the service still needs one."""
    kinesis.create_stream(StreamName="s", ShardCount=1)
    required = _service_model().operation_model("PutRecord").input_shape.required_members
    expected = ParamValidationError if "PartitionKey" in required else kinesis.exceptions.ValidationException
    with pytest.raises(expected):
        kinesis.put_record(StreamName="s", Data=b"x")


def test_data_may_be_bytes_text_or_a_file(kinesis):
    kinesis.create_stream(StreamName="s", ShardCount=1)
    for data in (b"bytes", "text", io.BytesIO(b"file"), bytearray(b"array")):
        kinesis.put_record(StreamName="s", Data=data, PartitionKey="k")
    it = kinesis.get_shard_iterator(StreamName="s", ShardId=SHARD0, ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    assert [r["Data"] for r in kinesis.get_records(ShardIterator=it)["Records"]] == [
        b"bytes", b"text", b"file", b"array"]


def test_streams_may_be_named_by_arn(kinesis):
    kinesis.create_stream(StreamName="s", ShardCount=1)
    arn = kinesis.describe_stream(StreamName="s")["StreamDescription"]["StreamARN"]
    put = kinesis.put_record(StreamARN=arn, Data=b"x", PartitionKey="k")
    assert put["ShardId"] == SHARD0


def test_responses_carry_metadata(kinesis):
    response = kinesis.list_streams()
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert response["ResponseMetadata"]["RequestId"]


def test_put_records_reports_each_record(kinesis):
    kinesis.create_stream(StreamName="s", ShardCount=2)
    response = kinesis.put_records(StreamName="s", Records=[
        {"Data": b"a", "PartitionKey": "k", "ExplicitHashKey": "0"},
        {"Data": b"b", "PartitionKey": "k", "ExplicitHashKey": str(2**128 - 1)},
    ])
    assert response["FailedRecordCount"] == 0
    assert [r["ShardId"] for r in response["Records"]] == [SHARD0, "shardId-000000000001"]


def test_describe_stream_pages_through_shards(kinesis):
    kinesis.create_stream(StreamName="s", ShardCount=5)
    first = kinesis.describe_stream(StreamName="s", Limit=2)["StreamDescription"]
    assert [s["ShardId"] for s in first["Shards"]] == [SHARD0, "shardId-000000000001"]
    assert first["HasMoreShards"] is True
    pages = kinesis.get_paginator("describe_stream").paginate(StreamName="s", PaginationConfig={"PageSize": 2})
    ids = [s["ShardId"] for page in pages for s in page["StreamDescription"]["Shards"]]
    assert ids == [f"shardId-00000000000{i}" for i in range(5)]


def test_list_shards_pages_with_next_token(kinesis):
    kinesis.create_stream(StreamName="s", ShardCount=5)
    first = kinesis.list_shards(StreamName="s", MaxResults=3)
    assert len(first["Shards"]) == 3
    second = kinesis.list_shards(NextToken=first["NextToken"], MaxResults=3)
    assert [s["ShardId"] for s in second["Shards"]] == ["shardId-000000000003", "shardId-000000000004"]
    assert "NextToken" not in second
    with pytest.raises(kinesis.exceptions.InvalidArgumentException):
        kinesis.list_shards(StreamName="s", NextToken=first["NextToken"])



def test_list_shards_paginator_fails_past_one_page_as_on_the_real_service(kinesis):
    """botocore's paginator resends StreamName with NextToken, which the service refuses
    (boto/botocore#2009); kinesalite ignores MaxResults and hides the trap, kinsim shows it."""
    kinesis.create_stream(StreamName="s", ShardCount=5)
    pages = kinesis.get_paginator("list_shards").paginate(StreamName="s", PaginationConfig={"PageSize": 2})
    with pytest.raises(kinesis.exceptions.InvalidArgumentException, match="NextToken and StreamName"):
        list(pages)


def test_list_shards_filters(kinesis):
    kinesis.create_stream(StreamName="s", ShardCount=2)
    kinesis.split_shard(StreamName="s", ShardToSplit=SHARD0, NewStartingHashKey=str(2**126))
    def ids(**f):
        return [s["ShardId"] for s in kinesis.list_shards(StreamName="s", ShardFilter=f)["Shards"]]
    assert ids(Type="AT_LATEST") == ["shardId-000000000001", "shardId-000000000002", "shardId-000000000003"]
    assert ids(Type="AT_TRIM_HORIZON") == [SHARD0, "shardId-000000000001"]
    assert ids(Type="FROM_TRIM_HORIZON") == [SHARD0, "shardId-000000000001", "shardId-000000000002",
                                             "shardId-000000000003"]
    assert ids(Type="AFTER_SHARD_ID", ShardId="shardId-000000000001") == ["shardId-000000000002",
                                                                         "shardId-000000000003"]


def test_list_streams_pages(kinesis):
    for name in "cab":
        kinesis.create_stream(StreamName=name, ShardCount=1)
    first = kinesis.list_streams(Limit=2)
    assert first["StreamNames"] == ["a", "b"] and first["HasMoreStreams"] is True
    rest = kinesis.list_streams(NextToken=first["NextToken"])
    assert rest["StreamNames"] == ["c"] and rest["HasMoreStreams"] is False
    assert kinesis.list_streams(ExclusiveStartStreamName="a")["StreamNames"] == ["b", "c"]
    assert [s["StreamStatus"] for s in kinesis.list_streams()["StreamSummaries"]] == ["ACTIVE"] * 3


def test_the_stream_exists_waiter_works(kinesis):
    kinesis.create_stream(StreamName="s", ShardCount=1)
    kinesis.get_waiter("stream_exists").wait(StreamName="s", WaiterConfig={"Delay": 0, "MaxAttempts": 1})
    kinesis.delete_stream(StreamName="s")
    kinesis.get_waiter("stream_not_exists").wait(StreamName="s", WaiterConfig={"Delay": 0, "MaxAttempts": 1})


def test_at_timestamp_is_rounded_as_this_botocore_sends_it():
    """botocore up to 1.43 sends whole seconds, later ones full precision: kinsim starts where boto3 would."""
    clock = ManualClock(1000.0)
    kinesis = kinsim.client(kinsim.MemoryBackend(clock))
    kinesis.create_stream(StreamName="s", ShardCount=1)
    kinesis.put_record(StreamName="s", Data=b"at 1000.0", PartitionKey="k")
    clock.advance(0.6)
    kinesis.put_record(StreamName="s", Data=b"at 1000.6", PartitionKey="k")
    params = {"StreamName": "s", "ShardId": SHARD0, "ShardIteratorType": "AT_TIMESTAMP", "Timestamp": 1000.5}
    request = create_serializer("json").serialize_to_request(
        params, _service_model().operation_model("GetShardIterator"))
    sent = json.loads(request["body"])["Timestamp"]
    it = kinesis.get_shard_iterator(**params)["ShardIterator"]
    got = [r["Data"] for r in kinesis.get_records(ShardIterator=it)["Records"]]
    assert got == ([b"at 1000.0", b"at 1000.6"] if sent <= 1000.0 else [b"at 1000.6"])


def test_default_client_follows_the_wall_clock():
    kinesis = kinsim.client()
    kinesis.create_stream(StreamName="live", ShardCount=1)
    import time
    created = kinesis.describe_stream(StreamName="live")["StreamDescription"]["StreamCreationTimestamp"]
    assert abs(created.timestamp() - time.time()) < 60


ZONE_CHECK = """
import time
from datetime import datetime
from kinsim.client import _LOCAL_ZONE, _timestamp_out
from kinsim.wire import shown_millis
changes, prev = [], time.localtime(-160_000_000).tm_gmtoff
for t in range(-160_000_000, 1_900_000_000, 3600):  # where the offset changes (1965-2030), to the hour
    if time.localtime(t).tm_gmtoff != prev:
        changes.append(t)
        prev = time.localtime(t).tm_gmtoff
instants = [c + d / 1000 for c in changes for d in range(-7_200_000, 7_200_000, 599_999)]
instants += [c - 3600 + d / 1000 for c in changes[:6] for d in range(0, 3_600_000, 4_999)]
instants += [d / 1000 for d in range(-3_600_000, 3_600_000, 9_973)] + [-1.0005, 1_533_074_160.9995]
instants += [-62_135_596_800.0, 253_402_300_799.999]  # the years 1 and 9999: in range, or not, alike
for instant in instants:
    try:
        expected = datetime.fromtimestamp(shown_millis(instant) / 1000, _LOCAL_ZONE)
    except OverflowError:
        try:
            _timestamp_out(instant)
        except OverflowError:
            continue
        raise AssertionError((instant, "made, where tzlocal overflows"))
    made = _timestamp_out(instant)
    assert (made, made.fold, made.utcoffset(), made.isoformat(), made.tzinfo) == \\
        (expected, expected.fold, expected.utcoffset(), expected.isoformat(), _LOCAL_ZONE), (instant, made, expected)
print(len(changes), len(instants))
"""


@pytest.mark.parametrize("zone", ["UTC", "America/New_York", "Europe/Dublin", "Australia/Lord_Howe", "Asia/Kathmandu"])
def test_timestamps_are_what_tzlocal_makes_of_them_in_any_zone(zone):
    """The datetime a response carries is the one ``datetime.fromtimestamp(t, tzlocal())`` gives, made
    faster: the same instant, wall time, fold and offset, around every change of the zone's offset (as
    tzlocal sees them, wrong where a zone's history has more than two offsets) and at the clock's ends."""
    import os
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", ZONE_CHECK], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "TZ": zone})
    assert done.returncode == 0, done.stderr
    changes, instants = map(int, done.stdout.split())
    assert instants > 700 and (changes > 50 or zone in ("UTC", "Asia/Kathmandu"))

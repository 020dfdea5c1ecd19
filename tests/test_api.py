"""The api layer: the Kinesis API by operation name over any backend, in the API's shapes with Python
values, the same answers whichever backend is under it."""

from __future__ import annotations

import pytest

import kinsim
from kinsim import errors
from kinsim.api import OPERATIONS, KinesisApi
from kinsim.backends.kinesis import KinesisBackend
from kinsim.clock import ManualClock

from .conftest import START


def script(api: KinesisApi, clock: ManualClock) -> list:
    """A session of calls; every answer, or the error code, in order."""
    answers = []

    def call(operation, **params):
        try:
            answers.append((operation, api.handle(operation, params)))
        except errors.KinesisError as exc:
            answers.append((operation, exc.code))
        return answers[-1][1]

    call("CreateStream", StreamName="s", ShardCount=3)
    call("CreateStream", StreamName="s", ShardCount=3)
    for i in range(12):
        call("PutRecord", StreamName="s", Data=b"%d" % i, PartitionKey=f"k{i % 5}")
    call("PutRecords", StreamName="s", Records=[{"Data": b"b", "PartitionKey": "k1"},
                                                {"Data": b"c", "PartitionKey": "k9"}])
    first = call("ListShards", StreamName="s", MaxResults=2)
    call("ListShards", NextToken=first["NextToken"])
    call("ListShards", NextToken=first["NextToken"], StreamName="s")
    call("DescribeStreamSummary", StreamName="s")
    clock.advance(1)
    iterator = call("GetShardIterator", StreamName="s", ShardId="shardId-000000000001",
                    ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    call("GetRecords", ShardIterator=iterator, Limit=3)
    call("SplitShard", StreamName="s", ShardToSplit="shardId-000000000001", NewStartingHashKey=str(2**127))
    call("ListShards", StreamName="s", ShardFilter={"Type": "AT_LATEST"})
    call("GetShardIterator", StreamName="s", ShardId="shardId-000000000009", ShardIteratorType="LATEST")
    call("ListStreams", Limit=1)
    call("DeleteStream", StreamName="s")
    call("DescribeStream", StreamName="s")
    return answers


def test_the_api_answers_alike_over_simulated_shards_and_over_boto3_to_them():
    """Directly over a MemoryBackend, and over a KinesisBackend calling kinsim's boto3-shaped client over
    another MemoryBackend: the same answers, values and errors (whole seconds, so nothing is lost to
    boto3's millisecond timestamps)."""
    direct_clock, far_clock = ManualClock(START), ManualClock(START)
    direct = script(KinesisApi(kinsim.MemoryBackend(direct_clock)), direct_clock)
    far = script(KinesisApi(KinesisBackend(kinsim.client(kinsim.MemoryBackend(far_clock)))), far_clock)
    assert direct == far
    codes = [answer for _, answer in direct if isinstance(answer, str)]
    assert codes == ["ResourceInUseException", "InvalidArgumentException", "ResourceNotFoundException",
                     "ResourceNotFoundException"]


def test_values_are_plain_python_bytes_and_float_seconds():
    api = KinesisApi(kinsim.MemoryBackend(ManualClock(START)))
    api.handle("CreateStream", {"StreamName": "s", "ShardCount": 1})
    api.handle("PutRecord", {"StreamName": "s", "Data": b"x", "PartitionKey": "k"})
    iterator = api.handle("GetShardIterator", {"StreamName": "s", "ShardId": "shardId-000000000000",
                                               "ShardIteratorType": "AT_TIMESTAMP", "Timestamp": START})
    [record] = api.handle("GetRecords", iterator)["Records"]
    assert record["Data"] == b"x" and record["ApproximateArrivalTimestamp"] == START
    assert api.handle("DescribeStreamSummary", {"StreamName": "s"})["StreamDescriptionSummary"][
        "StreamCreationTimestamp"] == START


def test_an_operation_it_does_not_serve_is_the_services_unknown_operation():
    with pytest.raises(errors.KinesisError) as excinfo:
        KinesisApi(kinsim.MemoryBackend()).handle("SubscribeToShard", {})
    assert excinfo.value.code == "UnknownOperationException"
    assert "PutRecords" in OPERATIONS and len(OPERATIONS) == 15

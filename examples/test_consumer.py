"""The README's test of its example consumer, with kinsim's pytest fixtures."""

import pytest

from consumer import consume

STREAM = "words"


@pytest.fixture
def shard(kinsim_boto3):
    kinsim_boto3.create_stream(StreamName=STREAM, ShardCount=1)
    for i in range(30):
        kinsim_boto3.put_record(StreamName=STREAM, Data=f"10.0.0.{i}".encode(), PartitionKey="10.0.0.1")
    return kinsim_boto3.list_shards(StreamName=STREAM)["Shards"][0]["ShardId"]


def test_reads_everything_within_the_shards_read_limit(kinsim_boto3, kinsim_clock, shard):
    seen = []
    consume(kinsim_boto3, STREAM, shard, seen.append, polls=20, sleep=kinsim_clock.advance)
    assert [r["Data"] for r in seen] == [f"10.0.0.{i}".encode() for i in range(30)]


def test_survives_a_stall_longer_than_an_iterator_lives(kinsim_boto3, kinsim_clock, shard):
    seen = []

    def slow(record):
        seen.append(record)
        if len(seen) == 3:
            kinsim_clock.advance(400)          # stuck on one record for 400 s of virtual time

    consume(kinsim_boto3, STREAM, shard, slow, polls=20, sleep=kinsim_clock.advance)
    assert [r["Data"] for r in seen] == [f"10.0.0.{i}".encode() for i in range(30)]

"""Every Kinesis limit the simulated shards enforce, at its exact boundary (DESIGN §4).

Each limit is shown from both sides: the largest accepted value and the smallest refused one, with
the error code the real API answers.
"""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError, ParamValidationError

import kinsim
from kinsim.backends import limits

MiB = 1024 * 1024
SHARD0 = "shardId-000000000000"


def code(excinfo) -> str:
    return excinfo.value.response["Error"]["Code"]


@pytest.fixture
def stream(kinesis) -> str:
    kinesis.create_stream(StreamName="words", ShardCount=1)
    return "words"


def iterator(kinesis, kind="TRIM_HORIZON", shard=SHARD0, **extra) -> str:
    return kinesis.get_shard_iterator(StreamName="words", ShardId=shard, ShardIteratorType=kind,
                                      **extra)["ShardIterator"]


# -- record size ------------------------------------------------------------------------------------
def test_record_of_exactly_one_mib_data_plus_key_is_accepted(kinesis, stream):
    key = "k" * 10
    kinesis.put_record(StreamName=stream, Data=b"x" * (MiB - len(key)), PartitionKey=key)


def test_record_one_byte_over_one_mib_data_plus_key_is_refused(kinesis, stream):
    key = "k" * 10
    with pytest.raises(ClientError) as excinfo:
        kinesis.put_record(StreamName=stream, Data=b"x" * (MiB - len(key) + 1), PartitionKey=key)
    assert code(excinfo) == "ValidationException"


def test_partition_key_counts_in_utf8_bytes_toward_the_record_size(kinesis, stream):
    key = "é" * 5  # 5 characters, 10 bytes
    kinesis.put_record(StreamName=stream, Data=b"x" * (MiB - 10), PartitionKey=key)
    with pytest.raises(kinesis.exceptions.ValidationException):
        kinesis.put_record(StreamName=stream, Data=b"x" * (MiB - 9), PartitionKey=key)


def test_data_over_one_mib_is_refused_by_the_model_constraint(kinesis, stream):
    with pytest.raises(ClientError) as excinfo:
        kinesis.put_record(StreamName=stream, Data=b"x" * (MiB + 1), PartitionKey="k")
    assert code(excinfo) == "ValidationException"
    assert "at 'data' failed to satisfy constraint" in excinfo.value.response["Error"]["Message"]


# -- partition key ----------------------------------------------------------------------------------
def test_partition_key_of_256_characters_is_accepted(kinesis, stream):
    kinesis.put_record(StreamName=stream, Data=b"x", PartitionKey="k" * 256)


def test_partition_key_of_257_characters_is_refused(kinesis, stream):
    with pytest.raises(ClientError) as excinfo:
        kinesis.put_record(StreamName=stream, Data=b"x", PartitionKey="k" * 257)
    assert code(excinfo) == "ValidationException"
    assert "Member must have length less than or equal to 256" in excinfo.value.response["Error"]["Message"]


def test_empty_partition_key_is_refused_before_sending_like_boto3(kinesis, stream):
    with pytest.raises(ParamValidationError):
        kinesis.put_record(StreamName=stream, Data=b"x", PartitionKey="")


def test_explicit_hash_key_above_2_to_the_128_minus_1_is_refused(kinesis, stream):
    kinesis.put_record(StreamName=stream, Data=b"x", PartitionKey="k", ExplicitHashKey=str(2**128 - 1))
    with pytest.raises(ClientError) as excinfo:
        kinesis.put_record(StreamName=stream, Data=b"x", PartitionKey="k", ExplicitHashKey=str(2**128))
    assert code(excinfo) == "InvalidArgumentException"


# -- PutRecords batch -------------------------------------------------------------------------------
def batch(count: int, size: int = 1) -> list[dict]:
    return [{"Data": b"x" * size, "PartitionKey": f"k{i}"} for i in range(count)]


def test_batch_of_500_records_is_accepted(kinesis, stream):
    response = kinesis.put_records(StreamName=stream, Records=batch(500))
    assert response["FailedRecordCount"] == 0
    assert len(response["Records"]) == 500


def test_batch_of_501_records_is_refused_whole(kinesis, stream, backend):
    with pytest.raises(ClientError) as excinfo:
        kinesis.put_records(StreamName=stream, Records=batch(501))
    assert code(excinfo) == "ValidationException"
    assert "Member must have length less than or equal to 500" in excinfo.value.response["Error"]["Message"]
    it = iterator(kinesis)
    assert kinesis.get_records(ShardIterator=it)["Records"] == []


def test_batch_of_exactly_5_mib_is_accepted_and_one_byte_more_is_refused(backend, clock):
    backend.throttling = False
    kinesis = kinsim.client(backend)
    kinesis.create_stream(StreamName="words", ShardCount=1)
    # five records of data + 2-character key = exactly 1 MiB each
    records = [{"Data": b"x" * (MiB - 2), "PartitionKey": f"k{i}"} for i in range(5)]
    assert kinesis.put_records(StreamName="words", Records=records)["FailedRecordCount"] == 0
    records.append({"Data": b"x", "PartitionKey": "k"})
    with pytest.raises(ClientError) as excinfo:
        kinesis.put_records(StreamName="words", Records=records)
    assert code(excinfo) == "InvalidArgumentException"
    assert excinfo.value.response["Error"]["Message"] == "Records size exceeds 5 MB limit"


# -- GetRecords Limit -------------------------------------------------------------------------------
def test_limit_of_10000_is_accepted(kinesis, stream):
    kinesis.get_records(ShardIterator=iterator(kinesis), Limit=10_000)


def test_limit_of_10001_is_refused(kinesis, stream):
    with pytest.raises(ClientError) as excinfo:
        kinesis.get_records(ShardIterator=iterator(kinesis), Limit=10_001)
    assert code(excinfo) == "ValidationException"
    assert "Member must have value less than or equal to 10000" in excinfo.value.response["Error"]["Message"]


def test_limit_caps_the_records_returned(kinesis, stream, clock):
    for i in range(7):
        kinesis.put_record(StreamName=stream, Data=str(i).encode(), PartitionKey="k")
    got = kinesis.get_records(ShardIterator=iterator(kinesis), Limit=3)
    assert [r["Data"] for r in got["Records"]] == [b"0", b"1", b"2"]
    assert got["MillisBehindLatest"] == 0  # the unread records arrived at this very instant


def test_one_get_records_call_returns_at_most_10_mib(backend, clock):
    backend.throttling = False
    kinesis = kinsim.client(backend)
    kinesis.create_stream(StreamName="words", ShardCount=1)
    for i in range(12):
        kinesis.put_record(StreamName="words", Data=b"x" * (MiB - 2), PartitionKey=f"k{i % 10}")
    got = kinesis.get_records(ShardIterator=iterator(kinesis))
    assert len(got["Records"]) == 10
    rest = kinesis.get_records(ShardIterator=got["NextShardIterator"])
    assert len(rest["Records"]) == 2


# -- iterator expiry --------------------------------------------------------------------------------
def test_iterator_used_at_4_min_59_s_works(kinesis, stream, clock):
    it = iterator(kinesis)
    clock.advance(4 * 60 + 59)
    kinesis.get_records(ShardIterator=it)


def test_iterator_used_at_5_min_01_s_has_expired(kinesis, stream, clock):
    it = iterator(kinesis)
    clock.advance(5 * 60 + 1)
    with pytest.raises(kinesis.exceptions.ExpiredIteratorException) as excinfo:
        kinesis.get_records(ShardIterator=it)
    assert code(excinfo) == "ExpiredIteratorException"


def test_next_shard_iterator_gets_a_fresh_five_minutes(kinesis, stream, clock):
    it = iterator(kinesis)
    clock.advance(4 * 60)
    it = kinesis.get_records(ShardIterator=it)["NextShardIterator"]
    clock.advance(4 * 60)
    kinesis.get_records(ShardIterator=it)


def test_a_mangled_iterator_is_an_invalid_argument(kinesis, stream):
    it = iterator(kinesis)
    with pytest.raises(ClientError) as excinfo:
        kinesis.get_records(ShardIterator=it[:-8] + "AAAAAAA=")
    assert code(excinfo) == "InvalidArgumentException"


# -- write throughput -------------------------------------------------------------------------------
def test_1000_records_within_one_second_are_accepted_and_the_1001st_is_throttled(kinesis, stream, clock):
    for i in range(1000):
        kinesis.put_record(StreamName=stream, Data=b"x", PartitionKey="k")
        clock.advance(0.000999)
    with pytest.raises(ClientError) as excinfo:
        kinesis.put_record(StreamName=stream, Data=b"x", PartitionKey="k")
    assert code(excinfo) == "ProvisionedThroughputExceededException"


def test_the_write_budget_frees_up_one_second_later(kinesis, stream, clock):
    kinesis.put_records(StreamName=stream, Records=batch(500))
    kinesis.put_records(StreamName=stream, Records=batch(500))
    with pytest.raises(kinesis.exceptions.ProvisionedThroughputExceededException):
        kinesis.put_record(StreamName=stream, Data=b"x", PartitionKey="k")
    clock.advance(1.0)
    kinesis.put_record(StreamName=stream, Data=b"x", PartitionKey="k")


def test_in_a_batch_only_the_excess_records_fail(kinesis, stream):
    kinesis.put_records(StreamName=stream, Records=batch(500))
    response = kinesis.put_records(StreamName=stream, Records=batch(500) + [])
    assert response["FailedRecordCount"] == 0
    response = kinesis.put_records(StreamName=stream, Records=batch(3))
    assert response["FailedRecordCount"] == 3
    assert {r["ErrorCode"] for r in response["Records"]} == {"ProvisionedThroughputExceededException"}


def test_a_partially_failed_batch_reports_each_record(kinesis, stream, clock):
    kinesis.put_records(StreamName=stream, Records=batch(400))
    kinesis.put_records(StreamName=stream, Records=batch(400))
    response = kinesis.put_records(StreamName=stream, Records=batch(300))
    assert response["FailedRecordCount"] == 100
    ok, failed = response["Records"][:200], response["Records"][200:]
    assert all("SequenceNumber" in r and "ErrorCode" not in r for r in ok)
    assert all(r["ErrorCode"] == "ProvisionedThroughputExceededException" for r in failed)
    records = kinesis.get_records(ShardIterator=iterator(kinesis))["Records"]
    assert len(records) == 1000


def test_one_mib_per_second_of_writes_per_shard(kinesis, stream, clock):
    kinesis.put_record(StreamName=stream, Data=b"x" * (MiB // 2 - 1), PartitionKey="k")
    kinesis.put_record(StreamName=stream, Data=b"x" * (MiB // 2 - 1), PartitionKey="k")
    with pytest.raises(kinesis.exceptions.ProvisionedThroughputExceededException):
        kinesis.put_record(StreamName=stream, Data=b"x", PartitionKey="k")
    clock.advance(1.0)
    kinesis.put_record(StreamName=stream, Data=b"x", PartitionKey="k")


def test_throughput_is_per_shard(kinesis, clock):
    kinesis.create_stream(StreamName="two", ShardCount=2)
    half = 2**127
    for _ in range(2):
        for hash_key in (0, half):
            kinesis.put_records(StreamName="two", Records=[
                {"Data": b"x", "PartitionKey": "k", "ExplicitHashKey": str(hash_key)}] * 500)
    for hash_key in (0, half):
        with pytest.raises(kinesis.exceptions.ProvisionedThroughputExceededException):
            kinesis.put_record(StreamName="two", Data=b"x", PartitionKey="k", ExplicitHashKey=str(hash_key))


def test_throttling_can_be_switched_off(clock):
    kinesis = kinsim.client(kinsim.MemoryBackend(clock, throttling=False))
    kinesis.create_stream(StreamName="words", ShardCount=1)
    for _ in range(5):
        assert kinesis.put_records(StreamName="words", Records=batch(500))["FailedRecordCount"] == 0


# -- read throughput --------------------------------------------------------------------------------
def test_five_get_records_calls_per_second_per_shard(kinesis, stream, clock):
    it = iterator(kinesis)
    for _ in range(limits.SHARD_READ_CALLS_PER_S):
        it = kinesis.get_records(ShardIterator=it)["NextShardIterator"]
    with pytest.raises(kinesis.exceptions.ProvisionedThroughputExceededException):
        kinesis.get_records(ShardIterator=it)
    clock.advance(1.0)
    kinesis.get_records(ShardIterator=it)


def test_a_10_mib_read_blocks_the_shard_for_seconds(backend, clock):
    kinesis = kinsim.client(backend)
    kinesis.create_stream(StreamName="words", ShardCount=1)
    for i in range(10):
        kinesis.put_record(StreamName="words", Data=b"x" * (MiB - 2), PartitionKey=f"k{i}")
        clock.advance(1.0)
    got = kinesis.get_records(ShardIterator=iterator(kinesis))
    assert len(got["Records"]) == 10
    clock.advance(3.9)
    with pytest.raises(kinesis.exceptions.ProvisionedThroughputExceededException):
        kinesis.get_records(ShardIterator=got["NextShardIterator"])
    clock.advance(0.1)
    kinesis.get_records(ShardIterator=got["NextShardIterator"])

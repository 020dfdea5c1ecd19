"""Streams, shards, iterators, retention and resharding on the simulated shards, read like a log."""

from __future__ import annotations

import datetime as dt
import random
from array import array

import numpy as np
import pytest
from botocore.exceptions import ClientError

import kinsim
from kinsim.backends.shards import even_ranges, partition_key_hash
from kinsim.records import StreamStatus

from .conftest import START

SHARD0 = "shardId-000000000000"


@pytest.fixture
def backend(clock) -> kinsim.MemoryBackend:
    """Throughput limits have their own tests (test_memory_limits); here they would only get in the way."""
    return kinsim.MemoryBackend(clock, throttling=False)


def code(excinfo) -> str:
    return excinfo.value.response["Error"]["Code"]


def read_all(kinesis, stream, shard, kind="TRIM_HORIZON", **extra):
    """Records of one shard from an iterator to the shard's end or to the tip: (data list, last response)."""
    it = kinesis.get_shard_iterator(StreamName=stream, ShardId=shard, ShardIteratorType=kind,
                                    **extra)["ShardIterator"]
    data, response = [], None
    while it:
        response = kinesis.get_records(ShardIterator=it)
        data += [r["Data"] for r in response["Records"]]
        if not response["Records"]:
            break
        it = response.get("NextShardIterator")
    return data, response


# -- streams ----------------------------------------------------------------------------------------
def test_create_describe_list_delete(kinesis):
    kinesis.create_stream(StreamName="b", ShardCount=3)
    kinesis.create_stream(StreamName="a", ShardCount=1)
    assert kinesis.list_streams()["StreamNames"] == ["a", "b"]
    description = kinesis.describe_stream(StreamName="b")["StreamDescription"]
    assert description["StreamStatus"] == "ACTIVE"
    assert description["StreamARN"] == "arn:aws:kinesis:us-east-1:000000000000:stream/b"
    assert description["RetentionPeriodHours"] == 24
    assert description["StreamCreationTimestamp"].timestamp() == START
    ranges = [(int(s["HashKeyRange"]["StartingHashKey"]), int(s["HashKeyRange"]["EndingHashKey"]))
              for s in description["Shards"]]
    assert ranges[0][0] == 0 and ranges[-1][1] == 2**128 - 1
    assert all(a[1] + 1 == b[0] for a, b in zip(ranges, ranges[1:]))
    kinesis.delete_stream(StreamName="b")
    assert kinesis.list_streams()["StreamNames"] == ["a"]
    with pytest.raises(kinesis.exceptions.ResourceNotFoundException):
        kinesis.describe_stream(StreamName="b")


def test_creating_an_existing_stream_is_resource_in_use(kinesis):
    kinesis.create_stream(StreamName="a", ShardCount=1)
    with pytest.raises(ClientError) as excinfo:
        kinesis.create_stream(StreamName="a", ShardCount=1)
    assert code(excinfo) == "ResourceInUseException"


def test_a_bad_stream_name_is_a_validation_error(kinesis):
    with pytest.raises(ClientError) as excinfo:
        kinesis.create_stream(StreamName="no spaces", ShardCount=1)
    assert code(excinfo) == "ValidationException"
    assert "regular expression pattern" in excinfo.value.response["Error"]["Message"]


def test_shard_limit_is_a_limit_exceeded(clock):
    kinesis = kinsim.client(kinsim.MemoryBackend(clock, shard_limit=4))
    kinesis.create_stream(StreamName="a", ShardCount=3)
    with pytest.raises(ClientError) as excinfo:
        kinesis.create_stream(StreamName="b", ShardCount=2)
    assert code(excinfo) == "LimitExceededException"


def test_stream_status_moves_on_the_clock(clock):
    backend = kinsim.MemoryBackend(clock, create_delay=10, update_delay=5, delete_delay=3)
    kinesis = kinsim.client(backend)
    def status():
        return kinesis.describe_stream_summary(StreamName="s")["StreamDescriptionSummary"]["StreamStatus"]
    kinesis.create_stream(StreamName="s", ShardCount=1)
    log = [(status(), 0)]
    with pytest.raises(kinesis.exceptions.ResourceNotFoundException):
        kinesis.put_record(StreamName="s", Data=b"x", PartitionKey="k")
    clock.advance(10)
    log.append((status(), 10))
    kinesis.split_shard(StreamName="s", ShardToSplit=SHARD0, NewStartingHashKey=str(2**127))
    log.append((status(), 10))
    with pytest.raises(kinesis.exceptions.ResourceInUseException):
        kinesis.split_shard(StreamName="s", ShardToSplit=SHARD0, NewStartingHashKey=str(2**126))
    assert backend.put_record("s", b"during", "k").shard_id == SHARD0  # the parent takes writes until done
    clock.advance(5)
    log.append((status(), 15))
    assert backend.put_record("s", b"after", "k").shard_id != SHARD0
    kinesis.delete_stream(StreamName="s")
    log.append((status(), 15))
    clock.advance(3)
    with pytest.raises(kinesis.exceptions.ResourceNotFoundException):
        status()
    assert log == [("CREATING", 0), ("ACTIVE", 10), ("UPDATING", 10), ("ACTIVE", 15), ("DELETING", 15)]


# -- records and iterators --------------------------------------------------------------------------
def test_partition_keys_route_by_md5(kinesis):
    kinesis.create_stream(StreamName="s", ShardCount=4)
    shards = kinesis.list_shards(StreamName="s")["Shards"]
    for key in ("8.8.8.8", "8.8.8.9", "ü", "a" * 256):
        got = kinesis.put_record(StreamName="s", Data=b"x", PartitionKey=key)["ShardId"]
        hash_key = partition_key_hash(key)
        owner = [s["ShardId"] for s in shards if int(s["HashKeyRange"]["StartingHashKey"]) <= hash_key
                 <= int(s["HashKeyRange"]["EndingHashKey"])]
        assert [got] == owner


class Digits:
    """A payload codec for the test: a value is its data's decimal digits (rendered 8 bytes wide)."""

    data_bytes = 8

    def render(self, values):
        return [b"%08d" % value for value in values]

    def parse(self, datas):
        return [int(data) for data in datas]


@pytest.mark.parametrize("as_arrays", [False, True], ids=["lists", "arrays"])
def test_more_partition_keys_than_fit_in_sixteen_bits_read_back(backend, kinesis, as_arrays):
    """A shard keeps each record's key as an index into the stream's key table, two bytes wide until
    the table outgrows them: keys past 65,535 come back whole, through puts and through an appender
    (given lists, or numpy and typed arrays as a simulation's runs come)."""
    kinesis.create_stream(StreamName="s", ShardCount=1)
    keys = [f"10.{i >> 16}.{(i >> 8) & 255}.{i & 255}" for i in range(70_000)]
    for first in range(0, 65_000, 500):
        kinesis.put_records(StreamName="s", Records=[{"Data": b"x", "PartitionKey": key}
                                                     for key in keys[first:first + 500]])
    codec = Digits()
    appender = backend.appender("s", keys[65_000:], codec)
    sources = list(range(5_000))
    backend.throttling = False
    if as_arrays:
        assert appender.append(SHARD0, np.full(5_000, START, np.float64), array("I", sources),
                               array("q", sources)) == len(sources)
    else:
        assert appender.append(SHARD0, [START] * len(sources), sources, sources) == len(sources)
    iterator = backend.get_shard_iterator("s", SHARD0, "TRIM_HORIZON")
    first = backend.get_records(iterator, 10_000)
    assert first.records.partition_keys == tuple(keys[:10_000])
    rest = []
    while iterator is not None and len(rest) < 70_000:
        result = backend.get_records(iterator, 10_000)
        rest += list(result.records)
        iterator = result.next_shard_iterator if result.records else None
    assert [r.partition_key for r in rest] == keys
    assert [r.data for r in rest[-2:]] == [b"00004998", b"00004999"]
    assert [r.data for r in rest[:2]] == [b"x", b"x"]
    tail = backend.get_records(backend.get_shard_iterator("s", SHARD0, "AT_SEQUENCE_NUMBER",
                                                          rest[-3].sequence_number))
    assert tail.records.values(codec) == (4997, 4998, 4999)   # held as values: no parsing


def test_records_written_as_bytes_and_as_values_read_back_in_order(backend):
    """A shard may hold both: data written as bytes (any client) and as values of the stream's codec."""
    backend.create_stream("s", 1)
    codec = Digits()
    appender = backend.appender("s", ["k"], codec)
    backend.put_record("s", b"00000007", "k")
    assert appender.append(SHARD0, [START], [0], [8]) == 1
    backend.put_record("s", b"00000009", "k")
    result = backend.get_records(backend.get_shard_iterator("s", SHARD0, "TRIM_HORIZON"))
    assert [r.data for r in result.records] == [b"00000007", b"00000008", b"00000009"]
    assert result.records.values(codec) == (7, 8, 9)
    assert result.records.datas == [b"00000007", b"00000008", b"00000009"]
    with pytest.raises(ValueError, match="after the clock's now"):
        appender.append(SHARD0, [START + 1], [0], [10])  # no record arrives from the future


def test_records_carry_sequence_number_arrival_data_and_key(kinesis, clock):
    kinesis.create_stream(StreamName="s", ShardCount=1)
    put = kinesis.put_record(StreamName="s", Data="2018-07-31T21:56:42.972560", PartitionKey="8.8.8.8")
    [record] = kinesis.get_records(ShardIterator=kinesis.get_shard_iterator(
        StreamName="s", ShardId=SHARD0, ShardIteratorType="TRIM_HORIZON")["ShardIterator"])["Records"]
    assert record["SequenceNumber"] == put["SequenceNumber"]
    assert record["Data"] == b"2018-07-31T21:56:42.972560"
    assert record["PartitionKey"] == "8.8.8.8"
    assert record["ApproximateArrivalTimestamp"] == dt.datetime.fromtimestamp(START, dt.timezone.utc)


def test_the_five_iterator_types(kinesis, clock):
    kinesis.create_stream(StreamName="s", ShardCount=1)
    seqs = []
    for i in range(5):
        seqs.append(kinesis.put_record(StreamName="s", Data=str(i).encode(), PartitionKey="k")["SequenceNumber"])
        clock.advance(10)
    latest = kinesis.get_shard_iterator(StreamName="s", ShardId=SHARD0, ShardIteratorType="LATEST")["ShardIterator"]
    kinesis.put_record(StreamName="s", Data=b"5", PartitionKey="k")
    assert [r["Data"] for r in kinesis.get_records(ShardIterator=latest)["Records"]] == [b"5"]
    assert read_all(kinesis, "s", SHARD0)[0] == [b"0", b"1", b"2", b"3", b"4", b"5"]
    assert read_all(kinesis, "s", SHARD0, "AT_SEQUENCE_NUMBER", StartingSequenceNumber=seqs[2])[0][0] == b"2"
    assert read_all(kinesis, "s", SHARD0, "AFTER_SEQUENCE_NUMBER", StartingSequenceNumber=seqs[2])[0][0] == b"3"
    at = dt.datetime.fromtimestamp(START + 15, dt.timezone.utc)
    assert read_all(kinesis, "s", SHARD0, "AT_TIMESTAMP", Timestamp=at)[0] == [b"2", b"3", b"4", b"5"]
    assert read_all(kinesis, "s", SHARD0, "AT_TIMESTAMP", Timestamp=START + 20)[0][0] == b"2"


def test_iterator_argument_errors(kinesis, clock):
    kinesis.create_stream(StreamName="s", ShardCount=2)
    seq = kinesis.put_record(StreamName="s", Data=b"x", PartitionKey="k", ExplicitHashKey="0")["SequenceNumber"]

    def error(**params):
        with pytest.raises(ClientError) as excinfo:
            kinesis.get_shard_iterator(StreamName="s", **params)
        return code(excinfo)

    assert error(ShardId=SHARD0, ShardIteratorType="AT_SEQUENCE_NUMBER") == "InvalidArgumentException"
    assert error(ShardId=SHARD0, ShardIteratorType="LATEST", StartingSequenceNumber=seq) == "InvalidArgumentException"
    assert error(ShardId="shardId-000000000001", ShardIteratorType="AT_SEQUENCE_NUMBER",
                 StartingSequenceNumber=seq) == "InvalidArgumentException"
    assert error(ShardId=SHARD0, ShardIteratorType="AT_TIMESTAMP") == "InvalidArgumentException"
    assert error(ShardId=SHARD0, ShardIteratorType="AT_TIMESTAMP", Timestamp=START + 60) == "InvalidArgumentException"
    assert error(ShardId="shardId-000000000009", ShardIteratorType="LATEST") == "ResourceNotFoundException"
    assert error(ShardId=SHARD0, ShardIteratorType="SOMEWHERE") == "ValidationException"


def test_millis_behind_latest_is_the_age_of_the_oldest_unread_record(kinesis, clock):
    kinesis.create_stream(StreamName="s", ShardCount=1)
    for _ in range(3):
        kinesis.put_record(StreamName="s", Data=b"x", PartitionKey="k")
        clock.advance(2.5)
    it = kinesis.get_shard_iterator(StreamName="s", ShardId=SHARD0, ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    first = kinesis.get_records(ShardIterator=it, Limit=1)
    assert first["MillisBehindLatest"] == 5000  # the second record arrived 5 s ago
    rest = kinesis.get_records(ShardIterator=first["NextShardIterator"])
    assert rest["MillisBehindLatest"] == 0


def test_reading_a_deleted_stream_is_resource_not_found(kinesis):
    kinesis.create_stream(StreamName="s", ShardCount=1)
    it = kinesis.get_shard_iterator(StreamName="s", ShardId=SHARD0, ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    kinesis.delete_stream(StreamName="s")
    kinesis.create_stream(StreamName="s", ShardCount=1)
    with pytest.raises(kinesis.exceptions.ResourceNotFoundException):
        kinesis.get_records(ShardIterator=it)


# -- retention --------------------------------------------------------------------------------------
def test_records_older_than_retention_are_trimmed(kinesis, clock):
    kinesis.create_stream(StreamName="s", ShardCount=1)
    kinesis.put_record(StreamName="s", Data=b"old", PartitionKey="k")
    clock.advance(23 * 3600)
    kinesis.put_record(StreamName="s", Data=b"new", PartitionKey="k")
    assert read_all(kinesis, "s", SHARD0)[0] == [b"old", b"new"]
    clock.advance(3600)
    assert read_all(kinesis, "s", SHARD0)[0] == [b"new"]


def test_retention_can_be_increased_and_decreased_within_limits(kinesis, clock):
    kinesis.create_stream(StreamName="s", ShardCount=1)
    kinesis.put_record(StreamName="s", Data=b"old", PartitionKey="k")
    kinesis.increase_stream_retention_period(StreamName="s", RetentionPeriodHours=48)
    clock.advance(30 * 3600)
    assert read_all(kinesis, "s", SHARD0)[0] == [b"old"]
    for call, hours in ((kinesis.increase_stream_retention_period, 8761),
                        (kinesis.decrease_stream_retention_period, 23),
                        (kinesis.increase_stream_retention_period, 24),
                        (kinesis.decrease_stream_retention_period, 72)):
        with pytest.raises(kinesis.exceptions.InvalidArgumentException):
            call(StreamName="s", RetentionPeriodHours=hours)
    kinesis.decrease_stream_retention_period(StreamName="s", RetentionPeriodHours=24)
    assert read_all(kinesis, "s", SHARD0)[0] == []


# -- resharding -------------------------------------------------------------------------------------
def test_split_closes_the_parent_and_routes_writes_to_the_children(kinesis, clock):
    kinesis.create_stream(StreamName="s", ShardCount=1)
    kinesis.put_record(StreamName="s", Data=b"before", PartitionKey="k")
    kinesis.split_shard(StreamName="s", ShardToSplit=SHARD0, NewStartingHashKey=str(2**127))
    shards = {s["ShardId"]: s for s in kinesis.list_shards(StreamName="s")["Shards"]}
    parent, low, high = shards[SHARD0], shards["shardId-000000000001"], shards["shardId-000000000002"]
    assert "EndingSequenceNumber" in parent["SequenceNumberRange"]
    assert low["ParentShardId"] == high["ParentShardId"] == SHARD0
    assert low["HashKeyRange"]["EndingHashKey"] == str(2**127 - 1)
    assert high["HashKeyRange"]["StartingHashKey"] == str(2**127)
    for hash_key in (0, 2**127 - 1, 2**127, 2**128 - 1):
        put = kinesis.put_record(StreamName="s", Data=b"after", PartitionKey="k", ExplicitHashKey=str(hash_key))
        assert put["ShardId"] == ("shardId-000000000001" if hash_key < 2**127 else "shardId-000000000002")
    data, last = read_all(kinesis, "s", SHARD0)
    assert data == [b"before"]
    assert "NextShardIterator" not in last
    assert [c["ShardId"] for c in last["ChildShards"]] == ["shardId-000000000001", "shardId-000000000002"]
    assert all(c["ParentShards"] == [SHARD0] for c in last["ChildShards"])


def test_split_hash_key_must_lie_strictly_inside(kinesis):
    kinesis.create_stream(StreamName="s", ShardCount=1)
    for key in ("0", "1", str(2**128 - 1)):
        with pytest.raises(kinesis.exceptions.InvalidArgumentException):
            kinesis.split_shard(StreamName="s", ShardToSplit=SHARD0, NewStartingHashKey=key)
    kinesis.split_shard(StreamName="s", ShardToSplit=SHARD0, NewStartingHashKey="2")


def test_merge_needs_adjacent_open_shards(kinesis):
    kinesis.create_stream(StreamName="s", ShardCount=3)
    ids = [f"shardId-00000000000{i}" for i in range(3)]
    with pytest.raises(kinesis.exceptions.InvalidArgumentException):
        kinesis.merge_shards(StreamName="s", ShardToMerge=ids[0], AdjacentShardToMerge=ids[2])
    kinesis.merge_shards(StreamName="s", ShardToMerge=ids[1], AdjacentShardToMerge=ids[0])
    with pytest.raises(kinesis.exceptions.InvalidArgumentException):
        kinesis.merge_shards(StreamName="s", ShardToMerge=ids[0], AdjacentShardToMerge=ids[1])
    child = kinesis.list_shards(StreamName="s", ShardFilter={"Type": "AT_LATEST"})["Shards"][-1]
    assert child["ShardId"] == "shardId-000000000003"
    assert {child["ParentShardId"], child["AdjacentParentShardId"]} == {ids[0], ids[1]}
    assert child["HashKeyRange"]["StartingHashKey"] == "0"


@pytest.mark.parametrize("start, target", [(1, 2), (2, 1), (3, 5), (5, 3), (4, 8), (8, 4), (3, 3)])
def test_update_shard_count_gives_even_open_shards(kinesis, start, target):
    kinesis.create_stream(StreamName="s", ShardCount=start)
    response = kinesis.update_shard_count(StreamName="s", TargetShardCount=target, ScalingType="UNIFORM_SCALING")
    assert (response["CurrentShardCount"], response["TargetShardCount"]) == (start, target)
    open_shards = kinesis.list_shards(StreamName="s", ShardFilter={"Type": "AT_LATEST"})["Shards"]
    ranges = sorted((int(s["HashKeyRange"]["StartingHashKey"]), int(s["HashKeyRange"]["EndingHashKey"]))
                    for s in open_shards)
    size = 2**128 // target
    assert ranges == [(i * size, (i + 1) * size - 1 if i < target - 1 else 2**128 - 1) for i in range(target)]


def plain_scale_uniformly(stream, target, now):
    """UpdateShardCount the plain way: each boundary tried on each open shard, each target range's pieces
    found among all open shards, the routing rebuilt at every split and merge."""
    targets = even_ranges(target)
    boundaries = [r.start for r in targets[1:]]
    for shard in sorted(stream.open_shards(), key=lambda s: s.hash_key_range.start):
        piece = shard
        for boundary in boundaries:
            if piece.hash_key_range.start < boundary <= piece.hash_key_range.end:
                stream.split(piece, boundary, now)
                piece = piece.children[1]
    for target_range in targets:
        pieces = sorted((s for s in stream.open_shards() if s.hash_key_range.start in target_range),
                        key=lambda s: s.hash_key_range.start)
        for piece in pieces[1:]:
            stream.merge(pieces[0], piece, now)
            pieces[0] = pieces[0].children[0]


@pytest.mark.parametrize("seed", range(12))
def test_update_shard_count_reshards_as_the_plain_way_does(clock, seed):
    """Whatever uneven shards a stream has, UpdateShardCount opens, closes and numbers the same shards as
    splitting at each boundary and merging each target range one at a time."""
    rng = random.Random(seed)
    backends = [kinsim.MemoryBackend(clock, throttling=False) for _ in range(2)]
    shards = rng.randint(1, 40)
    for backend in backends:
        backend.create_stream("s", shards)
    for _ in range(rng.randint(0, 6)):  # an uneven history first
        shard = rng.choice(sorted(backends[0].account.stream("s").open_shards(), key=lambda s: s.shard_id))
        point = rng.randint(shard.hash_key_range.start + 2, shard.hash_key_range.end - 1)
        for backend in backends:
            backend.split_shard("s", shard.shard_id, str(point))
    current = len(backends[0].account.stream("s").open_shards())
    target = rng.randint((current + 1) // 2, 2 * current)
    backends[0].update_shard_count("s", target)
    if target != current:  # the same count again changes nothing, uneven or not
        plain_scale_uniformly(backends[1].account.stream("s"), target, clock.now())
    listed = [[(s.shard_id, s.hash_key_range, s.parent_shard_id, s.adjacent_parent_shard_id, s.ending_sequence_number)
               for s in backend.list_shards("s")] for backend in backends]
    assert listed[0] == listed[1]
    assert len([s for s in listed[0] if s[4] is None]) == target or target == current


def test_update_shard_count_limits(kinesis):
    kinesis.create_stream(StreamName="s", ShardCount=4)
    for target in (9, 1):
        with pytest.raises(kinesis.exceptions.LimitExceededException):
            kinesis.update_shard_count(StreamName="s", TargetShardCount=target, ScalingType="UNIFORM_SCALING")
    for target in [8, 4] * 5:
        kinesis.update_shard_count(StreamName="s", TargetShardCount=target, ScalingType="UNIFORM_SCALING")
    with pytest.raises(kinesis.exceptions.LimitExceededException):
        kinesis.update_shard_count(StreamName="s", TargetShardCount=8, ScalingType="UNIFORM_SCALING")


def test_closed_shards_leave_the_listing_after_retention(kinesis, clock, backend):
    kinesis.create_stream(StreamName="s", ShardCount=1)
    kinesis.split_shard(StreamName="s", ShardToSplit=SHARD0, NewStartingHashKey=str(2**127))
    clock.advance(24 * 3600)
    ids = [s.shard_id for s in backend.list_shards("s")]
    assert ids == ["shardId-000000000001", "shardId-000000000002"]
    assert backend.describe_stream("s").status is StreamStatus.ACTIVE

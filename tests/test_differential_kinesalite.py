"""The same boto3 calls against ``kinsim.client()`` and against kinesalite: same results, same errors.

Each case is a script of boto3 calls. Both sides run it on a stream of the same fresh name; every
response is normalised (sequence numbers become labels in order of first appearance, iterators and
times become placeholders) and the two logs must be equal, error codes included.

Where kinesalite 3.3.3 is not faithful to the service, the case leaves that behaviour out, and says why:

- it never throttles: cases stay under 5 reads per shard per second and 1,000 writes per shard;
- it has no UpdateShardCount, and merges or splits closed shards without complaint: not scripted here;
- it does not check data + partition key against 1 MiB, nor a PutRecords batch against 5 MiB
  (test_memory_limits covers both; moto agrees with kinsim there);
- it ignores DescribeStream's ``Limit`` and ``ExclusiveStartShardId`` and ListShards' ``MaxResults``
  (it returns every shard): paging is covered in test_client;
- it still holds retention above 168 hours to be a ``ValidationException``, from before the service
  allowed 8,760 hours and answered ``InvalidArgumentException`` past that;
- its ExplicitHashKey pattern is unanchored in JavaScript, so ``-1`` passes the model check and
  comes back as ``InvalidArgumentException`` instead of the service's ``ValidationException``;
- it predates ChildShards (2020) and on-demand streams (2021): ``ChildShards``, ``StreamModeDetails``,
  ``StreamSummaries`` and ``ConsumerCount`` are dropped before comparing;
- it ends a closed shard with one extra empty read, where kinsim returns no ``NextShardIterator`` with
  the last records: parents are read to their end with ``drain`` and only the records compared;
- its ``MillisBehindLatest`` is always 0 on an open shard: the value is not compared;
- waiting out iterator expiry or retention takes minutes to days on its wall clock: covered on the
  virtual clock in test_memory_limits and test_memory_streams.
"""

from __future__ import annotations

import time
import uuid
from datetime import datetime, timezone

import pytest
from botocore.exceptions import ClientError

import kinsim

pytestmark = pytest.mark.kinesalite

MiB = 1024 * 1024
NOT_COMPARED = {"ResponseMetadata", "ChildShards", "StreamModeDetails", "StreamSummaries", "ConsumerCount",
                "MillisBehindLatest"}
SEQUENCE_KEYS = {"SequenceNumber", "StartingSequenceNumber", "EndingSequenceNumber"}
PLACEHOLDERS = {"ShardIterator": "<iterator>", "NextShardIterator": "<iterator>",
                "ApproximateArrivalTimestamp": "<time>", "StreamCreationTimestamp": "<time>"}


class Log:
    """Runs boto3 calls on one client and keeps what each returned, normalised."""

    def __init__(self, client) -> None:
        self.client = client
        self.entries: list = []
        self._labels: dict[str, str] = {}

    def _normalise(self, value, key=None):
        if isinstance(value, dict):
            return {k: self._normalise(v, k) for k, v in sorted(value.items()) if k not in NOT_COMPARED}
        if isinstance(value, list):
            return [self._normalise(v) for v in value]
        if key in PLACEHOLDERS:
            return PLACEHOLDERS[key]
        if key in SEQUENCE_KEYS:
            return self._labels.setdefault(value, f"seq{len(self._labels)}")
        return value

    def __call__(self, method: str, **params):
        try:
            response = getattr(self.client, method)(**params)
        except ClientError as exc:
            self.entries.append((method, "error", exc.response["Error"]["Code"]))
            return None
        self.entries.append((method, self._normalise(response)))
        return response

    def note(self, label: str, value) -> None:
        self.entries.append((label, self._normalise(value)))


def settle(log, stream, gone=False) -> None:
    """Wait, unlogged, until the stream is ACTIVE (or gone): kinesalite moves status on a timer even
    when told 0 ms, while kinsim's default is immediate."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            status = log.client.describe_stream_summary(StreamName=stream)["StreamDescriptionSummary"]["StreamStatus"]
        except ClientError:
            if gone:
                return
        else:
            if status == "ACTIVE" and not gone:
                return
        time.sleep(0.01)
    raise AssertionError(f"{stream} did not settle")


def iterator(log, stream, shard, kind="TRIM_HORIZON", **extra):
    response = log("get_shard_iterator", StreamName=stream, ShardId=shard, ShardIteratorType=kind, **extra)
    return response["ShardIterator"] if response else None


def drain(log, it, calls=4) -> None:
    """Read a closed shard to its end; log the records, not how many calls the end took."""
    records = []
    for _ in range(calls):
        response = log.client.get_records(ShardIterator=it)
        records += response["Records"]
        it = response.get("NextShardIterator")
        if it is None:
            break
    log.note("drained", {"Records": records, "ended": it is None})


# -- the scripts ------------------------------------------------------------------------------------
def stream_lifecycle(log, stream):
    log("create_stream", StreamName=stream, ShardCount=3)
    settle(log, stream)
    log("describe_stream", StreamName=stream)
    log("describe_stream_summary", StreamName=stream)
    log("list_shards", StreamName=stream)
    log("create_stream", StreamName=stream, ShardCount=1)
    settle(log, stream)
    log("increase_stream_retention_period", StreamName=stream, RetentionPeriodHours=48)
    settle(log, stream)
    log("describe_stream_summary", StreamName=stream)
    log("decrease_stream_retention_period", StreamName=stream, RetentionPeriodHours=72)
    log("decrease_stream_retention_period", StreamName=stream, RetentionPeriodHours=24)
    settle(log, stream)
    log("delete_stream", StreamName=stream)
    settle(log, stream, gone=True)
    log("describe_stream", StreamName=stream)
    log("delete_stream", StreamName=stream)
    log("put_record", StreamName=stream, Data=b"x", PartitionKey="k")


def put_and_read(log, stream):
    log("create_stream", StreamName=stream, ShardCount=2)
    settle(log, stream)
    puts = [log("put_record", StreamName=stream, Data=f"{i}".encode(), PartitionKey=f"8.8.8.{i % 4}")
            for i in range(8)]
    log("put_records", StreamName=stream, Records=[
        {"Data": f"batch{i}".encode(), "PartitionKey": f"8.8.8.{i % 4}"} for i in range(10)])
    log("put_record", StreamName=stream, Data="text is sent as UTF-8: é", PartitionKey="ü")
    log("put_record", StreamName=stream, Data=b"explicit", PartitionKey="k", ExplicitHashKey=str(2**128 - 1))
    for shard in ("shardId-000000000000", "shardId-000000000001"):
        it = iterator(log, stream, shard)
        first = log("get_records", ShardIterator=it, Limit=3)
        log("get_records", ShardIterator=first["NextShardIterator"])
    shard0 = puts[0]["ShardId"]
    seq = puts[0]["SequenceNumber"]
    log("get_records", ShardIterator=iterator(log, stream, shard0, "AT_SEQUENCE_NUMBER",
                                              StartingSequenceNumber=seq), Limit=2)
    log("get_records", ShardIterator=iterator(log, stream, shard0, "AFTER_SEQUENCE_NUMBER",
                                              StartingSequenceNumber=seq), Limit=2)
    latest = iterator(log, stream, "shardId-000000000001", "LATEST")
    log("put_record", StreamName=stream, Data=b"after LATEST", PartitionKey="k", ExplicitHashKey=str(2**128 - 1))
    log("get_records", ShardIterator=latest)


def at_timestamp(log, stream):
    log("create_stream", StreamName=stream, ShardCount=1)
    settle(log, stream)
    log("put_record", StreamName=stream, Data=b"before", PartitionKey="k")
    time.sleep(1.05 - time.time() % 1)  # boto3 sends whole seconds: cross into the next one
    mark = datetime.now(timezone.utc)
    log("put_record", StreamName=stream, Data=b"after", PartitionKey="k")
    it = iterator(log, stream, "shardId-000000000000", "AT_TIMESTAMP", Timestamp=mark)
    log("get_records", ShardIterator=it)
    it = iterator(log, stream, "shardId-000000000000", "AT_TIMESTAMP", Timestamp=datetime(2000, 1, 1))
    log("get_records", ShardIterator=it)


def bad_requests(log, stream):
    log("create_stream", StreamName=stream, ShardCount=2)
    settle(log, stream)
    log("create_stream", StreamName="bad name", ShardCount=1)
    log("put_record", StreamName=stream, Data=b"x", PartitionKey="k" * 256)
    log("put_record", StreamName=stream, Data=b"x", PartitionKey="k" * 257)
    log("put_record", StreamName=stream, Data=b"x" * (MiB + 1), PartitionKey="k")
    log("put_record", StreamName=stream, Data=b"x", PartitionKey="k", ExplicitHashKey=str(2**128))
    log("put_record", StreamName=stream + "-missing", Data=b"x", PartitionKey="k")
    log("put_records", StreamName=stream, Records=[{"Data": b"x", "PartitionKey": "k"}] * 500)
    log("put_records", StreamName=stream, Records=[{"Data": b"x", "PartitionKey": "k"}] * 501)
    log("put_records", StreamName=stream, Records=[{"Data": b"x", "PartitionKey": "k" * 257}])
    it = iterator(log, stream, "shardId-000000000000")
    log("get_records", ShardIterator=it, Limit=10_000)
    log("get_records", ShardIterator=it, Limit=10_001)
    log("get_records", ShardIterator="AAAA" + it[4:-4] + "AAAA")
    seq = log("put_record", StreamName=stream, Data=b"x", PartitionKey="k", ExplicitHashKey="0")["SequenceNumber"]
    iterator(log, stream, "shardId-000000000001", "AT_SEQUENCE_NUMBER", StartingSequenceNumber=seq)
    iterator(log, stream, "shardId-000000000000", "AT_SEQUENCE_NUMBER")
    iterator(log, stream, "shardId-000000000000", "TRIM_HORIZON", StartingSequenceNumber=seq)
    iterator(log, stream, "shardId-000000000000", "AT_TIMESTAMP")
    iterator(log, stream, "shardId-000000000000", "AT_TIMESTAMP", Timestamp=datetime(2999, 1, 1))
    iterator(log, stream, "shardId-000000000007")
    iterator(log, stream, "shardId-000000000000", "NOWHERE")
    iterator(log, stream + "-missing", "shardId-000000000000")
    log("split_shard", StreamName=stream, ShardToSplit="shardId-000000000000", NewStartingHashKey="1")
    log("split_shard", StreamName=stream, ShardToSplit="shardId-000000000009", NewStartingHashKey="100")
    log("merge_shards", StreamName=stream, ShardToMerge="shardId-000000000000",
        AdjacentShardToMerge="shardId-000000000009")


def split_then_merge(log, stream):
    log("create_stream", StreamName=stream, ShardCount=1)
    settle(log, stream)
    for i in range(4):
        log("put_record", StreamName=stream, Data=f"before{i}".encode(), PartitionKey=f"8.8.8.{i}")
    log("split_shard", StreamName=stream, ShardToSplit="shardId-000000000000", NewStartingHashKey=str(2**127))
    settle(log, stream)
    log("describe_stream", StreamName=stream)
    for i in range(4):
        log("put_record", StreamName=stream, Data=f"after{i}".encode(), PartitionKey=f"8.8.8.{i}")
    drain(log, iterator(log, stream, "shardId-000000000000"))
    for child in ("shardId-000000000001", "shardId-000000000002"):
        log("get_records", ShardIterator=iterator(log, stream, child))
    log("merge_shards", StreamName=stream, ShardToMerge="shardId-000000000001",
        AdjacentShardToMerge="shardId-000000000002")
    settle(log, stream)
    log("describe_stream", StreamName=stream)
    log("list_shards", StreamName=stream)
    log("put_record", StreamName=stream, Data=b"merged", PartitionKey="k")
    drain(log, iterator(log, stream, "shardId-000000000001"))
    log("get_records", ShardIterator=iterator(log, stream, "shardId-000000000003"))


CASES = [stream_lifecycle, put_and_read, at_timestamp, bad_requests, split_then_merge]


@pytest.mark.parametrize("case", CASES, ids=[c.__name__ for c in CASES])
def test_kinsim_client_answers_like_kinesalite(case, kinesalite):
    stream = f"kinsim-diff-{case.__name__.replace('_', '-')}-{uuid.uuid4().hex[:8]}"
    expected, actual = Log(kinesalite), Log(kinsim.client())
    case(expected, stream)
    case(actual, stream)
    assert len(actual.entries) == len(expected.entries)
    for step, (ours, theirs) in enumerate(zip(actual.entries, expected.entries)):
        assert ours == theirs, f"step {step}: {ours[0]}"

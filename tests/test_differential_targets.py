"""The same generated Kinesis calls through every way of reaching kinsim give the same answers.

The reference is ``kinsim.client(MemoryBackend(ManualClock(T)))``: the api layer called in process.
Each *target* is another way in, on a manual clock standing at the same T; today:

- ``mock``: a ``boto3.client("kinesis")`` made inside ``kinsim.mock(ManualClock(...))``, so botocore's
  serialiser, the wire codec, the endpoint and botocore's parser all lie between the call and the api
  layer;
- ``serve``: boto3 against ``kinsim serve`` (``kinsim.serve.Server``) on a manual clock on 127.0.0.1,
  reset and moved through its admin paths (``POST /_kinsim/reset``, ``POST /_kinsim/clock/advance``);
  one server for every example (the test extra installs the serve extra: without it, this fails).

Every response must be equal, ``ResponseMetadata`` aside: sequence numbers, iterators, timestamps,
error codes and messages. botocore's retries are off (the reference answers each call once, on purpose).

Another target is one more entry in ``TARGETS``: a context manager yielding a ``Target`` (a boto3
client, ``reset()`` and ``advance(seconds)``).
"""

from __future__ import annotations

import contextlib
import json
import urllib.request
from datetime import datetime, timezone
from typing import Any, Callable, Iterator, Optional, Protocol

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from hypothesis import given, settings
from hypothesis import strategies as st

import kinsim
from kinsim.clock import ManualClock
from tests.conftest import START
from kinsim.strategies import Advance, Merge, Put, PutBatch, Rescale, Split, picks, workloads

STREAM = "agree"
NO_RETRIES = Config(retries={"mode": "standard", "total_max_attempts": 1})
MAX_OPEN = 16
MAX_RESCALES = 10


class Target(Protocol):
    client: Any

    def reset(self) -> float:
        """Forget every stream; the clock's now."""

    def advance(self, seconds: float) -> None:
        ...


class MockTarget:
    def __init__(self, mocked: kinsim.mock) -> None:
        self.mocked = mocked
        self.client = boto3.client("kinesis", config=NO_RETRIES)

    def reset(self) -> float:
        self.mocked.endpoint.reset()
        return self.mocked.clock.now()

    def advance(self, seconds: float) -> None:
        self.mocked.clock.advance(seconds)


@contextlib.contextmanager
def mock_target() -> Iterator[Target]:
    with kinsim.mock(ManualClock(START)) as mocked:
        yield MockTarget(mocked)


class ServedTarget:
    def __init__(self, endpoint_url: str) -> None:
        self.endpoint_url = endpoint_url
        self.client = boto3.client("kinesis", endpoint_url=endpoint_url, region_name="us-east-1",
                                   aws_access_key_id="kinsim-test", aws_secret_access_key="kinsim-test",
                                   config=NO_RETRIES)

    def _admin(self, path: str, document: Optional[dict] = None) -> dict:
        request = urllib.request.Request(f"{self.endpoint_url}/_kinsim/{path}", method="POST",
                                         data=json.dumps(document or {}).encode("utf-8"))
        with urllib.request.urlopen(request, timeout=30) as answer:
            return json.loads(answer.read())

    def reset(self) -> float:
        return self._admin("reset")["now"]

    def advance(self, seconds: float) -> None:
        self._admin("clock/advance", {"seconds": seconds})


@contextlib.contextmanager
def served_target() -> Iterator[Target]:
    from kinsim.endpoint import Endpoint
    from kinsim.serve import Server

    with Server(Endpoint(ManualClock(START))) as server:
        assert server.endpoint_url.startswith("http://127.0.0.1:"), server.endpoint_url
        yield ServedTarget(server.endpoint_url)


TARGETS: dict[str, Callable[[], contextlib.AbstractContextManager]] = {"mock": mock_target, "serve": served_target}


@pytest.fixture(scope="module", params=sorted(TARGETS))
def target(request) -> Iterator[Target]:
    with TARGETS[request.param]() as opened:
        yield opened


# -- running the same calls on two clients -------------------------------------------------------------
def answer(client, method: str, **params: Any) -> dict:
    """The response without its metadata, or the error the client raised."""
    try:
        response = getattr(client, method)(**params)
    except ClientError as exc:
        response = {"raised": exc.response}
    response.pop("ResponseMetadata", None)
    if "raised" in response:
        response["raised"] = {k: v for k, v in response["raised"].items() if k != "ResponseMetadata"}
    return response


class Pair:
    """The reference and a target, called alike; every answer compared as it comes."""

    def __init__(self, target: Target) -> None:
        self.target = target
        self.start = target.reset()
        self.clock = ManualClock(self.start)
        self.reference = kinsim.client(kinsim.MemoryBackend(self.clock))
        self.calls = 0
        self.rescales = 0

    def call(self, method: str, **params: Any) -> dict:
        expected = answer(self.reference, method, **params)
        got = answer(self.target.client, method, **params)
        self.calls += 1
        assert got == expected, f"call {self.calls}: {method}({params})"
        return expected

    def advance(self, seconds: float) -> None:
        self.clock.advance(seconds)
        self.target.advance(seconds)

    def open_shards(self) -> list[dict]:
        shards = self.call("list_shards", StreamName=STREAM, ShardFilter={"Type": "AT_LATEST"})["Shards"]
        return sorted(shards, key=lambda s: int(s["HashKeyRange"]["StartingHashKey"]))

    # -- the workload's actions ----------------------------------------------------------------------
    def apply(self, action) -> None:
        if isinstance(action, Advance):
            self.advance(action.seconds)
        elif isinstance(action, Put):
            extra = {"ExplicitHashKey": action.explicit_hash_key} if action.explicit_hash_key else {}
            self.call("put_record", StreamName=STREAM, Data=action.data, PartitionKey=action.partition_key, **extra)
        elif isinstance(action, PutBatch):
            self.call("put_records", StreamName=STREAM, Records=[
                {"Data": e.data, "PartitionKey": e.partition_key,
                 **({"ExplicitHashKey": e.explicit_hash_key} if e.explicit_hash_key else {})} for e in action.entries])
        elif isinstance(action, Split):
            shards = self.open_shards()
            if len(shards) < MAX_OPEN:
                shard = shards[action.shard_pick % len(shards)]
                low = int(shard["HashKeyRange"]["StartingHashKey"])
                high = int(shard["HashKeyRange"]["EndingHashKey"])
                key = low + action.key_pick % (high - low + 2)  # now and then one outside: an error to compare
                self.call("split_shard", StreamName=STREAM, ShardToSplit=shard["ShardId"], NewStartingHashKey=str(key))
        elif isinstance(action, Merge):
            shards = self.open_shards()
            if len(shards) >= 2:
                i = action.pair_pick % (len(shards) - 1)
                pair = [shards[i]["ShardId"], shards[i + 1]["ShardId"]]
                first, second = reversed(pair) if action.swap else pair
                self.call("merge_shards", StreamName=STREAM, ShardToMerge=first, AdjacentShardToMerge=second)
        elif isinstance(action, Rescale) and self.rescales < MAX_RESCALES:
            current = len(self.open_shards())
            low, high = max(1, (current + 1) // 2), min(2 * current, MAX_OPEN)
            self.rescales += 1
            self.call("update_shard_count", StreamName=STREAM, ScalingType="UNIFORM_SCALING",
                      TargetShardCount=low + action.target_pick % (high - low + 1))

    # -- looking at everything -----------------------------------------------------------------------
    def read_everything(self, limit: Optional[int], at_pick: int) -> None:
        shards = self.call("list_shards", StreamName=STREAM)["Shards"]
        for shard in shards:
            self.advance(0.25)  # four reads a second per shard: under the limit of five
            iterator = self.call("get_shard_iterator", StreamName=STREAM, ShardId=shard["ShardId"],
                                 ShardIteratorType="TRIM_HORIZON").get("ShardIterator")
            records = []
            for _ in range(50):
                if iterator is None:
                    break
                self.advance(0.25)
                page = self.call("get_records", ShardIterator=iterator, **({"Limit": limit} if limit else {}))
                records += page.get("Records", [])
                iterator = page.get("NextShardIterator") if page.get("Records") or "EndingSequenceNumber" in \
                    shard["SequenceNumberRange"] else None
            if records:  # start again inside the shard, by sequence number and by time
                record = records[at_pick % len(records)]
                self.call("get_shard_iterator", StreamName=STREAM, ShardId=shard["ShardId"],
                          ShardIteratorType="AT_SEQUENCE_NUMBER", StartingSequenceNumber=record["SequenceNumber"])
                self.call("get_shard_iterator", StreamName=STREAM, ShardId=shard["ShardId"],
                          ShardIteratorType="AT_TIMESTAMP", Timestamp=record["ApproximateArrivalTimestamp"])
        self.call("describe_stream", StreamName=STREAM, Limit=2)
        self.call("describe_stream_summary", StreamName=STREAM)
        self.call("list_streams")
        for kind in ("AT_TRIM_HORIZON", "FROM_TRIM_HORIZON", "AT_LATEST"):
            page = self.call("list_shards", StreamName=STREAM, ShardFilter={"Type": kind}, MaxResults=3)
            while "NextToken" in page:
                page = self.call("list_shards", NextToken=page["NextToken"], MaxResults=3)


def probe_errors(pair: Pair) -> None:
    """Calls the service refuses: the same errors, codes and messages."""
    pair.call("create_stream", StreamName=STREAM, ShardCount=1)
    pair.call("describe_stream", StreamName="nowhere")
    pair.call("put_record", StreamName="nowhere", Data=b"x", PartitionKey="k")
    pair.call("put_records", StreamName=STREAM, Records=[{"Data": b"x", "PartitionKey": "k"}] * 501)
    pair.call("put_record", StreamName=STREAM, Data=b"x" * (1024 * 1024 + 1), PartitionKey="k")
    pair.call("get_records", ShardIterator="AAAA")
    pair.call("get_shard_iterator", StreamName=STREAM, ShardId="shardId-000000009999",
              ShardIteratorType="TRIM_HORIZON")
    pair.call("list_shards", NextToken="bm90IGEgdG9rZW4=")
    pair.call("increase_stream_retention_period", StreamName=STREAM, RetentionPeriodHours=10)
    pair.call("merge_shards", StreamName=STREAM, ShardToMerge="shardId-000000000000",
              AdjacentShardToMerge="shardId-000000000000")


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 4), workloads(max_size=25), st.none() | st.integers(1, 4), picks())
def test_every_target_answers_as_the_in_process_client(target, shard_count, actions, limit, at_pick):
    pair = Pair(target)
    pair.call("create_stream", StreamName=STREAM, ShardCount=shard_count)
    pair.call("describe_stream", StreamName=STREAM)
    for action in actions:
        pair.apply(action)
    pair.read_everything(limit, at_pick)
    probe_errors(pair)
    pair.call("delete_stream", StreamName=STREAM)
    pair.call("list_streams")


def test_timestamps_before_the_stream_at_a_record_and_ahead_of_now_agree(target):
    pair = Pair(target)
    pair.call("create_stream", StreamName=STREAM, ShardCount=1)
    pair.advance(1.5)
    pair.call("put_record", StreamName=STREAM, Data=b"x", PartitionKey="k")
    pair.advance(1)
    read = []
    instants = [datetime(2000, 1, 1, tzinfo=timezone.utc), *(datetime.fromtimestamp(pair.start + offset, timezone.utc)
                                                             for offset in (1.5, 1.501)),
                datetime(2100, 1, 1, tzinfo=timezone.utc)]
    for instant in instants:
        iterator = pair.call("get_shard_iterator", StreamName=STREAM, ShardId="shardId-000000000000",
                             ShardIteratorType="AT_TIMESTAMP", Timestamp=instant).get("ShardIterator")
        read.append(None if iterator is None else len(pair.call("get_records", ShardIterator=iterator)["Records"]))
    assert read[0] == 1 and read[-1] is None

"""Clients nobody here wrote, against every Kinesis endpoint the tests start on 127.0.0.1.

The clients: the AWS SDK for JavaScript v3 (``@aws-sdk/client-kinesis``, one ``node`` process per test
running all of its operations) and the AWS CLI (``aws``, one process per command). The endpoints: the
fixtures named in ``ENDPOINTS``, each resolved with ``request.getfixturevalue`` and used through its
``.endpoint_url``: kinesalite, moto server and kinsim's own (``kinsim serve`` on the wall clock, as a
live endpoint).

Where an emulator differs from the real service, the test says so with ``differs(...)``: a strict xfail
with the reason, so that it fails loudly once the emulator is fixed, and so that the assertions stay
those of the real service.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import time
import uuid
from dataclasses import dataclass

import pytest
from botocore.exceptions import ClientError as BotocoreClientError

from kinsim.servers import free_port

from . import clients, conftest
from .clients import b64, http_statuses, ref, unb64
from .conftest import loopback_client

ENDPOINTS = [
    pytest.param("kinesalite_server", marks=pytest.mark.kinesalite, id="kinesalite"),
    pytest.param("moto_server", marks=pytest.mark.moto_server, id="moto"),
    pytest.param("kinsim_live_server", id="kinsim"),
]
HASH_MAX = 2**128 - 1
HALF = 2**127
PARENT, LOW_CHILD, HIGH_CHILD = "shardId-000000000000", "shardId-000000000001", "shardId-000000000002"
# partition keys that land on both halves of the key space (their MD5 hashes; checked below)
KEYS = [f"key-{i}" for i in range(8)]
BINARY = bytes(range(256)) + b"\x00\xff\r\n"


@pytest.fixture
def kinsim_live_server():
    """``kinsim serve`` in this process, on the wall clock, like the emulators beside it."""
    from kinsim.endpoint import Endpoint as KinsimEndpoint
    from kinsim.serve import Server

    with Server(KinsimEndpoint()) as server:
        yield server


@dataclass
class Endpoint:
    name: str  # the fixture's name: what ``differs`` is keyed by
    url: str


@pytest.fixture(params=ENDPOINTS)
def endpoint(request) -> Endpoint:
    server = request.getfixturevalue(request.param)
    assert server.endpoint_url.startswith("http://127.0.0.1:"), server.endpoint_url
    return Endpoint(request.param, server.endpoint_url)


@pytest.fixture
def stream(endpoint):
    """A fresh stream name, the stream deleted afterwards (by boto3: cleaning up is not under test)."""
    name = f"foreign-{uuid.uuid4().hex[:12]}"
    yield name
    try:
        loopback_client(endpoint.url).delete_stream(StreamName=name)
    except BotocoreClientError:
        pass


def differs(request, endpoint: Endpoint, raises=None, **reasons: str) -> None:
    """Mark the test as a known difference from the real service on the endpoints named (by fixture
    name), with the reason; ``raises``: the only exception that counts as that difference (any other
    fails the test)."""
    reason = reasons.get(endpoint.name)
    if reason:
        request.node.add_marker(pytest.mark.xfail(strict=True, raises=raises, reason=f"{endpoint.name}: {reason}"))


def key_hash(partition_key: str) -> int:
    return int(hashlib.md5(partition_key.encode("utf-8")).hexdigest(), 16)


def test_the_keys_land_on_both_halves():
    assert {key_hash(key) < HALF for key in KEYS} == {True, False}


def oks(results: list[dict]) -> list[dict]:
    """Every operation's response; fails naming the operations that did not succeed."""
    failed = {index: result["error"] for index, result in enumerate(results) if "ok" not in result}
    assert not failed, failed
    return [result["ok"] for result in results]


# -- the harness itself ---------------------------------------------------------------------------------
@pytest.mark.parametrize("url", ["http://10.0.0.1:4567", "https://kinesis.us-east-1.amazonaws.com"])
def test_the_clients_refuse_an_endpoint_off_loopback(url):
    with pytest.raises(ValueError, match="only talk to loopback"):
        clients.run_js(url, [{"op": "ListStreams"}])
    with pytest.raises(ValueError, match="only talk to loopback"):
        clients.run_aws_cli(url, "kinesis", "list-streams")


def test_the_js_script_refuses_an_endpoint_off_loopback_too(js_sdk):
    done = subprocess.run([shutil.which("node"), str(clients.SCRIPT), "http://10.0.0.1:4567"], input=b"[]",
                          capture_output=True, env={"KINSIM_AWS_SDK_JS": str(js_sdk.folder)}, timeout=60)
    assert done.returncode == 2 and b"only loopback endpoints" in done.stderr


def test_js_a_refused_connection_is_an_error_and_what_refers_to_it_is_unresolved(js_sdk):
    url = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    refused, unresolved = js_sdk.run(url, [
        {"op": "ListShards", "params": {"StreamName": "s"}},
        {"op": "GetShardIterator", "params": {"StreamName": "s", "ShardId": ref(0, "Shards", 0, "ShardId"),
                                              "ShardIteratorType": "LATEST"}}])
    assert refused["error"]["status"] is None and "ECONNREFUSED" in refused["error"]["message"]
    assert unresolved == {"error": {"name": "UnresolvedReference", "status": None,
                                    "message": '$ref [0,"Shards",0,"ShardId"]: operation 0 has no response'}}


def test_js_stop_unanswered_sends_nothing_after_a_call_with_no_answer_only(js_sdk, kinsim_live_server):
    """With ``stop_unanswered``, a service's error answer does not stop the run; a call with no answer
    does, and the waiter after it is not sent (it would retry the refused connection for 20 s)."""
    answered = js_sdk.run(kinsim_live_server.endpoint_url, [
        {"op": "DescribeStream", "params": {"StreamName": "missing"}}, {"op": "ListStreams"}], stop_unanswered=True)
    assert answered[0]["error"]["status"] == 400 and answered[1]["ok"]["StreamNames"] == []
    started = time.monotonic()
    refused, waiter = js_sdk.run(f"http://127.0.0.1:{free_port()}", [
        {"op": "ListShards", "params": {"StreamName": "s"}},
        {"op": "waitUntilStreamExists", "params": {"StreamName": "s"}}], stop_unanswered=True)
    assert refused["error"]["status"] is None and "ECONNREFUSED" in refused["error"]["message"]
    assert waiter == {"error": {"name": "NotSent", "status": None,
                                "message": f"not sent: operation 0 got no answer ({refused['error']['message']})"}}
    assert time.monotonic() - started < 15


def test_without_the_aws_cli_its_tests_fail_under_ci_and_skip_elsewhere(monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    start = lambda: conftest.AwsCli(clients.aws_cli_version())  # noqa: E731 -- what the fixture does
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="the AWS CLI could not start under CI=true: .*not on PATH"):
        conftest._server(start, "the AWS CLI")
    monkeypatch.delenv("CI")
    with pytest.raises(pytest.skip.Exception, match="the AWS CLI could not start: .*not on PATH"):
        conftest._server(start, "the AWS CLI")


def test_without_node_the_js_sdk_tests_fail_under_ci(monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="could not start under CI=true: .*node is not on PATH"):
        conftest._server(conftest._installed_js_sdk, "the SDK")


# -- what the service does, whichever client asked ----------------------------------------------------
def check_two_shards(shards: list[dict]) -> None:
    """ListShards of a new two-shard stream: the key space split evenly, both open."""
    assert [s["ShardId"] for s in shards] == [PARENT, LOW_CHILD]
    assert [(int(s["HashKeyRange"]["StartingHashKey"]), int(s["HashKeyRange"]["EndingHashKey"]))
            for s in shards] == [(0, HALF - 1), (HALF, HASH_MAX)]
    assert all("EndingSequenceNumber" not in s["SequenceNumberRange"] for s in shards)
    assert all("ParentShardId" not in s for s in shards)


def check_split(shards: list[dict]) -> None:
    """ListShards after splitting a one-shard stream at 2**127: the parent closed, two open children."""
    by_id = {s["ShardId"]: s for s in shards}
    assert sorted(by_id) == [PARENT, LOW_CHILD, HIGH_CHILD]
    parent, low, high = by_id[PARENT], by_id[LOW_CHILD], by_id[HIGH_CHILD]
    assert "EndingSequenceNumber" in parent["SequenceNumberRange"]
    assert [(int(s["HashKeyRange"]["StartingHashKey"]), int(s["HashKeyRange"]["EndingHashKey"]))
            for s in (parent, low, high)] == [(0, HASH_MAX), (0, HALF - 1), (HALF, HASH_MAX)]
    assert low["ParentShardId"] == high["ParentShardId"] == PARENT
    assert "EndingSequenceNumber" not in low["SequenceNumberRange"]
    assert "EndingSequenceNumber" not in high["SequenceNumberRange"]


def check_read_back(shards: list[dict], put: list[tuple], read: dict[str, list[dict]], started: float) -> None:
    """What was put, ``(shard id, sequence number, partition key, data)`` as the puts answered, is what
    was read, ``{shard id: records}``: each record once, in its partition key's shard, in order."""
    ranges = {s["ShardId"]: (int(s["HashKeyRange"]["StartingHashKey"]), int(s["HashKeyRange"]["EndingHashKey"]))
              for s in shards}
    for shard_id, _, key, _ in put:
        low, high = ranges[shard_id]
        assert low <= key_hash(key) <= high, (key, shard_id)
    got = [(shard_id, r["SequenceNumber"], r["PartitionKey"], unb64(r["Data"]))
           for shard_id, records in read.items() for r in records]
    assert sorted(got) == sorted(put)
    for records in read.values():
        numbers = [int(r["SequenceNumber"]) for r in records]
        assert numbers == sorted(numbers) and len(set(numbers)) == len(numbers)
        for r in records:
            assert started - 5 <= r["ApproximateArrivalTimestamp"] <= time.time() + 5


# -- the AWS SDK for JavaScript v3 ----------------------------------------------------------------------
def test_js_create_put_list_and_read_back(js_sdk, endpoint, stream):
    started = time.time()
    entries = [(f"record {i}".encode(), key) for i, key in enumerate(KEYS)]
    results = js_sdk.run(endpoint.url, [
        {"op": "CreateStream", "params": {"StreamName": stream, "ShardCount": 2}},
        {"op": "waitUntilStreamExists", "params": {"StreamName": stream}},
        {"op": "DescribeStreamSummary", "params": {"StreamName": stream}},
        {"op": "PutRecord", "params": {"StreamName": stream, "Data": b64(BINARY), "PartitionKey": "alpha"}},
        {"op": "PutRecords", "params": {"StreamName": stream, "Records": [
            {"Data": b64(data), "PartitionKey": key} for data, key in entries]}},
        {"op": "ListShards", "params": {"StreamName": stream}},                                       # 5
        {"op": "GetShardIterator", "params": {"StreamName": stream, "ShardId": ref(5, "Shards", 0, "ShardId"),
                                              "ShardIteratorType": "TRIM_HORIZON"}},
        {"op": "GetShardIterator", "params": {"StreamName": stream, "ShardId": ref(5, "Shards", 1, "ShardId"),
                                              "ShardIteratorType": "TRIM_HORIZON"}},
        {"op": "GetRecords", "params": {"ShardIterator": ref(6, "ShardIterator")}},                   # 8
        {"op": "GetRecords", "params": {"ShardIterator": ref(7, "ShardIterator")}},
        {"op": "GetRecords", "params": {"ShardIterator": ref(8, "NextShardIterator")}},               # 10
        {"op": "GetRecords", "params": {"ShardIterator": ref(9, "NextShardIterator")}},
    ])
    created, waited, summary, one, many, listed, _, _, *reads = oks(results)
    assert created == {}
    assert waited == {"state": "SUCCESS"}
    assert summary["StreamDescriptionSummary"]["StreamStatus"] == "ACTIVE"
    assert summary["StreamDescriptionSummary"]["OpenShardCount"] == 2
    check_two_shards(listed["Shards"])
    assert many["FailedRecordCount"] == 0 and len(many["Records"]) == len(entries)
    put = [(one["ShardId"], one["SequenceNumber"], "alpha", BINARY)] + [
        (result["ShardId"], result["SequenceNumber"], key, data)
        for result, (data, key) in zip(many["Records"], entries)]
    read = {PARENT: reads[0]["Records"] + reads[2]["Records"], LOW_CHILD: reads[1]["Records"] + reads[3]["Records"]}
    check_read_back(listed["Shards"], put, read, started)
    assert all(r["NextShardIterator"] and r["MillisBehindLatest"] >= 0 for r in reads)


def split_in_halves(stream: str, put_first: bool = False) -> list[dict]:
    """The JS operations that make ``stream`` with one shard (and put a record ``before`` in it) and split
    it in the middle of the key space, waiting for ACTIVE after each change."""
    put = [{"op": "PutRecord", "params": {"StreamName": stream, "Data": b64(b"before"), "PartitionKey": "k"}}]
    return [
        {"op": "CreateStream", "params": {"StreamName": stream, "ShardCount": 1}},
        {"op": "waitUntilStreamExists", "params": {"StreamName": stream}},
        *(put if put_first else []),
        {"op": "SplitShard", "params": {"StreamName": stream, "ShardToSplit": PARENT,
                                        "NewStartingHashKey": str(HALF)}},
        {"op": "waitUntilStreamExists", "params": {"StreamName": stream}},
    ]


def test_js_split_shard(js_sdk, endpoint, stream):
    results = js_sdk.run(endpoint.url, [
        *split_in_halves(stream, put_first=True),
        {"op": "ListShards", "params": {"StreamName": stream}},
        {"op": "DescribeStream", "params": {"StreamName": stream}},
    ])
    _, _, put, split, waited, listed, described = oks(results)
    assert put["ShardId"] == PARENT
    assert split == {} and waited == {"state": "SUCCESS"}
    check_split(listed["Shards"])
    description = described["StreamDescription"]
    assert description["StreamStatus"] == "ACTIVE" and description["HasMoreShards"] is False
    assert description["Shards"] == listed["Shards"]


def test_js_split_stream_counts_its_open_shards(js_sdk, endpoint, stream, request):
    differs(request, endpoint, moto_server="OpenShardCount stays at the count before the split")
    results = js_sdk.run(endpoint.url, [
        *split_in_halves(stream),
        {"op": "DescribeStreamSummary", "params": {"StreamName": stream}},
    ])
    assert oks(results)[-1]["StreamDescriptionSummary"]["OpenShardCount"] == 2


def test_js_writes_after_a_split_go_to_the_children(js_sdk, endpoint, stream, request):
    differs(request, endpoint, moto_server="keeps writing to the closed parent after a split")
    results = js_sdk.run(endpoint.url, [
        *split_in_halves(stream),
        {"op": "PutRecord", "params": {"StreamName": stream, "Data": b64(b"low"), "PartitionKey": "k",
                                       "ExplicitHashKey": "0"}},
        {"op": "PutRecords", "params": {"StreamName": stream, "Records": [
            {"Data": b64(b"low"), "PartitionKey": "k", "ExplicitHashKey": str(HALF - 1)},
            {"Data": b64(b"high"), "PartitionKey": "k", "ExplicitHashKey": str(HALF)}]}},
    ])
    *_, one, many = oks(results)
    assert one["ShardId"] == LOW_CHILD
    assert [r["ShardId"] for r in many["Records"]] == [LOW_CHILD, HIGH_CHILD]


def test_js_reading_a_split_parent_ends_with_its_children(js_sdk, endpoint, stream, request):
    """The read that reaches the end of a closed shard has no next iterator and names the children
    (ChildShards). It may come with the last records or after them, so two reads are allowed."""
    differs(request, endpoint, kinesalite_server="ends a closed shard without ChildShards (3.3.3 predates them)",
            moto_server="never ends a closed shard: every read gives a next iterator")
    results = js_sdk.run(endpoint.url, [
        *split_in_halves(stream, put_first=True),
        {"op": "GetShardIterator", "params": {"StreamName": stream, "ShardId": PARENT,
                                              "ShardIteratorType": "TRIM_HORIZON"}},
        {"op": "GetRecords", "params": {"ShardIterator": ref(5, "ShardIterator")}},
        {"op": "GetRecords", "params": {"ShardIterator": ref(6, "NextShardIterator")}},
    ])
    oks(results[:7])
    first = results[6]["ok"]
    assert [unb64(r["Data"]) for r in first["Records"]] == [b"before"]
    if first.get("NextShardIterator"):
        last = oks(results[7:])[0]
        assert last["Records"] == []
    else:
        last = first
    assert last.get("NextShardIterator") is None
    children = {c["ShardId"]: c for c in last.get("ChildShards", [])}
    assert sorted(children) == [LOW_CHILD, HIGH_CHILD]
    assert all(c["ParentShards"] == [PARENT] for c in children.values())
    assert int(children[HIGH_CHILD]["HashKeyRange"]["StartingHashKey"]) == HALF


def test_js_describing_a_missing_stream_is_resource_not_found(js_sdk, endpoint, stream):
    (result,) = js_sdk.run(endpoint.url, [{"op": "DescribeStream", "params": {"StreamName": stream}}])
    assert result["error"]["name"] == "ResourceNotFoundException"
    assert result["error"]["status"] == 400
    assert stream in result["error"]["message"] and "not found" in result["error"]["message"]


def test_js_default_request_handler_speaks_http2(js_sdk, endpoint, stream, request):
    """The SDK's Kinesis client, left to its defaults, speaks HTTP/2 (on an http:// endpoint, h2c with
    prior knowledge); the real service answers it, and so does kinsim serve: a stream made, written and
    read back, and the service's error. The other tests use the SDK's HTTP/1.1 handler, as clients of a
    local endpoint are configured. An endpoint that cannot speak HTTP/2 fails the first call with no
    answer, and the calls after it are not sent (``stop_unanswered``: the waiter would otherwise retry
    for its 20 s); ``oks`` then fails naming that first error."""
    differs(request, endpoint, raises=AssertionError,
            kinesalite_server="speaks HTTP/1.1 only ('Protocol error' in the SDK)",
            moto_server="speaks HTTP/1.1 only ('Protocol error' in the SDK)")
    started = time.time()
    entries = [(f"record {i}".encode(), key) for i, key in enumerate(KEYS)]
    results = js_sdk.run(endpoint.url, [
        {"op": "CreateStream", "params": {"StreamName": stream, "ShardCount": 1}},
        {"op": "waitUntilStreamExists", "params": {"StreamName": stream}},
        {"op": "PutRecord", "params": {"StreamName": stream, "Data": b64(BINARY), "PartitionKey": "alpha"}},
        {"op": "PutRecords", "params": {"StreamName": stream, "Records": [
            {"Data": b64(data), "PartitionKey": key} for data, key in entries]}},
        {"op": "ListShards", "params": {"StreamName": stream}},
        {"op": "GetShardIterator", "params": {"StreamName": stream, "ShardId": PARENT,                # 5
                                              "ShardIteratorType": "TRIM_HORIZON"}},
        {"op": "GetRecords", "params": {"ShardIterator": ref(5, "ShardIterator")}},
        {"op": "DescribeStream", "params": {"StreamName": f"{stream}-missing"}},
    ], http2=True, stop_unanswered=True)
    *done, missing = results
    created, waited, one, many, listed, _, read = oks(done)
    assert created == {} and waited == {"state": "SUCCESS"}
    assert many["FailedRecordCount"] == 0
    put = [(one["ShardId"], one["SequenceNumber"], "alpha", BINARY)] + [
        (result["ShardId"], result["SequenceNumber"], key, data)
        for result, (data, key) in zip(many["Records"], entries)]
    check_read_back(listed["Shards"], put, {PARENT: read["Records"]}, started)
    assert missing["error"]["name"] == "ResourceNotFoundException" and missing["error"]["status"] == 400


# -- the AWS CLI ----------------------------------------------------------------------------------------
def cli_ok(aws_cli, endpoint: Endpoint, *args: str):
    status, out, stderr = aws_cli.run(endpoint.url, "kinesis", *args)
    assert status == 0, f"aws kinesis {args[0]} exited with {status}: {stderr.strip()[-1000:]}"
    return out


def test_cli_create_put_list_and_read_back(aws_cli, endpoint, stream, tmp_path):
    started = time.time()
    assert cli_ok(aws_cli, endpoint, "create-stream", "--stream-name", stream, "--shard-count", "2") is None
    assert cli_ok(aws_cli, endpoint, "wait", "stream-exists", "--stream-name", stream) is None
    summary = cli_ok(aws_cli, endpoint, "describe-stream-summary", "--stream-name", stream)
    assert summary["StreamDescriptionSummary"]["StreamStatus"] == "ACTIVE"

    blob = tmp_path / "blob"
    blob.write_bytes(BINARY)
    binary = cli_ok(aws_cli, endpoint, "put-record", "--stream-name", stream, "--partition-key", "alpha",
                    "--data", f"fileb://{blob}")
    # a blob argument is raw text (version 1; version 2 is told so by run_aws_cli)
    text = cli_ok(aws_cli, endpoint, "put-record", "--stream-name", stream, "--partition-key", "beta",
                  "--data", "plain text, not base64")
    entries = [(f"record {i}".encode(), key) for i, key in enumerate(KEYS)]
    many = cli_ok(aws_cli, endpoint, "put-records", "--stream-name", stream, "--records", json.dumps(
        [{"Data": data.decode(), "PartitionKey": key} for data, key in entries]))
    assert many["FailedRecordCount"] == 0 and len(many["Records"]) == len(entries)

    shards = cli_ok(aws_cli, endpoint, "list-shards", "--stream-name", stream)["Shards"]
    check_two_shards(shards)
    read = {}
    for shard in shards:
        iterator = cli_ok(aws_cli, endpoint, "get-shard-iterator", "--stream-name", stream, "--shard-id",
                          shard["ShardId"], "--shard-iterator-type", "TRIM_HORIZON")["ShardIterator"]
        first = cli_ok(aws_cli, endpoint, "get-records", "--shard-iterator", iterator, "--limit", "100")
        second = cli_ok(aws_cli, endpoint, "get-records", "--shard-iterator", first["NextShardIterator"])
        read[shard["ShardId"]] = first["Records"] + second["Records"]

    put = [(binary["ShardId"], binary["SequenceNumber"], "alpha", BINARY),
           (text["ShardId"], text["SequenceNumber"], "beta", b"plain text, not base64")] + [
        (result["ShardId"], result["SequenceNumber"], key, data)
        for result, (data, key) in zip(many["Records"], entries)]
    check_read_back(shards, put, read, started)


def test_cli_split_shard(aws_cli, endpoint, stream):
    cli_ok(aws_cli, endpoint, "create-stream", "--stream-name", stream, "--shard-count", "1")
    cli_ok(aws_cli, endpoint, "wait", "stream-exists", "--stream-name", stream)
    assert cli_ok(aws_cli, endpoint, "split-shard", "--stream-name", stream, "--shard-to-split", PARENT,
                  "--new-starting-hash-key", str(HALF)) is None
    cli_ok(aws_cli, endpoint, "wait", "stream-exists", "--stream-name", stream)
    check_split(cli_ok(aws_cli, endpoint, "list-shards", "--stream-name", stream)["Shards"])


def test_cli_describing_a_missing_stream_is_resource_not_found(aws_cli, endpoint, stream):
    status, out, stderr = aws_cli.run(endpoint.url, "--debug", "kinesis", "describe-stream", "--stream-name", stream)
    assert status == 255 and out is None
    said = stderr.strip().splitlines()[-1]
    assert said.startswith("An error occurred (ResourceNotFoundException) when calling the DescribeStream "
                           "operation"), said
    assert stream in said and "not found" in said
    assert http_statuses(stderr) == [400]

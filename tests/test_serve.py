"""``kinsim serve``: the Kinesis protocol over HTTP on 127.0.0.1, admin paths, concurrency, keep-alive,
injected faults at the socket, and a clean stop on SIGTERM with nothing lost in flight."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import cbor2
import pytest
from botocore.exceptions import ClientError, ConnectionClosedError, EndpointConnectionError

from kinsim.serve import is_loopback
from tests.conftest import ROOT, loopback_client

SIGNED = {"Authorization": "AWS4-HMAC-SHA256 Credential=kinsim-test/20180731/us-east-1/kinesis/aws4_request, "
                           "SignedHeaders=host, Signature=0"}


def raw(server, operation: str, body: bytes, content_type: str = "application/x-amz-json-1.1",
        connection=None):
    """One request by hand: (status, headers, body)."""
    own = connection is None
    connection = connection or http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    connection.request("POST", "/", body, {"Content-Type": content_type, "X-Amz-Target": f"Kinesis_20131202.{operation}",
                                           **SIGNED})
    answer = connection.getresponse()
    result = answer.status, dict(answer.getheaders()), answer.read()
    if own:
        connection.close()
    return result


def admin(server, method: str, path: str, body: str = ""):
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    connection.request(method, f"/_kinsim/{path}", body.encode("utf-8"))
    answer = connection.getresponse()
    status, document = answer.status, json.loads(answer.read())
    connection.close()
    return status, document


def test_boto3_round_trip_and_the_services_errors(kinsim_server):
    kinesis = loopback_client(kinsim_server.endpoint_url)
    kinesis.create_stream(StreamName="words", ShardCount=2)
    put = kinesis.put_records(StreamName="words", Records=[{"Data": f"r{i}".encode(), "PartitionKey": f"k{i}"}
                                                           for i in range(20)])
    assert put["FailedRecordCount"] == 0
    read = []
    for shard in kinesis.list_shards(StreamName="words")["Shards"]:
        iterator = kinesis.get_shard_iterator(StreamName="words", ShardId=shard["ShardId"],
                                              ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        read += [r["Data"] for r in kinesis.get_records(ShardIterator=iterator)["Records"]]
    assert sorted(read) == sorted(f"r{i}".encode() for i in range(20))
    with pytest.raises(ClientError) as caught:
        kinesis.describe_stream(StreamName="missing")
    assert caught.value.response["Error"]["Code"] == "ResourceNotFoundException"
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_a_manual_clock_moved_by_the_admin_path_expires_iterators(kinsim_server):
    kinesis = loopback_client(kinsim_server.endpoint_url)
    kinesis.create_stream(StreamName="s", ShardCount=1)
    iterator = kinesis.get_shard_iterator(StreamName="s", ShardId="shardId-000000000000",
                                          ShardIteratorType="LATEST")["ShardIterator"]
    before = admin(kinsim_server, "GET", "clock")[1]["now"]
    status, moved = admin(kinsim_server, "POST", "clock/advance", '{"seconds": 301}')
    assert status == 200 and moved["now"] == pytest.approx(before + 301)
    with pytest.raises(kinesis.exceptions.ExpiredIteratorException):
        kinesis.get_records(ShardIterator=iterator)


def test_admin_paths(kinsim_server):
    kinesis = loopback_client(kinsim_server.endpoint_url)
    kinesis.create_stream(StreamName="s", ShardCount=1)
    status, stats = admin(kinsim_server, "GET", "stats")
    assert status == 200 and stats["operations"]["CreateStream"] == {"calls": 1} and stats["requests"] == 1
    status, faults = admin(kinsim_server, "POST", "faults", "- {error: ServiceUnavailable, operations: [ListStreams]}")
    assert status == 200 and [f["kind"] for f in faults["faults"]] == ["error"]
    with pytest.raises(ClientError) as caught:
        kinesis.list_streams()
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 503
    status, refused = admin(kinsim_server, "POST", "faults", "- {error: ServiceUnavailable, rate: 2}")
    assert status == 400 and "faults[0].rate" in refused["error"]
    assert admin(kinsim_server, "DELETE", "faults")[0] == 200
    assert kinesis.list_streams()["StreamNames"] == ["s"]
    assert admin(kinsim_server, "POST", "reset")[0] == 200
    assert kinesis.list_streams()["StreamNames"] == []
    assert admin(kinsim_server, "GET", "stats")[1]["requests"] == 1
    assert admin(kinsim_server, "POST", "clock/advance", '{"seconds": -1}')[0] == 400
    status, refused = admin(kinsim_server, "GET", "reset")
    assert status == 405 and refused == {"error": "/_kinsim/reset answers POST, not GET"}


def test_many_clients_at_once_each_call_whole(kinsim_server):
    """Eight clients on their own threads and keep-alive connections put 1,600 records: every record is
    in the stream once, in a per-shard order of strictly increasing sequence numbers."""
    kinesis = loopback_client(kinsim_server.endpoint_url)
    kinesis.create_stream(StreamName="busy", ShardCount=4)
    kinsim_server.endpoint.backend.throttling = False

    def producer(n: int) -> list[str]:
        mine = loopback_client(kinsim_server.endpoint_url)
        numbers = []
        for batch in range(4):
            answer = mine.put_records(StreamName="busy", Records=[
                {"Data": f"{n}/{batch}/{i}".encode(), "PartitionKey": f"{n}-{i}"} for i in range(50)])
            assert answer["FailedRecordCount"] == 0
            numbers += [r["SequenceNumber"] for r in answer["Records"]]
        return numbers

    with ThreadPoolExecutor(8) as pool:
        written = [n for numbers in pool.map(producer, range(8)) for n in numbers]
    assert len(set(written)) == 1_600
    read = []
    for shard in kinesis.list_shards(StreamName="busy")["Shards"]:
        iterator = kinesis.get_shard_iterator(StreamName="busy", ShardId=shard["ShardId"],
                                              ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        numbers = [int(r["SequenceNumber"]) for r in kinesis.get_records(ShardIterator=iterator)["Records"]]
        assert numbers == sorted(set(numbers))
        read += numbers
    assert sorted(read) == sorted(int(n) for n in written)


def test_keep_alive_serves_many_requests_on_one_connection(kinsim_server):
    connection = http.client.HTTPConnection("127.0.0.1", kinsim_server.port, timeout=10)
    raw(kinsim_server, "CreateStream", b'{"StreamName": "k", "ShardCount": 1}', connection=connection)
    sock = connection.sock
    for _ in range(20):
        status, headers, _ = raw(kinsim_server, "ListStreams", b"{}", connection=connection)
        assert status == 200 and headers.get("Connection", "keep-alive").lower() != "close"
    assert connection.sock is sock  # never reconnected
    connection.close()


def test_cbor_as_the_java_sdk_sends_it(kinsim_server):
    cbor = "application/x-amz-cbor-1.1"
    raw(kinsim_server, "CreateStream", cbor2.dumps({"StreamName": "j", "ShardCount": 1}), cbor)
    start_ms = int(kinsim_server.endpoint.clock.now() * 1000)
    status, headers, body = raw(kinsim_server, "PutRecord", cbor2.dumps(
        {"StreamName": "j", "Data": b"\x00\xffbinary", "PartitionKey": "10.0.0.1"}), cbor)
    assert status == 200 and headers["Content-Type"].startswith(cbor)
    status, _, body = raw(kinsim_server, "GetShardIterator", cbor2.dumps(
        {"StreamName": "j", "ShardId": "shardId-000000000000", "ShardIteratorType": "AT_TIMESTAMP",
         "Timestamp": cbor2.CBORTag(1, start_ms)}), cbor)
    assert status == 200
    iterator = cbor2.loads(body)["ShardIterator"]
    status, _, body = raw(kinsim_server, "GetRecords", cbor2.dumps({"ShardIterator": iterator}), cbor)
    [record] = cbor2.loads(body, semantic_decoders={1: lambda *args: ("millis", args[0])})["Records"]
    assert record["Data"] == b"\x00\xffbinary"
    assert record["ApproximateArrivalTimestamp"] == ("millis", start_ms)
    status, _, body = raw(kinsim_server, "DescribeStream", cbor2.dumps({"StreamName": 5}), cbor)
    assert status == 400 and cbor2.loads(body)["__type"] == "SerializationException"


@pytest.mark.kinsim(faults=[{"drop": "before", "operations": ["PutRecord"]}])
def test_a_dropped_connection_reaches_the_client_and_nothing_is_written(kinsim_server):
    kinesis = loopback_client(kinsim_server.endpoint_url)
    kinesis.create_stream(StreamName="d", ShardCount=1)
    with pytest.raises((ConnectionClosedError, EndpointConnectionError)):
        kinesis.put_record(StreamName="d", Data=b"x", PartitionKey="k")
    stats = kinsim_server.statistics()
    calls = stats["operations"]["PutRecord"]["calls"]  # botocore retried a dropped connection
    assert calls >= 1 and stats["operations"]["PutRecord"] == {"calls": calls, "dropped": calls}
    assert stats["injected"]["dropped_before"] == calls and stats["records"]["put"] == 0


# -- the command ------------------------------------------------------------------------------------
def _start(*options: str) -> tuple[subprocess.Popen, int]:
    process = subprocess.Popen([sys.executable, "-m", "kinsim", "serve", "--port", "0", *options], cwd=ROOT,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = process.stderr.readline()
    match = re.search(r"http://127\.0\.0\.1:(\d+) ", line)
    assert match, line
    return process, int(match.group(1))


@contextlib.contextmanager
def stopped_with_a_put_in_flight(tmp_path, requests: int = 2):
    """``kinsim serve`` as a process whose PutRecord waits out a second of latency, for a test that
    sends it SIGTERM with a put in flight: yields ``(process, port)``; then the process must have exited
    0, saying it answered ``requests`` requests, its port closed."""
    faults = tmp_path / "slow.yaml"
    faults.write_text("faults:\n  - {latency: 1s, operations: [PutRecord]}\n", encoding="utf-8")
    process, port = _start("--faults", str(faults))
    try:
        yield process, port
        assert process.wait(15) == 0
        assert f"stopped after {requests} requests" in process.stderr.read()
        with pytest.raises(OSError):
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
    finally:
        process.kill()
        process.wait()


def test_sigterm_answers_what_is_in_flight_then_exits_0(tmp_path):
    with stopped_with_a_put_in_flight(tmp_path) as (process, port):
        kinesis = loopback_client(f"http://127.0.0.1:{port}")
        kinesis.create_stream(StreamName="s", ShardCount=1)
        answers = []
        putting = threading.Thread(target=lambda: answers.append(
            kinesis.put_record(StreamName="s", Data=b"in flight", PartitionKey="k")))
        putting.start()
        time.sleep(0.4)  # the put is waiting out its second of latency
        process.send_signal(signal.SIGTERM)
        putting.join(10)
        assert answers and answers[0]["ResponseMetadata"]["HTTPStatusCode"] == 200


def test_sigint_stops_it_too():
    process, port = _start("--clock", "manual")
    try:
        process.send_signal(signal.SIGINT)
        assert process.wait(15) == 0
    finally:
        process.kill()
        process.wait()


def test_a_bad_fault_file_is_one_message_and_status_2(tmp_path):
    faults = tmp_path / "bad.yaml"
    faults.write_text("faults:\n  - {error: Teapot}\n", encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "kinsim", "serve", "--faults", str(faults)], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "faults[0].error" in done.stderr and str(faults) in done.stderr
    assert "Traceback" not in done.stderr


def test_listening_beyond_loopback_is_said_loudly():
    blocker = socket.socket()
    blocker.bind(("0.0.0.0", 0))  # bound, never listening: serve cannot bind it, so nothing is exposed
    try:
        port = blocker.getsockname()[1]
        done = subprocess.run([sys.executable, "-m", "kinsim", "serve", "--host", "0.0.0.0", "--port", str(port)],
                              cwd=ROOT, capture_output=True, text=True, timeout=60, env={**os.environ})
    finally:
        blocker.close()
    assert "WARNING: listening on 0.0.0.0, not on loopback" in done.stderr
    assert done.returncode == 2 and "cannot listen on 0.0.0.0" in done.stderr


def test_loopback_addresses():
    assert all(is_loopback(h) for h in ("127.0.0.1", "127.0.0.2", "::1", "localhost"))
    assert not any(is_loopback(h) for h in ("0.0.0.0", "10.0.0.1", "::", "example.com"))

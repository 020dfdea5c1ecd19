"""``kinsim serve`` over HTTP/2 cleartext with prior knowledge (h2c), on the port that serves HTTP/1.1:
streams side by side on one connection, latency on one stream holding up no other, a dropped answer,
replies larger than the flow-control window, and a clean stop with a stream in flight.

The client is the ``h2`` library driven by hand on a socket (``H2Client``), so that frames, windows and
resets are what the test says, not what a client library decides."""

from __future__ import annotations

import http.client
import base64
import json
import signal
import socket
import struct
import threading
import time
from types import SimpleNamespace

import h2.config
import h2.connection
import h2.events
import pytest
from h2.errors import ErrorCodes

from tests.clients import b64
from tests.conftest import loopback_client
from tests.test_serve import SIGNED, admin, raw, stopped_with_a_put_in_flight

JSON = "application/x-amz-json-1.1"
DEFAULT_WINDOW = 65_535


class H2Client:
    """One HTTP/2 connection to 127.0.0.1:``port``, frames read whole and handed to h2 one at a time,
    except GOAWAY: h2 takes a GOAWAY as the connection's end at once, while a server may still answer
    the streams up to the last one it names (RFC 9113 §6.8), so the client keeps it (``goaway``).
    ``ack=False`` leaves received data unacknowledged,
    so the server's flow-control window for us does not reopen until ``acknowledge``. ``split``: offsets
    at which the opening bytes (the preface, then SETTINGS) are cut into separate writes."""

    def __init__(self, port: int, ack: bool = True, split: tuple[int, ...] = ()) -> None:
        self.port, self.ack = port, ack
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # small frames go at once
        self.h2 = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True, header_encoding="utf-8"))
        self.h2.initiate_connection()
        self.answers: dict[int, dict] = {}
        self.goaway = None  # (last stream id, error code) once the server said GOAWAY
        self.closed = False
        self.inbound = b""  # bytes read short of a whole frame
        opening = self.h2.data_to_send()
        for start, end in zip((0, *split), (*split, len(opening))):
            self.sock.sendall(opening[start:end])
            time.sleep(0.01 if split else 0)

    def flush(self) -> None:
        data = self.h2.data_to_send()
        if data:
            self.sock.sendall(data)

    def request(self, operation: str = "", document=None, path: str = "/", method: str = "POST",
                body: bytes = None) -> int:
        """Send one request (a Kinesis call unless ``operation`` is empty); its stream id."""
        stream_id = self.h2.get_next_available_stream_id()
        body = json.dumps(document or {}).encode() if body is None else body
        headers = [(":method", method), (":path", path), (":scheme", "http"),
                   (":authority", f"127.0.0.1:{self.port}"), ("content-length", str(len(body)))]
        if operation:
            headers += [("content-type", JSON), ("x-amz-target", f"Kinesis_20131202.{operation}"),
                        ("authorization", SIGNED["Authorization"])]
        self.h2.send_headers(stream_id, headers, end_stream=not body)
        self.answers[stream_id] = {"status": None, "headers": {}, "body": bytearray(), "done": False,
                                   "reset": None, "at": None}
        sent = 0
        while sent < len(body):  # in frames the server allows, as its windows allow
            window = self.h2.local_flow_control_window(stream_id)
            if window == 0:
                self.flush()
                self.pump(lambda: self.h2.local_flow_control_window(stream_id) > 0)
                continue
            size = min(window, self.h2.max_outbound_frame_size, len(body) - sent)
            self.h2.send_data(stream_id, body[sent:sent + size], end_stream=sent + size == len(body))
            sent += size
        self.flush()
        return stream_id

    def pump(self, until=lambda: False, timeout: float = 10.0) -> None:
        """Read and handle frames until ``until()`` holds, the connection closes, or ``timeout``."""
        deadline = time.monotonic() + timeout
        while not until() and not self.closed and time.monotonic() < deadline:
            self.sock.settimeout(max(0.01, min(0.1, deadline - time.monotonic())))
            try:
                data = self.sock.recv(65_536)
            except socket.timeout:
                continue
            if not data:
                self.closed = True
                break
            self.inbound += data
            while len(self.inbound) >= 9 and len(self.inbound) >= 9 + int.from_bytes(self.inbound[:3], "big"):
                end = 9 + int.from_bytes(self.inbound[:3], "big")
                frame, self.inbound = self.inbound[:end], self.inbound[end:]
                if frame[3] == 0x7:  # GOAWAY: kept from h2, which would refuse the answers still due
                    self.goaway = (int.from_bytes(frame[9:13], "big") & 0x7FFF_FFFF, int.from_bytes(frame[13:17], "big"))
                    continue
                for event in self.h2.receive_data(frame):
                    self._handle(event)
            self.flush()

    def _handle(self, event) -> None:
        answer = self.answers.get(getattr(event, "stream_id", None))
        if isinstance(event, h2.events.ResponseReceived):
            answer["headers"] = dict(event.headers)
            answer["status"] = int(answer["headers"][":status"])
        elif isinstance(event, h2.events.DataReceived):
            answer["body"] += event.data
            if self.ack:
                self.h2.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
        elif isinstance(event, h2.events.StreamEnded):
            answer["done"], answer["at"] = True, time.monotonic()
        elif isinstance(event, h2.events.StreamReset):
            answer["done"], answer["reset"], answer["at"] = True, event.error_code, time.monotonic()

    def acknowledge(self, stream_id: int) -> None:
        """Acknowledge what ``stream_id`` received so far, and from now on acknowledge as data comes."""
        self.ack = True
        self.h2.acknowledge_received_data(len(self.answers[stream_id]["body"]), stream_id)
        self.flush()

    def answer(self, stream_id: int, timeout: float = 10.0) -> dict:
        self.pump(lambda: self.answers[stream_id]["done"], timeout)
        assert self.answers[stream_id]["done"], f"stream {stream_id} was not answered: {self.answers[stream_id]}"
        return self.answers[stream_id]

    def document(self, stream_id: int) -> dict:
        answer = self.answer(stream_id)
        assert answer["status"] == 200, (answer["status"], bytes(answer["body"]))
        return json.loads(answer["body"])

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def client(kinsim_server):
    connection = H2Client(kinsim_server.port)
    yield connection
    connection.close()


def make_stream(client: H2Client, name: str, shards: int = 1) -> None:
    client.document(client.request("CreateStream", {"StreamName": name, "ShardCount": shards}))


def test_many_streams_at_once_on_one_connection(kinsim_server, client):
    make_stream(client, "h2", shards=2)
    puts = [client.request("PutRecord", {"StreamName": "h2", "Data": "aGVsbG8=", "PartitionKey": f"k{i}"})
            for i in range(40)]  # all open at once
    client.pump(lambda: all(client.answers[p]["done"] for p in puts))
    numbers = set()
    for stream_id in puts:
        answer = client.answers[stream_id]
        assert answer["status"] == 200 and answer["headers"]["content-type"] == JSON
        assert answer["headers"]["x-amzn-requestid"]
        numbers.add(json.loads(answer["body"])["SequenceNumber"])
    assert len(numbers) == 40
    assert kinsim_server.statistics()["records"]["put"] == 40
    assert len({client.answers[p]["headers"]["x-amzn-requestid"] for p in puts}) == 40


def test_errors_and_admin_paths_over_http2(kinsim_server, client):
    missing = client.answer(client.request("DescribeStream", {"StreamName": "missing"}))
    assert missing["status"] == 400 and missing["headers"]["x-amzn-errortype"].startswith("ResourceNotFoundException")
    assert json.loads(missing["body"])["__type"] == "ResourceNotFoundException"
    stats = client.document(client.request(path="/_kinsim/stats", method="GET"))
    assert stats["operations"]["DescribeStream"]["calls"] == 1
    faults = client.document(client.request(path="/_kinsim/faults", body=b"- {error: ServiceUnavailable}"))
    assert [f["kind"] for f in faults["faults"]] == ["error"]
    assert client.answer(client.request("ListStreams"))["status"] == 503


@pytest.mark.kinsim(faults=[{"latency": "1s", "operations": ["PutRecord"]}])
def test_latency_on_one_stream_holds_up_no_other(kinsim_server, client):
    make_stream(client, "slow")
    started = time.monotonic()
    slow = client.request("PutRecord", {"StreamName": "slow", "Data": "eA==", "PartitionKey": "k"})
    quick = client.request("ListStreams")
    client.answer(quick)
    elsewhere = raw(kinsim_server, "ListStreams", b"{}")  # another connection, over HTTP/1.1
    assert elsewhere[0] == 200
    assert client.answers[quick]["at"] - started < 0.5 and not client.answers[slow]["done"]
    assert client.answer(slow)["status"] == 200
    assert client.answers[slow]["at"] - started >= 0.9


@pytest.mark.kinsim(faults=[{"latency": "0.5s", "operations": ["PutRecord"]}])
def test_a_client_that_says_goaway_still_gets_the_answers_it_waits_for(kinsim_server, client):
    """A client's GOAWAY concerns streams the server would open (RFC 9113 §6.8): the server answers the
    streams in flight, then closes the connection."""
    make_stream(client, "g")
    put = client.request("PutRecord", {"StreamName": "g", "Data": "eA==", "PartitionKey": "k"})
    # GOAWAY written by hand: the client's h2 would read nothing more after sending one
    client.sock.sendall(struct.pack(">IBIII", 8 << 8 | 0x7, 0, 0, 0, ErrorCodes.NO_ERROR))
    assert client.document(put)["SequenceNumber"]
    client.pump(timeout=5)
    assert client.closed and client.goaway == (put, ErrorCodes.NO_ERROR)


@pytest.mark.kinsim(faults=[{"drop": "before", "operations": ["PutRecord"]}])
def test_a_dropped_answer_resets_its_stream_and_no_other(kinsim_server, client):
    make_stream(client, "d")
    dropped = client.request("PutRecord", {"StreamName": "d", "Data": "eA==", "PartitionKey": "k"})
    other = client.request("ListStreams")
    assert client.answer(dropped)["reset"] == ErrorCodes.INTERNAL_ERROR
    assert client.answers[dropped]["status"] is None
    assert client.document(other)["StreamNames"] == ["d"]
    assert client.document(client.request("ListStreams"))["StreamNames"] == ["d"]  # the connection lives on
    stats = kinsim_server.statistics()
    assert stats["operations"]["PutRecord"] == {"calls": 1, "dropped": 1} and stats["records"]["put"] == 0


def test_a_reply_beyond_the_flow_control_window_waits_for_window_updates(kinsim_server):
    setup = H2Client(kinsim_server.port)
    make_stream(setup, "big")
    kinsim_server.endpoint.backend.throttling = False
    payload = bytes(range(256)) * 400  # 100 KiB a record
    for i in range(10):
        setup.document(setup.request("PutRecord", {"StreamName": "big", "PartitionKey": f"k{i}",
                                                   "Data": base64.b64encode(payload).decode()}))
    iterator = setup.document(setup.request("GetShardIterator", {
        "StreamName": "big", "ShardId": "shardId-000000000000", "ShardIteratorType": "TRIM_HORIZON"}))["ShardIterator"]
    setup.close()

    client = H2Client(kinsim_server.port, ack=False)  # windows of 65,535 bytes, reopened only when told
    try:
        read = client.request("GetRecords", {"ShardIterator": iterator})
        answer = client.answers[read]
        client.pump(lambda: len(answer["body"]) >= DEFAULT_WINDOW, timeout=5)
        client.pump(timeout=0.3)  # nothing more comes while the window is shut
        assert len(answer["body"]) == DEFAULT_WINDOW and not answer["done"]
        client.acknowledge(read)
        answer = client.answer(read)
        assert answer["status"] == 200 and len(answer["body"]) == int(answer["headers"]["content-length"])
        assert len(answer["body"]) > 10 * len(payload)
        records = json.loads(answer["body"])["Records"]
        assert [base64.b64decode(r["Data"]) for r in records] == [payload] * 10
    finally:
        client.close()


def test_a_body_over_the_limit_is_a_413_and_the_connection_lives_on(kinsim_server, client, monkeypatch):
    monkeypatch.setattr("kinsim.serve_h2.MAX_BODY", 100_000)
    big = client.request("PutRecord", body=b"{" + b" " * 150_000 + b"}")
    assert client.answer(big)["status"] == 413
    assert kinsim_server.statistics()["requests"] == 0
    assert client.document(client.request("ListStreams"))["StreamNames"] == []


def test_the_preface_and_a_request_line_may_come_a_few_bytes_at_a_time(kinsim_server):
    """The first bytes decide the protocol, however they are split."""
    sock = socket.create_connection(("127.0.0.1", kinsim_server.port), timeout=10)
    request = (b"POST / HTTP/1.1\r\nHost: x\r\nContent-Type: " + JSON.encode() + b"\r\nX-Amz-Target: "
               b"Kinesis_20131202.ListStreams\r\nAuthorization: " + SIGNED["Authorization"].encode() +
               b"\r\nContent-Length: 2\r\n\r\n{}")
    for i in range(0, len(request), 3):
        sock.sendall(request[i:i + 3])
        time.sleep(0.002)
    answer = http.client.HTTPResponse(sock)
    answer.begin()
    assert answer.status == 200 and json.loads(answer.read())["StreamNames"] == []
    sock.close()

    client = H2Client(kinsim_server.port, split=(1, 10, 30))  # P, RI * HTTP/2., 0...SM.., then SETTINGS
    assert client.document(client.request("ListStreams"))["StreamNames"] == []
    client.close()


def test_sigterm_answers_http2_streams_in_flight_then_exits_0(tmp_path):
    """A put in flight on HTTP/2 and one on HTTP/1.1 when SIGTERM comes: both are answered."""
    with stopped_with_a_put_in_flight(tmp_path, requests=3) as (process, port):
        client = H2Client(port)
        make_stream(client, "s")
        kinesis = loopback_client(f"http://127.0.0.1:{port}")
        answers = []
        putting = threading.Thread(target=lambda: answers.append(
            kinesis.put_record(StreamName="s", Data=b"over HTTP/1.1", PartitionKey="k")))
        putting.start()
        put = client.request("PutRecord", {"StreamName": "s", "Data": "eA==", "PartitionKey": "k"})
        time.sleep(0.4)  # the puts are waiting out their second of latency
        process.send_signal(signal.SIGTERM)
        client.pump(lambda: client.goaway is not None, timeout=5)
        assert client.goaway == (put, ErrorCodes.NO_ERROR)  # no stream after the put will be taken
        assert not client.answers[put]["done"]
        late = client.request("ListStreams")  # opened after the GOAWAY: refused, safe to send again
        assert client.answer(late)["reset"] == ErrorCodes.REFUSED_STREAM and not client.answers[put]["done"]
        assert client.document(put)["SequenceNumber"]
        client.pump(timeout=5)
        assert client.closed  # then the server closed the connection
        putting.join(10)
        assert answers and answers[0]["ResponseMetadata"]["HTTPStatusCode"] == 200


def test_sigterm_answers_the_js_sdk_waiting_on_http2_then_exits_0(js_sdk, tmp_path):
    """Node's HTTP/2 client answers the server's GOAWAY with its own at once; its put in flight is
    answered all the same."""
    with stopped_with_a_put_in_flight(tmp_path) as (process, port):
        results = []
        running = threading.Thread(target=lambda: results.extend(js_sdk.run(f"http://127.0.0.1:{port}", [
            {"op": "CreateStream", "params": {"StreamName": "s", "ShardCount": 1}},
            {"op": "PutRecord", "params": {"StreamName": "s", "Data": b64(b"x"), "PartitionKey": "k"}},
        ], http2=True)))
        running.start()
        deadline = time.monotonic() + 30
        server = SimpleNamespace(port=port)  # what ``admin`` needs of a server
        while "PutRecord" not in admin(server, "GET", "stats")[1]["operations"] and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.2)  # the put is waiting out its second of latency
        process.send_signal(signal.SIGTERM)
        running.join(30)
        created, put = results
        assert created == {"ok": {}} and put["ok"]["SequenceNumber"], put

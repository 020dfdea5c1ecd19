"""``kinsim.mock()``: botocore Kinesis clients made inside it are answered by simulated shards, through
botocore's own serialisation, parsing, retries and errors; leaving it puts everything back.

No request leaves the process: every test here runs with sockets that refuse to resolve or connect
(``no_network``), and botocore's retry back-off is recorded instead of slept (``backoffs``; on a
``ManualClock`` mock the clock moves by it, so a retried call costs no real time).
"""

from __future__ import annotations

import asyncio
import os
import socket
import threading
import time
import types
from concurrent.futures import ThreadPoolExecutor

import boto3
import botocore.endpoint
import botocore.handlers
import botocore.session
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError, ConnectionClosedError

import kinsim
from kinsim.clock import ManualClock
from tests.conftest import START, read_back

STREAM = "words"
SHARD0 = "shardId-000000000000"
RETRY_TWICE = Config(retries={"mode": "standard", "total_max_attempts": 3})


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    """Sockets that refuse to look up a name or connect: a request leaving the process fails the test."""
    attempts: list = []

    def refuse(*args, **_):
        attempts.append(args)
        raise AssertionError(f"a test tried to reach the network: {args!r}")

    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    yield attempts
    assert attempts == [], f"requests tried to leave the process: {attempts}"


@pytest.fixture
def backoffs(monkeypatch):
    """botocore's retry sleeps, recorded instead of slept; a test may set ``clock`` to have them move it."""
    slept = types.SimpleNamespace(seconds=[], clock=None)

    def sleep(seconds: float) -> None:
        slept.seconds.append(seconds)
        if slept.clock is not None:
            slept.clock.advance(seconds)

    monkeypatch.setattr(botocore.endpoint, "time", types.SimpleNamespace(sleep=sleep))
    return slept


def kinesis(**options):
    return boto3.client("kinesis", **options)


def codes(call) -> str:
    with pytest.raises(ClientError) as caught:
        call()
    return caught.value.response["Error"]["Code"]


# -- answered ------------------------------------------------------------------------------------------
def test_a_boto3_client_made_inside_is_answered():
    with kinsim.mock(ManualClock(START)) as mocked:
        client = kinesis()
        client.create_stream(StreamName=STREAM, ShardCount=2)
        assert client.list_streams()["StreamNames"] == [STREAM]
        put = client.put_record(StreamName=STREAM, Data=b"hello", PartitionKey="k", ExplicitHashKey="0")
        assert put["ShardId"] == SHARD0
        batch = client.put_records(StreamName=STREAM, Records=[{"Data": b"a", "PartitionKey": "x"},
                                                                {"Data": "text", "PartitionKey": "y"}])
        assert batch["FailedRecordCount"] == 0
        iterator = client.get_shard_iterator(StreamName=STREAM, ShardId=SHARD0,
                                             ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        records = client.get_records(ShardIterator=iterator)["Records"]
        assert records[0]["Data"] == b"hello" and records[0]["SequenceNumber"] == put["SequenceNumber"]
        assert records[0]["ApproximateArrivalTimestamp"].timestamp() == START
        shards = [s["ShardId"] for s in client.list_shards(StreamName=STREAM)["Shards"]]
        assert shards == [SHARD0, "shardId-000000000001"]
        assert mocked.statistics()["records"] == {"put": 3, "read": len(records)}
        assert mocked.statistics()["requests"] == 7


def test_errors_are_botocore_client_errors_with_the_real_codes():
    with kinsim.mock(ManualClock(START)):
        client = kinesis()
        client.create_stream(StreamName=STREAM, ShardCount=1)
        assert codes(lambda: client.create_stream(StreamName=STREAM, ShardCount=1)) == "ResourceInUseException"
        assert codes(lambda: client.describe_stream(StreamName="nowhere")) == "ResourceNotFoundException"
        assert codes(lambda: client.get_records(ShardIterator="not-an-iterator")) == "InvalidArgumentException"
        assert codes(lambda: client.create_stream(StreamName="big", ShardCount=10**6)) in (
            "ValidationException", "LimitExceededException")
        with pytest.raises(client.exceptions.ResourceNotFoundException) as caught:
            client.put_record(StreamName="nowhere", Data=b"x", PartitionKey="k")
        assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
        assert caught.value.operation_name == "PutRecord"


def test_botocore_retries_an_injected_service_unavailable_and_says_so(backoffs):
    clock = ManualClock(START)
    backoffs.clock = clock
    with kinsim.mock(clock, faults=[{"for": "1us", "error": "ServiceUnavailable"}]) as mocked:
        client = kinesis(config=RETRY_TWICE)
        answer = client.list_streams()  # the first try meets the fault; the back-off moves the clock past it
    assert answer["ResponseMetadata"]["RetryAttempts"] == 1 and len(backoffs.seconds) == 1
    assert mocked.statistics()["answers"] == {"200": 1, "503": 1}


def test_botocore_gives_up_after_its_attempts(backoffs):
    with kinsim.mock(ManualClock(START), faults=[{"error": "ServiceUnavailable"}]) as mocked:
        client = kinesis(config=RETRY_TWICE)
        with pytest.raises(ClientError) as caught:
            client.list_streams()
    assert caught.value.response["Error"]["Code"] == "ServiceUnavailable"
    assert caught.value.response["ResponseMetadata"]["RetryAttempts"] == 2
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 503
    assert mocked.statistics()["injected"]["errors"] == {"ServiceUnavailable": 3} and len(backoffs.seconds) == 2


@pytest.mark.parametrize("when, written", [("before", 0), ("after", 3)])
def test_a_dropped_connection_is_botocore_retrying_a_closed_connection(backoffs, when, written):
    """Dropped before answering, nothing is written; after, every attempt is (at least once: thrice)."""
    with kinsim.mock(ManualClock(START), faults=[{"drop": when, "operations": ["PutRecord"]}]) as mocked:
        client = kinesis(config=RETRY_TWICE)
        client.create_stream(StreamName=STREAM, ShardCount=1)
        with pytest.raises(ConnectionClosedError):
            client.put_record(StreamName=STREAM, Data=b"lost?", PartitionKey="k")
    lost = {"records_unanswered": 3} | ({"records_written_unanswered": written} if written else {})
    assert mocked.statistics()["injected"] == {f"dropped_{when}": 3, **lost} and len(backoffs.seconds) == 2
    assert [r.data for r in read_back(mocked.backend)[SHARD0]] == [b"lost?"] * written


def test_a_manual_clock_expires_an_iterator_in_no_real_time():
    clock = ManualClock(START)
    began = time.monotonic()
    with kinsim.mock(clock):
        client = kinesis()
        client.create_stream(StreamName=STREAM, ShardCount=1)
        iterator = client.get_shard_iterator(StreamName=STREAM, ShardId=SHARD0,
                                             ShardIteratorType="LATEST")["ShardIterator"]
        clock.advance(299)
        iterator = client.get_records(ShardIterator=iterator)["NextShardIterator"]
        clock.advance(301)
        assert codes(lambda: client.get_records(ShardIterator=iterator)) == "ExpiredIteratorException"
    assert time.monotonic() - began < 5


def test_a_records_shown_arrival_time_given_back_as_at_timestamp_starts_at_that_record():
    clock = ManualClock(START + 0.0006)
    with kinsim.mock(clock):
        client = kinesis()
        client.create_stream(StreamName=STREAM, ShardCount=1)
        client.put_record(StreamName=STREAM, Data=b"here", PartitionKey="k")
        clock.advance(1)
        iterator = client.get_shard_iterator(StreamName=STREAM, ShardId=SHARD0,
                                             ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        [record] = client.get_records(ShardIterator=iterator)["Records"]
        iterator = client.get_shard_iterator(StreamName=STREAM, ShardId=SHARD0, ShardIteratorType="AT_TIMESTAMP",
                                             Timestamp=record["ApproximateArrivalTimestamp"])["ShardIterator"]
        assert [r["Data"] for r in client.get_records(ShardIterator=iterator)["Records"]] == [b"here"]


def test_injected_latency_moves_a_manual_clock_instead_of_sleeping():
    clock = ManualClock(START)
    with kinsim.mock(clock, faults=[{"latency": "90s", "operations": ["ListStreams"]}]):
        began = time.monotonic()
        kinesis().list_streams()
        assert clock.now() == START + 90 and time.monotonic() - began < 5


# -- clients made by other code ------------------------------------------------------------------------
class Shipper:
    """A library that makes its own client, as libraries do."""

    def __init__(self, stream: str) -> None:
        self.stream = stream
        self._kinesis = boto3.session.Session().client("kinesis", region_name="eu-west-1")

    def ship(self, lines: list[str]) -> int:
        answer = self._kinesis.put_records(StreamName=self.stream,
                                           Records=[{"Data": line.encode(), "PartitionKey": line} for line in lines])
        return len(lines) - answer["FailedRecordCount"]


def test_a_library_that_makes_its_own_client_works_unchanged():
    with kinsim.mock(ManualClock(START)) as mocked:
        kinesis().create_stream(StreamName=STREAM, ShardCount=1)
        assert Shipper(STREAM).ship(["a", "b", "c"]) == 3
        raw = botocore.session.get_session().create_client("kinesis", region_name="us-west-2")
        assert raw.list_streams()["StreamNames"] == [STREAM]
    assert [r.data for r in read_back(mocked.backend)[SHARD0]] == [b"a", b"b", b"c"]


def test_mock_client_is_routed_even_when_not_entered():
    mocked = kinsim.mock(ManualClock(START))
    client = mocked.client()
    client.create_stream(StreamName=STREAM, ShardCount=1)
    assert client.list_streams()["StreamNames"] == [STREAM]
    assert mocked.statistics()["requests"] == 2


def test_route_answers_a_client_made_before():
    before = kinesis(region_name="us-east-1")
    mocked = kinsim.mock(ManualClock(START))
    mocked.route(before)
    assert before.list_streams()["StreamNames"] == [] and mocked.statistics()["requests"] == 1


# -- decorators ----------------------------------------------------------------------------------------
def test_the_decorator_gives_each_call_a_fresh_mock():
    @kinsim.mock(ManualClock(START))
    def make_a_stream(name: str) -> list[str]:
        client = kinesis()
        client.create_stream(StreamName=name, ShardCount=1)
        return client.list_streams()["StreamNames"]

    assert make_a_stream("first") == ["first"]
    assert make_a_stream("second") == ["second"]  # not ["first", "second"]
    assert make_a_stream.__name__ == "make_a_stream"


def test_the_decorator_on_a_coroutine_function_gives_each_call_a_fresh_mock():
    @kinsim.mock(ManualClock(START))
    async def make_a_stream(name: str) -> list[str]:
        await asyncio.sleep(0)
        client = kinesis()
        client.create_stream(StreamName=name, ShardCount=1)
        await asyncio.sleep(0)
        return client.list_streams()["StreamNames"]

    assert asyncio.run(make_a_stream("first")) == ["first"]
    assert asyncio.run(make_a_stream("second")) == ["second"]

    async def both() -> list:
        return await asyncio.gather(make_a_stream("a"), make_a_stream("b"))

    assert asyncio.run(both()) == [["a"], ["b"]]


# -- nesting and threads -------------------------------------------------------------------------------
def test_mocks_nest():
    with kinsim.mock(ManualClock(START)) as outer:
        first = kinesis()
        first.create_stream(StreamName="outer", ShardCount=1)
        with kinsim.mock(ManualClock(START)) as inner:
            second = kinesis()
            second.create_stream(StreamName="inner", ShardCount=1)
            assert first.list_streams()["StreamNames"] == ["outer"]
            assert second.list_streams()["StreamNames"] == ["inner"]
        assert kinesis().list_streams()["StreamNames"] == ["outer"]
        assert first.list_streams()["StreamNames"] == ["outer"]
        with pytest.raises(kinsim.MockEndedError):
            second.list_streams()
    assert (outer.statistics()["requests"], inner.statistics()["requests"]) == (4, 2)


def test_two_threads_each_with_its_own_mock_answer_their_own_clients_at_once():
    inside = threading.Barrier(2, timeout=30)

    def run(name: str) -> list:
        with kinsim.mock(ManualClock(START)):
            client = boto3.session.Session().client("kinesis")
            inside.wait()  # both mocks are active now
            client.create_stream(StreamName=STREAM, ShardCount=1)
            for i in range(20):
                client.put_record(StreamName=STREAM, Data=f"{name}-{i}".encode(), PartitionKey=name)
            inside.wait()
            iterator = client.get_shard_iterator(StreamName=STREAM, ShardId=SHARD0,
                                                 ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
            return [r["Data"].decode() for r in client.get_records(ShardIterator=iterator)["Records"]]

    with ThreadPoolExecutor(2) as pool:
        a, b = pool.map(run, ["a", "b"])
    assert (a, b) == ([f"a-{i}" for i in range(20)], [f"b-{i}" for i in range(20)])


def test_a_thread_started_inside_a_mock_is_answered_by_it():
    found = []
    with kinsim.mock(ManualClock(START)) as mocked:
        kinesis().create_stream(StreamName=STREAM, ShardCount=1)
        worker = threading.Thread(
            target=lambda: found.append(boto3.session.Session().client("kinesis").list_streams()["StreamNames"]))
        worker.start()
        worker.join(30)
    assert found == [[STREAM]] and mocked.statistics()["requests"] == 2


def test_threads_sharing_one_mock_each_see_every_call_whole():
    with kinsim.mock(ManualClock(START), throttling=False) as mocked:
        kinesis().create_stream(StreamName=STREAM, ShardCount=2)

        def put(name: str) -> list[tuple[str, str]]:
            client = boto3.session.Session().client("kinesis")
            return [(answer["ShardId"], answer["SequenceNumber"]) for answer in (
                client.put_record(StreamName=STREAM, Data=f"{name}-{i}".encode(), PartitionKey=f"{name}-{i}")
                for i in range(25))]

        with ThreadPoolExecutor(4) as pool:
            answered = [pair for pairs in pool.map(put, "abcd") for pair in pairs]
    stored = {(shard, r.sequence_number) for shard, records in read_back(mocked.backend).items() for r in records}
    assert len(answered) == len(set(answered)) == 100 and set(answered) == stored


def test_clients_of_other_services_are_left_alone():
    with kinsim.mock(ManualClock(START)):
        s3 = boto3.client("s3", region_name="us-east-1")
        sqs = boto3.session.Session().client("sqs", region_name="us-east-1")
    for client in (s3, sqs):
        assert "RoutedByKinsim" not in [c.__name__ for c in type(client).__mro__]


# -- leaving -------------------------------------------------------------------------------------------
def _kinesis_class_handlers(session) -> list:
    emitter = session._session._events._emitter
    return list(emitter._handlers.prefix_search("creating-client-class.kinesis"))


def test_leaving_restores_botocore_boto3_and_the_environment(monkeypatch):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(name)
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)
    boto3.setup_default_session()
    builtin, default, environment = list(botocore.handlers.BUILTIN_HANDLERS), \
        _kinesis_class_handlers(boto3.DEFAULT_SESSION), dict(os.environ)

    with kinsim.mock(ManualClock(START)):
        assert os.environ["AWS_DEFAULT_REGION"] == "us-east-1"
        inside = kinesis()  # dummy credentials and region, from the mock
        with kinsim.mock(ManualClock(START)):
            pass
        inside.list_streams()

    assert botocore.handlers.BUILTIN_HANDLERS == builtin
    assert _kinesis_class_handlers(boto3.DEFAULT_SESSION) == default
    assert dict(os.environ) == environment
    with pytest.raises(kinsim.MockEndedError):
        inside.list_streams()


def test_a_client_made_after_leaving_is_botocores_own():
    with kinsim.mock(ManualClock(START)):
        inside = kinesis()
    after = kinesis(endpoint_url="http://127.0.0.1:9")
    assert "RoutedByKinsim" in [c.__name__ for c in type(inside).__mro__]
    assert "RoutedByKinsim" not in [c.__name__ for c in type(after).__mro__]
    handlers = after.meta.events._emitter._handlers.prefix_search("before-send.kinesis")
    assert not [h for h in handlers if getattr(h, "__self__", None).__class__ is kinsim.mock]


def test_a_mock_is_entered_once():
    mocked = kinsim.mock()
    with mocked:
        pass
    with pytest.raises(RuntimeError):
        mocked.__enter__()


def test_botocore_retries_back_off_on_a_manual_clock_in_no_real_time():
    """botocore's own retry back-off moves the mock's manual clock instead of sleeping: the sixth read in
    one second is throttled, retried after the delay botocore chose, on the virtual clock, and answered."""
    clock = ManualClock(START)
    began = time.monotonic()
    with kinsim.mock(clock) as mocked:
        client = kinesis(config=Config(retries={"mode": "legacy", "max_attempts": 10}))
        client.create_stream(StreamName=STREAM, ShardCount=1)
        iterator = client.get_shard_iterator(StreamName=STREAM, ShardId=SHARD0,
                                             ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        attempts = [client.get_records(ShardIterator=iterator)["ResponseMetadata"]["RetryAttempts"]
                    for _ in range(6)]
    assert attempts[:5] == [0] * 5 and attempts[5] > 0
    throttled = mocked.statistics()["operations"]["GetRecords"]["errors"]
    assert throttled == attempts[5] and clock.now() > START  # each retry came later on the virtual clock
    assert time.monotonic() - began < 2

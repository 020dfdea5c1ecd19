"""``Endpoint``: injected faults seeded and counted, partial failures and drops that keep the stream honest,
scheduled reshards and throttles on a manual clock, and reset / clear_faults / add_faults.

Requests are made by botocore's serializer and answers read by its parser (``tests.wire_helpers``).
"""

from __future__ import annotations

import math
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kinsim.clock import FunctionClock, ManualClock
from kinsim.endpoint import Endpoint
from kinsim.injection import ERROR_CODES, PARTIAL_CODES
from kinsim.protocol import CBOR
from tests.conftest import START, read_back
from kinsim.strategies import partition_key_pools, put_batches, record_data
from tests.wire_helpers import Caller, cbor_request, json_request

STREAM = "words"
SHARD0 = "shardId-000000000000"


def endpoint(faults=None, seed=None, shards: int = 1, **options) -> tuple[Endpoint, Caller]:
    """An endpoint on a manual clock at START with one stream (made before any fault can touch it)."""
    kinesis = Endpoint(ManualClock(START), faults=faults, seed=seed, **options)
    kinesis.call("CreateStream", {"StreamName": STREAM, "ShardCount": shards})
    return kinesis, Caller(kinesis)


def error_code(answer) -> str:
    return answer["Error"]["Code"] if answer is not None and "Error" in answer else ""


# -- determinism ---------------------------------------------------------------------------------------
_FAULT = st.one_of(
    st.builds(lambda code, rate: {"error": code, "rate": rate}, st.sampled_from(ERROR_CODES), st.floats(0.05, 1)),
    st.builds(lambda code, rate: {"partial": code, "rate": rate}, st.sampled_from(PARTIAL_CODES),
              st.floats(0.05, 1)),
    st.builds(lambda ms, rate: {"latency": {"uniform": [f"{ms}ms", f"{ms + 100}ms"]}, "rate": rate},
              st.integers(0, 100), st.floats(0.05, 1)),
    st.builds(lambda when, rate: {"drop": when, "rate": rate}, st.sampled_from(["before", "after"]),
              st.floats(0.05, 1)),
)
_STEP = st.one_of(
    st.tuples(st.just("put"), record_data(), st.sampled_from(["a", "b", "c"])),
    st.tuples(st.just("batch"), st.lists(record_data(16), min_size=1, max_size=8)),
    st.tuples(st.just("read"), st.integers(1, 20)),
    st.tuples(st.just("list")),
    st.tuples(st.just("advance"), st.sampled_from([0.0, 0.001, 0.5, 1.0, 2.0])),
)


def run_steps(kinesis: Endpoint, caller: Caller, steps) -> list:
    """The steps' answers, each with the exchange's delay and request id."""
    iterator = None
    for step in steps:
        if step[0] == "put":
            caller.call("PutRecord", StreamName=STREAM, Data=step[1], PartitionKey=step[2])
        elif step[0] == "batch":
            caller.call("PutRecords", StreamName=STREAM,
                        Records=[{"Data": d, "PartitionKey": str(i)} for i, d in enumerate(step[1])])
        elif step[0] == "read":
            if iterator is None:
                answer = caller.call("GetShardIterator", StreamName=STREAM, ShardId=SHARD0,
                                     ShardIteratorType="TRIM_HORIZON")
                iterator = (answer or {}).get("ShardIterator")
            if iterator is not None:
                answer = caller.call("GetRecords", ShardIterator=iterator, Limit=step[1])
                iterator = (answer or {}).get("NextShardIterator", iterator)
        elif step[0] == "list":
            caller.call("ListShards", StreamName=STREAM)
        else:
            kinesis.clock.advance(step[1])
    return [(e.operation, e.reply, e.delay, e.request_id) for e in caller.exchanges]


@settings(max_examples=40, deadline=None)
@given(st.lists(_FAULT, min_size=1, max_size=4), st.integers(0, 2**32), st.lists(_STEP, max_size=25))
def test_the_same_plan_seed_and_calls_meet_the_same_faults(faults, seed, steps):
    first, second = endpoint(faults, seed), endpoint(faults, seed)
    assert run_steps(*first, steps) == run_steps(*second, steps)
    assert first[0].statistics() == second[0].statistics()
    check_counts(first[0].statistics(), first[1].exchanges)


def check_counts(stats: dict, exchanges: list) -> None:
    """Each fault's count is what it did: the drops, errors and failed records the answers show."""
    by_kind = Counter()
    for fault in stats["faults"]:
        by_kind[fault["kind"]] += fault.get("calls", 0) + fault.get("records", 0)
    injected = stats["injected"]
    dropped = sum(exchange.reply is None for exchange in exchanges)
    assert by_kind["drop"] == injected.get("dropped_before", 0) + injected.get("dropped_after", 0) == dropped
    assert stats["answers"].get("dropped", 0) == dropped
    assert by_kind["error"] == sum(injected.get("errors", {}).values())
    assert by_kind["partial"] == sum(injected.get("partial_records", {}).values())
    assert by_kind["latency"] >= sum(exchange.delay > 0 for exchange in exchanges)
    assert math.isclose(sum(exchange.delay for exchange in exchanges), injected.get("latency_s", 0), abs_tol=1e-6)


def test_another_seed_meets_other_faults():
    plan = [{"error": "InternalFailure", "rate": 0.5, "operations": ["ListShards"]}]

    def answers(seed: int) -> list[str]:
        _, caller = endpoint(plan, seed)
        return [error_code(caller.call("ListShards", StreamName=STREAM)) for _ in range(64)]

    assert answers(1) == answers(1)
    assert answers(1) != answers(2)  # 2**-64 to be equal by chance


# -- each kind, counted --------------------------------------------------------------------------------
def test_each_injected_kind_is_answered_and_counted():
    kinesis, caller = endpoint([
        {"error": "InternalFailure", "operations": ["ListShards"]},
        {"error": "ServiceUnavailable", "operations": ["DescribeStreamSummary"]},
        {"latency": "250ms", "operations": ["DescribeStream"]},
        {"partial": "ProvisionedThroughputExceededException", "rate": 1},
        {"drop": "before", "operations": ["GetShardIterator"]},
        {"drop": "after", "operations": ["PutRecord"]},
    ])
    for _ in range(3):
        assert error_code(caller.call("ListShards", StreamName=STREAM)) == "InternalFailure"
    assert caller.exchanges[-1].reply.status == 500
    for _ in range(2):
        assert error_code(caller.call("DescribeStreamSummary", StreamName=STREAM)) == "ServiceUnavailable"
    assert caller.exchanges[-1].reply.status == 503
    caller.ok("DescribeStream", StreamName=STREAM)
    assert caller.exchanges[-1].delay == 0.25
    answer = caller.ok("PutRecords", StreamName=STREAM, Records=[{"Data": b"x", "PartitionKey": "k"}] * 4)
    assert answer["FailedRecordCount"] == 4
    assert {r["ErrorCode"] for r in answer["Records"]} == {"ProvisionedThroughputExceededException"}
    assert caller.call("GetShardIterator", StreamName=STREAM, ShardId=SHARD0, ShardIteratorType="LATEST") is None
    assert caller.call("PutRecord", StreamName=STREAM, Data=b"y", PartitionKey="k") is None
    assert caller.call("PutRecord", StreamName=STREAM, Data=b"z", PartitionKey="k") is None

    stats = kinesis.statistics()
    assert stats["requests"] == 10
    assert stats["answers"] == {"200": 2, "500": 3, "503": 2, "dropped": 3}
    assert stats["injected"] == {"dropped_after": 2, "dropped_before": 1, "errors": {
        "InternalFailure": 3, "ServiceUnavailable": 2}, "latency_s": 0.25,
        "partial_records": {"ProvisionedThroughputExceededException": 4},
        "records_unanswered": 2, "records_written_unanswered": 2}  # the two PutRecords whose answers were lost
    assert [(f["path"], f["kind"], f.get("calls"), f.get("records")) for f in stats["faults"]] == [
        ("faults[0]", "error", 3, None), ("faults[1]", "error", 2, None), ("faults[2]", "latency", 1, None),
        ("faults[3]", "partial", None, 4), ("faults[4]", "drop", 1, None), ("faults[5]", "drop", 2, None)]
    assert stats["operations"]["ListShards"] == {"calls": 3, "errors": 3}
    assert stats["operations"]["PutRecord"] == {"calls": 2, "dropped": 2}
    assert stats["records"] == {"put": 2, "read": 0}  # the dropped-after PutRecords were written


def test_an_error_fault_answers_cbor_clients_in_cbor():
    kinesis = Endpoint(ManualClock(START), faults=[{"error": "ServiceUnavailable"}])
    exchange = kinesis.exchange(*cbor_request("ListStreams", {}))
    assert (exchange.reply.status, exchange.reply.content_type) == (503, CBOR)


# -- rates ---------------------------------------------------------------------------------------------
def within_binomial(hits: int, trials: int, rate: float, sigmas: float = 5.0) -> bool:
    spread = sigmas * math.sqrt(trials * rate * (1 - rate)) + 1
    return abs(hits - trials * rate) <= spread


@settings(max_examples=25, deadline=None)
@given(st.floats(0.02, 0.98), st.integers(0, 2**32))
def test_a_call_fault_hits_calls_at_its_rate(rate, seed):
    kinesis, _ = endpoint([{"error": "InternalFailure", "rate": rate, "operations": ["ListStreams"]}], seed)
    request = json_request("ListStreams", {})
    trials = 400
    hits = sum(kinesis.exchange(*request).reply.status == 500 for _ in range(trials))
    assert within_binomial(hits, trials, rate), (hits, trials, rate)
    assert kinesis.statistics()["faults"][0]["calls"] == hits


@settings(max_examples=25, deadline=None)
@given(st.floats(0.02, 0.98), st.integers(0, 2**32))
def test_a_partial_fault_fails_records_at_its_rate(rate, seed):
    kinesis, caller = endpoint([{"partial": "InternalFailure", "rate": rate}], seed, throttling=False)
    failed = 0
    for _ in range(8):
        answer = caller.ok("PutRecords", StreamName=STREAM, Records=[{"Data": b"r", "PartitionKey": "k"}] * 50)
        failed += answer["FailedRecordCount"]
    assert within_binomial(failed, 400, rate), (failed, rate)
    assert kinesis.statistics()["injected"].get("partial_records", {}).get("InternalFailure", 0) == failed


# -- partial failures keep the stream honest -----------------------------------------------------------
@settings(max_examples=40, deadline=None)
@given(partition_key_pools().flatmap(lambda pool: st.lists(put_batches(pool), min_size=1, max_size=6)),
       st.floats(0.05, 1), st.integers(0, 2**32), st.integers(1, 4), st.booleans())
def test_partial_failures_never_write_a_failed_record_nor_lose_a_successful_one(batches, rate, seed, shards,
                                                                                  throttling):
    kinesis, caller = endpoint([{"partial": "InternalFailure", "rate": rate},
                                {"partial": "ProvisionedThroughputExceededException", "rate": rate / 2}],
                               seed, shards=shards, throttling=throttling)
    written = {}  # (shard, sequence number) -> (data, partition key)
    failures = 0
    for batch in batches:
        records = [{"Data": e.data, "PartitionKey": e.partition_key,
                    **({"ExplicitHashKey": e.explicit_hash_key} if e.explicit_hash_key else {})}
                   for e in batch.entries]
        answer = caller.ok("PutRecords", StreamName=STREAM, Records=records)
        assert len(answer["Records"]) == len(records)
        assert answer["FailedRecordCount"] == sum("ErrorCode" in r for r in answer["Records"])
        for entry, result in zip(batch.entries, answer["Records"]):
            if "ErrorCode" in result:
                failures += 1
                assert set(result) == {"ErrorCode", "ErrorMessage"}
            else:
                written[(result["ShardId"], result["SequenceNumber"])] = (entry.data, entry.partition_key)
    stored = {(shard, r.sequence_number): (r.data, r.partition_key)
              for shard, records in read_back(kinesis.backend).items() for r in records}
    assert stored == written
    assert kinesis.statistics()["records"]["put"] == len(written)


@pytest.mark.parametrize("records, code", [
    ([{"Data": b"x", "PartitionKey": "k"}] * 501, "ValidationException"),
    ([{"Data": b"x", "PartitionKey": "k"}, {"Data": b"x", "PartitionKey": "k" * 257}], "ValidationException"),
    ([{"Data": b"x", "PartitionKey": "k", "ExplicitHashKey": "-1"}], "ValidationException"),
    ([{"Data": b"x" * (1024 * 1024 + 1), "PartitionKey": "k"}], "ValidationException"),
    ([{"Data": b"x" * 1_000_000, "PartitionKey": "k"}] * 6, "InvalidArgumentException"),
])
@pytest.mark.parametrize("rate", [1, 0.5])
def test_a_partial_fault_does_not_let_through_a_call_the_service_refuses(records, code, rate):
    plain, plain_caller = endpoint()
    faulty, faulty_caller = endpoint([{"partial": "InternalFailure", "rate": rate}], seed=3)
    expected = plain_caller.call("PutRecords", StreamName=STREAM, Records=records)
    assert error_code(expected) == code
    assert faulty_caller.call("PutRecords", StreamName=STREAM, Records=records) == expected
    assert read_back(faulty.backend) == {SHARD0: []}


@pytest.mark.parametrize("stream, create_delay", [("nowhere", 0.0), (STREAM, 0.0), ("creating", 5.0)])
def test_a_partial_fault_failing_every_record_still_needs_a_stream_that_takes_writes(stream, create_delay):
    kinesis, caller = endpoint([{"partial": "InternalFailure"}], create_delay=create_delay)
    kinesis.call("CreateStream", {"StreamName": "creating", "ShardCount": 1})
    answer = caller.call("PutRecords", StreamName=stream, Records=[{"Data": b"x", "PartitionKey": "k"}])
    if stream == STREAM:
        assert answer["FailedRecordCount"] == 1
    else:
        assert error_code(answer) == "ResourceNotFoundException"


# -- drops ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("operation, params", [
    ("PutRecord", {"StreamName": STREAM, "Data": b"kept?", "PartitionKey": "k"}),
    ("PutRecords", {"StreamName": STREAM, "Records": [{"Data": b"kept?", "PartitionKey": "k"}]}),
])
@pytest.mark.parametrize("when, written", [("before", 0), ("after", 1)])
def test_a_drop_before_writes_nothing_and_after_writes(operation, params, when, written):
    kinesis, caller = endpoint([{"drop": when}])
    assert caller.call(operation, **params) is None
    assert [r.data for r in read_back(kinesis.backend)[SHARD0]] == [b"kept?"] * written
    stats = kinesis.statistics()
    lost = {"records_unanswered": 1} | ({"records_written_unanswered": 1} if written else {})
    assert stats["injected"] == {f"dropped_{when}": 1, **lost} and stats["records"]["put"] == written


def test_a_drop_after_loses_an_error_answer_too_and_the_first_of_an_error_and_a_drop_is_the_one_done():
    kinesis, caller = endpoint([{"drop": "after", "operations": ["PutRecord"]},
                                {"error": "InternalFailure", "operations": ["ListShards"]},
                                {"drop": "before", "operations": ["ListShards"]}])
    assert caller.call("PutRecord", StreamName="nowhere", Data=b"x", PartitionKey="k") is None
    assert error_code(caller.call("ListShards", StreamName=STREAM)) == "InternalFailure"
    stats = kinesis.statistics()
    assert stats["injected"] == {"dropped_after": 1, "errors": {"InternalFailure": 1},
                                 "records_unanswered": 1}  # sent, refused (no such stream), the answer lost
    assert [f.get("calls", 0) for f in stats["faults"]] == [1, 1, 0]


# -- scheduled reshards and throttles ------------------------------------------------------------------
def test_a_scheduled_split_and_throttle_happen_as_the_clock_passes_them():
    kinesis, caller = endpoint([{"at": "10s", "split": SHARD0},
                                {"at": "20s", "for": "10s", "throttle": {"records_per_s": 1}}])
    clock = kinesis.clock
    shards = lambda: [s["ShardId"] for s in caller.ok("ListShards", StreamName=STREAM)["Shards"]]  # noqa: E731
    put = lambda: error_code(caller.call("PutRecord", StreamName=STREAM, Data=b"x", PartitionKey="k"))  # noqa: E731

    clock.advance(9.999)
    assert shards() == [SHARD0] and kinesis.statistics()["stream_faults"] == []
    clock.advance(0.001)
    assert shards() == [SHARD0, "shardId-000000000001", "shardId-000000000002"]
    [split] = kinesis.statistics()["stream_faults"]
    assert (split["path"], split["at_s"]) == ("faults[0]", 10.0) and "split" in split["fault"]

    clock.advance(10)
    assert [put(), put()] == ["", "ProvisionedThroughputExceededException"]
    clock.advance(9)
    assert [put(), put()] == ["", "ProvisionedThroughputExceededException"]
    clock.advance(1)
    assert [put(), put(), put()] == ["", "", ""]
    assert [(f["path"], f["at_s"], f["outcome"]) for f in kinesis.statistics()["stream_faults"][1:]] == [
        ("faults[1]", 20.0, "limits lowered on every stream"), ("faults[1]", 30.0, "limits restored")]


def test_on_a_live_clock_a_scheduled_fault_happens_at_the_first_call_after_its_instant():
    now = [START]
    kinesis = Endpoint(FunctionClock(lambda: now[0]), faults=[{"at": "1m", "split": SHARD0}])
    kinesis.call("CreateStream", {"StreamName": STREAM, "ShardCount": 1})
    caller = Caller(kinesis)
    now[0] += 59.9
    assert len(caller.ok("ListShards", StreamName=STREAM)["Shards"]) == 1
    now[0] += 0.2
    assert len(caller.ok("ListShards", StreamName=STREAM)["Shards"]) == 3
    assert [f["at_s"] for f in kinesis.statistics()["stream_faults"]] == [60.1]  # when it was carried out


def test_a_reshard_that_cannot_happen_is_recorded_as_refused():
    kinesis, _ = endpoint([{"at": 5, "merge": [SHARD0, "shardId-000000000001"]}])
    kinesis.call("CreateStream", {"StreamName": "second", "ShardCount": 2})
    kinesis.clock.advance(5)
    [fault] = kinesis.statistics()["stream_faults"]
    assert fault["outcome"].startswith("refused:") and "stream" in fault["outcome"]


def test_a_reshard_naming_its_stream_acts_on_that_one():
    kinesis, _ = endpoint([{"at": 5, "shard_count": 2, "stream": "second"}])
    kinesis.call("CreateStream", {"StreamName": "second", "ShardCount": 1})
    kinesis.clock.advance(5)
    count = lambda name: kinesis.call("DescribeStreamSummary", {"StreamName": name})[  # noqa: E731
        "StreamDescriptionSummary"]["OpenShardCount"]
    assert (count(STREAM), count("second")) == (1, 2)


# -- reset, clear_faults, add_faults -------------------------------------------------------------------
def test_reset_forgets_streams_and_statistics_and_starts_the_plan_again_from_now():
    kinesis, caller = endpoint([{"at": "10s", "split": SHARD0},
                                {"at": "1m", "error": "InternalFailure", "operations": ["ListStreams"]}])
    caller.ok("PutRecord", StreamName=STREAM, Data=b"x", PartitionKey="k")
    kinesis.clock.advance(5)
    kinesis.reset()
    assert kinesis.start == START + 5
    stats = kinesis.statistics()
    assert (stats["requests"], stats["answers"], stats["records"], stats["elapsed_s"]) == (
        0, {}, {"put": 0, "read": 0}, 0)
    assert caller.ok("ListStreams")["StreamNames"] == []
    kinesis.call("CreateStream", {"StreamName": STREAM, "ShardCount": 1})
    kinesis.clock.advance(5)    # the old schedule's instant: nothing happens
    assert kinesis.statistics()["stream_faults"] == []
    kinesis.clock.advance(5)    # ten seconds after the reset
    assert [f["at_s"] for f in kinesis.statistics()["stream_faults"]] == [10.0]
    kinesis.clock.advance(49)
    assert error_code(caller.call("ListStreams")) == ""
    kinesis.clock.advance(1)
    assert error_code(caller.call("ListStreams")) == "InternalFailure"


def test_clear_faults_stops_injected_ones_calls_off_scheduled_ones_and_restores_limits():
    kinesis, caller = endpoint([{"error": "InternalFailure", "operations": ["ListStreams"]},
                                {"at": "10s", "split": SHARD0},
                                {"at": 0, "for": "1h", "throttle": {"records_per_s": 1}}])
    put = lambda: error_code(caller.call("PutRecord", StreamName=STREAM, Data=b"x", PartitionKey="k"))  # noqa: E731
    assert error_code(caller.call("ListStreams")) == "InternalFailure"
    assert [put(), put()] == ["", "ProvisionedThroughputExceededException"]
    kinesis.clear_faults()
    assert error_code(caller.call("ListStreams")) == ""
    assert [put(), put()] == ["", ""]
    kinesis.clock.advance(3600)
    assert len(caller.ok("ListShards", StreamName=STREAM)["Shards"]) == 1
    assert kinesis.statistics()["faults"] == []


def test_added_faults_count_their_times_from_now():
    kinesis, caller = endpoint()
    kinesis.clock.advance(100)
    kinesis.add_faults([{"at": "10s", "for": "5s", "error": "ServiceUnavailable", "operations": ["ListStreams"]},
                        {"at": "20s", "split": SHARD0}])
    codes = []
    for _ in range(5):
        kinesis.clock.advance(4)  # 104, 108, 112, 116, 120
        codes.append(error_code(caller.call("ListStreams")))
    assert codes == ["", "", "ServiceUnavailable", "", ""]
    assert [(f["path"], f["at_s"]) for f in kinesis.statistics()["stream_faults"]] == [("faults[1]", 120.0)]


def test_added_faults_are_counted_apart_from_the_plans_own():
    kinesis, caller = endpoint([{"error": "InternalFailure", "operations": ["ListStreams"]}])
    for _ in range(3):
        caller.call("ListStreams")
    kinesis.add_faults([{"error": "ServiceUnavailable", "operations": ["DescribeStreamSummary"]}])
    caller.call("DescribeStreamSummary", StreamName=STREAM)
    faults = kinesis.statistics()["faults"]
    assert [(f["fault"], f.get("calls")) for f in faults] == [("answer InternalFailure", 3),
                                                               ("answer ServiceUnavailable", 1)]


def test_added_faults_draw_apart_from_the_plans_own_and_deterministically():
    def codes(add_seed: int) -> list[str]:
        kinesis, caller = endpoint([{"error": "InternalFailure", "rate": 0.5, "operations": ["ListStreams"]}], 1)
        kinesis.add_faults([{"error": "InternalFailure", "rate": 0.5, "operations": ["ListShards"]}], add_seed)
        return [error_code(caller.call(op, **kw)) for _ in range(40)
                for op, kw in (("ListStreams", {}), ("ListShards", {"StreamName": STREAM}))]

    assert codes(1) == codes(1)
    assert Counter(codes(1)[0::2]) == Counter(codes(2)[0::2])  # the plan's own draws are the plan's

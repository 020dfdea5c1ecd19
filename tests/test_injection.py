"""Fault files for an endpoint (``kinsim.injection``): every word read with its defaults and rules, and every
bad file a ``ScenarioError`` naming the file and the key path of what is wrong.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kinsim.api import OPERATIONS
from kinsim.errors import ScenarioError
from kinsim.injection import (ERROR_CODES, PARTIAL_CODES, FaultPlan, Injected, as_plan, describe, load_faults,
                              parse_faults)
from kinsim.lag import Constant, Uniform
from kinsim.scenario.fault_items import MAX_FAULTS
from kinsim.scenario.schedule import Merge, ShardCount, Split, Throttle


def refused(document, file: str = "<faults>") -> ScenarioError:
    with pytest.raises(ScenarioError) as caught:
        parse_faults(document, file)
    return caught.value


# -- every word, and its defaults ----------------------------------------------------------------------
def test_an_error_by_default_answers_every_call_from_the_start_for_good():
    [fault] = parse_faults([{"error": "ServiceUnavailable"}]).injected
    assert fault == Injected("error", 0.0, None, 1.0, None, "faults[0]", code="ServiceUnavailable")


def test_each_injected_word_reads_its_value_at_for_rate_and_operations():
    plan = parse_faults({"seed": 7, "faults": [
        {"at": "2m", "for": "30s", "error": "ProvisionedThroughputExceededException", "rate": 0.25,
         "operations": ["PutRecords", "PutRecord"]},
        {"latency": {"uniform": ["50ms", "250ms"]}, "operations": ["GetRecords"]},
        {"latency": "20ms", "at": 5},
        {"partial": "InternalFailure", "rate": 0.2},
        {"partial": "ProvisionedThroughputExceededException", "operations": ["PutRecords"]},
        {"drop": "before", "rate": 0.01},
        {"drop": "after", "for": "1m"},
    ]})
    assert plan.seed == 7 and plan.stream_faults == ()
    assert plan.injected == (
        Injected("error", 120.0, 150.0, 0.25, frozenset({"PutRecords", "PutRecord"}), "faults[0]",
                 code="ProvisionedThroughputExceededException"),
        Injected("latency", 0.0, None, 1.0, frozenset({"GetRecords"}), "faults[1]", latency=Uniform(0.05, 0.25)),
        Injected("latency", 5.0, None, 1.0, None, "faults[2]", latency=Constant(0.02)),
        Injected("partial", 0.0, None, 0.2, frozenset({"PutRecords"}), "faults[3]", code="InternalFailure"),
        Injected("partial", 0.0, None, 1.0, frozenset({"PutRecords"}), "faults[4]",
                 code="ProvisionedThroughputExceededException"),
        Injected("drop", 0.0, None, 0.01, None, "faults[5]", drop="before"),
        Injected("drop", 0.0, 60.0, 1.0, None, "faults[6]", drop="after"),
    )


def test_the_scenario_words_are_stream_faults_at_the_start_by_default():
    plan = parse_faults({"faults": [
        {"split": "shardId-000000000000"},
        {"at": "3m", "split": "shardId-000000000001", "hash_key": 12345, "stream": "words"},
        {"at": 60, "merge": ["shardId-000000000002", "shardId-000000000003"]},
        {"at": "1h", "shard_count": 4, "stream": "other"},
        {"at": "2m", "for": "1m", "throttle": {"shards": "all", "records_per_s": 100}},
        {"at": 0, "for": 10, "throttle": {"shards": ["shardId-000000000000"], "reads_per_s": 1}, "stream": "w"},
    ]})
    assert plan.seed == 0 and plan.injected == ()
    got = [(f.stream, f.fault.at, f.fault.action, f.fault.duration, f.fault.path) for f in plan.stream_faults]
    assert got == [
        (None, 0.0, Split("shardId-000000000000"), None, "faults[0]"),
        ("words", 180.0, Split("shardId-000000000001", 12345), None, "faults[1]"),
        (None, 60.0, Merge(("shardId-000000000002", "shardId-000000000003")), None, "faults[2]"),
        ("other", 3600.0, ShardCount(4), None, "faults[3]"),
        (None, 120.0, Throttle(None, records_per_s=100), 60.0, "faults[4]"),
        ("w", 0.0, Throttle(("shardId-000000000000",), reads_per_s=1), 10.0, "faults[5]"),
    ]


@pytest.mark.parametrize("document", [None, [], {}, {"faults": None}, {"faults": []}, {"seed": 3}])
def test_no_faults_is_an_empty_plan(document):
    plan = parse_faults(document)
    assert not plan and plan.injected == () and plan.stream_faults == ()


def test_every_error_and_partial_code_is_read():
    plan = parse_faults([{"error": code} for code in ERROR_CODES] + [{"partial": code} for code in PARTIAL_CODES])
    assert [f.code for f in plan.injected] == list(ERROR_CODES + PARTIAL_CODES)


def test_describe_says_what_a_fault_does_in_words():
    plan = parse_faults([{"error": "InternalFailure", "rate": 0.5}, {"latency": {"uniform": ["50ms", "250ms"]}},
                         {"partial": "InternalFailure"}, {"drop": "before"},
                         {"at": 1, "split": "shardId-000000000000", "stream": "words"}])
    assert [describe(f) for f in plan.injected + plan.stream_faults] == [
        "answer InternalFailure at rate 0.5",
        "add latency uniform 0.05-0.25 s",
        "fail PutRecords records with InternalFailure",
        "drop the connection before answering",
        "split shardId-000000000000 on words",
    ]


# -- plans from what a caller gives --------------------------------------------------------------------
def test_a_yaml_file_is_loaded_by_its_path(tmp_path: Path):
    path = tmp_path / "faults.yaml"
    path.write_text("seed: 11\nfaults:\n  - {at: 2m, for: 30s, error: ServiceUnavailable}\n"
                    "  - {partial: InternalFailure, rate: 0.2}\n  - {at: 5m, split: shardId-000000000000}\n")
    plan = load_faults(path)
    assert plan == as_plan(path) == as_plan(str(path)) == parse_faults(
        {"seed": 11, "faults": [{"at": "2m", "for": "30s", "error": "ServiceUnavailable"},
                                {"partial": "InternalFailure", "rate": 0.2},
                                {"at": "5m", "split": "shardId-000000000000"}]}, str(path))
    assert [f.path for f in plan.injected] == ["faults[0]", "faults[1]"]
    assert plan.stream_faults[0].fault.at == 300.0


def test_a_bad_file_is_named_with_the_key_path(tmp_path: Path):
    path = tmp_path / "faults.yaml"
    path.write_text("faults:\n  - {error: ServiceUnavailable}\n  - {drop: after, rate: 2}\n")
    with pytest.raises(ScenarioError) as caught:
        load_faults(path)
    assert (caught.value.path, caught.value.key_path) == (str(path), "faults[1].rate")
    assert str(caught.value).startswith(f"{path}: faults[1].rate: ")


def test_a_missing_file_is_a_scenario_error_naming_it(tmp_path: Path):
    with pytest.raises(ScenarioError) as caught:
        as_plan(tmp_path / "nowhere.yaml")
    assert caught.value.path == str(tmp_path / "nowhere.yaml") and "no such file" in str(caught.value)


def test_as_plan_takes_a_plan_a_document_or_nothing_and_a_seed_wins():
    plan = parse_faults({"seed": 1, "faults": [{"error": "InternalFailure"}]})
    assert as_plan(plan) is plan
    assert as_plan(None) == FaultPlan()
    assert as_plan([{"error": "InternalFailure"}]) == FaultPlan(0, plan.injected)
    assert as_plan(plan, seed=9) == FaultPlan(9, plan.injected)
    assert as_plan({"seed": 1, "faults": [{"error": "InternalFailure"}]}, seed=0).seed == 0


# -- bad files ------------------------------------------------------------------------------------------
BAD = [  # document, key path, words of the message
    ("text", "", "expected a mapping"),
    ({"faults": 5}, "faults", "expected a list"),
    ({"faults": [], "sed": 1}, "sed", "did you mean 'seed'"),
    ({"seed": "x", "faults": []}, "seed", "whole number"),
    ({"seed": 1.5}, "seed", "whole number"),
    ([5], "faults[0]", "expected a mapping"),
    ([{}], "faults[0]", "a fault needs one of"),
    ([{"at": "1m"}], "faults[0]", "a fault needs one of"),
    ([{"eror": "InternalFailure"}], "faults[0].eror", "did you mean 'error'"),
    ([{"error": "InternalFailure", "drop": "after"}], "faults[0].drop", "one fault per item"),
    ([{"error": "Nope"}], "faults[0].error", "expected one of"),
    ([{"error": "ResourceNotFoundException"}], "faults[0].error", "expected one of"),
    ([{"partial": "ServiceUnavailable"}], "faults[0].partial", "expected one of"),
    ([{"drop": "during"}], "faults[0].drop", "expected one of before, after"),
    ([{"latency": "soon"}], "faults[0].latency", "duration"),
    ([{"latency": {"uniform": ["50ms"]}}], "faults[0].latency.uniform", "takes 2 values"),
    ([{"latency": {"gamma": 1}}], "faults[0].latency.gamma", "unknown key"),
    ([{"error": "InternalFailure", "rate": 0}], "faults[0].rate", "above 0 and at most 1"),
    ([{"error": "InternalFailure", "rate": 1.5}], "faults[0].rate", "above 0 and at most 1"),
    ([{"error": "InternalFailure", "rate": -0.1}], "faults[0].rate", "above 0 and at most 1"),
    ([{"error": "InternalFailure", "rate": "half"}], "faults[0].rate", "expected a number"),
    ([{"error": "InternalFailure", "rate": True}], "faults[0].rate", "expected a number"),
    ([{"error": "InternalFailure", "operations": ["PutRecord", "Putrecords"]}], "faults[0].operations[1]",
     "no Kinesis operation is called"),
    ([{"error": "InternalFailure", "operations": []}], "faults[0].operations", "at least one operation"),
    ([{"error": "InternalFailure", "operations": "PutRecord"}], "faults[0].operations", "expected a list"),
    ([{"partial": "InternalFailure", "operations": ["GetRecords"]}], "faults[0].operations", "PutRecords"),
    ([{"error": "InternalFailure", "stream": "s"}], "faults[0].stream", "takes no 'stream'"),
    ([{"drop": "after", "hash_key": 5}], "faults[0].hash_key", "split only"),
    ([{"error": "InternalFailure", "at": "-1s"}], "faults[0].at", "duration"),
    ([{"error": "InternalFailure", "for": 0}], "faults[0].for", "above 0"),
    ([{"error": "InternalFailure", "for": "forever"}], "faults[0].for", "duration"),
    ([{"split": "shardId-000000000000", "rate": 0.5}], "faults[0].rate", "takes no 'rate'"),
    ([{"split": "shardId-000000000000", "operations": ["PutRecord"]}], "faults[0].operations",
     "takes no 'operations'"),
    ([{"split": "shardId-000000000000", "for": "1m"}], "faults[0].for", "takes no 'for'"),
    ([{"split": "shard-zero"}], "faults[0].split", "shard"),
    ([{"split": "shardId-000000000000", "stream": "no spaces"}], "faults[0].stream", "stream name"),
    ([{"merge": ["shardId-000000000000"]}], "faults[0].merge", "two adjacent shards"),
    ([{"shard_count": "four"}], "faults[0].shard_count", "whole number"),
    ([{"throttle": {"records_per_s": 5}}], "faults[0].for", "is required"),
    ([{"for": "1m", "throttle": {}}], "faults[0].throttle", "lowers at least one"),
    ([{"for": "1m", "throttle": {"records_per_s": 5000}}], "faults[0].throttle.records_per_s", "1 to 1,000"),
    ([{"latency": "1ms"}, {"drop": "after"}, {"error": "InternalFailure", "rate": 3}], "faults[2].rate",
     "above 0 and at most 1"),
]


@pytest.mark.parametrize("document, key_path, says", BAD)
def test_a_bad_fault_is_a_scenario_error_naming_file_and_key_path(document, key_path, says):
    error = refused(document, "faults.yaml")
    assert (error.path, error.key_path) == ("faults.yaml", key_path), str(error)
    assert says in error.problem, str(error)


@pytest.mark.parametrize("word, value", [("pause", "consumer"), ("crash", "consumer"), ("restart", "consumer"),
                                         ("join", "w2")])
def test_worker_words_are_refused_an_endpoint_has_no_workers(word, value):
    error = refused([{"at": "1m", "error": "InternalFailure"}, {"at": "1m", word: value, "for": "1m"}])
    assert error.key_path == f"faults[1].{word}" and "workers" in error.problem


def test_a_file_holds_at_most_so_many_faults():
    error = refused({"faults": [{"error": "InternalFailure"}] * (MAX_FAULTS + 1)})
    assert error.key_path == "faults" and f"{MAX_FAULTS:,}" in error.problem
    assert len(parse_faults({"faults": [{"error": "InternalFailure"}] * MAX_FAULTS}).injected) == MAX_FAULTS


# -- generated faults ----------------------------------------------------------------------------------
_SECONDS = st.integers(0, 3600)
_WORD_VALUES = {"error": st.sampled_from(ERROR_CODES), "partial": st.sampled_from(PARTIAL_CODES),
                "drop": st.sampled_from(["before", "after"]), "latency": st.integers(0, 5000).map(lambda ms: f"{ms}ms")}


@st.composite
def injected_items(draw):
    """One injected fault as a file writes it, and the ``Injected`` it must read as (path to be set)."""
    word = draw(st.sampled_from(sorted(_WORD_VALUES)))
    value = draw(_WORD_VALUES[word])
    item: dict = {word: value}
    at = draw(st.none() | _SECONDS)
    length = draw(st.none() | st.integers(1, 3600))
    rate = draw(st.none() | st.floats(0, 1, exclude_min=True))
    operations = draw(st.none() | st.lists(st.sampled_from(OPERATIONS), min_size=1, max_size=4))
    if word == "partial":
        operations = draw(st.none() | st.just(["PutRecords"]))
    for key, value_given in (("at", at), ("for", length), ("rate", rate), ("operations", operations)):
        if value_given is not None:
            item[key] = f"{value_given}s" if key in ("at", "for") and draw(st.booleans()) else value_given
    start = float(at or 0)
    fields = dict(code=value) if word in ("error", "partial") else dict(drop=value) if word == "drop" else \
        dict(latency=Constant(int(value[:-2]) / 1000))
    ops = frozenset({"PutRecords"}) if word == "partial" else None if operations is None else frozenset(operations)
    expected = Injected(word, start, None if length is None else start + length, 1.0 if rate is None else rate,
                        ops, "", **fields)
    return item, expected


@settings(max_examples=150)
@given(st.lists(injected_items(), max_size=6), st.none() | st.integers(0, 2**62))
def test_generated_faults_read_as_written(items, seed):
    document = {"faults": [item for item, _ in items]}
    if seed is not None:
        document["seed"] = seed
    plan = parse_faults(document)
    assert plan.seed == (seed or 0)
    assert plan.injected == tuple(Injected(**{**e.__dict__, "path": f"faults[{i}]"}) for i, (_, e) in enumerate(items))


@settings(max_examples=100)
@given(st.lists(injected_items(), min_size=1, max_size=6), st.data(),
       st.one_of(st.floats(allow_nan=False).filter(lambda r: not 0 < r <= 1), st.just(float("nan")),
                 st.sampled_from([0, -1, 2, 1.0000001])))
def test_a_generated_rate_out_of_range_is_named_by_its_index(items, data, rate):
    spoilt = data.draw(st.integers(0, len(items) - 1))
    document = [dict(item, rate=rate) if i == spoilt else item for i, (item, _) in enumerate(items)]
    error = refused(document)
    assert error.key_path == f"faults[{spoilt}].rate", str(error)

"""Each bad input an adversarial user found, and the clear answer it now gets (the fuzz suite, in
``test_fuzz.py``, looks for more)."""

from __future__ import annotations

import io
import subprocess
import sys

import pytest
import yaml
from botocore.exceptions import ClientError, ParamValidationError

import kinsim
from kinsim.clock import FunctionClock, ManualClock
from kinsim.errors import ScenarioError
from kinsim.estimate import Budget, RunTooBig, check, estimate
from kinsim.report import utc_text
from kinsim.runner import default_stream_name, run
from kinsim.scenario import load_scenario

from .conftest import ROOT, START

GOOD = (ROOT / "scenarios/lagged_producers.yaml").read_text()


def problem_of(tmp_path, text: str, name: str = "bad.yaml") -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    with pytest.raises(ScenarioError) as excinfo:
        load_scenario(path)
    message = str(excinfo.value)
    assert message.startswith(f"{path}: ") and "\n" not in message and len(message) < 500, message
    return message[len(str(path)) + 2:]


def replaced(old: str, new: str) -> str:
    assert old in GOOD, old
    return GOOD.replace(old, new)


BOMB = "".join(f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 10) + "]\n" for i in range(1, 8))

CASES = [
    ("deep nesting", GOOD + "colour: " + "[" * 3000 + "]" * 3000 + "\n", "not valid YAML: line "),
    ("an alias bomb", "l0: &l0 [x, x, x, x, x, x, x, x, x, x]\n" + BOMB + GOOD,
     "its aliases add more than 100,000 values once expanded"),
    ("a recursive alias", "a: &a [1, *a]\n" + GOOD, "names a node that holds it, or no node"),
    ("nan", replaced("duration: 10m", "duration: .nan"), "duration: expected a duration like 500ms, 20s, 2m"),
    ("inf text", replaced("duration: 10m", "duration: inf"), "duration: expected a duration like"),
    ("1e400s", replaced("duration: 10m", "duration: 1e400s"), "duration: a duration is at most a thousand years"),
    ("February 30", replaced("start: 2018-07-31T21:56:00Z", "start: 2018-02-30T21:56:00Z"),
     "start: expected an ISO 8601 instant like 2018-07-31T21:56:00Z, got '2018-02-30T21:56:00Z'"),
    ("month 13", replaced("start: 2018-07-31T21:56:00Z", "start: 2018-13-01"), "start: expected an ISO 8601"),
    ("a dot for a number", replaced("seed: 7", "seed: ."), "seed: expected a whole number, got '.'"),
    ("0x for a number", replaced("seed: 7", "seed: 0x"), "seed: expected a whole number, got '0x'"),
    ("a key twice", replaced("seed: 7", "seed: 7\nseed: 8"),
     "line 18, column 1: the key 'seed' is given twice in one mapping (first at line 17, column 1)"),
    ("a zero window", replaced("window: 1m", "window: 0s"), "window: must be above 0, got '0s'"),
    ("a zero duration", replaced("duration: 10m", "duration: 0s"), "duration: must be above 0, got '0s'"),
    ("a NUL byte", replaced("seed: 7", 'seed: "a\\0b"'), r"seed: expected a whole number, got 'a\x00b'"),
    ("sigma nan", replaced("lag: {uniform: [20s, 90s]}", "lag: {lognormal: {median: 1s, sigma: .nan}}"),
     "producers[1].lag.lognormal.sigma: expected a finite number, got nan"),
    ("shape nan", replaced("lag: {uniform: [20s, 90s]}", "lag: {pareto: {scale: 1s, shape: .nan}}"),
     "producers[1].lag.pareto.shape: expected a finite number, got nan"),
    ("a rate faster than the clock", replaced("interval: 5s", "rate: 1000000000/s"),
     "producers[1].rate: a rate of at most 1,000,000/s"),
    ("past the year 9999", replaced("start: 2018-07-31T21:56:00Z", "start: 9999-12-31T23:55:00Z"),
     "start: an instant lies between the years 1 and 9999"),
    ("a lone surrogate in a key", replaced("partition_key: 8.8.8.9", 'partition_key: "\\ud800"'),
     "invalid Unicode character" if yaml.__with_libyaml__ else "producers[1].partition_key: text may not hold"),
    ("an escape in a key", replaced("partition_key: 8.8.8.9", 'partition_key: "8.8.8.9\\e"'),
     r"producers[1].partition_key: text may not hold control characters or broken Unicode, got '8.8.8.9\x1b'"),
    ("a name with a control character", replaced("name: lagged_producers", 'name: "a\\x1bb"'),
     "name: text may not hold control characters"),
    ("a file of 33 MiB", GOOD + "#" + "x" * 33 * 1024 * 1024 + "\n",
     "the file has more than 33,554,432 bytes, the most a scenario file may have"),
    ("null for a rate", replaced("interval: 5s", "rate: null"), "producers[1].rate: is required"),
    ("a huge whole number", replaced("seed: 7", "seed: " + "9" * 6000), "seed: expected a whole number"),
]


@pytest.mark.parametrize("text, expected", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_each_bad_file_gets_one_clear_line(tmp_path, text, expected):
    assert expected in problem_of(tmp_path, text)


def test_durations_take_exponents(tmp_path):
    path = tmp_path / "exponent.yaml"
    path.write_text(replaced("duration: 10m", "duration: 1e2s"))
    assert load_scenario(path).duration == 100.0


def test_bytes_that_are_not_utf8_are_one_clear_line(tmp_path):
    path = tmp_path / "bytes.yaml"
    path.write_bytes(GOOD.encode() + b"\xff\xfe\n")
    with pytest.raises(ScenarioError, match=r"not UTF-8 text: byte 1,\d+ cannot be read"):
        load_scenario(path)


def test_a_file_named_with_spaces_and_accents_runs(tmp_path):
    """The stream kinsim names after the scenario takes only what the API takes."""
    path = tmp_path / "my run é.yaml"
    path.write_text(GOOD.replace("  name: blogpost-word-stream\n", "").replace("name: lagged_producers\n", ""))
    scenario = load_scenario(path)
    assert default_stream_name(scenario.name) == "kinsim-my-run--"
    assert run(scenario).produced == 420


def test_three_producers_at_a_millisecond_on_one_shard_are_refused_with_the_estimate(tmp_path):
    text = replaced("  - name: fast\n    partition_key: 8.8.8.8\n    interval: 2s",
                    "  - name: fast\n    partition_key: 8.8.8.8\n    interval: 1ms")
    text = text.replace("duration: 10m", "duration: 2m").replace("interval: 5s", "interval: 1ms")
    text = text.replace("    partition_key: 8.8.8.9\n", "    partition_key: 8.8.8.8\n")
    path = tmp_path / "hot.yaml"
    path.write_text(text)
    scenario = load_scenario(path)
    size = estimate(scenario)
    assert size.attempts > 10 * size.records  # every record waits, retrying, on a shard offered 2,000/s
    with pytest.raises(RunTooBig) as excinfo:
        check(scenario, str(path), Budget(max_events=5_000_000))
    message = str(excinfo.value)
    assert "shardId-000000000000 is offered 2,000 records/s and takes 1,000" in message
    assert "raise it with --max-events to run anyway" in message
    done = subprocess.run([sys.executable, "-m", "kinsim", "run", str(path), "--max-events", "5000000"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and done.stderr.startswith("kinsim: error: ") and done.stderr.count("\n") == 1


def test_a_run_whose_lags_reach_past_the_year_9999_is_a_scenario_error(tmp_path):
    path = tmp_path / "late.yaml"
    path.write_text(replaced("start: 2018-07-31T21:56:00Z", "start: 9999-12-20T00:00:00Z")
                    .replace("lag: {uniform: [20s, 90s]}", "lag: {uniform: [20s, 30d]}"))
    with pytest.raises(ScenarioError, match=r"start: the run would reach past the year 9999"):
        check(load_scenario(path), str(path))


def test_a_report_prints_any_instant():
    assert utc_text(1_533_074_160_500_000) == "2018-07-31T21:56:00.5Z"
    assert utc_text(10**18) == "+33658-09-27T01:46:40Z"


@pytest.mark.parametrize("speed", ["nan", "inf", "0", "-1", "fast"])
def test_a_bad_speed_is_a_usage_error(speed):
    done = subprocess.run([sys.executable, "-m", "kinsim", "run", "scenarios/seed_tutorial.yaml", "--realtime",
                           "--speed", speed], capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert done.returncode == 2 and "Traceback" not in done.stderr and "--speed" in done.stderr


# -- the client -------------------------------------------------------------------------------------------
@pytest.fixture
def served():
    kinesis = kinsim.client(kinsim.MemoryBackend(ManualClock(START)))
    kinesis.create_stream(StreamName="s", ShardCount=1)
    return kinesis


def code(call) -> str:
    with pytest.raises(ClientError) as excinfo:
        call()
    return excinfo.value.response["Error"]["Code"]


def test_a_next_token_kinsim_did_not_make_is_an_invalid_argument(served):
    assert code(lambda: served.list_shards(NextToken="aGVsbG8=")) == "InvalidArgumentException"   # "hello"
    assert code(lambda: served.list_streams(NextToken="!!")) == "InvalidArgumentException"
    listing = served.list_streams(Limit=1)
    assert code(lambda: served.list_shards(NextToken=listing.get("NextToken", "eA=="))) == "InvalidArgumentException"


def test_text_that_is_not_unicode_is_a_serialization_error(served):
    assert code(lambda: served.put_record(StreamName="s", Data=b"x", PartitionKey="\ud800")) == \
        "SerializationException"


def test_a_text_file_is_data_as_text(served):
    put = served.put_record(StreamName="s", Data=io.StringIO("2018-07-31T21:56:42.972560"), PartitionKey="k")
    iterator = served.get_shard_iterator(StreamName="s", ShardId=put["ShardId"], ShardIteratorType="TRIM_HORIZON")
    [record] = served.get_records(ShardIterator=iterator["ShardIterator"])["Records"]
    assert record["Data"] == b"2018-07-31T21:56:42.972560"


def test_a_timestamp_botocore_cannot_handle_is_a_parameter_error(served):
    with pytest.raises(ParamValidationError):
        served.get_shard_iterator(StreamName="s", ShardId="shardId-000000000000", ShardIteratorType="AT_TIMESTAMP",
                                  Timestamp=1e300)


@pytest.mark.parametrize("instant", [1e13, -1e12])
def test_a_clock_outside_the_years_1_to_9999(instant):
    with pytest.raises(ValueError, match="between the years 1 and 9999"):
        ManualClock(instant)
    kinesis = kinsim.client(kinsim.MemoryBackend(FunctionClock(lambda: instant)))
    assert code(kinesis.list_streams) == "InternalFailure"

"""Every class of bad scenario input, and the one message it gets: the file, the key path, the problem."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest
import yaml

from kinsim.errors import ScenarioError
from kinsim.scenario import load_scenario

GOOD = """\
name: t
seed: 1
start: 2018-07-31T21:56:00Z
duration: 2m
stream: {name: s, shards: 1}
producers:
  - {name: fast, partition_key: 8.8.8.8, interval: 2s, lag: {constant: 100ms}}
  - name: slow
    partition_key: 8.8.8.9
    interval: 5s
    lag: {uniform: [1s, 9s]}
consumer: {poll_interval: 5s, limit: 25}
counters:
  - naive
  - {kind: buffered, name: buffered, grace: 10s}
"""


def write(tmp_path, text: str, name: str = "bad.yaml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def error_of(tmp_path, text: str) -> str:
    path = write(tmp_path, text)
    with pytest.raises(ScenarioError) as excinfo:
        load_scenario(path)
    message = str(excinfo.value)
    assert message.startswith(f"{path}: "), message
    return message[len(str(path)) + 2:]


def replaced(old: str, new: str) -> str:
    assert old in GOOD, old
    return GOOD.replace(old, new)


def test_the_good_file_loads(tmp_path):
    scenario = load_scenario(write(tmp_path, GOOD))
    assert [p.name for p in scenario.producers] == ["fast", "slow"]


CASES = [
    # (what is wrong, the file's text, the message after the file name)
    ("not YAML", "name: [unclosed\n", "not valid YAML: line 2, column 1: " + (
        "did not find expected ',' or ']'" if yaml.__with_libyaml__ else "expected ',' or ']', but got '<stream end>'")),
    ("not a mapping", "- just\n- a list\n", "expected a mapping of keys at the top, got ['just', 'a list']"),
    ("unknown key", GOOD + "colour: blue\n", "colour: unknown key; known keys: name, description, seed, start, "
     "duration, window, stream, producers, consumer, counters, faults"),
    ("misspelt key", replaced("seed: 1", "sed: 1"), "sed: unknown key; did you mean 'seed'?"),
    ("missing duration", replaced("duration: 2m\n", ""), "duration: is required"),
    ("bad duration", replaced("duration: 2m", "duration: two minutes"),
     "duration: expected a duration like 500ms, 20s, 2m or 1h, got 'two minutes'"),
    ("negative duration", replaced("duration: 2m", "duration: -2m"),
     "duration: expected a duration like 500ms, 20s, 2m or 1h, got '-2m'"),
    ("infinite duration", replaced("duration: 2m", "duration: .inf"),
     "duration: expected a duration like 500ms, 20s, 2m or 1h, got inf"),
    ("duration not a number", replaced("grace: 10s}", "grace: nan}"),
     "counters[1].grace: expected a duration like 500ms, 20s, 2m or 1h, got 'nan'"),
    ("bad instant", replaced("start: 2018-07-31T21:56:00Z", "start: yesterday"),
     "start: expected an ISO 8601 instant like 2018-07-31T21:56:00Z, got 'yesterday'"),
    ("seed not a number", replaced("seed: 1", "seed: lucky"), "seed: expected a whole number, got 'lucky'"),
    ("no producers", replaced(GOOD[GOOD.index("producers:"):GOOD.index("consumer:")], ""),
     "producers: at least one is required"),
    ("producers not a list", replaced(GOOD[GOOD.index("producers:"):GOOD.index("consumer:")], "producers: 3\n"),
     "producers: expected a list, got 3"),
    ("producer without name", replaced("{name: fast, partition_key", "{partition_key"),
     "producers[0].name: is required"),
    ("unknown producer key", replaced("    interval: 5s", "    interval: 5s\n    colour: red"),
     "producers[1].colour: unknown key; known keys: name, partition_key, interval, rate, offset, jitter, lag, "
     "outages, clock_skew, pacing, until"),
    ("interval and rate", replaced("    interval: 5s", "    interval: 5s\n    rate: 12/min"),
     "producers[1]: give either 'interval' (e.g. 2s) or 'rate' (e.g. 30/min), not both or neither"),
    ("neither interval nor rate", replaced("    interval: 5s\n", ""),
     "producers[1]: give either 'interval' (e.g. 2s) or 'rate' (e.g. 30/min), not both or neither"),
    ("zero interval", replaced("    interval: 5s", "    interval: 0s"),
     "producers[1].interval: must be above 0, got '0s'"),
    ("bad rate", replaced("    interval: 5s", "    rate: often"),
     "producers[1].rate: expected a rate above 0 like 30/min or 2/s, got 'often'"),
    ("duplicate producer", replaced("name: slow", "name: fast"),
     "producers[1].name: producer name 'fast' is already used by producers[0]"),
    ("partition key too long", replaced("partition_key: 8.8.8.9", "partition_key: " + "k" * 257),
     "producers[1].partition_key: expected text of at most 256 characters, got 257"),
    ("unknown lag model", replaced("lag: {uniform: [1s, 9s]}", "lag: {gamma: [1s, 9s]}"),
     "producers[1].lag.gamma: unknown key; known keys: constant, uniform, exponential, normal, lognormal, pareto"),
    ("two lag models", replaced("lag: {uniform: [1s, 9s]}", "lag: {uniform: [1s, 9s], constant: 1s}"),
     "producers[1].lag: expected one lag model of constant, uniform, exponential, normal, lognormal, pareto"),
    ("lag with one bound", replaced("lag: {uniform: [1s, 9s]}", "lag: {uniform: 20s}"),
     "producers[1].lag.uniform: uniform takes low, high, e.g. [20s, 20s]"),
    ("lag with three bounds", replaced("lag: {uniform: [1s, 9s]}", "lag: {uniform: [1s, 2s, 3s]}"),
     "producers[1].lag.uniform: uniform takes 2 values (low, high), got 3"),
    ("lag bounds reversed", replaced("lag: {uniform: [1s, 9s]}", "lag: {uniform: [9s, 1s]}"),
     "producers[1].lag.uniform: high (1 s) is below low (9 s)"),
    ("bad lag bound", replaced("lag: {uniform: [1s, 9s]}", "lag: {uniform: [1s, soon]}"),
     "producers[1].lag.uniform[1]: expected a duration like 500ms, 20s, 2m or 1h, got 'soon'"),
    ("lag missing a parameter", replaced("lag: {uniform: [1s, 9s]}", "lag: {normal: {mean: 1s}}"),
     "producers[1].lag.normal: 'stddev' is required (normal takes mean, stddev)"),
    ("lag shape not a number", replaced("lag: {uniform: [1s, 9s]}", "lag: {pareto: {scale: 1s, shape: steep}}"),
     "producers[1].lag.pareto.shape: expected a number, got 'steep'"),
    ("overlapping outages",
     replaced("    interval: 5s", "    interval: 5s\n    outages: [{at: 1m, for: 1m}, {at: 90s, for: 1m}]"),
     "producers[1]: outages must be in time order and must not overlap"),
    ("outage without end", replaced("    interval: 5s", "    interval: 5s\n    outages: [{at: 1m}]"),
     "producers[1].outages[0].for: is required"),
    ("zero outage", replaced("    interval: 5s", "    interval: 5s\n    outages: [{at: 1m, for: 0s}]"),
     "producers[1].outages[0]: an outage must last longer than 0 s"),
    ("jitter too large", replaced("    interval: 5s", "    interval: 5s\n    jitter: 5s"),
     "producers[1]: jitter must be at least 0 and below the interval, or records would swap places"),
    ("unknown pacing", replaced("    interval: 5s", "    interval: 5s\n    pacing: sometimes"),
     "producers[1].pacing: expected one of fixed, after_put, got 'sometimes'"),
    ("no shards", replaced("shards: 1", "shards: 0"), "stream: a stream has 1 to 500 shards here"),
    ("shards not a number", replaced("shards: 1", "shards: many"),
     "stream.shards: expected a whole number, got 'many'"),
    ("limit too large", replaced("limit: 25", "limit: 10001"), "consumer: GetRecords takes a Limit from 1 to 10000"),
    ("bad iterator", replaced("limit: 25}", "limit: 25, iterator: EARLIEST}"),
     "consumer.iterator: expected one of TRIM_HORIZON, LATEST, AT_SEQUENCE_NUMBER, AFTER_SEQUENCE_NUMBER, "
     "AT_TIMESTAMP, got 'EARLIEST'"),
    ("iterator needing a position", replaced("limit: 25}", "limit: 25, iterator: AT_TIMESTAMP}"),
     "consumer: a scenario's consumer starts from TRIM_HORIZON or LATEST"),
    ("no counters", replaced(GOOD[GOOD.index("counters:"):], ""), "counters: at least one is required"),
    ("unknown counter kind", replaced("  - naive\n", "  - clever\n"),
     "counters[0]: unknown counter kind 'clever': the built-in kinds are naive, buffered; a counter class of "
     "your own is named by an import path like mypackage.counting:TopKeys"),
    ("unknown counter kind in a mapping", replaced("{kind: buffered, name: buffered", "{kind: bufered, name: buffered"),
     "counters[1].kind: unknown counter kind 'bufered': the built-in kinds are naive, buffered; a counter class "
     "of your own is named by an import path like mypackage.counting:TopKeys"),
    ("not an import path", replaced("{kind: buffered, name: buffered", "{kind: 'my-counters:Top', name: buffered"),
     "counters[1].kind: expected an import path like mypackage.counting:TopKeys (package.module:Class), "
     "got 'my-counters:Top'"),
    ("misspelt counter parameter", replaced("grace: 10s}", "grase: 10s}"),
     "counters[1].grase: unknown key; did you mean 'grace'?"),
    ("unknown counter parameter", replaced("grace: 10s}", "grace: 10s, colour: red}"),
     "counters[1].colour: unknown key; buffered takes grace, allowed_lateness, idle_timeout"),
    ("parameters both ways", replaced("grace: 10s}", "grace: 10s, params: {allowed_lateness: 1m}}"),
     "counters[1].grace: give the parameters as the counter's own keys or under 'params', not both"),
    ("params not a mapping", replaced("grace: 10s}", "params: [10s]}"),
     "counters[1].params: expected a mapping of parameter names to values, got ['10s']"),
    ("bad parameter under params", replaced("grace: 10s}", "params: {grace: -10s}}"),
     "counters[1].params.grace: expected a duration like 500ms, 20s, 2m or 1h, got '-10s'"),
    ("misspelt parameter under params", replaced("grace: 10s}", "params: {grace: 10s, lateness: 1m}}"),
     "counters[1].params.lateness: unknown key; did you mean 'allowed_lateness'?"),
    ("unknown parameter under params", replaced("grace: 10s}", "params: {grace: 10s, colour: red}}"),
     "counters[1].params.colour: unknown key; buffered takes grace, allowed_lateness, idle_timeout"),
    ("counter without kind", replaced("{kind: buffered, name: buffered", "{name: buffered"),
     "counters[1].kind: is required"),
    ("slide above size", replaced("grace: 10s}", "grace: 10s, size: 1m, slide: 2m}"),
     "counters[1]: slide must be above 0 and at most the size, or windows would leave gaps"),
    ("size not a whole number of slides", replaced("grace: 10s}", "grace: 10s, size: 1m, slide: 25s}"),
     "counters[1]: size must be a whole number of slides, so windows align"),
    ("negative grace", replaced("grace: 10s}", "grace: -10s}"),
     "counters[1].grace: expected a duration like 500ms, 20s, 2m or 1h, got '-10s'"),
    ("naive with grace", replaced("  - naive\n", "  - {kind: naive, grace: 1m}\n"),
     "counters[0].grace: unknown key; naive takes no parameters"),
    ("counter neither a kind nor a mapping", replaced("  - naive\n", "  - 3\n"),
     "counters[0]: expected a counter kind or a mapping of keys, got 3"),
    ("duplicate counter", replaced("name: buffered,", "name: naive,"),
     "counters[1].name: counter name 'naive' is already used by counters[0]"),
]


@pytest.mark.parametrize("text, message", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_scenario_message(tmp_path, text, message):
    assert error_of(tmp_path, text) == message


def test_a_missing_file(tmp_path):
    with pytest.raises(ScenarioError, match=r"missing\.yaml: no such file"):
        load_scenario(tmp_path / "missing.yaml")


def kinsim(*args):
    return subprocess.run([sys.executable, "-m", "kinsim", *args], capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("command", ["run", "validate"])
def test_the_cli_says_it_once_with_status_2_and_no_traceback(tmp_path, command):
    path = write(tmp_path, replaced("lag: {uniform: [1s, 9s]}", "lag: {uniform: [9s, 1s]}"))
    done = kinsim(command, str(path))
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr == f"kinsim: error: {path}: producers[1].lag.uniform: high (1 s) is below low (9 s)\n"


def test_validate_accepts_a_good_file(tmp_path):
    path = write(tmp_path, GOOD, "good.yaml")
    done = kinsim("validate", str(path))
    assert done.returncode == 0, done.stderr
    assert done.stdout == (f"{path}: ok (t: 2 producers, 2 counters, 1 shards; about 86 records, 86 put attempts, "
                           "27 polls over 2 minutes of simulated time, 0.1 GiB of memory)\n")

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


def consumer(keys: str) -> str:
    """GOOD with more keys in its consumer mapping."""
    return replaced("limit: 25}", f"limit: 25, {keys}}}")


def faults(workers, *items: str) -> str:
    """GOOD with ``consumer.workers`` (None: left out) and a fault schedule."""
    text = GOOD if workers is None else consumer(workers)
    return text + "faults:\n" + "".join(f"  - {item}\n" for item in items)


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
     "producers[1].colour: unknown key; known keys: name, partition_key, keys, count, interval, rate, offset, jitter, lag, "
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
    ("no shards", replaced("shards: 1", "shards: 0"), "stream.shards: a stream has at least 1 shard, got 0"),
    ("more shards than the account's limit", replaced("shards: 1", "shards: 501"),
     "stream.shards: 501 shards are over the account's shard limit of 500: raise stream.shard_limit"),
    ("a shard limit of none", replaced("shards: 1", "shards: 1, shard_limit: 0"),
     "stream.shard_limit: the account's shard limit is 1 to 100,000 here, got 0"),
    ("a shard limit not a number", replaced("shards: 1", "shards: 1, shard_limit: many"),
     "stream.shard_limit: expected a whole number, got 'many'"),
    ("shards over a raised limit", replaced("shards: 1", "shards: 2001, shard_limit: 2000"),
     "stream.shards: 2,001 shards are over the account's shard limit of 2,000: raise stream.shard_limit"),
    ("a shard count over the account's limit", replaced("shards: 1", "shards: 600, shard_limit: 1000")
     + "faults: [{at: 1m, shard_count: 1200}]\n",
     "faults[0].shard_count: the service refuses to update the shard count to 1200: LimitExceededException: This "
     "request would exceed the shard limit. Current shard count: 600. Limit: 1000. Number of additional shards that "
     "would have resulted from this request: 600."),
    ("shards not a number", replaced("shards: 1", "shards: many"),
     "stream.shards: expected a whole number, got 'many'"),
    ("limit too large", replaced("limit: 25", "limit: 10001"), "consumer: GetRecords takes a Limit from 1 to 10000"),
    ("bad iterator", replaced("limit: 25}", "limit: 25, iterator: EARLIEST}"),
     "consumer.iterator: expected one of TRIM_HORIZON, LATEST, AT_SEQUENCE_NUMBER, AFTER_SEQUENCE_NUMBER, "
     "AT_TIMESTAMP, got 'EARLIEST'"),
    ("iterator needing a position", replaced("limit: 25}", "limit: 25, iterator: AT_TIMESTAMP}"),
     "consumer: a scenario's consumer starts from TRIM_HORIZON or LATEST"),
    ("unknown consumer key", consumer("worker: 2"), "consumer.worker: unknown key; did you mean 'workers'?"),
    ("no workers", consumer("workers: 0"), "consumer.workers: expected 1 to 100 workers, got 0"),
    ("too many workers", consumer("workers: 101"), "consumer.workers: expected 1 to 100 workers, got 101"),
    ("workers neither a count nor a list", consumer("workers: true"),
     "consumer.workers: expected a number of workers (1 to 100) or a list of their names, got True"),
    ("workers as a word", consumer("workers: two"),
     "consumer.workers: expected a number of workers (1 to 100) or a list of their names, got 'two'"),
    ("an empty list of workers", consumer("workers: []"), "consumer.workers: expected 1 to 100 workers, got 0"),
    ("a list of too many workers", consumer(f"workers: [{', '.join(f'x{i}' for i in range(101))}]"),
     "consumer.workers: expected 1 to 100 workers, got 101"),
    ("a worker listed twice", consumer("workers: [a, b, a]"), "consumer.workers[2]: a is already listed at "
     "consumer.workers[0]"),
    ("a worker without a name", consumer("workers: [a, '']"), "consumer.workers[1]: a worker's name is not empty"),
    ("a worker's name not text", consumer("workers: [a, [b]]"), "consumer.workers[1]: expected text, got ['b']"),
    ("lease not a mapping", consumer("lease: 10s"), "consumer.lease: expected a mapping of keys, got '10s'"),
    ("a misspelt lease key", consumer("lease: {failover: 10s}"),
     "consumer.lease.failover: unknown key; did you mean 'failover_time'?"),
    ("a lease without its time", consumer("lease: {}"), "consumer.lease.failover_time: is required"),
    ("no failover time", consumer("lease: {failover_time: 0s}"),
     "consumer.lease.failover_time: must be above 0, got '0s'"),
    ("a bad failover time", consumer("lease: {failover_time: soon}"),
     "consumer.lease.failover_time: expected a duration like 500ms, 20s, 2m or 1h, got 'soon'"),
    ("an unknown checkpoint word", consumer("checkpoint: sometimes"), "consumer.checkpoint: expected one of "
     "{every: DURATION}, {records: N}, each_batch or none, got 'sometimes'"),
    ("a checkpoint duration alone", consumer("checkpoint: 30s"), "consumer.checkpoint: expected one of "
     "{every: DURATION}, {records: N}, each_batch or none, got '30s'"),
    ("an empty checkpoint", consumer("checkpoint: {}"), "consumer.checkpoint: expected one of "
     "{every: DURATION}, {records: N}, each_batch or none, got {}"),
    ("two checkpoint policies", consumer("checkpoint: {every: 30s, records: 10}"),
     "consumer.checkpoint.records: one checkpoint policy: this one already has 'every'"),
    ("a misspelt checkpoint policy", consumer("checkpoint: {evry: 30s}"),
     "consumer.checkpoint.evry: unknown key; did you mean 'every'?"),
    ("each_batch as a key", consumer("checkpoint: {each_batch: true}"),
     "consumer.checkpoint.each_batch: unknown key; known keys: every, records"),
    ("checkpoint every no time", consumer("checkpoint: {every: 0s}"),
     "consumer.checkpoint.every: must be above 0, got '0s'"),
    ("checkpoint after no records", consumer("checkpoint: {records: 0}"),
     "consumer.checkpoint.records: checkpoint after at least 1 record, got 0"),
    ("checkpoint after part of a record", consumer("checkpoint: {records: 1.5}"),
     "consumer.checkpoint.records: expected a whole number, got 1.5"),
    ("an unknown state", consumer("state: disk"),
     "consumer.state: expected one of memory, checkpointed, got 'disk'"),
    ("limit and max_records", consumer("max_records: 25"), "consumer.max_records: 'limit' already gives this "
     "(max_records is the KCL's name for limit): give one of them"),
    ("max_records and limit", replaced("limit: 25}", "max_records: 20, limit: 25}"), "consumer.limit: "
     "'max_records' already gives this (max_records is the KCL's name for limit): give one of them"),
    ("poll_interval and idle_time_between_reads", consumer("idle_time_between_reads: 5s"),
     "consumer.idle_time_between_reads: 'poll_interval' already gives this (idle_time_between_reads is the "
     "KCL's name for poll_interval): give one of them"),
    ("max_records too large", replaced("limit: 25}", "max_records: 10001}"),
     "consumer: GetRecords takes a Limit from 1 to 10000"),
    ("no idle time between reads", replaced("poll_interval: 5s", "idle_time_between_reads: 0s"),
     "consumer.idle_time_between_reads: must be above 0, got '0s'"),
    ("a processor not an import path", consumer("processor: RecordProcessor"), "consumer.processor: expected an "
     "import path like myapp.processing:RecordProcessor (package.module:Class), got 'RecordProcessor'"),
    # -- faults of workers
    ("no fault word", faults("workers: 2", "{at: 1m}"),
     "faults[0]: a fault needs one of split, merge, shard_count, throttle, pause, crash, restart, join"),
    ("a crash of an unknown worker", faults("workers: 2", "{at: 1m, crash: w3}"),
     "faults[0].crash: there is no worker 'w3'; the workers are w1, w2"),
    ("a restart of an unknown worker", faults("workers: [a, b]", "{at: 1m, restart: c}"),
     "faults[0].restart: there is no worker 'c'; the workers are a, b"),
    ("a pause of the consumer among named workers", faults("workers: 2", "{at: 1m, for: 10s, pause: consumer}"),
     "faults[0].pause: there is no worker 'consumer'; the workers are w1, w2"),
    ("an unknown worker among many", faults("workers: 9", "{at: 1m, crash: w10}"),
     "faults[0].crash: there is no worker 'w10'; the workers are w1, w2, w3, w4, … 5 more"),
    ("a worker's name not text", faults("workers: 2", "{at: 1m, crash: [w1]}"),
     "faults[0].crash: expected text, got ['w1']"),
    ("a crash with for", faults("workers: 2", "{at: 1m, for: 10s, crash: w1}"),
     "faults[0].for: a crash happens at an instant: it takes no 'for'"),
    ("a restart with for", faults("workers: 2", "{at: 1m, crash: w1}", "{at: 90s, for: 10s, restart: w1}"),
     "faults[1].for: a restart happens at an instant: it takes no 'for'"),
    ("a worker's pause without for", faults("workers: 2", "{at: 1m, pause: w1}"), "faults[0].for: is required"),
    ("a crash and a restart in one item", faults("workers: 2", "{at: 1m, crash: w1, restart: w1}"),
     "faults[0].restart: one fault per item: this one already has 'crash'"),
    ("a worker crashed twice", faults("workers: 2", "{at: 10s, crash: w1}", "{at: 20s, crash: w1}"),
     "faults[1].crash: w1 has already crashed then, at faults[0] (10s), and is not restarted before this"),
    ("a worker crashed twice, listed backwards", faults("workers: 2", "{at: 20s, crash: w1}", "{at: 20s, crash: w2}",
                                                         "{at: 10s, crash: w1}"),
     "faults[0].crash: w1 has already crashed then, at faults[2] (10s), and is not restarted before this"),
    ("a restart of a worker never crashed", faults("workers: 2", "{at: 10s, restart: w1}"),
     "faults[0].restart: w1 is not crashed then: a restart brings back a crashed worker"),
    ("a worker restarted twice", faults("workers: 2", "{at: 10s, crash: w1}", "{at: 20s, restart: w1}",
                                        "{at: 30s, restart: w1}"),
     "faults[2].restart: w1 is not crashed then (restarted by faults[1] at 20s): a restart brings back a crashed "
     "worker"),
    ("a restart before its crash", faults("workers: 2", "{at: 30s, crash: w1}", "{at: 20s, restart: w1}"),
     "faults[1].restart: w1 is not crashed then: a restart brings back a crashed worker"),
    ("a restart listed before a crash at the same instant", faults("workers: 2", "{at: 30s, restart: w1}",
                                                                   "{at: 30s, crash: w1}"),
     "faults[0].restart: w1 is not crashed then: a restart brings back a crashed worker"),
    ("a pause of a crashed worker", faults("workers: 2", "{at: 10s, crash: w1}", "{at: 20s, for: 5s, pause: w1}"),
     "faults[1].pause: w1 has already crashed then, at faults[0] (10s), and is not restarted before this: a "
     "crashed worker cannot pause"),
    ("overlapping pauses of a worker", faults("workers: 2", "{at: 10s, for: 30s, pause: w1}",
                                              "{at: 39s, for: 5s, pause: w1}"),
     "faults[1].pause: w1 is already paused then, by faults[0] (10s to 40s)"),
    ("overlapping pauses across a crash", faults("workers: 2", "{at: 10s, for: 30s, pause: w1}",
                                                 "{at: 15s, crash: w1}", "{at: 20s, restart: w1}",
                                                 "{at: 25s, for: 5s, pause: w1}"),
     "faults[3].pause: w1 is already paused then, by faults[0] (10s to 40s)"),
    ("every worker crashed", faults("workers: 2", "{at: 50s, crash: w2}", "{at: 10s, crash: w1}",
                                    "{at: 20s, restart: w1}", "{at: 30s, crash: w1}"),
     "faults[0].crash: after this no worker is alive to read the stream, and none restarts: the run could never "
     "finish"),
    ("the consumer crashed", faults(None, "{at: 10s, crash: consumer}"),
     "faults[0].crash: after this no worker is alive to read the stream, and none restarts: the run could never "
     "finish"),
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


PROCESSOR_METHODS = """\
    def initialize(self, initialize_input): pass
    def process_records(self, process_records_input): pass
    def lease_lost(self, lease_lost_input): pass
    def shard_ended(self, shard_ended_input): pass
    def shutdown_requested(self, shutdown_requested_input): pass
"""

BAD_PROCESSORS = [
    # (what is wrong, the processor's import path, the module next to the scenario, the message)
    ("no such module", "no_such_processors:Proc", None,
     "consumer.processor: no module named 'no_such_processors' next to the scenario file (in {dir}) or on "
     "Python's path"),
    ("a module that fails", "failing_processors:Proc", "raise RuntimeError('boom')\n",
     "consumer.processor: importing failing_processors failed: RuntimeError: boom"),
    ("no such class", "procs_without:Proc", "x = 1\n",
     "consumer.processor: module procs_without ({dir}/procs_without.py) has no 'Proc'"),
    ("not a class", "procs_function:make", "def make():\n    pass\n",
     "consumer.processor: procs_function:make is not a class, got function"),
    ("methods missing", "procs_half:Half", "class Half:\n" + PROCESSOR_METHODS.replace(
        "    def lease_lost", "    lease_lost = None\n    def lost").replace("shutdown_requested", "shutdown"),
     "consumer.processor: procs_half:Half is not a record processor: it has no lease_lost, shutdown_requested "
     "(a processor has initialize, process_records, lease_lost, shard_ended, shutdown_requested, as kclpy v3's "
     "RecordProcessorBase)"),
    ("a counter instead", "procs_counter:Counter", "class Counter:\n    def process(self): pass\n"
     "    def close(self): pass\n", "consumer.processor: procs_counter:Counter is not a record processor: it has "
     "no initialize, process_records, lease_lost, shard_ended, shutdown_requested (a processor has initialize, "
     "process_records, lease_lost, shard_ended, shutdown_requested, as kclpy v3's RecordProcessorBase)"),
    ("built with arguments", "procs_args:NeedsArgs", "class NeedsArgs:\n    def __init__(self, config): pass\n"
     + PROCESSOR_METHODS, "consumer.processor: procs_args:NeedsArgs cannot be built with no arguments, as kinsim "
     "builds one per lease: missing a required argument: 'config'"),
]


@pytest.mark.parametrize("path, module, message", [c[1:] for c in BAD_PROCESSORS],
                         ids=[c[0] for c in BAD_PROCESSORS])
def test_a_processor_that_cannot_be_used(tmp_path, path, module, message):
    if module is not None:
        (tmp_path / f"{path.split(':')[0]}.py").write_text(module, encoding="utf-8")
    assert error_of(tmp_path, replaced("limit: 25}", f"limit: 25, processor: '{path}'}}")) == \
        message.format(dir=tmp_path)


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


def test_producers_that_write_a_lag_alike_share_its_model_and_only_they_do(tmp_path):
    """A file of many producers says a few lags many times: each way of writing one is read once. Ways
    that compare equal but are not the same (``1`` and ``true``) are each read, and refused or kept, as
    they are."""
    lags = ["{constant: 1}", "{constant: 1}", "{constant: '1'}", "{exponential: {mean: 200ms}}",
            "{exponential: {mean: 200ms}}"]
    producers = "".join(f"  - {{name: p{i}, partition_key: k{i}, interval: 1s, lag: {lag}}}\n"
                        for i, lag in enumerate(lags))
    scenario = load_scenario(write(tmp_path, GOOD.split("producers:")[0] + "producers:\n" + producers
                                   + "counters: [naive]\n"))
    models = [spec.lag for spec in scenario.producers]
    assert models[0] is models[1] and models[3] is models[4] and models[0] == models[2] != models[3]
    bad = GOOD.split("producers:")[0] + "producers:\n" + producers + \
        "  - {name: p9, partition_key: k9, interval: 1s, lag: {constant: true}}\ncounters: [naive]\n"
    assert error_of(tmp_path, bad).startswith("producers[5].lag.constant: expected a duration")

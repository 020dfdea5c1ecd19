"""Bad input never crashes, hangs or eats the machine: scenario files and Kinesis calls, fuzzed.

Scenario files (``scenario_files`` of ``tests/strategies/bad_input.py``: the shipped ones mutated, broken
at the byte level, or extreme but well-formed) go through ``load_scenario`` and the run's size check in
process, by the thousand, and some through the command line (``validate`` and ``run``) in a child process
with its memory capped: a file is a scenario or one clear message, one line, with a key path where a key
is to blame, in bounded time; the command line exits 0 or 2, never with a traceback. Small well-formed
scenarios run to the end and lose nothing. Calls to every operation of kinsim's client (``client_calls``)
raise only ``ParamValidationError`` or ``ClientError`` with the service's codes.

Each CI run tries a fixed number of examples (a few thousand in all); ``KINSIM_FUZZ_SCALE=20 python -m
pytest tests/test_fuzz.py`` tries twenty times as many, and hypothesis keeps what it found failing in
``.hypothesis/``.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import time

import botocore
from botocore.exceptions import ClientError, ParamValidationError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import kinsim
from kinsim.clock import ManualClock
from kinsim.errors import ScenarioError
from kinsim.estimate import Budget, RunTooBig, check
from kinsim.runner import run
from kinsim.scenario import load_scenario, parse_scenario

from .conftest import ROOT, START
from .strategies.bad_input import client_calls, runnable_documents, scenario_files

SCALE = int(os.environ.get("KINSIM_FUZZ_SCALE", "1"))
SMALL_RUN = Budget(max_events=300_000, max_memory_bytes=1024**3)
SERVICE_CODES = {"ValidationException", "InvalidArgumentException", "ResourceNotFoundException",
                 "ResourceInUseException", "LimitExceededException", "ProvisionedThroughputExceededException",
                 "ExpiredIteratorException", "SerializationException"}


def fuzz(examples: int) -> settings:
    return settings(max_examples=examples * SCALE, deadline=None, suppress_health_check=list(HealthCheck))


FILE_LEVEL = ("not valid YAML", "line ", "the file has", "not UTF-8", "expected a mapping of keys at the top",
              "cannot read it")


def assert_one_clear_line(message: str, file: str) -> None:
    assert message.startswith(f"{file}: "), message
    assert "\n" not in message and "\r" not in message and "\x00" not in message, message
    assert len(message) < 700, len(message)
    assert "Traceback" not in message


# -- scenario files, in process ------------------------------------------------------------------------
@fuzz(1500)
@given(scenario_files())
def test_any_file_is_a_scenario_or_one_clear_message(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("fuzz") / "scenario.yaml"
    path.write_bytes(data)
    started = time.perf_counter()
    try:
        scenario = load_scenario(path)
        check(scenario, str(path), SMALL_RUN)
    except (ScenarioError, RunTooBig) as exc:
        assert_one_clear_line(str(exc), str(path))
        if isinstance(exc, ScenarioError) and not exc.key_path:  # what is wrong is the file, not a value
            assert exc.problem.startswith(FILE_LEVEL), exc.problem
    assert time.perf_counter() - started < 10


@fuzz(60)
@given(runnable_documents())
def test_a_small_scenario_runs_to_the_end_and_loses_nothing(document):
    scenario = parse_scenario(document, "<fuzz>", "fuzz")
    try:
        result = run(scenario, budget=SMALL_RUN)
    except RunTooBig:
        return
    assert result.produced == result.delivered
    for part in result.counters:  # every record read is counted or reported late (LATEST skips what came before)
        assert part.counter.records_counted + len(part.counter.late) <= result.delivered


# -- scenario files, through the command line ------------------------------------------------------------
def _capped_memory() -> None:
    limit = 2 * 1024**3
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


@fuzz(25)
@given(scenario_files(), st.sampled_from(["validate", "run"]))
def test_the_command_line_exits_0_or_2_with_one_line_and_no_traceback(tmp_path_factory, data, command):
    path = tmp_path_factory.mktemp("cli") / "scenario.yaml"
    path.write_bytes(data)
    args = [sys.executable, "-m", "kinsim", command, str(path), "--max-events", "300000", "--max-memory", "1GiB"]
    done = subprocess.run(args, capture_output=True, text=True, timeout=120, cwd=ROOT, preexec_fn=_capped_memory)
    assert done.returncode in (0, 2), done.stderr[-2000:]
    assert "Traceback" not in done.stderr
    if done.returncode == 2:
        assert done.stderr.count("\n") == 1 and done.stderr.startswith("kinsim: error: "), done.stderr[-2000:]


# -- calls to the client -----------------------------------------------------------------------------
def served_client():
    """A client over simulated shards with a stream of 4 shards, a closed one among them, and records."""
    kinesis = kinsim.client(kinsim.MemoryBackend(ManualClock(START)))
    kinesis.create_stream(StreamName="s", ShardCount=3)
    for i in range(20):
        kinesis.put_record(StreamName="s", Data=b"%d" % i, PartitionKey=f"k{i}")
    kinesis.split_shard(StreamName="s", ShardToSplit="shardId-000000000002", NewStartingHashKey=str(2**127 + 2**126))
    iterator = kinesis.get_shard_iterator(StreamName="s", ShardId="shardId-000000000000",
                                          ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    return kinesis, iterator


_, _ITERATOR = served_client()
POOL = {"stream": ["s", "missing"], "shard": [f"shardId-00000000000{i}" for i in range(5)],
        "arn": ["arn:aws:kinesis:us-east-1:000000000000:stream/s", "arn:aws:kinesis:x:1:stream/missing"],
        "iterator": [_ITERATOR, _ITERATOR[:-4] + "AAAA"]}


@fuzz(1200)
@given(client_calls(POOL))
def test_any_call_is_answered_or_refused_as_boto3_would(call):
    operation, params = call
    kinesis, _ = served_client()
    method = getattr(kinesis, botocore.xform_name(operation))
    try:
        method(**params)
    except ParamValidationError:
        pass
    except ClientError as exc:
        assert exc.response["Error"]["Code"] in SERVICE_CODES, exc.response["Error"]

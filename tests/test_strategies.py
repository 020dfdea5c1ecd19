"""``kinsim.strategies``: every exported strategy draws values the thing they are for accepts, and the
package stays a test dependency's (``import kinsim`` never imports hypothesis; without it,
``import kinsim.strategies`` says how to install it).

Each property takes what a strategy draws to the code it is meant for: batches to ``kinsim.client()``,
lag models to their own sampling and to the scenario loader, scenarios to ``kinsim.runner.run``,
documents to ``parse_scenario``, polls to a counter.
"""

from __future__ import annotations

import inspect
import math
import os
import random
import subprocess
import sys
from collections import Counter

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import kinsim
from kinsim import strategies as ks
from kinsim.backends import MemoryBackend
from kinsim.clock import ManualClock
from kinsim.counters import NaiveCounter, Windowing, collect
from kinsim.lag import LAG_KINDS
from kinsim.records import HASH_KEY_MAX
from kinsim.report import to_json, to_text
from kinsim.runner import RunResult, run
from kinsim.scenario import Fault, Scenario, parse_scenario
from kinsim.scenario.reading import read_document
from kinsim.strategies import once

from .conftest import ROOT

RUNS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
MANY = settings(max_examples=200, deadline=None)


def _python(code: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120,
                          cwd=ROOT)


# -- a test dependency --------------------------------------------------------------------------------------------

def test_no_module_of_kinsim_outside_strategies_imports_hypothesis():
    result = _python(
        "import importlib, pathlib, sys\n"
        "import kinsim\n"
        "assert 'hypothesis' not in sys.modules, 'import kinsim'\n"
        "root = pathlib.Path(kinsim.__file__).parent\n"
        "for path in sorted(root.rglob('*.py')):\n"
        "    name = '.'.join(('kinsim',) + path.relative_to(root).with_suffix('').parts).removesuffix('.__init__')\n"
        "    if name.startswith('kinsim.strategies') or name == 'kinsim.__main__':\n"
        "        continue\n"
        "    try:\n"
        "        importlib.import_module(name)\n"
        "    except ModuleNotFoundError as exc:  # an optional dependency (serve's aiohttp) not installed\n"
        "        assert exc.name != 'hypothesis', name\n"
        "    assert 'hypothesis' not in sys.modules, name\n"
        "print('ok')\n")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "ok\n"


def test_without_hypothesis_the_import_says_how_to_install_it():
    result = _python(
        "import sys\n"
        "sys.modules['hypothesis'] = None  # as if it were not installed\n"
        "import kinsim, kinsim.runner\n"
        "try:\n"
        "    import kinsim.strategies\n"
        "except ImportError as exc:\n"
        "    print(type(exc).__name__, exc.name, repr(str(exc)), exc.__cause__, exc.__suppress_context__)\n")
    assert result.returncode == 0, result.stderr
    assert result.stdout == ("ImportError hypothesis 'kinsim.strategies needs hypothesis, which kinsim does not "
                             "install (it is a test dependency): pip install hypothesis' None True\n")


def test_every_module_and_every_exported_strategy_says_what_it_draws():
    for name in ("records", "actions", "counters", "lags", "specs", "documents", "faults", "workers", "populations",
                 "once"):
        module = __import__(f"kinsim.strategies.{name}", fromlist=["__all__"])
        assert module.__doc__, name
    for name in ks.__all__:
        member = getattr(ks, name)
        if inspect.isfunction(member) or inspect.isclass(member):
            assert member.__doc__, f"{name} has no docstring"


# -- records and the client ---------------------------------------------------------------------------------------

@MANY
@given(ks.hash_keys(), ks.explicit_hash_keys(), ks.partition_keys(), ks.clock_steps(1.5))
def test_scalars_are_within_the_service_bounds(hash_key, explicit, key, step):
    assert 0 <= hash_key <= HASH_KEY_MAX
    assert str(int(explicit)) == explicit and 0 <= int(explicit) <= HASH_KEY_MAX
    assert 1 <= len(key) <= 256
    assert 0.0 <= step <= 1.5


@MANY
@given(ks.clock_starts(), ks.shard_counts(), ks.put_batches(), ks.boto3_records(explicit=False),
       ks.limit_cycles())
def test_every_put_batch_is_accepted_by_the_client(start, shards, batch, records, limits):
    client = kinsim.client(MemoryBackend(ManualClock(start), throttling=False))
    client.create_stream(StreamName="s", ShardCount=shards)
    written = Counter()
    for records_argument in (batch.boto3_records(), records):
        response = client.put_records(StreamName="s", Records=records_argument)
        assert response["FailedRecordCount"] == 0
        assert len(response["Records"]) == len(records_argument)
        written.update(entry["ShardId"] for entry in response["Records"])
    assert all("ExplicitHashKey" not in record for record in records)
    read = Counter()
    for shard in client.list_shards(StreamName="s")["Shards"]:
        iterator = client.get_shard_iterator(StreamName="s", ShardId=shard["ShardId"],
                                             ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        for limit in limits:
            page = client.get_records(ShardIterator=iterator, **({} if limit is None else {"Limit": limit}))
            read[shard["ShardId"]] += len(page["Records"])
            iterator = page["NextShardIterator"]
        while True:
            page = client.get_records(ShardIterator=iterator)
            if not page["Records"]:
                break
            read[shard["ShardId"]] += len(page["Records"])
            iterator = page["NextShardIterator"]
    assert read == written


@MANY
@given(ks.partition_key_pools(), st.data())
def test_puts_keep_to_their_pool_and_each_put_is_accepted(pool, data):
    client = kinsim.client(MemoryBackend(ManualClock(0.0), throttling=False))
    client.create_stream(StreamName="s", ShardCount=2)
    for action in data.draw(st.lists(ks.put_actions(pool), min_size=1, max_size=5)):
        if isinstance(action, ks.Put):
            assert action.partition_key in pool
            extra = {} if action.explicit_hash_key is None else {"ExplicitHashKey": action.explicit_hash_key}
            client.put_record(StreamName="s", Data=action.data, PartitionKey=action.partition_key, **extra)
        else:
            assert {entry.partition_key for entry in action.entries} <= set(pool)
            assert client.put_records(StreamName="s", Records=action.boto3_records())["FailedRecordCount"] == 0


def test_a_batch_holds_at_most_500_records():
    with pytest.raises(ValueError, match="1 to 500"):
        ks.put_batches(["k"], max_entries=501)


def test_a_strategy_is_built_once_per_arguments():
    """What another strategy builds at each draw is kept (hypothesis checks each new strategy object
    when first drawn from): the same arguments give the same object, told apart by type, lists by
    their items; arguments that cannot be hashed build a new one each time."""
    built = []

    @once.built_once
    def build(*args, **kwargs):
        built.append(args)
        return st.just(len(built))

    assert build(1, pool=["a", "b"]) is build(1, pool=["a", "b"]) is not build(1, pool=["a", "c"])
    assert build(1.0, pool=["a", "b"]) is not build(1, pool=["a", "b"]) is not build(1, pool=("a", "b"))
    assert build({"a": 1}) is not build({"a": 1})
    assert len(built) == 6
    assert ks.seconds(0.5, 3.0) is ks.seconds(0.5, 3.0) and ks.puts(["k"]) is ks.puts(["k"])
    for i in range(once.MAX_KEPT):  # at most MAX_KEPT kept: then it starts afresh
        build(i)
    assert build(0) is not build(1, pool=["a", "b"]) and build(1, pool=["a", "b"]) is build(1, pool=["a", "b"])


# -- workloads and counters ---------------------------------------------------------------------------------------

@MANY
@given(ks.workloads(reshards=False, explicit=False), ks.reshard_workloads())
def test_workloads_hold_what_they_were_asked_for(plain, resharded):
    assert all(isinstance(action, (ks.Put, ks.PutBatch, ks.Advance)) for action in plain)
    assert all(action.explicit_hash_key is None for action in plain if isinstance(action, ks.Put))
    assert any(isinstance(action, (ks.Split, ks.Merge)) for action in resharded)
    assert all(isinstance(action, (ks.Put, ks.PutBatch, ks.Advance, ks.Split, ks.Merge, ks.Rescale))
               for action in resharded)


@MANY
@given(ks.window_shapes().flatmap(lambda shape: st.tuples(st.just(shape), ks.counter_polls(shape[1]))))
def test_a_counter_takes_the_polls_and_counts_every_record(drawn):
    (size, slide), polls = drawn
    rows, sink = collect()
    counter = NaiveCounter("naive", Windowing(size, slide), sink)
    now = None
    for poll in polls:
        assert len(poll.keys) == len(poll.event_us)
        assert now is None or poll.now_us >= now
        now = poll.now_us
        counter.process(poll.shard_id, poll.keys, poll.event_us, poll.now_us)
    counter.close(now)
    final = {(start, key): count for start, key, count, _ in rows}
    assert sum(final.values()) == sum(len(poll.keys) for poll in polls) * (size // slide)


# -- lag models ---------------------------------------------------------------------------------------------------

@MANY
@given(ks.lag_models(), st.integers(0, 2**32), st.integers(1, 200))
def test_every_lag_models_delays_are_finite_and_never_negative(model, seed, n):
    rng = random.Random(seed)
    singles = [model.sample(rng) for _ in range(n)]
    assert model.samples(random.Random(seed), n) == singles  # the model's own promise: n calls of sample
    for delay in singles + [model.beyond(1e-9), model.beyond(0.5)]:
        assert math.isfinite(delay) and delay >= 0, (model, delay)


@MANY
@given(ks.lag_models(max_seconds=1e6, max_sigma=10, min_shape=0.1), st.integers(0, 2**32))
def test_the_extreme_parameters_still_draw_finite_delays(model, seed):
    assert all(math.isfinite(delay) and delay >= 0 for delay in model.samples(random.Random(seed), 50))


@MANY
@given(st.sampled_from(sorted(LAG_KINDS)).flatmap(lambda kind: st.tuples(st.just(kind), ks.lag_models([kind]))))
def test_a_lag_model_reads_back_equal_from_its_document(drawn):
    kind, model = drawn
    assert type(model) is LAG_KINDS[kind][0]
    document = {"duration": "1s", "producers": [{"name": "p", "partition_key": "k", "interval": "1s",
                                                 "lag": ks.lag_document(model)}], "counters": ["naive"]}
    assert parse_scenario(document, "lag.yaml", "lag").producers[0].lag == model


def test_lag_models_refuse_what_they_cannot_draw():
    with pytest.raises(ValueError, match="lag kinds are"):
        ks.lag_models(["gamma"])
    with pytest.raises(ValueError, match="min_shape"):
        ks.lag_models(min_shape=0.0)


# -- scenarios, documents, faults, workers ------------------------------------------------------------------------

def _ran(scenario: Scenario) -> RunResult:
    result = run(scenario)
    assert result.delivered == result.produced
    assert [part.spec for part in result.counters] == list(scenario.counters)
    assert to_text(result) and to_json(result) == to_json(run(scenario))  # a report, the same for the same seed
    return result


@RUNS
@given(ks.scenarios())
def test_every_scenario_runs_to_a_report(scenario):
    _ran(scenario)


@RUNS
@given(ks.scenarios(workers=True, faults=True))
def test_every_scenario_with_workers_and_faults_runs_to_a_report(scenario):
    result = _ran(scenario)
    in_time_order = sorted(scenario.faults, key=lambda fault: fault.at)  # ties: the file's order
    assert [applied.fault for applied in result.faults] == in_time_order[:len(result.faults)]  # none refused


@RUNS
@given(ks.scenarios(workers=True, faults=True))
def test_a_scenario_reads_back_equal_from_its_document_and_its_yaml(scenario):
    document = ks.scenario_document(scenario)
    assert parse_scenario(document, "gen.yaml", "gen") == scenario
    text = yaml.safe_dump(document, allow_unicode=True, sort_keys=False).encode("utf-8")
    assert parse_scenario(read_document(text), "gen.yaml", "gen") == scenario


@MANY
@given(ks.scenario_documents(), ks.scenario_documents(faults=True, workers=True, durations=st.just(30)))
def test_every_document_loads(plain, faulted):
    assert parse_scenario(plain, "plain.yaml", "plain").name == "generated"
    assert parse_scenario(faulted, "faulted.yaml", "faulted").duration == 30.0


@MANY
@given(st.one_of(ks.fault_schedules(), ks.reshard_schedules(), ks.worker_schedules()))
def test_every_schedule_numbers_its_faults_as_a_file_does(schedule):
    assert all(isinstance(fault, Fault) and fault.path == f"faults[{i}]" for i, fault in enumerate(schedule.faults))
    assert 1 <= schedule.shards and schedule.workers
    assert [ks.fault_document(fault)["at"] for fault in schedule.faults] == [fault.at for fault in schedule.faults]


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ks.worker_scenarios())
def test_every_worker_scenario_runs_to_a_report(scenario):
    _ran(scenario)


def test_the_readmes_example_runs_and_passes():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Hypothesis strategies for your own tests"):]
    code = section[section.index("```python\n") + len("```python\n"):section.index("\n```\n")]
    namespace: dict = {}
    exec(compile(code, "README.md", "exec"), namespace)
    namespace["test_send_puts_every_record"]()

"""The consumer a scenario describes (DESIGN §5, §11): every accepted form of its keys, loaded to the
``ConsumerSpec`` it means, and the worker faults a schedule may hold. The refused forms are in
``test_scenario_errors.py``."""

from __future__ import annotations

import sys
import textwrap

import pytest

from kinsim.cli import main
from kinsim.records import IteratorType
from kinsim.scenario import ConsumerSpec, Fault, Pause, load_scenario
from kinsim.scenario.model import CheckpointPolicy, ProcessorSpec, State
from kinsim.scenario.schedule import Crash, Restart

BASE = """\
name: t
start: 2018-07-31T21:56:00Z
duration: 10m
producers:
  - {name: fast, partition_key: 8.8.8.8, interval: 2s}
counters: [naive]
"""

PROCESSOR = """\
class {name}:
    def __init__(self):
        self.calls = []

    def initialize(self, initialize_input):
        self.calls.append("initialize")

    def process_records(self, process_records_input):
        pass

    def lease_lost(self, lease_lost_input):
        pass

    def shard_ended(self, shard_ended_input):
        pass

    def shutdown_requested(self, shutdown_requested_input):
        pass
"""


def loaded(tmp_path, consumer: str = "", faults: str = ""):
    text = BASE + (f"consumer:\n{textwrap.indent(textwrap.dedent(consumer), '  ')}" if consumer else "")
    text += f"faults:\n{textwrap.indent(textwrap.dedent(faults), '  ')}" if faults else ""
    path = tmp_path / "consumer.yaml"
    path.write_text(text, encoding="utf-8")
    return load_scenario(path)


def consumer_of(tmp_path, consumer: str = "") -> ConsumerSpec:
    return loaded(tmp_path, consumer).consumer


def test_no_consumer_is_the_single_worker_named_consumer(tmp_path):
    spec = consumer_of(tmp_path)
    assert spec == ConsumerSpec()
    assert (spec.workers, spec.failover_time, spec.checkpoint, spec.state, spec.processor) == \
        (("consumer",), 10.0, CheckpointPolicy(every=30.0), State.MEMORY, None)


def test_keys_left_out_take_the_models_defaults(tmp_path):
    spec = consumer_of(tmp_path, "poll_interval: 20s\n")
    assert spec == ConsumerSpec(poll_interval=20.0)


@pytest.mark.parametrize("count", [1, 3, 100])
def test_a_number_of_workers_names_them_w1_to_wn(tmp_path, count):
    workers = consumer_of(tmp_path, f"workers: {count}\n").workers
    assert workers == tuple(f"w{i}" for i in range(1, count + 1))


def test_a_list_of_workers_keeps_their_names_and_order(tmp_path):
    assert consumer_of(tmp_path, "workers: [zeta, alpha, 7, consumer]\n").workers == ("zeta", "alpha", "7", "consumer")


def test_the_kcl_names_mean_limit_and_poll_interval(tmp_path):
    kcl = consumer_of(tmp_path, "max_records: 25\nidle_time_between_reads: 20s\n")
    ours = consumer_of(tmp_path, "limit: 25\npoll_interval: 20s\n")
    assert kcl == ours == ConsumerSpec(poll_interval=20.0, limit=25)
    mixed = consumer_of(tmp_path, "max_records: 7\npoll_interval: 1m\niterator: LATEST\nstart: 5s\n")
    assert mixed == ConsumerSpec(poll_interval=60.0, limit=7, iterator=IteratorType.LATEST, start=5.0)


@pytest.mark.parametrize("written, policy", [
    ("{every: 1m}", CheckpointPolicy(every=60.0)),
    ("{every: 250ms}", CheckpointPolicy(every=0.25)),
    ("{records: 1000}", CheckpointPolicy(records=1000)),
    ("{records: 1}", CheckpointPolicy(records=1)),
    ("each_batch", CheckpointPolicy(each_batch=True)),
    ("none", CheckpointPolicy()),
])
def test_checkpoint_policies(tmp_path, written, policy):
    assert consumer_of(tmp_path, f"checkpoint: {written}\n").checkpoint == policy


def test_the_four_checkpoint_policies_differ(tmp_path):
    policies = [consumer_of(tmp_path, f"checkpoint: {w}\n").checkpoint
                for w in ("{every: 30s}", "{records: 30}", "each_batch", "none")]
    assert [p.describe() for p in policies] == ["every 30 s", "every 30 records", "each batch", "none"]


@pytest.mark.parametrize("state", list(State))
def test_state(tmp_path, state):
    assert consumer_of(tmp_path, f"state: {state.value}\n").state is state


@pytest.mark.parametrize("written, seconds", [("30s", 30.0), ("500ms", 0.5), ("2m", 120.0), (45, 45.0)])
def test_lease_failover_time(tmp_path, written, seconds):
    assert consumer_of(tmp_path, f"lease: {{failover_time: {written}}}\n").failover_time == seconds


def test_a_processor_is_imported_from_the_scenarios_directory(tmp_path):
    (tmp_path / "consumer_spec_processors.py").write_text(PROCESSOR.format(name="Counting"), encoding="utf-8")
    before = list(sys.path)
    spec = consumer_of(tmp_path, "processor: consumer_spec_processors:Counting\n").processor
    assert sys.path == before
    assert isinstance(spec, ProcessorSpec) and spec.path == "consumer_spec_processors:Counting"
    cls = spec.processor_class
    assert (cls.__name__, cls.__module__) == ("Counting", "consumer_spec_processors")
    assert sys.modules[cls.__module__].__file__ == str(tmp_path / "consumer_spec_processors.py")
    one, two = spec.build(), spec.build()
    assert one is not two and isinstance(one, cls) and one.calls == []


def test_a_processor_in_a_package_and_a_nested_class(tmp_path):
    package = tmp_path / "consumer_spec_app"
    package.mkdir()
    (package / "__init__.py").write_text("", encoding="utf-8")
    (package / "handlers.py").write_text("class Outer:\n" + textwrap.indent(PROCESSOR.format(name="Inner"), "    "),
                                         encoding="utf-8")
    spec = consumer_of(tmp_path, "processor: consumer_spec_app.handlers:Outer.Inner\n").processor
    assert spec.processor_class.__qualname__ == "Outer.Inner"


def test_kclpys_own_sample_processor_is_accepted_unchanged(tmp_path, kclpy):
    """amazon-kclpy's samples/sample_kclpy_app.py, a RecordProcessorBase subclass, as a user has it."""
    from amazon_kclpy.v3.processor import RecordProcessorBase

    spec = consumer_of(tmp_path, "processor: samples.sample_kclpy_app:RecordProcessor\n").processor
    assert issubclass(spec.processor_class, RecordProcessorBase)


def test_everything_at_once(tmp_path):
    (tmp_path / "consumer_spec_all.py").write_text(PROCESSOR.format(name="App"), encoding="utf-8")
    spec = consumer_of(tmp_path, """\
        workers: [a, b]
        lease: {failover_time: 20s}
        checkpoint: {records: 500}
        state: checkpointed
        max_records: 100
        idle_time_between_reads: 1s
        processor: consumer_spec_all:App
        """)
    assert spec == ConsumerSpec(poll_interval=1.0, limit=100, workers=("a", "b"), failover_time=20.0,
                                checkpoint=CheckpointPolicy(records=500), state=State.CHECKPOINTED,
                                processor=ProcessorSpec("consumer_spec_all:App", spec.processor.processor_class))


# -- worker faults ----------------------------------------------------------------------------------

def test_worker_faults_load_to_their_dataclasses(tmp_path):
    faults = loaded(tmp_path, "workers: 3\n", """\
        - {at: 1m, for: 30s, pause: w2}
        - {at: 2m, crash: w1}
        - {at: 3m, restart: w1}
        """).faults
    assert faults == (Fault(60.0, Pause("w2"), 30.0, "faults[0]"), Fault(120.0, Crash("w1"), None, "faults[1]"),
                      Fault(180.0, Restart("w1"), None, "faults[2]"))


def test_the_single_consumer_pauses_crashes_and_restarts_by_its_name(tmp_path):
    faults = loaded(tmp_path, "", """\
        - {at: 1m, for: 30s, pause: consumer}
        - {at: 2m, crash: consumer}
        - {at: 3m, restart: consumer}
        """).faults
    assert [f.action for f in faults] == [Pause("consumer"), Crash("consumer"), Restart("consumer")]


@pytest.mark.parametrize("schedule", [
    # a crash during a pause: a stalled process killed; then a pause once the first one is over
    "- {at: 1m, for: 2m, pause: w1}\n- {at: 2m, crash: w1}\n- {at: 4m, restart: w1}\n- {at: 5m, for: 1m, pause: w1}\n",
    # pauses of different workers overlap; pauses of one worker that only touch
    "- {at: 1m, for: 2m, pause: w1}\n- {at: 2m, for: 2m, pause: w2}\n- {at: 3m, for: 1m, pause: w1}\n",
    # a crash and a restart at one instant, in file order
    "- {at: 1m, crash: w1}\n- {at: 1m, restart: w1}\n",
    # a restart listed first in the file but later in time
    "- {at: 2m, restart: w1}\n- {at: 1m, crash: w1}\n",
    # every worker down for a while, one back before the end
    "- {at: 1m, crash: w1}\n- {at: 2m, crash: w2}\n- {at: 3m, restart: w2}\n",
    # crash, restart, crash again: the other one is alive
    "- {at: 1m, crash: w1}\n- {at: 2m, restart: w1}\n- {at: 3m, crash: w1}\n",
    # paused at its restart's very instant
    "- {at: 1m, crash: w2}\n- {at: 2m, restart: w2}\n- {at: 2m, for: 10s, pause: w2}\n",
])
def test_worker_schedules_that_can_happen(tmp_path, capsys, schedule):
    faults = loaded(tmp_path, "workers: 2\n", schedule).faults
    assert len(faults) == schedule.count("\n")
    assert main(["validate", str(tmp_path / "consumer.yaml")]) == 0
    out, err = capsys.readouterr()
    assert err == "" and ": ok (" in out

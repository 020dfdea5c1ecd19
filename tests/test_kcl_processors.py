"""Record processors of the user's own in whole runs (DESIGN §11, "Processors"): the class a scenario names
as ``consumer.processor`` is given every record by KCL-shaped workers, through kinsim's checkpointer,
across a crash and a pause of a worker.

The processors are the user's code, unchanged: amazon-kclpy's own sample app (``samples/sample_kclpy_app.py``
from its sdist, via the ``kclpy`` fixture) and small modules written next to the scenario file, as a user
keeps them. They are observed from outside: through what they print, module-level lists their module
keeps, and the run's ``result.workers``. How kinsim's inputs and checkpointer read to one processor, call
by call: tests/test_kcl.py.
"""

from __future__ import annotations

import sys
import textwrap

from kinsim.runner import run
from kinsim.scenario import load_scenario

SCENARIO = """\
name: {name}
seed: 3
start: 2018-07-31T21:56:00Z
duration: {duration}
window: 1m
stream: {{shards: 2}}
producers:                                   # 8.8.8.8 and 8.8.8.9 hash to shard 0, the others to shard 1
  - {{name: a, partition_key: 8.8.8.8, interval: 2s, offset: 10s, lag: {{constant: 100ms}}}}
  - {{name: b, partition_key: 8.8.8.9, interval: 5s, offset: 10s, lag: {{uniform: [5s, 40s]}}}}
  - {{name: c, partition_key: 1.1.1.1, interval: 3s, offset: 10s, lag: {{exponential: {{mean: 500ms}}}}}}
  - {{name: d, partition_key: 8.8.4.4, interval: 4s, offset: 10s, lag: {{constant: 1s}}}}
consumer:
  workers: 2
  poll_interval: 5s
  lease: {{failover_time: 10s}}
{consumer}
counters:
  - naive
  - {{kind: buffered, name: buffered-1m, grace: 1m}}
{faults}
"""


def scenario(tmp_path, name: str, consumer: str, faults: str = "", duration: str = "4m", module: str = ""):
    """A two-worker scenario in ``tmp_path``; ``module``: the source of a processor module written beside it
    as ``<name>_app.py`` (each test its own module name: Python imports a module once)."""
    if module:
        (tmp_path / f"{name}_app.py").write_text(textwrap.dedent(module), encoding="utf-8")
    path = tmp_path / f"{name}.yaml"
    path.write_text(SCENARIO.format(name=name, duration=duration, consumer=textwrap.indent(consumer, "  "),
                                    faults=f"faults:\n{textwrap.indent(faults, '  ')}" if faults else ""),
                    encoding="utf-8")
    return load_scenario(path)


def app(name: str):
    """The processor module a scenario imported (its module-level lists are the test's hook)."""
    return sys.modules[f"{name}_app"]


BATCH_SIZES = """\
    BATCHES = []   # (shard id, records given) per call of process_records


    class Sizes:
        def initialize(self, initialize_input):
            self.shard_id = initialize_input.shard_id

        def process_records(self, process_records_input):
            BATCHES.append((self.shard_id, len(process_records_input.records)))

        def lease_lost(self, lease_lost_input):
            pass

        def shard_ended(self, shard_ended_input):
            shard_ended_input.checkpointer.checkpoint()

        def shutdown_requested(self, shutdown_requested_input):
            shutdown_requested_input.checkpointer.checkpoint()
    """


def test_process_records_is_not_called_for_an_empty_poll(tmp_path):
    """As the KCL by default (``callProcessRecordsEvenForEmptyRecordList`` false): a poll that returned
    nothing reaches the counters, not the user's processor. The first polls here are empty (the producers
    begin at 10 s). kclpy's sample app, given an empty batch, checkpoints ``"None"``, is refused, and sleeps
    5 s of wall-clock time five times over."""
    result = run(scenario(tmp_path, "empty_polls", "processor: empty_polls_app:Sizes", module=BATCH_SIZES))
    batches = app("empty_polls").BATCHES
    assert batches and all(size > 0 for _, size in batches)
    assert sum(size for _, size in batches) == result.workers.delivered == result.produced
    assert len(batches) < result.polls                 # the empty polls: not given to the processor
    assert {shard for shard, _ in batches} == {"shardId-000000000000", "shardId-000000000001"}
    naive = {c.spec.name: c.metrics for c in result.counters}["naive"]
    assert naive["final_exact"] == 1.0                  # the counters saw every poll all the same

"""A run whose input can never end stops with a clear error instead of running forever: here, a processor
of the user's that never checkpoints at ``shard_ended``, so that a split shard's children never get leases."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from .conftest import ROOT

PROCESSOR = '''
class Forgetful:
    """Processes records and never checkpoints, not even at a shard's end."""

    def initialize(self, initialize_input):
        pass

    def process_records(self, process_records_input):
        pass

    def lease_lost(self, lease_lost_input):
        pass

    def shard_ended(self, shard_ended_input):
        pass

    def shutdown_requested(self, shutdown_requested_input):
        pass
'''

SCENARIO = """\
name: stalls
start: 2018-07-31T21:56:00Z
duration: 2m
producers:
  - {name: a, partition_key: 8.8.8.8, interval: 1s}
consumer:
  processor: stall_processors:Forgetful
counters: [naive]
faults:
  - {at: 1m, split: shardId-000000000000}
"""


def run_cli(tmp_path, processor: str) -> subprocess.CompletedProcess:
    (tmp_path / "stall_processors.py").write_text(textwrap.dedent(processor), encoding="utf-8")
    (tmp_path / "stalls.yaml").write_text(SCENARIO, encoding="utf-8")
    return subprocess.run([sys.executable, "-m", "kinsim", "run", str(tmp_path / "stalls.yaml")], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)


def test_a_processor_that_never_ends_its_shard_stops_the_run_with_one_message(tmp_path):
    done = run_cli(tmp_path, PROCESSOR)
    assert done.returncode == 1, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in done.stderr
    assert lines[0].startswith("kinsim: the run failed: input never ended: every record was in the stream by ")
    assert "shardId-000000000000 is not read to the end" in lines[0]
    assert "a processor must checkpoint at shard_ended" in lines[0]


def test_the_same_processor_checkpointing_at_shard_end_finishes(tmp_path):
    fixed = PROCESSOR.replace("    def shard_ended(self, shard_ended_input):\n        pass",
                              "    def shard_ended(self, shard_ended_input):\n"
                              "        shard_ended_input.checkpointer.checkpoint()")
    assert fixed != PROCESSOR
    done = run_cli(tmp_path, fixed)
    assert done.returncode == 0, done.stderr
    assert "shardId-000000000002" in done.stdout  # the children were read

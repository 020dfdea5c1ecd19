"""The run estimate against what runs make and take: the shards a schedule's reshards open, and the
memory of a run of many shards and of one of many cells."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

from hypothesis import HealthCheck, given, settings

from kinsim import strategies as ks
from kinsim.estimate import BYTES_PER_SHARD, _estimate, _shards_made, estimate
from kinsim.runner import run
from kinsim.scenario import Merge, ShardCount, Split

ROOT = Path(__file__).resolve().parent.parent


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ks.scenarios(faults=True, max_shards=4))
def test_the_estimate_counts_every_shard_a_schedule_opens(scenario):
    """At most the shards the estimate counts: exactly, when every reshard is a split or a merge that
    completes before the run ends (UpdateShardCount: a bound, two for each target shard and one for each
    shard open before)."""
    result = run(scenario)
    made, counted = len(result.shards), _shards_made(scenario)
    assert made <= counted
    reshards = [fault for fault in scenario.faults if isinstance(fault.action, (Split, Merge, ShardCount))]
    if all(not isinstance(fault.action, ShardCount) and fault.at + scenario.stream.update_delay < result.ended_at
           for fault in reshards):
        assert made == counted


@settings(max_examples=50, deadline=None)
@given(ks.scenarios(max_shards=4))
def test_a_scenario_estimated_again_is_answered_from_the_last_estimate_only_if_it_is_the_same(scenario):
    """The command line estimates a scenario, then runs it (which estimates it again): the second answer
    comes from the first, but only for the very same scenario; one changed since (a frozen dataclass is
    changed by a copy) is estimated afresh."""
    first = estimate(scenario)
    assert estimate(scenario) is first and first == _estimate(scenario)
    wider = dataclasses.replace(scenario, stream=dataclasses.replace(scenario.stream, shards=scenario.stream.shards + 1))
    # one shard more: a shard's memory more, exactly (its polls may be fewer: the shards read faster together)
    assert estimate(wider) == _estimate(wider) and estimate(wider).memory_bytes == first.memory_bytes + BYTES_PER_SHARD
    assert estimate(scenario) == first


# The run's own peak: VmHWM, which starts afresh at exec. (``ru_maxrss`` does not: it keeps the parent's
# resident size, so a child of a test worker that has grown would report the worker's.)
RUN = """
import json, resource, sys
def peak_rss():
    try:
        with open("/proc/self/status") as status:
            return next(int(line.split()[1]) * 1024 for line in status if line.startswith("VmHWM:"))
    except (OSError, StopIteration):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
from kinsim.estimate import estimate
from kinsim.runner import run
from kinsim.scenario import parse_scenario
scenario = parse_scenario(json.loads(sys.argv[1]), "<many shards>", "many")
result = run(scenario)
print(json.dumps({"estimate": estimate(scenario).memory_bytes, "shards": len(result.shards),
                  "cells": len(result.counters[0].truth.cells),
                  "peak_rss": peak_rss()}))
"""


def test_the_estimate_bounds_the_memory_of_a_run_of_many_shards():
    """5,000 shards rescaled to 8,000 (UpdateShardCount opens 20,997 shards on the way: 25,997 in all),
    2,000 producers, two counters: the run's peak RSS, measured in a process of its own, is within the
    estimate (227 MiB measured, of which 6.9 KiB a shard; without its shards the estimate is 113 MiB)."""
    document = {"name": "many", "seed": 1, "start": "2018-07-31T21:56:00Z", "duration": "40s", "window": "10s",
                "stream": {"shards": 5000, "shard_limit": 100_000, "update_delay": "2s"},
                "producers": [{"name": "p", "count": 2000, "interval": "2s",
                               "keys": {"first": "10.0.0.1", "count": 2000, "each": True}}],
                "consumer": {"poll_interval": "5s", "limit": 10000},
                "counters": ["naive", {"kind": "buffered", "name": "b", "grace": "5s"}],
                "faults": [{"at": "15s", "shard_count": 8000}]}
    done = subprocess.run([sys.executable, "-c", RUN, json.dumps(document)], capture_output=True, text=True,
                          timeout=300, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    measured = json.loads(done.stdout)
    assert measured["shards"] == 25_997
    assert measured["peak_rss"] <= measured["estimate"]
    assert measured["estimate"] >= BYTES_PER_SHARD * 25_997


def test_the_estimate_bounds_the_memory_of_a_run_of_many_cells_and_not_by_much():
    """180,000 records over 200,000 keys in 10 s windows, two counters: about 155,000 (window, key) cells,
    held by the truth, each counter's state and each counter's observations. The run's peak RSS, in a
    process of its own, is within the estimate, and the estimate is less than three times it (155 MiB
    measured, 286 MiB estimated): an estimate far above what runs take refuses runs that fit (10M records
    over a million keys took 1.65 GiB, and was estimated at 6.8 GiB, over the default budget)."""
    document = {"name": "cells", "seed": 1, "start": "2018-07-31T21:56:00Z", "duration": "60s", "window": "10s",
                "stream": {"shards": 4},
                "producers": [{"name": "crowd", "rate": "3000/s", "keys": {"first": "10.0.0.1", "count": 200_000}}],
                "consumer": {"poll_interval": "1s", "limit": 10000},
                "counters": ["naive", {"kind": "buffered", "name": "b", "grace": "5s"}]}
    done = subprocess.run([sys.executable, "-c", RUN, json.dumps(document)], capture_output=True, text=True,
                          timeout=300, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    measured = json.loads(done.stdout)
    assert measured["cells"] > 150_000
    assert measured["peak_rss"] <= measured["estimate"] < 3 * measured["peak_rss"]

"""The shipped fault scenarios show what their headers say they show."""

from __future__ import annotations

from pathlib import Path

import pytest

from kinsim.report import report_dict
from kinsim.runner import run
from kinsim.scenario import load_scenario

ROOT = Path(__file__).resolve().parent.parent


def report(name: str) -> dict:
    return report_dict(run(load_scenario(ROOT / "scenarios" / f"{name}.yaml")))


def metrics(result: dict) -> dict:
    return {counter["name"]: counter["metrics"] for counter in result["counters"]}


def shards(result: dict) -> dict:
    return {shard["shard_id"]: shard for shard in result["stream"]["shards"]}


@pytest.fixture(scope="module")
def reshard_midway():
    return report("reshard_midway")


def test_reshard_midway_splits_then_merges_after_the_update_delay(reshard_midway):
    lineage = {shard_id: (s["parents"], s["opened_at"], s["closed_at"]) for shard_id, s in shards(reshard_midway).items()}
    assert lineage == {
        "shardId-000000000000": ([], "2018-07-31T21:56:00Z", "2018-07-31T21:59:30Z"),
        "shardId-000000000001": (["shardId-000000000000"], "2018-07-31T21:59:30Z", "2018-07-31T22:02:30Z"),
        "shardId-000000000002": (["shardId-000000000000"], "2018-07-31T21:59:30Z", "2018-07-31T22:02:30Z"),
        "shardId-000000000003": (["shardId-000000000001", "shardId-000000000002"], "2018-07-31T22:02:30Z", None),
    }
    assert [(f["at"], f["kind"]) for f in reshard_midway["stream"]["faults"]] == [
        ("2018-07-31T21:59:00Z", "split"), ("2018-07-31T22:02:00Z", "merge")]


def test_reshard_midway_loses_nothing_and_counts_exactly_with_enough_grace(reshard_midway):
    produced = reshard_midway["records"]["produced"]
    assert reshard_midway["records"]["delivered"] == produced == 740
    assert sum(s["records_read"] for s in reshard_midway["stream"]["shards"]) == produced  # each read once
    assert all(s["records_read"] > 0 for s in reshard_midway["stream"]["shards"])   # every shard carried some
    m = metrics(reshard_midway)
    assert m["buffered-2m"]["final_exact"] == m["naive"]["final_exact"] == 1.0
    assert m["buffered-2m"]["late_records"] == 0
    assert m["buffered-2m"]["first_exact"] < 1.0      # a parent fires its share of a minute short, at its end
    assert m["buffered-30s"]["late_records"] > 0 and m["buffered-30s"]["final_exact"] < 1.0


def test_hot_shard_throttles_only_its_shard_and_only_during_the_span():
    result = report("hot_shard")
    per_shard = shards(result)
    assert per_shard["shardId-000000000000"]["throttled_puts"] > 1000
    assert per_shard["shardId-000000000001"]["throttled_puts"] == 0
    refused = {row["start"][11:16]: row["throttled_puts"] for row in result["stream"]["throughput"]}
    assert refused["21:58"] > 0 and refused["21:59"] > 0                       # [2m, 4m)
    assert all(count == 0 for minute, count in refused.items() if minute not in ("21:58", "21:59"))
    m = metrics(result)
    assert m["buffered-3m"]["final_exact"] == 1.0 and m["buffered-3m"]["late_records"] == 0
    assert m["buffered-5s"]["late_records"] > m["buffered-30s"]["late_records"] > 0
    cool = [row for row in result["counters"][1]["rows"] if row["key"] in ("10.0.0.2", "10.0.0.6")]
    assert all(row["count"] == row["truth"] for row in cool)  # the other shard's watermark never moved ahead


def test_stalled_consumer_renews_its_iterator_and_reads_the_backlog_in_a_burst():
    result = report("stalled_consumer")
    assert result["consumer"]["iterators_renewed"] == 1
    read = {row["start"][11:16]: row["records_read"] for row in result["stream"]["throughput"]}
    assert all(read[minute] == 0 for minute in ("21:59", "22:00", "22:01", "22:02", "22:03", "22:04"))  # 3m-9m
    assert read["22:05"] > 200                                                   # the backlog at 9m
    assert sum(read.values()) == result["records"]["produced"] == 504
    m = metrics(result)
    assert m["buffered-30s"]["final_exact"] == 1.0 and m["buffered-30s"]["late_records"] == 0
    assert m["buffered-30s"]["convergence_latency_s"]["max"] >= 360          # the stall is latency
    assert m["naive"]["first_exact"] < 1.0


def test_idle_shard_closes_the_quiet_minute_at_the_end_or_on_time():
    result = report("idle_shard")
    m = metrics(result)
    assert m["buffered-30s"]["final_exact"] == 1.0 and m["buffered-30s"]["convergence_latency_s"]["max"] == 360
    assert m["idle-1m"]["final_exact"] == 1.0 and m["idle-1m"]["convergence_latency_s"]["max"] == 120
    assert m["idle-20s"]["late_records"] == 10 and m["idle-20s"]["never_converged"] == 1
    quiet = {c["name"]: next(r["count"] for r in c["rows"] if r["key"] == "10.0.0.1"
                             and r["window_start"] == "2018-07-31T21:59:00Z") for c in result["counters"]}
    assert quiet == {"buffered-30s": 60, "idle-1m": 60, "idle-20s": 50}


def test_a_fault_only_the_run_can_find_wrong_ends_it_naming_the_fault():
    """The schedule was checked against a fresh stream; an existing stream already resharded has closed the
    shard the split names: the run stops with an error naming the fault, not a traceback."""
    from kinsim.backends import MemoryBackend
    from kinsim.errors import FaultError

    scenario = load_scenario(ROOT / "scenarios" / "reshard_midway.yaml")

    def resharded(clock):
        backend = MemoryBackend(clock)
        backend.create_stream("kinsim-reshard_midway", 1)
        backend.split_shard("kinsim-reshard_midway", "shardId-000000000000", str(2**127))
        return backend

    with pytest.raises(FaultError, match=r"^faults\[0\] \(split shardId-000000000000\) at 180 s: "
                                         r"the stream refused it: .*shardId-000000000000"):
        run(scenario, backend_factory=resharded, use_existing_stream=True)

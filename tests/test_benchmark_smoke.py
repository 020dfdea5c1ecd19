"""The benchmark runs, at its smallest size (it is not part of the test suite otherwise)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from .conftest import ROOT


@pytest.mark.kinesalite
def test_the_benchmark_runs_and_writes_its_figures(tmp_path, kinesalite_server):
    output = tmp_path / "results.json"
    done = subprocess.run([sys.executable, "benchmarks/bench.py", "--sizes", "10000", "20000", "--repeat", "2",
                           "--client-records", "1000", "--reshard-records", "20000", "--workers-records", "20000", "--endpoint-records", "1000",
                           "--mock-calls", "5", "--output", str(output)],
                          capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    report = json.loads(output.read_text())
    small, large = report["end_to_end"]
    assert 9000 < small["records"] < 10_000 < 18_000 < large["records"] < 20_000 and small["records_per_s"] > 0
    assert len(small["runs_seconds"]) == 2 and small["seconds"] == min(small["runs_seconds"])
    assert report["scaling"] == [{"records_x": round(large["records"] / small["records"], 2),
                                  "time_x": round(large["seconds"] / small["seconds"], 2)}]
    assert 0 < small["bytes_per_retained_record"] < 200
    assert set(report["clients_records_per_s"]) == {"kinsim_client_memory", "moto_in_process", "boto3_kinesalite"}
    assert report["ratios"]["kinsim_over_moto"] > 0
    assert "records/s" in done.stdout
    resharding = report["resharding"]
    assert resharding["plain"]["faults_applied"] == 0 and resharding["reshard"]["faults_applied"] == 2
    assert resharding["reshard"]["shards_read"] == resharding["plain"]["shards_read"] + 3  # 2 halves, 1 merged
    assert resharding["plain"]["records"] == resharding["reshard"]["records"] == large["records"]
    assert resharding["time_x"] == round(resharding["reshard"]["seconds"] / resharding["plain"]["seconds"], 3)
    workers = report["workers"]
    assert [workers[v]["workers"] for v in ("plain", "workers", "workers-checkpointed")] == [1, 4, 4]
    assert workers["plain"]["records"] == workers["workers"]["records"] == large["records"]
    assert workers["time_x"]["workers"] == round(workers["workers"]["seconds"] / workers["plain"]["seconds"], 3)
    endpoints = report["endpoints"]
    assert set(endpoints["servers"]) == {"kinsim_serve", "kinesalite", "moto_server"}
    assert all(row["put_records_per_s"] > 0 and row["get_records_per_s"] > 0 for row in endpoints["servers"].values())
    assert set(endpoints["mock_overhead"]) == {"put_records", "get_records"}
    assert all(row["floor_ms"] > 0 and row["mock_ms"] > 0 for row in endpoints["mock_overhead"].values())


def test_the_scale_benchmark_runs_each_dimension_and_keeps_what_else_is_there(tmp_path):
    """benchmarks/scale.py at tiny sizes: every dimension's steps, their growth, the load stages, all
    under "scale" in the results file, whose other figures (bench.py's) stay as they were."""
    output = tmp_path / "results.json"
    output.write_text(json.dumps({"end_to_end": [{"records": 1}], "scale": {"slide": "an older run"}}))
    done = subprocess.run([sys.executable, "benchmarks/scale.py", "--records", "3000", "--dimensions", "producers",
                           "producers_shared", "shards", "keys", "load", "--producers", "10", "100",
                           "--producers-shared", "10", "2000", "--shards", "1", "600",
                           "--keys", "10", "100", "--load-producers", "100", "1000", "--output", str(output)],
                          capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    results = json.loads(output.read_text())
    assert results["end_to_end"] == [{"records": 1}] and results["scale"]["slide"] == "an older run"
    scale = results["scale"]
    for dimension, steps in (("producers", [10, 100]), ("shards", [1, 600])):
        figures = scale[dimension]
        assert [row["step"] for row in figures["steps"]] == steps
        assert all(row["records"] > 2000 and row["seconds"] > 0 and row["peak_rss_mib"] > 0 for row in figures["steps"])
        [growth] = figures["growth"]
        assert growth["time_x"] == round(figures["steps"][1]["seconds"] / figures["steps"][0]["seconds"], 2)
    assert scale["shards"]["steps"][1]["shards_read"] == 600  # past the default account limit of 500
    for row in scale["shards"]["steps"]:  # the run apart from its polls, each timed alone on the same stream
        assert 0 < row["polls_alone_s"] and row["records_s"] == round(row["run_s"] - row["polls_alone_s"], 3)
    assert scale["shards"]["growth"][0]["records_x"] == \
        round(scale["shards"]["steps"][1]["records_s"] / scale["shards"]["steps"][0]["records_s"], 2)
    assert [row["step"] for row in scale["producers_shared"]["steps"]] == [10, 2000]
    # 3,000 records are 1.8 s, within one minute: a cell per key, one key per producer, or 1,000 keys shared
    assert [row["cells"] for row in scale["producers"]["steps"]] == [10, 100]
    assert [row["cells"] for row in scale["producers_shared"]["steps"]] == [10, 1000]
    assert len({row["records"] for row in scale["shards"]["steps"]}) == 1  # the same producers, the same records
    assert "skipped" in scale["keys"] or [row["step"] for row in scale["keys"]["steps"]] == [10, 100]
    assert [(row["producers"], row["file"]) for row in scale["load"]] == \
        [(100, "minimal"), (100, "lagged"), (1000, "minimal"), (1000, "lagged")]
    assert all(row["load_s"] >= row["yaml_s"] > 0 for row in scale["load"])
    assert "time x" in done.stdout and "load: a scenario file" in done.stdout

"""Whole runs: the shipped scenarios' lessons, the tutorial's numbers, determinism, the CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kinsim.report import report_dict
from kinsim.runner import run
from kinsim.scenario import load_scenario, parse_scenario

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = sorted((ROOT / "scenarios").glob("*.yaml"))


def kinsim(*args, env=None):
    return subprocess.run([sys.executable, "-m", "kinsim", *args], capture_output=True, text=True, timeout=300,
                          cwd=ROOT, env=env)


def metrics(result, name):
    [part] = [p for p in result.counters if p.spec.name == name]
    return part.metrics


def test_lagged_producers_shows_the_lesson():
    result = run(load_scenario(ROOT / "scenarios/lagged_producers.yaml"))
    naive, exact, short = (metrics(result, n) for n in ("naive", "buffered-90s", "buffered-30s"))
    truth_cells = len(result.counters[0].truth.cells)
    assert naive["final_exact"] == 1.0 and naive["first_exact"] < 1.0
    assert naive["peak_state_cells"] == truth_cells            # it holds every cell it ever saw
    assert exact["final_exact"] == exact["first_exact"] == 1.0
    assert exact["peak_state_cells"] < truth_cells / 2         # bounded state
    assert short["late_records"] > 0 and short["final_exact"] < 1.0
    assert result.produced == result.delivered == 420


def test_seed_tutorial_reproduces_the_tutorials_full_minute():
    result = run(load_scenario(ROOT / "scenarios/seed_tutorial.yaml"))
    rows = {(r["window_start"], r["key"]): r for r in report_dict(result)["counters"][0]["rows"]}
    assert rows[("2018-07-31T21:57:00Z", "8.8.8.8")]["count"] == 28
    assert rows[("2018-07-31T21:57:00Z", "8.8.8.9")]["count"] == 12
    # what was put before the LATEST iterator existed is never counted, as in the tutorial's printout
    assert (rows[("2018-07-31T21:56:00Z", "8.8.8.8")]["count"], rows[("2018-07-31T21:56:00Z", "8.8.8.9")]["count"]) \
        == (4, 1)


def test_seed_tutorial_echo_is_the_tutorials_echo():
    done = kinsim("run", "scenarios/seed_tutorial.yaml", "--echo")
    assert done.returncode == 0, done.stderr
    echoed = [line for line in done.stdout.splitlines() if " : " in line]
    assert echoed[0] == "8.8.8.8 : 2018-07-31T21:56:53.572560"
    fast = [line.split(" : ")[1] for line in echoed if line.startswith("8.8.8.8")]
    seconds = [int(t[17:19]) * 1_000_000 + int(t[20:]) + int(t[14:16]) * 60_000_000 for t in fast[:5]]
    assert {b - a for a, b in zip(seconds, seconds[1:])} == {2_120_000}  # puts of 0.12 s, sleeps of 2 s


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_json_report_is_byte_identical_across_runs_and_hash_seeds(path):
    outputs = []
    for hash_seed in ("0", "4242"):
        env = dict(os.environ, PYTHONHASHSEED=hash_seed)
        done = kinsim("run", str(path.relative_to(ROOT)), "--format", "json", env=env)
        assert done.returncode == 0, done.stderr
        outputs.append(done.stdout)
    assert outputs[0] == outputs[1]
    report = json.loads(outputs[0])
    assert list(report) == ["kinsim", "scenario", "seed", "backend", "records", "consumer", "stream", "counters"]
    assert "Traceback" not in outputs[0]


def test_every_shipped_scenario_says_what_it_shows():
    assert len(SCENARIOS) >= 6
    for path in SCENARIOS:
        assert path.read_text(encoding="utf-8").startswith("# "), path


def test_json_report_fields_follow_the_design():
    report = json.loads(kinsim("run", "scenarios/lagged_producers.yaml", "--format", "json").stdout)
    assert report["scenario"] == "lagged_producers" and report["seed"] == 7 and report["backend"] == "memory"
    naive = report["counters"][0]
    assert naive["params"] == {"size": 60.0}
    assert set(naive["metrics"]) >= {"final_exact", "first_exact", "convergence_latency_s", "never_converged",
                                     "late_records", "emitted_rows", "peak_state_cells"}
    assert naive["rows"][0] == {"window_start": "2018-07-31T21:56:00Z", "window_end": "2018-07-31T21:57:00Z",
                                "key": "8.8.8.8", "truth": 30, "count": 30}
    keys = [(r["window_start"], r["key"]) for r in naive["rows"]]
    assert keys == sorted(keys)


def test_seed_option_and_output_file(tmp_path):
    out = tmp_path / "report.json"
    done = kinsim("run", "scenarios/lagged_producers.yaml", "--format", "json", "--seed", "99", "--output", str(out))
    assert done.returncode == 0 and done.stdout == ""
    report = json.loads(out.read_text())
    assert report["seed"] == 99
    default = json.loads(kinsim("run", "scenarios/lagged_producers.yaml", "--format", "json").stdout)
    assert default["seed"] == 7
    del report["seed"], default["seed"]
    assert report != default  # another seed draws other lags


def test_text_report_has_a_metrics_table_and_a_window_table():
    done = kinsim("run", "scenarios/lagged_producers.yaml")
    assert done.returncode == 0, done.stderr
    assert "final_exact" in done.stdout and "buffered-30s: " in done.stdout
    assert "2018-07-31T21:57:00Z  8.8.8.9" in done.stdout


# -- end-to-end properties ------------------------------------------------------------------------------
@st.composite
def small_scenarios(draw):
    max_lag = draw(st.integers(0, 40))
    producers = [{"name": f"p{i}", "partition_key": f"10.0.0.{i}", "interval": f"{draw(st.integers(1, 9))}s",
                  "offset": f"{draw(st.integers(0, 5000))}ms",
                  "lag": {"uniform": [f"{draw(st.integers(0, max_lag))}s", f"{max_lag}s"]}}
                 for i in range(draw(st.integers(1, 4)))]
    document = {
        "seed": draw(st.integers(0, 10**6)), "start": "2018-07-31T21:56:00Z",
        "duration": f"{draw(st.integers(30, 240))}s", "window": "1m",
        "stream": {"name": "s", "shards": draw(st.integers(1, 3))},
        "producers": producers,
        "consumer": {"poll_interval": f"{draw(st.integers(1, 30))}s", "limit": draw(st.integers(5, 200))},
        "counters": ["naive", {"kind": "buffered", "name": "covering", "grace": f"{max_lag}s"},
                     {"kind": "buffered", "name": "short", "grace": f"{draw(st.integers(0, 40))}s",
                      "allowed_lateness": f"{draw(st.integers(0, 40))}s"}],
    }
    return parse_scenario(document, "<generated>", "generated")


@settings(max_examples=30, deadline=None)
@given(small_scenarios())
def test_any_lagged_run_keeps_every_record_and_a_covering_grace_is_exact(scenario):
    result = run(scenario)
    assert result.produced == result.delivered
    for part in result.counters:
        assert part.counter.records_counted + len(part.counter.late) == result.delivered
    assert metrics(result, "naive")["final_exact"] == 1.0
    covering = metrics(result, "covering")
    assert covering["final_exact"] == covering["first_exact"] == 1.0
    assert covering["late_records"] == 0


BEYOND_500 = """\
name: wide
seed: 3
start: 2018-07-31T21:56:00Z
duration: 40s
stream: {{shards: 2000, shard_limit: 4000, update_delay: 5s}}
producers:
{producers}
consumer: {{poll_interval: 5s}}
counters: [{{kind: buffered, grace: 10s}}]
faults:
  - {{at: 20s, shard_count: 4000}}
"""


def test_a_stream_beyond_500_shards_runs_when_the_account_allows_it(tmp_path):
    """2,000 shards (and an UpdateShardCount to 4,000 midway) in an account whose shard limit the scenario
    raises: every record delivered once, counts exact; without the raised limit the file is refused."""
    producers = "\n".join(f"  - {{name: p{i}, partition_key: 10.0.{i // 250}.{i % 250}, interval: 1s}}"
                          for i in range(3000))
    path = tmp_path / "wide.yaml"
    path.write_text(BEYOND_500.format(producers=producers))
    result = run(load_scenario(path))
    [part] = result.counters
    assert result.produced == result.delivered == 3000 * 40 and part.metrics["final_exact"] == 1.0
    assert len([s for s in result.shards if s.closed_at is None]) == 4000
    assert sum(s.records_read for s in result.shards) == result.produced
    path.write_text(BEYOND_500.format(producers=producers).replace(", shard_limit: 4000", ""))
    done = kinsim("validate", str(path))
    assert done.returncode == 2
    assert done.stderr == (f"kinsim: error: {path}: stream.shards: 2,000 shards are over the account's shard limit "
                           "of 500: raise stream.shard_limit\n")


@pytest.mark.parametrize("enabled", [True, False])
def test_a_run_leaves_the_cyclic_collector_as_it_found_it(enabled):
    """Paused while it runs (kinsim.collector), restored after for the caller's own objects; one the
    caller paused stays paused, and no collection walks the run's objects meanwhile."""
    import gc

    collections = []

    def count(phase, info):
        collections.append(phase)

    was = gc.isenabled()
    (gc.enable if enabled else gc.disable)()
    gc.callbacks.append(count)
    try:
        run(load_scenario(ROOT / "scenarios/seed_tutorial.yaml"))
        assert gc.isenabled() is enabled
        if not enabled:
            [[] for _ in range(100_000)]  # enough allocations to start a collection, were it on
            assert collections == []
    finally:
        gc.callbacks.remove(count)
        (gc.enable if was else gc.disable)()

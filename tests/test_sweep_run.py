"""Sweep runs: the metrics over seeds agree with runs made one by one, and the output is the same bytes
whoever ran the points (here, worker processes)."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kinsim.metrics import nearest_rank
from kinsim.report import report_dict
from kinsim.runner import run
from kinsim.scenario import load_scenario
from kinsim.sweep.aggregation import flat_names, spread
from kinsim.sweep.grid import build_grid, check_points
from kinsim.sweep.output import write_csv, write_json, write_text
from kinsim.sweep.sweeping import run_sweep

ROOT = Path(__file__).resolve().parent.parent
LAGGED = str(ROOT / "scenarios" / "lagged_producers.yaml")
SEEDS = [3, 4, 5, 6]


def sweep(varies, seeds=SEEDS, **how):
    grid, base = build_grid(LAGGED, varies)
    check_points(grid, None)
    return run_sweep(grid, base.name, seeds, progress=False, **how)


def outputs(document) -> dict[str, str]:
    made = {}
    for name, write in (("json", write_json), ("csv", write_csv), ("text", write_text)):
        out = io.StringIO()
        write(document, out)
        made[name] = out.getvalue()
    return made


def test_the_means_and_spreads_are_those_of_the_runs_made_one_by_one(tmp_path):
    document = sweep(["counters[buffered-30s].grace=10s,50s"])
    for point, grace in zip(document["points"], ("10s", "50s")):
        assert point["values"] == {"counters[buffered-30s].grace": grace}
        edited = tmp_path / f"{grace}.yaml"
        edited.write_text(Path(LAGGED).read_text().replace("grace: 30s", f"grace: {grace}"))
        reports = [report_dict(run(load_scenario(edited), seed=seed)) for seed in SEEDS]
        for i, counter in enumerate(point["counters"]):
            assert counter["name"] == reports[0]["counters"][i]["name"]
            assert counter["kind"] == reports[0]["counters"][i]["kind"]
            for flat, got in counter["metrics"].items():
                name, _, member = flat.partition(".")
                values = [report["counters"][i]["metrics"][name] for report in reports]
                if member:
                    values = [None if value is None else value[member] for value in values]
                numbers = sorted(value for value in values if value is not None)
                if not numbers:
                    assert got == {"mean": None, "p5": None, "p95": None, "n": 0}
                    continue
                assert got["n"] == len(numbers)
                assert got["mean"] == round(sum(numbers) / len(numbers), 6)
                assert got["p5"] == nearest_rank(numbers, 0.05) and got["p95"] == nearest_rank(numbers, 0.95)


def test_the_document_has_the_shape_the_readme_gives():
    document = sweep(["counters[buffered-90s].grace=0s..60s/30s"], seeds=[1, 2])
    assert list(document) == ["kinsim", "scenario", "seeds", "vary", "points"]
    assert document["scenario"] == "lagged_producers" and document["seeds"] == [1, 2]
    assert document["vary"] == [{"path": "counters[buffered-90s].grace", "values": ["0s", "30s", "1m"]}]
    assert len(document["points"]) == 3
    counters = document["points"][0]["counters"]
    assert [(c["name"], c["kind"]) for c in counters] == [("naive", "naive"), ("buffered-90s", "buffered"),
                                                          ("buffered-30s", "buffered"), ("sliding", "buffered")]
    assert "convergence_latency_s.p50" in counters[0]["metrics"] and "late_by_s.p95" in counters[0]["metrics"]
    assert all(set(spread) == {"mean", "p5", "p95", "n"} for spread in counters[1]["metrics"].values())
    json.dumps(document, allow_nan=False)


@pytest.mark.parametrize("method", ["as chosen", "forkserver"])
def test_the_same_bytes_with_one_job_and_with_two_worker_processes(monkeypatch, method):
    varies = ["counters[buffered-90s].grace=0s..90s/30s", "consumer.poll_interval=10s,20s"]
    here = outputs(sweep(varies, jobs=1))
    monkeypatch.setattr("kinsim.sweep.sweeping.run_in_process", None)  # two jobs: never here
    if method != "as chosen":
        monkeypatch.setattr("kinsim.sweep.running.start_method", lambda: method)
    pooled = outputs(sweep(varies, jobs=2))
    assert here == pooled
    assert len(json.loads(here["json"])["points"]) == 8


def test_a_bar_counts_the_runs_on_standard_error_and_nothing_goes_to_standard_output(capsys):
    grid, base = build_grid(LAGGED, ["counters[buffered-90s].grace=30s,60s"])
    run_sweep(grid, base.name, [1, 2, 3], progress=True)
    captured = capsys.readouterr()
    assert captured.out == ""
    assert re.search(r"sweep lagged_producers: .*/6(\.00)? \[", captured.err)  # runs done of 6
    assert "run/s" in captured.err


def test_the_bar_is_silent_when_standard_error_is_not_a_terminal(capsys):
    grid, base = build_grid(LAGGED, ["counters[buffered-90s].grace=30s"])
    run_sweep(grid, base.name, [1])
    assert capsys.readouterr() == ("", "")


@given(st.lists(st.one_of(st.none(), st.integers(-10**6, 10**6),
                          st.floats(-1e6, 1e6, allow_nan=False))), st.booleans())
def test_a_spread_is_over_the_numbers_only(values, as_text):
    got = spread(values + (["n/a"] if as_text else []))
    numbers = sorted(value for value in values if value is not None)
    assert got["n"] == len(numbers)
    if not numbers:
        assert got == {"mean": None, "p5": None, "p95": None, "n": 0}
        return
    assert numbers[0] <= got["p5"] <= got["p95"] <= numbers[-1]
    assert numbers[0] - 1e-6 <= got["mean"] <= numbers[-1] + 1e-6
    assert got["p5"] == nearest_rank(numbers, 0.05) and got["p95"] == nearest_rank(numbers, 0.95)


def test_a_nested_metric_null_in_some_runs_is_flattened_by_the_members_the_others_have():
    runs = [[("c", "k", {"a": 1, "late_by_s": None})], [("c", "k", {"a": 2, "late_by_s": {"p50": 3, "max": 4}})],
            [("c", "k", {"a": 3, "late_by_s": None, "only": None})]]
    assert flat_names(runs) == ["a", "late_by_s.p50", "late_by_s.max", "only"]


def test_a_counter_of_the_users_is_imported_by_each_worker_from_the_scenarios_directory(monkeypatch):
    grid, base = build_grid(str(ROOT / "scenarios" / "user_counter.yaml"), ["consumer.poll_interval=10s,20s"])
    check_points(grid, None)
    here = run_sweep(grid, base.name, [1, 2], progress=False)
    monkeypatch.setattr("kinsim.sweep.running.start_method", lambda: "forkserver")  # workers import afresh
    pooled = run_sweep(grid, base.name, [1, 2], jobs=2, progress=False)
    assert pooled == here
    assert [c["kind"] for c in here["points"][0]["counters"]][-1] == "user_counters:ProcessingTimeCounter"

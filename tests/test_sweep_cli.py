"""``python -m kinsim sweep`` as a user runs it: its outputs, and one clear line for every bad option."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from kinsim.cli import main

ROOT = Path(__file__).resolve().parent.parent
LAGGED = str(ROOT / "scenarios" / "lagged_producers.yaml")
GRACE = "counters[buffered-90s].grace=30s,90s"


def kinsim(*args):
    return subprocess.run([sys.executable, "-m", "kinsim", *args], capture_output=True, text=True, timeout=120,
                          cwd=ROOT)


def sweep(capsys, *args):
    status = main(["sweep", LAGGED, *args])
    out, err = capsys.readouterr()
    return status, out, err


def test_json_csv_and_text_say_the_same_numbers(capsys):
    status, out, err = sweep(capsys, "--vary", GRACE, "--seeds", "1..3", "--format", "json", "-j", "1")
    assert (status, err) == (0, "")
    document = json.loads(out)
    status, out, _ = sweep(capsys, "--vary", GRACE, "--seeds", "1..3", "--format", "csv", "-j", "1")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert len(rows) == 2 * 4  # points x counters
    for row, (point, counter) in zip(rows, [(p, c) for p in document["points"] for c in p["counters"]]):
        assert row["counters[buffered-90s].grace"] == point["values"]["counters[buffered-90s].grace"]
        assert (row["counter"], row["kind"]) == (counter["name"], counter["kind"])
        for flat, spread in counter["metrics"].items():
            for stat in ("mean", "p5", "p95", "n"):
                cell = row[f"{flat}.{stat}"]
                assert (cell == "") if spread[stat] is None else float(cell) == spread[stat]
    status, out, _ = sweep(capsys, "--vary", GRACE, "--seeds", "1..3", "-j", "1")
    assert out.startswith("sweep of lagged_producers: 2 points x 3 seeds (1..3) = 6 runs\n")
    buffered = out[out.index("\nbuffered-90s (buffered)\n"):out.index("\nbuffered-30s (buffered)\n")]
    first = document["points"][0]["counters"][1]["metrics"]["final_exact"]
    assert "  30s  " in buffered and str(round(first["mean"], 3)).rstrip("0").rstrip(".") in buffered


def test_output_to_a_file_and_the_seed_of_the_scenario_by_default(capsys, tmp_path):
    target = tmp_path / "sweep.json"
    status, out, err = sweep(capsys, "--vary", GRACE, "--format", "json", "--output", str(target), "-j", "1")
    assert (status, out, err) == (0, "", "")
    assert json.loads(target.read_text())["seeds"] == [7]


def test_the_command_line_the_same_bytes_for_one_and_two_jobs():
    args = ["sweep", LAGGED, "--vary", "counters[buffered-90s].grace=0s..60s/30s", "--seeds", "1..4", "--format", "csv"]
    one, two = kinsim(*args, "--jobs", "1"), kinsim(*args, "--jobs", "2")
    assert one.returncode == two.returncode == 0
    assert one.stdout == two.stdout and one.stdout.count("\n") == 1 + 3 * 4
    assert one.stderr == two.stderr == ""  # no bar off a terminal


@pytest.mark.parametrize("args, start", [
    (["--vary", "counters[fast].grace=30s"], "kinsim: error: --vary counters[fast].grace=30s: counters has no item "
                                             "named 'fast'"),
    (["--vary", "counters[buffered-90s].grace=30s,-5s"],
     f"kinsim: error: --vary counters[buffered-90s].grace=-5s: {LAGGED}: counters[1].grace: "),
    (["--vary", "consumer.pol_interval=5s"],
     f"kinsim: error: --vary consumer.pol_interval=5s: {LAGGED}: consumer.pol_interval: unknown key; did you mean"),
    (["--vary", "counters[buffered-90s].grace=0s..100s/15s"], "kinsim: error: --vary counters[buffered-90s].grace="
                                                              "0s..100s/15s: the range '0s..100s/15s' does not land"),
    (["--vary", "grace"], "kinsim: error: --vary grace: expected PATH=VALUES"),
    (["--vary", GRACE, "--seeds", "9..1"], "kinsim: error: --seeds 9..1: the range '9..1' ends before it starts"),
    (["--vary", GRACE, "--executor", "127.0.0.1:8786"], "kinsim: error: --executor 127.0.0.1:8786: expected "
                                                        "dask://HOST:PORT"),
    (["--vary", GRACE, "--output", "/nonexistent/dir/out.json"], "kinsim: error: --output /nonexistent/dir/out.json: "
                                                                 "cannot write it: there is no directory"),
    (["--vary", GRACE, "--plot", "frontier.gif"], "kinsim: error: --plot frontier.gif: a picture is written as"),
    (["--vary", "duration=10m,2h", "--max-events", "5000"], f"kinsim: error: --vary duration=2h: {LAGGED}: this run "
                                                            "is too big to start"),
])
def test_a_bad_option_is_one_line_and_exit_status_2_before_anything_runs(capsys, args, start):
    status, out, err = sweep(capsys, *args)
    assert status == 2 and out == ""
    assert err.startswith(start), err
    assert err.count("\n") == 1


def test_at_the_command_line_no_traceback():
    done = kinsim("sweep", LAGGED, "--vary", "producers[slow].lag.uniform=[[90s,20s]]")
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.startswith("kinsim: error: --vary producers[slow].lag.uniform=[90s, 20s]: ")
    assert "producers[1].lag.uniform" in done.stderr and "Traceback" not in done.stderr
    done = kinsim("sweep", LAGGED)
    assert done.returncode == 2 and "--vary" in done.stderr and "Traceback" not in done.stderr
    done = kinsim("sweep", LAGGED, "--vary", GRACE, "--jobs", "2", "--executor", "dask://127.0.0.1:1")
    assert done.returncode == 2 and "not allowed with" in done.stderr


def test_a_missing_extra_is_said_before_the_runs(capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # as if not installed
    monkeypatch.setattr("kinsim.sweep.sweeping.run_sweep", None)  # nothing may run
    status, out, err = sweep(capsys, "--vary", GRACE, "--plot", "x.png")
    assert (status, out) == (2, "")
    assert err == "kinsim: error: pictures need matplotlib: pip install 'kinsim[plot]'\n"
    monkeypatch.setitem(sys.modules, "dask.distributed", None)
    status, out, err = sweep(capsys, "--vary", GRACE, "--executor", "dask://127.0.0.1:8786")
    assert (status, out) == (2, "")
    assert err == "kinsim: error: --executor dask:// needs dask.distributed: pip install 'kinsim[dask]'\n"


def test_help_lists_the_sweep():
    done = kinsim("--help")
    assert "sweep" in done.stdout
    done = kinsim("sweep", "--help")
    assert done.returncode == 0 and "--vary PATH=VALUES" in done.stdout and "--max-events" in done.stdout


@pytest.mark.parametrize("vary", ["counters[fast].grace=30s", "counters[buffered-90s].grace=30s,-5s",
                                  "counters[buffered-90s].grace=0s..100s/15s"])
def test_the_readme_quotes_what_the_command_says(vary):
    done = kinsim("sweep", "scenarios/lagged_producers.yaml", "--vary", vary)
    assert done.returncode == 2
    assert done.stderr.strip() in (ROOT / "README.md").read_text(encoding="utf-8").splitlines()


def test_a_run_that_fails_in_a_worker_is_one_line_naming_the_point_and_seed(tmp_path):
    from tests.test_stalled_runs import PROCESSOR, SCENARIO

    (tmp_path / "stall_processors.py").write_text(textwrap.dedent(PROCESSOR), encoding="utf-8")
    (tmp_path / "stalls.yaml").write_text(SCENARIO, encoding="utf-8")
    done = kinsim("sweep", str(tmp_path / "stalls.yaml"), "--vary", "producers[a].interval=1s,2s", "--jobs", "2")
    assert done.returncode == 1 and done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in done.stderr
    assert lines[0].startswith("kinsim: the run failed: the run at producers[a].interval=")
    assert " with seed 0 failed: input never ended: " in lines[0]

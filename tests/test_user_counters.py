"""Counters of your own: named by import path in a scenario, found next to it, checked when it loads.

The shipped ``scenarios/user_counter.yaml`` runs end to end from any directory; a module that cannot be
imported, a name that is not a counter class and a parameter the class refuses are scenario errors
with their key path and exit status 2, never a traceback.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from kinsim.errors import ScenarioError
from kinsim.report import report_dict, to_text
from kinsim.runner import run
from kinsim.scenario import load_scenario

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = ROOT / "scenarios" / "user_counter.yaml"

SCENARIO = """\
name: mine
seed: 1
start: 2018-07-31T21:56:00Z
duration: 3m
producers:
  - {{name: fast, partition_key: 8.8.8.8, interval: 2s, lag: {{constant: 100ms}}}}
consumer: {{poll_interval: 10s, limit: 100}}
counters:
  - {counter}
"""

# A counter with nothing but the interface: every optional attribute takes its default in the report.
BARE = """\
class Bare:
    def __init__(self, name, windowing, sink, **params):
        self.name, self.windowing, self._sink, self._params = name, windowing, sink, params
        self._cells = {}

    def process(self, shard_id, keys, event_us, now_us):
        slide = self.windowing.slide_us
        for key, ts in zip(keys, event_us):
            cell = (ts - ts % slide, key)
            self._cells[cell] = self._cells.get(cell, 0) + 1
            self._sink(cell[0], key, self._cells[cell], now_us)

    def close(self, now_us):
        pass
"""


def kinsim(*args, cwd):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", "kinsim", *args], capture_output=True, text=True, timeout=120,
                          cwd=cwd, env=env)


def scenario_with(tmp_path, counter: str, modules: dict[str, str]) -> Path:
    """A scenario with one counter, and these modules next to it."""
    for name, source in modules.items():
        (tmp_path / name).write_text(textwrap.dedent(source), encoding="utf-8")
    path = tmp_path / "mine.yaml"
    path.write_text(SCENARIO.format(counter=counter), encoding="utf-8")
    return path


def metrics(report: dict, name: str) -> dict:
    [counter] = [c for c in report["counters"] if c["name"] == name]
    return counter


def test_the_shipped_user_counter_scenario_shows_its_trade_off():
    report = report_dict(run(load_scenario(SHIPPED)))
    mine, buffered = metrics(report, "processing-time-100s"), metrics(report, "buffered-90s")
    assert mine["kind"] == "user_counters:ProcessingTimeCounter"
    assert mine["params"] == {"size": 60.0, "delay": 100.0}
    assert mine["metrics"]["convergence_latency_s"] == {"p50": 100.0, "p95": 100.0, "max": 100.0}
    honest = [row for row in mine["rows"] if row["key"] != "8.8.8.10"]  # the fast clock is wrong for everyone
    assert honest and all(row["count"] == row["truth"] for row in honest)
    assert mine["metrics"]["late_records"] == 0
    assert buffered["metrics"]["late_records"] > 100  # the fast clock drags the watermark past the grace
    reported = [row for row in mine["rows"] if row["count"]]
    assert mine["metrics"]["emitted_rows"] == len(reported)  # counted by its sink: one report per cell


@pytest.mark.parametrize("where", ["root", "elsewhere"])
def test_the_shipped_scenario_runs_and_validates_from_any_directory(tmp_path, where):
    cwd, path = (ROOT, "scenarios/user_counter.yaml") if where == "root" else (tmp_path, str(SHIPPED))
    done = kinsim("run", path, "--format", "json", cwd=cwd)
    assert done.returncode == 0, done.stderr
    assert metrics(json.loads(done.stdout), "processing-time-100s")["metrics"]["late_records"] == 0
    done = kinsim("validate", path, cwd=cwd)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"{path}: ok (user_counter: 3 producers, 3 counters, 1 shards; about 483 records")


def test_a_bare_counter_gets_the_defaults(tmp_path):
    path = scenario_with(tmp_path, "{kind: bare_counter:Bare, name: bare, size: 30s, params: {colour: red}}",
                         {"bare_counter.py": BARE})
    result = run(load_scenario(path))
    [counter] = report_dict(result)["counters"]
    assert counter["kind"] == "bare_counter:Bare"
    assert counter["params"] == {"size": 30.0, "slide": 30.0, "colour": "red"}
    assert counter["metrics"]["emitted_rows"] == 90  # a report per record, counted by the sink
    assert counter["metrics"]["peak_state_cells"] is None and counter["late"] == []
    assert counter["metrics"]["final_exact"] == 1.0
    [line] = [line for line in to_text(result).splitlines() if line.startswith("bare ")]
    assert line.split()[1] == "bare_counter:Bare" and line.endswith(" 90                 -")


def test_the_scenarios_directory_is_on_the_path_only_while_it_loads(tmp_path):
    before = list(sys.path)
    load_scenario(scenario_with(tmp_path, "{kind: bare_counter2:Bare}", {"bare_counter2.py": BARE}))
    assert sys.path == before


BROKEN = [
    # (what is wrong, the counter in the scenario, modules next to it, the message after the file name)
    ("no such module", "{kind: not_there_at_all:Top}", {},
     "counters[0].kind: no module named 'not_there_at_all' next to the scenario file (in {dir}) or on Python's "
     "path"),
    ("no such package", "{kind: not_there_pkg.counting:Top}", {},
     "counters[0].kind: no module named 'not_there_pkg' next to the scenario file (in {dir}) or on Python's path"),
    ("a module that fails", "{kind: failing_module:Top}", {"failing_module.py": "raise RuntimeError('boom')\n"},
     "counters[0].kind: importing failing_module failed: RuntimeError: boom"),
    ("a module importing what is missing", "{kind: needs_more:Top}", {"needs_more.py": "import not_there_either\n"},
     "counters[0].kind: importing needs_more failed: ModuleNotFoundError: No module named 'not_there_either'"),
    ("no such class", "{kind: holds_little:Top}", {"holds_little.py": "x = 1\n"},
     "counters[0].kind: module holds_little ({dir}/holds_little.py) has no 'Top'"),
    ("not a class", "{kind: holds_a_function:Top}", {"holds_a_function.py": "def Top(): pass\n"},
     "counters[0].kind: holds_a_function:Top is not a counter class: a counter is a class with the methods "
     "process and close (see 'Counters of your own' in the README)"),
    ("a bad parameter", "{kind: user_counters:ProcessingTimeCounter, delay: soon}", "shipped",
     "counters[0].delay: expected a duration like 500ms, 20s, 2m or 1h, got 'soon'"),
    ("a bad parameter under params", "{kind: user_counters:ProcessingTimeCounter, params: {delay: -1}}", "shipped",
     "counters[0].params.delay: a duration cannot be negative, got -1"),
    ("an unknown parameter", "{kind: user_counters:ProcessingTimeCounter, dealy: 1m}", "shipped",
     "counters[0].dealy: unknown key; did you mean 'delay'?"),
    ("an unexpected keyword", "{kind: strict:Strict, colour: red}",
     {"strict.py": BARE.replace("class Bare", "class Strict").replace(", **params", "")},
     "counters[0]: Strict.__init__() got an unexpected keyword argument 'colour'"),
    ("a constructor that fails", "{kind: crashing:Crashing}",
     {"crashing.py": BARE.replace("class Bare", "class Crashing").replace("self._cells = {}", "1 / 0")},
     "counters[0]: building crashing:Crashing failed: ZeroDivisionError: division by zero"),
    ("no windowing kept", "{kind: forgetful:Forgetful}",
     {"forgetful.py": BARE.replace("class Bare", "class Forgetful").replace("self.windowing, ", "_, ")},
     "counters[0]: forgetful:Forgetful does not keep its windows: a counter keeps the Windowing it is given as "
     "its attribute windowing, and kinsim counts the truth in those windows"),
]


@pytest.mark.parametrize("counter, modules, message", [c[1:] for c in BROKEN], ids=[c[0] for c in BROKEN])
def test_a_counter_that_cannot_be_used_is_a_scenario_error(tmp_path, counter, modules, message):
    if modules == "shipped":
        modules = {"user_counters.py": (ROOT / "scenarios" / "user_counters.py").read_text(encoding="utf-8")}
    path = scenario_with(tmp_path, counter, modules)
    expected = f"{path}: " + message.format(dir=tmp_path)
    with pytest.raises(ScenarioError) as excinfo:
        load_scenario(path)
    assert str(excinfo.value) == expected
    for command in ("run", "validate"):
        done = kinsim(command, str(path), cwd=tmp_path)
        assert (done.returncode, done.stdout, done.stderr) == (2, "", f"kinsim: error: {expected}\n")

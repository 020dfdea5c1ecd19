"""The progress of a long run: the runner's hook (told records delivered and simulated time, changing
nothing), and the bar the command line draws with it on a terminal's standard error, and only there."""

from __future__ import annotations

import fcntl
import io
import os
import pty
import struct
import subprocess
import sys
import termios
from pathlib import Path

import pytest
import yaml

import kinsim.runner
from kinsim import cli
from kinsim.progress import progress_bar
from kinsim.report import to_json
from kinsim.runner import _tell, run
from kinsim.scenario import load_scenario
from kinsim.simulation import Timeline
from kinsim.simulation.traffic import TrafficStats

ROOT = Path(__file__).resolve().parent.parent


def scenario(name: str):
    return load_scenario(ROOT / "scenarios" / f"{name}.yaml")


class Calls:
    """A fake progress hook: what it was told, in order."""

    def __init__(self) -> None:
        self.told: list[tuple[int, float]] = []

    def __call__(self, delivered: int, now: float) -> None:
        self.told.append((delivered, now))


# -- the runner's hook ------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["lagged_producers", "failover", "reshard_midway", "outage_burst", "heavy_tailed_lag",
                                  "many_producers", "hot_shard"])
@pytest.mark.parametrize("every", [0.37, 7.0])
def test_the_report_is_the_same_with_the_hook(name, every):
    calls = Calls()
    told = run(scenario(name), progress=calls, progress_every=every)
    assert to_json(told) == to_json(run(scenario(name)))
    ticks = [now for _, now in calls.told]
    assert ticks == pytest.approx([every * k for k in range(1, len(ticks) + 1)])
    assert ticks[-1] <= told.ended_at < ticks[-1] + every * 1.001  # every instant of the run, none past it
    delivered = [count for count, _ in calls.told]
    assert delivered == sorted(delivered) and delivered[-1] <= told.delivered


def test_the_hook_is_told_the_records_delivered_by_then():
    """At each minute, the records that had arrived in the minutes before: the throughput table's."""
    calls = Calls()
    result = run(scenario("lagged_producers"), progress=calls, progress_every=60.0)
    arrived = [row.records_in for row in result.throughput]
    assert len(calls.told) >= 9 and result.throughput[0].span == 60.0
    for minute, (delivered, now) in enumerate(calls.told, start=1):
        assert now == 60.0 * minute and delivered == sum(arrived[:minute])


def test_the_hook_does_not_keep_a_timeline_with_nothing_else_to_do_alive():
    """A run whose simulation stops before its input ends still stops (and says so): the hook's process
    goes when nothing else is left to happen."""
    timeline, calls = Timeline(0.0), Calls()

    def worker():
        yield timeline.timeout(5.5)

    timeline.process(worker())
    timeline.process(_tell(timeline, calls, 1.0, TrafficStats()))
    never = timeline.event()
    with pytest.raises(RuntimeError):
        timeline.run(until=never)
    assert [now for _, now in calls.told] == [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]


@pytest.mark.parametrize("every", [0.0, -1.0, float("nan")])
def test_the_hook_needs_time_to_pass_between_calls(every):
    with pytest.raises(ValueError, match="progress_every must be above 0"):
        run(scenario("seed_tutorial"), progress=Calls(), progress_every=every)


def test_a_shown_bar_into_a_stream_changes_nothing_but_the_stream():
    text = io.StringIO()
    plain = to_json(run(scenario("many_producers")))
    with progress_bar(None, unit="records", description="kinsim run", enabled=True, stream=text) as bar:
        shown = run(scenario("many_producers"), progress=lambda delivered, now: bar.reach(delivered))
        assert bar.done == shown.delivered
    assert to_json(shown) == plain
    assert "records" in text.getvalue() and "kinsim run" in text.getvalue()


# -- the command line -------------------------------------------------------------------------------------
class Terminal(io.StringIO):
    """Standard error as a terminal."""

    def isatty(self) -> bool:
        return True


def terminal(monkeypatch) -> Terminal:
    """Standard error a terminal, from here on in the test (pytest sets its own around each phase, so not
    in a fixture)."""
    stderr = Terminal()
    monkeypatch.setattr(sys, "stderr", stderr)
    monkeypatch.delenv("KINSIM_PROGRESS", raising=False)
    return stderr


@pytest.fixture
def runs(monkeypatch):
    """What the command line asked the runner for."""
    asked = []

    def recording(*args, **kwargs):
        asked.append(kwargs)
        return run(*args, **kwargs)

    monkeypatch.setattr(kinsim.runner, "run", recording)
    return asked


def report(tmp_path, *options) -> str:
    out = tmp_path / "report.json"
    assert cli.main(["run", str(ROOT / "scenarios/many_producers.yaml"), "--format", "json", "-o", str(out),
                     *options]) == 0
    return out.read_text(encoding="utf-8")


def test_a_long_run_on_a_terminal_shows_records_per_second_and_the_simulated_time(tmp_path, runs, monkeypatch):
    monkeypatch.setattr(cli, "PROGRESS_EVENTS", 1)  # many_producers is short; as if it were long
    stderr = terminal(monkeypatch)
    shown = report(tmp_path)
    bar = stderr.getvalue()
    assert "kinsim run:" in bar and "records/s" in bar and "simulated" in bar
    assert callable(runs[0]["progress"]) and runs[0]["progress_every"] >= 1.0
    assert shown == to_json(run(scenario("many_producers")))


@pytest.mark.parametrize("why", ["short", "not a terminal", "KINSIM_PROGRESS=0", "--echo"])
def test_no_bar_and_no_hook(tmp_path, runs, monkeypatch, why):
    stderr = terminal(monkeypatch)
    if why != "short":
        monkeypatch.setattr(cli, "PROGRESS_EVENTS", 1)
    if why == "not a terminal":
        monkeypatch.setattr(sys, "stderr", io.StringIO())
    if why == "KINSIM_PROGRESS=0":
        monkeypatch.setenv("KINSIM_PROGRESS", "0")
    report(tmp_path, *(["--echo"] if why == "--echo" else []))
    assert runs[0]["progress"] is None  # nothing at all runs for a bar nobody sees
    assert stderr.getvalue() == ""


def test_a_real_terminal_gets_the_bar_and_standard_output_only_the_report(tmp_path):
    """``python -m kinsim run`` of a run estimated long (about a million records), its standard error a
    pseudo-terminal: the bar is drawn there; the report on standard output is the same bytes as without."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        import bench
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    path = tmp_path / "long.yaml"
    path.write_text(yaml.safe_dump(bench.scenario_document(1_000_000)), encoding="utf-8")
    command = [sys.executable, "-m", "kinsim", "run", str(path), "--format", "json"]
    env = {key: value for key, value in os.environ.items() if key != "KINSIM_PROGRESS"}
    main, secondary = pty.openpty()
    fcntl.ioctl(secondary, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))  # a terminal's size
    with open(tmp_path / "report.json", "wb") as stdout:  # a file: the report never waits on a reader
        try:
            done = subprocess.Popen(command, stdout=stdout, stderr=secondary, cwd=ROOT, env=env)
            os.close(secondary)
            drawn = b""
            while True:
                try:
                    chunk = os.read(main, 65536)
                except OSError:  # the other end closed
                    break
                if not chunk:
                    break
                drawn += chunk
            done.wait(timeout=300)
        finally:
            os.close(main)
    assert done.returncode == 0
    bar = drawn.decode("utf-8", "replace")
    assert "kinsim run:" in bar and "records/s" in bar and "999k" in bar
    plain = subprocess.run(command, capture_output=True, cwd=ROOT, env=env, timeout=300)
    assert plain.stderr == b"" and plain.stdout == (tmp_path / "report.json").read_bytes()

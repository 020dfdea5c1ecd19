"""``run --plot``: the count history behind it, the cells it picks, and the figure itself, rendered and read
back (its titles, axes, series and legends against the run's observations and truth)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import kinsim.plots.run as run_plots
from kinsim import cli
from kinsim.metrics import CountHistory, Observations, late_records
from kinsim.plots.run import plot_run, run_figure, slowest_cells
from kinsim.report import to_json
from kinsim.runner import run
from kinsim.scenario import load_scenario

ROOT = Path(__file__).resolve().parent.parent


def scenario(name: str):
    return load_scenario(ROOT / "scenarios" / f"{name}.yaml")


@pytest.fixture(scope="module")
def lagged():
    return run(scenario("lagged_producers"), keep_history=True)


@pytest.fixture(scope="module")
def heavy():
    return run(scenario("heavy_tailed_lag"), keep_history=True)


# -- the history ------------------------------------------------------------------------------------------
reports = st.lists(st.tuples(st.sampled_from([(0, "a"), (0, "b"), (60, "a")]), st.integers(0, 4),
                             st.integers(0, 3)), max_size=40)


def timed(reports):
    """The reports as a counter makes them: (cell, count, processing time), time never going back."""
    at = 0
    for cell, count, step in reports:
        at += step
        yield cell, count, at


@settings(max_examples=200, deadline=None)
@given(reports=reports)
def test_the_history_is_every_change_and_the_rest_is_what_observations_keep(reports):
    plain, history = Observations(), CountHistory()
    for (start, key), count, at in timed(reports):
        plain(start, key, count, at)
        history(start, key, count, at)
    assert history.cells == plain.cells and history.reports == plain.reports
    assert set(history.history) == set(plain.cells)
    for cell in plain.cells:
        said = [(at, count) for reported, count, at in timed(reports) if reported == cell]
        changes = [said[0]] + [now for before, now in zip(said, said[1:]) if now[1] != before[1]]
        assert history.history[cell] == changes


@pytest.mark.parametrize("name", ["lagged_producers", "failover", "reshard_midway", "user_counter"])
def test_the_report_is_the_same_with_the_history_kept(name):
    assert to_json(run(scenario(name), keep_history=True)) == to_json(run(scenario(name)))


# -- the cells it picks -----------------------------------------------------------------------------------
def test_the_cell_picked_is_the_one_corrected_last(lagged):
    """Brute force over every cell's history: the latest correction after its window's end."""
    [tumbling, sliding] = slowest_cells(lagged)
    for slow in (tumbling, sliding):
        size, best = slow.windowing.size_us, None
        for cell in set().union(*(part.observations.history for part in slow.parts)):
            said = [part.observations.history[cell] for part in slow.parts if cell in part.observations.history]
            settled = max((len(changes) > 1, changes[-1][0] - cell[0] - size) for changes in said)
            if best is None or settled > best[0] or settled == best[0] and cell < best[1]:
                best = settled, cell
        assert (slow.corrected, slow.settled_us) == best[0] and (slow.start_us, slow.key) == best[1]
        assert slow.truth == slow.parts[0].truth.cells[best[1]]
    assert [p.spec.name for p in tumbling.parts] == ["naive", "buffered-90s", "buffered-30s"]
    assert [p.spec.name for p in sliding.parts] == ["sliding"]


def test_the_lesson_shows_in_the_cell_picked(lagged):
    """Only the naive counter corrects itself here: the cell picked is where it converged slowest, and
    the buffered counter with too short a grace refused that cell's last record."""
    tumbling = slowest_cells(lagged)[0]
    naive, exact, short = tumbling.parts
    assert tumbling.corrected
    assert tumbling.settled_us / 1e6 == naive.metrics["convergence_latency_s"]["max"]
    cell = (tumbling.start_us, tumbling.key)
    assert naive.observations.cells[cell].last == exact.observations.cells[cell].last == tumbling.truth
    assert short.observations.cells[cell].last < tumbling.truth


# -- the figure -------------------------------------------------------------------------------------------
def labels(axes) -> list[str]:
    return [text.get_text() for text in axes.get_legend().get_texts()]


def test_the_figure_draws_each_counters_counts_beside_truth(lagged):
    figure = run_figure(lagged)
    cells = slowest_cells(lagged)
    axes = figure.axes
    assert len(axes) == len(cells) + 1
    assert "lagged_producers" in figure._suptitle.get_text() and "seed 7" in figure._suptitle.get_text()
    for panel, slow in zip(axes, cells):
        assert f"key {slow.key}" in panel.get_title()
        assert panel.get_xlabel() == "processing time after the window's end (s)"
        assert panel.get_ylabel() == "reported count (records)"
        end = slow.start_us + slow.windowing.size_us
        lines = {line.get_label(): line for line in panel.get_lines()}
        for part in slow.parts:
            report = part.observations.cells[(slow.start_us, slow.key)]
            [label] = [label for label in lines if label.startswith(f"{part.spec.name} (")]
            assert f"ends at {report.last}" in label
            assert ("never exact" in label) == (report.last != slow.truth)
            xs, ys = lines[label].get_xdata(), lines[label].get_ydata()
            changes = part.observations.history[(slow.start_us, slow.key)]
            assert list(ys[:-1]) == [count for _, count in changes] and ys[-1] == report.last
            assert list(xs[:-1]) == pytest.approx([(at - end) / 1e6 for at, _ in changes])
            assert xs[0] == pytest.approx((report.first_at - end) / 1e6) and ys[0] == report.first
            assert xs[-1] > (report.changed_at - end) / 1e6  # the last count is seen to hold
        truth = lines[f"truth: {slow.truth}"]
        assert set(truth.get_ydata()) == {slow.truth}
        assert list(lines["window end"].get_xdata()) == [0, 0]
        assert set(labels(panel)) == set(lines)


def test_the_histogram_counts_every_late_record(lagged, heavy):
    for result in (lagged, heavy):
        panel = run_figure(result).axes[-1]
        late = {part.spec.name: late_records(part.counter) for part in result.counters if late_records(part.counter)}
        assert late  # both scenarios refuse records with their shorter graces
        bars = {container.patches[0].get_label(): container for container in panel.containers}
        assert set(bars) == {f"{name}: {len(records)} late" for name, records in late.items()}
        assert set(labels(panel)) == set(bars)
        for name, records in late.items():
            heights = [patch.get_height() for patch in bars[f"{name}: {len(records)} late"]]
            assert sum(heights) == len(records) == next(p for p in result.counters
                                                        if p.spec.name == name).metrics["late_records"]
            edges = [patch.get_x() for patch in bars[f"{name}: {len(records)} late"]]
            assert min(edges) == pytest.approx(min(r.late_by_us for rs in late.values() for r in rs) / 1e6)
        assert panel.get_xlabel().startswith("late by (s)") and panel.get_ylabel() == "late records"
        assert panel.get_xscale() == "linear"


def test_lateness_over_many_decades_gets_logarithmic_bins(heavy, monkeypatch):
    monkeypatch.setattr(run_plots, "LOG_SPAN", 10)  # heavy_tailed_lag's spans 3 s to 144 s
    panel = run_figure(heavy).axes[-1]
    assert panel.get_xscale() == "log"
    total = sum(patch.get_height() for container in panel.containers for patch in container)
    assert total == sum(part.metrics["late_records"] for part in heavy.counters)


def test_a_run_without_late_records_says_so():
    result = run(scenario("seed_tutorial"), keep_history=True)
    assert all(not late_records(part.counter) for part in result.counters)
    panel = run_figure(result).axes[-1]
    assert not panel.containers and panel.get_title() == "late records: none"
    assert [text.get_text() for text in panel.texts] == [
        "no late records: every counter counted every record it was given"]


def test_a_counter_that_never_reported_the_cell_is_named_in_the_legend():
    result = run(scenario("lagged_producers"), keep_history=True)
    silent = result.counters[2].observations  # buffered-30s: as if it had said nothing at all
    silent.cells.clear()
    silent.history.clear()
    panel = run_figure(result).axes[0]
    assert "buffered-30s: never reported" in labels(panel)
    assert not any(line.get_label().startswith("buffered-30s (") for line in panel.get_lines())


def test_a_run_without_history_cannot_be_drawn():
    with pytest.raises(ValueError, match="keep_history=True"):
        run_figure(run(scenario("seed_tutorial")))


def test_the_picture_is_rendered_to_the_file(lagged, tmp_path):
    from matplotlib.image import imread

    plot_run(lagged, tmp_path / "run.png")
    pixels = imread(tmp_path / "run.png")
    rows = len(slowest_cells(lagged)) + 1
    assert pixels.shape[:2] == (round(3.8 * rows * 120), 10 * 120)
    assert pixels[..., :3].std() > 0.05  # drawn on, not a blank page


# -- the command line -------------------------------------------------------------------------------------
def kinsim(*args):
    return subprocess.run([sys.executable, "-m", "kinsim", "run", *args], capture_output=True, timeout=120, cwd=ROOT)


def test_the_report_is_the_same_with_a_picture_asked_for(tmp_path):
    picture = tmp_path / "run.png"
    drawn = kinsim("scenarios/lagged_producers.yaml", "--format", "json", "--plot", str(picture))
    plain = kinsim("scenarios/lagged_producers.yaml", "--format", "json")
    assert drawn.returncode == plain.returncode == 0 and drawn.stderr == b""
    assert drawn.stdout == plain.stdout
    assert picture.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("name, message", [
    ("run.txt", "--plot {path}: a picture's file ends in .png, .svg or .pdf"),
    ("missing/run.png", "cannot write {path}: No such file or directory"),
])
def test_a_picture_that_cannot_be_written_is_refused_before_the_run(tmp_path, name, message):
    path = str(tmp_path / name)
    done = kinsim("scenarios/lagged_producers.yaml", "--plot", path)
    assert done.returncode == 2 and done.stdout == b""
    assert done.stderr.decode() == f"kinsim: error: {message.format(path=path)}\n"


def test_without_matplotlib_a_picture_is_one_message_and_exit_status_2(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib now fails, as if not installed
    status = cli.main(["run", str(ROOT / "scenarios/seed_tutorial.yaml"), "--plot", str(tmp_path / "run.png")])
    out, err = capsys.readouterr()
    assert status == 2 and out == ""  # refused before the run: no report either
    assert err == "kinsim: error: pictures need matplotlib: pip install 'kinsim[plot]'\n"
    assert not (tmp_path / "run.png").exists()

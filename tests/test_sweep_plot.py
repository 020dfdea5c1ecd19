"""The frontier picture of a sweep, rendered for real and read back: panels, titles, axes, lines, their
data and labels, the legend."""

from __future__ import annotations

from pathlib import Path

import matplotlib.image
import pytest

from kinsim.cli import main
from kinsim.plots import save_figure
from kinsim.plots.frontier import PANELS, frontier_figure, frontier_lines
from kinsim.sweep.grid import build_grid, check_points
from kinsim.sweep.sweeping import run_sweep

ROOT = Path(__file__).resolve().parent.parent
LAGGED = str(ROOT / "scenarios" / "lagged_producers.yaml")


@pytest.fixture(scope="module")
def document():
    grid, base = build_grid(LAGGED, ["counters[buffered-90s].grace=0s..120s/40s"])
    check_points(grid, None)
    return run_sweep(grid, base.name, [1, 2, 3], progress=False)


def means(document, counter_name, metric):
    return [next(c for c in p["counters"] if c["name"] == counter_name)["metrics"][metric]["mean"]
            for p in document["points"]]


def test_four_panels_exactness_against_latency_with_titles_and_units(document):
    figure = frontier_figure(document)
    panels = figure.get_axes()
    assert len(panels) == 4
    title = figure.get_suptitle()
    assert "lagged_producers" in title and "counters[buffered-90s].grace" in title and "3 seeds" in title
    for panel, (y_metric, x_metric) in zip(panels, PANELS):
        quantile = x_metric.rsplit(".", 1)[1]
        assert panel.get_title() == f"{y_metric} against convergence latency {quantile}"
        assert panel.get_xlabel() == f"convergence latency, {quantile} over cells (s after the window's end)"
        assert panel.get_ylabel().startswith(f"{y_metric}: share of cells")
        assert panel.get_ylim()[0] < 0 and panel.get_ylim()[1] > 1


def test_one_line_per_counter_through_the_means(document):
    figure = frontier_figure(document)
    counters = [c["name"] for c in document["points"][0]["counters"]]
    for panel, (y_metric, x_metric) in zip(figure.get_axes(), PANELS):
        lines = panel.get_lines()
        assert [line.get_label().split(" (")[0] for line in lines] == counters
        for line, name in zip(lines, counters):
            assert list(line.get_xdata()) == means(document, name, x_metric)
            assert list(line.get_ydata()) == means(document, name, y_metric)


def test_the_varied_counter_is_labelled_by_its_values_and_the_others_say_unchanged(document):
    figure = frontier_figure(document)
    grace_line = 1  # buffered-90s, the counter whose grace varies
    for panel, (y_metric, x_metric) in zip(figure.get_axes(), PANELS):
        labels = list(panel.texts)
        assert labels, "the moving line is labelled"
        colour = panel.get_lines()[grace_line].get_color()
        assert all(text.get_color() == colour for text in labels)  # only the moving line has labels
        places = list(zip(means(document, "buffered-90s", x_metric), means(document, "buffered-90s", y_metric)))
        values = document["vary"][0]["values"]
        # each label sits at a place of the line, and names the first and last value found there
        for text in labels:
            at = tuple(text.xy)
            here = [value for value, place in zip(values, places) if place == at]
            assert here and text.get_text() in (here[0], f"{here[0]}\u2013{here[-1]}")
        assert len(labels) == len(set(places))  # one label per place
    legend = [text.get_text() for text in figure.legends[0].get_texts()]
    assert legend == ["naive (naive), unchanged", "buffered-90s (buffered)", "buffered-30s (buffered), unchanged",
                      "sliding (buffered), unchanged"]


def test_points_with_no_latency_are_left_out():
    point = {"values": {"v": 1}, "counters": [{"name": "c", "kind": "k", "metrics": {
        "final_exact": {"mean": 0.5}, "convergence_latency_s.p50": {"mean": None}}}]}
    other = {"values": {"v": 2}, "counters": [{"name": "c", "kind": "k", "metrics": {
        "final_exact": {"mean": 0.9}, "convergence_latency_s.p50": {"mean": 12.5}}}]}
    document = {"scenario": "s", "seeds": [1], "vary": [{"path": "v", "values": [1, 2]}], "points": [point, other]}
    [line] = frontier_lines(document, "final_exact", "convergence_latency_s.p50")
    assert (line["x"], line["y"], line["labels"]) == ([12.5], [0.9], ["2"])


def test_saved_as_a_png_of_the_size_asked(document, tmp_path):
    save_figure(frontier_figure(document), tmp_path / "frontier.png")
    pixels = matplotlib.image.imread(tmp_path / "frontier.png")
    assert pixels.shape[:2] == (round(9.5 * 120), 13 * 120)
    assert pixels[..., :3].std() > 0.05  # something is drawn


def test_sweep_plot_at_the_command_line(tmp_path, capsys):
    target = tmp_path / "frontier.png"
    status = main(["sweep", LAGGED, "--vary", "counters[buffered-30s].grace=0s,60s", "--plot", str(target),
                   "--format", "json", "-j", "1"])
    assert status == 0 and capsys.readouterr().err == ""
    assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

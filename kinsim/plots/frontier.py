"""The accuracy-latency frontier of a sweep (``python -m kinsim sweep --plot FILE.png``).

Four panels: ``final_exact`` (top) and ``first_exact`` (bottom) against the convergence latency's p50
(left) and p95 (right), each value the mean over the sweep's seeds. One line per counter, through the
values of the first ``--vary`` in order, each point labelled by that value (points of a line at one
place by one label: ``0s–30s``); with more ``--vary``, one line per counter and combination of the other
values. A counter the sweep does not change stays at one place in every panel: its point is not labelled,
and the legend says "unchanged". A point whose latency is null (no cell converged in any seed) is left out.

Drawn from the sweep's document (``kinsim.sweep.aggregation``), not from its runs, so any saved JSON
document can be drawn again.
"""

from __future__ import annotations

from typing import Any

from ..sweep.values import value_text
from . import require_matplotlib

__all__ = ["frontier_figure", "frontier_lines", "PANELS"]

# (y metric, x metric) of each panel, row by row
PANELS = (("final_exact", "convergence_latency_s.p50"), ("final_exact", "convergence_latency_s.p95"),
          ("first_exact", "convergence_latency_s.p50"), ("first_exact", "convergence_latency_s.p95"))
_MARKERS = "osD^v<>ph*"
_Y_LABELS = {"final_exact": "final_exact: share of cells whose last count is exact",
             "first_exact": "first_exact: share of cells whose first count is exact"}


def _mean(counter: dict, metric: str) -> Any:
    return counter["metrics"].get(metric, {}).get("mean")


def frontier_lines(document: dict, y_metric: str, x_metric: str) -> list[dict]:
    """The lines of one panel: each ``label`` (the counter, its kind, the other varied values), ``x``,
    ``y`` and ``labels`` (the first varied value at each point), points with a null left out."""
    paths = [vary["path"] for vary in document["vary"]]
    lines: dict[tuple, dict] = {}
    for point in document["points"]:
        values = point["values"]
        others = ", ".join(f"{path}={value_text(values[path])}" for path in paths[1:])
        for counter in point["counters"]:
            key = (counter["name"], counter["kind"], others)
            line = lines.setdefault(key, {"label": f"{counter['name']} ({counter['kind']})"
                                                   + (f"; {others}" if others else ""),
                                          "x": [], "y": [], "labels": []})
            x, y = _mean(counter, x_metric), _mean(counter, y_metric)
            if x is not None and y is not None:
                line["x"].append(x)
                line["y"].append(y)
                line["labels"].append(value_text(values[paths[0]]) if paths else "")
    return list(lines.values())


def frontier_figure(document: dict) -> Any:
    """The frontier of the sweep ``document`` as a ``matplotlib.figure.Figure`` (not yet saved)."""
    require_matplotlib()
    from matplotlib.figure import Figure

    figure = Figure(figsize=(13, 9.5), layout="constrained")
    axes = figure.subplots(2, 2, sharey="row")
    seeds = document["seeds"]
    varied = ", ".join(vary["path"] for vary in document["vary"])
    figure.suptitle(f"{document['scenario']}: exactness against convergence latency, varying {varied}\n"
                    f"each point the mean over {len(seeds)} seed{'s' * (len(seeds) != 1)}, labelled by "
                    f"{document['vary'][0]['path'] if document['vary'] else 'its values'}", fontsize=12)
    handles = []
    moving: dict[str, bool] = {}  # per line: whether it leaves its first place in any panel
    for panel, (y_metric, x_metric) in zip(axes.flat, PANELS):
        quantile = x_metric.rsplit(".", 1)[-1]
        panel.set_title(f"{y_metric} against convergence latency {quantile}", fontsize=10)
        panel.set_xlabel(f"convergence latency, {quantile} over cells (s after the window's end)")
        panel.set_ylabel(_Y_LABELS[y_metric], fontsize=9)
        panel.set_ylim(-0.04, 1.1)
        panel.grid(True, alpha=0.3)
        lines = frontier_lines(document, y_metric, x_metric)
        for line in lines:
            moving[line["label"]] = moving.get(line["label"], False) or len(set(zip(line["x"], line["y"]))) > 1
        handles = [_draw(panel, i, line) for i, line in enumerate(lines)]
    for handle, line in zip(handles, lines):
        if not moving[line["label"]]:
            handle.set_label(handle.get_label() + ", unchanged")
    longest = max((len(handle.get_label()) for handle in handles), default=0)
    columns = 4 if longest <= 40 else 2 if longest <= 75 else 1
    figure.legend(handles=handles, loc="outside lower center", ncols=min(columns, max(1, len(handles))), fontsize=9,
                  title="counter (kind)", title_fontsize=9)
    return figure


def _draw(panel: Any, index: int, line: dict) -> Any:
    """One line with its markers, each place it passes through labelled by the values there."""
    (drawn,) = panel.plot(line["x"], line["y"], marker=_MARKERS[index % len(_MARKERS)], color=f"C{index % 10}",
                          label=line["label"], linewidth=1.4, markersize=5)
    if len(set(zip(line["x"], line["y"]))) <= 1:
        return drawn
    places: list[list] = []  # [x, y, first label, last label] per place, in the line's order
    x_span = max(line["x"]) - min(line["x"])
    for x, y, text in zip(line["x"], line["y"], line["labels"]):
        same = next((place for place in places if abs(x - place[0]) <= 1e-9 + x_span * 1e-3
                     and abs(y - place[1]) <= 1e-3), None)
        if same is None:
            places.append([x, y, text, text])
        else:
            same[3] = text
    for x, y, first, last in places:
        panel.annotate(first if first == last else f"{first}\u2013{last}", (x, y), xytext=(3, 5),
                       textcoords="offset points", fontsize=7, color=f"C{index % 10}")
    return drawn

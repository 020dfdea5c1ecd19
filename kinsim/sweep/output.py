"""The sweep's document written out: JSON (the document itself), CSV (one row per point and counter) or a
text table per counter (one row per point).

In CSV, each varied path is a column (its value as it would be written on the command line: ``1m45s``,
``[10s, 60s]``), then ``counter``, ``kind``, and per flat metric four columns: ``METRIC.mean``,
``METRIC.p5``, ``METRIC.p95`` and ``METRIC.n``; null is an empty cell. In text, a cell is the mean, with
``[p5, p95]`` after it where they differ, ``-`` where no seed has a value; metrics are split over as many
tables as it takes to keep each about ``TEXT_WIDTH`` characters wide.
"""

from __future__ import annotations

import csv
import json
from typing import Any, TextIO

from .values import value_text

__all__ = ["write_json", "write_csv", "write_text", "number_text", "TEXT_WIDTH"]

TEXT_WIDTH = 110


def write_json(document: dict, out: TextIO) -> None:
    out.write(json.dumps(document, indent=2, ensure_ascii=False) + "\n")


def _metric_names(document: dict) -> list[str]:
    for point in document["points"]:
        for counter in point["counters"]:
            return list(counter["metrics"])
    return []


def write_csv(document: dict, out: TextIO) -> None:
    paths = [vary["path"] for vary in document["vary"]]
    names = _metric_names(document)
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(paths + ["counter", "kind"] + [f"{name}.{stat}" for name in names
                                                    for stat in ("mean", "p5", "p95", "n")])
    for point in document["points"]:
        values = [value_text(point["values"][path]) for path in paths]
        for counter in point["counters"]:
            cells = []
            for name in names:
                spread = counter["metrics"].get(name, {})
                cells += ["" if spread.get(stat) is None else _csv_number(spread[stat])
                          for stat in ("mean", "p5", "p95", "n")]
            writer.writerow(values + [counter["name"], counter["kind"]] + cells)


def _csv_number(value: Any) -> str:
    return repr(value) if isinstance(value, float) else str(value)


def number_text(value: Any) -> str:
    """A number for the eye: whole numbers as they are, others to 3 decimals (1 from 10, 0 from 1,000),
    trailing zeros dropped."""
    if value is None:
        return "-"
    if isinstance(value, int) or float(value).is_integer():
        return str(int(value))
    places = 3 if abs(value) < 10 else 1 if abs(value) < 1000 else 0
    return f"{value:.{places}f}".rstrip("0").rstrip(".")


def _cell(spread: dict) -> str:
    if spread.get("n", 0) == 0:
        return "-"
    mean = number_text(spread["mean"])
    if spread["p5"] == spread["p95"]:
        return mean
    return f"{mean} [{number_text(spread['p5'])}, {number_text(spread['p95'])}]"


def _table(header: list[str], rows: list[list[str]], out: TextIO) -> None:
    widths = [max(len(row[i]) for row in [header] + rows) for i in range(len(header))]
    for row in [header] + rows:
        out.write("  " + "  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() + "\n")


def _seeds_text(seeds: list[int]) -> str:
    if len(seeds) > 2 and seeds == list(range(seeds[0], seeds[0] + len(seeds))):
        return f"{seeds[0]}..{seeds[-1]}"
    return ", ".join(str(seed) for seed in seeds)


def write_text(document: dict, out: TextIO) -> None:
    """A table per counter: a row per point (its varied values), a column per metric."""
    paths = [vary["path"] for vary in document["vary"]]
    seeds = document["seeds"]
    points = document["points"]
    out.write(f"sweep of {document['scenario']}: {len(points):,} point{'s' * (len(points) != 1)} x "
              f"{len(seeds):,} seed{'s' * (len(seeds) != 1)} ({_seeds_text(seeds)}) = "
              f"{len(points) * len(seeds):,} runs\n")
    for vary in document["vary"]:
        out.write(f"  {vary['path']}: {', '.join(value_text(value) for value in vary['values'])}\n")
    out.write("each cell: the mean over seeds, [p5, p95] where they differ; - where no seed has a value\n")
    order: list[tuple[str, str]] = []  # (name, kind) of each counter, as the points first have them
    for point in points:
        order += [(c["name"], c["kind"]) for c in point["counters"] if (c["name"], c["kind"]) not in order]
    names = _metric_names(document)
    for name, kind in order:
        out.write(f"\n{name} ({kind})\n")
        rows = []
        for point in points:
            found = next((c for c in point["counters"] if c["name"] == name), None)
            if found is not None:
                rows.append(([value_text(point["values"][path]) for path in paths],
                             {metric: _cell(found["metrics"][metric]) for metric in names}))
        shown = [metric for metric in names if any(cells[metric] != "-" for _, cells in rows)]
        _metric_tables(paths, shown, rows, out)


def _metric_tables(paths: list[str], metrics: list[str], rows: list, out: TextIO) -> None:
    """The rows' metrics over as few tables as keep each about ``TEXT_WIDTH`` wide (the columns shared
    out evenly between them), the varied values first in each. Rows all alike are one, for every point."""
    if len(rows) > 1 and all(cells == rows[0][1] for _, cells in rows):
        rows = [(["(every point)"] + [""] * (len(paths) - 1), rows[0][1])]
    lead = max([len(path) for path in paths] + [len(" ".join(values)) for values, _ in rows]) + 2
    widths = [max([len(metric)] + [len(cells[metric]) for _, cells in rows]) + 2 for metric in metrics]
    tables = max(1, -(-sum(widths) // max(1, TEXT_WIDTH - lead)))
    share = sum(widths) / tables
    groups: list[list[str]] = [[]]
    width = 0
    for metric, wide in zip(metrics, widths):
        if groups[-1] and (width + wide / 2 > share * len(groups) or lead + width + wide > TEXT_WIDTH * len(groups)):
            groups.append([])
        groups[-1].append(metric)
        width += wide
    for i, group in enumerate(groups):
        if i:
            out.write("\n")
        _table(paths + group, [values + [cells[metric] for metric in group] for values, cells in rows], out)

"""From runs to the sweep's document: per point and counter, each metric's mean and spread over seeds.

A run gives, per counter, the ``metrics`` of its JSON report (``kinsim.metrics.counter_metrics``). A
nested metric is flattened to one name per member: ``convergence_latency_s.p50``. A nested metric that is
null in a run (``late_by_s`` when no record was late, ``convergence_latency_s`` when no cell converged)
is null in each of its members there. Over a point's seeds, each flat metric gets ``mean`` (rounded to 6
decimals), ``p5`` and ``p95`` (nearest rank, as ``kinsim.metrics.nearest_rank``) over the seeds where it
has a number, and ``n``: how many seeds that is. Null (and anything but a number) is left out, not taken
as 0; where no seed has a number, all three are null and ``n`` is 0.

The document (``sweep_document``), as ``--format json`` writes it::

    {"kinsim": version, "scenario": name, "seeds": [...], "vary": [{"path": ..., "values": [...]}],
     "points": [{"values": {path: value},
                 "counters": [{"name": ..., "kind": ..., "metrics": {flat: {"mean", "p5", "p95", "n"}}}]}]}

Everything is computed in the order of points, counters and seeds, never of completion, so the document is
the same whatever ran the points.
"""

from __future__ import annotations

from typing import Any, Optional, Sequence

from .. import __version__
from ..metrics import nearest_rank
from .grid import Grid

__all__ = ["CounterRun", "flat_names", "spread", "sweep_document"]

CounterRun = tuple[str, str, dict]  # a counter's (name, kind, metrics) in one run


def flat_names(runs: Sequence[Sequence[CounterRun]]) -> list[str]:
    """The flat metric names of all these runs, in the order the metrics first come: a metric that is a
    mapping in any run is its members (``late_by_s.p50``), else itself."""
    members: dict[str, list[str]] = {}
    for run in runs:
        for _, _, metrics in run:
            for name, value in metrics.items():
                known = members.setdefault(name, [])
                if isinstance(value, dict):
                    known.extend(member for member in value if member not in known)
    return [flat for name, known in members.items()
            for flat in ([f"{name}.{member}" for member in known] if known else [name])]


def _flat_value(metrics: dict, flat: str) -> Any:
    if flat in metrics:
        return metrics[flat]
    name, _, member = flat.rpartition(".")
    value = metrics.get(name)
    return value.get(member) if isinstance(value, dict) else None


def spread(values: Sequence[Any]) -> dict[str, Any]:
    """``mean``, ``p5``, ``p95`` and ``n`` over the numbers among ``values`` (null and the rest left out)."""
    numbers = [value for value in values if isinstance(value, (int, float)) and not isinstance(value, bool)]
    if not numbers:
        return {"mean": None, "p5": None, "p95": None, "n": 0}
    ordered = sorted(numbers)
    return {"mean": round(sum(numbers) / len(numbers), 6), "p5": nearest_rank(ordered, 0.05),
            "p95": nearest_rank(ordered, 0.95), "n": len(numbers)}


def _point_counters(runs: Sequence[Sequence[CounterRun]], names: list[str]) -> list[dict]:
    """The counters of one point's runs (one per seed, in seed order)."""
    counters = []
    for i, (name, kind, _) in enumerate(runs[0]):
        by_seed = [run[i][2] for run in runs]
        counters.append({"name": name, "kind": kind,
                         "metrics": {flat: spread([_flat_value(metrics, flat) for metrics in by_seed])
                                     for flat in names}})
    return counters


def sweep_document(grid: Grid, scenario_name: str, seeds: Sequence[int],
                   runs: Sequence[Sequence[CounterRun]], names: Optional[list[str]] = None) -> dict:
    """The sweep's document from ``runs``: point by point, seed by seed, as ``running`` orders them."""
    names = flat_names(runs) if names is None else names
    points = []
    for point in range(grid.size):
        mine = runs[point * len(seeds):(point + 1) * len(seeds)]
        values = grid.values_at(point)
        points.append({"values": {vary.path.text: value for vary, value in zip(grid.varies, values)},
                       "counters": _point_counters(mine, names)})
    return {
        "kinsim": __version__,
        "scenario": scenario_name,
        "seeds": list(seeds),
        "vary": [{"path": vary.path.text, "values": list(vary.values)} for vary in grid.varies],
        "points": points,
    }

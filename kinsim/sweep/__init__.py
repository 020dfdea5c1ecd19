"""Sweeps (DESIGN §15): a scenario run over a grid of values of its fields and over seeds, each counter's
metrics summed up per point as mean and spread over the seeds.

    >>> from kinsim.sweep import build_grid, check_points, run_sweep
    >>> grid, scenario = build_grid("scenarios/lagged_producers.yaml", ["counters[buffered-90s].grace=0s..180s/15s"])
    >>> check_points(grid, budget=None)
    >>> document = run_sweep(grid, scenario.name, seeds=range(1, 21), jobs=2)

The modules, in the order a sweep goes through them: ``paths`` (key paths into the scenario document),
``values`` (lists, ranges and seeds), ``grid`` (the points, each parsed by the scenario loader),
``running`` and ``on_dask`` (the runs, here, in worker processes or on a Dask cluster), ``aggregation``
(mean, p5 and p95 over seeds), ``sweeping`` (all of that in one call), ``output`` (text, CSV, JSON) and
``command`` (``python -m kinsim sweep``). The frontier picture is ``kinsim.plots.frontier``.

The names below are imported when first used, so that the command line, which registers the command,
does not import the runner to print its help.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["SweepError", "RunFailed", "build_grid", "check_points", "parse_seeds", "run_sweep", "sweep_document"]

_HOMES = {"SweepError": "errors", "RunFailed": "errors", "build_grid": "grid", "check_points": "grid",
          "parse_seeds": "values", "run_sweep": "sweeping", "sweep_document": "aggregation"}


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_HOMES[name]}"), name)

"""A sweep from its grid to its document: the runs made here, in local worker processes or on a Dask
cluster, a progress bar counting them (on a terminal's standard error only), the results put back in
the order of points and seeds, and aggregated."""

from __future__ import annotations

from typing import Optional, Sequence

from ..progress import progress_bar
from .aggregation import sweep_document
from .grid import Grid
from .running import chunks_of, run_in_pool, run_in_process

__all__ = ["run_sweep"]


def run_sweep(grid: Grid, scenario_name: str, seeds: Sequence[int], *, jobs: int = 1,
              executor: Optional[str] = None, progress: Optional[bool] = None) -> dict:
    """The sweep's document (``aggregation``): every point of ``grid`` run once per seed, on ``jobs``
    local processes (1: in this one) or on the Dask scheduler ``executor`` (``dask://HOST:PORT``).
    ``progress``: draw a bar (None: on a terminal only). The grid's points must have been checked."""
    client = finished = None
    try:
        if executor is not None:
            from .on_dask import connect, run_on_dask, workers_of

            client = connect(executor)
            chunks = chunks_of(grid.size, seeds, workers_of(client, executor))
            finished = run_on_dask(client, grid, chunks)
        else:
            workers = max(1, min(jobs, grid.size * len(seeds)))
            chunks = chunks_of(grid.size, seeds, workers)
            # a pool's workers start now, before the bar (and its thread)
            finished = run_in_pool(grid, chunks, workers) if workers > 1 else run_in_process(grid, chunks)
        done: list = [None] * len(chunks)
        with progress_bar(grid.size * len(seeds), unit="run", description=f"sweep {scenario_name}",
                          enabled=progress) as bar:
            for index, runs in finished:
                done[index] = runs
                bar.advance(len(runs))
    finally:
        getattr(finished, "close", lambda: None)()  # a pool's workers stopped, a generator closed
        if client is not None:
            client.close()
    return sweep_document(grid, scenario_name, seeds, [run for runs in done for run in runs])

"""Running a grid's points over seeds: in this process, in local worker processes, or on a Dask cluster
(``on_dask``), the runs coming back in chunks, each chunk's place known, so the results are put in the
order of points and seeds whatever finished first.

A run is a (point, seed) pair. The runs are cut into chunks of consecutive runs (a chunk mostly holds
seeds of one point, so a worker parses a point once and keeps its last one). Each local worker is given
the grid once, when it starts (``ProcessPoolExecutor``'s initializer; a forked worker has it already),
and then only chunks: a pair of numbers per run goes out, and per run the counters' metrics come back.
The grid is the YAML document, not parsed scenarios: lagged_producers' pickles to 1.1 KB (70 us there and
back), one of 10,000 producers to 480 KB (41 ms there and back, per chunk if it went with each), which
a worker parses in 130 ms per point and runs in 1.6 s.
"""

from __future__ import annotations

import math
import multiprocessing
import os
import sys
import threading
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Iterator, Optional, Sequence

from ..errors import KinsimError
from ..report.base import counter_kind
from ..runner import run
from ..scenario import Scenario
from .aggregation import CounterRun
from .errors import RunFailed, SweepError
from .grid import Grid
from .values import value_text

__all__ = ["Chunk", "chunks_of", "run_chunk", "default_jobs", "run_in_process", "run_in_pool", "start_method",
           "Pooled"]

Chunk = tuple[tuple[int, int], ...]  # (point, seed) pairs
CHUNKS_PER_WORKER = 8                # small enough for an even finish and a moving bar, few enough to cost nothing


def default_jobs() -> int:
    """The cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def chunks_of(points: int, seeds: Sequence[int], workers: int) -> list[Chunk]:
    """Every (point, seed) run, point by point, cut into about ``CHUNKS_PER_WORKER`` chunks per worker."""
    runs = [(point, seed) for point in range(points) for seed in seeds]
    size = max(1, math.ceil(len(runs) / (max(1, workers) * CHUNKS_PER_WORKER)))
    return [tuple(runs[at:at + size]) for at in range(0, len(runs), size)]


_last: tuple = (None, -1, None)  # in each process: (grid, point, scenario) of the last point parsed


def _scenario(grid: Grid, point: int) -> Scenario:
    global _last
    cached_grid, cached_point, scenario = _last
    if cached_grid is not grid or cached_point != point:
        scenario = grid.scenario_at(point)  # checked before the sweep started: the loader takes it
        _last = (grid, point, scenario)
    return scenario


def run_chunk(grid: Grid, chunk: Chunk) -> list[list[CounterRun]]:
    """Each run of ``chunk``: per counter, (name, kind, metrics)."""
    done = []
    for point, seed in chunk:
        try:
            result = run(_scenario(grid, point), seed=seed, budget=None)  # every point's budget was checked
        except KinsimError as exc:
            values = ", ".join(f"{vary.path.text}={value_text(value)}"
                               for vary, value in zip(grid.varies, grid.values_at(point)))
            raise RunFailed(f"the run at {values or 'the scenario'} with seed {seed} failed: {exc}") from None
        done.append([(part.spec.name, counter_kind(part), part.metrics) for part in result.counters])
    return done


def run_in_process(grid: Grid, chunks: Sequence[Chunk]) -> Iterator[tuple[int, list]]:
    """Each chunk's index and runs, one after the other, here (the last point parsed let go after)."""
    global _last
    try:
        for index, chunk in enumerate(chunks):
            yield index, run_chunk(grid, chunk)
    finally:
        _last = (None, -1, None)


_installed: Optional[Grid] = None  # a local worker's grid, given once when it starts


def _install(grid: Grid) -> None:
    global _installed
    _installed = grid


def _run_installed(chunk: Chunk) -> list[list[CounterRun]]:
    return run_chunk(_installed, chunk)


def start_method() -> str:
    """How worker processes start: forked, on Linux from a process of one thread (they start at once,
    with kinsim imported and the grid in memory; a fork beside other threads can deadlock, so never
    then); else from a fork server, a fresh interpreter that imports kinsim once and forks each worker
    (about 0.3 s more), or spawned where there is none."""
    methods = multiprocessing.get_all_start_methods()
    if sys.platform.startswith("linux") and threading.active_count() == 1 and "fork" in methods:
        return "fork"
    return "forkserver" if "forkserver" in methods else "spawn"


def run_in_pool(grid: Grid, chunks: Sequence[Chunk], jobs: int) -> "Pooled":
    """Each chunk's index and runs, as ``jobs`` worker processes finish them. The workers are started
    and given every chunk before this returns (so before a progress bar's thread exists)."""
    method = start_method()
    context = multiprocessing.get_context(method)
    if method == "forkserver":
        context.set_forkserver_preload(["kinsim.sweep.running"])
    try:
        pool = ProcessPoolExecutor(max_workers=jobs, mp_context=context, initializer=_install, initargs=(grid,))
        futures = {pool.submit(_run_installed, chunk): index for index, chunk in enumerate(chunks)}
    except OSError as exc:
        raise SweepError(f"--jobs {jobs}", f"cannot start worker processes: {exc.strerror or exc}") from None
    return Pooled(pool, futures)


class Pooled:
    """The chunks given to a pool of workers: each chunk's index and runs as they finish (iterate once),
    then ``close()``, which also stops the workers when the sweep stops early."""

    def __init__(self, pool: ProcessPoolExecutor, futures: dict) -> None:
        self.pool, self.futures = pool, futures

    def __iter__(self) -> Iterator[tuple[int, list]]:
        for future in as_completed(self.futures):
            yield self.futures[future], future.result()

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)

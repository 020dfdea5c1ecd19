"""Running a sweep's chunks on an existing Dask cluster (``--executor dask://HOST:PORT``), through
``dask.distributed.Client``: the grid is scattered to every worker once, then each chunk is a task.

The scheduler and the workers need kinsim (and whatever the scenario imports) installed as here, and the
scenario's own directory at the same path if it imports counter classes from there; a cluster without
them, or without workers, is said in one line. Dask is the optional extra
``kinsim[dask]``; without it, a ``MissingExtraError`` says how to install it.
"""

from __future__ import annotations

import re
from contextlib import contextmanager
from typing import Any, Iterator, Sequence

from .. import __version__
from ..errors import KinsimError, MissingExtraError
from .errors import RunFailed, SweepError
from .grid import Grid
from .running import Chunk, run_chunk

__all__ = ["scheduler_address", "require_dask", "connect", "workers_of", "run_on_dask", "CONNECT_TIMEOUT_S"]

CONNECT_TIMEOUT_S = 10
_ADDRESS = re.compile(r"dask://(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})")


def scheduler_address(executor: str) -> str:
    """``dask://HOST:PORT`` as the scheduler's address ``tcp://HOST:PORT``, or a ``SweepError``."""
    match = _ADDRESS.fullmatch(executor.strip())
    if match is None or not 0 < int(match.group(2)) <= 65535:
        raise SweepError(f"--executor {executor}", "expected dask://HOST:PORT, the address of a running Dask "
                                                   "scheduler, like dask://127.0.0.1:8786")
    return f"tcp://{match.group(1)}:{int(match.group(2))}"


def require_dask() -> Any:
    """``dask.distributed.Client``; ``MissingExtraError`` if dask is not installed."""
    try:
        from dask.distributed import Client
    except ImportError:
        raise MissingExtraError("--executor dask:// needs dask.distributed: pip install 'kinsim[dask]'") from None
    return Client


def connect(executor: str, timeout_s: float = CONNECT_TIMEOUT_S) -> Any:
    """A ``Client`` of the scheduler at ``executor`` (``dask://HOST:PORT``), or a ``SweepError`` saying why
    not within ``timeout_s``."""
    address = scheduler_address(executor)
    client_class = require_dask()
    try:
        return client_class(address, timeout=timeout_s, set_as_default=False)
    except (OSError, TimeoutError) as exc:
        raise SweepError(f"--executor {executor}", f"cannot reach the Dask scheduler at {address} within "
                                                   f"{timeout_s:g} s: {exc}") from None


def workers_of(client: Any, executor: str) -> int:
    """The threads the cluster's workers run tasks on; a ``SweepError`` if it has no worker."""
    workers = client.scheduler_info().get("workers", {})
    if not workers:
        raise SweepError(f"--executor {executor}", "the Dask scheduler has no workers: start some, e.g. "
                                                   "dask worker tcp://HOST:PORT --nworkers 2 --nthreads 1")
    return max(1, sum(worker.get("nthreads", 1) for worker in workers.values()))


@contextmanager
def _cluster_failures() -> Iterator[None]:
    """A failure of the cluster's own (a scheduler or worker without kinsim, a worker lost) as a
    ``RunFailed`` that says so; a run's own failure as it is."""
    try:
        yield
    except KinsimError:
        raise
    except Exception as exc:
        first = (str(exc).strip().splitlines() or [""])[0]
        raise RunFailed(f"the Dask cluster could not run the sweep ({type(exc).__name__}: {first}); its "
                        f"scheduler and workers need kinsim {__version__} installed, as here") from exc


def run_on_dask(client: Any, grid: Grid, chunks: Sequence[Chunk]) -> Iterator[tuple[int, list]]:
    """Each chunk's index and runs, as the cluster finishes them."""
    from dask.distributed import as_completed

    with _cluster_failures():
        shared = client.scatter(grid, broadcast=True)
        futures = [client.submit(run_chunk, shared, chunk, pure=False) for chunk in chunks]
    index = {future.key: i for i, future in enumerate(futures)}
    try:
        for future in as_completed(futures, loop=client.loop):  # this client's, not a default one
            with _cluster_failures():
                runs = future.result()
            yield index[future.key], runs
    finally:
        client.cancel(futures)

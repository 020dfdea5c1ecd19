"""A sweep on a Dask cluster (a ``LocalCluster`` of two worker processes on 127.0.0.1): the same bytes as
here, and a clear error when no scheduler answers."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest

import kinsim

from kinsim.sweep.errors import SweepError
from kinsim.sweep.grid import build_grid, check_points
from kinsim.sweep.on_dask import connect
from kinsim.sweep.output import write_json
from kinsim.sweep.sweeping import run_sweep

ROOT = Path(__file__).resolve().parent.parent
LAGGED = str(ROOT / "scenarios" / "lagged_producers.yaml")
VARIES = ["counters[buffered-90s].grace=0s..90s/45s", "producers[slow].interval=5s,10s"]


@pytest.fixture(scope="module")
def cluster():
    from distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address="127.0.0.1:0", silence_logs=40) as local:
        yield local


def json_text(document) -> str:
    out = io.StringIO()
    write_json(document, out)
    return out.getvalue()


def test_the_same_bytes_on_a_dask_cluster_as_in_this_process(cluster):
    grid, base = build_grid(LAGGED, VARIES)
    check_points(grid, None)
    here = json_text(run_sweep(grid, base.name, [1, 2, 3], jobs=1, progress=False))
    address = cluster.scheduler_address.replace("tcp://", "dask://")
    there = json_text(run_sweep(grid, base.name, [1, 2, 3], executor=address, progress=False))
    assert there == here
    assert len(cluster.scheduler_info["workers"]) == 2


def test_the_command_line_on_a_dask_cluster(cluster, tmp_path):
    args = [sys.executable, "-m", "kinsim", "sweep", LAGGED, "--seeds", "1,2", "--format", "json"]
    for vary in VARIES:
        args += ["--vary", vary]
    local = subprocess.run(args + ["--jobs", "1"], capture_output=True, text=True, timeout=120, cwd=ROOT)
    remote = subprocess.run(args + ["--executor", cluster.scheduler_address.replace("tcp://", "dask://")],
                            capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert local.returncode == remote.returncode == 0, remote.stderr
    assert remote.stdout == local.stdout
    assert remote.stderr == ""


def test_a_scheduler_that_does_not_answer_is_one_clear_error():
    with pytest.raises(SweepError) as caught:
        connect("dask://127.0.0.1:9", timeout_s=1)
    assert str(caught.value).startswith("--executor dask://127.0.0.1:9: cannot reach the Dask scheduler at "
                                        "tcp://127.0.0.1:9 within 1 s")


def test_a_cluster_without_workers_is_said_before_anything_is_sent():
    from distributed import LocalCluster

    grid, base = build_grid(LAGGED, VARIES)
    with LocalCluster(n_workers=0, processes=True, host="127.0.0.1", dashboard_address="127.0.0.1:0",
                      silence_logs=40) as empty:
        address = empty.scheduler_address.replace("tcp://", "dask://")
        with pytest.raises(SweepError) as caught:
            run_sweep(grid, base.name, [1], executor=address, progress=False)
    assert str(caught.value) == (f"--executor {address}: the Dask scheduler has no workers: start some, e.g. "
                                 "dask worker tcp://HOST:PORT --nworkers 2 --nthreads 1")


def test_a_failure_of_the_cluster_itself_is_a_run_failure_saying_what_it_needs():
    from kinsim.sweep.on_dask import _cluster_failures
    from kinsim.sweep.errors import RunFailed

    with pytest.raises(RunFailed) as caught:
        with _cluster_failures():
            raise RuntimeError("Error during deserialization of the task graph.\nmore lines")
    assert str(caught.value) == ("the Dask cluster could not run the sweep (RuntimeError: Error during "
                                 "deserialization of the task graph.); its scheduler and workers need kinsim "
                                 f"{kinsim.__version__} installed, as here")

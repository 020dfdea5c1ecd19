"""The sweep's errors.

    KinsimError
    ├── SweepError    an option (--vary, --seeds, --executor...) that cannot work, or a point of the grid
    │                 the scenario loader refuses: names the option as given (exit status 2)
    └── RunFailed     a run of the sweep failed, or the cluster running it did (exit status 1)
"""

from __future__ import annotations

from ..errors import KinsimError, one_line

__all__ = ["SweepError", "RunFailed"]


class SweepError(KinsimError):
    """``option`` (as the user wrote it, e.g. ``--vary counters[fast].grace=0s..90s/15s``) and ``problem``."""

    def __init__(self, option: str, problem: str) -> None:
        self.option = option
        self.problem = problem
        super().__init__(f"{one_line(option, 200)}: {one_line(problem, 400)}")


class RunFailed(KinsimError):
    """A run of the sweep failed (a fault the stream refused, a stalled run...), naming the point and seed;
    or the Dask cluster could not run it. Made of one text, so it crosses back from a worker process as it
    is."""

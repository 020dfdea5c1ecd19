"""The sweep's one error: an option (``--vary``, ``--seeds``, ``--executor``...) that cannot work, or a
point of the grid that the scenario loader refuses. The message names the option as given, then what is
wrong; the command line prints it in one line with exit status 2."""

from __future__ import annotations

from ..errors import KinsimError, one_line

__all__ = ["SweepError"]


class SweepError(KinsimError):
    """``option`` (as the user wrote it, e.g. ``--vary counters[fast].grace=0s..90s/15s``) and ``problem``."""

    def __init__(self, option: str, problem: str) -> None:
        self.option = option
        self.problem = problem
        super().__init__(f"{one_line(option, 200)}: {one_line(problem, 400)}")

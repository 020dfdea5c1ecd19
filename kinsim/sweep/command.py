"""``python -m kinsim sweep``: its options, and the command from options to output.

    sweep SCENARIO --vary PATH=VALUES [--vary ...] [--seeds A..B] [--jobs N | --executor dask://HOST:PORT]
          [--format text|csv|json] [--output FILE] [--plot FILE.png] [--max-events N] [--max-memory SIZE]

Every option is read, and every point of the grid parsed and estimated, before anything runs: a bad
option or value is one ``SweepError`` naming it (exit status 2 at the command line). A picture or Dask
asked for without its extra installed is refused before the runs too, not after them.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Optional

from ..estimate import Budget

__all__ = ["add_arguments", "sweep_command"]


def _jobs(value: str) -> int:
    try:
        jobs = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {value!r}") from None
    if jobs < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value!r}")
    return jobs


def add_arguments(command: argparse.ArgumentParser) -> None:
    """The sweep's own options (the budget options are the command line's, shared with ``run``)."""
    command.add_argument("scenario", help="a scenario file (YAML)")
    command.add_argument("--vary", action="append", required=True, metavar="PATH=VALUES",
                         help="a field by key path (counters[buffered-90s].grace, producers[slow].lag.uniform, "
                              "consumer.poll_interval) and its values: a list (30s,60s,90s; [[10s,60s],[20s,90s]] "
                              "for lists) or a range with a step, both ends included (0s..180s/15s, 1..10/1); "
                              "several --vary make a grid")
    command.add_argument("--seeds", metavar="SEEDS",
                         help="run each point once per seed: A..B (both included) or a list like 1,2,5 "
                              "(default: the scenario's seed)")
    where = command.add_mutually_exclusive_group()
    where.add_argument("--jobs", "-j", type=_jobs, metavar="N",
                       help="worker processes on this machine (default: the cores; 1 runs in this process)")
    where.add_argument("--executor", metavar="dask://HOST:PORT",
                       help="run on an existing Dask cluster, by its scheduler's address (needs kinsim[dask])")
    command.add_argument("--format", choices=("text", "csv", "json"), default="text",
                         help="text: a table per counter (default); csv: a row per point and counter; json")
    command.add_argument("--output", "-o", metavar="FILE", help="write to this file instead of standard output")
    command.add_argument("--plot", metavar="FILE.png",
                         help="draw the accuracy-latency frontier into this picture (needs kinsim[plot])")


PICTURE_SUFFIXES = (".png", ".svg", ".pdf")


def _check_writable(option: str, path: str) -> None:
    """A file that can be written once the sweep is done: in a directory that is there; a picture with a
    suffix that says its format. Checked first, so that a slip of the hand costs no sweep."""
    from .errors import SweepError

    target = Path(path)
    if target.is_dir():
        raise SweepError(f"{option} {path}", "is a directory: give a file")
    if not target.parent.is_dir():
        raise SweepError(f"{option} {path}", f"cannot write it: there is no directory {str(target.parent)!r}")
    if option == "--plot" and target.suffix.lower() not in PICTURE_SUFFIXES:
        raise SweepError(f"{option} {path}", f"a picture is written as {', '.join(PICTURE_SUFFIXES)}, by its "
                                             "suffix")


def sweep_command(args: argparse.Namespace, budget: Optional[Budget]) -> int:
    """Run the sweep ``args`` describe and write its output; the exit status (errors are raised)."""
    from .errors import SweepError
    from .grid import build_grid, check_points
    from .output import write_csv, write_json, write_text
    from .sweeping import run_sweep
    from .values import parse_seeds

    for option, path in (("--output", args.output), ("--plot", args.plot)):
        if path:
            _check_writable(option, path)
    if args.plot:
        from ..plots import require_matplotlib

        require_matplotlib()
    if args.executor:
        from .on_dask import require_dask, scheduler_address

        scheduler_address(args.executor)
        require_dask()
    grid, base = build_grid(args.scenario, args.vary)
    seeds = parse_seeds(args.seeds) if args.seeds is not None else [base.seed]
    check_points(grid, budget)
    from .running import default_jobs

    document = run_sweep(grid, base.name, seeds, jobs=args.jobs or default_jobs(), executor=args.executor)
    write = {"json": write_json, "csv": write_csv, "text": write_text}[args.format]
    if args.output:
        try:
            with open(args.output, "w", encoding="utf-8", newline="") as out:
                write(document, out)
        except OSError as exc:
            raise SweepError(f"--output {args.output}", f"cannot write it: {exc.strerror or exc}") from None
    else:
        write(document, sys.stdout)
        sys.stdout.flush()
    if args.plot:
        from ..plots import save_figure
        from ..plots.frontier import frontier_figure

        try:
            save_figure(frontier_figure(document), args.plot)
        except (OSError, ValueError) as exc:
            raise SweepError(f"--plot {args.plot}", f"cannot write it: {getattr(exc, 'strerror', None) or exc}") \
                from None
    return 0

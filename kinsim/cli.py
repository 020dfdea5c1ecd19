"""The command line: ``python -m kinsim COMMAND``.

    run SCENARIO [--seed N] [--format text|json] [--output FILE] [--echo]
    validate SCENARIO...

Exit status: 0 on success, 2 for bad input (a bad scenario file, a bad option) with one message and
no traceback, 1 when a run fails for another reason.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Optional, Sequence

from . import __version__
from .errors import KinsimError, ScenarioError

__all__ = ["main", "build_parser"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m kinsim",
        description="Simulate and test Kinesis stream processing on one machine.",
    )
    parser.add_argument("--version", action="version", version=f"kinsim {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    run = commands.add_parser("run", help="run a scenario and report each counter against exact truth",
                              description="Run a scenario on simulated shards and report each counter "
                                          "against exact ground truth.")
    run.add_argument("scenario", help="a scenario file (YAML)")
    run.add_argument("--seed", type=int, help="override the scenario's seed")
    run.add_argument("--format", choices=("text", "json"), default="text", help="report format (default: text)")
    run.add_argument("--output", "-o", help="write the report to this file instead of standard output")
    run.add_argument("--echo", action="store_true",
                     help="print each record as the consumer reads it, as the tutorial's EchoConsumer does")

    validate = commands.add_parser("validate", help="check scenario files without running them")
    validate.add_argument("scenarios", nargs="+", help="scenario files (YAML)")
    return parser


def _error(message: str) -> int:
    print(f"kinsim: error: {message}", file=sys.stderr)
    return 2


def _run(args: argparse.Namespace) -> int:
    from .report import to_json, to_text
    from .runner import run
    from .scenario import load_scenario

    scenario = load_scenario(args.scenario)
    echo = None
    if args.echo:
        def echo(record):
            print(record.partition_key, ":", record.data.decode("utf-8", "replace"))
    result = run(scenario, seed=args.seed, echo=echo)
    text = to_json(result) if args.format == "json" else to_text(result)
    if args.output:
        try:
            Path(args.output).write_text(text, encoding="utf-8")
        except OSError as exc:
            return _error(f"cannot write {args.output}: {exc.strerror or exc}")
    else:
        sys.stdout.write(text)
    return 0


def _validate(args: argparse.Namespace) -> int:
    from .scenario import load_scenario

    for path in args.scenarios:
        scenario = load_scenario(path)
        print(f"{path}: ok ({scenario.name}: {len(scenario.producers)} producers, "
              f"{len(scenario.counters)} counters, {scenario.stream.shards} shards)")
    return 0


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "run":
            return _run(args)
        if args.command == "validate":
            return _validate(args)
    except ScenarioError as exc:
        return _error(str(exc))
    except KinsimError as exc:
        print(f"kinsim: the run failed: {exc}", file=sys.stderr)
        return 1
    except BrokenPipeError:  # the reader went away (``| head``): stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    parser.print_help(sys.stderr)
    return 2

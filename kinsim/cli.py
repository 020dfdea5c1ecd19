"""The command line: ``python -m kinsim COMMAND``.

    run SCENARIO [--seed N] [--format text|json|csv] [--output FILE] [--plot FILE.png] [--echo]
                 [--backend memory|kinesis] [--endpoint-url URL] [--region R] [--profile P]
                 [--keep-stream] [--use-existing-stream] [--realtime [--speed F]]
                 [--max-events N] [--max-memory SIZE]
    validate SCENARIO... [--max-events N] [--max-memory SIZE]
    sweep SCENARIO --vary PATH=VALUES... [--seeds A..B] [--jobs N | --executor dask://HOST:PORT]
          [--format text|csv|json] [--output FILE] [--plot FILE.png] [--max-events N] [--max-memory SIZE]
    serve [--host 127.0.0.1] [--port 4567] [--faults FILE] [--clock wall|manual] [--speed F] [--seed N]
          [--region R] [--no-throttling]

Exit status: 0 on success, 2 for bad input (a bad scenario file, a bad option, a run over its budget)
with one message and no traceback, 1 when a run fails for another reason.

A run estimated long (``PROGRESS_EVENTS``), against a real stream, or paced on the wall clock shows a
progress bar on standard error when that is a terminal (``kinsim.progress``; ``KINSIM_PROGRESS=0`` turns
it off): records delivered of the estimate, records/s, the time left and the simulated time reached.
"""

from __future__ import annotations

import argparse
import gc
import math
import os
import re
import sys
import time
import uuid
from typing import Callable, Optional, Sequence

from . import __version__
from .collector import paused
from .errors import KinsimError, MissingExtraError, ScenarioError, StreamNotOwnedError
from .estimate import Budget, RunEstimate, RunTooBig, check
from .progress import Progress, progress_bar
from .sweep.command import add_arguments as add_sweep_arguments
from .sweep.errors import SweepError

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
    run.add_argument("--format", choices=("text", "json", "csv"), default="text",
                     help="report format (default: text; csv: the per-window rows, for a spreadsheet)")
    run.add_argument("--output", "-o", help="write the report to this file instead of standard output")
    run.add_argument("--plot", metavar="FILE.png",
                     help="also draw the slowest cells' counts over time beside truth, and the late records' "
                          "lateness (.png, .svg or .pdf; needs matplotlib: pip install 'kinsim[plot]')")
    run.add_argument("--echo", action="store_true",
                     help="print each record as the consumer reads it, as the tutorial's EchoConsumer does")
    real = run.add_argument_group("a real stream", "Run against the Kinesis API through boto3: AWS, or "
                                  "kinesalite or moto server by --endpoint-url. Credentials, region and "
                                  "profile are found as awscli finds them.")
    real.add_argument("--backend", choices=("memory", "kinesis"), default="memory",
                      help="memory: simulated shards (default); kinesis: the real API")
    real.add_argument("--endpoint-url", help="e.g. http://127.0.0.1:4567 for a local kinesalite")
    real.add_argument("--region", help="AWS region (default: as awscli finds it)")
    real.add_argument("--profile", help="AWS profile (default: as awscli finds it)")
    real.add_argument("--keep-stream", action="store_true", help="do not delete the stream kinsim created")
    real.add_argument("--use-existing-stream", action="store_true",
                      help="write into the scenario's stream even though it exists and kinsim did not create it")
    pace = run.add_argument_group("pacing")
    pace.add_argument("--realtime", action="store_true", help="pace the run on the wall clock, as a live run")
    pace.add_argument("--speed", type=_speed, default=1.0,
                      help="with --realtime: simulated seconds per real second (default 1)")
    _budget_options(run)

    validate = commands.add_parser("validate", help="check scenario files (and the size of their runs) without "
                                                    "running them")
    validate.add_argument("scenarios", nargs="+", help="scenario files (YAML)")
    _budget_options(validate)

    sweep = commands.add_parser("sweep", help="run a scenario over a grid of values and seeds: each metric's mean "
                                              "and spread per point", description="Vary scenario fields over a grid "
                                              "of values, run each point over seeds, and report each counter's "
                                              "metrics per point: mean and p5/p95 over the seeds.")
    add_sweep_arguments(sweep)
    _budget_options(sweep)

    serve = commands.add_parser("serve", help="serve simulated Kinesis over HTTP, for any SDK and the AWS CLI",
                                description="Serve simulated Kinesis over HTTP (JSON 1.1 and CBOR 1.1), with "
                                            "admin paths under /_kinsim/ (stats, clock, reset, faults): HTTP/1.1, "
                                            "and HTTP/2 with prior knowledge (h2c) on the same port.")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1, loopback only)")
    serve.add_argument("--port", type=_port, default=4567, help="port (default 4567; 0: any free port)")
    serve.add_argument("--faults", metavar="FILE", help="a fault file (YAML): reshards, throttles, errors, latency, "
                                                        "partial failures, dropped connections")
    serve.add_argument("--clock", choices=("wall", "manual"), default="wall",
                       help="wall: the real clock (default); manual: stands still until POST /_kinsim/clock/advance")
    serve.add_argument("--speed", type=_speed, default=1.0,
                       help="with --clock wall: simulated seconds per real second (default 1)")
    serve.add_argument("--seed", type=int, help="seed of the injected faults (default: the fault file's, else 0)")
    serve.add_argument("--region", default="us-east-1", help="the region in stream ARNs (default us-east-1)")
    serve.add_argument("--no-throttling", action="store_true", help="lift the shards' throughput limits")
    return parser


def _port(value: str) -> int:
    try:
        port = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a port number, got {value!r}") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"a port is 0 to 65535, got {value!r}")
    return port


def _budget_options(command: argparse.ArgumentParser) -> None:
    default = Budget()
    group = command.add_argument_group("budget", "A run is estimated before it starts, and refused if it would "
                                       "take more than this.")
    group.add_argument("--max-events", type=_positive_int, default=default.max_events, metavar="N",
                       help=f"records, put attempts, polls and lease rounds (default {default.max_events:,})")
    group.add_argument("--max-memory", type=_size, default=default.max_memory_bytes, metavar="SIZE",
                       help=f"memory, e.g. 8GiB or 500MiB (default {default.max_memory_bytes // 1024**3} GiB)")


def _speed(value: str) -> float:
    try:
        speed = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {value!r}") from None
    if not math.isfinite(speed) or speed <= 0:
        raise argparse.ArgumentTypeError(f"must be a finite number above 0, got {value!r}")
    return speed


def _positive_int(value: str) -> int:
    try:
        number = int(value.replace("_", "").replace(",", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {value!r}") from None
    if number <= 0:
        raise argparse.ArgumentTypeError(f"must be above 0, got {value!r}")
    return number


_SIZE = re.compile(r"\s*(\d+(?:\.\d+)?)\s*(B|KiB|MiB|GiB|TiB|KB|MB|GB|TB)?\s*", re.IGNORECASE)
_SIZE_UNITS = {"b": 1, "kib": 1024, "mib": 1024**2, "gib": 1024**3, "tib": 1024**4, "kb": 10**3, "mb": 10**6,
               "gb": 10**9, "tb": 10**12}


def _size(value: str) -> int:
    match = _SIZE.fullmatch(value)
    if match is None:
        raise argparse.ArgumentTypeError(f"expected a size like 8GiB or 500MiB, got {value!r}")
    size = float(match.group(1)) * _SIZE_UNITS[(match.group(2) or "b").lower()]
    if size <= 0 or not math.isfinite(size):
        raise argparse.ArgumentTypeError(f"must be above 0, got {value!r}")
    return int(size)


def _budget(args: argparse.Namespace) -> Budget:
    return Budget(args.max_events, args.max_memory)


LARGE_RUN_EVENTS = 10_000_000  # a run estimated above this says so first
PROGRESS_EVENTS = 2_000_000    # a run estimated above this (a second or more) shows a bar on a terminal
PROGRESS_TICKS = 1000          # the bar hears from the run about this many times (every 1 s simulated at least)


class UsageError(Exception):
    """Options that cannot work together, or an output that cannot be written: exit status 2."""


def _error(message: str) -> int:
    print(f"kinsim: error: {message}", file=sys.stderr)
    return 2


def _backend_factory(args: argparse.Namespace):
    if args.backend == "memory":
        if args.endpoint_url or args.region or args.profile:
            raise UsageError("--endpoint-url, --region and --profile need --backend kinesis")
        return None
    from .backends.kinesis import KinesisBackend

    return lambda clock: KinesisBackend(endpoint_url=args.endpoint_url, region=args.region, profile=args.profile)


def _run(args: argparse.Namespace, own_process: bool) -> int:
    """Load, run, report, the cyclic collector paused throughout (``kinsim.collector``). In a process of
    its own, it is not resumed, and what the run made is frozen out of the interpreter's last collection
    at exit: walking it all once more (2 s after a run of 30,000 producers) would only delay the exit
    that lets it go."""
    if not own_process:
        with paused():
            return _run_and_report(args)
    gc.disable()
    status = _run_and_report(args)
    gc.freeze()
    return status


def _check_plot(path: str) -> None:
    """Before a run: matplotlib is there (``MissingExtraError`` if not), and it can write ``path``."""
    from .plots import require_matplotlib

    require_matplotlib()
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    suffix = os.path.splitext(path)[1].lstrip(".").lower()
    if suffix not in FigureCanvasAgg.get_supported_filetypes():
        raise UsageError(f"--plot {path}: a picture's file ends in .png, .svg or .pdf")
    folder = os.path.dirname(path) or "."
    if not os.path.isdir(folder):
        raise UsageError(f"cannot write {path}: No such file or directory")


Hook = Optional[Callable[[int, float], None]]  # kinsim.runner.ProgressHook, or none


def _progress(args: argparse.Namespace, size: RunEstimate) -> tuple[Progress, Hook, float]:
    """The run's bar (silent unless the run is long and standard error a terminal; never with --echo,
    whose records are the progress), the hook that moves it, and how often, in simulated seconds."""
    from .durations import duration_text

    long = size.events > PROGRESS_EVENTS or args.backend == "kinesis" or args.realtime
    bar = progress_bar(size.records, unit="records", description="kinsim run",
                       enabled=None if long and not args.echo else False)
    if not bar.shown:
        return bar, None, 1.0
    span = f" of ~{duration_text(round(size.span_s))}" if math.isfinite(size.span_s) else ""

    def tell(delivered: int, now: float) -> None:
        bar.reach(delivered)
        bar.note(f"{duration_text(round(now))}{span} simulated")

    every = max(1.0, size.span_s / PROGRESS_TICKS) if math.isfinite(size.span_s) else 60.0
    return bar, tell, every


def _run_and_report(args: argparse.Namespace) -> int:
    from .report import write_csv, write_json, write_text
    from .runner import default_stream_name, run
    from .scenario import load_scenario

    scenario = load_scenario(args.scenario)
    budget = _budget(args)
    size = check(scenario, args.scenario, budget)
    if args.plot:
        _check_plot(args.plot)  # before a long run, not after it
    if size.events > LARGE_RUN_EVENTS:  # say so before a long wait, on stderr: the report stays as it is
        print(f"kinsim: a large run, {size.describe()}: it may take minutes", file=sys.stderr, flush=True)
    stream_name = None
    if args.backend == "kinesis" and scenario.stream.name is None:
        stream_name = default_stream_name(scenario.name, uuid.uuid4().hex[:8])
    echo = None
    if args.echo:
        def echo(record):
            print(record.partition_key, ":", record.data.decode("utf-8", "replace"), flush=args.realtime)
    factory = _backend_factory(args)
    bar, tell, every = _progress(args, size)
    with bar:
        result = run(scenario, seed=args.seed, backend_factory=factory, echo=echo, stream_name=stream_name,
                     use_existing_stream=args.use_existing_stream, keep_stream=args.keep_stream,
                     realtime_speed=args.speed if args.realtime else None, budget=None,  # checked above
                     keep_history=bool(args.plot), progress=tell, progress_every=every)
    write = {"json": write_json, "csv": write_csv}.get(args.format, write_text)  # as it is made, never whole
    if args.output:
        try:
            with open(args.output, "w", encoding="utf-8", newline="" if args.format == "csv" else None) as out:
                write(result, out)
        except OSError as exc:
            raise UsageError(f"cannot write {args.output}: {exc.strerror or exc}") from None
    else:
        write(result, sys.stdout)
        sys.stdout.flush()  # a reader gone away is found here, not at exit
    if args.plot:
        from .plots.run import plot_run

        try:
            plot_run(result, args.plot)
        except OSError as exc:
            raise UsageError(f"cannot write {args.plot}: {exc.strerror or exc}") from None
    return 0


def _validate(args: argparse.Namespace) -> int:
    from .scenario import load_scenario

    for path in args.scenarios:
        scenario = load_scenario(path)
        size = check(scenario, path, _budget(args))
        print(f"{path}: ok ({scenario.name}: {sum(p.members for p in scenario.producers)} producers, "
              f"{len(scenario.counters)} counters, {scenario.stream.shards} shards"
              + (f", {len(scenario.faults)} faults" if scenario.faults else "") + f"; {size.describe()})")
    return 0


def _serve(args: argparse.Namespace) -> int:
    try:
        from .serve import serve, speed_clock
    except ImportError as exc:
        raise UsageError(f"kinsim serve needs aiohttp, cbor2 and h2 ({exc}): pip install 'kinsim[serve]'") from None
    from .clock import ManualClock
    from .endpoint import Endpoint
    from .injection import load_faults

    if args.clock == "manual" and args.speed != 1.0:
        raise UsageError("--speed goes with --clock wall")
    plan = load_faults(args.faults) if args.faults else None
    clock = ManualClock(time.time()) if args.clock == "manual" else speed_clock(args.speed)
    endpoint = Endpoint(clock, faults=plan, seed=args.seed, throttling=not args.no_throttling, region=args.region)
    try:
        return serve(endpoint, args.host, args.port, args.speed if args.clock == "wall" else 1.0,
                     announce=lambda line: print(line, file=sys.stderr, flush=True))
    except OSError as exc:
        raise UsageError(f"cannot listen on {args.host}:{args.port}: {exc.strerror or exc}") from None


def main(argv: Optional[Sequence[str]] = None, *, own_process: bool = False) -> int:
    """The command line on ``argv`` (default: the process's arguments); its exit status. ``own_process``:
    the process ends when this returns (``python -m kinsim``)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "run":
            return _run(args, own_process)
        if args.command == "validate":
            return _validate(args)
        if args.command == "serve":
            return _serve(args)
        if args.command == "sweep":
            from .sweep.command import sweep_command

            return sweep_command(args, _budget(args))
    except (ScenarioError, StreamNotOwnedError, RunTooBig, UsageError, MissingExtraError, SweepError) as exc:
        return _error(str(exc))
    except KinsimError as exc:
        print(f"kinsim: the run failed: {exc}", file=sys.stderr)
        return 1
    except BrokenPipeError:  # the reader went away (``| head``): stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    parser.print_help(sys.stderr)
    return 2

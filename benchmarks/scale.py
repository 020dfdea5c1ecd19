"""How kinsim's cost grows along each dimension of a scenario, at a fixed number of records.

    python benchmarks/scale.py                          # 1M records along every dimension, and the load
    python benchmarks/scale.py --records 100000 --dimensions shards slide
    python benchmarks/scale.py --load-producers 100000 --dimensions load

Each dimension is stepped while the records stay (about) the same, each step a run in a process of its
own: the scenario built from its document, run on simulated shards, and its JSON report written (to
nowhere). For each step it prints the seconds of each stage and in all, the peak RSS, and how both
grew from the step before (the goal: each step x10 costs at most x1.5 in time).

- ``producers``: 10 to 100,000 producers, one key each (as scenarios allow without key populations),
  over 8 shards, all together at the same pace: 1,667 records/s. Past about 1,700 producers each writes
  less than a record a minute, so every step makes ten times the (minute, key) cells: the keys grow with
  the producers.
- ``producers_shared``: the same producers, but producer ``i`` writes key ``i mod 1,000``: from 1,000
  producers on the keys and cells stay, and only the producers grow.
  For both, each step also says what the run cost more for each producer more (``us_per_producer_added``):
  from 10,000 to 100,000 producers of shared keys, what a producer costs by itself.
- ``shards``: 1 to 2,000 shards (the account's ``shard_limit`` raised past 500), 10,000 producers at
  800 records/s in all (one shard takes 1,000); every shard is polled every second, so the polls grow
  with the shards: that is the cost of shards themselves, not of the records. Each step also runs the
  same stream, span and consumer with one producer writing a record a minute, which gives what a poll
  costs alone; the step's polls at that cost, taken off its run time, leave what its records cost
  (``records_s``, and ``records_x`` from the step before), and what that cost more for each poll more
  (``us_per_poll_added``): the overhead of a poll that returns records, as more shards share them.
- ``slide``: one-minute windows sliding by 1 minute down to 1 second (a record counts in 60 windows),
  100 producers over 8 shards, one buffered counter.
- ``keys``: 10 to 1,000,000 keys drawn by one producer's population (zipf 1.1, DESIGN §5), 8 shards.
- ``load``: a scenario file listing N producers one by one, read in a fresh process: the time of each
  stage of ``load_scenario`` (the file, the YAML, the scenario) and of the run's estimate; for a minimal
  file (name, key and interval) and one where each producer has an offset and a lag too.

Results go into ``benchmarks/results.json`` under ``"scale"``, each dimension replacing only its own
figures: what ``bench.py`` writes there stays.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, Optional

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

START = "2018-07-31T21:56:00Z"
PACE = 1_667.0        # records/s in all, as bench.py's scenario: about 208 a shard on 8 shards
NARROW_PACE = 800.0   # the shards dimension: one shard takes 1,000 records/s
SHARED_KEYS = 1_000   # the producers_shared dimension: the keys all its producers write


def _ip(i: int) -> str:
    return f"10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}"


def _producers(count: int, pace: float, keys: Optional[int] = None) -> list[dict]:
    """``count`` producers at ``pace`` records/s together, their first records spread over one interval (so
    no shard is offered a burst); every tenth behind a slow link. One key each, or (``keys``) producer
    ``i`` writes key ``i mod keys``."""
    interval = count / pace
    return [{"name": f"p{i}", "partition_key": _ip(i if keys is None else i % keys), "interval": f"{interval:.6f}s",
             "offset": f"{interval * ((i * 7919) % 1000) / 1000:.6f}s",
             "lag": {"uniform": ["5s", "60s"]} if i % 10 == 9 else {"exponential": {"mean": "200ms"}}}
            for i in range(count)]


def _document(name: str, records: int, pace: float, shards: int, producers: list[dict],
              counters: Optional[list] = None) -> dict:
    return {"name": name, "seed": 1, "start": START, "duration": f"{records / pace:.3f}s", "window": "1m",
            "stream": {"name": "scale", "shards": shards, "shard_limit": max(500, shards)},
            "producers": producers, "consumer": {"poll_interval": "1s", "limit": 10000},
            "counters": counters or ["naive", {"kind": "buffered", "name": "buffered-90s", "grace": "90s"}]}


def producers_document(records: int, count: int) -> dict:
    return _document(f"producers-{count}", records, PACE, 8, _producers(count, PACE))


def shared_producers_document(records: int, count: int) -> dict:
    return _document(f"producers-shared-{count}", records, PACE, 8, _producers(count, PACE, SHARED_KEYS))


def shards_document(records: int, shards: int) -> dict:
    return _document(f"shards-{shards}", records, NARROW_PACE, shards, _producers(10_000, NARROW_PACE))


def polls_document(records: int, shards: int) -> dict:
    """The shards dimension's stream, span and polls, with one producer writing a record a minute: what
    the polls cost by themselves."""
    lone = {"name": "lone", "partition_key": _ip(0), "interval": "60s", "lag": {"uniform": ["5s", "60s"]}}
    return _document(f"polls-{shards}", records, NARROW_PACE, shards, [lone])


def slide_document(records: int, slide_s: int) -> dict:
    counter = {"kind": "buffered", "name": "buffered-90s", "grace": "90s", "size": "60s", "slide": f"{slide_s}s"}
    return _document(f"slide-{slide_s}s", records, PACE, 8, _producers(100, PACE), [counter])


# -- KEYS DIMENSION ---------------------------------------------------------------------------------------
# One producer whose records draw their partition keys from a population of N IPv4 addresses (DESIGN §5,
# ``keys: {first, count, distribution}``). Written to the design; it runs once the scenario format takes
# ``keys:`` (``keys_supported``), and whoever adds key populations makes it match what they built.
def keys_document(records: int, keys: int) -> dict:
    crowd = {"name": "crowd", "rate": f"{PACE:g}/s",
             "keys": {"first": "10.0.0.1", "count": keys, "distribution": {"zipf": 1.1}},
             "lag": {"exponential": {"mean": "200ms"}}}
    return _document(f"keys-{keys}", records, PACE, 8, [crowd])


def keys_supported() -> Optional[str]:
    """None if the scenario format takes key populations; else why the keys dimension is left out."""
    from kinsim.errors import ScenarioError
    from kinsim.scenario import parse_scenario

    try:
        parse_scenario(keys_document(1000, 10), "<keys>", "keys")
    except ScenarioError as exc:
        return f"the scenario format does not take key populations yet ({exc})"
    return None
# -- end of the keys dimension ----------------------------------------------------------------------------


DIMENSIONS: dict[str, tuple[Callable[[int, int], dict], list[int], str]] = {
    "producers": (producers_document, [10, 100, 1_000, 10_000, 100_000], "producers, one key each, 8 shards"),
    "producers_shared": (shared_producers_document, [10, 100, 1_000, 10_000, 100_000],
                         f"producers writing at most {SHARED_KEYS:,} keys in all, 8 shards"),
    "shards": (shards_document, [1, 10, 100, 1_000, 2_000], "shards, 10,000 producers at 800 records/s"),
    "slide": (slide_document, [60, 30, 10, 5, 1], "s of slide, one-minute windows, 100 producers"),
    "keys": (keys_document, [10, 100, 1_000, 10_000, 100_000, 1_000_000], "keys in one population, 8 shards"),
}


#: what a step of a dimension runs, and the shards dimension's polls alone (run beside it, not on its own)
DOCUMENTS: dict[str, Callable[[int, int], dict]] = {name: make for name, (make, _, _) in DIMENSIONS.items()}
DOCUMENTS["polls"] = polls_document


def peak_rss_mib() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def run_step(dimension: str, step: int, records: int) -> dict:
    """One step, in this process: the scenario from its document, the run, the JSON report, with the
    cyclic collector paused throughout, as ``python -m kinsim run`` has it. The document itself (this
    script's dicts, as a YAML file would give them) is made before the clock starts."""
    import gc

    from kinsim.report import write_json
    from kinsim.runner import run
    from kinsim.scenario import parse_scenario

    gc.disable()
    document = DOCUMENTS[dimension](records, step)
    started = time.perf_counter()
    scenario = parse_scenario(document, "<scale>", "scale")
    parsed = time.perf_counter()
    del document  # as a file's document is gone once read: not held through the run
    result = run(scenario, budget=None)
    ran = time.perf_counter()
    with open(os.devnull, "w", encoding="utf-8") as nowhere:
        write_json(result, nowhere)
    reported = time.perf_counter()
    return {"step": step, "records": result.produced, "polls": result.polls, "shards_read": len(result.shards),
            "cells": len(result.counters[0].truth.cells),
            "parse_s": round(parsed - started, 3), "run_s": round(ran - parsed, 3),
            "report_s": round(reported - ran, 3), "seconds": round(reported - started, 3),
            "peak_rss_mib": peak_rss_mib()}


LOAD_FILES = ("minimal", "lagged")  # each producer its name, key and interval; and a lag and an offset too


def load_document_text(producers: int, kind: str = "minimal") -> str:
    """A scenario file that lists ``producers`` producers one by one, as one writes them without key
    populations; ``lagged``: each with an offset of its own and a lag (every tenth a slow link)."""
    lines = ["name: many", f"start: {START}", "duration: 10m", "stream: {shards: 8}",
             "counters: [naive, {kind: buffered, grace: 90s}]", "producers:"]
    interval = producers * 0.0006
    for i in range(producers):
        more = ""
        if kind == "lagged":
            more = f", offset: {interval * ((i * 7919) % 1000) / 1000:.3f}s, lag: " + \
                ("{uniform: [5s, 60s]}" if i % 10 == 9 else "{exponential: {mean: 200ms}}")
        lines.append(f"  - {{name: p{i}, partition_key: {_ip(i)}, interval: {interval:.4f}s{more}}}")
    return "\n".join(lines) + "\n"


def load_step(producers: int, kind: str = "minimal") -> dict:
    """``load_scenario`` of a file of ``producers`` producers (``kind``: ``LOAD_FILES``), stage by stage,
    then the run's estimate."""
    from kinsim.collector import paused
    from kinsim.estimate import check
    from kinsim.scenario.fault_items import read_file
    from kinsim.scenario.loader import parse_scenario
    from kinsim.scenario.reading import read_document

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "many.yaml"
        path.write_text(load_document_text(producers, kind), encoding="utf-8")
        started = time.perf_counter()
        data = path.read_bytes()
        read = time.perf_counter()
        document = read_document(data)
        parsed_yaml = time.perf_counter()
        with paused():  # as load_scenario has it
            scenario = parse_scenario(document, str(path), path.stem, path.parent)
        built = time.perf_counter()
        check(scenario, str(path), None)
        estimated = time.perf_counter()
        assert read_file(path) == document and len(scenario.producers) == producers
    return {"producers": producers, "file": kind, "file_bytes": len(data), "file_s": round(read - started, 3),
            "yaml_s": round(parsed_yaml - read, 3), "scenario_s": round(built - parsed_yaml, 3),
            "load_s": round(built - started, 3), "estimate_s": round(estimated - built, 3),
            "peak_rss_mib": peak_rss_mib()}


def _child(*args: str) -> dict:
    done = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"{' '.join(args)} failed:\n{done.stderr}")
    return json.loads(done.stdout)


def dimension_runs(dimension: str, steps: list[int], records: int, repeat: int) -> dict:
    """Each step ``repeat`` times (steps in turn), each run in a fresh process: the fastest run's figures,
    and each step's growth over the step before."""
    runs: dict[int, list[dict]] = {step: [] for step in steps}
    for _ in range(repeat):
        for step in steps:
            runs[step].append(_child("--one", dimension, str(step), "--records", str(records)))
    rows = [dict(min(runs[step], key=lambda row: row["seconds"]),
                 runs_seconds=[row["seconds"] for row in runs[step]]) for step in steps]
    if dimension == "shards":
        _apart_from_polls(rows, records, repeat)
    growth = [{"from": a["step"], "to": b["step"], "time_x": round(b["seconds"] / a["seconds"], 2),
               "run_x": round(b["run_s"] / a["run_s"], 2), "rss_x": round(b["peak_rss_mib"] / a["peak_rss_mib"], 2)}
              for a, b in zip(rows, rows[1:])]
    if dimension == "shards":
        for change, a, b in zip(growth, rows, rows[1:]):
            change["records_x"] = round(b["records_s"] / a["records_s"], 2)
            # what the records cost more, for each poll more: a poll's overhead when it returns records
            change["us_per_poll_added"] = round((b["records_s"] - a["records_s"]) / (b["polls"] - a["polls"]) * 1e6, 1)
    if dimension.startswith("producers"):
        for change, a, b in zip(growth, rows, rows[1:]):  # what the run costs more, for each producer more
            change["us_per_producer_added"] = round((b["seconds"] - a["seconds"]) / (b["step"] - a["step"]) * 1e6, 1)
    return {"what": DIMENSIONS[dimension][2], "records": records, "steps": rows, "growth": growth}


def _apart_from_polls(rows: list[dict], records: int, repeat: int) -> None:
    """Each shards step's run time apart from its polls: the same stream, span and consumer with one
    producer writing a record a minute (``polls_document``) gives what a poll costs by itself; its
    polls at that cost are taken off the step's run time (``records_s``: what the records cost)."""
    for row in rows:
        alone = min((_child("--one", "polls", str(row["step"]), "--records", str(records)) for _ in range(repeat)),
                    key=lambda figures: figures["run_s"])
        row["polls_alone_s"] = round(alone["run_s"] / alone["polls"] * row["polls"], 3)
        row["records_s"] = round(row["run_s"] - row["polls_alone_s"], 3)


def print_dimension(name: str, figures: dict) -> None:
    if "skipped" in figures:
        print(f"\n{name}: left out: {figures['skipped']}")
        return
    print(f"\n{name} ({figures['what']}; about {figures['records']:,} records)")
    print(f"{'step':>9}  {'records':>9}  {'polls':>9}  {'cells':>9}  {'parse s':>7}  {'run s':>7}  {'report s':>8}  "
          f"{'total s':>7}  {'peak RSS MiB':>12}  {'time x':>6}  {'RSS x':>5}")
    growth = [None] + figures["growth"]
    added = "us_per_producer_added" in figures["growth"][0] if figures["growth"] else False
    for row, step in zip(figures["steps"], growth):
        print(f"{row['step']:>9,}  {row['records']:>9,}  {row['polls']:>9,}  {row.get('cells', 0):>9,}  "
              f"{row['parse_s']:>7.3f}  "
              f"{row['run_s']:>7.3f}  {row['report_s']:>8.3f}  {row['seconds']:>7.3f}  {row['peak_rss_mib']:>12}  "
              + (f"{step['time_x']:>6}  {step['rss_x']:>5}" if step else f"{'-':>6}  {'-':>5}")
              + ((f"  {step['us_per_producer_added']:>7} µs a producer added" if step else "") if added else ""))
    if "records_s" in figures["steps"][0]:
        print(f"\n{'step':>9}  {'polls alone s':>13}  {'records s':>9}  {'records x':>9}  {'µs a poll added':>15}"
              "   (the run apart from its polls)")
        for row, step in zip(figures["steps"], growth):
            print(f"{row['step']:>9,}  {row['polls_alone_s']:>13.3f}  {row['records_s']:>9.3f}  "
                  + (f"{step['records_x']:>9}  {step['us_per_poll_added']:>15}" if step else f"{'-':>9}  {'-':>15}"))


def print_load(rows: list[dict]) -> None:
    print("\nload: a scenario file of N producers (minimal: name, key, interval; lagged: an offset and a lag too), "
          "stage by stage")
    print(f"{'producers':>9}  {'file':>7}  {'MB':>6}  {'file s':>6}  {'YAML s':>6}  {'scenario s':>10}  {'load s':>6}  "
          f"{'estimate s':>10}  {'peak RSS MiB':>12}")
    for row in rows:
        print(f"{row['producers']:>9,}  {row['file']:>7}  {row['file_bytes'] / 1e6:>6.1f}  {row['file_s']:>6.3f}  "
              f"{row['yaml_s']:>6.3f}  "
              f"{row['scenario_s']:>10.3f}  {row['load_s']:>6.3f}  {row['estimate_s']:>10.3f}  "
              f"{row['peak_rss_mib']:>12}")


def machine() -> dict:
    return {"python": platform.python_version(), "cpus": os.cpu_count(), "machine": platform.machine(),
            "system": platform.system()}


def write_results(output: Path, scale: dict[str, Any]) -> None:
    """Read, change, write: the ``scale`` figures measured now go in, and everything else stays."""
    results = json.loads(output.read_text()) if output.exists() else {}
    kept = results.get("scale") or {}
    kept.update(scale)
    results["scale"] = kept
    output.write_text(json.dumps(results, indent=2) + "\n")


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=1_000_000, help="records of every run (default 1M)")
    parser.add_argument("--dimensions", nargs="+", default=[*DIMENSIONS, "load"], choices=[*DIMENSIONS, "load"])
    for name, (_, steps, _) in DIMENSIONS.items():
        parser.add_argument(f"--{name.replace('_', '-')}", type=int, nargs="+", default=steps, metavar="N",
                            help=f"the steps of {name} (default {' '.join(map(str, steps))})")
    parser.add_argument("--load-producers", type=int, nargs="+", default=[1_000, 10_000, 100_000], metavar="N")
    parser.add_argument("--repeat", type=int, default=1, help="runs of each step; the fastest is kept")
    parser.add_argument("--output", default=str(ROOT / "benchmarks" / "results.json"))
    parser.add_argument("--one", nargs=2, metavar=("DIMENSION", "STEP"), help=argparse.SUPPRESS)
    parser.add_argument("--load-one", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--load-file", choices=LOAD_FILES, default="minimal", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:
        print(json.dumps(run_step(args.one[0], int(args.one[1]), args.records)))
        return 0
    if args.load_one:
        print(json.dumps(load_step(args.load_one, args.load_file)))
        return 0
    scale: dict[str, Any] = {"machine": machine()}
    for dimension in args.dimensions:
        if dimension == "load":
            rows = [_child("--load-one", str(n), "--load-file", kind) for n in args.load_producers
                    for kind in LOAD_FILES]
            scale["load"] = rows
            print_load(rows)
            continue
        skipped = keys_supported() if dimension == "keys" else None
        figures = {"skipped": skipped} if skipped else \
            dimension_runs(dimension, getattr(args, dimension), args.records, args.repeat)
        scale[dimension] = figures
        print_dimension(dimension, figures)
    write_results(Path(args.output), scale)
    print(f"\n(written to {args.output}, under \"scale\")")
    return 0


if __name__ == "__main__":
    sys.exit(main())

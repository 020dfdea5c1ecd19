"""kinsim's benchmark: end-to-end simulated records/s, memory, and the client against moto and kinesalite.

    python benchmarks/bench.py                      # 10k, 100k, 1M and 10M records; 50k through clients
    python benchmarks/bench.py --sizes 10000 100000 --client-records 20000 --output results.json

Part 1 runs generated scenarios (100 lagged producers over 8 shards at one pace, a naive and a buffered
counter) end to end, each run in its own process, and reports for the fastest of ``--repeat`` runs of
each size records/s, peak RSS and the bytes the simulated shards keep per retained record, and how the
time grows with the records. Part 2 runs the 1M-record scenario (``--reshard-records``) as it is and
with a split of one shard at a third of its span and a merge of the two halves at two thirds (an
update delay of 30 s each, less in a short run), and gives the cost of the reshards; then
(``--workers-records``) as one consumer and as 4 workers sharing the leases (per-lease processors,
``state: memory`` and ``state: checkpointed``), and gives the cost of the workers. Part 3 puts N
records in 500-record batches and reads them back
through kinsim's boto3-shaped client over simulated shards, through moto's in-process mock and through
boto3 to kinesalite on 127.0.0.1, and gives the ratios. Part 4 (``--endpoint-records``, see
``endpoints.py``) puts and reads records through ``kinsim serve``, kinesalite and moto server, each
its own process, and times ``kinsim.mock()`` against boto3's own floor. It prints a table and writes JSON
(its own keys of the file; ``scale.py``'s stay). Not part of the test suite (a smoke test runs it at the
smallest size).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PRODUCERS = 100
SHARDS = 8
INTERVAL_S = 0.06  # each producer's pace: 1,667 records/s in all, about 208 per shard (a fifth of the limit)


def scenario_document(records: int) -> dict:
    """A scenario that creates about ``records`` records: 100 producers over 8 shards, at the same pace
    whatever the size, so 10x the records is 10x the simulated time (1M records: 10 minutes)."""
    duration = round(records * INTERVAL_S / PRODUCERS)
    producers = []
    for i in range(PRODUCERS):
        lag = {"uniform": ["5s", "60s"]} if i % 10 == 9 else {"exponential": {"mean": "200ms"}}
        producers.append({"name": f"p{i:03d}", "partition_key": f"10.0.{i // 250}.{i % 250}",
                          "interval": f"{INTERVAL_S:.6f}s", "offset": f"{(i * 7919) % 1000}ms", "lag": lag})
    return {
        "name": f"bench-{records}", "seed": 1, "start": "2018-07-31T21:56:00Z", "duration": f"{duration}s",
        "window": "1m", "stream": {"name": "bench", "shards": SHARDS}, "producers": producers,
        "consumer": {"poll_interval": "1s", "limit": 10000},
        "counters": ["naive", {"kind": "buffered", "name": "buffered-90s", "grace": "90s"}],
    }


def retained_bytes(backend) -> int:
    """Bytes the simulated shards hold for their records (columns and their contents)."""
    return sum(shard.storage_bytes() for name in backend.list_streams() for shard in backend.shards_of(name).values())


def with_reshards(scenario):
    """The scenario with shard 0 split at a third of its span and its halves merged at two thirds."""
    import dataclasses

    from kinsim.scenario import Fault, Merge, Split

    third = scenario.duration / 3
    faults = (Fault(third, Split("shardId-000000000000"), path="faults[0]"),
              Fault(2 * third, Merge((f"shardId-{SHARDS:012d}", f"shardId-{SHARDS + 1:012d}")), path="faults[1]"))
    return dataclasses.replace(scenario, faults=faults, stream=dataclasses.replace(scenario.stream, update_delay=min(30.0, third / 2)))


def with_workers(scenario, state: str):
    """The scenario read by 4 workers sharing the leases (2 of the 8 each), in ``state``."""
    import dataclasses

    from kinsim.scenario.model import State

    return dataclasses.replace(scenario, consumer=dataclasses.replace(
        scenario.consumer, workers=("w1", "w2", "w3", "w4"), state=State(state)))


VARIANTS = {"plain": lambda scenario: scenario, "reshard": with_reshards,
            "workers": lambda scenario: with_workers(scenario, "memory"),
            "workers-checkpointed": lambda scenario: with_workers(scenario, "checkpointed")}


def run_one(records: int, variant: str = "plain") -> dict:
    """One end-to-end run in this process (called in a fresh process per size)."""
    from kinsim.backends import MemoryBackend
    from kinsim.runner import run
    from kinsim.scenario import parse_scenario

    scenario = VARIANTS[variant](parse_scenario(scenario_document(records), "<bench>", f"bench-{records}"))
    kept = {}

    def factory(clock):
        kept["backend"] = MemoryBackend(clock, update_delay=scenario.stream.update_delay)
        return kept["backend"]

    started = time.perf_counter()
    result = run(scenario, backend_factory=factory, keep_stream=True)
    elapsed = time.perf_counter() - started
    retained = retained_bytes(kept["backend"])
    return {
        "records": result.produced, "seconds": round(elapsed, 4), "records_per_s": round(result.produced / elapsed),
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "bytes_per_retained_record": round(retained / result.delivered, 1),
        "buffered_peak_state_cells": result.counters[1].metrics["peak_state_cells"],
        "naive_peak_state_cells": result.counters[0].metrics["peak_state_cells"],
        "faults_applied": len(result.faults), "shards_read": len(result.shards),
        "buffered_final_exact": result.counters[1].metrics["final_exact"],
        "workers": len(result.workers.names), "duplicates": result.workers.duplicates,
        "checkpoints_written": result.workers.checkpoints_written,
    }


def variant_runs(records: int, repeat: int, variants: list[str]) -> dict[str, dict]:
    """The scenario in each variant, taken in turn, ``repeat`` times, each run in a fresh process: the
    fastest run of each, with every run's seconds."""
    runs: dict[str, list[dict]] = {variant: [] for variant in variants}
    for _ in range(repeat):
        for variant in variants:
            done = subprocess.run([sys.executable, __file__, "--one", str(records), "--variant", variant],
                                  capture_output=True, text=True, check=True)
            runs[variant].append(json.loads(done.stdout))
    return {variant: dict(min(rows, key=lambda run: run["seconds"]), runs_seconds=[run["seconds"] for run in rows])
            for variant, rows in runs.items()}


def reshard_cost(records: int, repeat: int) -> dict:
    """The same scenario without and with a split and a merge: the fastest of each, and the ratio."""
    best = variant_runs(records, repeat, ["plain", "reshard"])
    ratio = round(best["reshard"]["seconds"] / best["plain"]["seconds"], 3)
    print(f"  {records:,} records: {best['plain']['seconds']:.3f} s as it is, {best['reshard']['seconds']:.3f} s "
          f"with a split and a merge ({ratio}x)", file=sys.stderr)
    return {"records": records, "plain": best["plain"], "reshard": best["reshard"], "time_x": ratio,
            "runs_seconds": {variant: row["runs_seconds"] for variant, row in best.items()}}


def workers_cost(records: int, repeat: int) -> dict:
    """The same scenario read by one consumer and by 4 workers (state in memory, and checkpointed)."""
    best = variant_runs(records, repeat, ["plain", "workers", "workers-checkpointed"])
    ratios = {variant: round(best[variant]["seconds"] / best["plain"]["seconds"], 3)
              for variant in ("workers", "workers-checkpointed")}
    print(f"  {records:,} records: {best['plain']['seconds']:.3f} s with one consumer, "
          f"{best['workers']['seconds']:.3f} s with 4 workers ({ratios['workers']}x), "
          f"{best['workers-checkpointed']['seconds']:.3f} s with 4 workers and checkpointed state "
          f"({ratios['workers-checkpointed']}x)", file=sys.stderr)
    return {"records": records, **best, "time_x": ratios}


def end_to_end(sizes: list[int], repeat: int) -> list[dict]:
    """Every size ``repeat`` times, taking the sizes in turn (a noisy spell on a shared machine then
    slows one run of several sizes, not every run of one), each run in a fresh process: the fastest
    run's row, with every run's seconds (noise only ever slows a run down)."""
    runs: dict[int, list[dict]] = {size: [] for size in sizes}
    for _ in range(repeat):
        for size in sizes:
            done = subprocess.run([sys.executable, __file__, "--one", str(size)], capture_output=True, text=True,
                                  check=True)
            runs[size].append(json.loads(done.stdout))
    rows = []
    for size in sizes:
        row = dict(min(runs[size], key=lambda run: run["seconds"]),
                   runs_seconds=[run["seconds"] for run in runs[size]])
        rows.append(row)
        print(f"  {size:>10,} records: {row['records_per_s']:>10,} records/s (runs: "
              f"{', '.join(f'{t:.3f} s' for t in row['runs_seconds'])})", file=sys.stderr)
    return rows


# -- part 2: the same workload through three clients ------------------------------------------------------
def workload(client, records: int) -> float:
    """Put ``records`` in 500-record batches into a 1-shard stream, read them all back; records/s."""
    from endpoints import put_then_get

    return put_then_get(client, records)["both_records_per_s"]


def clients(records: int) -> dict:
    import boto3

    import kinsim
    from kinsim.servers import start_kinesalite

    results = {}
    # kinsim: simulated shards with throughput limits off (this measures speed, not the service's limits)
    results["kinsim_client_memory"] = workload(kinsim.client(kinsim.MemoryBackend(throttling=False)), records)
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "bench")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "bench")
    from moto import mock_aws
    with mock_aws():
        results["moto_in_process"] = workload(boto3.client("kinesis", region_name="us-east-1"), records)
    with start_kinesalite(ROOT / ".cache" / "kinesalite") as server:
        client = boto3.client("kinesis", endpoint_url=server.endpoint_url, region_name="us-east-1",
                              aws_access_key_id="bench", aws_secret_access_key="bench")
        results["boto3_kinesalite"] = workload(client, records)
    return {name: round(value) for name, value in results.items()}


def machine() -> dict:
    return {"python": platform.python_version(), "cpus": os.cpu_count(), "machine": platform.machine(),
            "system": platform.system()}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000, 10_000_000])
    parser.add_argument("--repeat", type=int, default=3, help="runs of each size; the fastest is reported")
    parser.add_argument("--client-records", type=int, default=50_000, help="records through the clients (0: skip)")
    parser.add_argument("--output", default=str(ROOT / "benchmarks" / "results.json"))
    parser.add_argument("--reshard-records", type=int, default=1_000_000,
                        help="records of the run measured without and with a split and a merge (0: skip)")
    parser.add_argument("--workers-records", type=int, default=1_000_000,
                        help="records of the run measured with one consumer and with 4 workers (0: skip)")
    parser.add_argument("--endpoint-records", type=int, default=50_000,
                        help="records through kinsim serve, kinesalite and moto server (0: skip)")
    parser.add_argument("--mock-calls", type=int, default=200,
                        help="calls of each kind in each of the 3 timings of kinsim.mock() and of boto3's floor")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--variant", default="plain", choices=sorted(VARIANTS), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:
        print(json.dumps(run_one(args.one, args.variant)))
        return 0
    print("end to end (kinsim run, memory backend):", file=sys.stderr)
    rows = end_to_end(args.sizes, args.repeat)
    resharding = None
    if args.reshard_records:
        print("the cost of resharding mid-run:", file=sys.stderr)
        resharding = reshard_cost(args.reshard_records, args.repeat)
    workers = None
    if args.workers_records:
        print("one consumer against 4 workers sharing the leases:", file=sys.stderr)
        workers = workers_cost(args.workers_records, args.repeat)
    through = None
    if args.client_records:
        print(f"put {args.client_records:,} records in batches of 500, read them back:", file=sys.stderr)
        through = clients(args.client_records)
    endpoints = None
    if args.endpoint_records:
        from endpoints import measure

        endpoints = measure(args.endpoint_records, args.mock_calls)
    scaling = [{"records_x": round(b["records"] / a["records"], 2), "time_x": round(b["seconds"] / a["seconds"], 2)}
               for a, b in zip(rows, rows[1:])]
    report = {"machine": machine(), "repeat": args.repeat, "end_to_end": rows, "scaling": scaling,
              "resharding": resharding, "workers": workers, "endpoints": endpoints,
              "client_records": args.client_records, "clients_records_per_s": through,
              "ratios": through and {
                  "kinsim_over_moto": round(through["kinsim_client_memory"] / through["moto_in_process"], 1),
                  "kinsim_over_kinesalite": round(through["kinsim_client_memory"] / through["boto3_kinesalite"], 1)}}
    output = Path(args.output)
    kept = json.loads(output.read_text()) if output.exists() else {}  # scale.py's figures stay, and parts skipped
    report = {key: value for key, value in report.items() if value is not None}
    output.write_text(json.dumps({**kept, **report}, indent=2) + "\n")
    print()
    print(f"{'records':>12}  {'seconds':>8}  {'records/s':>10}  {'peak RSS MiB':>12}  {'bytes/record':>12}"
          f"  {'buffered state':>14}")
    for row in rows:
        print(f"{row['records']:>12,}  {row['seconds']:>8}  {row['records_per_s']:>10,}  {row['peak_rss_mib']:>12}"
              f"  {row['bytes_per_retained_record']:>12}  {row['buffered_peak_state_cells']:>14}")
    for (a, b), step in zip(zip(rows, rows[1:]), scaling):
        print(f"{a['records']:,} to {b['records']:,} records: {step['records_x']}x the records in {step['time_x']}x "
              f"the time")
    if resharding:
        print(f"{resharding['records']:,} records with a split and a merge: {resharding['time_x']}x the time "
              f"({resharding['plain']['seconds']} s as it is, {resharding['reshard']['seconds']} s)")
    if workers:
        print(f"{workers['records']:,} records with 4 workers: {workers['time_x']['workers']}x the time of one "
              f"consumer ({workers['plain']['seconds']} s, {workers['workers']['seconds']} s); with checkpointed "
              f"state {workers['time_x']['workers-checkpointed']}x ({workers['workers-checkpointed']['seconds']} s)")
    if through:
        print()
        for name, value in through.items():
            print(f"{name:<22} {value:>10,} records/s")
        print(f"kinsim / moto: {report['ratios']['kinsim_over_moto']}x; "
              f"kinsim / kinesalite: {report['ratios']['kinsim_over_kinesalite']}x")
    if endpoints:
        for name, row in endpoints["servers"].items():
            print(f"{name:<22} put {row['put_records_per_s']:>9,} records/s, get {row['get_records_per_s']:>9,} records/s")
        for name, row in endpoints["mock_overhead"].items():
            print(f"kinsim.mock() {name}: {row['mock_ms']} ms a call against boto3's floor of {row['floor_ms']} ms")
    print(f"(written to {args.output})")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Endpoints side by side: ``kinsim serve`` against kinesalite and moto server, and ``kinsim.mock()``
against boto3's own floor.

    python benchmarks/endpoints.py [--records 50000] [--mock-calls 200]

Part 1 starts each server as its own process on 127.0.0.1 (kinsim serve with the shards' throughput
limits lifted, since neither emulator enforces them) and, with one boto3 client, puts N records in
batches of 500 into a 1-shard stream, then reads them back with GetRecords of up to 10,000 records;
it reports records/s of each phase. Part 2 times the same put_records (500 records) and get_records
calls through a boto3 client answered by ``kinsim.mock()`` and through one answered by a stub that
hands botocore a recorded answer at once: the stub is the floor (botocore's serialising, signing and
parsing, no service at all), and the difference is what the mock costs.

``bench.py`` runs this as its last part and keeps the figures in ``results.json``.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _client(endpoint_url=None):
    import boto3
    from botocore.config import Config

    return boto3.session.Session().client(
        "kinesis", endpoint_url=endpoint_url, region_name="us-east-1", aws_access_key_id="bench",
        aws_secret_access_key="bench", config=Config(retries={"total_max_attempts": 1}))


def _batches(records: int):
    for first in range(0, records, 500):
        yield [{"Data": f"2018-07-31T21:56:{i % 60:02d}.000000".encode(), "PartitionKey": f"10.0.0.{i % 100}"}
               for i in range(first, min(records, first + 500))]


def put_then_get(client, records: int) -> dict:
    """Records/s putting ``records`` in 500-record batches, then reading them back."""
    stream = f"bench-{time.monotonic_ns()}"
    client.create_stream(StreamName=stream, ShardCount=1)
    client.get_waiter("stream_exists").wait(StreamName=stream, WaiterConfig={"Delay": 0.05, "MaxAttempts": 200})
    batches = list(_batches(records))
    started = time.perf_counter()
    for batch in batches:
        assert client.put_records(StreamName=stream, Records=batch)["FailedRecordCount"] == 0
    put_s = time.perf_counter() - started
    shard = client.list_shards(StreamName=stream)["Shards"][0]["ShardId"]
    iterator = client.get_shard_iterator(StreamName=stream, ShardId=shard,
                                         ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    started, read = time.perf_counter(), 0
    while read < records:
        answer = client.get_records(ShardIterator=iterator, Limit=10_000)
        read += len(answer["Records"])
        iterator = answer["NextShardIterator"]
    get_s = time.perf_counter() - started
    client.delete_stream(StreamName=stream)
    return {"put_records_per_s": round(records / put_s), "get_records_per_s": round(records / get_s),
            "both_records_per_s": round(records / (put_s + get_s))}


def _start_kinsim_serve():
    from kinsim.servers import LocalServer

    process = subprocess.Popen([sys.executable, "-m", "kinsim", "serve", "--port", "0", "--no-throttling"],
                               cwd=ROOT, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                               text=True)
    match = re.search(r"http://127\.0\.0\.1:(\d+) ", process.stderr.readline())
    if match is None:
        process.kill()
        raise RuntimeError("kinsim serve did not start")
    return LocalServer("kinsim serve", process, int(match.group(1)))


def servers(records: int) -> dict:
    from kinsim.servers import start_kinesalite, start_moto_server

    results = {}
    for name, start in (("kinsim_serve", _start_kinsim_serve),
                        ("kinesalite", lambda: start_kinesalite(ROOT / ".cache" / "kinesalite")),
                        ("moto_server", start_moto_server)):
        with start() as server:
            results[name] = put_then_get(_client(server.endpoint_url), records)
        print(f"  {name:<14} put {results[name]['put_records_per_s']:>9,} records/s, get "
              f"{results[name]['get_records_per_s']:>9,} records/s", file=sys.stderr)
    return results


def _per_call(call, repeat: int) -> float:
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        for _ in range(repeat):
            call()
        best = min(best, (time.perf_counter() - started) / repeat)
    return best


def mock_overhead(repeat: int = 200) -> dict:
    """Seconds per call of put_records (500 records) and get_records (500 records back): through
    ``kinsim.mock()`` and through a stub answering a recorded response (botocore's floor)."""
    from botocore.awsrequest import AWSResponse

    import kinsim
    from kinsim.clock import ManualClock

    [batch] = list(_batches(500))
    with kinsim.mock(ManualClock(1_533_074_160), throttling=False) as service:
        client = service.client()
        client.create_stream(StreamName="s", ShardCount=1)
        put = lambda: client.put_records(StreamName="s", Records=batch)  # noqa: E731
        put()
        iterator = client.get_shard_iterator(StreamName="s", ShardId="shardId-000000000000",
                                             ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        get = lambda: client.get_records(ShardIterator=iterator, Limit=500)  # noqa: E731
        mocked = {"put_records": _per_call(put, repeat), "get_records": _per_call(get, repeat)}
        recorded = {}
        for name, call in (("put_records", put), ("get_records", get)):
            exchange = service.endpoint.exchange  # record one answer of each call as the service gave it

            def keep(headers, body, query="", name=name, exchange=exchange):
                answer = exchange(headers, body, query)
                recorded[name] = answer.reply
                return answer
            service.endpoint.exchange = keep
            call()
            service.endpoint.exchange = exchange

    floor = {}
    for name, method, params in (("put_records", "put_records", {"StreamName": "s", "Records": batch}),
                                 ("get_records", "get_records", {"ShardIterator": iterator, "Limit": 500})):
        stubbed = _client()
        reply = recorded[name]

        class _Raw:
            def stream(self, **_):
                yield reply.body

        stubbed.meta.events.register_first("before-send.kinesis", lambda request, **_: AWSResponse(
            request.url, 200, {"Content-Type": reply.content_type, "x-amzn-RequestId": "0"}, _Raw()))
        floor[name] = _per_call(lambda: getattr(stubbed, method)(**params), repeat)
    return {name: {"mock_ms": round(mocked[name] * 1000, 3), "floor_ms": round(floor[name] * 1000, 3),
                   "overhead_ms": round((mocked[name] - floor[name]) * 1000, 3),
                   "mock_over_floor": round(mocked[name] / floor[name], 2)} for name in mocked}


def measure(records: int, mock_calls: int = 200) -> dict:
    print(f"put {records:,} records in batches of 500 through each server, read them back:", file=sys.stderr)
    through = servers(records)
    overhead = mock_overhead(mock_calls)
    for name, row in overhead.items():
        print(f"  kinsim.mock() {name}: {row['mock_ms']} ms a call, boto3's floor {row['floor_ms']} ms "
              f"({row['mock_over_floor']}x)", file=sys.stderr)
    return {"records": records, "servers": through, "mock_overhead": overhead,
            "serve_over": {other: {phase: round(through["kinsim_serve"][phase] / through[other][phase], 1)
                                   for phase in ("put_records_per_s", "get_records_per_s")}
                           for other in ("kinesalite", "moto_server")}}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=50_000)
    parser.add_argument("--mock-calls", type=int, default=200,
                        help="calls of each kind in each of the 3 timings of kinsim.mock() and of boto3's floor")
    args = parser.parse_args(argv)
    print(json.dumps(measure(args.records, args.mock_calls), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

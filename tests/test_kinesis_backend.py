"""``KinesisBackend`` (one call per call, errors mapped) and ``RetryingBackend`` over it and over
simulated shards: retries, lost answers, renewed iterators, paging, error mapping, safety.

Faults come from a fault plan (``kinsim.injection``) under ``kinsim.mock()``, answering a boto3 client
(one attempt a call) from simulated shards, so what the stream really holds can be read back and
compared with the endpoint's statistics; the retrying backend's sleeps are recorded instead of slept.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import uuid
from collections import Counter

import pytest
from botocore.config import Config

import kinsim
from kinsim import errors
from kinsim.backends.kinesis import KinesisBackend
from kinsim.backends.retrying import RetryingBackend, RetryPolicy
from kinsim.clock import ManualClock
from kinsim.records import PutEntry, PutFailure, PutResult
from kinsim.report import to_json
from kinsim.runner import run
from kinsim.scenario import load_scenario

from .conftest import ROOT, START, loopback_client


def read_everything(memory: kinsim.MemoryBackend, stream: str) -> list[bytes]:
    data = []
    for shard in memory.list_shards(stream):
        iterator = memory.get_shard_iterator(stream, shard.shard_id, "TRIM_HORIZON")
        while iterator:
            result = memory.get_records(iterator)
            data += [r.data for r in result.records]
            if not result.records:
                break
            iterator = result.next_shard_iterator
    return data


PUTS = ["PutRecord", "PutRecords"]
#: the faults these tests inject, by name, as a fault file's items at a rate
RATE_FAULTS = {
    "throttle": lambda rate: {"error": "ProvisionedThroughputExceededException", "rate": rate,
                              "operations": PUTS + ["GetRecords"]},
    "lost_request": lambda rate: {"drop": "before", "rate": rate, "operations": PUTS},
    "lost_response": lambda rate: {"drop": "after", "rate": rate, "operations": PUTS},
    "partial": lambda rate: {"partial": "ProvisionedThroughputExceededException", "rate": rate},
    "expire": lambda rate: {"error": "ExpiredIteratorException", "rate": rate, "operations": ["GetRecords"]},
}


def fault_plan(**rates: float) -> list[dict]:
    return [make(rates[name]) for name, make in RATE_FAULTS.items() if rates.get(name)]


def faulty_client(clock, seed: int, **rates: float):
    """A boto3 client answered by simulated shards on ``clock`` with these faults, and their endpoint."""
    service = kinsim.mock(clock, throttling=False, faults=fault_plan(**rates), seed=seed)
    return service.client(config=Config(retries={"total_max_attempts": 1})), service.endpoint


def injected(endpoint) -> dict:
    found = endpoint.statistics()["injected"]
    errors_ = found.get("errors", {})
    return {"throttled_calls": errors_.get("ProvisionedThroughputExceededException", 0),
            "expired_iterators": errors_.get("ExpiredIteratorException", 0),
            "partially_failed_records": found.get("partial_records", {}).get("ProvisionedThroughputExceededException", 0),
            "unanswered_records": found.get("records_unanswered", 0),
            "written_then_lost_records": found.get("records_written_unanswered", 0)}


def set_faults(endpoint, **rates: float) -> None:
    endpoint.clear_faults()
    endpoint.add_faults(fault_plan(**rates))


def faulty_backend(seed: int, **rates):
    client, endpoint = faulty_client(ManualClock(START), seed, **rates)
    slept: list[float] = []
    backend = RetryingBackend(KinesisBackend(client, wall_clock=endpoint.clock.now), sleep=slept.append,
                              rng=random.Random(seed), retry=RetryPolicy(attempts=60))
    return endpoint.backend, endpoint, backend, slept


@pytest.mark.parametrize("seed", range(5))
def test_throttling_partial_failures_and_lost_answers_lose_nothing_and_count_every_duplicate(seed):
    memory, endpoint, backend, slept = faulty_backend(seed, throttle=0.2, partial=0.3, lost_response=0.1,
                                                      lost_request=0.1)
    memory.create_stream("s", 3)
    sent = []
    for i in range(300):
        data = f"single-{i}".encode()
        assert isinstance(backend.put_record("s", data, f"k{i % 7}"), PutResult)
        sent.append(data)
    for batch in range(20):
        entries = [PutEntry(f"batch-{batch}-{i}".encode(), f"k{i % 7}") for i in range(25)]
        outcomes = backend.put_records("s", entries)
        assert all(isinstance(o, PutResult) for o in outcomes)
        sent += [e.data for e in entries]
    stored = Counter(read_everything(memory, "s"))
    assert set(stored) == set(sent)                                  # nothing lost
    duplicates = sum(stored.values()) - len(sent)
    counts = injected(endpoint)
    assert duplicates == counts["written_then_lost_records"]  # what really doubled ...
    # ... and counted: every record of a put that got no answer may have been written, for all a client
    # can tell, so each is counted as a possible duplicate; the ones that really doubled are among them
    assert backend.stats.possible_duplicates == counts["unanswered_records"] >= duplicates > 0
    assert counts["throttled_calls"] and counts["partially_failed_records"]
    assert slept and max(slept) <= RetryPolicy().cap_s


def test_a_batch_that_keeps_failing_comes_back_as_failures_not_silence():
    memory, endpoint, backend, _ = faulty_backend(1, partial=1.0)
    memory.create_stream("s", 1)
    backend.retry = RetryPolicy(attempts=3)
    outcomes = backend.put_records("s", [PutEntry(b"x", "k"), PutEntry(b"y", "k")])
    assert [type(o) for o in outcomes] == [PutFailure, PutFailure]
    assert outcomes[0].error_code == "ProvisionedThroughputExceededException"
    assert backend.stats.retried_records == 4


def test_a_put_that_keeps_being_throttled_raises_the_api_error():
    memory, endpoint, backend, slept = faulty_backend(1, throttle=1.0)
    memory.create_stream("s", 1)
    backend.retry = RetryPolicy(attempts=4)
    with pytest.raises(errors.ProvisionedThroughputExceededException):
        backend.put_record("s", b"x", "k")
    assert len(slept) == 3


def test_an_expired_iterator_is_renewed_after_the_last_record_read():
    memory, endpoint, backend, _ = faulty_backend(3)
    memory.create_stream("s", 1)
    for i in range(10):
        backend.put_record("s", str(i).encode(), "k")
    iterator = backend.get_shard_iterator("s", "shardId-000000000000", "TRIM_HORIZON")
    first = backend.get_records(iterator, limit=4)
    set_faults(endpoint, expire=1.0)
    with pytest.raises(errors.ExpiredIteratorException):  # renewed once, and that one expires too
        backend.get_records(first.next_shard_iterator, limit=4)
    set_faults(endpoint)
    iterator = backend.get_shard_iterator("s", "shardId-000000000000", "TRIM_HORIZON")
    first = backend.get_records(iterator, limit=4)
    memory.clock.advance(301)  # really expire it, on the simulated shards' clock
    rest = backend.get_records(first.next_shard_iterator)
    assert [r.data for r in first.records + rest.records] == [str(i).encode() for i in range(10)]
    assert backend.stats.renewed_iterators == 2


def test_a_latest_iterator_renewed_before_any_read_misses_nothing():
    memory, endpoint, backend, _ = faulty_backend(3)
    memory.create_stream("s", 1)
    iterator = backend.get_shard_iterator("s", "shardId-000000000000", "LATEST")
    memory.clock.advance(10)
    backend.put_record("s", b"after", "k")
    memory.clock.advance(300)
    assert [r.data for r in backend.get_records(iterator).records] == [b"after"]


def test_shards_are_listed_page_by_page_with_the_token_alone():
    memory = kinsim.MemoryBackend(ManualClock(START))
    memory.create_stream("s", 7)
    backend = KinesisBackend(kinsim.client(memory), shard_page_size=2)  # kinsim's client refuses name + token
    assert [s.shard_id for s in backend.list_shards("s")] == [f"shardId-00000000000{i}" for i in range(7)]


def test_botocore_errors_do_not_escape():
    backend = KinesisBackend(kinsim.client(kinsim.MemoryBackend(ManualClock(START))))
    with pytest.raises(errors.ResourceNotFoundException) as excinfo:
        backend.describe_stream("missing")
    assert type(excinfo.value).__module__ == "kinsim.errors"
    assert excinfo.value.code == "ResourceNotFoundException"
    assert type(excinfo.value.__cause__).__module__.startswith("botocore")  # the cause is kept
    with pytest.raises(errors.ValidationException):
        backend.put_record("s", "not bytes", 42)


def test_the_raw_backend_makes_one_call_and_answers_as_the_service_did():
    client, endpoint = faulty_client(ManualClock(START), 4, throttle=1.0)
    memory = endpoint.backend
    backend = KinesisBackend(client)
    memory.create_stream("s", 1)
    with pytest.raises(errors.ProvisionedThroughputExceededException):
        backend.put_record("s", b"x", "k")
    assert injected(endpoint)["throttled_calls"] == 1                 # no retry behind the caller's back
    set_faults(endpoint, lost_response=1.0)
    with pytest.raises(errors.AnswerLostError) as lost:
        backend.put_record("s", b"y", "k")
    assert lost.value.operation == "put_record"
    assert read_everything(memory, "s") == [b"y"]                  # written, though the answer was lost
    set_faults(endpoint, expire=1.0)
    iterator = backend.get_shard_iterator("s", "shardId-000000000000", "TRIM_HORIZON")
    with pytest.raises(errors.ExpiredIteratorException):
        backend.get_records(iterator)


def test_the_same_policy_over_simulated_shards_sleeps_on_their_clock():
    """RetryingBackend over a MemoryBackend: 2,500 records into one shard in one second of its clock are
    all written, the excess after backing off on that clock, and nothing twice."""
    clock = ManualClock(START)
    memory = kinsim.MemoryBackend(clock)
    backend = RetryingBackend(memory, sleep=clock.advance, rng=random.Random(1), retry=RetryPolicy(attempts=30))
    backend.create_stream("s", 1)
    sent = [str(i).encode() for i in range(2_500)]
    for first in range(0, len(sent), 500):
        outcomes = backend.put_records("s", [PutEntry(data, "k") for data in sent[first:first + 500]])
        assert all(isinstance(o, PutResult) for o in outcomes)
    assert backend.stats.retried_records > 0 and clock.now() > START + 1
    assert sorted(read_everything(memory, "s")) == sorted(sent)


def test_a_run_over_a_faulty_stream_loses_nothing_and_counts_every_possible_duplicate():
    """A whole run through ``KinesisBackend`` over a stream that throttles, loses answers and requests and
    expires iterators: the run's producers and pollers handle it all on simulated time (the raw backend
    retries nothing), every record arrives, and what a lost answer may have doubled is counted."""
    kept = {}

    def factory(clock):
        client, kept["endpoint"] = faulty_client(clock, 5, throttle=0.05, lost_response=0.05, lost_request=0.05,
                                                 expire=0.05)
        return KinesisBackend(client, wall_clock=clock.now)

    result = run(load_scenario(ROOT / "scenarios/lagged_producers.yaml"), backend_factory=factory)
    counts = injected(kept["endpoint"])
    assert result.produced == result.delivered == 420
    assert result.possible_duplicates == counts["unanswered_records"] > 0      # one record per put
    assert result.throttled_puts + result.throttled_polls == counts["throttled_calls"] > 0
    assert counts["expired_iterators"] > 0
    naive = result.counters[0].counter
    assert naive.records_counted == 420 + counts["written_then_lost_records"]  # read twice, counted twice


def test_an_unreachable_endpoint_is_a_backend_error():
    from kinsim.servers import free_port
    backend = KinesisBackend(loopback_client(f"http://127.0.0.1:{free_port()}"))
    with pytest.raises(errors.BackendError, match="cannot reach Kinesis"):
        backend.list_streams()


# -- against kinesalite, through the command line ---------------------------------------------------------
SECRET = "kinsim-secret-do-not-print-0123456789"


def kinsim_cli(*args):
    env = dict(os.environ, AWS_ACCESS_KEY_ID="AKIAKINSIMTEST", AWS_SECRET_ACCESS_KEY=SECRET)
    done = subprocess.run([sys.executable, "-m", "kinsim", *args], capture_output=True, text=True, timeout=300,
                          cwd=ROOT, env=env)
    assert SECRET not in done.stdout + done.stderr
    assert "AKIAKINSIMTEST" not in done.stdout + done.stderr
    return done


def comparable(report_json: str, *, polls: bool = True) -> dict:
    """A JSON report without what only simulated shards know: the backend's name, when each shard opened
    and closed and its MillisBehindLatest (a real stream measures it on the wall clock); without the poll
    count too when ``polls`` is False (a real stream completes a reshard on its own time, a poll earlier
    or later)."""
    report = json.loads(report_json)
    report.pop("backend")
    for shard in report["stream"]["shards"]:
        for key in ("opened_at", "closed_at", "most_millis_behind_latest"):
            shard.pop(key)
    if not polls:
        report["consumer"].pop("polls")
        for row in report["stream"]["throughput"]:
            row.pop("records_read")
    return report


@pytest.mark.kinesalite
@pytest.mark.parametrize("scenario", ["lagged_producers", "seed_tutorial", "hopping_windows", "outage_burst"])
def test_kinesalite_report_equals_the_memory_report_but_for_the_backend(kinesalite_server, scenario):
    path = f"scenarios/{scenario}.yaml"
    memory = kinsim_cli("run", path, "--format", "json")
    real = kinsim_cli("run", path, "--format", "json", "--backend", "kinesis", "--endpoint-url",
                      kinesalite_server.endpoint_url, "--region", "us-east-1")
    assert real.returncode == 0, real.stderr
    assert '"backend": "kinesis"' in real.stdout
    assert comparable(real.stdout) == comparable(memory.stdout)


@pytest.mark.kinesalite
def test_a_split_and_a_merge_on_kinesalite_count_as_on_simulated_shards(kinesalite_server, tmp_path):
    """The reshards of reshard_midway.yaml are API calls: on kinesalite (which completes them on its own
    time, a few of the run's puts later, and gives no ChildShards: the consumer finds the children in
    the listing) the same shards open, each parent is read before its children, nothing is lost, and
    every final count is the same (when each was first reported may differ by a poll)."""
    path = tmp_path / "reshard_midway.yaml"
    path.write_text((ROOT / "scenarios/reshard_midway.yaml").read_text().replace("update_delay: 30s",
                                                                                 "update_delay: 0s"))
    memory = kinsim_cli("run", str(path), "--format", "json")
    real = kinsim_cli("run", str(path), "--format", "json", "--backend", "kinesis", "--endpoint-url",
                      kinesalite_server.endpoint_url, "--region", "us-east-1")
    assert real.returncode == 0, real.stderr
    expected, got = comparable(memory.stdout, polls=False), comparable(real.stdout, polls=False)
    assert [(s["shard_id"], s["parents"]) for s in got["stream"]["shards"]] == [
        ("shardId-000000000000", []), ("shardId-000000000001", ["shardId-000000000000"]),
        ("shardId-000000000002", ["shardId-000000000000"]),
        ("shardId-000000000003", ["shardId-000000000001", "shardId-000000000002"])]
    assert sum(s["records_read"] for s in got["stream"]["shards"]) == got["records"]["produced"] == 740
    assert got["records"] == expected["records"] and got["stream"]["faults"] == expected["stream"]["faults"]
    for ours, theirs in zip(got["counters"], expected["counters"]):  # the same counts, in the end
        assert ours["rows"] == theirs["rows"]
        for metric in ("final_exact", "never_converged", "late_records"):
            assert ours["metrics"][metric] == theirs["metrics"][metric], (ours["name"], metric)


# -- workers: a crash and a restart, in process through KinesisBackend -----------------------------------------
CRASH_AND_RESTART = """\
name: crash_and_restart
seed: 3
start: 2018-07-31T21:56:00Z
duration: 6m
window: 1m
stream: {shards: 2}
producers:                        # 8.8.8.8 and 8.8.8.9 hash to shard 0, 1.1.1.1 and 8.8.4.4 to shard 1
  - {name: a, partition_key: 8.8.8.8, interval: 2s, lag: {constant: 100ms}}
  - {name: b, partition_key: 8.8.8.9, interval: 5s, lag: {uniform: [5s, 40s]}}
  - {name: c, partition_key: 1.1.1.1, interval: 3s, lag: {exponential: {mean: 500ms}}}
  - {name: d, partition_key: 8.8.4.4, interval: 4s, lag: {constant: 1s}}
consumer:
  workers: 2
  poll_interval: 5s
  lease: {failover_time: 10s}
  checkpoint: {every: 30s}
  state: checkpointed
faults:
  - {at: 2m10s, crash: w1}
  - {at: 4m, restart: w1}
counters:
  - naive
  - {kind: buffered, name: buffered-1m, grace: 1m}   # the lag is at most 40 s
"""


def crash_and_restart_on(endpoint_url: str, tmp_path):
    """The same scenario on simulated shards and through ``KinesisBackend`` on a server; both results."""
    path = tmp_path / "crash_and_restart.yaml"
    path.write_text(CRASH_AND_RESTART, encoding="utf-8")
    scenario = load_scenario(path)
    memory = run(scenario)
    real = run(scenario, backend_factory=lambda clock: KinesisBackend(loopback_client(endpoint_url)),
               stream_name=f"kinsim-crash-{uuid.uuid4().hex[:8]}")
    assert (memory.backend, real.backend) == ("memory", "kinesis")
    for result in (memory, real):
        w = result.workers
        assert w.never_delivered == 0 and w.delivered == result.produced + w.duplicates
        assert w.duplicates > 0             # what w1 processed after its last checkpoint, given to w2 again
        [crashed] = [h.shard_id for h in w.holdings if h.worker == "w1" and h.how == "crashed"]
        assert [(t.shard_id, t.worker, t.at, t.after) for t in w.takeovers if t.previous == "w1"] == \
            [(crashed, "w2", 160.0, 30.0)]  # expired 10 s after w1's last renew; w2's next take round
        for counter in result.counters:     # state: checkpointed: the duplicates are not counted twice
            assert (counter.metrics["final_exact"], counter.metrics["never_converged"]) == (1.0, 0), counter.spec.name
    return memory, real


def workers_view(result) -> dict:
    """What the workers did, without anything a backend decides: takeovers (shard, by whom, from whom, when,
    how long after the crash), the leases each worker held and when, the workers' events, deliveries and
    checkpoints."""
    w = result.workers
    return {"takeovers": [(t.shard_id, t.worker, t.previous, t.stolen, t.at, t.after) for t in w.takeovers],
            "leases": [(h.worker, h.shard_id, h.start, h.end, h.how) for h in w.holdings],
            "events": [(e.worker, e.what, e.at) for e in w.events],
            "delivery": (w.delivered, w.duplicates, w.never_delivered, w.checkpoints_written, w.checkpoints_refused)}


@pytest.mark.kinesalite
def test_a_crash_and_a_restart_of_a_worker_on_kinesalite_go_as_on_simulated_shards(kinesalite_server, tmp_path):
    """Two workers; w1 crashes at 2m10s holding one lease and comes back at 4m. On both backends every record
    is delivered at least once, w2 takes the crashed worker's lease 30 s after the crash, and with
    ``state: checkpointed`` both counters end exact.

    Nothing differs between the backends here, and that is expected: leases, renewals, takes and
    checkpoints are kinsim's (its lease table, on the run's simulated clock); the stream only answers
    PutRecord, ListShards, GetShardIterator and GetRecords. kinesalite does not throttle, and this load
    stays under the simulated shards' limits (at most two readers of a shard, each every 5 s); a poll
    renews the iterator, so none expires on either (kinesalite's would after 5 minutes of the wall clock,
    and the run takes a few seconds). What a real stream decides is left out of the comparison: its
    sequence numbers (kinesalite's encode the wall clock, so the lease table's checkpoints hold other
    numbers for the same records), arrival timestamps and MillisBehindLatest (wall clock: the counters
    use the event time in the data, and end of input needs 0 at the tip, which kinesalite answers), and
    when shards opened (``comparable``)."""
    memory, real = crash_and_restart_on(kinesalite_server.endpoint_url, tmp_path)
    assert workers_view(real) == workers_view(memory)
    assert [(s.shard_id, s.records_read) for s in real.shards] == [(s.shard_id, s.records_read) for s in memory.shards]
    assert comparable(to_json(real)) == comparable(to_json(memory))   # the final counts, and all the rest


@pytest.mark.moto_server
def test_a_crash_and_a_restart_of_a_worker_on_moto_server_go_as_on_simulated_shards(moto_server, tmp_path):
    """The same on moto server: its known gaps (writes after a split stay in the parent, no throttling,
    iterators that never expire) do not touch a stream that is never resharded."""
    memory, real = crash_and_restart_on(moto_server.endpoint_url, tmp_path)
    assert workers_view(real) == workers_view(memory)
    assert comparable(to_json(real)) == comparable(to_json(memory))


@pytest.mark.kinesalite
def test_a_throttle_fault_on_a_real_stream_is_refused_by_name(kinesalite_server):
    real = kinsim_cli("run", "scenarios/hot_shard.yaml", "--backend", "kinesis", "--endpoint-url",
                      kinesalite_server.endpoint_url, "--region", "us-east-1")
    assert real.returncode == 1
    assert real.stderr.count("\n") == 1 and "Traceback" not in real.stderr
    assert "faults[0]" in real.stderr and "throttle faults need simulated shards" in real.stderr


@pytest.mark.moto_server
def test_moto_server_report_equals_the_memory_report_but_for_the_backend(moto_server):
    memory = kinsim_cli("run", "scenarios/lagged_producers.yaml", "--format", "json")
    real = kinsim_cli("run", "scenarios/lagged_producers.yaml", "--format", "json", "--backend", "kinesis",
                      "--endpoint-url", moto_server.endpoint_url, "--region", "us-east-1")
    assert real.returncode == 0, real.stderr
    assert comparable(real.stdout) == comparable(memory.stdout)


@pytest.mark.moto_server
def test_on_moto_server_a_split_leaves_writes_in_the_parent_and_counts_still_add_up(moto_server, tmp_path):
    """moto server keeps writing to a split shard (DESIGN §9): every record stays in the parent, which
    never ends, so the children are never read; nothing is lost and the counts end exact all the same."""
    path = tmp_path / "reshard_midway.yaml"
    path.write_text((ROOT / "scenarios/reshard_midway.yaml").read_text().replace("update_delay: 30s",
                                                                                 "update_delay: 0s"))
    real = kinsim_cli("run", str(path), "--format", "json", "--backend", "kinesis", "--endpoint-url",
                      moto_server.endpoint_url, "--region", "us-east-1")
    assert real.returncode == 0, real.stderr
    report = json.loads(real.stdout)
    records = {s["shard_id"]: s["records_read"] for s in report["stream"]["shards"]}
    assert records["shardId-000000000000"] == report["records"]["produced"] == 740
    exact = {c["name"]: c["metrics"]["final_exact"] for c in report["counters"]}
    assert exact["naive"] == exact["buffered-2m"] == 1.0


@pytest.mark.kinesalite
def test_kinsim_deletes_only_what_it_created_and_refuses_a_stream_it_did_not(kinesalite_server, kinesalite):
    url = kinesalite_server.endpoint_url
    base = ["--backend", "kinesis", "--endpoint-url", url, "--region", "us-east-1"]
    kinesalite.create_stream(StreamName="blogpost-word-stream", ShardCount=1)
    try:
        refused = kinsim_cli("run", "scenarios/seed_tutorial.yaml", *base)
        assert refused.returncode == 2
        assert refused.stderr == ("kinsim: error: stream blogpost-word-stream already exists and kinsim did not "
                                  "create it; pass --use-existing-stream to write into it anyway\n")
        allowed = kinsim_cli("run", "scenarios/seed_tutorial.yaml", *base, "--use-existing-stream")
        assert allowed.returncode == 0, allowed.stderr
        assert "blogpost-word-stream" in kinesalite.list_streams()["StreamNames"]  # not ours: kept
    finally:
        kinesalite.delete_stream(StreamName="blogpost-word-stream")


@pytest.mark.kinesalite
def test_keep_stream_keeps_the_stream_kinsim_created(kinesalite_server, kinesalite, tmp_path):
    scenario = tmp_path / "unnamed.yaml"
    text = (ROOT / "scenarios/seed_tutorial.yaml").read_text().replace("  name: blogpost-word-stream\n", "")
    scenario.write_text(text)
    before = set(kinesalite.list_streams()["StreamNames"])
    done = kinsim_cli("run", str(scenario), "--backend", "kinesis", "--endpoint-url", kinesalite_server.endpoint_url,
                      "--region", "us-east-1", "--keep-stream")
    assert done.returncode == 0, done.stderr
    [kept] = set(kinesalite.list_streams()["StreamNames"]) - before
    assert kept.startswith("kinsim-seed_tutorial-")  # a unique, kinsim- prefixed name
    kinesalite.delete_stream(StreamName=kept)


def test_credentials_stay_out_of_failures_too():
    from kinsim.servers import free_port
    done = kinsim_cli("run", "scenarios/seed_tutorial.yaml", "--backend", "kinesis", "--endpoint-url",
                      f"http://127.0.0.1:{free_port()}", "--region", "us-east-1")
    assert done.returncode == 1
    assert done.stderr.startswith("kinsim: the run failed: cannot reach Kinesis")


def test_realtime_pacing_gives_the_same_report():
    fast = kinsim_cli("run", "scenarios/seed_tutorial.yaml", "--format", "json")
    paced = kinsim_cli("run", "scenarios/seed_tutorial.yaml", "--format", "json", "--realtime", "--speed", "500")
    assert paced.returncode == 0, paced.stderr
    assert paced.stdout == fast.stdout


def test_memory_backend_options_need_the_kinesis_backend():
    done = kinsim_cli("run", "scenarios/seed_tutorial.yaml", "--region", "eu-west-1")
    assert done.returncode == 2
    assert done.stderr == "kinsim: error: --endpoint-url, --region and --profile need --backend kinesis\n"

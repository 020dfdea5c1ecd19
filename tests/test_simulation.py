"""The simulated producers, network and consumer, watched through what the consumer reads."""

from __future__ import annotations

from kinsim.backends.shards import sequence_number_shard_index
from kinsim.runner import run
from kinsim.scenario import parse_scenario


def scenario(producers, consumer=None, counters=("naive",), duration="1m", shards=1):
    return parse_scenario({
        "seed": 1, "start": "2018-07-31T21:56:00Z", "duration": duration,
        "stream": {"name": "s", "shards": shards}, "producers": producers,
        "consumer": consumer or {"poll_interval": "1s"}, "counters": list(counters),
    }, "<test>", "test")


def reads(spec):
    """(partition key, data, arrival seconds after start) of every record the consumer read, in order."""
    seen = []
    start = spec.start.timestamp()
    run(spec, echo=lambda r: seen.append((r.partition_key, r.data.decode(),
                                          round(r.approximate_arrival_timestamp - start, 6))))
    return seen


def test_fixed_pacing_creates_on_schedule_and_the_link_adds_the_lag():
    got = reads(scenario([{"name": "p", "partition_key": "k", "interval": "10s", "offset": "5s",
                           "lag": {"constant": "250ms"}}]))
    assert got[:3] == [("k", "2018-07-31T21:56:05.000000", 5.25), ("k", "2018-07-31T21:56:15.000000", 15.25),
                       ("k", "2018-07-31T21:56:25.000000", 25.25)]
    assert len(got) == 6  # created at 5, 15, ... 55 s: inside the one-minute duration


def test_after_put_pacing_waits_for_the_put():
    got = reads(scenario([{"name": "p", "partition_key": "k", "interval": "2s", "pacing": "after_put",
                           "lag": {"constant": "120ms"}}], duration="10s"))
    assert [t for _, _, t in got] == [0.12, 2.24, 4.36, 6.48, 8.6]


def test_an_outage_holds_records_and_releases_them_in_order():
    got = reads(scenario([{"name": "p", "partition_key": "k", "interval": "10s", "lag": {"constant": "1s"},
                           "outages": [{"at": "15s", "for": "30s"}]}]))
    assert [(d[17:19], t) for _, d, t in got] == [("00", 1.0), ("10", 11.0), ("20", 46.0), ("30", 46.0),
                                                  ("40", 46.0), ("50", 51.0)]


def test_clock_skew_shifts_the_written_timestamp_not_the_truth():
    spec = scenario([{"name": "p", "partition_key": "k", "interval": "20s", "offset": "50s",
                      "clock_skew": "15s"}], duration="1m")
    assert reads(spec) == [("k", "2018-07-31T21:57:05.000000", 50.0)]
    result = run(spec)
    rows = {(start, key): count for (start, key), count in result.counters[0].truth.cells.items()}
    assert list(rows.values()) == [1] and list(rows)[0][0] % 60_000_000 == 0
    assert result.counters[0].metrics["final_exact"] == 0.0  # counted in the wrong minute


def test_throttled_puts_are_retried_and_none_is_lost():
    producers = [{"name": f"p{i}", "partition_key": "same-key", "interval": "1ms"} for i in range(2)]
    result = run(scenario(producers, duration="3s", consumer={"poll_interval": "1s"}))
    assert result.produced == 6000
    assert result.throttled_puts > 0
    assert result.delivered == result.produced
    assert result.counters[0].counter.records_counted == 6000


def test_a_latest_consumer_misses_what_came_before_it():
    got = reads(scenario([{"name": "p", "partition_key": "k", "interval": "10s"}],
                         consumer={"start": "25s", "iterator": "LATEST", "poll_interval": "1s"}))
    assert [d[17:19] for _, d, _ in got] == ["30", "40", "50"]


def test_the_consumer_reads_every_shard_and_keeps_shard_order():
    producers = [{"name": f"p{i}", "partition_key": f"10.0.0.{i}", "interval": "3s",
                  "lag": {"uniform": ["0s", "20s"]}} for i in range(8)]
    got = reads(scenario(producers, consumer={"poll_interval": "5s", "limit": 7}, shards=3))
    assert len(got) == 8 * 20
    per_key: dict[str, list[float]] = {}
    for key, _, arrival in got:
        per_key.setdefault(key, []).append(arrival)
    assert all(times == sorted(times) for times in per_key.values())


def test_a_worker_waking_at_a_tick_joins_one_take_round():
    """A pause of w1 from 1m to 1m40s: 100 s is the 30th tick of a 10 s failover time (30 × 10/3), which
    floor division puts at 29.99...: the wake's round and the tick's ran at one instant, w1 joined one take
    round twice, planned the same steal twice and stole the lease from itself. Now: w2 takes w1's lease
    at its take round at 1m20s, w1 steals one back at 1m40s, and that is all."""
    spec = parse_scenario({
        "seed": 3, "start": "2018-07-31T21:56:00Z", "duration": "3m", "stream": {"name": "s", "shards": 2},
        "producers": [{"name": "a", "partition_key": "8.8.8.8", "interval": "2s"},
                      {"name": "c", "partition_key": "1.1.1.1", "interval": "3s"}],
        "consumer": {"workers": 2, "poll_interval": "5s", "lease": {"failover_time": "10s"}},
        "faults": [{"at": "1m", "for": "40s", "pause": "w1"}], "counters": ["naive"],
    }, "<test>", "test")
    w = run(spec).workers
    [paused] = [h.shard_id for h in w.holdings if h.worker == "w1" and h.start == 0]
    [other] = {"shardId-000000000000", "shardId-000000000001"} - {paused}
    assert [(t.shard_id, t.worker, t.previous, t.stolen, t.at) for t in w.takeovers] == [
        (paused, "w2", "w1", False, 80.0), (other, "w1", "w2", True, 100.0)]
    assert [(h.worker, h.shard_id, h.start) for h in w.holdings].count(("w1", other, 100.0)) == 1


# -- workers: regressions -----------------------------------------------------------------------------------
def worker_run(producers, consumer, faults, shards=1, duration="1m", echo=None, update_delay="0s", seed=1):
    return run(parse_scenario({
        "seed": seed, "start": "2018-07-31T21:56:00Z", "duration": duration,
        "stream": {"name": "s", "shards": shards, "update_delay": update_delay}, "producers": producers,
        "consumer": consumer, "counters": ["naive"], "faults": faults}, "<test>", "test"), echo=echo)


def test_a_worker_crashed_at_the_consumers_start_takes_no_lease():
    """A fault at 0 s comes before the consumer starts: w1 is down when the workers start, so it must not
    start (it used to take and renew leases it never processed, and the run stalled)."""
    result = worker_run([{"name": "p", "partition_key": "10.0.0.1", "interval": "250ms"}],
                        {"poll_interval": "500ms", "workers": ["w1", "w2"], "lease": {"failover_time": "3s"}},
                        [{"at": "0s", "crash": "w1"}], shards=2)
    assert result.workers.never_delivered == 0 and result.delivered == result.produced == 240
    assert {h.worker for h in result.workers.holdings} == {"w2"}


def test_a_zombies_poll_of_a_shard_read_to_its_end_by_another_does_not_hold_input_open():
    """w1 holds shard 1 and stalls from 1 s to 7 s; a merge closes shard 1 at 2 s; w2 takes the expired
    lease at 6 s and reads shard 1 to its end at 6.5 s. w1 wakes at 7 s and polls shard 1 once more (a
    zombie, refused at its checkpoint): that poll must not make shard 1 unread again (the run used to
    stall: "shardId-000000000001 is not read to the end")."""
    result = worker_run([{"name": "p", "partition_key": "10.0.0.2", "interval": "250ms"}],
                        {"poll_interval": "500ms", "limit": 3, "workers": ["w1", "w2"],
                         "lease": {"failover_time": "1500ms"}, "checkpoint": "each_batch"},
                        [{"at": "1s", "for": "6s", "pause": "w1"},
                         {"at": "2s", "merge": ["shardId-000000000000", "shardId-000000000001"]}], shards=2)
    assert result.workers.never_delivered == 0 and result.workers.checkpoints_refused == 1
    assert [(h.worker, h.shard_id, h.how) for h in result.workers.holdings if h.shard_id.endswith("1")] == [
        ("w1", "shardId-000000000001", "lost"), ("w2", "shardId-000000000001", "ended")]


def test_a_merge_child_waits_for_its_other_parent_however_long_it_takes():
    """Shard 0 splits at 1 s (children 2 and 3), then 3 merges with 1 at 2 s (child 4). Shard 0 has a
    backlog of 100 records read one a second, so 3's lease is made at about 100 s; shard 1 (empty) ends
    at once and its end waits for it. It used to give up after 50 polls and make 4's lease, whose
    missing parent 3 counted as ended: 4 was read before 3 was even leased. Now every record of 3 is
    read before the first of 4."""
    shards = []
    result = worker_run([{"name": "p", "partition_key": "10.0.0.4", "interval": "10ms", "until": "3s"}],
                        {"poll_interval": "1s", "limit": 1},
                        [{"at": "1s", "split": "shardId-000000000000"},
                         {"at": "2s", "merge": ["shardId-000000000003", "shardId-000000000001"]}],
                        shards=2, duration="10s",
                        echo=lambda r: shards.append(sequence_number_shard_index(int(r.sequence_number))))
    assert result.workers.never_delivered == 0 and shards.count(3) == shards.count(4) == 100
    assert max(i for i, shard in enumerate(shards) if shard == 3) < shards.index(4)


def test_a_worker_in_back_to_back_pauses_takes_nothing_until_both_are_over():
    """w1 stalls from 0 s to 1 s and from 1 s to 7 s: it used to run a take round at 1 s, the first
    pause's end, and steal shard 0 from w2 while still stalled; its first take is at 7 s."""
    result = worker_run([{"name": "p", "partition_key": "10.0.0.1", "interval": "250ms"}],
                        {"poll_interval": "500ms", "workers": ["w1", "w2"], "lease": {"failover_time": "1500ms"}},
                        [{"at": "0s", "for": "1s", "pause": "w1"}, {"at": "1s", "for": "6s", "pause": "w1"}], shards=2)
    assert min(t.at for t in result.workers.takeovers if t.worker == "w1") == 7.0
    assert min(h.start for h in result.workers.holdings if h.worker == "w1") == 7.0


def test_a_worker_crashed_in_a_pause_takes_nothing_when_the_pause_would_have_ended():
    """w1 stalls from 10 s to 30 s and crashes at 20 s: it used to wake at 30 s, dead, and steal shard 0
    from w2 (nobody read shard 0 until w2 took it back at 42 s)."""
    result = worker_run([{"name": "p", "partition_key": "10.0.0.1", "interval": "250ms"}],
                        {"poll_interval": "500ms", "workers": ["w1", "w2"], "lease": {"failover_time": "3s"}},
                        [{"at": "10s", "for": "20s", "pause": "w1"}, {"at": "20s", "crash": "w1"}], shards=2)
    assert [(t.worker, t.shard_id, t.at) for t in result.workers.takeovers] == [("w2", "shardId-000000000001", 18.0)]
    assert [(h.worker, h.start) for h in result.workers.holdings if h.worker == "w1"] == [("w1", 0)]


def test_holdings_and_takeovers_name_a_restarted_worker_as_the_lease_table_does():
    """w1 crashes at 20 s and comes back at 30 s as w1#2: the takeovers read "w1#2 from w1" (they read
    "w1 from w1", a worker stealing from itself), and so do the holdings."""
    result = worker_run([{"name": "a", "partition_key": "10.0.0.1", "interval": "1s"},
                         {"name": "b", "partition_key": "10.0.0.12", "interval": "1s"}],
                        {"poll_interval": "1s", "workers": ["w1"], "lease": {"failover_time": "3s"},
                         "checkpoint": {"every": "5s"}},
                        [{"at": "20s", "crash": "w1"}, {"at": "30s", "restart": "w1"}], shards=2)
    assert [(t.worker, t.previous, t.at) for t in result.workers.takeovers] == [("w1#2", "w1", 30.0),
                                                                                  ("w1#2", "w1", 36.0)]
    assert sorted((h.worker, h.start, h.how) for h in result.workers.holdings) == [
        ("w1", 0, "crashed"), ("w1", 0, "crashed"), ("w1#2", 30.0, ""), ("w1#2", 36.0, "")]
    assert result.workers.names == ("w1",)


def test_a_zombie_reaching_the_end_of_a_shard_another_ended_does_not_bring_its_children_back():
    """a holds shards 1 and 2 and stalls from 1 s to 10 s; b takes them, ends them, and ends their
    children 3 and 4 too (whose leases are then cleaned up). At 10 s a wakes at the ends of 1 and 2: it
    used to make 3's and 4's leases again, and a read them both a second time from TRIM_HORIZON."""
    result = worker_run([{"name": "p", "partition_key": "10.0.0.1", "interval": "250ms"}],
                        {"poll_interval": "500ms", "limit": 3, "workers": ["b", "a"],
                         "lease": {"failover_time": "1500ms"}, "checkpoint": {"every": "1s"}},
                        [{"at": "0s", "shard_count": 2}, {"at": "1s", "for": "9s", "pause": "a"}], shards=3,
                        update_delay="1s", seed=0)
    ended = [h.shard_id for h in result.workers.holdings if h.how == "ended"]
    assert sorted(ended) == sorted(set(ended)) and len(ended) == 5


def test_a_zombie_that_takes_its_lease_back_at_once_starts_a_new_processor_after_the_checkpoint():
    """a holds shard 0 and stalls from 1 s to 21 s; b takes the lease at 12 s and checkpoints up to record
    43. At 21 s a wakes: its old consumer processes one more batch (records 4 to 6, a zombie's), then a
    learns at its renew that the lease is b's, and in the same round steals it back (b holds two). Its
    old consumer used to carry on, accepted again, from record 7: every record b had processed was
    processed again and the lease's checkpoint went back from 43 to 8. Now it gets lease_lost and a new
    one starts after 43: the only duplicates are the zombie's batch and what b read after its last
    checkpoint (3 + 3)."""
    result = worker_run([{"name": "p", "partition_key": "10.0.0.1", "interval": "500ms"}],
                        {"poll_interval": "500ms", "limit": 3, "workers": ["a", "b"],
                         "lease": {"failover_time": "3s"}, "checkpoint": {"records": 7}},
                        [{"at": "1s", "for": "20s", "pause": "a"}], shards=2)
    assert [(t.worker, t.previous, t.at) for t in result.workers.takeovers if t.shard_id.endswith("0")] == [
        ("b", "a", 12.0), ("a", "b", 21.0)]
    assert result.workers.duplicates == 6 and result.workers.never_delivered == 0


def test_a_record_arriving_long_after_the_last_one_read_is_not_a_stall():
    """One record, twenty minutes on its way: nothing is given to a processor until it arrives, which is
    not a stalled run (the guard used to count from the last record processed, here the start, and
    raised StalledError the moment the record arrived); it counts from when every record is in."""
    result = worker_run([{"name": "p", "partition_key": "10.0.0.1", "interval": "1m", "lag": {"constant": "20m"}}],
                        {"poll_interval": "1s"}, [], duration="1m")
    assert result.delivered == result.produced == 1 and 1200.0 <= result.ended_at <= 1201.0


def test_a_zombies_poll_does_not_end_input_before_the_owner_has_read_everything():
    """w1 stalls from 12 s to 40 s; w2 takes its lease at 18 s and polls every 5 s (38 s, then 43 s). At
    40 s the last record arrives and w1 wakes: its poll, a zombie's, reads to the tip. It used to end
    input there, before w2 had read the last two records: w2's restored counts, missing them, were the
    last word (final_exact 0.75 with state checkpointed and a day of grace). Input ends at w2's poll."""
    result = run(parse_scenario({
        "seed": 0, "start": "2018-07-31T21:56:00Z", "duration": "40s", "window": "10s",
        "stream": {"name": "s", "shards": 1},
        "producers": [{"name": "p", "partition_key": "10.0.0.1", "interval": "1s", "lag": {"constant": "1s"}}],
        "consumer": {"poll_interval": "5s", "workers": ["w1", "w2"], "lease": {"failover_time": "3s"},
                     "checkpoint": {"every": "1s"}, "state": "checkpointed"},
        "counters": [{"kind": "buffered", "name": "patient", "grace": "1d"}],
        "faults": [{"at": "12s", "for": "28s", "pause": "w1"}]}, "<test>", "test"))
    assert result.ended_at == 43.0 and result.counters[0].metrics["final_exact"] == 1.0

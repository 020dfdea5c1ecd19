"""The buffered counter's ``idle_timeout`` (DESIGN §6) on hand-made polls, empty ones included."""

from __future__ import annotations

import json

import pytest

from kinsim.counters import BufferedCounter, ParameterError, Windowing, collect

S = 1_000_000  # one second in microseconds
MINUTE = Windowing.of_seconds(60, 60)
SHARD = "shardId-000000000000"


def buffered(grace=0, lateness=0, idle_timeout=None):
    rows, sink = collect()
    options = {} if idle_timeout is None else {"idle_timeout": idle_timeout}
    return BufferedCounter("b", MINUTE, sink, grace=grace, allowed_lateness=lateness, **options), rows


def poll(counter, shard_id, records, now_us):
    """Give a counter one poll's records, written as (key, event time) pairs; [] is an empty poll."""
    counter.process(shard_id, tuple(key for key, _ in records), tuple(ts for _, ts in records), now_us)


def test_a_quiet_shards_last_minute_fires_at_the_first_poll_idle_timeout_after_its_last_record():
    counter, rows = buffered(grace=10, idle_timeout="2m")
    poll(counter, SHARD, [("a", 5 * S), ("b", 50 * S)], 100 * S)   # last read at 100 s
    poll(counter, SHARD, [], 150 * S)
    poll(counter, SHARD, [], 220 * S - 1)                          # a microsecond short of 2 minutes
    assert rows == []
    assert counter.watermark(SHARD) == 40 * S                      # 50 s - grace, as it was
    poll(counter, SHARD, [], 220 * S)                              # exactly 2 minutes: W = 220 - 120 - 10
    assert rows == [(0, "a", 1, 220 * S), (0, "b", 1, 220 * S)]
    assert counter.watermark(SHARD) == 90 * S
    assert counter.state_cells == 0                                # no allowed lateness: evicted too
    poll(counter, SHARD, [], 400 * S)                              # W = 400 - 120 - 10: nothing more to fire
    assert counter.watermark(SHARD) == 270 * S
    assert len(rows) == 2
    counter.close(500 * S)
    assert len(rows) == 2


def test_a_record_after_the_idle_raise_is_late_by_the_raised_watermark():
    counter, rows = buffered(grace=10, idle_timeout=120)
    poll(counter, SHARD, [("a", 50 * S)], 100 * S)
    # at 300 s the shard has been quiet 200 s: W = 300 - 120 - 10 = 170 s, before this poll's records
    poll(counter, SHARD, [("b", 100 * S), ("c", 200 * S)], 300 * S)
    assert rows == [(0, "a", 1, 300 * S)]
    assert [(late.key, late.event_us, late.late_by_us, late.processed_us) for late in counter.late] == [
        ("b", 100 * S, 70 * S, 300 * S)]
    assert counter.watermark(SHARD) == 190 * S                     # then 200 s moved it on
    assert counter.records_counted == 2


def test_a_poll_with_only_late_records_still_counts_as_a_read():
    counter, rows = buffered(grace=0, idle_timeout=60)
    poll(counter, SHARD, [("a", 100 * S)], 100 * S)
    poll(counter, SHARD, [("b", 10 * S)], 130 * S)                 # late, but the shard answered at 130 s
    assert len(counter.late) == 1
    poll(counter, SHARD, [], 189 * S)                              # 59 s after 130 s: not idle yet
    assert counter.watermark(SHARD) == 100 * S
    poll(counter, SHARD, [], 190 * S)
    assert counter.watermark(SHARD) == 130 * S
    assert rows == [(60 * S, "a", 1, 190 * S)]


def test_the_idle_watermark_never_goes_back_and_is_per_shard():
    counter, rows = buffered(grace=0, idle_timeout=60)
    poll(counter, "s1", [("a", 500 * S)], 100 * S)                 # event times ahead of processing time
    poll(counter, "s2", [("b", 5 * S)], 100 * S)
    poll(counter, "s1", [], 200 * S)                               # 200 - 60 = 140 s < 500 s: stays
    assert counter.watermark("s1") == 500 * S
    assert rows == []
    poll(counter, "s2", [], 159 * S)
    assert rows == []
    poll(counter, "s2", [], 160 * S)                               # s2's minute 0 closes; s1 untouched
    assert rows == [(0, "b", 1, 160 * S)]
    assert counter.watermark("s1") == 500 * S


def test_a_shard_that_never_returned_a_record_has_no_idle_watermark():
    counter, rows = buffered(grace=0, idle_timeout=60)
    poll(counter, SHARD, [], 100 * S)
    poll(counter, SHARD, [], 1000 * S)
    assert counter.watermark(SHARD) is None
    poll(counter, SHARD, [("a", 5 * S)], 2000 * S)                 # a first record, however old, is counted
    assert counter.late == [] and counter.records_counted == 1
    assert rows == []


def test_with_idle_timeout_off_empty_polls_change_nothing():
    outcomes = []
    for empties in (False, True):
        counter, rows = buffered(grace=10)
        poll(counter, SHARD, [("a", 5 * S), ("a", 65 * S)], 100 * S)
        if empties:
            for now in (200 * S, 10_000 * S, 10**6 * S):
                poll(counter, SHARD, [], now)
                poll(counter, "silent", [], now)
        poll(counter, SHARD, [("a", 20 * S)], 10**7 * S)
        counter.close(10**7 * S + 1)
        outcomes.append((rows, counter.late, counter.watermark(SHARD), counter.emitted_rows,
                         counter.peak_state_cells, counter.records_counted, counter.state_cells))
    assert outcomes[0] == outcomes[1]
    assert outcomes[0][0][0] == (0, "a", 2, 10**7 * S + 1)  # minute 0 fired only at the end


@pytest.mark.parametrize("value, problem", [
    (0, "must be above 0 (or left out), got 0"),
    ("0s", "must be above 0 (or left out), got '0s'"),
    ("-2m", "expected a duration like 500ms, 20s, 2m or 1h, got '-2m'"),
    ("idle", "expected a duration like 500ms, 20s, 2m or 1h, got 'idle'"),
])
def test_a_bad_idle_timeout_names_itself(value, problem):
    with pytest.raises(ParameterError) as excinfo:
        BufferedCounter("b", MINUTE, collect()[1], idle_timeout=value)
    assert (excinfo.value.name, excinfo.value.problem) == ("idle_timeout", problem)


def test_params_show_idle_timeout_only_when_it_is_on():
    off = {"size": 60.0, "slide": 60.0, "grace": 1.5, "allowed_lateness": 0.5}
    counter = BufferedCounter("b", MINUTE, collect()[1], grace="1.5s", allowed_lateness="500ms")
    assert json.dumps(counter.params) == json.dumps(off)          # key for key, in the same order
    assert counter.idle_timeout_us is None
    counter = BufferedCounter("b", MINUTE, collect()[1], grace="1.5s", allowed_lateness="500ms", idle_timeout="2m")
    assert counter.params == {**off, "idle_timeout": 120.0}
    assert BufferedCounter("b", MINUTE, collect()[1], idle_timeout=0.25).params["idle_timeout"] == 0.25
    assert "idle_timeout" in BufferedCounter.parameters

"""Naive and buffered counters on hand-made inputs, asserting on their reports like a log."""

from __future__ import annotations

import pytest

from kinsim.counters import BufferedCounter, NaiveCounter, ParameterError, Windowing, collect

S = 1_000_000  # one second in microseconds
MINUTE = Windowing.of_seconds(60, 60)
SHARD = "shardId-000000000000"


def buffered(grace=0, lateness=0, windowing=MINUTE):
    rows, sink = collect()
    return BufferedCounter("b", windowing, sink, grace=grace, allowed_lateness=lateness), rows


def poll(counter, shard_id, records, now_us):
    """Give a counter one poll's records, written as (key, event time) pairs."""
    counter.process(shard_id, tuple(key for key, _ in records), tuple(ts for _, ts in records), now_us)


def test_windowing_assigns_tumbling_and_hopping_windows():
    assert list(MINUTE.starts(61 * S)) == [60 * S]
    assert list(MINUTE.starts(60 * S)) == [60 * S]
    hopping = Windowing.of_seconds(60, 20)
    assert list(hopping.starts(61 * S)) == [20 * S, 40 * S, 60 * S]
    assert list(hopping.starts(-1)) == [-60 * S, -40 * S, -20 * S]


def test_naive_reports_every_changed_cell_after_each_poll_and_keeps_everything():
    rows, sink = collect()
    naive = NaiveCounter("naive", MINUTE, sink)
    poll(naive, SHARD, [("a", 5 * S), ("b", 6 * S)], 10 * S)
    poll(naive, SHARD, [], 20 * S)
    poll(naive, SHARD, [("a", 65 * S)], 70 * S)
    assert rows == [(0, "a", 1, 10 * S), (0, "b", 1, 10 * S), (60 * S, "a", 1, 70 * S)]
    assert naive.emitted_rows == 2 + 3  # it prints every cell it holds, after each poll with records
    assert naive.state_cells == naive.peak_state_cells == 3
    assert naive.records_counted == 3


def test_buffered_fires_a_window_once_the_watermark_passes_its_end():
    counter, rows = buffered(grace=10)
    poll(counter, SHARD, [("a", 5 * S), ("a", 50 * S), ("a", 69 * S)], 100 * S)
    assert rows == []  # watermark 59 s: the first minute is still open
    poll(counter, SHARD, [("a", 70 * S)], 110 * S)
    assert rows == [(0, "a", 2, 110 * S)]
    assert counter.watermark(SHARD) == 60 * S


def test_a_record_behind_an_evicted_window_is_late_and_says_how_late():
    counter, rows = buffered(grace=10)
    poll(counter, SHARD, [("a", 75 * S), ("a", 30 * S)], 100 * S)
    assert rows == []
    assert [(late.key, late.event_us, late.late_by_us) for late in counter.late] == [("a", 30 * S, 35 * S)]
    assert counter.records_counted == 1


def test_allowed_lateness_keeps_a_fired_window_and_reports_corrections():
    counter, rows = buffered(grace=0, lateness=30)
    poll(counter, SHARD, [("a", 10 * S), ("a", 61 * S)], 70 * S)
    poll(counter, SHARD, [("a", 20 * S)], 80 * S)          # within the 30 s allowed lateness
    poll(counter, SHARD, [("a", 95 * S), ("a", 30 * S)], 100 * S)  # the window is evicted by then
    assert rows == [(0, "a", 1, 70 * S), (0, "a", 2, 80 * S)]
    assert [late.event_us for late in counter.late] == [30 * S]


def test_a_window_passed_while_empty_takes_late_records_as_corrections():
    counter, rows = buffered(grace=0, lateness=60)
    poll(counter, SHARD, [("a", 130 * S)], 131 * S)        # minutes 0 and 1 passed, never seen
    poll(counter, SHARD, [("b", 70 * S)], 140 * S)
    assert rows == [(60 * S, "b", 1, 140 * S)]


def test_the_watermark_is_per_shard():
    counter, rows = buffered(grace=0)
    poll(counter, "s1", [("a", 5 * S)], 10 * S)
    poll(counter, "s2", [("b", 70 * S)], 80 * S)  # shard 2's watermark passes minute 0 ...
    assert rows == []                                 # ... shard 1's does not
    poll(counter, "s1", [("a", 61 * S)], 90 * S)
    assert rows == [(0, "a", 1, 90 * S)]


def test_close_fires_everything_still_open():
    counter, rows = buffered(grace=600)
    poll(counter, SHARD, [("b", 5 * S), ("a", 6 * S), ("a", 65 * S)], 70 * S)
    counter.close(80 * S)
    assert rows == [(0, "a", 1, 80 * S), (0, "b", 1, 80 * S), (60 * S, "a", 1, 80 * S)]
    assert counter.state_cells == 0
    assert counter.peak_state_cells == 3


def test_hopping_buffered_counts_a_record_in_every_window_holding_it():
    counter, rows = buffered(grace=0, windowing=Windowing.of_seconds(60, 30))
    poll(counter, SHARD, [("a", 45 * S)], 50 * S)
    counter.close(60 * S)
    assert rows == [(0, "a", 1, 60 * S), (30 * S, "a", 1, 60 * S)]


def test_a_counter_takes_any_sequences_of_keys_and_times():
    for make in (lambda sink: NaiveCounter("n", MINUTE, sink), lambda sink: BufferedCounter("b", MINUTE, sink)):
        outcomes = []
        for keys, times in ((("a", "b", "a"), (5 * S, 6 * S, 61 * S)), (["a", "b", "a"], range(5 * S, 62 * S, 28 * S)),
                            ("aba", [5 * S, 6 * S, 61 * S])):  # a str is a sequence of one-letter keys
            rows, sink = collect()
            counter = make(sink)
            counter.process(SHARD, keys, times, 70 * S)
            counter.close(80 * S)
            outcomes.append((rows, counter.records_counted, counter.state_cells))
        assert outcomes[0][1:] == outcomes[1][1:] == outcomes[2][1:] and outcomes[0] == outcomes[2]


def test_durations_are_given_as_a_scenario_writes_them():
    for grace in ("90s", "1m30s", 90, 90.0):
        assert BufferedCounter("b", MINUTE, collect()[1], grace=grace).grace_us == 90 * S
    counter = BufferedCounter("b", MINUTE, collect()[1], grace="1.5s", allowed_lateness="500ms")
    assert counter.params == {"size": 60.0, "slide": 60.0, "grace": 1.5, "allowed_lateness": 0.5}


@pytest.mark.parametrize("params, name, problem", [
    ({"grace": "-10s"}, "grace", "expected a duration like 500ms, 20s, 2m or 1h, got '-10s'"),
    ({"allowed_lateness": "soon"}, "allowed_lateness", "expected a duration like 500ms, 20s, 2m or 1h, got 'soon'"),
    ({"grace": -1}, "grace", "a duration cannot be negative, got -1"),
])
def test_a_bad_parameter_names_itself(params, name, problem):
    with pytest.raises(ParameterError) as excinfo:
        BufferedCounter("b", MINUTE, collect()[1], **params)
    assert (excinfo.value.name, excinfo.value.problem) == (name, problem)
    assert isinstance(excinfo.value, ValueError)


@pytest.mark.parametrize("size, slide, problem", [
    (0, 0, "a window's size must be above 0"),
    (60, 120, "slide must be above 0 and at most the size, or windows would leave gaps"),
    (60, 25, "size must be a whole number of slides, so windows align"),
])
def test_windowing_says_why_it_cannot_be(size, slide, problem):
    with pytest.raises(ValueError, match=problem):
        Windowing.of_seconds(size, slide)


def test_naive_params_show_the_slide_only_when_windows_hop():
    assert NaiveCounter("n", MINUTE, collect()[1]).params == {"size": 60.0}
    assert NaiveCounter("n", Windowing.of_seconds(60, 20), collect()[1]).params == {"size": 60.0, "slide": 20.0}

"""Naive and buffered counters on hand-made inputs, asserting on their reports like a log."""

from __future__ import annotations

from kinsim.counters import BufferedCounter, NaiveCounter, Windowing, collect

S = 1_000_000  # one second in microseconds
MINUTE = Windowing.of_seconds(60, 60)
SHARD = "shardId-000000000000"


def buffered(grace=0, lateness=0, windowing=MINUTE):
    rows, sink = collect()
    return BufferedCounter("b", windowing, sink, grace * S, lateness * S), rows


def test_windowing_assigns_tumbling_and_hopping_windows():
    assert list(MINUTE.starts(61 * S)) == [60 * S]
    assert list(MINUTE.starts(60 * S)) == [60 * S]
    hopping = Windowing.of_seconds(60, 20)
    assert list(hopping.starts(61 * S)) == [20 * S, 40 * S, 60 * S]
    assert list(hopping.starts(-1)) == [-60 * S, -40 * S, -20 * S]


def test_naive_reports_every_changed_cell_after_each_poll_and_keeps_everything():
    rows, sink = collect()
    naive = NaiveCounter("naive", MINUTE, sink)
    naive.process(SHARD, [("a", 5 * S), ("b", 6 * S)], 10 * S)
    naive.process(SHARD, [], 20 * S)
    naive.process(SHARD, [("a", 65 * S)], 70 * S)
    assert rows == [(0, "a", 1, 10 * S), (0, "b", 1, 10 * S), (60 * S, "a", 1, 70 * S)]
    assert naive.emitted_rows == 2 + 3  # it prints every cell it holds, after each poll with records
    assert naive.state_cells == naive.peak_state_cells == 3
    assert naive.records_counted == 3


def test_buffered_fires_a_window_once_the_watermark_passes_its_end():
    counter, rows = buffered(grace=10)
    counter.process(SHARD, [("a", 5 * S), ("a", 50 * S), ("a", 69 * S)], 100 * S)
    assert rows == []  # watermark 59 s: the first minute is still open
    counter.process(SHARD, [("a", 70 * S)], 110 * S)
    assert rows == [(0, "a", 2, 110 * S)]
    assert counter.watermark(SHARD) == 60 * S


def test_a_record_behind_an_evicted_window_is_late_and_says_how_late():
    counter, rows = buffered(grace=10)
    counter.process(SHARD, [("a", 75 * S), ("a", 30 * S)], 100 * S)
    assert rows == []
    assert [(late.key, late.event_us, late.late_by_us) for late in counter.late] == [("a", 30 * S, 35 * S)]
    assert counter.records_counted == 1


def test_allowed_lateness_keeps_a_fired_window_and_reports_corrections():
    counter, rows = buffered(grace=0, lateness=30)
    counter.process(SHARD, [("a", 10 * S), ("a", 61 * S)], 70 * S)
    counter.process(SHARD, [("a", 20 * S)], 80 * S)          # within the 30 s allowed lateness
    counter.process(SHARD, [("a", 95 * S), ("a", 30 * S)], 100 * S)  # the window is evicted by then
    assert rows == [(0, "a", 1, 70 * S), (0, "a", 2, 80 * S)]
    assert [late.event_us for late in counter.late] == [30 * S]


def test_a_window_passed_while_empty_takes_late_records_as_corrections():
    counter, rows = buffered(grace=0, lateness=60)
    counter.process(SHARD, [("a", 130 * S)], 131 * S)        # minutes 0 and 1 passed, never seen
    counter.process(SHARD, [("b", 70 * S)], 140 * S)
    assert rows == [(60 * S, "b", 1, 140 * S)]


def test_the_watermark_is_per_shard():
    counter, rows = buffered(grace=0)
    counter.process("s1", [("a", 5 * S)], 10 * S)
    counter.process("s2", [("b", 70 * S)], 80 * S)  # shard 2's watermark passes minute 0 ...
    assert rows == []                                 # ... shard 1's does not
    counter.process("s1", [("a", 61 * S)], 90 * S)
    assert rows == [(0, "a", 1, 90 * S)]


def test_close_fires_everything_still_open():
    counter, rows = buffered(grace=600)
    counter.process(SHARD, [("b", 5 * S), ("a", 6 * S), ("a", 65 * S)], 70 * S)
    counter.close(80 * S)
    assert rows == [(0, "a", 1, 80 * S), (0, "b", 1, 80 * S), (60 * S, "a", 1, 80 * S)]
    assert counter.state_cells == 0
    assert counter.peak_state_cells == 3


def test_hopping_buffered_counts_a_record_in_every_window_holding_it():
    counter, rows = buffered(grace=0, windowing=Windowing.of_seconds(60, 30))
    counter.process(SHARD, [("a", 45 * S)], 50 * S)
    counter.close(60 * S)
    assert rows == [(0, "a", 1, 60 * S), (30 * S, "a", 1, 60 * S)]

"""Properties of the counters (DESIGN §6), for any generated stream of records.

Records are (key, event time) pairs; each key lives on one shard; a generated lag per record decides
the order in which they reach their shard, and generated poll boundaries cut that order into polls.
"""

from __future__ import annotations

from collections import Counter as Multiset

from hypothesis import given, settings
from hypothesis import strategies as st

from kinsim.counters import BufferedCounter, NaiveCounter, Windowing, collect

S = 1_000_000
KEYS = ["8.8.8.8", "8.8.8.9", "10.0.0.1", "10.0.0.2"]

windowings = st.sampled_from([(60, 60), (60, 30), (60, 15), (10, 10), (30, 10)]).map(
    lambda pair: Windowing.of_seconds(*pair))


@st.composite
def streams(draw, max_lag_s=120):
    """(events, arrival order per shard, poll cut points): events are (key, ts_us, lag_us)."""
    n = draw(st.integers(1, 80))
    # whole seconds most of the time, so records often sit right at window edges; any microsecond too
    times = st.integers(0, 600).map(lambda s: s * S) | st.integers(0, 600 * S)
    lags = st.integers(0, max_lag_s).map(lambda s: s * S) | st.integers(0, max_lag_s * S)
    events = [(draw(st.sampled_from(KEYS)), draw(times), draw(lags)) for _ in range(n)]
    shard_of = {key: f"shard-{draw(st.integers(0, 2))}" for key in KEYS}
    cuts = draw(st.lists(st.integers(1, 10), min_size=1, max_size=20))
    return events, shard_of, cuts


def arrivals(events, shard_of):
    """Per shard, records in the order they arrive: by event time plus lag."""
    order = sorted(range(len(events)), key=lambda i: (events[i][1] + events[i][2], i))
    per_shard: dict[str, list[tuple[str, int]]] = {}
    for i in order:
        key, ts, _ = events[i]
        per_shard.setdefault(shard_of[key], []).append((key, ts))
    return per_shard


def feed(counter, per_shard, cuts):
    """Hand each shard's records to the counter in polls, shards taking turns; then close."""
    now = 0
    queues = {shard: list(records) for shard, records in sorted(per_shard.items())}
    turn = 0
    while any(queues.values()):
        for shard, queue in queues.items():
            size = cuts[turn % len(cuts)]
            turn += 1
            batch, queues[shard] = queue[:size], queue[size:]
            now += S
            counter.process(shard, tuple(key for key, _ in batch), tuple(ts for _, ts in batch), now)
    counter.close(now + S)
    return counter


def truth(events, windowing):
    cells = Multiset()
    for key, ts, _ in events:
        for start in windowing.starts(ts):
            cells[(start, key)] += 1
    return dict(cells)


def final_counts(rows):
    last = {}
    for start, key, count, _ in rows:
        last[(start, key)] = count
    return last


def largest_disorder(per_shard) -> int:
    worst = 0
    for records in per_shard.values():
        high = None
        for _, ts in records:
            if high is not None:
                worst = max(worst, high - ts)
            high = ts if high is None else max(high, ts)
    return worst


@settings(max_examples=200, deadline=None)
@given(streams(), windowings)
def test_with_grace_at_least_the_largest_disorder_buffered_final_counts_equal_truth(stream, windowing):
    events, shard_of, cuts = stream
    per_shard = arrivals(events, shard_of)
    rows, sink = collect()
    counter = feed(BufferedCounter("b", windowing, sink, grace=f"{largest_disorder(per_shard)}us"), per_shard, cuts)
    assert counter.late == []
    assert final_counts(rows) == truth(events, windowing)


@settings(max_examples=200, deadline=None)
@given(streams(), windowings, st.integers(0, 90), st.integers(0, 90))
def test_counted_plus_late_is_every_record_given(stream, windowing, grace_s, lateness_s):
    events, shard_of, cuts = stream
    per_shard = arrivals(events, shard_of)
    for counter in (BufferedCounter("b", windowing, collect()[1], grace=grace_s, allowed_lateness=lateness_s),
                    NaiveCounter("n", windowing, collect()[1])):
        feed(counter, per_shard, cuts)
        assert counter.records_counted + len(counter.late) == len(events)


@settings(max_examples=200, deadline=None)
@given(streams(), windowings, st.integers(0, 90))
def test_the_watermark_never_goes_back(stream, windowing, grace_s):
    events, shard_of, _ = stream
    counter = BufferedCounter("b", windowing, collect()[1], grace=grace_s)
    seen: dict[str, int] = {}
    for shard, records in arrivals(events, shard_of).items():
        for key, ts in records:
            counter.process(shard, (key,), (ts,), 0)
            mark = counter.watermark(shard)
            assert mark >= seen.get(shard, mark)
            seen[shard] = mark
    for late in counter.late:
        assert late.late_by_us > 0


@settings(max_examples=200, deadline=None)
@given(streams(max_lag_s=60), windowings)
def test_any_reordering_within_the_grace_leaves_buffered_results_unchanged(stream, windowing):
    events, shard_of, cuts = stream
    grace = 60  # seconds: every lag is at most 60 s, so every disorder is too
    in_order = arrivals([(key, ts, 0) for key, ts, _ in events], shard_of)
    lagged = arrivals(events, shard_of)
    results = []
    for per_shard in (in_order, lagged):
        rows, sink = collect()
        feed(BufferedCounter("b", windowing, sink, grace=grace), per_shard, cuts)
        results.append(Multiset((start, key, count) for start, key, count, _ in rows))
    assert results[0] == results[1]


@settings(max_examples=200, deadline=None)
@given(streams(max_lag_s=3600), windowings)
def test_naive_final_counts_always_equal_truth(stream, windowing):
    events, shard_of, cuts = stream
    rows, sink = collect()
    feed(NaiveCounter("n", windowing, sink), arrivals(events, shard_of), cuts)
    assert final_counts(rows) == truth(events, windowing)


@settings(max_examples=500, deadline=None)
@given(st.integers(-10**12, 10**12), st.sampled_from([1, 2, 3, 4, 6, 12]), st.integers(1, 120))
def test_a_records_hopping_windows_are_exactly_those_containing_its_timestamp(ts, hops, slide_s):
    windowing = Windowing(hops * slide_s * S, slide_s * S)
    starts = list(windowing.starts(ts))
    assert len(starts) == hops
    for start in starts:
        assert start % windowing.slide_us == 0 and start <= ts < start + windowing.size_us
    # no other aligned window holds it: the ones just outside do not
    assert not starts[0] - windowing.slide_us + windowing.size_us > ts
    assert not starts[-1] + windowing.slide_us <= ts


@settings(max_examples=200, deadline=None)
@given(streams(), windowings, st.sampled_from(["naive", "buffered"]), st.sampled_from([0, 20, 90]),
       st.sampled_from([0, 30]))
def test_a_sink_that_takes_a_window_at_once_hears_what_a_plain_sink_hears(stream, windowing, kind, grace_s,
                                                                            lateness_s):
    """``report_rows``: a sink with ``rows`` gets a window's cells in one call; the same reports, in the
    same order, as a sink called once per cell."""
    events, shard_of, cuts = stream
    plain_rows, plain = collect()

    class WindowAtOnce:
        def __init__(self):
            self.rows_given = []

        def __call__(self, start, key, count, at):
            self.rows_given.append((start, key, count, at))

        def rows(self, start, keys, counts, at):
            assert len(keys) == len(counts)
            self.rows_given += [(start, key, count, at) for key, count in zip(keys, counts)]

    at_once = WindowAtOnce()
    for rows_sink in (plain, at_once):
        if kind == "naive":
            counter = NaiveCounter("n", windowing, rows_sink)
        else:
            counter = BufferedCounter("b", windowing, rows_sink, grace=grace_s, allowed_lateness=lateness_s)
        feed(counter, arrivals(events, shard_of), cuts)
    assert at_once.rows_given == plain_rows

"""One counter per shard, reported as one: sums per cell, a shard's end, the figures a report reads."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from kinsim.counters import BufferedCounter, NaiveCounter, PerShard, Windowing, collect

MINUTE = 60_000_000
T0 = 1_533_074_160_000_000  # 2018-07-31T21:56:00Z
WINDOWS = Windowing.of_seconds(60)


def buffered(grace: str = "0s"):
    return lambda sink: BufferedCounter("b", WINDOWS, sink, grace=grace)


def test_a_cell_split_between_shards_is_reported_as_the_sum_of_their_latest_counts():
    rows, sink = collect()
    counter = PerShard(lambda sink: NaiveCounter("n", WINDOWS, sink), sink)
    counter.process("shardId-000000000000", ["k", "k"], [T0, T0 + 1], T0 + 5)
    counter.process("shardId-000000000001", ["k"], [T0 + 2], T0 + 6)
    counter.process("shardId-000000000000", ["k"], [T0 + 3], T0 + 7)
    assert rows == [(T0, "k", 2, T0 + 5), (T0, "k", 3, T0 + 6), (T0, "k", 4, T0 + 7)]
    assert counter.records_counted == 4 and counter.state_cells == 2  # one cell in each shard's counter
    assert counter.emitted_rows == 3                                   # each shard prints its own cells


def test_a_shard_that_ends_fires_its_share_and_a_child_starts_with_no_watermark():
    rows, sink = collect()
    counter = PerShard(buffered("30s"), sink)
    parent, child = "shardId-000000000000", "shardId-000000000001"
    counter.process(parent, ["k"] * 3, [T0, T0 + 10, T0 + 20], T0 + 25)
    assert rows == []                                  # the parent's watermark has not passed the minute
    counter.end_shard(parent, T0 + 30)
    assert rows == [(T0, "k", 3, T0 + 30)]            # its share, at its end
    counter.process(child, ["k", "k"], [T0 + MINUTE + 1, T0 + 30], T0 + 40)  # no watermark: T0 + 30 counts
    counter.close(T0 + 50)
    assert rows[1:] == [(T0, "k", 4, T0 + 50), (T0 + MINUTE, "k", 1, T0 + 50)]
    assert counter.late == [] and counter.state_cells == 0
    counter.end_shard(parent, T0 + 60)                # ending twice changes nothing
    assert len(rows) == 3


def test_what_the_report_reads_comes_from_the_counter_kind():
    rows, sink = collect()
    counter = PerShard(buffered("90s"), sink)
    assert counter.kind == "buffered" and counter.name == "b" and counter.windowing == WINDOWS
    assert counter.params == {"size": 60.0, "slide": 60.0, "grace": 90.0, "allowed_lateness": 0.0}

    class Bare:  # a counter of one's own with nothing but the interface
        def __init__(self, name, windowing, sink):
            self.name, self.windowing, self.sink = name, windowing, sink

        def process(self, shard_id, keys, event_us, now_us):
            for key, ts in zip(keys, event_us):
                self.sink(ts - ts % MINUTE, key, 1, now_us)

        def close(self, now_us):
            pass

    bare = PerShard(lambda sink: Bare("bare", WINDOWS, sink), sink)
    bare.process("shardId-000000000000", ["k"], [T0], T0)
    assert not hasattr(bare, "kind") and bare.peak_state_cells is None and bare.late == []
    assert bare.emitted_rows == 1 and bare.records_counted == 0


polls = st.lists(st.tuples(st.sampled_from(["shardId-000000000000", "shardId-000000000001",
                                            "shardId-000000000002"]),
                           st.lists(st.tuples(st.sampled_from("abc"), st.integers(0, 5 * MINUTE)), max_size=6)),
                 max_size=30)


@settings(max_examples=300, deadline=None)
@given(polls, st.sampled_from(["0s", "20s", "90s"]), st.lists(st.booleans(), min_size=30, max_size=30))
def test_per_shard_counters_report_the_sum_of_independent_counters(polls, grace, ends):
    """Against counters built one per shard by hand and summed per cell by the test: the same reports,
    the same late records, and the most cells held at once within what the shards' own peaks allow."""
    rows, sink = collect()
    counter = PerShard(buffered(grace), sink)
    own: dict[str, BufferedCounter] = {}
    latest: dict[tuple, dict[str, int]] = {}
    expected, ended, most_after_polls = [], set(), 0

    def sink_of(shard):
        def report(start, key, count, at):
            latest.setdefault((start, key), {})[shard] = count
            expected.append((start, key, sum(latest[(start, key)].values()), at))
        return report

    now = T0
    for (shard, records), end in zip(polls, ends):
        now += 1_000_000
        if shard in ended:
            continue
        keys, times = [k for k, _ in records], [T0 + t for _, t in records]
        if shard not in own:
            own[shard] = BufferedCounter("b", WINDOWS, sink_of(shard), grace=grace)
        own[shard].process(shard, keys, times, now)
        counter.process(shard, keys, times, now)
        if end:
            ended.add(shard)
            own[shard].close(now)
            counter.end_shard(shard, now)
        most_after_polls = max(most_after_polls, sum(c.state_cells for c in own.values()))
        assert counter.state_cells == sum(c.state_cells for c in own.values())
    for shard in sorted(own):
        if shard not in ended:
            own[shard].close(now)
    counter.close(now)
    assert rows == expected
    assert sorted(counter.late, key=repr) == sorted((r for c in own.values() for r in c.late), key=repr)
    assert counter.records_counted == sum(c.records_counted for c in own.values())
    assert most_after_polls <= counter.peak_state_cells <= sum(c.peak_state_cells for c in own.values())
    assert max((c.peak_state_cells for c in own.values()), default=0) <= counter.peak_state_cells

"""What makes a poll that returns few or no records cheap must not change what it does: iterator tokens
are the same text as the payload's plain encoding; an empty poll left out (a counter that says it changes
nothing, a processor quiet until its checkpoint falls due) would indeed have changed nothing; the peak of
cells measured inline is the one ``PerShard._run`` measures."""

from __future__ import annotations

import base64
import copy
import zlib

from hypothesis import given, settings
from hypothesis import strategies as st

from kinsim.backends import iterators
from kinsim.backends.iterators import IteratorPosition, decode_iterator, encode_iterator
from kinsim.counters import BufferedCounter, NaiveCounter, PerShard, Windowing, collect
from kinsim.scenario.model import CheckpointPolicy
from kinsim.simulation.processing import LeaseProcessor

T0 = 1_533_074_160_000_000  # 2018-07-31T21:56:00Z
SHARD = "shardId-000000000000"


def plain_token(position: IteratorPosition) -> str:
    """The token as the format defines it: base64 of ``crc32(payload)|payload``, encoded whole."""
    payload = "|".join(("k2", position.stream_name, str(position.stream_uid), position.shard_id,
                        str(position.sequence_floor), repr(position.issued_at)))
    return base64.b64encode(f"{zlib.crc32(payload.encode('utf-8')):08x}|{payload}".encode("utf-8")).decode("ascii")


positions = st.builds(
    IteratorPosition,
    st.text(st.characters(blacklist_characters="|", blacklist_categories=("Cs",)), min_size=1, max_size=40),
    st.integers(1, 10**6),
    st.integers(0, 10**6).map(lambda i: f"shardId-{i:012d}"),
    st.integers(0, 10**56),
    st.one_of(st.floats(0, 3e11), st.sampled_from([0.0, -0.0, 1.5e9, 1.5e9 + 0.25, 7]), st.integers(0, 10**6)),
)  # times repeated (the last one's text is kept), equal but not alike (0.0 and -0.0, 7 and 7.0)


@settings(max_examples=500, deadline=None)
@given(st.lists(positions, min_size=1, max_size=6), st.lists(st.integers(0, 10**56), max_size=4))
def test_a_token_is_the_plain_encoding_of_its_payload_and_decodes_back(shards, floors):
    """Each shard's head and floor are kept between tokens; the text is the same as encoding it whole,
    for a shard seen before or not, its floor moved or not, and it decodes to its position (from the
    tokens remembered, or parsed afresh)."""
    for position in shards + [shards[0]._replace(sequence_floor=floor) for floor in floors] + shards:
        token = encode_iterator(position)
        assert token == plain_token(position)
        assert decode_iterator(token) == position
        iterators._known.clear()
        iterators._known_before.clear()
        assert decode_iterator(token) == position


def test_a_time_equal_to_the_last_one_but_not_alike_is_written_as_itself():
    for first, then in ((0.0, -0.0), (-0.0, 0.0), (7.0, 7), (7, 7.0), (1.5e9, 1.5e9)):
        for at in (first, then):
            position = IteratorPosition("s", 1, SHARD, 5, at)
            assert encode_iterator(position) == plain_token(position), (first, then)


def test_tokens_issued_just_before_the_remembered_ones_turned_over_are_still_remembered():
    tokens = [encode_iterator(IteratorPosition("s", 1, SHARD, n, 1.5e9)) for n in range(iterators._KNOWN_LIMIT + 10)]
    assert all(token in iterators._known or token in iterators._known_before for token in tokens[-100:])


# -- counters on an empty poll ---------------------------------------------------------------------------
def state(counter) -> object:
    """Everything a counter holds but its sink, as plain values."""
    held = {name: value for name, value in vars(counter).items() if name != "_sink"}
    shards = held.pop("_shards", {})
    held["_shards"] = {shard_id: {name: copy.deepcopy(getattr(shard, name)) for name in type(shard).__slots__}
                       for shard_id, shard in shards.items()}
    return copy.deepcopy(held)


polls = st.lists(st.lists(st.tuples(st.sampled_from("abc"), st.integers(0, 400)), max_size=4), min_size=1, max_size=12)
builds = [lambda sink: NaiveCounter("n", Windowing.of_seconds(60), sink),
          lambda sink: NaiveCounter("h", Windowing.of_seconds(60, 20), sink),
          lambda sink: BufferedCounter("b", Windowing.of_seconds(60), sink, grace="30s"),
          lambda sink: BufferedCounter("l", Windowing.of_seconds(60, 30), sink, grace="10s", allowed_lateness="60s")]


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(builds), polls, st.integers(0, 600))
def test_an_empty_poll_changes_nothing_in_a_counter_that_says_so(build, batches, later_s):
    rows, sink = collect()
    counter = build(sink)
    assert not counter.wants_empty_polls
    now = T0
    for batch in batches:
        now += 1_000_000
        counter.process(SHARD, [key for key, _ in batch], [T0 + ts * 1_000_000 for _, ts in batch], now)
        before, reported = state(counter), len(rows)
        counter.process(SHARD, (), (), now + later_s * 1_000_000)
        assert state(counter) == before and len(rows) == reported


def test_only_a_buffered_counter_with_an_idle_timeout_wants_empty_polls():
    _, sink = collect()
    windows = Windowing.of_seconds(60)
    assert BufferedCounter("b", windows, sink, idle_timeout="2m").wants_empty_polls
    assert PerShard(lambda sink: BufferedCounter("b", windows, sink, idle_timeout="2m"), sink).wants_empty_polls
    assert not PerShard(lambda sink: NaiveCounter("n", windows, sink), sink).wants_empty_polls

    class Own:  # a counter of one's own says nothing: it is given every poll
        def __init__(self, name, windowing, sink):
            self.name, self.windowing = name, windowing

        def process(self, shard_id, keys, event_us, now_us): ...

        def close(self, now_us): ...

    assert PerShard(lambda sink: Own("o", windows, sink), sink).wants_empty_polls


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(builds), st.lists(st.tuples(st.sampled_from([SHARD, "shardId-000000000001"]),
                                                   polls.map(lambda p: p[0])), min_size=1, max_size=30))
def test_the_peak_measured_inline_is_the_one_run_measures(build, batches):
    """``Part.process`` measures a built-in counter's peak inline; ``PerShard._run`` the same, generally."""
    runs = []
    for inline in (True, False):
        rows, sink = collect()
        counter = PerShard(build, sink)
        counter._plain_peak = inline and counter._plain_peak
        assert counter._plain_peak is inline
        for i, (shard_id, batch) in enumerate(batches):
            counter.process(shard_id, [key for key, _ in batch], [T0 + ts * 1_000_000 for _, ts in batch],
                            T0 + i * 1_000_000)
        runs.append((rows, counter.state_cells, counter.peak_state_cells,
                     [(part.counter.state_cells, part.counter.peak_state_cells) for part in counter.parts]))
    assert runs[0] == runs[1]


# -- a processor quiet until a checkpoint falls due ------------------------------------------------------
@settings(max_examples=500, deadline=None)
@given(st.floats(0, 1e6), st.floats(0.001, 3600), st.floats(0, 2e6))
def test_before_quiet_until_no_checkpoint_falls_due(started_at, every, now):
    processor = LeaseProcessor(SHARD, [], SHARD, None, CheckpointPolicy(every=every), started_at)
    assert processor.quiet_until <= started_at + every
    if now < processor.quiet_until:
        assert not processor._due(now)


def test_a_processor_is_quiet_on_empty_polls_as_its_policy_and_counters_say():
    _, sink = collect()
    windows = Windowing.of_seconds(60)
    naive = [PerShard(lambda sink: NaiveCounter("n", windows, sink), sink)]
    idle = [PerShard(lambda sink: BufferedCounter("b", windows, sink, idle_timeout="1m"), sink)]
    quiet = {policy: LeaseProcessor(SHARD, naive, SHARD, None, policy, 5.0).quiet_until
             for policy in (CheckpointPolicy(), CheckpointPolicy(records=10), CheckpointPolicy(each_batch=True))}
    assert quiet == {CheckpointPolicy(): float("inf"), CheckpointPolicy(records=10): float("inf"),
                     CheckpointPolicy(each_batch=True): float("-inf")}
    assert LeaseProcessor(SHARD, idle, SHARD, None, CheckpointPolicy(), 5.0).quiet_until == float("-inf")
    assert LeaseProcessor(SHARD, naive, SHARD, None, CheckpointPolicy(each_batch=True), 5.0,
                          user=object()).quiet_until == float("inf")  # a user's processor: no empty batches

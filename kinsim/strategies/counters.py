"""Strategies for counters (``kinsim.counters``, or a counter of your own): the polls a consumer hands a
counter, as ``Poll`` tuples of one shard's partition keys, event times and a processing time, all in
whole microseconds since the epoch; and window shapes, tumbling and hopping.

A counter takes them as ``counter.process(poll.shard_id, poll.keys, poll.event_us, poll.now_us)``, then
``counter.close(now_us)`` at the end of input.
"""

from __future__ import annotations

from typing import NamedTuple

from hypothesis import strategies as st

from .once import built_once

__all__ = ["S", "Poll", "window_shapes", "counter_polls"]

S = 1_000_000  # one second in microseconds


class Poll(NamedTuple):
    """One poll of one shard, as a counter is given it."""

    shard_id: str
    keys: tuple[str, ...]
    event_us: tuple[int, ...]
    now_us: int


_WINDOW_SHAPES = st.sampled_from([(60, 60), (60, 20), (60, 15), (10, 10), (30, 10), (1, 1), (3, 1)]).map(
    lambda pair: (pair[0] * S, pair[1] * S))


def window_shapes() -> st.SearchStrategy[tuple[int, int]]:
    """(size, slide) in microseconds: tumbling and hopping, from one second to a minute."""
    return _WINDOW_SHAPES


_BASES = st.sampled_from([0, -300 * S, 1_533_074_160 * S])
_SPANS_S = st.sampled_from([30, 120, 600])
_MAX_LAGS_S = st.sampled_from([0, 5, 30, 90])
_KEY_SETS = st.lists(st.sampled_from(["10.0.0.1", "10.0.0.2", "8.8.8.8", "8.8.8.9"]), min_size=1, max_size=4,
                     unique=True)
_SHARD_NUMBERS = st.integers(0, 2)
_CUTS = st.lists(st.integers(0, 10), min_size=1, max_size=12)


@built_once
def _event_times(slide_us: int, span_s: int, offsets: tuple[int, ...]) -> st.SearchStrategy[int]:
    """Event times over ``span_s`` seconds: window edges plus an offset, a microsecond either side, whole
    seconds, anything."""
    edges = st.builds(lambda k, offset, nudge: k * slide_us + offset + nudge, st.integers(0, span_s * S // slide_us),
                      st.sampled_from(offsets), st.sampled_from([-1, 0, 0, 1]))
    return st.one_of(edges, edges, st.integers(0, span_s).map(lambda s: s * S), st.integers(0, span_s * S))


@built_once
def _lags_us(max_lag_s: int) -> st.SearchStrategy[int]:
    return st.integers(0, max_lag_s).map(lambda s: s * S) | st.integers(0, max_lag_s * S)


@built_once
def _arrivals(keys: list[str], times: st.SearchStrategy[int], lags: st.SearchStrategy[int],
              max_records: int) -> st.SearchStrategy[list[tuple[str, int, int]]]:
    """Records as (key, event time, lag)."""
    return st.lists(st.tuples(st.sampled_from(keys), times, lags), min_size=1, max_size=max_records)


@built_once
def _stragglers(keys: list[str], times: st.SearchStrategy[int]) -> st.SearchStrategy[list[tuple[str, int, int]]]:
    """A few records that come last, as after an outage (lag 0)."""
    return st.lists(st.tuples(st.sampled_from(keys), times, st.just(0)), max_size=3)


@built_once
def _steps(steps: tuple[int, ...]) -> st.SearchStrategy[int]:
    return st.sampled_from(steps)


@st.composite
def counter_polls(draw, slide_us: int, max_records: int = 60, offsets: tuple[int, ...] = (0,),
                  steps: tuple[int, ...] = (0, 1, S), quiet_rounds: int = 0,
                  silent_shards: bool = False) -> list[Poll]:
    """Records made over half a minute to ten minutes, each reaching its key's shard after a lag (so
    shards see them out of order), cut into polls of 1 to 10 records (sometimes none, sometimes a
    shard's whole backlog at once), the shards taking turns; sometimes a few stragglers come last, as
    after an outage. Event times sit on window edges plus one of ``offsets`` (a counter's grace, say),
    a microsecond either side, on whole seconds or anywhere; around the epoch or a real date.

    Processing time moves by one of ``steps`` (microseconds) before each poll. For idle shards: up to
    ``quiet_rounds`` rounds of empty polls of every shard follow the records, and with ``silent_shards``
    every one of the three shards is polled, those that never get a record too."""
    base = draw(_BASES)
    span_s = draw(_SPANS_S)
    times = _event_times(slide_us, span_s, offsets)
    max_lag_s = draw(_MAX_LAGS_S)
    lags = _lags_us(max_lag_s)
    keys = draw(_KEY_SETS)
    shard_of = {key: f"shard-{draw(_SHARD_NUMBERS)}" for key in keys}
    records = draw(_arrivals(keys, times, lags, max_records))
    records = sorted(records, key=lambda r: r[1] + r[2])  # by arrival; equal arrivals keep their order
    records += draw(_stragglers(keys, times))
    arrived: dict[str, list[tuple[str, int]]] = {}
    for key, ts, _ in records:
        arrived.setdefault(shard_of[key], []).append((key, base + ts))
    whole = draw(st.booleans())
    cuts = [max_records + 3] if whole else draw(_CUTS)
    if not any(cuts):
        cuts = [1]
    polls, now, turn = [], base + 600 * S, 0
    if silent_shards:
        arrived = {f"shard-{i}": arrived.get(f"shard-{i}", []) for i in range(3)}
    queues = {shard: records for shard, records in sorted(arrived.items())}
    while any(queues.values()):
        for shard, queue in queues.items():
            take = cuts[turn % len(cuts)]  # every shard meets every cut: each round, the same turn
            now += draw(_steps(steps))
            polls.append(Poll(shard, tuple(k for k, _ in queue[:take]), tuple(t for _, t in queue[:take]), now))
            queues[shard] = queue[take:]
        turn += 1
    for _ in range(draw(st.integers(0, quiet_rounds)) if quiet_rounds else 0):
        for shard in queues:
            now += draw(_steps(steps))
            polls.append(Poll(shard, (), (), now))
    return polls

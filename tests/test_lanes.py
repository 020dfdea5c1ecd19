"""A lane gives back its first attempts in (time, producer, record number) order, whatever the chunks they
came in and however they are taken: checked against Python's own sort of the same attempts, one list of
tuples, sharing no code with the lane's columns and numpy sort."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from kinsim.simulation.lanes import FreshAttempts, Lane

# few distinct times, so equal times (ties broken by producer, then record number) are common
TIMES = st.sampled_from([0.0, 0.5, 1.0, 1.0000000000000002, 2.5, 7.0, 30.0, 59.999, 60.0, 1e6])


@st.composite
def chunks(draw):
    """Chunks of fresh attempts, each a list of (time, producer, record, stamp_us, key), with every
    (producer, record) pair once in all; some keys are their producer's own, some not."""
    pairs = draw(st.lists(st.tuples(st.integers(0, 6), st.integers(0, 40)), unique=True, max_size=60))
    own_keys = draw(st.booleans())
    attempts = [(draw(TIMES), producer, record, draw(st.integers(0, 2**53)),
                 producer if own_keys else draw(st.integers(0, 9)))
                for producer, record in pairs]
    cuts = sorted(draw(st.lists(st.integers(0, len(attempts)), max_size=4)))
    bounds = [0, *cuts, len(attempts)]
    return [attempts[low:high] for low, high in zip(bounds, bounds[1:])]


def fresh_of(chunk: list[tuple], as_parts: list[bool]) -> FreshAttempts:
    """A chunk as ``FreshAttempts``: each attempt in the list columns, or (``as_parts``) in a part of
    arrays of its own producer's attempts, as creation makes them."""
    fresh = FreshAttempts.empty()
    for flag, attempt in zip(as_parts, chunk):
        if flag:
            fresh.parts.append(tuple(np.array([value], dtype) for value, dtype in
                                     zip(attempt, (np.float64, np.uint32, np.int64, np.int64, np.uint32))))
        else:
            for column, value in zip(fresh.columns(), attempt):
                column.append(value)
    return fresh


def taken(lane: Lane, limit: float, inclusive: bool) -> list[tuple]:
    due = lane.take(limit, inclusive)
    return [(due.times[i], due.producers[i], due.record(i), due.stamps_us[i], due.keys[i])
            for i in range(len(due.times))]


@settings(max_examples=300, deadline=None)
@given(chunks(), st.data())
def test_a_lane_gives_its_attempts_in_time_producer_record_order(chunked, data):
    lane, model, out, model_out = Lane(), [], [], []
    for chunk in chunked:
        lane.add(fresh_of(chunk, data.draw(st.lists(st.booleans(), min_size=len(chunk), max_size=len(chunk)))))
        model = sorted(model + chunk, key=lambda attempt: attempt[:3])
        assert list(zip(*lane.pending()[:5])) == model
        limit, inclusive = data.draw(TIMES), data.draw(st.booleans())
        out += taken(lane, limit, inclusive)
        due = [attempt for attempt in model if attempt[0] < limit or inclusive and attempt[0] == limit]
        model_out += due
        model = model[len(due):]
        assert out == model_out
    out += taken(lane, float("inf"), True)
    assert out == model_out + model
    assert lane.next_due() is None

"""A counter's sink in the runner (``kinsim.metrics.Observations``) against a record of every row it is given,
kept one row at a time by the test."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kinsim.metrics import CellReport, Cells, Observations

cells = st.lists(st.tuples(st.sampled_from("abcd"), st.integers(0, 5)), max_size=6)
calls = st.lists(st.tuples(st.sampled_from([0, 60, 120]), cells), max_size=20)


@settings(max_examples=300, deadline=None)
@given(calls, st.lists(st.booleans(), min_size=20, max_size=20))
def test_a_windows_rows_at_once_are_kept_as_rows_one_by_one(given_calls, at_once):
    """Rows given a window at a time (keys new to it or not, a key twice in one call) or one by one: each
    cell keeps its first count and when, its last and when it last changed; every row is counted."""
    observations, model, rows = Observations(), {}, 0
    for at, ((start, cells), whole) in enumerate(zip(given_calls, at_once)):
        keys, counts = [key for key, _ in cells], [count for _, count in cells]
        if whole:
            observations.rows(start, keys, counts, at)
        else:
            for key, count in cells:
                observations(start, key, count, at)
        for key, count in cells:
            rows += 1
            first = model.get((start, key))
            if first is None:
                model[(start, key)] = CellReport(count, at, count, at)
            elif count != first.last:
                model[(start, key)] = CellReport(first.first, first.first_at, count, at)
    assert observations.cells == model and observations.reports == rows
    assert all(observations.windows.values())  # no window without a cell (a call with no rows makes none)


operations = st.lists(st.tuples(st.sampled_from(["set", "delete", "get"]), st.sampled_from([0, 60, 120]),
                                st.sampled_from("abc"), st.integers(0, 9)), max_size=40)


@settings(max_examples=300, deadline=None)
@given(operations)
def test_cells_kept_window_by_window_are_a_mapping_of_pairs(given_operations):
    """``Cells`` (what the truth and the observations keep, window start → key → value) seen as a mapping
    of (start, key) pairs: set, get, delete, membership, length and iteration as a dict of pairs has them,
    in its order, and no window left without cells."""
    cells, model = Cells({}), {}
    for operation, start, key, value in given_operations:
        cell = (start, key)
        if operation == "set":
            cells[cell] = model[cell] = value
        elif operation == "delete" and cell in model:
            del cells[cell], model[cell]
        elif operation == "delete":
            with pytest.raises(KeyError):
                del cells[cell]
        else:
            assert cells.get(cell, "none") == model.get(cell, "none") and (cell in cells) == (cell in model)
        assert len(cells) == len(model) and all(cells.windows.values())
    assert sorted(cells) == sorted(model) and dict(cells.items()) == model and cells == model
    grouped: dict = {}
    for (start, key), value in model.items():  # a window's cells in the order they were first set
        grouped.setdefault(start, {})[key] = value
    assert [list(window.items()) for window in cells.windows.values()] == \
        [list(grouped[start].items()) for start in cells.windows]
    assert "nothing" not in cells and (0,) not in cells

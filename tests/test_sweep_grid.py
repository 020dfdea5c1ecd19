"""Sweep grids: key paths into a scenario document, the values of --vary and --seeds, and the points the
loader makes of them."""

from __future__ import annotations

import copy
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kinsim.durations import parse_duration
from kinsim.scenario import load_scenario
from kinsim.scenario.fault_items import read_file
from kinsim.sweep.errors import SweepError
from kinsim.sweep.grid import build_grid, check_points
from kinsim.sweep.paths import resolve, with_value
from kinsim.sweep.values import parse_seeds, parse_values

ROOT = Path(__file__).resolve().parent.parent
LAGGED = str(ROOT / "scenarios" / "lagged_producers.yaml")
NAMES = ["naive", "buffered-90s", "buffered-30s", "sliding"]


@pytest.fixture
def document():
    return read_file(Path(LAGGED))


def problem(call) -> str:
    with pytest.raises(SweepError) as caught:
        call()
    return str(caught.value)


# --- paths ---------------------------------------------------------------------------------------------

def test_a_counter_by_name_is_its_place_in_the_list(document):
    path = resolve(document, "counters[buffered-90s].grace", "--vary", NAMES)
    assert path.loader_path == "counters[1].grace"
    changed = with_value(document, path, "45s")
    assert changed["counters"][1] == {"kind": "buffered", "name": "buffered-90s", "grace": "45s"}


def test_setting_a_value_copies_only_the_path_and_leaves_the_document_as_it_was(document):
    before = copy.deepcopy(document)
    changed = with_value(document, resolve(document, "producers[slow].lag.uniform", "--vary", NAMES), ["1s", "2s"])
    assert document == before
    assert changed["producers"][1]["lag"] == {"uniform": ["1s", "2s"]}
    assert changed["producers"][0] is document["producers"][0]  # shared, not copied
    assert changed["consumer"] is document["consumer"]


def test_a_bare_counter_is_named_by_its_kind_and_written_out_when_a_path_goes_into_it(document):
    path = resolve(document, "counters[naive].size", "--vary", NAMES)
    assert path.loader_path == "counters[0].size"
    changed = with_value(document, path, "2m")
    assert changed["counters"][0] == {"kind": "naive", "name": "naive", "size": "2m"}
    assert document["counters"][0] == "naive"


def test_a_path_that_ends_at_a_bare_counter_replaces_it(document):
    path = resolve(document, "counters[naive]", "--vary", NAMES)
    assert with_value(document, path, "buffered")["counters"][0] == "buffered"


def test_an_index_and_a_new_last_key(document):
    path = resolve(document, "counters[2].allowed_lateness", "--vary", NAMES)
    assert path.loader_path == "counters[2].allowed_lateness"
    assert with_value(document, path, "10s")["counters"][2]["allowed_lateness"] == "10s"


@pytest.mark.parametrize("text, words", [
    ("counters[fast].grace", ["counters has no item named 'fast'", "buffered-90s"]),
    ("counters[9].grace", ["counters has 4 items (0 to 3)", "no counters[9]"]),
    ("consumer.backoff.max", ["consumer has no key 'backoff'", "poll_interval"]),
    ("producers.interval", ["producers is a list, not a mapping", "producers[NAME]"]),
    ("consumer[0]", ["consumer is a mapping, not a list"]),
    ("consumer.limit.most", ["consumer.limit is 25, not a mapping"]),
    ("counters[slow].size", ["no item named 'slow'"]),
    ("seed", ["give the seeds with --seeds"]),
    ("counters[", ["cannot read the path"]),
    (".window", ["starts with"]),
    ("[0].window", ["starts with a list item"]),
    ("counters[].grace", ["an empty []"]),
    ("window..x", ["cannot read the path"]),
])
def test_a_bad_path_says_what_is_wrong_naming_the_option(document, text, words):
    message = problem(lambda: resolve(document, text, f"--vary {text}=1", NAMES))
    assert message.startswith(f"--vary {text}=1: ")
    for word in words:
        assert word in message


def _paths(draw, node, at=()):
    """Every place in a document, as steps (mapping keys and list indexes)."""
    places = [at] if at else []
    if isinstance(node, dict):
        for key, value in node.items():
            places += _paths(draw, value, at + (key,))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            places += _paths(draw, value, at + (index,))
    return places


_KEYS = st.text(alphabet="abcdefgxyz_-", min_size=1, max_size=6)
_DOCUMENTS = st.dictionaries(_KEYS, st.recursive(
    st.one_of(st.integers(), st.text(max_size=5), st.none()),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_KEYS, inner, max_size=4), max_leaves=20),
    min_size=1, max_size=5)


@settings(max_examples=200, deadline=None)
@given(document=_DOCUMENTS, value=st.integers(), data=st.data())
def test_a_value_set_anywhere_is_read_back_there_and_nowhere_else_changes(document, value, data):
    place = data.draw(st.sampled_from(_paths(data.draw, document)))
    text = "".join(f"[{step}]" if isinstance(step, int) else (f".{step}" if i else step)
                   for i, step in enumerate(place))
    before = copy.deepcopy(document)
    changed = with_value(document, resolve(document, text, "--vary"), value)
    assert document == before
    node = changed
    for step in place:
        node = node[step]
    assert node == value
    # put the old value back: the whole document is as it was
    old = before
    for step in place:
        old = old[step]
    assert with_value(changed, resolve(changed, text, "--vary"), old) == before


# --- values --------------------------------------------------------------------------------------------

def test_a_range_of_durations_includes_both_ends():
    assert parse_values("0s..180s/15s", "--vary") == ["0s", "15s", "30s", "45s", "1m", "1m15s", "1m30s", "1m45s",
                                                      "2m", "2m15s", "2m30s", "2m45s", "3m"]


def test_ranges_of_numbers_keep_their_type_and_have_no_rounding_drift():
    assert parse_values("1..10/3", "--vary") == [1, 4, 7, 10]
    assert parse_values("0.1..0.7/0.2", "--vary") == [0.1, 0.3, 0.5, 0.7]
    assert parse_values("0..1m/20s", "--vary") == ["0s", "20s", "40s", "1m"]


def test_lists_comma_separated_or_as_yaml_flow_sequences():
    assert parse_values("30s,60s, 90s", "--vary") == ["30s", "60s", "90s"]
    assert parse_values("[30s, 60s]", "--vary") == ["30s", "60s"]
    assert parse_values("[[10s,60s],[20s,90s]]", "--vary") == [["10s", "60s"], ["20s", "90s"]]
    assert parse_values("[10s,60s],[20s,90s]", "--vary") == [["10s", "60s"], ["20s", "90s"]]
    assert parse_values("{constant: 1s},{exponential: {mean: 2s}}", "--vary") == \
        [{"constant": "1s"}, {"exponential": {"mean": "2s"}}]
    assert parse_values("5,0.5,true,2018-07-31T21:56:00Z", "--vary") == [5, 0.5, True, "2018-07-31T21:56:00Z"]


@pytest.mark.parametrize("text, words", [
    ("0s..100s/15s", ["does not land on its end: steps of 15s from 0s reach 1m30s, then 1m45s"]),
    ("1..10/4", ["steps of 4 from 1 reach 9, then 13"]),
    ("0s..60s/0s", ["must be above 0"]),
    ("60s..0s/15s", ["ends before it starts"]),
    ("0s..60s", ["expected A..B/STEP"]),
    ("0s..soon/15s", ["range of numbers or durations"]),
    ("30s,30s", ["given twice"]),
    ("", ["no values"]),
    ("[", ["cannot read the values"]),
    ("0..100000/1", ["at most 10,000"]),
])
def test_bad_values_say_what_is_wrong(text, words):
    message = problem(lambda: parse_values(text, f"--vary grace={text}"))
    assert message.startswith(f"--vary grace={text}: ")
    for word in words:
        assert word in message


@given(first=st.integers(-1000, 1000), steps=st.integers(0, 50), step=st.integers(1, 100))
def test_a_range_of_whole_numbers_is_pythons_range(first, steps, step):
    last = first + steps * step
    assert parse_values(f"{first}..{last}/{step}", "--vary") == list(range(first, last + 1, step))


@given(first_ms=st.integers(0, 10**7), steps=st.integers(0, 30), step_ms=st.integers(1, 10**6))
def test_a_range_of_durations_steps_exactly(first_ms, steps, step_ms):
    values = parse_values(f"{first_ms}ms..{first_ms + steps * step_ms}ms/{step_ms}ms", "--vary")
    assert [round(parse_duration(value) * 1000) for value in values] == \
        [first_ms + k * step_ms for k in range(steps + 1)]


@given(first=st.decimals(-100, 100, places=3), steps=st.integers(0, 20), step=st.decimals("0.001", 10, places=3))
def test_a_range_of_decimals_lands_on_its_end(first, steps, step):
    last = first + steps * step
    values = parse_values(f"{first}..{last}/{step}", "--vary")
    assert len(values) == steps + 1
    assert values[-1] == float(last) and values[0] == float(first)
    assert [Decimal(repr(value)) for value in values] == [first + k * step for k in range(steps + 1)]


def test_seeds():
    assert parse_seeds("1..20") == list(range(1, 21))
    assert parse_seeds("0..10/5") == [0, 5, 10]
    assert parse_seeds("3,1,2") == [3, 1, 2]
    for bad in ("20..1", "a..b", "1.5", "1,1", "x"):
        assert problem(lambda: parse_seeds(bad)).startswith(f"--seeds {bad}: ")


# --- points --------------------------------------------------------------------------------------------

def test_the_grid_is_the_cartesian_product_first_vary_slowest():
    grid, base = build_grid(LAGGED, ["counters[buffered-90s].grace=30s,60s", "consumer.poll_interval=5s,10s,20s"])
    assert base.name == "lagged_producers"
    assert grid.size == 6
    assert [grid.values_at(i) for i in range(6)] == [("30s", "5s"), ("30s", "10s"), ("30s", "20s"),
                                                     ("60s", "5s"), ("60s", "10s"), ("60s", "20s")]
    scenario = grid.scenario_at(4)
    assert dict(scenario.counters[1].params)["grace"] == "60s"
    assert scenario.consumer.poll_interval == 10.0


def test_each_point_is_what_the_loader_makes_of_the_file_so_written(tmp_path):
    grid, _ = build_grid(LAGGED, ["counters[naive].size=2m", "producers[slow].lag.uniform=[[5s,10s]]"])
    edited = Path(LAGGED).read_text().replace("  - naive\n", "  - {kind: naive, name: naive, size: 2m}\n") \
        .replace("lag: {uniform: [20s, 90s]}", "lag: {uniform: [5s, 10s]}")
    assert edited != Path(LAGGED).read_text()
    (tmp_path / "edited.yaml").write_text(edited)
    assert grid.scenario_at(0) == load_scenario(tmp_path / "edited.yaml")
    assert grid.scenario_at(0) != load_scenario(LAGGED)


def test_a_value_the_loader_refuses_names_the_option_the_value_the_file_and_the_key_path():
    grid, _ = build_grid(LAGGED, ["counters[buffered-90s].grace=30s,-5s"])
    message = problem(lambda: check_points(grid, None))
    assert message.startswith(f"--vary counters[buffered-90s].grace=-5s: {LAGGED}: counters[1].grace: ")


def test_a_refused_point_of_a_grid_names_every_value_when_no_one_field_is_to_blame():
    reshard = str(ROOT / "scenarios" / "reshard_midway.yaml")
    grid, _ = build_grid(reshard, ["duration=10m,4m", "consumer.poll_interval=20s"])
    message = problem(lambda: check_points(grid, None))
    assert message.startswith(f"--vary duration=4m, consumer.poll_interval=20s: {reshard}: faults[1].at: ")


def test_a_point_over_the_budget_is_refused_before_any_run():
    from kinsim.estimate import Budget

    grid, _ = build_grid(LAGGED, ["duration=10m,1h"])
    message = problem(lambda: check_points(grid, Budget(max_events=2_000)))
    assert message.startswith("--vary duration=") and "too big" in message


def test_the_same_field_twice_is_refused():
    message = problem(lambda: build_grid(LAGGED, ["producers[slow].lag=1s", "producers[1].lag.uniform=[[1s,2s]]"]))
    assert "overlaps" in message and message.startswith("--vary producers[1].lag.uniform")


def test_the_public_names_and_a_command_line_that_imports_no_runner_to_start():
    import subprocess
    import sys

    import kinsim.sweep

    assert sorted(kinsim.sweep.__all__) == sorted(["SweepError", "RunFailed", "build_grid", "check_points",
                                                   "parse_seeds", "run_sweep", "sweep_document"])
    for name in kinsim.sweep.__all__:
        assert getattr(kinsim.sweep, name).__name__ == name
    done = subprocess.run([sys.executable, "-c", "import sys, kinsim.cli; print(sorted(m for m in sys.modules if m in "
                           "('kinsim.runner', 'kinsim.sweep.grid', 'matplotlib', 'dask')))"],
                          capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert done.stdout.strip() == "[]", done.stderr

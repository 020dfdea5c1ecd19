"""Reading many producers: the common ones are read by a fast path (``_common_spec``: repeated values
read once, a lag read before looked up), every other by ``producer_spec``; both ways give equal specs,
or the same message at the same key path."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from kinsim.scenario.producing import _COMMON, _REPEATED, _common_spec, producer_spec, producer_specs
from kinsim.scenario.reading import read_document
from kinsim.scenario.values import Node

DURATIONS = ["1s", "60.0000s", "1.5s", "200ms", "2m", "1m30s", "0.001s", 3, 2.5]
BAD_DURATIONS = ["0s", "-2s", " 3s ", "soon", "", "1e3s", "100000000000d", "0.0000001s", 0, -1, float("nan"),
                 float("inf"), True, [1], {"s": 1}, 10**400]
GOOD = {
    "name": st.sampled_from(["p0", "edge", "ünï", "x" * 128]) | st.text(min_size=1, max_size=8) | st.integers(0, 99),
    "partition_key": st.sampled_from(["10.0.0.1", "k", "y" * 256]) | st.text(min_size=1, max_size=8)
    | st.integers(0, 99) | st.floats(0, 9),
    "count": st.integers(1, 5),
    "interval": st.sampled_from(DURATIONS[:-2] + ["2h"]),
    "rate": st.sampled_from(["30/min", "2/s", "100/h", " 5 / s "]),
    "offset": st.sampled_from(DURATIONS + ["0s", 0]),
    "jitter": st.sampled_from(["0s", "1ms", "10ms", 0]),
    "clock_skew": st.sampled_from(["-2s", "2s", "0s", -1, 1.5, "-0.5s"]),
    "until": st.sampled_from(["10m", "1h", 3600]),
    "pacing": st.sampled_from(["fixed", "after_put"]),
    "lag": st.sampled_from(["100ms", 1, "1", {"constant": "1s"}, {"constant": 1}, {"exponential": {"mean": "200ms"}},
                            {"uniform": ["5s", "60s"]}, {"normal": {"mean": "1s", "stddev": "100ms"}},
                            {"pareto": {"scale": "10ms", "shape": 2.5}}]),
    "outages": st.sampled_from([[], [{"at": "1s", "for": "2s"}]]),
    "keys": st.sampled_from([{"list": ["a", "b"]}, {"first": "10.0.0.1", "count": 3}]),
}
BAD = {
    "name": st.sampled_from(["a\tb", "x" * 129, True, None, [], {}, 1.5e300]),
    "partition_key": st.sampled_from(["", "y" * 257, "a\x00", False, None, ["k"]]),
    "count": st.sampled_from([0, -1, 10**7, True, "2", None, 2.0]),
    "interval": st.sampled_from(BAD_DURATIONS + [None]),
    "rate": st.sampled_from(["0/s", "often", "2000000/s", "1/100000000000h", 5, None, True]),
    "offset": st.sampled_from(BAD_DURATIONS + [None]),
    "jitter": st.sampled_from(BAD_DURATIONS + ["1h", None]),
    "clock_skew": st.sampled_from(["--2s", "- 2s", "soon", True, None, float("nan")]),
    "until": st.sampled_from(BAD_DURATIONS + [None]),
    "pacing": st.sampled_from(["sometimes", "FIXED", 1, None, ["fixed"], {"fixed": 1}]),
    "lag": st.sampled_from([None, True, "soon", {"constant": True}, {"gamma": 1}, {"uniform": ["9s", "1s"]},
                            {"uniform": [1, 2, 3, 4, 5, 6]}, {"normal": {"mean": 1}}, {"constant": 1, "uniform": 2},
                            {"exponential": {"mean": "200ms", "x": 1, "y": 2, "z": 3, "w": 4}}, [1, 2]]),
    "outages": st.sampled_from(["none", None, [{"at": "1s"}], [{"at": "5s", "for": "1s"}, {"at": "1s", "for": "1s"}]]),
    "keys": st.sampled_from([None, {"list": []}, {"first": "10.0.0.1"}]),
    "colour": st.just("red"),
    1: st.just(1),
}


@st.composite
def producer_items(draw):
    """A producer as a file may write it: the keys it must have and some it may have, in any order, most
    of them right; now and then one wrong, left out, or given as well as the key it excludes."""
    keys = ["name", "partition_key" if draw(st.integers(0, 5)) else "keys",
            "interval" if draw(st.booleans()) else "rate"]
    keys += draw(st.lists(st.sampled_from(["count", "offset", "jitter", "clock_skew", "until", "pacing", "lag",
                                           "outages"]), unique=True, max_size=4))
    item = {key: draw(GOOD[key]) for key in draw(st.permutations(keys))}
    change = draw(st.sampled_from(["none"] * 4 + ["wrong", "missing", "extra"]))
    if change == "wrong":
        key = draw(st.sampled_from(sorted(BAD, key=str)))
        item[key] = draw(BAD[key])
    elif change == "missing":
        del item[draw(st.sampled_from(keys))]
    elif change == "extra":
        key = draw(st.sampled_from(["partition_key", "keys", "interval", "rate"]))
        item[key] = draw(GOOD[key])
    return item


def outcome(read):
    try:
        return "read", read()
    except Exception as exc:  # noqa: BLE001 - which error, and its message, is what is compared
        return type(exc).__name__, str(exc)


@settings(max_examples=400, deadline=None)
@given(st.lists(producer_items(), min_size=1, max_size=6) | producer_items())
def test_producers_read_as_producer_spec_reads_each_of_them(items):
    """The file's producers read together (the fast path for the common ones, values and lags read once
    for all) are each what ``producer_spec`` reads alone (no lag read before), or the same message at the
    same key path."""
    fast = outcome(lambda: producer_specs(Node(items, "producers", "f.yaml")))
    one_by_one = outcome(lambda: [producer_spec(node) for node in Node(items, "producers", "f.yaml").items()])
    assert fast == one_by_one
    if fast[0] == "read":
        assert repr(fast[1]) == repr(one_by_one[1])


@settings(max_examples=400, deadline=None)
@given(producer_items())
def test_the_fast_path_reads_a_producer_as_producer_spec_or_leaves_it(item):
    """A producer the fast path reads (its lag read before) is what ``producer_spec`` reads."""
    lags = {}
    first = outcome(lambda: producer_spec(Node(item, "producers[0]", "f.yaml"), lags))
    readers = {key: (field, convert, {} if key in _REPEATED else None) for key, (field, convert) in _COMMON.items()}
    spec = _common_spec(item, lags, readers)
    if spec is not None:
        assert first == ("read", spec) and repr(first[1]) == repr(spec)


def test_common_producers_take_the_fast_path():
    """A producer written as a file of many producers writes it, every common key given, is read by the
    fast path once its lag was read (the first producer with that lag is read by ``producer_spec``)."""
    lags = {}
    readers = {key: (field, convert, {} if key in _REPEATED else None) for key, (field, convert) in _COMMON.items()}
    items = [{"name": f"p{i}", "partition_key": f"10.0.0.{i}", "interval": "60.0000s", "offset": f"{i}.5s",
              "jitter": "1ms", "clock_skew": "-1s", "pacing": "after_put", "until": "9m", "count": 2, "outages": [],
              "lag": {"exponential": {"mean": "200ms"}}} for i in range(3)] + \
        [{"name": "q", "rate": "30/min", "partition_key": "k"}]
    assert _common_spec(items[0], lags, readers) is None  # its lag is not read yet
    first = producer_spec(Node(items[0], "producers[0]", "f.yaml"), lags)
    fast = [_common_spec(item, lags, readers) for item in items]
    assert None not in fast and fast == producer_specs(Node(items, "producers", "f.yaml")) and fast[0] == first
    assert fast[1].lag is fast[0].lag and fast[1].offset == 1.5 and fast[3].interval == 2.0


def test_a_file_of_many_producers_reads_as_each_producer_alone():
    """Producers written one by one as a large file writes them (``benchmarks/scale.py``'s lagged file: an
    offset each, a few lags, a few with groups and other keys among them), read from YAML: the file's
    producers equal ``producer_spec``'s reading of each."""
    lines = []
    for i in range(20_000):
        more = f", offset: {(i * 7919) % 1000 / 100:.2f}s, lag: " + \
            ("{uniform: [5s, 60s]}" if i % 10 == 9 else "{exponential: {mean: 200ms}}")
        if i % 1000 == 7:
            more += ", count: 3, outages: [{at: 1s, for: 2s}]"
        lines.append(f"  - {{name: p{i}, partition_key: 10.0.{i >> 8 & 255}.{i & 255}, interval: 12.0000s{more}}}")
    items = read_document(("producers:\n" + "\n".join(lines) + "\n").encode())["producers"]
    fast = producer_specs(Node(items, "producers", "f.yaml"))
    assert fast == [producer_spec(node) for node in Node(items, "producers", "f.yaml").items()]
    assert fast[19].lag is fast[9].lag and fast[7].count == 3 and fast[19_999].offset == (19_999 * 7919) % 1000 / 100

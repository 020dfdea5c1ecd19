"""Reading a scenario file's YAML: the one-pass reader builds what the full reader (PyYAML's strict safe
loader, after a counting pass) builds, for every document it takes; leaves what it does not take to the
full reader in a small file; and in a large file, refuses it with one clear line."""

from __future__ import annotations

import math
import time

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kinsim.scenario import load_scenario
from kinsim.scenario.reading import (MAX_FULL_BYTES, _build_from, _NotPlain, _Plain, _read_full, _read_plain,
                                      _StrictLoader, read_document)
from kinsim.strategies import scenario_documents

from .conftest import ROOT


def same(a, b) -> bool:
    """Equal, with the same types all the way down and keys in the same order (nan as itself)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, float) and math.isnan(a):
        return math.isnan(b)
    return a == b


def both(text: str):
    plain = _read_plain(text)
    assert same(plain, _read_full(text)), text
    return plain


@pytest.mark.parametrize("path", sorted(ROOT.glob("scenarios/*.yaml")) + sorted(ROOT.glob("examples/**/*.yaml")),
                         ids=lambda p: p.name)
def test_every_shipped_file_reads_alike(path):
    both(path.read_text(encoding="utf-8"))


SCALARS = ["1", "-0", "+5", "0x1F", "0o17", "017", "0b101", "1_000", "1:30", "190:20:30", "1e3", "1.5e3", ".5",
           "6.8523015e+5", "685.230_15e+03", "190:20:30.15", ".inf", "-.Inf", ".NaN", "yes", "No", "on", "OFF", "y",
           "n", "true", "False", "~", "null", "Null", "", ".", "0x", "9" * 600, "1.2.3", "2018-07-31T21:56:00Z",
           "2018-07-31", "8.8.8.8", "10.0.0.1", "500ms", "1m30s", "30/min", "'quoted 1'", '"2"', '"a\\tb"', "=",
           "ünïcödé", "a b  c", "--", "-x", "+1.2.3", "-1.5.0", ".5.5", "1:30.5.1", "1_0.0.1", "1.2e+3.4", "0.0.0.0"]


@pytest.mark.parametrize("scalar", SCALARS)
def test_scalars_resolve_as_the_strict_loader_resolves_them(scalar):
    if scalar in ("=",):  # a value tag the strict loader has no constructor for: left to it
        with pytest.raises(_NotPlain):
            _read_plain(f"a: {scalar}\n")
        return
    both(f"a: {scalar}\nb: [{scalar}]\n{scalar or 'c'}: x\n" if scalar not in ("--", "") else f"a: {scalar}\n")


def test_anchors_aliases_nesting_and_keys_of_every_kind():
    value = both("x: &s text\ny: *s\nl: &l [1, [2, {a: b}], {}]\nm: [*l, *l]\n1: one\nfalse: t\n~: n\n1.5: f\n"
                 "deep: {a: {b: {c: [[[]]]}}}\nempty:\n")
    assert value["m"][0] is value["l"] and value["empty"] is None


@pytest.mark.parametrize("text", [
    "a: !!str 1\n",                       # a tag
    "base: &b {x: 1}\nc:\n  <<: *b\n  y: 2\n",  # a merge key
    "? [a, b]\n: 1\n",                     # a key that is a collection
    "*a : 1\n",                            # a key that is an alias
    "a: 1\n---\nb: 2\n",                   # two documents
    "a: &x 1\nb: &x 2\nc: *x\n",           # an anchor given twice
    "a: 1\na: 2\n",                        # a key given twice
    "a: [1, *nope]\n",                     # an alias to no node
    "a: &r [1, *r]\n",                     # an alias to the node that holds it
    "a: [\n",                              # not YAML
])
def test_what_the_one_pass_reader_leaves_the_full_reader_reads_as_it_always_has(text):
    with pytest.raises(_NotPlain):
        _read_plain(text)
    try:
        expected = _read_full(text)
    except ValueError as exc:
        with pytest.raises(ValueError, match="^" + __import__("re").escape(str(exc)) + "$"):
            read_document(text.encode())
    else:
        assert same(read_document(text.encode()), expected)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenario_documents(), st.sampled_from([None, True, False]), st.integers(0, 4))
def test_generated_scenario_documents_read_alike(document, flow, indent):
    text = yaml.safe_dump(document, default_flow_style=flow, indent=indent + 2, sort_keys=False, allow_unicode=True)
    assert same(both(text), document)


def big(lines: str) -> bytes:
    """``lines``, then enough comments to make the file larger than the full reader takes."""
    return (lines + ("#" + "x" * 999 + "\n") * (MAX_FULL_BYTES // 1000 + 1)).encode()


@pytest.mark.parametrize("lines, problem", [
    ("a: 1\na: 2\n", "line 2, column 1: the key 'a' is given twice in one mapping (first at line 1, column 1)"),
    ("a: !!str 1\n", "line 1, column 4: a tag (tag:yaml.org,2002:str); a file of more than 1,048,576 bytes is read "
                     "as plain YAML: no tags, merge keys or keys that are not text or numbers"),
    ("a: " + "[" * 40 + "]" * 40 + "\n", "line 1, column 35: nested more than 32 levels deep"),
    ("a: &r [1, *r]\n", "line 1, column 11: the alias *r names a node that holds it, or no node"),
    ("l0: &l0 [x, x, x, x, x, x, x, x, x, x]\n"
     + "".join(f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 10) + "]\n" for i in range(1, 8)),
     "line 5, column 45: its aliases add more than 100,000 values once expanded"),
    ("a: [\n", "not valid YAML: line 1051, column 1: did not find expected node content"),
    ("l: [{a: 1, b: 2, b: 3}]\n",
     "line 1, column 18: the key 'b' is given twice in one mapping (first at line 1, column 12)"),
    ("x:\n  - {a: 1}\n  - a: 1\n    m: {k: v, 1: 2, 1.0: 3}\n",
     "line 4, column 21: the key 1.0 is given twice in one mapping (first at line 4, column 15)"),
    ("a: {b: {c: 1, d: 2}}\nb: {b: {c: 1, c: 2}}\n",
     "line 2, column 15: the key 'c' is given twice in one mapping (first at line 2, column 9)"),
])
def test_a_large_file_the_one_pass_reader_will_not_take_is_one_clear_line(lines, problem):
    with pytest.raises(ValueError) as excinfo:
        read_document(big(lines))
    assert str(excinfo.value) == problem


def test_a_hundred_thousand_producers_load(tmp_path):
    """A file that lists 100,000 producers one by one (6 MB) loads; measured here in 1.2 to 2 s
    (the full reader took 17 s, and refused a file past 1 MiB)."""
    lines = ["name: many", "start: 2018-07-31T21:56:00Z", "duration: 10m", "stream: {shards: 8}",
             "counters: [naive]", "producers:"]
    lines += [f"  - {{name: p{i}, partition_key: 10.{i >> 16}.{i >> 8 & 255}.{i & 255}, interval: 60s}}"
              for i in range(100_000)]
    path = tmp_path / "many.yaml"
    path.write_text("\n".join(lines) + "\n")
    started = time.perf_counter()
    scenario = load_scenario(path)
    assert len(scenario.producers) == 100_000 and scenario.producers[-1].partition_key == "10.1.134.159"
    assert time.perf_counter() - started < 30  # a bound for a slow, shared machine: the point is minutes before


def flow_texts():
    """Flow collections of raw scalars, some keys repeated, anchored or aliased: YAML text as written."""
    raw = st.sampled_from([s for s in SCALARS if s not in ("", "--", "- x")] + ["&a x", "*a", "&b [1, 2]", "*b"])
    return st.recursive(raw, lambda inner: st.lists(inner, max_size=4).map(lambda xs: "[" + ", ".join(xs) + "]")
                        | st.lists(st.tuples(st.sampled_from(["a", "b", "1", "true", "x y", "~"]), inner), max_size=4)
                        .map(lambda pairs: "{" + ", ".join(f"{k}: {v}" for k, v in pairs) + "}"), max_leaves=12)


@settings(max_examples=300, deadline=None)
@given(flow_texts())
def test_any_text_reads_alike_or_is_left_to_the_full_reader(text):
    try:
        expected = _read_full(text)
    except ValueError:
        expected = ValueError
    try:
        plain = _read_plain(text)
    except _NotPlain:
        return  # the full reader reads it (or says what is wrong), as read_document does for a small file
    assert expected is not ValueError and same(plain, expected), text


def outcome(read, text: str):
    """What ``read`` makes of ``text``: ("read", the document) or ("not plain", the problem)."""
    try:
        return "read", read(text)
    except _NotPlain as exc:
        return "not plain", exc.problem


@settings(max_examples=300, deadline=None)
@given(flow_texts())
def test_the_pass_that_keeps_where_each_key_was_given_reads_alike(text):
    """The one-pass reader keeps no place for a key, and reads a file again, keeping them, to say where a
    key given twice was first given: both passes make one document, or say one problem."""
    fast, kept = outcome(_read_plain, text), outcome(lambda t: _build_from(t, marked=True), text)
    assert fast[0] == kept[0] and (same(fast[1], kept[1]) if fast[0] == "read" else fast[1] == kept[1]), text


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet="0123456789.+-_:eExXbo", max_size=12) | st.from_regex(r"\A[0-9]{1,3}(\.[0-9]{1,3}){1,4}\Z")
       | st.text(max_size=6))
def test_text_taken_at_once_is_text_to_the_strict_loader(text):
    """What the one-pass reader takes as text without trying the resolvers (by its first character, or
    as a number has at most one '.'), the strict loader resolves to text too."""
    if _Plain.is_text(text):
        assert _StrictLoader("").resolve(yaml.ScalarNode, text, (True, False)) == "tag:yaml.org,2002:str"

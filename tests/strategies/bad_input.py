"""Hypothesis strategies for bad and extreme input, to throw at anything that reads scenario files or
answers Kinesis calls.

- ``scenario_files()``: the bytes of a scenario file: a shipped scenario mutated (values replaced by
  junk, keys dropped or added or given twice, structures nested deep, aliases that multiply, text cut
  short, bytes that are not UTF-8, a file too large) or an extreme but well-formed one.
- ``mutated_documents()``, ``extreme_documents()``: the same as parsed documents (dicts).
- ``runnable_documents()``: well-formed scenarios small enough to run in a test, with the edges kept
  (throttled shards, long lags, tiny windows, expiring iterators).
- ``client_calls(pool)``: (operation, params) for every operation kinsim serves, built from botocore's
  own input shapes: plausible values (names from ``pool``), junk of the right type, and junk of any type.
- ``junk_values()``: the values all of these draw from.
"""

from __future__ import annotations

import copy
import io
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import botocore.session
import yaml
from hypothesis import strategies as st

from kinsim.api import OPERATIONS

__all__ = ["junk_values", "mutated_documents", "extreme_documents", "runnable_documents", "scenario_files",
           "client_calls"]

_SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"
SHIPPED = {path.stem: path.read_bytes() for path in sorted(_SCENARIOS.glob("*.yaml"))}
_PARSED = {name: yaml.safe_load(text) for name, text in SHIPPED.items()}  # parsed once; each draw mutates a copy

_JUNK_TEXT = ["", " ", "nan", "inf", "-inf", "1e400s", "1e3s", "0s", "-5s", "0", "-1", ".", "0x", "0b2", "1_0",
              "x" * 300, "\x00", "a\nb", "\ud800", "é" * 200, "2018-02-30T00:00:00Z", "2018-13-01", "0000-01-01",
              "10000-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "0001-01-01T00:00:00Z", "1000000000/s", "0/s",
              "1/us", "1/s", "P1D", "1m30", "90s", "500ms", "1000y", "naive", "buffered", "os:system",
              "kinsim.counters:BufferedCounter", "no.such.module:Thing", "TRIM_HORIZON", "AT_TIMESTAMP",
              "shardId-000000000000", "8.8.8.8"]


def junk_values(depth: int = 2) -> st.SearchStrategy[Any]:
    """Values of every YAML type, leaning towards the ones that break parsers: not-numbers, huge and
    tiny numbers, control characters and broken Unicode, impossible dates, and small structures."""
    leaves = st.one_of(
        st.none(), st.booleans(),
        st.sampled_from([0, 1, -1, 2**31, 2**63, -(2**63) - 1, 10**30, 10**400]),
        st.integers(min_value=-10**6, max_value=10**6),
        st.sampled_from([float("nan"), float("inf"), float("-inf"), 1e308, 5e-324, -0.0, 0.5, 1e-7]),
        st.floats(allow_nan=True, allow_infinity=True),
        st.sampled_from(_JUNK_TEXT), st.text(max_size=12),
    )
    if depth <= 0:
        return leaves
    inner = junk_values(depth - 1)
    return st.one_of(leaves, st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8) | st.integers(),
                                                                         inner, max_size=3))


def _paths(value: Any, path: tuple = ()) -> list[tuple]:
    """Every place in a document: its key path as a tuple of keys and indexes."""
    found = [path]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, path + (key,))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            found += _paths(item, path + (i,))
    return found


def _parent(document: Any, path: tuple):
    for key in path[:-1]:
        document = document[key]
    return document


@st.composite
def mutated_documents(draw) -> Any:
    """A shipped scenario, parsed, with one to four mutations."""
    document = copy.deepcopy(_PARSED[draw(st.sampled_from(sorted(SHIPPED)))])
    for _ in range(draw(st.integers(1, 4))):
        paths = [p for p in _paths(document) if p]
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent, key = _parent(document, path), path[-1]
        kind = draw(st.sampled_from(["junk", "junk", "junk", "drop", "add", "nest", "copy"]))
        if kind == "junk":
            parent[key] = draw(junk_values())
        elif kind == "drop":
            del parent[key]
        elif kind == "add" and isinstance(parent, dict):
            parent[draw(st.sampled_from(["colour", "seed", "shards", "grace", "params", "x" * 200, 7]))] = \
                draw(junk_values(1))
        elif kind == "nest":
            nested: Any = parent[key]
            for _ in range(draw(st.integers(1, 60))):
                nested = [nested] if draw(st.booleans()) else {"k": nested}
            parent[key] = nested
        elif kind == "copy" and isinstance(parent, list):
            parent.append(copy.deepcopy(parent[key]))
    return document


@st.composite
def extreme_documents(draw) -> dict:
    """Well-formed scenarios at the edges: instants near the years 1 and 9999, durations from a
    microsecond to a thousand years, producers every microsecond or every year, hundreds of shards, polls
    every microsecond, windows of a microsecond, heavy-tailed lags."""
    durations = st.sampled_from(["1us", "1ms", "1s", "1m", "1h", "1d", "365d", "36500d", "365000d"])
    lags = st.sampled_from([{"constant": "0s"}, {"constant": "365d"}, {"uniform": ["0s", "36500d"]},
                            {"exponential": {"mean": "1us"}}, {"pareto": {"scale": "1s", "shape": 0.01}},
                            {"lognormal": {"median": "1s", "sigma": 50}}, {"normal": {"mean": "1s", "stddev": "1d"}}])
    producers = [{"name": f"p{i}", "partition_key": draw(st.sampled_from(["k", "10.0.0.1", "é" * 256, f"k{i}"])),
                  "interval": draw(st.sampled_from(["1us", "1ms", "1s", "365d"])), "lag": draw(lags),
                  "clock_skew": draw(st.sampled_from(["0s", "-36500d", "36500d", "-1us"]))}
                 for i in range(draw(st.integers(1, 30)))]
    return {
        "start": draw(st.sampled_from(["0001-01-02T00:00:00Z", "1970-01-01T00:00:00Z", "2018-07-31T21:56:00Z",
                                       "9000-01-01T00:00:00Z", "9999-12-29T00:00:00Z"])),
        "duration": draw(durations), "window": draw(durations),
        "stream": {"shards": draw(st.sampled_from([1, 2, 100, 500]))},
        "producers": producers,
        "consumer": {"poll_interval": draw(durations), "limit": draw(st.sampled_from([1, 25, 10_000])),
                     "start": draw(st.sampled_from(["0s", "1d"]))},
        "counters": ["naive", {"kind": "buffered", "grace": draw(durations)},
                     {"kind": "buffered", "name": "hop", "size": "1m", "slide": draw(st.sampled_from(["1us", "1s"]))}],
    }


@st.composite
def runnable_documents(draw) -> dict:
    """Small, well-formed scenarios that still reach the edges a run handles: a shard offered more than
    it takes, lags longer than the run, a consumer that lags or sleeps past its iterators' 5 minutes,
    jitter, clock skew, outages, both pacings, hopping windows."""
    producers = []
    for i in range(draw(st.integers(1, 5))):
        interval = draw(st.sampled_from(["1ms", "7ms", "100ms", "1s", "13s"]))
        producer = {"name": f"p{i}", "partition_key": draw(st.sampled_from(["k", "10.0.0.1", "10.0.0.2", "ü"])),
                    "interval": interval, "lag": draw(st.sampled_from(
                        [{"constant": "0s"}, {"uniform": ["0s", "90s"]}, {"exponential": {"mean": "300ms"}},
                         {"pareto": {"scale": "100ms", "shape": 1.5}}, {"lognormal": {"median": "1s", "sigma": 1}}])),
                    "pacing": draw(st.sampled_from(["fixed", "after_put"])),
                    "clock_skew": draw(st.sampled_from(["0s", "-30s", "2m"]))}
        if draw(st.booleans()):
            producer["outages"] = [{"at": "2s", "for": draw(st.sampled_from(["1s", "40s"]))}]
        producers.append(producer)
    return {"seed": draw(st.integers(0, 10**6)), "start": "2018-07-31T21:56:00Z",
            "duration": draw(st.sampled_from(["3s", "20s", "1m"])), "window": draw(st.sampled_from(["1s", "1m"])),
            "stream": {"shards": draw(st.integers(1, 3))}, "producers": producers,
            "consumer": {"poll_interval": draw(st.sampled_from(["50ms", "1s", "7s", "301s"])),
                         "limit": draw(st.sampled_from([1, 25, 10_000])),
                         "iterator": draw(st.sampled_from(["TRIM_HORIZON", "LATEST"]))},
            "counters": ["naive", {"kind": "buffered", "grace": draw(st.sampled_from(["0s", "5s", "2m"])),
                                   "allowed_lateness": draw(st.sampled_from(["0s", "10s"]))},
                         {"kind": "buffered", "name": "hop", "size": "10s", "slide": "5s"}]}


def _dumped(document: Any) -> bytes:
    return yaml.safe_dump(document, allow_unicode=False, sort_keys=False).encode("utf-8")


@st.composite
def _broken_texts(draw) -> bytes:
    """Text-level damage to a shipped scenario: what no document can express."""
    text = SHIPPED[draw(st.sampled_from(sorted(SHIPPED)))]
    lines = text.split(b"\n")
    kind = draw(st.sampled_from(["cut", "insert", "twice", "deep", "bomb", "bytes", "huge", "tabs"]))
    if kind == "cut":
        return text[:draw(st.integers(0, len(text)))]
    if kind == "insert":
        at = draw(st.integers(0, len(text)))
        return text[:at] + draw(st.sampled_from([b":", b"- ", b"{", b"]", b"&a ", b"*a", b"!!python/object ",
                                                 b"\t", b"'", b'"', b"|", b"%YAML 9.9\n", b"---\n"])) + text[at:]
    if kind == "twice":
        keys = [line for line in lines if line and not line.startswith((b" ", b"#", b"-"))]
        return text + b"\n" + draw(st.sampled_from(keys or [b"seed: 1"])) + b"\n"
    if kind == "deep":
        depth = draw(st.integers(30, 5_000))
        return text + b"\ncolour: " + b"[" * depth + b"]" * depth + b"\n"
    if kind == "bomb":
        levels = [b"l0: &l0 [x, x, x, x, x, x, x, x, x, x]"]
        for i in range(1, draw(st.integers(2, 9))):
            levels.append(b"l%d: &l%d [" % (i, i) + b", ".join([b"*l%d" % (i - 1)] * 10) + b"]")
        return b"\n".join(levels) + b"\n" + text
    if kind == "bytes":
        at = draw(st.integers(0, len(text)))
        return text[:at] + draw(st.sampled_from([b"\x00", b"\xff\xfe", b"\xc3", b"\xed\xa0\x80", b"\r"])) + text[at:]
    if kind == "huge":
        return text + b"\n#" + b"x" * (1024 * 1024)
    return text.replace(b"  ", b"\t")


def scenario_files() -> st.SearchStrategy[bytes]:
    """The bytes of a scenario file, bad or extreme (see the module's docstring)."""
    return st.one_of(mutated_documents().map(_dumped), _broken_texts(), extreme_documents().map(_dumped),
                     runnable_documents().map(_dumped))


# -- calls to the Kinesis API -------------------------------------------------------------------------
_MODEL = botocore.session.get_session().get_service_model("kinesis")
_PLAUSIBLE = {"StreamName": "stream", "ShardId": "shard", "ShardToSplit": "shard", "ShardToMerge": "shard",
              "AdjacentShardToMerge": "shard", "ExclusiveStartShardId": "shard", "ShardIterator": "iterator",
              "ExclusiveStartStreamName": "stream", "StreamARN": "arn"}


def _plausible(name: str, pool: dict) -> st.SearchStrategy[Any]:
    return st.sampled_from(pool.get(_PLAUSIBLE.get(name, ""), [])) if _PLAUSIBLE.get(name) in pool else st.nothing()


def _value(shape, name: str, pool: dict, depth: int) -> st.SearchStrategy[Any]:
    kind = shape.type_name
    if kind == "structure":
        return _structure(shape, pool, depth + 1)
    if kind == "list":
        return st.lists(_value(shape.member, name, pool, depth + 1), max_size=3) | \
            st.just([]) | _value(shape.member, name, pool, depth + 1).map(lambda item: [item] * 501)
    if kind == "string":
        typed = st.sampled_from(shape.enum) if shape.enum else st.text(max_size=300) | st.sampled_from(_JUNK_TEXT)
        return _plausible(name, pool) | typed
    if kind in ("integer", "long"):
        return st.integers(-5, 12_000) | st.sampled_from([0, -1, 2**31, 2**63, 10**40])
    if kind == "boolean":
        return st.booleans()
    if kind == "blob":
        return st.binary(max_size=40) | st.text(max_size=40) | st.just(b"x" * (1024 * 1024 + 1)) | \
            st.binary(max_size=20).map(io.BytesIO) | st.text(max_size=20).map(io.StringIO)
    if kind == "timestamp":
        return st.datetimes(timezones=st.just(timezone.utc)) | st.sampled_from(
            [datetime(1, 1, 1), datetime(9999, 12, 31), float("nan"), float("inf"), 1e300, -1e300, 0,
             datetime.now(timezone.utc) - timedelta(days=1)])
    return st.none()


def _structure(shape, pool: dict, depth: int = 0) -> st.SearchStrategy[dict]:
    if depth > 4:
        return st.just({})
    members = {name: (_value(member, name, pool, depth) if depth < 4 else st.none())
               for name, member in shape.members.items()}
    junk = junk_values(1)
    with_junk = {name: values | junk for name, values in members.items()}
    required = set(shape.required_members)

    @st.composite
    def build(draw) -> dict:
        params = {}
        for name, values in members.items():
            if name in required and draw(st.integers(0, 9)) > 0 or draw(st.booleans()):
                params[name] = draw(with_junk[name] if draw(st.integers(0, 7)) == 0 else values)
        return params
    return build()


def client_calls(pool: dict) -> st.SearchStrategy[tuple[str, dict]]:
    """(operation, params) for every operation kinsim serves; ``pool`` maps "stream", "shard", "arn",
    "iterator" to lists of names that exist, so some calls reach past the parameter checks."""
    # each operation's strategy built once, not at every draw (building one is most of a draw's time)
    params = {operation: _structure(_MODEL.operation_model(operation).input_shape, pool) for operation in OPERATIONS}
    return st.sampled_from(OPERATIONS).flatmap(lambda operation: st.tuples(st.just(operation), params[operation]))

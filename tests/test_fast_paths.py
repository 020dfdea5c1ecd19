"""Every shortcut taken for speed gives exactly what the plain way gives.

The plain way: the traffic puts each record through ``Backend.put_record`` at its own instant (the
``CallingWriter``, as on a real stream), the consumer parses each record's data. The fast way: runs of
records appended per simulated shard at their own arrival times, held as event times and rendered
when read, event times computed by integer steps, lags drawn in batches, polls tallied window by
window. (``tests/test_reference.py`` checks both against a model that shares no code with the
simulation; the buffered counter, which takes a poll in segments, is checked against a record-by-record
model in ``test_buffered_model.py``.)
"""

from __future__ import annotations

import random
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kinsim.backends import Backend, MemoryBackend
from kinsim.counters import Windowing
from kinsim.lag import Constant, Exponential, LogNormal, Normal, Pareto, Uniform
from kinsim.report import report_dict
from kinsim.runner import StreamAction, run
from kinsim.scenario import load_scenario, parse_scenario
from kinsim.simulation import EVENT_TEXT_BYTES, EVENT_TIMES, event_text

ROOT = Path(__file__).resolve().parent.parent


class PlainBackend(Backend):
    """Simulated shards seen only through the ``Backend`` interface, as a real stream is: the runner
    then puts every record with ``put_record`` (so records carry their data as bytes) and the
    consumer parses each one."""

    def __init__(self, memory: MemoryBackend) -> None:
        self.memory = memory
        self.name = memory.name

    def now(self):
        return self.memory.now()

    def create_stream(self, *args):
        return self.memory.create_stream(*args)

    def delete_stream(self, *args):
        return self.memory.delete_stream(*args)

    def describe_stream(self, *args):
        return self.memory.describe_stream(*args)

    def list_streams(self):
        return self.memory.list_streams()

    def set_retention_period(self, *args, **kwargs):
        return self.memory.set_retention_period(*args, **kwargs)

    def put_record(self, *args):
        return self.memory.put_record(*args)

    def put_records(self, *args):
        return self.memory.put_records(*args)

    def get_shard_iterator(self, *args):
        return self.memory.get_shard_iterator(*args)

    def get_records(self, *args):
        return self.memory.get_records(*args)

    def split_shard(self, *args):
        return self.memory.split_shard(*args)

    def merge_shards(self, *args):
        return self.memory.merge_shards(*args)

    def update_shard_count(self, *args):
        return self.memory.update_shard_count(*args)


def _plain(clock):
    return PlainBackend(MemoryBackend(clock))


def both_ways(scenario) -> tuple[dict, dict]:
    """The two reports, but for what only a ``MemoryBackend`` tells the report and the plain way cannot
    know through the ``Backend`` interface: when each shard opened and closed, and the puts each refused."""
    reports = report_dict(run(scenario)), report_dict(run(scenario, backend_factory=_plain))
    for report in reports:
        for shard in report["stream"]["shards"]:
            for key in ("opened_at", "closed_at", "throttled_puts"):
                shard.pop(key)
    return reports


def document(**changes) -> dict:
    base = {
        "seed": 3, "start": "2018-07-31T21:56:00Z", "duration": "3m", "window": "1m",
        "stream": {"name": "s", "shards": 2},
        "producers": [
            {"name": "a", "partition_key": "10.0.0.1", "interval": "500ms", "lag": {"exponential": {"mean": "1s"}}},
            {"name": "b", "partition_key": "10.0.0.2", "interval": "1s", "lag": {"constant": "2s"}},
            {"name": "c", "partition_key": "10.0.0.3", "interval": "1s", "lag": {"constant": "2s"}},
        ],
        "consumer": {"poll_interval": "2s", "limit": 50},
        "counters": ["naive", {"kind": "buffered", "name": "short", "grace": "1s", "allowed_lateness": "10s"},
                     {"kind": "buffered", "name": "hopping", "size": "1m", "slide": "20s", "grace": "5s"}],
    }
    base.update(changes)
    return base


SPECIAL = {
    "ties at one instant": document(),
    "throttled hard": document(producers=[
        {"name": f"p{i}", "partition_key": "same", "interval": "1ms", "lag": {"uniform": ["0s", "50ms"]}}
        for i in range(2)], duration="4s"),
    "after put, jitter, skew": document(producers=[
        {"name": "a", "partition_key": "k1", "interval": "700ms", "pacing": "after_put", "jitter": "300ms",
         "lag": {"normal": {"mean": "200ms", "stddev": "100ms"}}, "clock_skew": "-3s"},
        {"name": "b", "partition_key": "k2", "rate": "7/s", "jitter": "20ms",
         "lag": {"lognormal": {"median": "1s", "sigma": 1.0}}}]),
    "outages releasing at one instant": document(producers=[
        {"name": f"p{i}", "partition_key": f"k{i}", "interval": "300ms", "lag": {"constant": "100ms"},
         "outages": [{"at": "40s", "for": "30s"}]} for i in range(3)]),
    "long polls, small limit": document(consumer={"poll_interval": "7s", "limit": 13}),
    "latest, late start": document(consumer={"poll_interval": "1s", "iterator": "LATEST", "start": "30s"}),
    "pareto lag": document(producers=[
        {"name": "a", "partition_key": "k", "interval": "250ms", "lag": {"pareto": {"scale": "100ms", "shape": 1.1}}}]),
}


@pytest.mark.parametrize("name", sorted(SPECIAL))
def test_the_fast_way_reports_what_the_plain_way_reports(name):
    fast, plain = both_ways(parse_scenario(SPECIAL[name], "<test>", name.replace(" ", "-")))
    assert fast == plain


@pytest.mark.parametrize("path", sorted((ROOT / "scenarios").glob("*.yaml")), ids=lambda p: p.stem)
def test_shipped_scenarios_report_the_same_both_ways(path):
    fast, plain = both_ways(load_scenario(path))
    assert fast == plain


def test_the_hard_case_really_throttles():
    result = run(parse_scenario(SPECIAL["throttled hard"], "<test>", "t"))
    assert result.throttled_puts > 0 and result.produced == result.delivered


@st.composite
def small_documents(draw):
    producers = []
    for i in range(draw(st.integers(1, 4))):
        lag = draw(st.sampled_from([{"constant": "1s"}, {"uniform": ["0s", "3s"]}, {"exponential": {"mean": "500ms"}}]))
        interval = draw(st.integers(5, 2000))
        producer = {"name": f"p{i}", "partition_key": f"k{draw(st.integers(0, 5))}",
                    "interval": f"{interval}ms", "lag": lag, "offset": f"{draw(st.integers(0, 3000))}ms"}
        if draw(st.booleans()):
            producer["pacing"] = "after_put"
        if draw(st.booleans()):
            producer["jitter"] = f"{draw(st.integers(0, interval - 1))}ms"
        if draw(st.booleans()):
            producer["clock_skew"] = f"{draw(st.integers(-5000, 5000))}ms"
        if draw(st.booleans()):
            producer["outages"] = [{"at": f"{draw(st.integers(0, 60))}s", "for": f"{draw(st.integers(1, 30))}s"}]
        producers.append(producer)
    return document(producers=producers, seed=draw(st.integers(0, 1000)),
                    consumer={"poll_interval": f"{draw(st.integers(1, 9))}s", "limit": draw(st.integers(1, 300))},
                    stream={"name": "s", "shards": draw(st.integers(1, 4))}, duration=f"{draw(st.integers(5, 90))}s")


@settings(max_examples=25, deadline=None)
@given(small_documents())
def test_any_small_scenario_reports_the_same_both_ways(doc):
    fast, plain = both_ways(parse_scenario(doc, "<generated>", "generated"))
    assert fast == plain


# -- the pieces ---------------------------------------------------------------------------------------------
@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.sampled_from("abcd"), st.integers(-400, 400)), min_size=1, max_size=80),
       st.sampled_from([(60, 60), (60, 20), (10, 10), (1, 1)]))
def test_a_poll_tallied_window_by_window_is_the_record_by_record_tally(records, window):
    windowing = Windowing.of_seconds(*window)  # times within 800 s: from one window to hundreds of them
    keys, times = tuple(key for key, _ in records), tuple(ts * 10**6 + 1 for _, ts in records)
    model = Counter((ts - ts % windowing.slide_us, key) for key, ts in zip(keys, times))
    tally = windowing.tally(times, keys)
    assert {(start, key): n for start, counts in tally.items() for key, n in counts.items()} == model
    for counts in tally.values():
        counts.clear()  # the caller owns what it was given: the next tally of the same poll is whole again
    again = windowing.tally(times, keys)
    assert sum(n for counts in again.values() for n in counts.values()) == len(records)
    assert windowing.tally(list(times), list(keys), max(times)) == again


@settings(max_examples=100, deadline=None)
@given(st.sampled_from([Constant(0.2), Uniform(0.1, 9.0), Exponential(0.3), Normal(1.0, 2.0), LogNormal(1.0, 0.7),
                        Pareto(0.5, 1.3)]), st.integers(0, 10**6), st.integers(0, 500))
def test_lags_drawn_in_batches_are_the_lags_drawn_one_by_one(model, seed, n):
    one, many = random.Random(seed), random.Random(seed)
    assert [model.sample(one) for _ in range(n)] == model.samples(many, n)


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 10**7), st.integers(1, 10**8), st.integers(0, 10**6), st.integers(1, 400))
def test_integer_steps_give_the_float_formulas_event_times(offset_us, step_us, first_k, n):
    offset, interval, start_us = offset_us / 1e6, step_us / 1e6, 1_533_074_160_000_000
    floats = [start_us + round((offset + k * interval) * 1_000_000) for k in range(first_k, first_k + n)]
    ints = list(range(start_us + offset_us + first_k * step_us, start_us + offset_us + (first_k + n) * step_us,
                      step_us))
    assert ints == floats


@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(-62_135_596_800_000_000, 253_402_300_799_999_999), min_size=1, max_size=50))
def test_rendered_event_times_are_the_tutorials_text_and_parse_back(event_us):
    datas = EVENT_TIMES.render(event_us)
    assert [d.decode() for d in datas] == [event_text(us) for us in event_us]
    assert {len(d) for d in datas} == {EVENT_TEXT_BYTES}
    assert EVENT_TIMES.parse(datas) == event_us


# -- a reshard in the middle of the traffic ---------------------------------------------------------------
def _split_midway(fast: bool, update_delay: float) -> tuple[dict, int]:
    """Traffic into a 1-shard stream that is split after 2 s (the split taking ``update_delay`` to
    complete): each shard's records (key, data, arrival), and how many puts were throttled."""
    spec = parse_scenario(document(duration="6s", stream={"name": "s", "shards": 1}, producers=[
        {"name": f"p{i}", "partition_key": f"10.0.0.{i}", "interval": f"{2 + i}ms",
         "lag": {"uniform": ["0s", "3s"]} if i % 2 else {"constant": "10ms"}} for i in range(4)]),
        "<generated>", "split")
    kept = {}

    def factory(clock):
        kept["memory"] = MemoryBackend(clock, update_delay=update_delay)
        return kept["memory"] if fast else PlainBackend(kept["memory"])

    split = StreamAction(2.0, lambda backend, stream: backend.split_shard(stream, "shardId-000000000000",
                                                                          str(2**127)))
    result = run(spec, backend_factory=factory, keep_stream=True, actions=[split])
    memory, contents = kept["memory"], {}
    memory.throttling = False  # read it all back at the run's last instant
    for shard in memory.list_shards("s"):
        iterator, records = memory.get_shard_iterator("s", shard.shard_id, "TRIM_HORIZON"), []
        while iterator is not None:
            got = memory.get_records(iterator, 10_000)
            records += [(r.partition_key, r.data, r.approximate_arrival_timestamp) for r in got.records]
            iterator = got.next_shard_iterator if got.records else None
        contents[shard.shard_id] = records
    return contents, result.throttled_puts


@pytest.mark.parametrize("update_delay", [0.0, 1.0])
def test_a_split_midway_moves_waiting_attempts_to_their_new_lanes(update_delay):
    fast, plain = _split_midway(True, update_delay), _split_midway(False, update_delay)
    assert fast == plain
    contents, throttled = fast
    assert len(contents) == 3 and all(contents.values()) and throttled > 0
    assert sum(map(len, contents.values())) == sum(6000 // (2 + i) for i in range(4))  # none lost, none twice

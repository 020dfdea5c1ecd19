"""Key populations and producer groups (DESIGN §5): how keys are drawn, that they follow their law, that a
group is the producers it stands for, that runs are deterministic, and what a bad population says."""

from __future__ import annotations

import dataclasses
import json
import math
import random
import subprocess
import sys
import time
from collections import Counter
from datetime import datetime, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import kinsim.strategies as ks
from kinsim.counters import BUILT_IN, Windowing
from kinsim.estimate import estimate
from kinsim.lag import Exponential, Uniform
from kinsim.populations import Addresses, KeyList, Sampler, Zipf, address_text
from kinsim.records import IteratorType
from kinsim.report import to_json
from kinsim.runner import run
from kinsim.scenario import ConsumerSpec, CounterSpec, Pacing, ProducerSpec, Scenario, StreamSpec, parse_scenario

from .test_fast_paths import both_ways
from .test_scenario_errors import error_of, kinsim, replaced, write

START = datetime(2018, 7, 31, 21, 56, tzinfo=timezone.utc)


# -- the draws ----------------------------------------------------------------------------------------------
def plain_draw(population, u: float) -> int:
    """A key index as DESIGN §5 and the module's docstring state it, written out: uniform floor(u n); else
    the first key whose running sum of weights (added in key order) is above u x total."""
    if isinstance(population, Addresses) and population.zipf is None or \
            isinstance(population, KeyList) and population.weights is None:
        return math.floor(u * len(population))
    if isinstance(population, Addresses):
        weights = [float(rank) ** -population.zipf.s for rank in range(1, population.count + 1)]
    else:
        weights = list(population.weights)
    running, sums = 0.0, []
    for weight in weights:
        running += weight
        sums.append(running)
    return next(i for i, total in enumerate(sums) if total > u * sums[-1])


@settings(max_examples=200, deadline=None)
@given(ks.key_populations(max_keys=300), st.integers(0, 2**32), st.integers(1, 50))
def test_a_sampler_draws_what_the_rule_says(population, seed, count):
    drawn = Sampler(population).draw(random.Random(seed), count)
    rng = random.Random(seed)
    assert drawn == [plain_draw(population, rng.random()) for _ in range(count)]
    assert all(0 <= i < len(population) for i in drawn)


class Edge(random.Random):
    """A generator whose every draw is ``u``."""

    def __init__(self, u: float) -> None:
        super().__init__()
        self.u = u

    def random(self) -> float:
        return self.u


@pytest.mark.parametrize("u", [0.0, 1.0 - 2.0**-53])  # the smallest and largest random() returns
@pytest.mark.parametrize("population, first, last", [
    (Addresses(0, 3), 0, 2), (Addresses(0, 7, Zipf(1.0)), 0, 6), (KeyList(("a", "b", "c"), (0.0, 1.0, 2.0)), 1, 2),
    (KeyList(("a", "b", "c"), (1.0, 2.0, 0.0)), 0, 1), (Addresses(5, 1, Zipf(3.0)), 0, 0),
])
def test_the_ends_of_the_unit_interval_draw_the_first_and_last_key_of_weight(population, first, last, u):
    [drawn] = Sampler(population).draw(Edge(u), 1)
    assert drawn == plain_draw(population, u) == (first if u == 0.0 else last)  # a weight of 0 is never drawn


def chi_square(observed: Counter, chances: list[float], draws: int) -> float:
    return sum((observed.get(i, 0) - draws * p) ** 2 / (draws * p) for i, p in enumerate(chances) if p > 0)


def chi_square_bound(freedom: int, z: float = 5.0) -> float:
    """A chi-square quantile about ``z`` standard deviations out (Wilson–Hilferty): p below 1e-6 for z 5."""
    return freedom * (1 - 2 / (9 * freedom) + z * math.sqrt(2 / (9 * freedom))) ** 3


def zipf_chances(n: int, s: float) -> list[float]:
    weights = [r ** -s for r in range(1, n + 1)]
    return [w / math.fsum(weights) for w in weights]


@pytest.mark.parametrize("population, chances", [
    (Addresses(0x0A000001, 40, Zipf(1.1)), zipf_chances(40, 1.1)),
    (Addresses(0x0A000001, 25, Zipf(2.5)), zipf_chances(25, 2.5)),
    (Addresses(0x0A000001, 30), [1 / 30] * 30),
    (KeyList(("8.8.8.8", "8.8.4.4", "1.1.1.1", "9.9.9.9"), (3.0, 1.0, 0.0, 0.5)), [3 / 4.5, 1 / 4.5, 0.0, 0.5 / 4.5]),
], ids=["zipf-1.1", "zipf-2.5", "uniform", "weights"])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_key_frequencies_follow_the_distribution(population, chances, seed):
    """A chi-square statistic of 60,000 draws stays under its one-in-a-million bound, and the same draws
    against another law (uniform for a skewed one, zipf for the uniform) are far over it: the test can fail."""
    draws = 60_000
    observed = Counter(Sampler(population).draw(random.Random(seed), draws))
    assert set(observed) <= {i for i, p in enumerate(chances) if p > 0}  # a weight of 0 is never drawn
    freedom = sum(1 for p in chances if p > 0) - 1
    assert chi_square(observed, chances, draws) < chi_square_bound(freedom)
    wrong = zipf_chances(len(chances), 1.0) if len(set(chances)) == 1 else [1 / len(chances)] * len(chances)
    assert chi_square(observed, wrong, draws) > 10 * chi_square_bound(len(chances) - 1)


def test_a_million_key_zipf_population_builds_and_draws_quickly():
    """The table of a million keys is built once (8 MB) and a draw is a bisection over it: both well under
    a second here (measured: about 0.15 s to build, 0.6 s a million draws)."""
    population = Addresses(0x0A000000, 1_000_000, Zipf(1.1))
    began = time.perf_counter()
    sampler = Sampler(population)
    drawn = sampler.draw(random.Random(7), 200_000)
    assert time.perf_counter() - began < 5.0  # generous: a shared machine
    top = Counter(drawn).most_common(3)
    assert [i for i, _ in top] == [0, 1, 2]  # rank 1 is first, and heaviest
    h = math.fsum(r ** -1.1 for r in range(1, 1_000_001))
    assert abs(top[0][1] / 200_000 - 1 / h) < 5 * math.sqrt((1 / h) / 200_000)
    assert population.key(0) == "10.0.0.0" and population.key(999_999) == address_text(0x0A000000 + 999_999)


# -- whole runs -------------------------------------------------------------------------------------------------
def counter(name: str, kind: str, **params) -> CounterSpec:
    return CounterSpec(name, kind, BUILT_IN[kind], Windowing.of_seconds(60.0), tuple(params.items()))


COUNTERS = (counter("naive", "naive"), counter("buffered", "buffered", grace="40s"))


def crowd(seed: int = 5, shards: int = 4) -> Scenario:
    return Scenario("crowd", "", seed, START, 180.0, 60.0, StreamSpec("s", shards), (
        ProducerSpec("crowd", None, 0.01, lag=Exponential(0.2), keys=Addresses(0x0A000001, 5000, Zipf(1.1))),
        ProducerSpec("slow", None, 2.0, lag=Uniform(5.0, 30.0), keys=Addresses(0x0A000001, 5000, Zipf(1.1)), count=3),
        ProducerSpec("edge", None, 5.0, lag=Uniform(0.0, 2.0), count=20, jitter=1.0,
                     keys=Addresses(0x0A010001, 20, each=True)),
        ProducerSpec("pair", None, 1.0, pacing=Pacing.AFTER_PUT, keys=KeyList(("8.8.8.8", "8.8.4.4"), (3.0, 1.0)))),
        ConsumerSpec(poll_interval=5.0), COUNTERS)


def test_a_run_counts_every_key_drawn_and_its_keys_follow_the_law():
    scenario = crowd()
    result = run(scenario)
    assert result.produced == result.delivered
    truth = result.counters[0].truth.cells
    per_key = Counter()
    for (_, key), count in truth.items():
        per_key[key] += count
    assert sum(per_key.values()) == result.produced
    assert {f"10.1.0.{i}" for i in range(1, 21)} <= set(per_key)  # each member its own key
    assert all(per_key[f"10.1.0.{i}"] == 36 for i in range(1, 21))
    pair = per_key["8.8.8.8"] + per_key["8.8.4.4"]
    assert abs(per_key["8.8.8.8"] / pair - 0.75) < 5 * math.sqrt(0.75 * 0.25 / pair)
    # the crowd and the slow links draw from one zipf population: its 20 heaviest keys and the rest
    drawn = 18_000 + 3 * 90
    chances = zipf_chances(5000, 1.1)
    observed = [per_key[address_text(0x0A000001 + i)] for i in range(20)]
    lumped = Counter(dict(enumerate(observed + [drawn - sum(observed)])))
    assert chi_square(lumped, chances[:20] + [1 - sum(chances[:20])], drawn) < chi_square_bound(20)
    buffered = result.counters[1].metrics
    assert buffered["final_exact"] == 1.0 and buffered["late_records"] == 0


def test_a_run_is_the_same_for_the_same_seed_and_draws_other_keys_for_another():
    first, again, other = (to_json(run(crowd(seed))) for seed in (5, 5, 6))
    assert first == again
    rows = lambda text: {(r["window_start"], r["key"]) for r in json.loads(text)["counters"][0]["rows"]}  # noqa: E731
    assert rows(first) != rows(other)


@settings(max_examples=25, deadline=None)
@given(ks.scenarios(populations=True, max_producers=2))
def test_a_group_is_the_producers_it_stands_for(scenario):
    """A group of ``count`` runs exactly as ``count`` producers ``name-0`` … written out one by one (each
    member's key, with ``each``, as its partition key): the same report, byte for byte."""
    written_out = []
    for spec in scenario.producers:
        for i in range(spec.members):
            if spec.keys is not None and spec.keys.each:
                written_out.append(dataclasses.replace(spec, name=spec.member_name(i), count=None, keys=None,
                                                       partition_key=spec.keys.key(i)))
            else:
                written_out.append(dataclasses.replace(spec, name=spec.member_name(i), count=None))
    plain = dataclasses.replace(scenario, producers=tuple(written_out))
    assert to_json(run(scenario)) == to_json(run(plain))


def test_a_member_named_like_another_producer_has_its_own_generators():
    """``edge-1`` written out and ``edge`` of 3 cannot both be: they would be one producer twice."""
    text = replaced("  - name: slow\n    partition_key: 8.8.8.9\n",
                    "  - name: edge\n    count: 3\n    partition_key: 8.8.8.9\n") + ""
    text = text.replace("{name: fast,", "{name: edge-1,")
    assert error_of_text(text) == ("producers[0].name: 'edge-1' is the name of a member of producers[1] "
                                   "(a group of 3): use another name")


def test_the_estimate_counts_members_and_finds_a_hot_key_on_its_shard():
    hot = Scenario("hot", "", 1, START, 60.0, 60.0, StreamSpec("s", 4), (
        ProducerSpec("crowd", None, 0.0002, keys=Addresses(0x0A000001, 100_000, Zipf(1.5))),
        ProducerSpec("edge", None, 1.0, count=500, keys=Addresses(0x0A010001, 500, each=True))),
        ConsumerSpec(), COUNTERS)
    size = estimate(hot)
    assert size.records == 300_001 + 500 * 61  # a record at 0 s and at every interval up to 60 s
    # zipf 1.5: the top key takes 38% of 5,000/s, 1,900/s on one shard: throttled
    assert any("is offered" in reason and "takes 1,000" in reason for reason in size.reasons)
    assert size.memory_bytes > 8 * 100_000  # its table
    assert estimate(dataclasses.replace(hot, producers=hot.producers[1:])).reasons == ()


# -- the scenario format ----------------------------------------------------------------------------------------
def error_of_text(text: str) -> str:
    import tempfile
    from pathlib import Path
    with tempfile.TemporaryDirectory() as directory:
        return error_of(Path(directory), text)


def population(keys: str, extra: str = "") -> str:
    """GOOD with its slow producer drawing from ``keys`` (and more keys of the producer)."""
    return replaced("    partition_key: 8.8.8.9\n", f"    keys: {keys}\n{extra}")


BAD = [
    ("count past the IPv4 space", population("{first: 255.255.0.1, count: 100000}"),
     "producers[1].keys.count: 100,000 addresses from 255.255.0.1 run past 255.255.255.255 (at most 65,535 "
     "from there)"),
    ("no keys", population("{first: 10.0.0.1, count: 0}"),
     "producers[1].keys.count: a population holds at least one key, got 0"),
    ("not an address", population("{first: 10.0.0.256, count: 3}"),
     "producers[1].keys.first: expected an IPv4 address like 10.0.0.1, got '10.0.0.256'"),
    ("count missing", population("{first: 10.0.0.1}"), "producers[1].keys.count: is required"),
    ("zipf s of 0", population("{first: 10.0.0.1, count: 9, distribution: {zipf: 0}}"),
     "producers[1].keys.distribution.zipf: the exponent s is a finite number above 0, got 0.0"),
    ("zipf s not a number", population("{first: 10.0.0.1, count: 9, distribution: {zipf: big}}"),
     "producers[1].keys.distribution.zipf: expected a number, got 'big'"),
    ("unknown distribution", population("{first: 10.0.0.1, count: 9, distribution: normal}"),
     "producers[1].keys.distribution: expected uniform or {zipf: s} (s above 0), got 'normal'"),
    ("zipf too big", population("{first: 10.0.0.1, count: 20000000, distribution: {zipf: 1.1}}"),
     "producers[1].keys.count: a zipf population holds at most 10,000,000 keys (its table takes 8 bytes a "
     "key), got 20,000,000"),
    ("weights not matching", population("{list: [a, b, c], weights: [1, 2]}"),
     "producers[1].keys.weights: one weight a key: 3 keys, 2 weights"),
    ("negative weight", population("{list: [a, b], weights: [1, -2]}"),
     "producers[1].keys.weights[1]: a weight is a finite number, at least 0, got -2.0"),
    ("all weights 0", population("{list: [a, b], weights: [0, 0]}"),
     "producers[1].keys.weights: at least one weight above 0"),
    ("a key twice", population("{list: [a, b, a]}"), "producers[1].keys.list[2]: 'a' is already list[0]: each key once"),
    ("an empty list", population("{list: []}"), "producers[1].keys.list: a population holds at least one key"),
    ("a key too long", population("{list: [" + "k" * 257 + "]}"),
     "producers[1].keys.list[0]: expected text of at most 256 characters, got 257"),
    ("both kinds", population("{list: [a], first: 10.0.0.1, count: 1}"),
     "producers[1].keys: give either first and count (IPv4 addresses) or list (keys), not both or neither"),
    ("weights with addresses", population("{first: 10.0.0.1, count: 2, weights: [1, 2]}"),
     "producers[1].keys.weights: weights go with a list of keys; addresses take a distribution"),
    ("count with a list", population("{list: [a], count: 1}"),
     "producers[1].keys.count: a list of keys takes weights, not count or distribution"),
    ("unknown key", population("{first: 10.0.0.1, count: 2, zipf: 1.1}"),
     "producers[1].keys.zipf: unknown key; known keys: first, count, distribution, list, weights, each"),
    ("each without count", population("{first: 10.0.0.1, count: 2, each: true}"),
     "producers[1].keys.each: each gives member i key i: it needs the producer's count"),
    ("each with another count", population("{first: 10.0.0.1, count: 2, each: true}", "    count: 3\n"),
     "producers[1].keys.each: each gives member i key i: 3 members need 3 keys, got 2"),
    ("each with zipf", population("{first: 10.0.0.1, count: 2, each: true, distribution: {zipf: 1}}",
                                  "    count: 2\n"),
     "producers[1].keys.each: with each, member i writes key i only: no distribution applies"),
    ("each with weights", population("{list: [a, b], weights: [1, 1], each: true}", "    count: 2\n"),
     "producers[1].keys.weights: with each, member i writes key i only: weights do not apply"),
    ("each not a boolean", population("{first: 10.0.0.1, count: 2, each: yes please}", "    count: 2\n"),
     "producers[1].keys.each: expected true or false, got 'yes please'"),
    ("partition_key and keys", population("{list: [a]}", "    partition_key: b\n"),
     "producers[1]: give either 'partition_key' (one key) or 'keys' (a population), not both or neither"),
    ("neither", replaced("    partition_key: 8.8.8.9\n", ""),
     "producers[1]: give either 'partition_key' (one key) or 'keys' (a population), not both or neither"),
    ("a group of 0", replaced("    partition_key: 8.8.8.9\n", "    partition_key: 8.8.8.9\n    count: 0\n"),
     "producers[1].count: a group has 1 to 1,000,000 members, got 0"),
    ("a group too big", replaced("    partition_key: 8.8.8.9\n", "    partition_key: 8.8.8.9\n    count: 1000001\n"),
     "producers[1].count: a group has 1 to 1,000,000 members, got 1,000,001"),
]


@pytest.mark.parametrize("text, message", [c[1:] for c in BAD], ids=[c[0] for c in BAD])
def test_a_bad_population_is_one_message_with_its_key_path(tmp_path, text, message):
    assert error_of(tmp_path, text) == message


def test_the_cli_refuses_a_bad_population_in_one_line_with_status_2(tmp_path):
    path = write(tmp_path, population("{list: [a, b, c], weights: [1, 2]}"))
    done = kinsim("run", str(path))
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == f"kinsim: error: {path}: producers[1].keys.weights: one weight a key: 3 keys, 2 weights\n"


def test_a_file_with_populations_and_groups_reads_as_the_design_writes_it(tmp_path):
    path = write(tmp_path, replaced("  - name: slow\n    partition_key: 8.8.8.9\n", """\
  - name: crowd
    rate: 2000/s
    keys: {first: 10.0.0.1, count: 100000, distribution: {zipf: 1.1}}
  - name: pair
    rate: 1/s
    keys: {list: [8.8.8.8, 8.8.8.9], weights: [3, 1]}
  - name: slow
    count: 500
    keys: {first: 10.1.0.1, count: 500, each: true}
"""))
    done = kinsim("validate", str(path))
    assert done.returncode == 0, done.stderr
    assert "t: 503 producers" in done.stdout
    scenario = parse_scenario(__import__("yaml").safe_load(path.read_text()), str(path), "t")
    crowd_, pair, slow = scenario.producers[1:]
    assert crowd_.keys == Addresses(0x0A000001, 100_000, Zipf(1.1)) and crowd_.interval == 0.0005
    assert pair.keys == KeyList(("8.8.8.8", "8.8.8.9"), (3.0, 1.0))
    assert slow.count == 500 and slow.keys == Addresses(0x0A010001, 500, None, True)
    assert [slow.member_name(i) for i in (0, 499)] == ["slow-0", "slow-499"]


@settings(max_examples=60, deadline=None)
@given(ks.scenarios(populations=True))
def test_a_scenario_with_populations_reads_back_equal_from_its_document(scenario):
    import yaml

    from kinsim.scenario.reading import read_document

    document = ks.scenario_document(scenario)
    assert parse_scenario(document, "gen.yaml", "gen") == scenario
    text = yaml.safe_dump(document, allow_unicode=True, sort_keys=False).encode("utf-8")
    assert parse_scenario(read_document(text), "gen.yaml", "gen") == scenario


@settings(max_examples=30, deadline=None)
@given(ks.scenarios(populations=True, faults=True))
def test_the_fast_path_and_the_plain_api_agree_on_populations(scenario):
    """Lanes per shard and runs of records (the appending writer) against one put_record per attempt in
    one global order (the calling writer, as for a real stream): the same report."""
    fast, plain = both_ways(scenario)
    assert fast == plain


# -- the shipped scenario -----------------------------------------------------------------------------------------
def test_crowd_shows_what_counting_costs_at_100000_keys():
    """scenarios/crowd.yaml's header, claim by claim."""
    from pathlib import Path

    from kinsim.scenario import load_scenario

    result = run(load_scenario(Path(__file__).resolve().parent.parent / "scenarios/crowd.yaml"))
    assert result.produced == result.delivered == 300_000 + 3 * 600
    truth = result.counters[0].truth.cells
    per_key = Counter()
    for (_, key), count in truth.items():
        per_key[key] += count
    slow = {"192.0.2.1", "192.0.2.2", "192.0.2.3"}
    crowd_keys = set(per_key) - slow
    assert 30_000 < len(crowd_keys) < 40_000 and all(key.startswith("10.") for key in crowd_keys)  # of 100,000
    assert sum(1 for key in crowd_keys if per_key[key] <= 2) > len(crowd_keys) / 2  # most send one or two
    assert 6.5 < 300_000 / per_key["10.0.0.1"] < 8.0                                  # about one in seven
    assert abs(per_key["10.0.0.2"] / per_key["10.0.0.1"] - 2 ** -1.1) < 0.02          # half as many
    assert 70_000 < len(truth) < 74_000 and sum(1 for c in truth.values() if c == 1) > 0.7 * len(truth)
    naive, patient, hasty = (part.metrics for part in result.counters)
    assert naive["peak_state_cells"] == len(truth) and naive["final_exact"] == 1.0
    assert 2_000_000 < naive["emitted_rows"] and 30 < naive["emitted_rows"] / len(truth) < 40
    assert patient["final_exact"] == patient["first_exact"] == 1.0 and patient["emitted_rows"] == len(truth)
    assert 20_000 < patient["peak_state_cells"] < naive["peak_state_cells"] / 3
    assert hasty["peak_state_cells"] < naive["peak_state_cells"] / 7
    late = result.counters[2].counter.late
    assert {record.key for record in late} == slow and len(late) > 1800 / 2            # most of theirs
    wrong = {cell for cell in truth if (report := result.counters[2].observations.cells.get(cell)) is None
             or report.last != truth[cell]}
    assert len(wrong) == hasty["never_converged"] == 27 and {key for _, key in wrong} == slow
    assert f"{hasty['final_exact']:.3f}" == "1.000"


def test_the_readmes_populations_example_loads_and_runs():
    import re
    from pathlib import Path

    import yaml

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("#### Key populations and producer groups"):]
    block = re.search(r"```yaml\n(.*?)```", section, re.S).group(1)
    document = yaml.safe_load(block)
    document.update({"duration": "20s", "counters": ["naive"], "stream": {"shards": 2}})
    scenario = parse_scenario(document, "README.md", "readme")
    assert [p.members for p in scenario.producers] == [1, 1, 500]
    result = run(scenario)
    assert result.produced == result.delivered == 40_000 + 20 + 1000
    said = {re.sub(r"producers\[\d+\]", "producers[i]", case[2]) for case in BAD}
    for message in re.findall(r"kinsim: error: crowd\.yaml: (.*)", section):
        assert re.sub(r"producers\[\d+\]", "producers[i]", message) in said, message


@settings(max_examples=30, deadline=None)
@given(ks.scenarios(populations=True, faults=True, max_producers=3))
def test_records_made_one_by_one_are_the_records_made_in_columns(scenario):
    """A producer with few records in a chunk makes them one by one, others in columns (C loops): either
    way for every producer, the same report."""
    from unittest import mock

    from kinsim.simulation import creation

    reports = []
    for few in (0, 10**9):
        with mock.patch.object(creation, "FEW_RECORDS", few):
            reports.append(to_json(run(scenario)))
    assert reports[0] == reports[1]


@st.composite
def sparse_documents(draw):
    """Scenarios of producers writing now and then (a record every 5 s to 2 minutes, so most chunks hold
    one record of each): offsets, clock skews, lags, jitter, a group of members each writing its own key."""
    producers = []
    for i in range(draw(st.integers(1, 12))):
        interval = draw(st.integers(5_000, 120_000))
        producer = {"name": f"p{i}", "partition_key": f"10.0.0.{i % 5}", "interval": f"{interval}ms",
                    "offset": f"{draw(st.integers(0, 90_000))}ms",
                    "clock_skew": f"{draw(st.integers(-5_000, 5_000))}ms",
                    "lag": draw(st.sampled_from([{"exponential": {"mean": "2s"}}, {"uniform": ["0s", "40s"]},
                                                 {"constant": "100ms"}]))}
        if draw(st.booleans()):
            producer["jitter"] = f"{draw(st.integers(1, interval - 1))}ms"
        producers.append(producer)
    if draw(st.booleans()):
        count, interval = draw(st.integers(1, 30)), draw(st.integers(5, 60))
        group = {"name": "g", "count": count, "interval": f"{interval}s",
                 "keys": {"first": "10.1.0.1", "count": count, "each": True}}
        if draw(st.booleans()):
            group["jitter"] = f"{draw(st.integers(1, interval * 1000 - 1))}ms"
        producers.append(group)
    return {"name": "sparse", "seed": draw(st.integers(0, 99)), "start": "2018-07-31T21:56:00Z",
            "duration": f"{draw(st.integers(60, 900))}s", "window": "1m", "stream": {"shards": draw(st.integers(1, 3))},
            "producers": producers, "consumer": {"poll_interval": "1s", "limit": 10000},
            "counters": ["naive", {"kind": "buffered", "name": "b", "grace": "30s"}]}


@settings(max_examples=40, deadline=None)
@given(sparse_documents())
def test_sparse_producers_records_made_all_at_once_are_the_records_made_in_columns(document):
    """A plain (or only jittered) producer's one record of a chunk is made with every other such
    producer's, over arrays (``SparseProducers``); made in columns, producer by producer, the same report."""
    from unittest import mock

    from kinsim.simulation import creation, sparse

    scenario = parse_scenario(document, "<sparse>", "sparse")
    reports = []
    for few in (0, 10**9):
        with mock.patch.object(creation, "FEW_RECORDS", few):
            reports.append(to_json(run(scenario)))
    assert reports[0] == reports[1]


def test_a_crowd_writing_a_record_a_minute_is_made_all_at_once():
    """2,000 producers, a record a minute each, and a group of 2,000 members spread by jitter: all but a
    few records are made by ``SparseProducers``, and the report is the one made in columns."""
    from unittest import mock

    from kinsim.simulation import creation, sparse

    producers = [{"name": f"p{i}", "partition_key": f"10.0.{i >> 8}.{i & 255}", "interval": "60s",
                  "offset": f"{i * 29 % 60_000}ms", "lag": {"exponential": {"mean": "1s"}}} for i in range(2000)]
    group = {"name": "g", "count": 2000, "interval": "60s", "jitter": "59s",
             "keys": {"first": "10.1.0.1", "count": 2000, "each": True}, "lag": {"uniform": ["0s", "5s"]}}
    scenario = parse_scenario({"name": "crowd", "seed": 3, "start": "2018-07-31T21:56:00Z", "duration": "5m",
                               "stream": {"shards": 4}, "producers": [*producers, group], "counters": ["naive"]},
                              "<c>", "c")
    made, real = [], sparse.SparseProducers.make

    def counting(self, numbers, *args):
        left, more, seconds = real(self, numbers, *args)
        made.append(len(numbers) - len(left))
        return left, more, seconds

    with mock.patch.object(sparse.SparseProducers, "make", counting):
        fast = run(scenario)
    assert fast.produced == 20_000
    assert sum(made) > 19_000  # all but a jittered member's two records in one chunk, now and then
    with mock.patch.object(creation, "FEW_RECORDS", 0):
        assert to_json(run(scenario)) == to_json(fast)


@settings(max_examples=30, deadline=None)
@given(ks.scenarios(populations=True, faults=True, max_producers=3))
def test_lags_drawn_all_at_once_are_the_lags_drawn_chunk_by_chunk(scenario):
    """A fixed-pacing producer of few records (no jitter) draws all their lags when it first needs one
    and lets its generator go; with more, it keeps the generator and draws as it goes: either way, the
    same report."""
    from unittest import mock

    from kinsim.simulation import members

    reports = []
    for predrawn in (0, 10**9):
        with mock.patch.object(members, "PREDRAWN", predrawn):
            reports.append(to_json(run(scenario)))
    assert reports[0] == reports[1]


@pytest.mark.parametrize("population, draws", [
    (Addresses(0, 1_000_000, Zipf(1.1)), 120_000), (Addresses(0, 100_000, Zipf(1.1)), 30_000),
    (Addresses(0, 1_000_000), 120_000), (Addresses(0, 1000, Zipf(2.0)), 5000), (Addresses(0, 50, Zipf(0.5)), 40),
    (KeyList(("a", "b", "c"), (3.0, 1.0, 0.0)), 10), (KeyList(tuple("abcdefgh")), 5),
])
def test_the_estimate_knows_how_many_keys_a_window_holds(population, draws):
    """What the run estimate takes for the cells of a window: within a few percent of what draws hit."""
    hit = len(set(Sampler(population).draw(random.Random(3), draws)))
    assert abs(population.expected_distinct(draws) - hit) <= 0.05 * hit + 2


def test_a_zipf_crowd_of_ten_million_records_fits_the_default_budget():
    """10M records over a million keys by a Zipf law, the naive and a buffered counter: under 40,000 keys a
    minute, not a million, each cell held by the truth once and by each counter's state and observations
    (such a run, 100 minutes at 1,667 records/s, takes 1.65 GiB; README, "Scale")."""
    crowd_ = Scenario("big", "", 1, START, 5000.0, 60.0, StreamSpec("s", 8), (
        ProducerSpec("crowd", None, 0.0005, keys=Addresses(0x0A000000, 1_000_000, Zipf(1.1))),),
        ConsumerSpec(), (counter("naive", "naive"), counter("buffered", "buffered", grace="10s")))
    size = estimate(crowd_)
    assert size.records == 10_000_001 and size.cells < (1 + 2 * 2) * 100 * 40_000
    assert size.memory_bytes < 4 * 1024**3

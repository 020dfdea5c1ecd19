"""A scenario's fault schedule (DESIGN §10): loaded to its dataclasses, checked against the stream before
anything runs, every bad schedule one line naming the file and the key path, exit status 2."""

from __future__ import annotations

import textwrap
from typing import Optional

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kinsim import strategies as ks
from kinsim.backends import MemoryBackend
from kinsim.cli import main
from kinsim.clock import ManualClock
from kinsim.errors import KinesisError, ScenarioError
from kinsim.scenario import Fault, Merge, Pause, ShardCount, Split, Throttle, load_scenario, parse_scenario
from kinsim.scenario.schedule import Crash, Restart, split_point
from kinsim.scenario.values import hash_key, shard_id, size
from tests.strategies.faults import bad_fault_schedules

BASE = """\
name: t
seed: 1
start: 2018-07-31T21:56:00Z
duration: 10m
stream: {name: s, shards: SHARDS, update_delay: DELAY}
producers:
  - {name: fast, partition_key: 8.8.8.8, interval: 2s}
counters: [naive]
"""

S0, S1, S2, S3, S4, S5, S6, S7 = (ks.shard_name(i) for i in range(8))


def scenario_text(faults: str, shards: int = 2, delay: str = "0s") -> str:
    text = BASE.replace("SHARDS", str(shards)).replace("DELAY", delay)
    return text + "faults:\n" + textwrap.indent(textwrap.dedent(faults), "  ") if faults else text


def write(tmp_path, text: str):
    path = tmp_path / "faults.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def loaded(tmp_path, faults: str, shards: int = 2, delay: str = "0s") -> tuple[Fault, ...]:
    return load_scenario(write(tmp_path, scenario_text(faults, shards, delay))).faults


def refused(tmp_path, capsys, faults: str, shards: int = 2, delay: str = "0s") -> tuple[str, str]:
    """validate's answer to a bad schedule: (key path, problem), after checking it is one line on stderr
    naming the file, with exit status 2."""
    path = write(tmp_path, scenario_text(faults, shards, delay))
    assert main(["validate", str(path)]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.endswith("\n") and err.count("\n") == 1, err
    prefix = f"kinsim: error: {path}: "
    assert err.startswith(prefix), err
    key_path, _, problem = err[len(prefix):-1].partition(": ")
    return key_path, problem


# -- good schedules -----------------------------------------------------------------------------------

def test_every_kind_loads_to_its_dataclass(tmp_path):
    """Split shardId-000000000000 at its middle (children 2, 3), 1 just above its start (4, 5), 2 at
    12345 (6, 7); merge 6 and 7 back; then six shards from four."""
    faults = loaded(tmp_path, f"""\
        - {{at: 1m, split: {S0}}}
        - {{at: 2m, split: {S1}, hash_key: "170141183460469231731687303715884105730"}}
        - {{at: 3m, split: {S2}, hash_key: 12345}}
        - {{at: 4m, merge: [{S7}, {S6}]}}
        - {{at: 5m, shard_count: 6}}
        - {{at: 30s, for: 1m, throttle: {{shards: [{S0}], records_per_s: 100, bytes_per_s: 100KiB, reads_per_s: 1}}}}
        - {{at: 2m, for: 90s, throttle: {{shards: all, bytes_per_s: 1MiB, read_bytes_per_s: 500KB}}}}
        - {{at: 4m, for: 1m, throttle: {{records_per_s: 10, read_bytes_per_s: 2048}}}}
        - {{at: 4m, for: 6m, pause: consumer}}
        """, shards=2)
    assert faults == (
        Fault(60.0, Split(S0), None, "faults[0]"),
        Fault(120.0, Split(S1, 2**127 + 2), None, "faults[1]"),
        Fault(180.0, Split(S2, 12345), None, "faults[2]"),
        Fault(240.0, Merge((S7, S6)), None, "faults[3]"),
        Fault(300.0, ShardCount(6), None, "faults[4]"),
        Fault(30.0, Throttle((S0,), records_per_s=100, bytes_per_s=102_400, reads_per_s=1), 60.0, "faults[5]"),
        Fault(120.0, Throttle(None, bytes_per_s=1_048_576, read_bytes_per_s=500_000), 90.0, "faults[6]"),
        Fault(240.0, Throttle(None, records_per_s=10, read_bytes_per_s=2048), 60.0, "faults[7]"),
        Fault(240.0, Pause("consumer"), 360.0, "faults[8]"),
    )


def test_update_delay_is_read_and_defaults_to_zero(tmp_path):
    assert load_scenario(write(tmp_path, scenario_text("", delay="30s"))).stream.update_delay == 30.0
    text = BASE.replace(", update_delay: DELAY", "").replace("SHARDS", "1")
    scenario = load_scenario(write(tmp_path, text))
    assert (scenario.stream.update_delay, scenario.faults) == (0.0, ())


def test_no_faults_or_an_empty_list(tmp_path):
    assert load_scenario(write(tmp_path, scenario_text("") + "faults:\n")).faults == ()
    assert load_scenario(write(tmp_path, scenario_text("") + "faults: []\n")).faults == ()


def test_shards_made_by_earlier_reshards_can_be_named(tmp_path, capsys):
    """Split shardId-000000000000 of a one-shard stream: -000000000001 and -000000000002 open once the
    update completes (30 s later), and merging them is valid from then on, not before."""
    schedule = f"""\
        - {{at: 1m, split: {S0}}}
        - {{at: MERGE_AT, merge: [{S2}, {S1}]}}
        - {{at: 3m, split: {S3}}}
        """
    faults = loaded(tmp_path, schedule.replace("MERGE_AT", "90s"), shards=1, delay="30s")
    assert [f.action for f in faults] == [Split(S0), Merge((S2, S1)), Split(S3)]
    path, problem = refused(tmp_path, capsys, schedule.replace("MERGE_AT", "89s"), shards=1, delay="30s")
    assert path == "faults[1].merge" and "still UPDATING from faults[0]" in problem


def test_a_split_during_an_update_is_refused_naming_the_earlier_fault(tmp_path, capsys):
    schedule = f"""\
        - {{at: 1m, split: {S0}}}
        - {{at: 89s, merge: [{S1}, {S2}]}}
        """
    assert refused(tmp_path, capsys, schedule, shards=1, delay="30s") == (
        "faults[1].merge", f"the stream is still UPDATING from faults[0] (split {S0} at 1m), which completes at "
                           "1m30s; a reshard waits until then")
    schedule = f"""\
        - {{at: 1m, split: {S0}}}
        - {{at: 1m, split: {S1}}}
        """
    path, problem = refused(tmp_path, capsys, schedule, shards=2, delay="30s")
    assert path == "faults[1].split"
    assert problem.startswith("the stream is still UPDATING from faults[0]")


def test_the_children_are_unknown_until_the_update_completes(tmp_path, capsys):
    schedule = f"""\
        - {{at: 1m, split: {S0}}}
        - {{at: 100s, for: 10s, throttle: {{shards: [{S1}], records_per_s: 1}}}}
        """
    assert refused(tmp_path, capsys, schedule, shards=1, delay="1m") == (
        "faults[1].throttle.shards[0]", f"there is no shard {S1} at 1m40s; the open shards then: {S0}")
    assert loaded(tmp_path, schedule.replace("100s", "2m"), shards=1, delay="1m")[1].action.shards == (S1,)


def test_a_reshard_at_the_instant_the_update_completes_is_accepted(tmp_path):
    schedule = f"""\
        - {{at: 1m, split: {S0}}}
        - {{at: 90s, merge: [{S1}, {S2}]}}
        - {{at: 2m, split: {S3}, hash_key: 7}}
        """
    assert [f.kind for f in loaded(tmp_path, schedule, shards=1, delay="30s")] == ["split", "merge", "split"]


def test_ties_follow_the_file_order(tmp_path, capsys):
    """A throttle listed after a split at the same instant sees the split done (no update delay) and the
    parent closed; listed before it, it sees the parent open."""
    split, throttle = f"- {{at: 1m, split: {S0}}}\n", f"- {{at: 1m, for: 10s, throttle: {{shards: [{S0}], reads_per_s: 1}}}}\n"
    assert refused(tmp_path, capsys, split + throttle, shards=1) == (
        "faults[1].throttle.shards[0]", f"{S0} is closed by then: faults[0] (split {S0}) closed it at 1m")
    assert len(loaded(tmp_path, throttle + split, shards=1)) == 2
    assert len(loaded(tmp_path, split + throttle, shards=1, delay="1s")) == 2  # still open while UPDATING


def test_spans_that_only_touch_or_share_no_shard_are_accepted(tmp_path):
    faults = loaded(tmp_path, f"""\
        - {{at: 1m, for: 1m, throttle: {{shards: [{S0}], records_per_s: 1}}}}
        - {{at: 2m, for: 1m, throttle: {{shards: all, records_per_s: 1}}}}
        - {{at: 90s, for: 30s, throttle: {{shards: [{S1}], records_per_s: 1}}}}
        - {{at: 0s, for: 1m, pause: consumer}}
        - {{at: 1m, for: 9m, pause: consumer}}
        """)
    assert len(faults) == 5


def test_a_fault_checks_its_span():
    """Throttles and pauses last ``for`` a duration; a reshard, a crash or a restart is an instant."""
    for action in (Split(S0), Crash("w1"), Restart("w1")):
        with pytest.raises(ValueError, match=f"a {Fault(0.0, action).kind} happens at an instant: it takes no 'for'"):
            Fault(0.0, action, 1.0)
    for action in (Pause("w1"), Throttle(None, records_per_s=1)):
        for length in (None, 0.0):
            with pytest.raises(ValueError, match="needs 'for', a duration above 0"):
                Fault(0.0, action, length)
    assert Fault(60.0, Pause("w1"), 30.0).end == 90.0 and Fault(60.0, Crash("w1")).end is None


# -- bad schedules: one line, the file, the key path, status 2 ----------------------------------------

BAD = [
    # (what is wrong, faults, shards, delay, key path, words of the problem)
    ("faults not a list", "{at: 1m}", 2, "0s", "faults", "expected a list"),
    ("an item not a mapping", "- 5", 2, "0s", "faults[0]", "expected a mapping of keys"),
    ("a misspelt fault", f"- {{at: 1m, splt: {S0}}}", 2, "0s", "faults[0].splt", "did you mean 'split'?"),
    ("no fault word", "- {at: 1m}", 2, "0s", "faults[0]", "a fault needs one of split, merge"),
    ("two fault words", f"- {{at: 1m, split: {S0}, shard_count: 2}}", 2, "0s", "faults[0].shard_count",
     "one fault per item"),
    ("no at", f"- {{split: {S0}}}", 2, "0s", "faults[0].at", "is required"),
    ("a bad at", f"- {{at: soon, split: {S0}}}", 2, "0s", "faults[0].at", "expected a duration"),
    ("not a shard id", "- {at: 1m, split: shard-0}", 2, "0s", "faults[0].split", "expected a shard id like"),
    ("a shard id too short", "- {at: 1m, split: shardId-0}", 2, "0s", "faults[0].split", "shardId-0"),
    ("merge of three", f"- {{at: 1m, merge: [{S0}, {S1}, {S2}]}}", 3, "0s", "faults[0].merge",
     "expected two adjacent shards, [ID, ID], got 3"),
    ("merge not a list", f"- {{at: 1m, merge: {S0}}}", 2, "0s", "faults[0].merge", "expected a list"),
    ("a bad id in a merge", f"- {{at: 1m, merge: [{S0}, 1]}}", 2, "0s", "faults[0].merge[1]", "expected a shard id"),
    ("a shard merged with itself", f"- {{at: 1m, merge: [{S0}, {S0}]}}", 2, "0s", "faults[0].merge",
     "cannot be merged with itself"),
    ("hash key too large", f"- {{at: 1m, split: {S0}, hash_key: {2**128}}}", 2, "0s", "faults[0].hash_key",
     "from 0 to 2**128-1"),
    ("hash key negative", f"- {{at: 1m, split: {S0}, hash_key: -1}}", 2, "0s", "faults[0].hash_key", "got -1"),
    ("hash key with a merge", f"- {{at: 1m, merge: [{S0}, {S1}], hash_key: 5}}", 2, "0s", "faults[0].hash_key",
     "hash_key goes with split only"),
    ("no shards left", "- {at: 1m, shard_count: 0}", 2, "0s", "faults[0].shard_count", "at least 1 shard"),
    ("a count not a number", "- {at: 1m, shard_count: lots}", 2, "0s", "faults[0].shard_count",
     "expected a whole number"),
    ("a throttle without for", "- {at: 1m, throttle: {records_per_s: 1}}", 2, "0s", "faults[0].for", "is required"),
    ("a pause of no time", "- {at: 1m, for: 0s, pause: consumer}", 2, "0s", "faults[0].for", "must be above 0"),
    ("a reshard with for", f"- {{at: 1m, for: 1m, split: {S0}}}", 2, "0s", "faults[0].for", "takes no 'for'"),
    ("a throttle of nothing", "- {at: 1m, for: 1m, throttle: {shards: all}}", 2, "0s", "faults[0].throttle",
     "at least one of records_per_s"),
    ("a throttle not a mapping", "- {at: 1m, for: 1m, throttle: 5}", 2, "0s", "faults[0].throttle",
     "expected a mapping"),
    ("a bad size", "- {at: 1m, for: 1m, throttle: {bytes_per_s: 100 parsecs}}", 2, "0s",
     "faults[0].throttle.bytes_per_s", "expected a size like 100KiB"),
    ("a size of nothing", "- {at: 1m, for: 1m, throttle: {bytes_per_s: 0KiB}}", 2, "0s",
     "faults[0].throttle.bytes_per_s", "above 0"),
    ("a throttle above the service", "- {at: 1m, for: 1m, throttle: {records_per_s: 2000}}", 2, "0s",
     "faults[0].throttle.records_per_s", "limit of 1,000 records/s: give 1 to 1,000, got 2000"),
    ("reads above the service", "- {at: 1m, for: 1m, throttle: {read_bytes_per_s: 3MiB}}", 2, "0s",
     "faults[0].throttle.read_bytes_per_s", "limit of 2,097,152 read bytes/s"),
    ("a misspelt limit", "- {at: 1m, for: 1m, throttle: {record_per_s: 1}}", 2, "0s",
     "faults[0].throttle.record_per_s", "did you mean 'records_per_s'?"),
    ("a bad throttled shard", f"- {{at: 1m, for: 1m, throttle: {{shards: [{S0}, x], reads_per_s: 1}}}}", 2, "0s",
     "faults[0].throttle.shards[1]", "expected a shard id"),
    ("a shard throttled twice", f"- {{at: 1m, for: 1m, throttle: {{shards: [{S0}, {S0}], reads_per_s: 1}}}}", 2,
     "0s", "faults[0].throttle.shards[1]", f"{S0} is already listed at faults[0].throttle.shards[0]"),
    ("shards neither all nor a list", "- {at: 1m, for: 1m, throttle: {shards: some, reads_per_s: 1}}", 2, "0s",
     "faults[0].throttle.shards", "expected 'all' or a list of shard ids"),
    ("no throttled shards", "- {at: 1m, for: 1m, throttle: {shards: [], reads_per_s: 1}}", 2, "0s",
     "faults[0].throttle.shards", "got an empty list"),
    ("an unknown worker paused", "- {at: 1m, for: 1m, pause: w2}", 2, "0s", "faults[0].pause",
     "there is no worker 'w2'; the workers are consumer"),
    ("an unknown worker crashed", "- {at: 1m, crash: w1}", 2, "0s", "faults[0].crash",
     "there is no worker 'w1'; the workers are consumer"),
    ("an unknown worker restarted", "- {at: 1m, restart: w1}", 2, "0s", "faults[0].restart",
     "there is no worker 'w1'; the workers are consumer"),
    ("a negative update delay", "", 2, "-1s", "stream.update_delay", "expected a duration"),
    ("too many faults", "\n".join(["- 0"] * 1001), 2, "0s", "faults", "a schedule holds at most 1,000 faults, got 1,001"),
    # -- against the scenario and the stream
    ("a fault after the end", f"- {{at: 1m, split: {S0}}}\n- {{at: 10m, shard_count: 1}}", 2, "0s", "faults[1].at",
     "10m is not before the scenario's end: its duration is 10m"),
    ("a span past the end", "- {at: 9m, for: 61s, pause: consumer}", 2, "0s", "faults[0].for",
     "a span past the end: 9m + 1m1s ends after the scenario's duration of 10m"),
    ("an unknown shard", f"- {{at: 1m, split: {S5}}}", 2, "0s", "faults[0].split",
     f"there is no shard {S5} at 1m; the open shards then: {S0}, {S1}"),
    ("an unknown shard, many open", f"- {{at: 1m, merge: [{ks.shard_name(40)}, {S0}]}}", 6, "0s", "faults[0].merge",
     f"the open shards then: {S0}, {S1}, {S2}, {S3}, … 2 more"),
    ("a closed shard", f"- {{at: 1m, split: {S0}}}\n- {{at: 5m, merge: [{S0}, {S1}]}}", 2, "30s", "faults[1].merge",
     f"{S0} is closed by then: faults[0] (split {S0}) closed it at 1m30s"),
    ("shards not adjacent", f"- {{at: 1m, merge: [{S0}, {S2}]}}", 3, "0s", "faults[0].merge",
     f"{S0} and {S2} are not adjacent: their hash-key ranges do not touch (the open shards then, in hash-key "
     f"order: {S0}, {S1}, {S2})"),
    ("a split outside the shard", f"- {{at: 1m, split: {S1}, hash_key: 5}}", 2, "0s", "faults[0].split",
     f"the split's hash key is not inside {S1}: it must lie from {2**127 + 2} to {2**128 - 2}"),
    ("a split at the shard's start", f"- {{at: 1m, split: {S0}, hash_key: 1}}", 2, "0s", "faults[0].split",
     "it must lie from 2 to"),
    ("more than double", "- {at: 1m, shard_count: 5}", 2, "0s", "faults[0].shard_count",
     "the service refuses to update the shard count to 5: LimitExceededException: UpdateShardCount cannot scale "
     "to more than double the current open shard count (2). Requested target shard count: 5."),
    ("less than half", "- {at: 1m, shard_count: 1}", 3, "0s", "faults[0].shard_count",
     "to less than half the current open shard count (3)"),
    ("over the API's bound", "- {at: 1m, shard_count: 200000}", 2, "0s", "faults[0].shard_count",
     "ValidationException"),
    ("too many rescales", "\n".join(f"- {{at: {i}s, shard_count: {1 + i % 2}}}" for i in range(11)), 1, "0s",
     "faults[10].shard_count", "more than ten times per rolling 24-hour period"),
    ("a throttled shard closed", f"- {{at: 1m, split: {S0}}}\n- {{at: 2m, for: 1m, throttle: {{shards: [{S1}, {S0}], "
     "records_per_s: 1}}", 2, "0s", "faults[1].throttle.shards[1]", f"{S0} is closed by then: faults[0]"),
    ("a throttled shard not yet made", f"- {{at: 1m, for: 1m, throttle: {{shards: [{S2}], records_per_s: 1}}}}",
     2, "0s", "faults[0].throttle.shards[0]", f"there is no shard {S2} at 1m"),
    ("throttles overlapping on a shard", f"- {{at: 1m, for: 1m, throttle: {{shards: [{S0}, {S1}], reads_per_s: 1}}}}\n"
     f"- {{at: 119s, for: 1m, throttle: {{shards: [{S1}], records_per_s: 1}}}}", 2, "0s", "faults[1].throttle",
     f"overlaps the throttle faults[0] (1m to 2m) on {S1}: a shard has one throttle at a time"),
    ("a throttle of all overlapping", f"- {{at: 1m, for: 1m, throttle: {{shards: [{S1}], reads_per_s: 1}}}}\n"
     "- {at: 30s, for: 31s, throttle: {shards: all, records_per_s: 1}}", 2, "0s", "faults[0].throttle",
     f"overlaps the throttle faults[1] (30s to 1m1s) on {S1}"),
    ("two throttles of all", "- {at: 1m, for: 1m, throttle: {reads_per_s: 1}}\n"
     "- {at: 1m, for: 1s, throttle: {shards: all, reads_per_s: 2}}", 2, "0s", "faults[1].throttle",
     "on every shard"),
    ("pauses overlapping", "- {at: 5m, for: 1m, pause: consumer}\n- {at: 1m, for: 4m1s, pause: consumer}", 2, "0s",
     "faults[0].pause", "the consumer is already paused then, by faults[1] (1m to 5m1s)"),
]


@pytest.mark.parametrize("faults, shards, delay, key_path, words", [c[1:] for c in BAD], ids=[c[0] for c in BAD])
def test_a_bad_schedule_is_one_line_at_its_key_path(tmp_path, capsys, faults, shards, delay, key_path, words):
    text = scenario_text(faults, shards, delay)
    if faults and not faults.startswith("-"):
        text = scenario_text("", shards, delay) + f"faults: {faults}\n"
    path = write(tmp_path, text)
    assert main(["validate", str(path)]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1, err
    assert err.startswith(f"kinsim: error: {path}: {key_path}: "), err
    assert words in err, err


def test_an_unknown_stream_key_gets_a_hint(tmp_path):
    text = scenario_text("").replace("update_delay:", "update_dely:")
    with pytest.raises(ScenarioError, match=r"stream\.update_dely: unknown key; did you mean 'update_delay'\?"):
        load_scenario(write(tmp_path, text))


# -- converters -----------------------------------------------------------------------------------------

def test_sizes():
    assert [size(v) for v in (1, 512, "1", "100KiB", "1MiB", "500KB", "1.5KiB", " 2 mib ", "1GB")] == \
        [1, 512, 1, 102_400, 1_048_576, 500_000, 1536, 2_097_152, 10**9]
    for bad in (0, -1, True, 1.5, "1.5B", "0B", "KiB", "1 parsec", "", None, [1], 2**51):
        with pytest.raises(ValueError):
            size(bad)


def test_shard_ids_and_hash_keys():
    assert shard_id(S0) == S0
    for bad in ("shardId-00000000000", "shardId-0000000000000", "shardid-000000000000", 0, None, S0 + " "):
        with pytest.raises(ValueError):
            shard_id(bad)
    assert [hash_key(v) for v in (0, "0", str(2**128 - 1), 2**128 - 1, "007")] == [0, 0, 2**128 - 1, 2**128 - 1, 7]
    for bad in (-1, 2**128, str(2**128), "1e5", 1.0, True, "", "0x10", None):
        with pytest.raises(ValueError):
            hash_key(bad)


def test_split_point_is_the_middle():
    assert split_point(0, 2**128 - 1) == 2**127
    assert split_point(0, 3) == 2 and split_point(10, 14) == 12


# -- properties -----------------------------------------------------------------------------------------

DOCUMENT = yaml.safe_load(BASE.replace("SHARDS", "1").replace("DELAY", "0s"))


def document(schedule: ks.FaultSchedule) -> dict:
    doc = dict(DOCUMENT, stream={"name": "s", "shards": schedule.shards, "update_delay": schedule.update_delay})
    doc["faults"] = [ks.fault_document(f) for f in schedule.faults]
    workers = schedule.workers
    if workers != ("consumer",):  # w1 to wN as their number, as a scenario would write them
        numbered = workers == tuple(f"w{i}" for i in range(1, len(workers) + 1))
        doc["consumer"] = {"workers": len(workers) if numbered else list(workers)}
    return doc


def check(schedule: ks.FaultSchedule) -> Optional[ScenarioError]:
    try:
        parse_scenario(document(schedule), "gen.yaml", "gen")
    except ScenarioError as exc:
        return exc
    return None


def replay(schedule: ks.FaultSchedule, start: float = 1_533_074_160.0) -> Optional[int]:
    """Carry out the schedule as a run does, in time order (ties in file order): the reshards on a fresh
    backend at their instants, and each worker's life (up or down; paused until when). The index of the
    first fault that cannot happen (a reshard the service refuses; a crash of a worker that is down, a
    restart of one that is up, a pause of one that is down or still paused), or, if every worker ends
    down, of the crash that downed the last of them; None if the schedule runs to its end."""
    clock = ManualClock(start)
    backend = MemoryBackend(clock, update_delay=schedule.update_delay)
    backend.create_stream("replay", schedule.shards)
    up = {worker: True for worker in schedule.workers}
    paused_until = {worker: float("-inf") for worker in schedule.workers}
    downed_last: Optional[int] = None
    faults = schedule.faults
    for i in sorted(range(len(faults)), key=lambda i: (faults[i].at, i)):
        fault, action = faults[i], faults[i].action
        clock.set(start + fault.at)
        try:
            if isinstance(action, Split):
                key = action.hash_key
                if key is None:
                    ranges = [s.hash_key_range for s in backend.list_shards("replay") if s.shard_id == action.shard_id]
                    key = split_point(ranges[0].start, ranges[0].end) if ranges else 0
                backend.split_shard("replay", action.shard_id, str(key))
            elif isinstance(action, Merge):
                backend.merge_shards("replay", *action.shard_ids)
            elif isinstance(action, ShardCount):
                backend.update_shard_count("replay", action.target)
        except KinesisError:
            return i
        if isinstance(action, Crash):
            if not up[action.worker]:
                return i
            up[action.worker], downed_last = False, i
        elif isinstance(action, Restart):
            if up[action.worker]:
                return i
            up[action.worker] = True
        elif isinstance(action, Pause):
            if not up[action.who] or paused_until[action.who] > fault.at:
                return i
            paused_until[action.who] = fault.at + fault.duration
    return downed_last if not any(up.values()) else None


PROPERTY = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(ks.fault_schedules())
def test_a_generated_valid_schedule_loads_as_it_was_written(schedule):
    scenario = parse_scenario(document(schedule), "gen.yaml", "gen")
    assert scenario.faults == schedule.faults
    assert scenario.stream.update_delay == schedule.update_delay
    assert scenario.consumer.workers == schedule.workers
    assert replay(schedule) is None


@PROPERTY
@given(st.one_of(ks.reshard_schedules(), ks.worker_schedules()))
def test_the_check_accepts_exactly_the_schedules_a_replay_carries_out(schedule):
    """Accepted: the reshards replayed at those instants (on a clock at a real date) raise nothing, and
    every worker's crash, restart and pause finds it in a state to take it, some worker alive at the end.
    Refused: the replay stops at that very fault, and the error names its key path."""
    error, refused_at = check(schedule), replay(schedule)
    if refused_at is None:
        assert error is None, str(error)
    else:
        fault = schedule.faults[refused_at]
        assert error is not None and error.key_path == f"{fault.path}.{fault.kind}", (str(error), fault)


@PROPERTY
@given(bad_fault_schedules())
def test_a_spoilt_schedule_is_refused_at_the_bad_fault(schedule):
    error = check(schedule.schedule)
    assert error is not None
    assert error.key_path == schedule.path, str(error)
    assert schedule.says in error.problem, str(error)
    assert "\n" not in str(error) and len(error.problem) <= 300

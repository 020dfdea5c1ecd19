"""The shipped worker scenarios (failover, zombie, scale_out) show what their headers say they show, with
``consumer.state`` as the file has it and switched to the other mode where the header says what that does."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from kinsim.report import report_dict
from kinsim.runner import run
from kinsim.scenario import load_scenario
from kinsim.scenario.model import State

ROOT = Path(__file__).resolve().parent.parent


def outcome(name: str, state: State | None = None):
    """The run of a shipped scenario (its ``consumer.state`` replaced when given) and its report."""
    scenario = load_scenario(ROOT / "scenarios" / f"{name}.yaml")
    if state is not None:
        scenario = dataclasses.replace(scenario, consumer=dataclasses.replace(scenario.consumer, state=state))
    result = run(scenario)
    return result, report_dict(result)


def metrics(report: dict) -> dict:
    return {counter["name"]: counter["metrics"] for counter in report["counters"]}


def final_counts(result, name: str) -> dict:
    """cell → (truth, the counter's final count)."""
    part = next(part for part in result.counters if part.spec.name == name)
    cells = set(part.truth.cells) | set(part.observations.cells)
    return {cell: (part.truth.cells.get(cell, 0), part.observations.cells[cell].last if cell in part.observations.cells
                   else 0) for cell in cells}


@pytest.fixture(scope="module")
def failover():
    return outcome("failover")


def test_failover_w2_takes_the_crashed_leases_and_redelivers_after_their_checkpoints(failover):
    result, report = failover
    consumer = report["consumer"]
    assert consumer["never_delivered"] == 0
    assert consumer["duplicates"] > 0
    assert consumer["delivered"] == result.delivered + consumer["duplicates"]
    takeovers = consumer["takeovers"]
    crashed = {lease["shard_id"] for lease in consumer["leases"] if lease["ended"] == "crashed"}
    assert len(crashed) == 2 and {t["shard_id"] for t in takeovers} == crashed
    assert all(t["worker"] == "w2" and t["from"] == "w1" and not t["stolen"] for t in takeovers)
    assert all(0 < t["after_s"] <= 30 for t in takeovers)  # within failover + take interval of the crash


def test_failover_in_memory_double_counts_naive_and_loses_buffered_windows(failover):
    result, report = failover
    m = metrics(report)
    assert m["naive"]["final_exact"] < 1 and m["buffered-2m"]["final_exact"] < 1
    naive = final_counts(result, "naive")
    assert all(count >= truth for truth, count in naive.values())  # what w1 printed stands: never short
    assert any(count > truth for truth, count in naive.values())
    buffered = final_counts(result, "buffered-2m")
    assert any(count < truth for truth, count in buffered.values())  # the windows w1 held died with it


def test_failover_checkpointed_state_counts_the_same_duplicates_once(failover):
    memory_report = failover[1]
    result, report = outcome("failover", State.CHECKPOINTED)
    assert report["consumer"]["duplicates"] == memory_report["consumer"]["duplicates"] > 0
    assert {name: m["final_exact"] for name, m in metrics(report).items()} == {"naive": 1.0, "buffered-2m": 1.0}


@pytest.fixture(scope="module")
def zombie():
    return outcome("zombie")


def test_zombie_processes_without_its_lease_and_its_checkpoint_is_refused(zombie):
    result, report = zombie
    consumer = report["consumer"]
    assert consumer["checkpoints_refused"] >= 1
    assert consumer["processed_without_lease"] > 0
    assert consumer["duplicates"] == consumer["processed_without_lease"]  # only the zombie's batch came again
    pause = next(e for e in consumer["worker_events"] if e["event"] == "pause")
    assert (pause["worker"], pause["at"], pause["until"]) == ("w1", "2018-07-31T21:59:10Z", "2018-07-31T21:59:55Z")
    taken = next(t for t in consumer["takeovers"] if t["from"] == "w1")
    assert taken["worker"] == "w2" and not taken["stolen"] and taken["after_s"] <= 30
    lost = [lease for lease in consumer["leases"] if lease["worker"] == "w1" and lease["ended"] == "lost"]
    assert lost and all(lease["to"] == pause["until"] for lease in lost)  # it learns when it wakes


def test_zombie_in_memory_counts_its_batch_twice_and_checkpointed_state_does_not(zombie):
    result, report = zombie
    naive = final_counts(result, "naive")
    assert all(count >= truth for truth, count in naive.values()) and any(count > truth for truth, count in naive.values())
    checkpointed = outcome("zombie", State.CHECKPOINTED)[1]
    assert {name: m["final_exact"] for name, m in metrics(checkpointed).items()} == {"naive": 1.0, "buffered-30s": 1.0}


def test_scale_out_w3_steals_one_lease_per_take_round_until_two_each_and_loses_nothing():
    result, report = outcome("scale_out")
    consumer = report["consumer"]
    assert consumer["never_delivered"] == 0
    steals = consumer["takeovers"]
    assert [(t["at"], t["worker"], t["stolen"]) for t in steals] == [
        ("2018-07-31T21:59:00Z", "w3", True), ("2018-07-31T21:59:20Z", "w3", True)]
    assert {t["from"] for t in steals} == {"w1", "w2"}
    held = {}
    for lease in consumer["leases"]:
        if lease["to"] is None:
            held[lease["worker"]] = held.get(lease["worker"], 0) + 1
    assert held == {"w1": 2, "w2": 2, "w3": 2}
    assert {name: m["final_exact"] for name, m in metrics(report).items()} == {"naive": 1.0, "buffered-1m": 1.0}

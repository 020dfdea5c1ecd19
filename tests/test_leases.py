"""Leases (DESIGN §11): the table's conditional writes, the KCL's taking rules at their boundaries, and
properties over generated runs of workers renewing, taking, crashing, pausing and checkpointing."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Optional

import pytest
from hypothesis import given, settings

from kinsim.leases import (Lease, Leaseholder, MemoryLeaseTable, Position, Seen, create_child_leases, parents_ended,
                           plan_take, renew_interval, take_interval)
from kinsim.records import ChildShard
from tests.strategies.leases import WHOLE, LeaseRun, lease_runs

F = 10.0


def owned(shard: str, owner: Optional[str], since: float = 0.0, counter: int = 1) -> Seen:
    return Seen(Lease(shard, owner, counter), since)


# -- the table -------------------------------------------------------------------------------------


def test_conditional_writes_bump_the_counter_and_refusals_are_kept():
    table = MemoryLeaseTable([Lease("s0")])
    assert table.take("s0", "alice", 0) == Lease("s0", "alice", 1)
    assert table.take("s0", "bob", 0) is None                    # alice was first
    assert table.renew("s0", "alice", 1).counter == 2
    assert table.renew("s0", "alice", 1) is None                 # stale counter
    assert table.take("s0", "bob", 2).owner == "bob"
    assert table.renew("s0", "alice", 3) is None                 # right counter, wrong owner
    assert table.checkpoint("s0", "alice", 3, "42", b"state") is None
    assert [(r.operation, r.worker, r.expected_counter) for r in table.refusals] == [
        ("take", "bob", 0), ("renew", "alice", 1), ("renew", "alice", 3), ("checkpoint", "alice", 3)]
    assert table.refused("checkpoint") == 1 and table.refused() == 4
    assert table.refusals[-1].found == Lease("s0", "bob", 3)


def test_each_write_changes_what_it_says_and_keeps_every_other_field():
    """A lease written again keeps its shard, parents, checkpoint and state unless the write sets them (a
    child's parents and a checkpointed state survive a renewal, a take and an eviction), and only its
    counter moves, by one: what ``dataclasses.replace`` of each field the write names makes."""
    start = Lease("s2", "alice", 7, "1234", ("s0", "s1"), {"counts": 3})
    table = MemoryLeaseTable([start])
    renewed = table.renew("s2", "alice", 7)
    assert renewed == dataclasses.replace(start, counter=8)
    taken = table.take("s2", "bob", 8)
    assert taken == dataclasses.replace(start, owner="bob", counter=9)
    checkpointed = table.checkpoint("s2", "bob", 9, "5678", ("new", "state"))
    assert checkpointed == dataclasses.replace(start, owner="bob", counter=10, checkpoint="5678", state=("new", "state"))
    assert table.evict("s2", "bob") == dataclasses.replace(checkpointed, owner=None, counter=11)
    assert [f.name for f in dataclasses.fields(Lease)] == ["shard_id", "owner", "counter", "checkpoint", "parents",
                                                           "state"], "a new field: the table's writes must keep it"


def test_a_checkpoint_saves_its_state_with_it():
    table = MemoryLeaseTable([Lease("s0", "alice", 5)])
    assert table.checkpoint("s0", "alice", 5, "1234", b"counts") == Lease("s0", "alice", 6, "1234", (), b"counts")
    assert table.checkpoint("s0", "alice", 6, Position.SHARD_END).ended


def test_evict_expects_only_the_owner():
    table = MemoryLeaseTable([Lease("s0", "alice", 5)])
    assert table.evict("s0", "bob") is None
    assert table.evict("s0", "alice") == Lease("s0", None, 6)


@pytest.mark.parametrize("bad", ["", "12a", "-5", "shard_end", "１２"])
def test_a_checkpoint_is_a_position_or_a_sequence_number(bad):
    with pytest.raises(ValueError, match="checkpoint"):
        Lease("s0", checkpoint=bad)
    with pytest.raises(ValueError, match="checkpoint"):
        MemoryLeaseTable([Lease("s0", "a", 1)]).checkpoint("s0", "a", 1, bad)


def test_list_is_by_shard_id_and_a_shard_has_one_lease():
    table = MemoryLeaseTable([Lease("b"), Lease("a"), Lease("c")])
    assert [l.shard_id for l in table.list()] == ["a", "b", "c"]
    assert not table.create_if_absent(Lease("a", "x", 9))
    with pytest.raises(ValueError, match="two leases"):
        MemoryLeaseTable([Lease("a"), Lease("a")])


def test_children_are_created_once_and_wait_for_every_parent():
    table = MemoryLeaseTable([Lease("p1", "alice", 1), Lease("p2", "bob", 1)])
    merged = ChildShard("c", ("p1", "p2"), WHOLE)
    assert create_child_leases(table, [merged]) == [Lease("c", parents=("p1", "p2"))]
    assert create_child_leases(table, [merged]) == []                 # the other parent's end
    child = table.get("c")
    assert not parents_ended(table, child)
    table.checkpoint("p1", "alice", 1, "SHARD_END")
    assert not parents_ended(table, child)
    table.checkpoint("p2", "bob", 1, "SHARD_END")
    assert parents_ended(table, child)
    assert parents_ended(table, Lease("d", parents=("gone",)))       # a cleaned-up parent does not block


def test_a_child_may_be_taken_before_its_parent_ends_but_not_processed():
    table = MemoryLeaseTable([Lease("p", "alice", 1), Lease("c", parents=("p",))])
    bob = Leaseholder("bob", table, F)
    bob.take(0.0)
    assert bob.holds("c") and not bob.processable("c")
    table.checkpoint("p", "alice", 1, "SHARD_END")
    assert bob.processable("c")


def test_end_shard_creates_children_before_its_shard_end_checkpoint():
    table = MemoryLeaseTable([Lease("p")])
    alice, bob = Leaseholder("alice", table, F), Leaseholder("bob", table, F)
    alice.take(0.0)
    bob.take(100.0)
    bob.take(100.0 + 2 * F)          # alice stopped renewing: bob takes p
    assert alice.end_shard("p", [ChildShard("c", ("p",), WHOLE)]) is None    # the zombie's end is refused...
    assert table.get("c") == Lease("c", parents=("p",))                      # ...its children exist anyway
    assert not table.get("p").ended and alice.checkpoints_refused == 1


def test_a_zombies_end_of_a_shard_another_ended_creates_no_children():
    """bob took p from alice, ended it, and its child c ended too and both leases were cleaned up: when
    alice, a zombie, reaches p's end, c's lease is not made again (it used to be, and c was read twice)."""
    table = MemoryLeaseTable([Lease("p")])
    alice, bob = Leaseholder("alice", table, F), Leaseholder("bob", table, F)
    alice.take(0.0)
    bob.take(100.0)
    bob.take(100.0 + 2 * F)
    assert bob.end_shard("p", [ChildShard("c", ("p",), WHOLE)]) is not None
    assert table.delete("p") and table.delete("c")
    assert alice.end_shard("p", [ChildShard("c", ("p",), WHOLE)]) is None
    assert table.list() == [] and alice.checkpoints_refused == 1


# -- taking: boundaries and ties --------------------------------------------------------------------


def test_a_lease_unchanged_for_exactly_failover_time_is_not_expired():
    seen = [owned("s0", "alice", since=0.0), owned("s1", "bob", since=0.0)]
    assert plan_take("carol", seen, F, F).take == ()
    assert plan_take("carol", seen, math.nextafter(F, 20.0), F).take == ("s0", "s1")


def test_the_boundary_through_scans():
    table = MemoryLeaseTable([Lease("s0", "alice", 1)])
    bob = Leaseholder("bob", table, F)
    assert bob.take(5.0).taken == ()            # first seen owned: as if renewed at 5
    assert bob.take(15.0).taken == ()           # unchanged for exactly F
    [takeover] = bob.take(15.5).taken
    assert (takeover.previous_owner, takeover.stolen, takeover.at) == ("alice", False, 15.5)


def test_a_lease_first_seen_unowned_is_available_at_once():
    table = MemoryLeaseTable([Lease("s0"), Lease("s1")])
    assert [t.shard_id for t in Leaseholder("alice", table, F).take(0.0).taken] == ["s0", "s1"]


def test_takes_go_by_shard_id_up_to_the_target():
    seen = [Seen(Lease(s), float("-inf")) for s in ("s3", "s1", "s2", "s0")] + [owned("s4", "bob", 0.0)]
    plan = plan_take("alice", seen, 1.0, F)
    assert (plan.target, plan.take, plan.steal) == (3, ("s0", "s1", "s2"), None)


def test_a_steal_takes_one_from_the_most_loaded_smallest_name_smallest_shard():
    seen = [owned("s5", "carol"), owned("s4", "carol"), owned("s3", "bob"), owned("s2", "bob"),
            owned("s1", "bob"), owned("s0", "carol")]
    plan = plan_take("alice", seen, 1.0, F)            # bob and carol hold 3 each, target 2
    assert (plan.target, plan.steal.victim, plan.steal.shard_id, plan.take) == (2, "bob", "s1", ())


def test_no_steal_when_there_are_leases_to_take():
    seen = [owned("s0", "bob"), owned("s1", "bob"), owned("s2", "bob"), Seen(Lease("s3"), float("-inf"))]
    plan = plan_take("alice", seen, 1.0, F)
    assert (plan.take, plan.steal) == (("s3",), None)


def test_steal_at_the_target_only_when_needing_more_than_one():
    two_two = [owned("s0", "bob"), owned("s1", "bob"), owned("s2", "carol"), owned("s3", "carol")]
    assert plan_take("alice", two_two, 1.0, F).steal.victim == "bob"      # 2/2/0, target 2, needs 2
    two_one = [owned("s0", "bob"), owned("s1", "bob"), owned("s2", "carol"), owned("s3", "alice")]
    assert plan_take("alice", two_one, 1.0, F).steal is None              # needs 1, bob only at target
    three_one = [owned("s0", "bob"), owned("s1", "bob"), owned("s2", "bob"), owned("s3", "alice")]
    assert plan_take("alice", three_one, 1.0, F).steal.shard_id == "s0"   # bob above target 2


def test_more_workers_than_leases_each_wants_one():
    seen = [owned("s0", "bob"), owned("s1", "carol")]
    plan = plan_take("alice", seen, 1.0, F)
    assert (plan.target, plan.take, plan.steal) == (1, (), None)


def test_two_takers_of_one_lease_one_is_refused():
    table = MemoryLeaseTable([Lease("s0")])
    alice, bob = Leaseholder("alice", table, F), Leaseholder("bob", table, F)
    bob.taker.scan(table.list(), 0.0)
    alice.take(0.0)
    round_ = bob.taker.take_round(table, 0.0)
    assert round_.refused == () and round_.plan.take == ()    # bob listed again: alice holds it, target 1
    assert bob.taker.take_round(MemoryLeaseTable(), 0.0).plan.target == 0


def test_a_stolen_lease_is_lost_at_the_next_renew_and_its_checkpoint_refused():
    table = MemoryLeaseTable([Lease(f"s{i}") for i in range(4)])
    alice, bob = Leaseholder("alice", table, F), Leaseholder("bob", table, F)
    alice.take(0.0)
    assert alice.shards() == ["s0", "s1", "s2", "s3"]
    [steal] = bob.take(1.0).taken                    # target 2, nothing available: steal one
    assert (steal.shard_id, steal.previous_owner, steal.stolen) == ("s0", "alice", True)
    assert alice.checkpoint("s0", "7") is None and alice.checkpoints_refused == 1
    assert table.refused("checkpoint") == 1
    assert alice.checkpoint("s0", "8") is None and alice.checkpoints_refused == 2   # known lost: not asked
    assert table.refused("checkpoint") == 1
    assert alice.renew(2.0) == [] and alice.shards() == ["s1", "s2", "s3"]


def test_intervals_are_the_kcl_ones():
    assert (renew_interval(9.0), take_interval(9.0)) == (3.0, 18.0)
    with pytest.raises(ValueError, match="failover_time"):
        Leaseholder("a", MemoryLeaseTable(), 0)


# -- generated runs --------------------------------------------------------------------------------


@dataclass
class Trace:
    """What a run did, as the properties read it."""

    run: LeaseRun
    table: MemoryLeaseTable
    holders: dict = field(default_factory=dict)           # worker → Leaseholder
    last_write: dict = field(default_factory=dict)        # (worker, shard) → instant of its last accepted write
    takeovers: list = field(default_factory=list)         # (Takeover, plan, owners' counts before, previous
                                                          #  owner's last accepted write of it)
    attempts: list = field(default_factory=list)          # (at, worker, shard, owner before, accepted)
    ends: list = field(default_factory=list)              # (at, worker, shard, accepted, owner before)
    processed: list = field(default_factory=list)         # (at, worker, shard)
    ended_at: dict = field(default_factory=dict)          # shard → instant its SHARD_END was written
    wrong_beliefs: list = field(default_factory=list)     # (at, worker, shard, its last accepted write): it
                                                          #  believes it holds the lease, the table says not
    crashed_holdings: list = field(default_factory=list)  # (crash instant, worker, shards it held)
    owners_over_time: list = field(default_factory=list)  # (at, {shard: owner})


def _ticks(start: float, phase: float, every: float, horizon: float):
    k = 0
    while (at := start + phase + k * every) <= horizon:
        yield at
        k += 1


def drive(run: LeaseRun) -> Trace:
    """Play ``run``: events in time order, then by kind (wake, renew, take, checkpoint, end), then worker."""
    table = MemoryLeaseTable([Lease(s) for s in run.shards])
    trace = Trace(run, table)
    plans = {w.name: w for w in run.workers}
    events = []
    for w in run.workers:
        events += [(at, 1, w.name, "renew", None) for at in _ticks(w.start, w.renew_phase,
                                                                     renew_interval(run.failover_time), run.horizon)]
        events += [(at, 2, w.name, "take", None) for at in _ticks(w.start, w.take_phase,
                                                                    take_interval(run.failover_time), run.horizon)]
        events += [(to, 0, w.name, "wake", None) for _, to in w.pauses if to <= run.horizon]
        if w.crash is not None:
            events.append((w.crash, -1, w.name, "crash", None))
    events += [(at, 3, "", "checkpoint", (wp, sp)) for at, wp, sp in run.checkpoints]
    events += [(at, 4, "", "end", (wp, sp)) for at, wp, sp in run.ends]
    events.sort(key=lambda e: e[:3])
    sequence = 0

    def running(name: str, at: float) -> bool:
        w = plans[name]
        return (at >= w.start and (w.crash is None or at < w.crash)
                and not any(a <= at < b for a, b in w.pauses))

    def holder(name: str) -> Leaseholder:
        if name not in trace.holders:
            trace.holders[name] = Leaseholder(name, table, run.failover_time)
        return trace.holders[name]

    def checkpoint(at: float, h: Leaseholder, shard: str) -> None:
        nonlocal sequence
        sequence += 1
        before = table.get(shard).owner
        accepted = h.checkpoint(shard, str(sequence)) is not None
        trace.attempts.append((at, h.worker, shard, before, accepted))
        trace.processed.append((at, h.worker, shard))
        if accepted:
            trace.last_write[(h.worker, shard)] = at

    def chosen(at: float, picks) -> Optional[tuple[Leaseholder, str]]:
        names = sorted(n for n in plans if running(n, at) and n in trace.holders)
        if not names:
            return None
        h = trace.holders[names[picks[0] % len(names)]]
        shards = [s for s in h.shards() if h.processable(s) and s not in trace.ended_at]
        return (h, shards[picks[1] % len(shards)]) if shards else None

    for at, _, name, kind, payload in events:
        if kind == "crash":
            if name in trace.holders:
                trace.crashed_holdings.append((at, name, tuple(trace.holders[name].shards())))
        elif kind == "wake":
            if running(name, at) and name in trace.holders:   # finishes what it was doing: checkpoints
                h = trace.holders[name]
                for shard in [s for s in h.shards() if h.processable(s)]:
                    checkpoint(at, h, shard)
        elif kind in ("renew", "take") and running(name, at):
            h = holder(name)
            if kind == "renew":
                h.renew(at)
                for shard in h.shards():
                    trace.last_write[(name, shard)] = at
            else:
                counts = {}
                for lease in table.list():
                    if not lease.ended:   # leases at SHARD_END count toward no share (taker.plan_take)
                        counts[lease.owner] = counts.get(lease.owner, 0) + 1
                round_ = h.take(at)
                for takeover in round_.taken:
                    before = trace.last_write.get((takeover.previous_owner, takeover.shard_id))
                    trace.takeovers.append((takeover, round_.plan, counts, before))
                    trace.last_write[(name, takeover.shard_id)] = at
        elif kind in ("checkpoint", "end") and (pick := chosen(at, payload)) is not None:
            h, shard = pick
            if kind == "checkpoint":
                checkpoint(at, h, shard)
            else:
                trace.processed.append((at, h.worker, shard))
                before = table.get(shard).owner
                accepted = h.end_shard(shard, run.children.get(shard, ())) is not None
                trace.ends.append((at, h.worker, shard, accepted, before))
                if accepted:
                    trace.ended_at[shard] = at
                    trace.last_write[(h.worker, shard)] = at
        for other, h in sorted(trace.holders.items()):
            if running(other, at):
                for shard in h.shards():
                    if table.get(shard).owner != other:
                        trace.wrong_beliefs.append((at, other, shard, trace.last_write[(other, shard)]))
        trace.owners_over_time.append((at, {l.shard_id: l.owner for l in table.list()}))
    return trace


def _paused_between(run: LeaseRun, name: str, a: float, b: float) -> bool:
    return any(p < b and q > a for p, q in next(w for w in run.workers if w.name == name).pauses)


@settings(max_examples=300, deadline=None)
@given(lease_runs())
def test_an_expired_take_never_hits_an_owner_that_wrote_within_failover_time(run):
    trace = drive(run)
    for takeover, _, _, last in trace.takeovers:
        if takeover.previous_owner is not None and not takeover.stolen:
            # the previous owner's last accepted write was strictly more than failover_time before
            assert last is None or takeover.at - last > run.failover_time, (takeover, last)


@settings(max_examples=300, deadline=None)
@given(lease_runs())
def test_a_running_worker_wrongly_believes_only_after_a_steal_or_missed_renewals(run):
    """A worker running (not crashed, not paused) that believes it holds a lease the table gives to
    another: either that lease was stolen from it at most one renew interval of running ago (a pause
    after the steal puts its next renewal off until it wakes), or its last accepted write of the lease is
    more than failover_time old, and it was paused since (a zombie)."""
    trace = drive(run)
    pauses = {w.name: w.pauses for w in run.workers}
    for at, worker, shard, last in trace.wrong_beliefs:
        steals = [t.at for t, _, _, _ in trace.takeovers
                  if t.shard_id == shard and t.previous_owner == worker and t.stolen and t.at <= at]
        recent_steal = False
        if steals and max(steals) >= last:
            running_since = max([max(steals)] + [to for _, to in pauses[worker] if max(steals) < to <= at])
            # (1e-9: the ticks are start + k × failover/3 in floats)
            recent_steal = at - running_since <= renew_interval(run.failover_time) + 1e-9
        zombie = at - last > run.failover_time and _paused_between(run, worker, last, at)
        assert recent_steal or zombie, (at, worker, shard, steals, last)


@settings(max_examples=300, deadline=None)
@given(lease_runs())
def test_a_checkpoint_is_refused_and_counted_exactly_when_the_lease_is_anothers(run):
    trace = drive(run)
    for at, worker, shard, owner_before, accepted in trace.attempts:
        assert accepted == (owner_before == worker), (at, worker, shard, owner_before)
    for at, worker, shard, accepted, owner_before in trace.ends:
        assert accepted == (owner_before == worker), (at, worker, shard, owner_before)
    refused = sum(1 for a in trace.attempts if not a[4]) + sum(1 for a in trace.ends if not a[3])
    assert sum(h.checkpoints_refused for h in trace.holders.values()) == refused
    assert trace.table.refused("checkpoint") == refused      # every attempt was on a lease believed held


@settings(max_examples=300, deadline=None)
@given(lease_runs())
def test_children_are_processed_only_after_every_parent_ended(run):
    trace = drive(run)
    parents = {child.shard_id: child.parent_shards for kids in run.children.values() for child in kids}
    for at, worker, shard in trace.processed:
        for parent in parents.get(shard, ()):
            assert parent in trace.ended_at and trace.ended_at[parent] <= at, (at, worker, shard, parent)
    for shard, at in trace.ended_at.items():     # an ended shard's children have leases
        for child in run.children.get(shard, ()):
            assert trace.table.get(child.shard_id) is not None


@settings(max_examples=300, deadline=None)
@given(lease_runs())
def test_a_steal_is_from_the_most_loaded_above_the_target_or_at_it_for_a_needy_thief(run):
    trace = drive(run)
    for takeover, plan, counts, _ in trace.takeovers:
        if takeover.stolen:
            victim_holds = counts[takeover.previous_owner]
            assert victim_holds == max(n for owner, n in counts.items() if owner is not None)
            assert victim_holds > plan.target or (victim_holds == plan.target and plan.target - plan.held > 1)
            assert plan.take == ()


@settings(max_examples=300, deadline=None)
@given(lease_runs(pauses=False, joins=False, checkpoints=False, ends=False))
def test_a_crashed_workers_leases_are_taken_within_two_take_intervals(run):
    """By the crash + 2 take intervals (inclusive: events at that very instant count), every lease the
    crashed worker held is another's. Not failover_time + one take interval: a worker only notes a
    counter when it lists the table, so a renew just after a list is noticed a take interval late
    (the KCL's failover takes up to twice its taker interval too)."""
    trace = drive(run)
    crashes = sorted(w.crash for w in run.workers if w.crash is not None)
    for crash, worker, shards in trace.crashed_holdings:
        deadline = crash + 2 * take_interval(run.failover_time)
        if deadline > run.horizon or any(crash < c <= deadline for c in crashes):
            continue                              # another crash in the window slows takeovers: not claimed
        owners = [o for at, o in trace.owners_over_time if at <= deadline][-1]
        for shard in shards:
            assert owners[shard] not in (None, worker), (crash, worker, shard, owners)


@settings(max_examples=300, deadline=None)
@given(lease_runs(crashes=False, pauses=False, checkpoints=False, ends=False, rounds=12))
def test_stable_workers_reach_a_fair_share_and_stay(run):
    trace = drive(run)
    owners = trace.owners_over_time[-1][1]
    assert None not in owners.values()
    held = [sum(1 for o in owners.values() if o == w.name) for w in run.workers]
    assert max(held) - min(held) <= 1, (held, owners)
    settled = run.horizon - 2 * take_interval(run.failover_time)
    assert [t for t, _, _, _ in trace.takeovers if t.at > settled] == []

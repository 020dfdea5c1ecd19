"""Hypothesis strategies for lease runs (DESIGN §11): workers joining, renewing and taking on their own
schedules, crashing, pausing, checkpointing and ending shards, over a few shards that may split or merge.

A ``LeaseRun`` is a plan, not a trace: the test drives ``Leaseholder``s through it in time order.
Each worker renews every ``failover_time / 3`` and takes every ``2 × failover_time`` from its own start
and phases, so equal instants (a take at the very moment a lease turns expired) come up often: phases
and starts are often whole fractions of the failover time. Which worker checkpoints or ends which shard
is a *pick*, reduced by the test against the workers alive and the leases they hold at that instant.
"""

from __future__ import annotations

from typing import NamedTuple, Optional

from hypothesis import strategies as st

from kinsim.records import HASH_KEY_MAX, ChildShard, HashKeyRange

__all__ = ["WorkerPlan", "LeaseRun", "lease_runs"]

WHOLE = HashKeyRange(0, HASH_KEY_MAX)   # the children's ranges do not matter to leases


class WorkerPlan(NamedTuple):
    name: str
    start: float
    renew_phase: float
    take_phase: float
    crash: Optional[float]                       # stops for good
    pauses: tuple[tuple[float, float], ...]      # [from, to): alive but stalled; wakes at ``to``


class LeaseRun(NamedTuple):
    failover_time: float
    shards: tuple[str, ...]                      # the shards with a lease at the start, unowned
    children: dict                               # parent shard id → its ChildShards (split or merge)
    workers: tuple[WorkerPlan, ...]
    checkpoints: tuple[tuple[float, int, int], ...]   # (at, worker pick, shard pick)
    ends: tuple[tuple[float, int, int], ...]          # (at, worker pick, shard pick): read to the end
    horizon: float


def _instants(failover: float, horizon: float) -> st.SearchStrategy[float]:
    """Instants in [0, horizon], often on a twelfth of the failover time."""
    return st.one_of(st.integers(0, int(horizon * 12 / failover)).map(lambda k: k * failover / 12),
                     st.floats(0, horizon, allow_nan=False, allow_infinity=False))


def _phase(interval: float) -> st.SearchStrategy[float]:
    return st.one_of(st.just(0.0), st.sampled_from([interval / 4, interval / 2]),
                     st.floats(0, interval, allow_nan=False, allow_infinity=False, exclude_max=True))


@st.composite
def _children(draw, shards: tuple[str, ...]) -> dict:
    """Each shard may split in two, or merge with the next one (each shard merges at most once)."""
    children: dict = {}
    i = 0
    while i < len(shards):
        kind = draw(st.sampled_from(["none", "split", "merge"]))
        shard = shards[i]
        if kind == "split":
            children[shard] = (ChildShard(f"{shard}.a", (shard,), WHOLE), ChildShard(f"{shard}.b", (shard,), WHOLE))
        elif kind == "merge" and i + 1 < len(shards):
            merged = ChildShard(f"{shard}+{shards[i + 1]}", (shard, shards[i + 1]), WHOLE)
            children[shard] = children[shards[i + 1]] = (merged,)
            i += 1
        i += 1
    return children


@st.composite
def lease_runs(draw, *, max_workers: int = 4, max_shards: int = 8, crashes: bool = True, pauses: bool = True,
               joins: bool = True, checkpoints: bool = True, ends: bool = True, survivor: bool = True,
               rounds: int = 8) -> LeaseRun:
    """A run of ``rounds`` take intervals after the last worker joins. With ``survivor``, the first
    worker never crashes nor pauses, so someone is always there to take leases over."""
    failover = draw(st.sampled_from([3.0, 10.0]))
    take_every, renew_every = 2 * failover, failover / 3
    shards = tuple(f"shard-{i}" for i in range(draw(st.integers(1, max_shards))))
    names = draw(st.lists(st.sampled_from(["alice", "bob", "carol", "dave", "erin", "w1", "w2", "w10"]),
                          min_size=1, max_size=max_workers, unique=True))
    late = 3 * take_every
    starts = [0.0] + [draw(_instants(failover, late)) if joins else 0.0 for _ in names[1:]]
    horizon = max(starts) + rounds * take_every
    workers = []
    for i, (name, start) in enumerate(zip(names, starts)):
        steady = survivor and i == 0
        crash = None if steady or not crashes else draw(st.none() | _instants(failover, horizon))
        stalls: list[tuple[float, float]] = []
        if pauses and not steady:
            for at in sorted(draw(st.lists(_instants(failover, horizon), max_size=2))):
                if not stalls or at >= stalls[-1][1]:
                    stalls.append((at, at + draw(st.sampled_from([renew_every, failover, 1.5 * failover,
                                                                  3 * failover]))))
        workers.append(WorkerPlan(name, start, draw(_phase(renew_every)), draw(_phase(take_every)), crash,
                                  tuple(stalls)))
    picks = st.tuples(_instants(failover, horizon), st.integers(0, 7), st.integers(0, 15))
    return LeaseRun(
        failover_time=failover,
        shards=shards,
        children=draw(_children(shards)) if ends else {},
        workers=tuple(workers),
        checkpoints=tuple(draw(st.lists(picks, max_size=25))) if checkpoints else (),
        ends=tuple(draw(st.lists(picks, max_size=8))) if ends else (),
        horizon=horizon,
    )

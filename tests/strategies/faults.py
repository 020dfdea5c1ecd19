"""A strategy for fault schedules that cannot happen, to hold kinsim's schedule check to its messages:
``bad_fault_schedules()`` spoils a valid schedule (``kinsim.strategies.fault_schedules``) with one fault
that cannot happen and says the key path and the words its error must have (``BadSchedule``).
"""

from __future__ import annotations

from typing import NamedTuple

from hypothesis import strategies as st

from kinsim.scenario.schedule import Crash, Fault, Merge, Pause, Restart, ShardCount, Split, Throttle
from kinsim.strategies.faults import FaultSchedule, down_at_end, fault_schedules, numbered_faults, shard_name

__all__ = ["BadSchedule", "bad_fault_schedules"]


class BadSchedule(NamedTuple):
    schedule: FaultSchedule
    path: str                   # the key path its error names, e.g. faults[3].merge
    says: str                   # words the message holds


@st.composite
def bad_fault_schedules(draw, *, duration: float = 600.0) -> BadSchedule:
    """A valid schedule and, last in the file, one fault that cannot happen (none of the valid ones is
    later in time than it where that could matter)."""
    good = draw(fault_schedules(duration=duration // 2))  # room after it for a fault of the stream
    faults = list(good.faults)
    end = max([f.at for f in faults], default=0.0)
    path = f"faults[{len(faults)}]"
    reshards = [f for f in faults if isinstance(f.action, (Split, Merge))]
    cases = ["unknown", "updating", "over_double", "throttle_unknown", "late", "long", "unknown_worker",
             "worker_state"]
    if good.update_delay == 0 or not reshards:
        cases.remove("updating")
    case = draw(st.sampled_from(cases))
    if case == "late":
        bad, says = Fault(draw(st.sampled_from([duration, duration + 1, 10 * duration])), ShardCount(1)), \
            "is not before the scenario's end"
        return BadSchedule(FaultSchedule(good.shards, good.update_delay, numbered_faults(faults + [bad]), good.workers),
                           f"{path}.at", says)
    if case == "long":
        at = float(draw(st.integers(0, int(duration) - 1)))
        bad = Fault(at, Pause(draw(st.sampled_from(good.workers))), duration - at + draw(st.sampled_from([1.0, 60.0])))
        return BadSchedule(FaultSchedule(good.shards, good.update_delay, numbered_faults(faults + [bad]), good.workers),
                           f"{path}.for", "a span past the end")
    if case == "unknown_worker":
        at = float(draw(st.integers(0, int(duration) - 1)))
        bad = Fault(at, draw(st.sampled_from([Crash("nobody"), Restart("nobody")])))
        return BadSchedule(FaultSchedule(good.shards, good.update_delay, numbered_faults(faults + [bad]), good.workers),
                           f"{path}.{bad.kind}", "there is no worker 'nobody'")
    if case == "worker_state":  # after everything: crash a worker that is down, or restart one that is up
        down = down_at_end(faults)
        worker = draw(st.sampled_from(good.workers))
        bad = Fault(float(draw(st.integers(int(end), int(duration) - 1))),
                    Crash(worker) if down.get(worker) else Restart(worker))
        says = "has already crashed then" if down.get(worker) else "is not crashed then"
        return BadSchedule(FaultSchedule(good.shards, good.update_delay, numbered_faults(faults + [bad]), good.workers),
                           f"{path}.{bad.kind}", says)
    if case == "updating":
        earlier = draw(st.sampled_from(reshards))
        index = faults.index(earlier)
        later = [f for f in faults[index + 1:] if isinstance(f.action, (Split, Merge, ShardCount))]
        limit = min([duration - 1, earlier.at + good.update_delay - 1] + [f.at - 1 for f in later])
        at = float(draw(st.integers(int(earlier.at), max(int(earlier.at), int(limit)))))
        bad = Fault(at, draw(st.sampled_from([ShardCount(1), Split(shard_name(0)), Merge((shard_name(0),
                                                                                          shard_name(1)))])))
        return BadSchedule(FaultSchedule(good.shards, good.update_delay, numbered_faults(faults + [bad]), good.workers),
                           f"{path}.{bad.kind}", f"still UPDATING from faults[{index}]")
    quiet = max([end] + [f.at + good.update_delay for f in faults if isinstance(f.action, (Split, Merge,
                                                                                            ShardCount))])
    if quiet > duration - 1:  # no time left after the last update completes: a fault too late instead
        bad = Fault(duration, ShardCount(1))
        return BadSchedule(FaultSchedule(good.shards, good.update_delay, numbered_faults(faults + [bad]), good.workers),
                           f"{path}.at", "is not before the scenario's end")
    at = float(draw(st.integers(int(quiet), int(duration) - 1)))
    if case == "unknown":
        bad = Fault(at, draw(st.sampled_from([Split(shard_name(999)), Merge((shard_name(999), shard_name(0)))])))
        return BadSchedule(FaultSchedule(good.shards, good.update_delay, numbered_faults(faults + [bad]), good.workers),
                           f"{path}.{bad.kind}", shard_name(999))
    if case == "throttle_unknown":
        bad = Fault(at, Throttle((shard_name(998),), records_per_s=1), 1.0)
        return BadSchedule(FaultSchedule(good.shards, good.update_delay, numbered_faults(faults + [bad]), good.workers),
                           f"{path}.throttle.shards[0]", f"no shard {shard_name(998)}")
    bad = Fault(at, ShardCount(10_000))
    return BadSchedule(FaultSchedule(good.shards, good.update_delay, numbered_faults(faults + [bad]), good.workers),
                       f"{path}.shard_count", "LimitExceededException")

"""One owner of time: the timeline's order at an instant, its clock and the clocks' callbacks, and stream
changes that happen exactly at their instants in a run."""

from __future__ import annotations

import pytest

from kinsim.backends import MemoryBackend
from kinsim.clock import FunctionClock, ManualClock
from kinsim.runner import StreamAction, run
from kinsim.scenario import parse_scenario
from kinsim.simulation.timeline import STREAM, TRAFFIC, Timeline

START = 1_533_074_160.0


def test_at_one_instant_stream_changes_then_traffic_then_starts_then_the_rest_in_order():
    timeline, log = Timeline(START), []

    def poll(name):
        yield timeline.timeout(1.0)
        log.append((name, timeline.now))

    def starts_later():
        yield timeline.timeout(1.0)
        timeline.process(started())

    def started():
        log.append(("started", timeline.now))
        yield timeline.timeout(0)

    timeline.process(poll("first poll"))
    timeline.process(starts_later())
    timeline.process(poll("second poll"))
    timeline.wake(1.0, TRAFFIC).callbacks.append(lambda _: log.append(("traffic", timeline.now)))
    timeline.clock.call_after(1.0, lambda instant: log.append(("stream change", instant - START)))
    timeline.run()
    assert log == [("stream change", 1.0), ("traffic", 1.0), ("first poll", 1.0), ("started", 1.0),
                   ("second poll", 1.0)]


def test_the_traffic_may_run_ahead_only_up_to_the_next_event():
    timeline = Timeline(START)
    timeline.timeout(5.0)
    assert timeline.horizon(60.0) == 5.0 and timeline.horizon(2.0) == 2.0
    timeline.advance_to(4.5)
    assert timeline.now == 4.5 and timeline.clock.now() == START + 4.5
    with pytest.raises(ValueError):
        timeline.advance_to(5.5)   # past the next event: someone else acts at 5
    with pytest.raises(ValueError):
        timeline.advance_to(4.0)   # time never goes back


def test_a_manual_clock_runs_callbacks_at_their_instants_as_it_moves():
    clock, log = ManualClock(100.0), []
    clock.call_after(5.0, lambda instant: log.append(("b", instant, clock.now())))
    clock.call_after(2.0, lambda instant: log.append(("a", instant, clock.now())))
    clock.call_after(0.0, lambda instant: log.append(("now", instant, clock.now())))
    clock.advance(3.0)
    assert log == [("now", 100.0, 100.0), ("a", 102.0, 102.0)]
    clock.set(110.0)
    assert log[2:] == [("b", 105.0, 105.0)] and clock.now() == 110.0


def test_a_function_clock_runs_what_is_due_before_it_answers():
    moments, log = iter([0.0, 1.0, 10.0, 10.0]), []
    clock = FunctionClock(lambda: next(moments))
    clock.call_after(5.0, lambda instant: log.append(instant))   # read once: due at 5
    assert clock.now() == 1.0 and log == []
    assert clock.now() == 10.0 and log == [5.0]


@pytest.mark.parametrize("update_delay", [0.0, 0.5])
def test_a_reshard_completes_exactly_at_its_instant(update_delay):
    """A record every 100 ms with no lag; a split asked for at 1 s completes at 1 s + the update delay:
    every record arriving before then is in the parent, every one from then on in a child. With no delay
    the split is the call at 1 s itself, which comes after the records due at 1 s."""
    scenario = parse_scenario({
        "start": "2018-07-31T21:56:00Z", "duration": "3s", "stream": {"name": "s", "shards": 1},
        "producers": [{"name": "p", "partition_key": "k", "interval": "100ms"}],
        "consumer": {"poll_interval": "1s"}, "counters": ["naive"]}, "<test>", "split")
    kept = {}

    def factory(clock):
        kept["backend"] = MemoryBackend(clock, update_delay=update_delay)
        return kept["backend"]

    split = StreamAction(1.0, lambda backend, stream: backend.split_shard(stream, "shardId-000000000000",
                                                                          str(2**127 + 2**126)))
    run(scenario, backend_factory=factory, keep_stream=True, actions=[split])
    shards = kept["backend"].shards_of("s")
    arrivals = {shard_id: [round(t - START, 6) for t in shard.arrivals] for shard_id, shard in shards.items()}
    done = 1.0 + update_delay
    in_parent = [i <= 10 if update_delay == 0 else i < 10 * done for i in range(30)]
    assert arrivals["shardId-000000000000"] == [i / 10 for i in range(30) if in_parent[i]]
    child = "shardId-000000000001" if arrivals["shardId-000000000001"] else "shardId-000000000002"
    assert arrivals[child] == [i / 10 for i in range(30) if not in_parent[i]]
    assert shards["shardId-000000000000"].closed_at == START + done

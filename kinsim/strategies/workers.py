"""Strategies for whole runs of KCL-shaped workers (DESIGN §11): a scenario with one to four
shards, a valid fault schedule from ``fault_schedules`` (reshards, throttles, and the workers'
crashes, restarts and pauses over 1 to 4 workers, several more often than not, some worker alive at the
end), and a consumer whose lease failover time, checkpoint policy and state are drawn too.

The producers write a few keys spread over the hash-key space (so most shards, children included, get
records), with no clock skew and little lag, for a minute or two of simulated time: small enough for a
run to take a few milliseconds to a few tenths of a second, long enough for several take rounds,
failovers and checkpoints. The consumer starts from ``TRIM_HORIZON`` at 0, so every record is to be
delivered. The counters are the tutorial's naive one and two patient buffered ones (a day of grace:
their watermark never closes a window before the shard ends or input does).
"""

from __future__ import annotations

from hypothesis import strategies as st

from kinsim.lag import Constant, Uniform
from kinsim.records import IteratorType
from kinsim.scenario import ConsumerSpec, ProducerSpec, Scenario, StreamSpec
from kinsim.scenario.model import State

from .faults import fault_schedules, worker_lists
from .specs import DAY, KEYS, START, checkpoint_policies, counter

__all__ = ["PATIENT", "worker_scenarios"]

#: the naive counter, and buffered counters whose grace (a day) outlasts any run here
PATIENT = (counter("naive", "naive", 10.0, 10.0),
           counter("patient", "buffered", 10.0, 10.0, grace=DAY),
           counter("patient-hopping", "buffered", 20.0, 5.0, grace=DAY))


#: several workers more often than not: w1 to w2, w3 or w4, or any of ``worker_lists``
_CREWS = st.one_of(st.integers(2, 4).map(lambda n: tuple(f"w{i}" for i in range(1, n + 1))), worker_lists())
_KEY_SETS = st.lists(st.sampled_from(KEYS), min_size=1, max_size=4, unique=True)
_INTERVALS = st.sampled_from([0.25, 0.5, 1.0, 2.0])
_LAGS = st.one_of(st.just(Constant(0.0)), st.just(Constant(0.1)), st.just(Uniform(0.0, 2.0)))
_OFFSETS = st.sampled_from([0.0, 0.3])
_POLL_INTERVALS = st.sampled_from([0.5, 1.0, 2.0, 5.0])
_LIMITS = st.sampled_from([3, 10, 10_000])
_FAILOVER_TIMES = st.sampled_from([1.5, 3.0, 6.0, 10.0])
_SEEDS = st.integers(0, 10**6)


@st.composite
def worker_scenarios(draw, *, state=st.sampled_from(State), durations=st.sampled_from([60, 90, 150])) -> Scenario:
    """A runnable scenario of workers under a valid fault schedule (see the module's docstring); ``state``
    draws where the counters' state lives (default: either), ``durations`` the whole seconds it lasts."""
    duration = draw(durations)
    schedule = draw(fault_schedules(duration=float(duration), max_faults=10, workers=_CREWS))
    producers = []
    for i, key in enumerate(draw(_KEY_SETS)):
        interval = draw(_INTERVALS)
        lag = draw(_LAGS)
        producers.append(ProducerSpec(f"p{i}", key, interval, offset=draw(_OFFSETS), lag=lag))
    consumer = ConsumerSpec(
        poll_interval=draw(_POLL_INTERVALS),
        limit=draw(_LIMITS),
        iterator=IteratorType.TRIM_HORIZON,
        workers=schedule.workers,
        failover_time=draw(_FAILOVER_TIMES),
        checkpoint=draw(checkpoint_policies()),
        state=draw(state))
    return Scenario("workers", "", draw(_SEEDS), START, float(duration), 10.0,
                    StreamSpec("s", schedule.shards, update_delay=schedule.update_delay), tuple(producers),
                    consumer, PATIENT, schedule.faults)

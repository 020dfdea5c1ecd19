"""Strategies for whole scenarios (``kinsim.scenario.Scenario``), valid by construction and small enough
to run (``kinsim.runner.run``) in tens of milliseconds.

``scenarios()`` draws one to three producers over one to three shards for five seconds to a minute
(with ``populations``, groups of them drawing keys from populations):
each with a lag model (``lag_models``, tails kept light), sometimes outages, clock skew, jitter, a late
start, an early stop, either pacing; a consumer with its poll interval, ``Limit``, iterator
(``TRIM_HORIZON`` or ``LATEST``), start, checkpoint policy and state; one to three counters (naive,
buffered with grace, allowed lateness and sometimes an idle timeout, tumbling or hopping). With
``workers``, the consumer is several KCL-shaped workers; with ``faults``, a valid fault schedule
(``fault_schedules``: reshards, throttles, and the workers' crashes, restarts and pauses) runs too.

The parts are strategies of their own: ``starts``, ``scenario_keys``, ``outage_lists``,
``producer_specs``, ``consumer_specs``, ``checkpoint_policies`` and ``counter_specs``; ``counter`` builds
a built-in counter's spec as the scenario loader does. Durations are whole milliseconds, so a scenario
written out as a file (``scenario_document``) reads back equal.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any, Optional

from hypothesis import strategies as st

from kinsim.counters import BUILT_IN, Windowing
from kinsim.durations import duration_text
from kinsim.records import IteratorType
from kinsim.scenario import ConsumerSpec, CounterSpec, Outage, Pacing, ProducerSpec, Scenario, StreamSpec
from kinsim.scenario.model import CheckpointPolicy, State

from .faults import fault_schedules, worker_lists
from .lags import lag_models, seconds
from .once import built_once
from .populations import producer_groups

__all__ = ["START", "KEYS", "DAY", "counter", "checkpoint_policies", "starts", "scenario_keys", "outage_lists",
           "producer_specs", "consumer_specs", "counter_specs", "scenarios"]

START = datetime(2018, 7, 31, 21, 56, tzinfo=timezone.utc)   # the tutorial's first minute
KEYS = ("10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4", "10.0.0.12", "8.8.8.8")  # MD5 quarters 0, 2, 0, 1, 3, 1
DAY = 86_400.0
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_YEAR_2000_MS, _YEAR_2100_MS = 946_684_800_000, 4_102_444_800_000


def counter(name: str, kind: str, size: float, slide: float, **params: Any) -> CounterSpec:
    """A built-in counter (``naive`` or ``buffered``) as the scenario loader makes it: windows of ``size``
    seconds every ``slide`` seconds, and its parameters (``grace="90s"``) as a file gives them."""
    return CounterSpec(name, kind, BUILT_IN[kind], Windowing.of_seconds(size, slide), tuple(params.items()))


_CHECKPOINT_POLICIES = st.one_of(
    st.sampled_from([1.0, 5.0, 30.0]).map(lambda every: CheckpointPolicy(every=every)),
    st.sampled_from([1, 7, 50]).map(lambda records: CheckpointPolicy(records=records)),
    st.just(CheckpointPolicy(each_batch=True)), st.just(CheckpointPolicy()))
_STARTS = st.one_of(st.just(START), st.just(_EPOCH), st.integers(_YEAR_2000_MS, _YEAR_2100_MS - 1).map(
    lambda ms: _EPOCH + timedelta(milliseconds=ms)))
_PRINTABLE = st.characters(codec="utf-8", categories=("L", "M", "N", "P", "S"))
_SCENARIO_KEYS = st.one_of(st.sampled_from(KEYS), st.ip_addresses(v=4).map(str),
                           st.text(_PRINTABLE, min_size=1, max_size=12), st.text(_PRINTABLE, min_size=256, max_size=256))


def checkpoint_policies() -> st.SearchStrategy[CheckpointPolicy]:
    """``consumer.checkpoint``: every few seconds, every few records, each batch, or none."""
    return _CHECKPOINT_POLICIES


def starts() -> st.SearchStrategy[datetime]:
    """A scenario's start: the tutorial's first minute, the epoch, or any whole millisecond of the years
    2000 to 2099, in UTC."""
    return _STARTS


def scenario_keys() -> st.SearchStrategy[str]:
    """A producer's partition key as a scenario file takes it (1 to 256 printable characters): mostly IPv4
    addresses, as in the tutorial, sometimes other text."""
    return _SCENARIO_KEYS


@built_once
@st.composite
def outage_lists(draw, duration: float, max_outages: int = 2) -> tuple[Outage, ...]:
    """Up to ``max_outages`` outages of a producer's link, in time order, not overlapping, each starting
    within ``duration`` seconds and lasting up to a minute (it may end after the scenario does)."""
    outages: list[Outage] = []
    for _ in range(draw(st.integers(0, max_outages))):
        free = outages[-1].end + 0.001 if outages else 0.0  # a millisecond apart: no float sum overlaps
        if free > duration - 0.001:
            break
        outages.append(Outage(draw(seconds(free, duration - 0.001)), draw(_OUTAGE_LENGTHS)))
    return tuple(outages)


_OUTAGE_LENGTHS = seconds(0.001, 60.0)
_INTERVALS = st.one_of(st.sampled_from([0.1, 0.25, 0.5, 1.0, 2.0, 5.0]), seconds(0.1, 5.0))
_SKEWS = st.one_of(st.just(0.0), st.sampled_from([-30.0, 120.0]), seconds(0.0, 120.0))
_PACINGS = st.sampled_from(Pacing)
_PRODUCER_LAGS = lag_models(max_seconds=5.0, max_sigma=1.0, min_shape=2.0)


@built_once
def _zero_or_seconds(low: float, high: float) -> st.SearchStrategy[float]:
    return st.one_of(st.just(0.0), seconds(low, high))


@built_once
def _none_or_seconds(low: float, high: float) -> st.SearchStrategy[Optional[float]]:
    return st.one_of(st.none(), seconds(low, high))


@built_once
@st.composite
def producer_specs(draw, name: str = "p0", duration: float = 60.0, *, keys: Optional[st.SearchStrategy[str]] = None,
                   lags: Optional[st.SearchStrategy[Any]] = None, populations: bool = False) -> ProducerSpec:
    """A producer named ``name`` writing for up to ``duration`` seconds: a record every 0.1 to 5 s, from
    its offset (up to 5 s, at most half the duration) to the end or an ``until`` of its own, with
    jitter, a lag model (default: ``lag_models`` of up to 5 s with light tails), outages, clock skew of
    up to two minutes either way, and either pacing; its key from ``keys`` (default ``scenario_keys()``).
    With ``populations``, sometimes a group of up to 4 members and keys drawn from a population
    (``producer_groups``), at about the same total rate."""
    interval = draw(_INTERVALS)
    offset = draw(_zero_or_seconds(0.0, min(5.0, duration / 2)))
    skew = draw(_SKEWS)
    spec = ProducerSpec(
        name=name,
        partition_key=draw(_SCENARIO_KEYS if keys is None else keys),
        interval=interval,
        offset=offset,
        jitter=draw(_zero_or_seconds(0.0, interval - 0.001)),
        lag=draw(_PRODUCER_LAGS if lags is None else lags),
        outages=draw(outage_lists(duration)),
        clock_skew=skew if draw(st.booleans()) else -skew,
        pacing=draw(_PACINGS),
        until=draw(_none_or_seconds(offset + 0.001, max(offset + 0.001, duration))))
    return draw(producer_groups(spec, keys=keys)) if populations else spec


_POLL_INTERVALS = st.one_of(st.sampled_from([0.2, 0.5, 1.0, 2.0, 5.0]), seconds(0.1, 10.0))
_LIMITS = st.one_of(st.sampled_from([1, 3, 25, 10_000]), st.integers(1, 10_000))
_ITERATORS = st.sampled_from([IteratorType.TRIM_HORIZON, IteratorType.LATEST])
_CONSUMER_STARTS = st.one_of(st.just(0.0), seconds(0.0, 5.0))
_FAILOVER_TIMES = st.one_of(st.sampled_from([1.5, 3.0, 10.0]), seconds(1.0, 20.0))
_STATES = st.sampled_from(State)


@built_once
@st.composite
def consumer_specs(draw, workers: tuple[str, ...] = ("consumer",)) -> ConsumerSpec:
    """The consumer: polls every 0.1 to 10 s with a ``Limit`` of 1 to 10,000, from ``TRIM_HORIZON`` or
    ``LATEST``, starting at once or within 5 s; ``workers`` holding the leases, their failover time, their
    checkpoint policy and where the counters' state lives."""
    return ConsumerSpec(
        poll_interval=draw(_POLL_INTERVALS),
        limit=draw(_LIMITS),
        iterator=draw(_ITERATORS),
        start=draw(_CONSUMER_STARTS),
        workers=workers,
        failover_time=draw(_FAILOVER_TIMES),
        checkpoint=draw(_CHECKPOINT_POLICIES),
        state=draw(_STATES))


_COUNTER_KINDS = st.sampled_from(["naive", "buffered", "buffered"])
_SLIDE_DIVISORS = st.sampled_from([1, 1, 2, 4, 5])
_GRACES = seconds(0.0, 120.0).map(duration_text)
_ALLOWED_LATENESSES = seconds(0.0, 30.0).map(duration_text)
_IDLE_TIMEOUTS = seconds(0.001, 60.0).map(duration_text)


@built_once
@st.composite
def counter_specs(draw, window: float = 60.0, max_counters: int = 3) -> tuple[CounterSpec, ...]:
    """One to ``max_counters`` counters over windows of ``window`` seconds, tumbling or hopping (a slide
    of a half, a quarter or a fifth of the window): naive ones, and buffered ones with a grace and an
    allowed lateness of up to two minutes and sometimes an idle timeout, given as text (``"1m30s"``)."""
    counters = []
    for i in range(draw(st.integers(1, max_counters))):
        kind = draw(_COUNTER_KINDS)
        slide = window / draw(_SLIDE_DIVISORS)
        params = {}
        if kind == "buffered":
            params = {"grace": draw(_GRACES), "allowed_lateness": draw(_ALLOWED_LATENESSES)}
            if draw(st.booleans()):
                params["idle_timeout"] = draw(_IDLE_TIMEOUTS)
        counters.append(counter(f"{kind}-{i}", kind, window, slide, **params))
    return tuple(counters)


_DURATIONS = st.sampled_from([5, 10, 30, 60])
_WINDOWS = st.sampled_from([1.0, 5.0, 10.0, 60.0])
_STREAM_NAMES = st.sampled_from([None, "generated"])
_ONE_CONSUMER = st.just(("consumer",))
_DESCRIPTIONS = st.sampled_from(["", "drawn by kinsim.strategies.scenarios"])
_SEEDS = st.integers(0, 2**32 - 1)


@st.composite
def scenarios(draw, *, max_producers: int = 3, max_shards: int = 3,
              durations: Optional[st.SearchStrategy[int]] = None, workers: bool = False,
              faults: bool = False, populations: bool = False) -> Scenario:
    """A runnable scenario (see the module's docstring). ``durations`` draws whole seconds (default: 5,
    10, 30 or 60); with ``workers``, the consumer is one to four workers (``worker_lists``); with
    ``faults``, a valid schedule of reshards, throttles and worker faults (``fault_schedules``); with
    ``populations``, producers may be groups and draw their keys from populations (``producer_groups``)."""
    duration = float(draw(_DURATIONS if durations is None else durations))
    window = draw(_WINDOWS)
    names = worker_lists() if workers else _ONE_CONSUMER
    if faults:
        schedule = draw(fault_schedules(duration=duration, max_faults=6, max_shards=max_shards, workers=names))
        stream = StreamSpec(draw(_STREAM_NAMES), schedule.shards, schedule.update_delay)
        crew, fault_list = schedule.workers, schedule.faults
    else:
        stream = StreamSpec(draw(_STREAM_NAMES), draw(st.integers(1, max_shards)))
        crew, fault_list = draw(names), ()
    producers = tuple(draw(producer_specs(f"p{i}", duration, populations=populations))
                      for i in range(draw(st.integers(1, max_producers))))
    return Scenario(
        name="generated", description=draw(_DESCRIPTIONS),
        seed=draw(_SEEDS), start=draw(_STARTS), duration=duration, window=window,
        stream=stream, producers=producers, consumer=draw(consumer_specs(crew)),
        counters=draw(counter_specs(window)), faults=fault_list)

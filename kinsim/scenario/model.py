"""What a scenario says, as frozen dataclasses (DESIGN §5).

Times inside a scenario are float seconds after its ``start``. Every class checks its own values in
``__post_init__`` and says why a value cannot be (``ValueError``); the loader turns that into a
``ScenarioError`` naming the file and the key path.
"""

from __future__ import annotations

import copy
import enum
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Optional

from ..backends.limits import DEFAULT_SHARD_LIMIT, MAX_SHARD_LIMIT
from ..counters import Counter, Sink, Windowing
from ..lag import Constant, LagModel
from ..populations import Population, PopulationError
from ..records import IteratorType
from .schedule import Fault

__all__ = [
    "Pacing",
    "State",
    "CheckpointPolicy",
    "ProcessorSpec",
    "Outage",
    "ProducerSpec",
    "StreamSpec",
    "ConsumerSpec",
    "CounterSpec",
    "Scenario",
]


MAX_MEMBERS = 1_000_000  # members of one producer group


class Pacing(str, enum.Enum):
    FIXED = "fixed"          # records created at offset + k × interval, whatever the network does
    AFTER_PUT = "after_put"  # the tutorial's loop: put, wait for it to complete, then sleep interval


@dataclass(frozen=True)
class Outage:
    """The producer's link is down during [at, at + duration): records created then wait for its end."""

    at: float
    duration: float

    def __post_init__(self) -> None:
        if self.at < 0:
            raise ValueError("an outage cannot start before the scenario does")
        if self.duration <= 0:
            raise ValueError("an outage must last longer than 0 s")

    @property
    def end(self) -> float:
        return self.at + self.duration


@dataclass(frozen=True)
class ProducerSpec:
    """One "wordputter": puts (IP address, timestamp) records, the IP as partition key: always
    ``partition_key``, or a key drawn from ``keys`` for each record. With ``count``, a group of that many
    members ``name-0`` … ``name-{count-1}``, each a producer of its own with these parameters (its own
    generators; with ``keys.each``, member ``i`` writes key ``i`` of ``keys`` only)."""

    name: str
    partition_key: Optional[str]  # None: each record's key is drawn from ``keys``
    interval: float
    offset: float = 0.0
    jitter: float = 0.0
    lag: LagModel = Constant(0.0)
    outages: tuple[Outage, ...] = ()
    clock_skew: float = 0.0
    pacing: Pacing = Pacing.FIXED
    until: Optional[float] = None  # creates records before this (seconds after the start); None: the duration
    keys: Optional[Population] = None
    count: Optional[int] = None    # a group of this many members; None: one producer, named ``name``

    def __post_init__(self) -> None:
        if (self.partition_key is None) == (self.keys is None):
            raise ValueError("a producer has either a partition_key or keys, not both or neither")
        if self.partition_key is not None and not 1 <= len(self.partition_key) <= 256:
            raise ValueError("a partition key has 1 to 256 characters")
        if self.count is not None and not 1 <= self.count <= MAX_MEMBERS:
            raise PopulationError("count", f"a group has 1 to {MAX_MEMBERS:,} members, got {self.count:,}")
        if self.keys is not None and self.keys.each:
            if self.count is None:
                raise PopulationError("keys.each", "each gives member i key i: it needs the producer's count")
            if len(self.keys) != self.count:
                raise PopulationError("keys.each", f"each gives member i key i: {self.count:,} members "
                                                   f"need {self.count:,} keys, got {len(self.keys):,}")
        if self.interval <= 0:
            raise ValueError("the interval between records must be above 0")
        if self.offset < 0:
            raise ValueError("a producer cannot start before the scenario does")
        if self.until is not None and self.until <= self.offset:
            raise ValueError("'until' must come after the producer's offset")
        if not 0 <= self.jitter < self.interval:
            raise ValueError("jitter must be at least 0 and below the interval, or records would swap places")
        for earlier, later in zip(self.outages, self.outages[1:]):
            if later.at < earlier.end:
                raise ValueError("outages must be in time order and must not overlap")

    @property
    def members(self) -> int:
        """How many producers this one stands for."""
        return 1 if self.count is None else self.count

    def member_name(self, member: int) -> str:
        """Member ``member``'s name: ``name-member`` in a group, the producer's own name alone."""
        return self.name if self.count is None else f"{self.name}-{member}"

    def stops(self, duration: float) -> float:
        """When the producer stops creating records: its ``until``, or the scenario's ``duration``."""
        return duration if self.until is None else min(duration, self.until)

    def outage_end(self, t: float) -> Optional[float]:
        """When the outage holding time ``t`` ends, or None if the link is up at ``t``."""
        for outage in self.outages:
            if outage.at <= t < outage.end:
                return outage.end
        return None


@dataclass(frozen=True)
class StreamSpec:
    name: Optional[str] = None  # None: kinsim names the stream it creates
    shards: int = 1
    update_delay: float = 0.0   # a reshard takes effect this long after it is asked for (simulated shards)
    shard_limit: int = DEFAULT_SHARD_LIMIT  # the account's limit on open shards (simulated shards)

    def __post_init__(self) -> None:
        if not 1 <= self.shard_limit <= MAX_SHARD_LIMIT:
            raise ValueError(f"the account's shard limit is 1 to {MAX_SHARD_LIMIT:,} here")
        if not 1 <= self.shards <= self.shard_limit:
            raise ValueError(f"a stream has 1 to {self.shard_limit:,} shards here"
                             + (" (the account's shard_limit)" if self.shards > 1 else ""))
        if self.update_delay < 0:
            raise ValueError("update_delay cannot be below 0")


class State(str, enum.Enum):
    """Where a processor keeps its counters' state (DESIGN §11)."""

    MEMORY = "memory"              # in the worker: a crash loses it
    CHECKPOINTED = "checkpointed"  # saved with each checkpoint, atomically; the next owner restores it


@dataclass(frozen=True)
class CheckpointPolicy:
    """When the scenario's counting processors checkpoint (after a batch): every ``every`` seconds of
    processing time, every ``records`` records, after ``each_batch``, or (all unset) never but at a
    shard's end, which every processor must checkpoint for the children to start."""

    every: Optional[float] = None
    records: Optional[int] = None
    each_batch: bool = False

    def __post_init__(self) -> None:
        if sum((self.every is not None, self.records is not None, self.each_batch)) > 1:
            raise ValueError("a checkpoint policy is one of every, records, each_batch or none")
        if self.every is not None and self.every <= 0:
            raise ValueError("checkpoint every: a duration above 0")
        if self.records is not None and self.records < 1:
            raise ValueError("checkpoint records: at least 1")

    def describe(self) -> str:
        if self.every is not None:
            return f"every {self.every:g} s"
        if self.records is not None:
            return f"every {self.records} records"
        return "each batch" if self.each_batch else "none"


@dataclass(frozen=True)
class ProcessorSpec:
    """A user's record processor class (kclpy v3 ``RecordProcessorBase`` shape), named in the scenario by
    import path ``package.module:Class``; one instance per lease, built with no arguments."""

    path: str
    processor_class: type = field(compare=False)

    def build(self) -> Any:
        return self.processor_class()


@dataclass(frozen=True)
class ConsumerSpec:
    """The consuming application: KCL-shaped workers holding one lease per shard (DESIGN §11). A single
    worker named ``consumer`` is the tutorial's KinesisConsumer: a poller per shard that gets records,
    processes them, sleeps the poll interval (KCL ``idle_time_between_reads``) and repeats, with at most
    ``limit`` records per call (KCL ``max_records``)."""

    poll_interval: float = 1.0
    limit: int = 10_000
    iterator: IteratorType = IteratorType.TRIM_HORIZON
    start: float = 0.0
    workers: tuple[str, ...] = ("consumer",)
    failover_time: float = 10.0    # KCL's default lease duration
    checkpoint: CheckpointPolicy = CheckpointPolicy(every=30.0)  # kclpy's sample app checkpoints every 30 s
    state: State = State.MEMORY
    processor: Optional[ProcessorSpec] = None

    def __post_init__(self) -> None:
        if not self.workers:
            raise ValueError("at least one worker")
        if len(set(self.workers)) != len(self.workers):
            raise ValueError("each worker's name once")
        if not self.failover_time > 0:
            raise ValueError("the lease failover time must be above 0")
        if self.poll_interval <= 0:
            raise ValueError("the poll interval must be above 0")
        if not 1 <= self.limit <= 10_000:
            raise ValueError("GetRecords takes a Limit from 1 to 10000")
        if self.iterator in (IteratorType.AT_SEQUENCE_NUMBER, IteratorType.AFTER_SEQUENCE_NUMBER,
                             IteratorType.AT_TIMESTAMP):
            raise ValueError("a scenario's consumer starts from TRIM_HORIZON or LATEST")
        if self.start < 0:
            raise ValueError("the consumer cannot start before the scenario does")


@dataclass(frozen=True)
class CounterSpec:
    """One counter of a scenario: its class, the kind as the scenario names it (a built-in word or an
    import path ``package.module:Class``), its windows and its raw parameters. ``build`` makes a new
    counter for a run; the loader has already built one to check the parameters."""

    name: str
    kind: str
    counter_class: type
    windowing: Windowing
    params: tuple[tuple[str, Any], ...] = field(default=(), hash=False)  # raw values may be lists or mappings

    def build(self, sink: Sink) -> Counter:
        """A new counter reporting to ``sink``, with its own copy of the parameters."""
        return self.counter_class(self.name, self.windowing, sink, **copy.deepcopy(dict(self.params)))


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    seed: int
    start: datetime
    duration: float
    window: float
    stream: StreamSpec
    producers: tuple[ProducerSpec, ...]
    consumer: ConsumerSpec
    counters: tuple[CounterSpec, ...]
    faults: tuple[Fault, ...] = ()  # in the file's order

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.start.utcoffset() != timezone.utc.utcoffset(None):
            raise ValueError("start must be a UTC instant")
        if self.duration <= 0:
            raise ValueError("duration must be above 0")
        if not self.producers:
            raise ValueError("a scenario needs at least one producer")
        if not self.counters:
            raise ValueError("a scenario needs at least one counter")

    @property
    def start_us(self) -> int:
        """The scenario's start in whole microseconds since the Unix epoch."""
        delta = self.start - datetime(1970, 1, 1, tzinfo=timezone.utc)
        return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds

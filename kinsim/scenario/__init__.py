"""Scenario files: what to simulate, as validated frozen dataclasses."""

from ..durations import parse_duration
from .loader import load_scenario, parse_scenario
from .model import (
    ConsumerSpec,
    CounterSpec,
    Outage,
    Pacing,
    ProducerSpec,
    Scenario,
    StreamSpec,
)
from .schedule import Fault, Merge, Pause, ShardCount, Split, Throttle

__all__ = [
    "load_scenario", "parse_scenario", "parse_duration", "Scenario", "ProducerSpec", "StreamSpec",
    "ConsumerSpec", "CounterSpec", "Outage", "Pacing", "Fault", "Split", "Merge", "ShardCount", "Throttle", "Pause",
]

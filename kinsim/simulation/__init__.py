"""The simulation: producers, the lagged network and polling consumers on simpy's virtual clock."""

from .consumer import Consumer, event_us_of
from .traffic import Traffic, TrafficStats, event_text

__all__ = ["Consumer", "Traffic", "TrafficStats", "event_text", "event_us_of"]

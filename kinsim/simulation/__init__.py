"""The simulation: producers, the lagged network and polling consumers on simpy's virtual clock."""

from .consumer import Consumer, event_times, event_us_of
from .traffic import EVENT_TEXT_BYTES, Traffic, TrafficStats, event_text, render

__all__ = ["Consumer", "Traffic", "TrafficStats", "event_text", "event_us_of", "event_times", "render",
           "EVENT_TEXT_BYTES"]

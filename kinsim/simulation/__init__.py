"""The simulation: producers, the lagged network and polling consumers, as processes on one timeline."""

from .consumer import Consumer, ConsumerStats
from .ending import InputEnd
from .payload import EVENT_TEXT_BYTES, EVENT_TIMES, EventTimes, event_text, event_us_of
from .timeline import RealtimeTimeline, SimulationClock, Timeline
from .traffic import Traffic, TrafficStats
from .writers import writer_for

__all__ = ["Consumer", "ConsumerStats", "InputEnd", "Traffic", "TrafficStats", "Timeline", "RealtimeTimeline",
           "SimulationClock", "EVENT_TIMES", "EVENT_TEXT_BYTES", "EventTimes", "event_text", "event_us_of",
           "writer_for"]

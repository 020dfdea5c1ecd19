"""The simulation: producers, the lagged network and the consuming workers, as processes on one timeline."""

from .ending import InputEnd
from .payload import EVENT_TEXT_BYTES, EVENT_TIMES, EventTimes, event_text, event_us_of
from .shard_consumer import ConsumerStats
from .timeline import RealtimeTimeline, SimulationClock, Timeline
from .traffic import Traffic, TrafficStats
from .workers import Fleet, Worker
from .writers import writer_for

__all__ = ["Fleet", "Worker", "ConsumerStats", "InputEnd", "Traffic", "TrafficStats", "Timeline", "RealtimeTimeline",
           "SimulationClock", "EVENT_TIMES", "EVENT_TEXT_BYTES", "EventTimes", "event_text", "event_us_of",
           "writer_for"]

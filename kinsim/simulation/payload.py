"""What a simulated record's data says: its event time, as the tutorial's producer writes it.

The data is ISO 8601 text, UTC, to the microsecond, with no zone suffix (``2018-07-31T21:56:42.972560``),
always ``EVENT_TEXT_BYTES`` long. ``EVENT_TIMES`` is the payload codec (``kinsim.records.PayloadCodec``)
the simulation's producers write through: simulated shards keep each record's event time as an integer
and render the text only when someone reads the data, and the simulation's consumer takes the integers
back without parsing. Records from anywhere else (a real stream, another client) are parsed.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from itertools import repeat
from typing import Sequence

__all__ = ["EVENT_TIMES", "EVENT_TEXT_BYTES", "EventTimes", "event_text", "event_us_of"]

_EPOCH = datetime(1970, 1, 1)
_MICRO = repeat(1_000_000)
EVENT_TEXT_BYTES = 26  # len("2018-07-31T21:56:42.972560"): datetime pads every year to four digits


def event_text(event_us: int) -> str:
    """An event time as the tutorial's producer writes it: ISO 8601, UTC, no zone suffix."""
    return (_EPOCH + timedelta(microseconds=event_us)).isoformat(timespec="microseconds")


def event_us_of(data: bytes) -> int:
    """The event time a record's data carries (ISO 8601 text, any zone), in microseconds."""
    moment = datetime.fromisoformat(data.decode("ascii"))
    if moment.tzinfo is not None:
        moment = moment.replace(tzinfo=None) - moment.utcoffset()
    delta = moment - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def _head(second: int) -> bytes:
    return ((_EPOCH + timedelta(seconds=second)).isoformat() + ".").encode("ascii")


class EventTimes:
    """The payload codec of event times (microseconds since the epoch) written as the tutorial's text."""

    data_bytes = EVENT_TEXT_BYTES

    def render(self, values: Sequence[int]) -> list[bytes]:
        """The text of each event time; the text up to the second is made once per second."""
        if not values:
            return []
        first, last = min(values) // 1_000_000, max(values) // 1_000_000
        if last - first > 4 * len(values) + 64:  # far apart: one head per distinct second, not per second between
            heads = {second: _head(second) for second in {value // 1_000_000 for value in values}}
            return [heads[second] + b"%06d" % micro for second, micro in map(divmod, values, _MICRO)]
        dense = [_head(second) for second in range(first, last + 1)]
        return [dense[second - first] + b"%06d" % micro for second, micro in map(divmod, values, _MICRO)]

    def parse(self, datas: Sequence[bytes]) -> list[int]:
        """The event times in these data; text in the producers' own format is parsed once per second."""
        seconds: dict[bytes, int] = {}
        times = []
        for data in datas:
            head = data[:20]
            base = seconds.get(head)
            if base is None:
                if len(data) != EVENT_TEXT_BYTES or data[19:20] != b".":  # another format: parse it whole
                    times.append(event_us_of(data))
                    continue
                base = seconds[head] = event_us_of(head + b"000000")
            times.append(base + int(data[20:]))
        return times


EVENT_TIMES = EventTimes()

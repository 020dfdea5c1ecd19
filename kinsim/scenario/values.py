"""The values of a scenario file, each read through one checked path: where it sits (``Node``, so a
message names its key path) and what it may be (the converters below, each a ``ValueError`` with a
reason when the value cannot be).

Numbers are finite; durations are at most a thousand years; instants lie between the years 1 and 9999
(what a report can print); text is printable (no control characters, valid Unicode) and of a bounded
length; a value is quoted in a message as a short excerpt, however large or deep it is.
"""

from __future__ import annotations

import difflib
import math
import re
import reprlib
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any, Callable, Optional, TypeVar

from dateutil import parser as dateparser

from ..durations import MAX_DURATION_S, parse_duration, parse_signed_duration
from ..errors import ScenarioError
from ..records import HASH_KEY_MAX

__all__ = ["Node", "shown", "listed", "built", "choice", "text", "name", "description", "partition_key", "stream_name",
           "integer", "number", "duration", "positive_duration", "signed_duration", "instant", "rate", "size",
           "shard_id", "hash_key"]

T = TypeVar("T")

EARLIEST = datetime(1, 1, 2, tzinfo=timezone.utc)
LATEST = datetime(9999, 12, 30, tzinfo=timezone.utc)
_RATE = re.compile(r"\s*(\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)\s*/\s*(s|sec|second|m|min|minute|h|hour)\s*")
_RATE_UNITS = {"s": 1, "sec": 1, "second": 1, "m": 60, "min": 60, "minute": 60, "h": 3600, "hour": 3600}
_SIZE = re.compile(r"\s*(\d+(?:\.\d+)?)\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)?\s*", re.IGNORECASE)
_SIZE_UNITS = {"b": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12, "kib": 2**10, "mib": 2**20,
               "gib": 2**30, "tib": 2**40}
_SHORT = reprlib.Repr()
_SHORT.maxstring, _SHORT.maxother, _SHORT.maxlevel, _SHORT.maxlist, _SHORT.maxdict = 50, 50, 2, 4, 4


def shown(value: Any) -> str:
    """A value as a message quotes it: a short excerpt, however large or deep (or shared) the value is."""
    return _SHORT.repr(value)


def listed(names, most: int = 4) -> str:
    """Names as a message lists them: the first ``most``, then how many more."""
    names = list(names)
    shown_names = names if len(names) <= most else names[:most] + [f"… {len(names) - most} more"]
    return ", ".join(shown_names)


class Node:
    """A value in the scenario file and where it sits, for messages that point at it (its key path is
    worked out when a message asks for it: a file of 100,000 producers has a million of them)."""

    __slots__ = ("value", "file", "_path", "_parent", "_key")

    def __init__(self, value: Any, path: Optional[str], file: str, parent: Optional["Node"] = None,
                 key: Any = None) -> None:
        self.value, self._path, self.file, self._parent, self._key = value, path, file, parent, key

    @property
    def path(self) -> str:
        if self._path is None:
            self._path = self._parent._path_of(self._key)
        return self._path

    def error(self, problem: str) -> ScenarioError:
        return ScenarioError(self.file, self.path, problem)

    def _path_of(self, key: Any) -> str:
        if isinstance(key, int) and not isinstance(key, bool):
            return f"{self.path}[{key}]"
        label = key if isinstance(key, str) and len(key) <= 60 else shown(key)
        return f"{self.path}.{label}" if self.path else label

    def child(self, key: Any) -> "Node":
        return Node(self.value[key], None, self.file, self, key)

    def mapping(self, allowed: tuple[str, ...]) -> "Node":
        if not isinstance(self.value, dict):
            raise self.error(f"expected a mapping of keys, got {shown(self.value)}")
        for key in self.value:
            if key not in allowed:
                close = difflib.get_close_matches(key[:100], allowed, n=1) if isinstance(key, str) else []
                hint = f"; did you mean '{close[0]}'?" if close else f"; known keys: {', '.join(allowed)}"
                raise ScenarioError(self.file, self._path_of(key), f"unknown key{hint}")
        return self

    def items(self) -> list["Node"]:
        return [Node(item, None, self.file, self, i) for i, item in enumerate(self.item_values())]  # child(i) of each

    def item_values(self) -> list:
        """A list's items as they are: ``items()`` without a node for each (``child(i)`` makes one when a
        message needs it: a list of 100,000 producers needs none)."""
        if not isinstance(self.value, list):
            raise self.error(f"expected a list, got {shown(self.value)}")
        return self.value

    def has(self, key: str) -> bool:
        return key in self.value

    def get(self, key: str, convert: Callable[[Any], T], default: Optional[T] = None, required: bool = False) -> T:
        value = self.value[key] if key in self.value else None
        if value is None:
            if required:
                raise ScenarioError(self.file, self._path_of(key), "is required")
            return default
        try:
            return convert(value)
        except (ValueError, TypeError, OverflowError) as exc:  # as convert() says it, at the child's path
            raise ScenarioError(self.file, self._path_of(key), str(exc)) from None

    def at(self, key: Any, convert: Callable[[Any], T]) -> T:
        """The value at ``key`` (a mapping's key or a list's index, there), converted: ``child(key).convert``
        without a node for it."""
        try:
            return convert(self.value[key])
        except (ValueError, TypeError, OverflowError) as exc:
            raise ScenarioError(self.file, self._path_of(key), str(exc)) from None

    def convert(self, convert: Callable[[Any], T]) -> T:
        try:
            return convert(self.value)
        except (ValueError, TypeError, OverflowError) as exc:
            raise self.error(str(exc)) from None


def built(node: Node, build: Callable[[], T]) -> T:
    """Build a model object; its own check (``__post_init__``) names the node on failure."""
    try:
        return build()
    except (ValueError, TypeError) as exc:
        raise node.error(str(exc)) from None


def choice(enum_type):
    def convert(value: Any):
        try:
            return enum_type(value)
        except (ValueError, TypeError):
            options = ", ".join(member.value for member in enum_type)
            raise ValueError(f"expected one of {options}, got {shown(value)}") from None
    return convert


def text(value: Any, most: int = 1000) -> str:
    """Text (a number is taken as its text): printable, valid Unicode, at most ``most`` characters."""
    if type(value) is str and len(value) <= most and value.isprintable():  # most text: what the checks below pass
        return value
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise ValueError(f"expected text, got {shown(value)}")
    result = str(value)
    if len(result) > most:
        raise ValueError(f"expected text of at most {most:,} characters, got {len(result):,}")
    if not result.isprintable():
        raise ValueError(f"text may not hold control characters or broken Unicode, got {shown(result)}")
    return result


def name(value: Any) -> str:
    return text(value, 128)


def description(value: Any) -> str:
    return text(value, 2000)


def partition_key(value: Any) -> str:
    key = text(value, 256)
    if not key:
        raise ValueError("a partition key has 1 to 256 characters")
    return key


def stream_name(value: Any) -> str:
    result = text(value, 128)
    if not re.fullmatch(r"[a-zA-Z0-9_.-]{1,128}", result):
        raise ValueError(f"a stream name has 1 to 128 letters, digits, '_', '.' or '-', got {shown(value)}")
    return result


def integer(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"expected a whole number, got {shown(value)}")
    if abs(value) >= 2**63:
        raise ValueError(f"expected a whole number below 2**63, got {shown(value)}")
    return value


def number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"expected a number, got {shown(value)}")
    if isinstance(value, int) and abs(value) > 10**300 or not math.isfinite(float(value)):
        raise ValueError(f"expected a finite number, got {shown(value)}")
    return float(value)


def duration(value: Any) -> float:
    return parse_duration(value)


def positive_duration(value: Any) -> float:
    seconds = parse_duration(value)
    if seconds <= 0:
        raise ValueError(f"must be above 0, got {shown(value)}")
    return seconds


def signed_duration(value: Any) -> float:
    return parse_signed_duration(value)


def instant(value: Any) -> datetime:
    """An ISO 8601 instant between the years 1 and 9999; one without a zone is UTC."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str) and len(value) <= 100:
        try:
            moment = dateparser.isoparse(value)
        except (ValueError, OverflowError):
            raise ValueError(f"expected an ISO 8601 instant like 2018-07-31T21:56:00Z, got {shown(value)}") from None
    else:
        raise ValueError(f"expected an ISO 8601 instant like 2018-07-31T21:56:00Z, got {shown(value)}")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    try:
        moment = moment.astimezone(timezone.utc)
    except OverflowError:
        moment = None
    if moment is None or not EARLIEST <= moment <= LATEST:
        raise ValueError(f"an instant lies between the years 1 and 9999, got {shown(value)}")
    return moment


def rate(value: Any) -> float:
    """``30/min``, ``2/s``, ``100/h`` → seconds between records (at most one record a microsecond)."""
    match = _RATE.fullmatch(value) if isinstance(value, str) and len(value) <= 100 else None
    if not match or Decimal(match.group(1)) == 0:
        raise ValueError(f"expected a rate above 0 like 30/min or 2/s, got {shown(value)}")
    interval = Decimal(_RATE_UNITS[match.group(2)]) / Decimal(match.group(1))
    if interval > MAX_DURATION_S:
        raise ValueError(f"a rate of at least one record in a thousand years, got {shown(value)}")
    if interval < Decimal("0.000001"):
        raise ValueError(f"a rate of at most 1,000,000/s (kinsim's clock counts microseconds), got {shown(value)}")
    return float(interval)


def size(value: Any, most: int = 2**50) -> int:
    """A size in bytes: a whole number, or text like ``100KiB``, ``1MiB`` or ``500KB``; above 0, at most
    ``most`` (1 PiB unless told)."""
    match = _SIZE.fullmatch(value) if isinstance(value, str) and len(value) <= 100 else None
    if isinstance(value, int) and not isinstance(value, bool):
        amount = Decimal(value)
    elif match:
        amount = Decimal(match.group(1)) * _SIZE_UNITS[(match.group(2) or "b").lower()]
    else:
        raise ValueError(f"expected a size like 100KiB, 1MiB, 500KB or a number of bytes, got {shown(value)}")
    if amount != amount.to_integral_value():
        raise ValueError(f"a size is a whole number of bytes, got {shown(value)}")
    if amount < 1:
        raise ValueError(f"a size is above 0, got {shown(value)}")
    if amount > most:
        raise ValueError(f"a size is at most {most:,} bytes here, got {shown(value)}")
    return int(amount)


def shard_id(value: Any) -> str:
    """A shard id as Kinesis names its shards: ``shardId-`` and 12 digits."""
    if not isinstance(value, str) or not re.fullmatch(r"shardId-\d{12}", value):
        raise ValueError(f"expected a shard id like shardId-000000000000, got {shown(value)}")
    return value


def hash_key(value: Any) -> int:
    """A hash key: a whole number from 0 to 2**128-1, or its decimal text."""
    if isinstance(value, str) and re.fullmatch(r"\s*\d{1,39}\s*", value):
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= HASH_KEY_MAX:
        raise ValueError(f"expected a hash key, a whole number from 0 to 2**128-1, got {shown(value)}")
    return value

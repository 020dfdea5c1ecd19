"""Durations as scenarios write them: ``500ms``, ``20s``, ``2m``, ``1h``, ``1m30s`` or a number of seconds.

A leaf module (no yaml, nothing else of kinsim), shared by the scenario loader and by counters that take
a duration as a parameter. Errors are ``ValueError`` with a message a scenario file's author can act on.
"""

from __future__ import annotations

import functools
import re
from decimal import Decimal
from typing import Any, Optional

__all__ = ["parse_duration", "parse_signed_duration", "MAX_DURATION_S"]

_UNITS = {"us": Decimal("0.000001"), "ms": Decimal("0.001"), "s": Decimal(1), "m": Decimal(60),
          "min": Decimal(60), "h": Decimal(3600), "d": Decimal(86400)}
_NUMBER = r"\d+(?:\.\d+)?(?:[eE][-+]?\d+)?"
_DURATION = re.compile(rf"\s*({_NUMBER})\s*(us|ms|min|s|m|h|d)\s*")
MAX_DURATION_S = 1000 * 365 * 86400  # a thousand years: no time kinsim deals in is longer
# one number and its unit, as most durations are written (``_simple``)
_SIMPLE = re.compile(r"(\d{1,15})(?:\.(\d{1,9}))?(us|ms|s|m|min|h|d)")
_UNIT_US = {"us": 1, "ms": 1000, "s": 10**6, "m": 60 * 10**6, "min": 60 * 10**6, "h": 3600 * 10**6,
            "d": 86400 * 10**6}
_TENS = [10**digits for digits in range(10)]


def parse_duration(value: Any) -> float:
    """``500ms``, ``20s``, ``2m``, ``1h``, ``1m30s`` or a number of seconds → seconds, to the microsecond."""
    if type(value) in (str, int, float):  # a file of many producers says the same few durations again and again
        return _parsed(value)
    return _parse(value)


def _simple(text: str) -> Optional[float]:
    """One number and its unit, as most durations are written (``1.234s``, ``200ms``), read at once in
    whole microseconds: what the Decimal arithmetic of ``_parse`` gives. None for anything else, or a value
    that is not whole microseconds or is out of range (``_parse`` rounds it, or says what is wrong)."""
    simple = _SIMPLE.fullmatch(text)
    if simple is None:
        return None
    whole, fraction, unit = simple.groups()
    if fraction is None:
        micros, rest = int(whole) * _UNIT_US[unit], 0
    else:
        micros, rest = divmod(int(whole + fraction) * _UNIT_US[unit], _TENS[len(fraction)])
    if rest or micros > MAX_DURATION_S * 1_000_000:
        return None
    return micros / 1_000_000  # correctly rounded, as float() of the exact Decimal is


@functools.lru_cache(maxsize=4096, typed=True)
def _parsed(value: Any) -> float:
    return _parse(value)


def _parse(value: Any) -> float:
    if type(value) is str:
        seconds = _simple(value)
        if seconds is not None:
            return seconds
    if isinstance(value, bool):
        raise ValueError(f"expected a duration like 500ms, 20s, 2m or 1h, got {_shown(value)}")
    if isinstance(value, (int, float)):
        total = Decimal(str(value))
    elif isinstance(value, str):
        parts = _DURATION.findall(value)
        if len(value) > 100:
            raise ValueError(f"expected a duration like 500ms, 20s, 2m or 1h, got {_shown(value)}")
        if not parts or "".join(f"{n}{u}" for n, u in parts) != re.sub(r"\s+", "", value):
            if not re.fullmatch(rf"\s*-?{_NUMBER}\s*", value):
                raise ValueError(f"expected a duration like 500ms, 20s, 2m or 1h, got {_shown(value)}")
            total = Decimal(value.strip())
        else:
            total = sum((Decimal(n) * _UNITS[u] for n, u in parts), Decimal(0))
    else:
        raise ValueError(f"expected a duration like 500ms, 20s, 2m or 1h, got {_shown(value)}")
    if not total.is_finite():  # nan, inf: a number, but no duration
        raise ValueError(f"expected a duration like 500ms, 20s, 2m or 1h, got {_shown(value)}")
    if total < 0:
        raise ValueError(f"a duration cannot be negative, got {_shown(value)}")
    if total > MAX_DURATION_S:
        raise ValueError(f"a duration is at most a thousand years ({MAX_DURATION_S:,} s), got {_shown(value)}")
    return float(total.quantize(Decimal("0.000001")))


def duration_text(seconds: float) -> str:
    """Seconds (at least 0) as a scenario writes them, to the microsecond: ``0s``, ``0.25s``, ``45s``,
    ``3m``, ``3m30s``, ``1h2m``."""
    whole, micro = divmod(round(seconds * 1_000_000), 1_000_000)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    text = (f"{hours}h" if hours else "") + (f"{minutes}m" if minutes else "")
    if secs or micro or not text:
        text += f"{secs}" + (f".{micro:06d}".rstrip("0") if micro else "") + "s"
    return text


def _shown(value: Any) -> str:
    """A value as a message quotes it: its repr, cut short."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def parse_signed_duration(value: Any) -> float:
    """A duration that may be negative, like a clock skew of ``-2s``."""
    if isinstance(value, str) and value.strip().startswith("-"):
        return -parse_duration(value.strip()[1:])
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value < 0:
        return -parse_duration(-value)
    return parse_duration(value)

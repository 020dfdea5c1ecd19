"""Durations as scenarios write them, against exact decimal arithmetic written here."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kinsim.durations import MAX_DURATION_S, parse_duration

UNITS = {"us": Decimal("0.000001"), "ms": Decimal("0.001"), "s": Decimal(1), "m": Decimal(60), "min": Decimal(60),
         "h": Decimal(3600), "d": Decimal(86400)}


def exact(text: str, unit: str) -> float:
    """The duration in seconds, rounded half to even to the microsecond, as a float."""
    return float((Decimal(text) * UNITS[unit]).quantize(Decimal("0.000001")))


numbers = st.tuples(st.one_of(st.integers(0, 100), st.integers(0, 10**15)),
                    st.one_of(st.just(""), st.text("0123456789", min_size=1, max_size=9))
                    ).map(lambda parts: parts[0].__str__() + (f".{parts[1]}" if parts[1] else ""))


@settings(max_examples=2000)
@given(numbers, st.sampled_from(sorted(UNITS)))
def test_a_number_and_its_unit_is_read_to_the_microsecond(number, unit):
    """Most durations are one number and a unit (``1.234s``, ``200ms``): read at once in whole
    microseconds, they are what the decimal arithmetic gives, or refused past a thousand years."""
    seconds = Decimal(number) * UNITS[unit]
    if seconds.quantize(Decimal("0.000001")) > MAX_DURATION_S:
        with pytest.raises(ValueError, match="at most a thousand years"):
            parse_duration(number + unit)
    else:
        assert parse_duration(number + unit) == exact(number, unit)


@pytest.mark.parametrize("text, seconds", [("1m30s", 90.0), (" 2 m ", 120.0), ("1e2s", 100.0), ("0.0000005s", 0.0),
                                           ("0.0000015s", 0.000002), ("1.5us", 0.000002)])
def test_other_ways_of_writing_a_duration_take_the_decimal_path(text, seconds):
    assert parse_duration(text) == seconds

"""Hypothesis strategies for the Kinesis wire protocol: values of any shape in botocore's Kinesis model.

- ``operation_params(operation)``: the parameters of one call, every member typed as the model says
  (constraints such as lengths and patterns are not the protocol's business, and are ignored), with
  timestamps as aware datetimes on whole microseconds (``unit="ms"``: whole milliseconds, what CBOR's
  tag 1 carries).
- ``operation_responses(operation)``: a response as the api layer answers it: blobs as ``bytes``,
  timestamps as float seconds since the epoch.
- ``wire_calls()``: ``(operation, params)`` for any operation kinsim serves.

Values are built typed by construction; nothing filters.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import botocore.session
from hypothesis import strategies as st

from kinsim.api import OPERATIONS

__all__ = ["MODEL", "EPOCH", "operation_params", "operation_responses", "wire_calls"]

MODEL = botocore.session.get_session().get_service_model("kinesis")
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_LATEST_US = 4_102_444_800 * 10**6  # 2100-01-01
_UNITS = {"us": 1, "ms": 1000}


def _timestamps_in(unit: str) -> st.SearchStrategy[datetime]:
    step = _UNITS[unit]
    return st.integers(0, _LATEST_US // step).map(lambda n: EPOCH + timedelta(microseconds=n * step))


def _timestamps_out() -> st.SearchStrategy[float]:
    return st.one_of(st.integers(0, 4_102_444_800).map(float), st.floats(0, 4_102_444_800),
                     st.integers(0, 4_102_444_800_000).map(lambda ms: ms / 1000))


def _value(shape, timestamps: st.SearchStrategy, depth: int) -> st.SearchStrategy[Any]:
    kind = shape.type_name
    if kind == "structure":
        if depth > 4:
            return st.just({})
        members = {name: _value(member, timestamps, depth + 1) for name, member in shape.members.items()}
        return st.fixed_dictionaries({}, optional=members)
    if kind == "list":
        return st.lists(_value(shape.member, timestamps, depth + 1), max_size=3)
    if kind == "map":
        return st.dictionaries(st.text(max_size=8), _value(shape.value, timestamps, depth + 1), max_size=3)
    if kind == "string":
        return st.sampled_from(shape.enum) if shape.enum else st.text(max_size=24)
    if kind == "integer":
        return st.integers(-(2**31), 2**31 - 1)
    if kind == "long":
        return st.integers(-(2**63), 2**63 - 1)
    if kind == "boolean":
        return st.booleans()
    if kind == "blob":
        return st.binary(max_size=40)
    if kind == "timestamp":
        return timestamps
    raise AssertionError(f"the Kinesis model has a {kind} the strategies do not know")


def operation_params(operation: str, unit: str = "us") -> st.SearchStrategy[dict]:
    """Parameters of one call of ``operation``, typed as its input shape says."""
    return _value(MODEL.operation_model(operation).input_shape, _timestamps_in(unit), 0)


def operation_responses(operation: str) -> st.SearchStrategy[dict]:
    """A response to ``operation`` in the api layer's Python forms."""
    shape = MODEL.operation_model(operation).output_shape
    return st.just({}) if shape is None else _value(shape, _timestamps_out(), 0)


def wire_calls(unit: str = "us") -> st.SearchStrategy[tuple[str, dict]]:
    """``(operation, params)`` for any operation kinsim serves."""
    return st.sampled_from(OPERATIONS).flatmap(
        lambda operation: st.tuples(st.just(operation), operation_params(operation, unit)))

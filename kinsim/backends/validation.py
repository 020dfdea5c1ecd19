"""Parameter constraints, reported the way the Kinesis API reports them.

The service checks its model's shape constraints before anything else and answers with one
``ValidationException`` listing every broken constraint:
``1 validation error detected: Value 'x…' at 'partitionKey' failed to satisfy constraint: Member must
have length less than or equal to 256``. ``Constraints`` collects them and raises once.
"""

from __future__ import annotations

import re
from typing import Optional, Sized

from ..errors import ValidationException

__all__ = ["Constraints"]


def _shown(value: object) -> str:
    if isinstance(value, (bytes, bytearray, memoryview)):
        size = len(value)
        return f"'java.nio.HeapByteBuffer[pos=0 lim={size} cap={size}]'"
    if value is None:
        return "null"
    return f"'{value}'"


class Constraints:
    """Collects broken constraints of one request; ``check()`` raises them as one ValidationException."""

    def __init__(self) -> None:
        self._errors: list[str] = []

    def fail(self, field: str, value: object, rule: str) -> None:
        self._errors.append(f"Value {_shown(value)} at '{field}' failed to satisfy constraint: Member {rule}")

    def required(self, field: str, value: object) -> bool:
        if value is None:
            self.fail(field, None, "must not be null")
            return False
        return True

    def length(self, field: str, value: Optional[Sized], low: int, high: Optional[int] = None) -> None:
        if value is None:
            return
        if len(value) < low:
            self.fail(field, value, f"must have length greater than or equal to {low}")
        elif high is not None and len(value) > high:
            self.fail(field, value, f"must have length less than or equal to {high}")

    def value(self, field: str, value: Optional[int], low: int, high: Optional[int] = None) -> None:
        if value is None:
            return
        if value < low:
            self.fail(field, value, f"must have value greater than or equal to {low}")
        elif high is not None and value > high:
            self.fail(field, value, f"must have value less than or equal to {high}")

    def pattern(self, field: str, value: Optional[str], regex: str) -> None:
        if value is not None and not re.fullmatch(regex, value):
            self.fail(field, value, f"must satisfy regular expression pattern: {regex}")

    def one_of(self, field: str, value: Optional[str], allowed: tuple[str, ...]) -> None:
        if value is not None and value not in allowed:
            self.fail(field, value, f"must satisfy enum value set: [{', '.join(allowed)}]")

    def check(self) -> None:
        if self._errors:
            count = len(self._errors)
            noun = "error" if count == 1 else "errors"
            raise ValidationException(f"{count} validation {noun} detected: " + "; ".join(self._errors))

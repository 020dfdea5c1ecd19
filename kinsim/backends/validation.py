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
from . import limits

__all__ = ["Constraints", "check_stream_name", "check_record", "record_size", "plain_sizes"]


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


def check_stream_name(check: Constraints, stream_name: Optional[str]) -> None:
    if check.required("streamName", stream_name):
        check.length("streamName", stream_name, 1, limits.MAX_STREAM_NAME_CHARS)
        check.pattern("streamName", stream_name, limits.STREAM_NAME_PATTERN)


def check_record(check: Constraints, prefix: str, data: Optional[bytes], partition_key: Optional[str],
                 explicit_hash_key: Optional[str]) -> None:
    """The model's constraints on one record; ``prefix`` places it (``records.3.member.``)."""
    if check.required(prefix + "data", data):
        check.length(prefix + "data", data, 0, limits.MAX_RECORD_BYTES)
    if check.required(prefix + "partitionKey", partition_key):
        check.length(prefix + "partitionKey", partition_key, 1, limits.MAX_PARTITION_KEY_CHARS)
    check.pattern(prefix + "explicitHashKey", explicit_hash_key, limits.HASH_KEY_PATTERN)


def plain_sizes(entries) -> Optional[list[int]]:
    """The records' sizes when every one of them is plainly within its constraints (data and key given
    and short enough, no explicit hash key): the usual batch, in one sweep; else None, for
    ``check_record`` and ``record_size`` to say what is wrong, record by record."""
    sizes = []
    for entry in entries:
        data, key = entry.data, entry.partition_key
        if data is None or type(key) is not str or entry.explicit_hash_key is not None \
                or not 1 <= len(key) <= limits.MAX_PARTITION_KEY_CHARS:
            return None
        size = len(data) + (len(key) if key.isascii() else len(key.encode("utf-8")))
        if size > limits.MAX_RECORD_BYTES:
            return None
        sizes.append(size)
    return sizes


def record_size(check: Constraints, prefix: str, data: bytes, partition_key: str) -> int:
    """Data plus partition key in bytes; over 1 MiB is a ValidationException, as the service says."""
    size = len(data) + len(partition_key.encode("utf-8"))
    if size > limits.MAX_RECORD_BYTES and len(data) <= limits.MAX_RECORD_BYTES:
        check.fail(prefix + "data", data, f"must have length less than or equal to {limits.MAX_RECORD_BYTES} "
                   "together with its partition key")
    return size

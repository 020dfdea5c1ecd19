"""Shard iterators: opaque tokens that carry their own position and issue time.

A token names the stream (and which incarnation of that name), the shard, the lowest sequence number
still to read and the time it was issued, so it expires on the injected clock 5 minutes later without
the backend keeping a table of live iterators. A checksum makes a mangled token an
``InvalidArgumentException`` rather than a wrong read.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass

from ..errors import InvalidArgumentException

__all__ = ["IteratorPosition", "encode_iterator", "decode_iterator"]

_VERSION = "k1"


@dataclass(frozen=True)
class IteratorPosition:
    stream_name: str
    stream_uid: int
    shard_id: str
    sequence_floor: int  # the next record to read is the first with a sequence number >= this
    issued_at: float


def _checksum(payload: str) -> str:
    return hashlib.md5(payload.encode("utf-8")).hexdigest()[:12]


def encode_iterator(position: IteratorPosition) -> str:
    payload = "|".join(
        (_VERSION, position.stream_name, str(position.stream_uid), position.shard_id,
         str(position.sequence_floor), repr(position.issued_at))
    )
    return base64.b64encode(f"{_checksum(payload)}|{payload}".encode("utf-8")).decode("ascii")


def decode_iterator(token: str) -> IteratorPosition:
    try:
        text = base64.b64decode(token.encode("ascii"), validate=True).decode("utf-8")
        checksum, payload = text.split("|", 1)
        version, stream_name, uid, shard_id, floor, issued = payload.split("|")
        if version != _VERSION or checksum != _checksum(payload):
            raise ValueError(token)
        return IteratorPosition(stream_name, int(uid), shard_id, int(floor), float(issued))
    except (ValueError, UnicodeError, binascii.Error):
        raise InvalidArgumentException("Invalid ShardIterator.") from None

"""Shard iterators: where each of the five types starts, and opaque tokens that carry their position.

A token names the stream (and which incarnation of that name), the shard, the lowest sequence number
still to read and the time it was issued, so it expires on the injected clock 5 minutes later without
the backend keeping a table of live iterators. A checksum makes a mangled token an
``InvalidArgumentException`` rather than a wrong read. Decoding is pure, so the tokens issued lately
are remembered with what they say (in two generations: a token issued just before the newer one filled
up is still known), and a poller's next read skips the parsing. Encoding keeps, per shard, what its
payloads begin with (the stream, its incarnation, the shard, the floor last issued) and their checksum.
"""

from __future__ import annotations

import base64
import binascii
import math
import zlib
from datetime import datetime, timezone
from typing import NamedTuple, Optional, Union

from ..errors import ExpiredIteratorException, InvalidArgumentException
from ..records import IteratorType
from . import limits
from .shards import ShardLog, sequence_number_shard_index
from .stream_state import StreamState

__all__ = ["IteratorPosition", "encode_iterator", "decode_iterator", "check_expiry", "starting_floor"]

_VERSION = "k2"
_KNOWN_LIMIT = 4096
_known: dict[str, "IteratorPosition"] = {}  # tokens issued lately and what they say: decoding is pure
_known_before: dict[str, "IteratorPosition"] = {}  # the generation before, until _known fills up again
_HEADS_LIMIT = 65_536
# (stream, uid, shard) → [checksum of its payloads' head, the head, a floor, checksum and text to that floor]
_heads: dict[tuple[str, int, str], list] = {}
_last_issued: tuple[float, bytes] = (math.nan, b"nan")  # the last time a token was issued at, and its text


class IteratorPosition(NamedTuple):  # immutable, and quicker to make than a frozen dataclass (one a read)
    stream_name: str
    stream_uid: int
    shard_id: str
    sequence_floor: int  # the next record to read is the first with a sequence number >= this
    issued_at: float


def _checksum(payload: str) -> str:
    return f"{zlib.crc32(payload.encode('utf-8')):08x}"


def encode_iterator(position: IteratorPosition) -> str:
    """``base64("<crc32 of payload>|<payload>")``, payload ``k2|stream|uid|shard|floor|issued``: its text
    up to the floor, and that text's checksum, are kept per shard (a shard's floor changes only when a
    read returns records); the checksum goes on over the time issued."""
    global _known, _known_before, _last_issued
    where = (position.stream_name, position.stream_uid, position.shard_id)
    head = _heads.get(where)
    if head is None:
        if len(_heads) >= _HEADS_LIMIT:
            _heads.clear()
        text = "|".join((_VERSION, *map(str, where), "")).encode("utf-8")
        head = _heads[where] = [zlib.crc32(text), text, None, 0, b""]
    floor = position.sequence_floor
    if head[2] != floor:
        floor_text = f"{floor}|".encode("utf-8")
        head[2:] = floor, zlib.crc32(floor_text, head[0]), head[1] + floor_text
    at = position.issued_at
    if type(at) is float and at == _last_issued[0] and at:  # the instant the last token was issued at
        issued = _last_issued[1]                          # (at a nonzero float's, the same text)
    else:
        issued = repr(at).encode("utf-8")
        if type(at) is float:
            _last_issued = (at, issued)
    token = binascii.b2a_base64(b"%08x|%b%b" % (zlib.crc32(issued, head[3]), head[4], issued),
                                newline=False).decode("ascii")
    if len(_known) >= _KNOWN_LIMIT:
        _known_before, _known = _known, {}
    _known[token] = position
    return token


def decode_iterator(token: str) -> IteratorPosition:
    known = _known.get(token)
    if known is not None:
        return known
    known = _known_before.get(token)
    if known is not None:
        return known
    try:
        text = base64.b64decode(token.encode("ascii"), validate=True).decode("utf-8")
        checksum, payload = text.split("|", 1)
        version, stream_name, uid, shard_id, floor, issued = payload.split("|")
        if version != _VERSION or checksum != _checksum(payload):
            raise ValueError(token)
        return IteratorPosition(stream_name, int(uid), shard_id, int(floor), float(issued))
    except (ValueError, UnicodeError, binascii.Error):
        raise InvalidArgumentException("Invalid ShardIterator.") from None


def _utc(instant: float) -> str:
    return datetime.fromtimestamp(instant, timezone.utc).strftime("%a %b %d %H:%M:%S UTC %Y")


def check_expiry(position: IteratorPosition, now: float) -> None:
    if now - position.issued_at > limits.ITERATOR_LIFETIME_S:
        raise ExpiredIteratorException(
            f"Iterator expired. The iterator was created at time {_utc(position.issued_at)} while right now "
            f"it is {_utc(now)} which is further in the future than the tolerated delay of 300000 milliseconds.")


def starting_floor(stream: StreamState, shard: ShardLog, kind: IteratorType, starting_sequence_number: Optional[str],
                   timestamp: Union[datetime, float, None], now: float, account_id: str) -> int:
    """The lowest sequence number a new iterator of ``kind`` reads from."""
    by_sequence = kind in (IteratorType.AT_SEQUENCE_NUMBER, IteratorType.AFTER_SEQUENCE_NUMBER)
    if (starting_sequence_number is None) == by_sequence:
        given = "also a" if starting_sequence_number is not None else "no"
        raise InvalidArgumentException(
            "Must either specify (1) AT_SEQUENCE_NUMBER or AFTER_SEQUENCE_NUMBER and StartingSequenceNumber "
            "or (2) TRIM_HORIZON or LATEST and no StartingSequenceNumber. "
            f"Request specified {kind.value} and {given} StartingSequenceNumber.")
    if kind is IteratorType.TRIM_HORIZON:
        return shard.starting_sequence_number
    if kind is IteratorType.LATEST:
        return stream.latest_floor(shard)
    if kind is IteratorType.AT_TIMESTAMP:
        return _timestamp_floor(stream, shard, timestamp, now)
    number = int(starting_sequence_number)
    encoded = sequence_number_shard_index(number)
    if encoded is None:
        raise InvalidArgumentException(
            f"StartingSequenceNumber {starting_sequence_number} used in GetShardIterator on shard {shard.shard_id} "
            f"in stream {stream.name} under account {account_id} is invalid.")
    if encoded != shard.index:
        raise InvalidArgumentException(
            f"Invalid StartingSequenceNumber. It encodes shardId-{encoded:012d}, while it was used in a "
            f"call to a shard with {shard.shard_id}")
    return number + 1 if kind is IteratorType.AFTER_SEQUENCE_NUMBER else number


def _timestamp_floor(stream: StreamState, shard: ShardLog, timestamp: Union[datetime, float, None],
                     now: float) -> int:
    if timestamp is None:
        raise InvalidArgumentException(
            "Must specify timestampInMillis parameter for iterator of type AT_TIMESTAMP. "
            "Current request has no timestamp parameter.")
    instant = timestamp.timestamp() if isinstance(timestamp, datetime) else float(timestamp)
    if instant > now:
        raise InvalidArgumentException(
            "The timestampInMillis parameter cannot be greater than the currentTimestampInMillis. "
            f"timestampInMillis: {math.floor(instant * 1000)}, currentTimestampInMillis: {math.floor(now * 1000)}")
    i = shard.first_at_or_after(instant)
    return shard.sequence_number(i) if i < len(shard) else stream.latest_floor(shard)

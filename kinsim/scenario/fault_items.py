"""Reading what a scenario file and an endpoint's fault file share: a file within limits, lag models and
the fault schedule's items (DESIGN §10).

``read_fault`` reads one item of ``faults``: ``at``, one fault word, and ``for`` (throttles and pauses)
or ``hash_key`` (splits). A pause, crash, restart or join names one of the workers it is given.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

from ..backends import limits
from ..errors import ScenarioError
from ..lag import LAG_KINDS, Constant, LagModel
from .reading import MAX_FILE_BYTES, read_document
from .consuming import worker_of
from .schedule import Crash, Fault, FaultAction, Join, Merge, Pause, Restart, ShardCount, Split, Throttle
from .values import Node, built, duration, hash_key, integer, number, positive_duration, shard_id, shown, size

__all__ = ["MAX_FAULTS", "FAULT_WORDS", "read_file", "read_lag", "read_fault"]


def read_file(path: Path) -> Any:
    """The YAML document in the file at ``path``, or a ``ScenarioError`` naming the file."""
    file = str(path)
    try:
        with path.open("rb") as stream:
            data = stream.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        raise ScenarioError(file, "", "no such file") from None
    except OSError as exc:
        raise ScenarioError(file, "", f"cannot read it: {exc.strerror or exc}") from None
    try:
        return read_document(data)
    except ValueError as exc:
        raise ScenarioError(file, "", str(exc)) from None


_LAG_WORDS = tuple(LAG_KINDS)


def read_lag(node: Node) -> LagModel:
    if not isinstance(node.value, dict):
        return Constant(node.convert(duration))
    if len(node.value) != 1:
        raise node.error(f"expected one lag model of {', '.join(LAG_KINDS)}")
    node.mapping(_LAG_WORDS)
    kind = next(iter(node.value))
    model, names, durations = LAG_KINDS[kind]
    spec = node.child(kind)
    raw = spec.value
    if isinstance(raw, dict):
        spec.mapping(names)
        missing = [name for name in names if name not in raw]
        if missing:
            raise spec.error(f"'{missing[0]}' is required ({kind} takes {', '.join(names)})")
        values = [spec.at(name, duration if name in durations else number) for name in names]
    elif isinstance(raw, list):
        if len(raw) != len(names):
            raise spec.error(f"{kind} takes {len(names)} values ({', '.join(names)}), got {len(raw)}")
        values = [spec.at(i, duration if name in durations else number) for i, name in enumerate(names)]
    elif len(names) == 1:
        values = [spec.convert(duration if names[0] in durations else number)]
    else:
        raise spec.error(f"{kind} takes {', '.join(names)}, e.g. [{', '.join('20s' for _ in names)}]")
    return built(spec, lambda: model(*values))


MAX_FAULTS = 1_000  # checking a schedule replays its reshards on a simulated stream: this bounds that work
FAULT_WORDS = ("split", "merge", "shard_count", "throttle", "pause", "crash", "restart", "join")
_SPANS = ("throttle", "pause")
# a throttle lowers a shard's limits: each at least 1 and at most the service's
_THROTTLE_LIMITS = (("records_per_s", integer, limits.SHARD_WRITE_RECORDS_PER_S, "records/s"),
                    ("bytes_per_s", size, limits.SHARD_WRITE_BYTES_PER_S, "bytes/s"),
                    ("reads_per_s", integer, limits.SHARD_READ_CALLS_PER_S, "reads/s"),
                    ("read_bytes_per_s", size, limits.SHARD_READ_BYTES_PER_S, "read bytes/s"))


def read_fault(node: Node, workers: tuple[str, ...]) -> Fault:
    """One item of ``faults``: ``at``, one fault word, and ``for`` (throttles and pauses) or ``hash_key``
    (splits). A pause, crash, restart or join names one of ``workers``."""
    node.mapping(("at", "for", "hash_key") + FAULT_WORDS)
    words = [key for key in node.value if key in FAULT_WORDS]
    if not words:
        raise node.error(f"a fault needs one of {', '.join(FAULT_WORDS)}")
    if len(words) > 1:
        raise node.child(words[1]).error(f"one fault per item: this one already has '{words[0]}'")
    word = words[0]
    at = node.get("at", duration, required=True)
    if node.has("hash_key") and word != "split":
        raise node.child("hash_key").error("hash_key goes with split only")
    if word in _SPANS:
        length = node.get("for", positive_duration, required=True)
    elif node.has("for"):
        raise node.child("for").error(f"a {word} happens at an instant: it takes no 'for'")
    else:
        length = None
    action = _action(node.child(word), word, node.get("hash_key", hash_key), workers)
    return built(node, lambda: Fault(at, action, length, node.path))


def _action(node: Node, word: str, key: Optional[int], workers: tuple[str, ...]) -> FaultAction:
    if word == "split":
        return Split(node.convert(shard_id), key)
    if word == "merge":
        items = node.items()
        if len(items) != 2:
            raise node.error(f"expected two adjacent shards, [ID, ID], got {len(items)}")
        ids = tuple(item.convert(shard_id) for item in items)
        return built(node, lambda: Merge(ids))
    if word == "shard_count":
        target = node.convert(integer)
        return built(node, lambda: ShardCount(target))
    if word == "throttle":
        return _throttle(node)
    worker = worker_of(node, workers)
    return {"pause": Pause, "crash": Crash, "restart": Restart, "join": Join}[word](worker)


def _throttle(node: Node) -> Throttle:
    node.mapping(("shards",) + tuple(key for key, *_ in _THROTTLE_LIMITS))
    shards: Optional[tuple[str, ...]] = None
    if node.value.get("shards") not in (None, "all"):
        where = node.child("shards")
        if not isinstance(where.value, list):
            raise where.error(f"expected 'all' or a list of shard ids, got {shown(where.value)}")
        items = where.items()
        if not items:
            raise where.error("expected 'all' or a list of shard ids, got an empty list")
        ids = [item.convert(shard_id) for item in items]
        for j, shard in enumerate(ids):
            if shard in ids[:j]:
                raise items[j].error(f"{shard} is already listed at {items[ids.index(shard)].path}")
        shards = tuple(ids)
    found = {}
    for key, convert, most, unit in _THROTTLE_LIMITS:
        value = node.get(key, convert)
        if value is not None and not 1 <= value <= most:
            raise node.child(key).error(f"a throttle lowers the shard's limit of {most:,} {unit}: give 1 to "
                                        f"{most:,}, got {shown(node.value[key])}")
        found[key] = value
    if all(value is None for value in found.values()):
        raise node.error("a throttle lowers at least one of records_per_s, bytes_per_s, reads_per_s, "
                         "read_bytes_per_s")
    return built(node, lambda: Throttle(shards, **found))



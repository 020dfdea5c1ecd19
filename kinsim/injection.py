"""Fault files for an endpoint (``kinsim serve --faults FILE``, ``kinsim.mock(faults=...)``).

The scenario's ``faults:`` vocabulary (DESIGN §10) — ``split``, ``merge``, ``shard_count`` and a
``throttle`` of lowered shard limits — plus what emulator users ask for, each seeded:

```yaml
seed: 7                                   # optional; --seed wins
faults:
  - {at: 2m, for: 1m, throttle: {shards: all, records_per_s: 100}}     # a throttling burst
  - {at: 3m, split: shardId-000000000000, stream: words}               # a reshard on a schedule
  - {error: ProvisionedThroughputExceededException, rate: 0.1, operations: [PutRecords]}
  - {at: 5m, for: 30s, error: ServiceUnavailable}                      # every call, for 30 s
  - {latency: {uniform: [50ms, 250ms]}, operations: [GetRecords]}      # a lag model, as producers'
  - {partial: InternalFailure, rate: 0.2}  # each record of a PutRecords fails alone at this rate
  - {drop: after, rate: 0.01}              # the connection closes: before (not done) or after (done)
```

Every item has ``at`` (default 0: from the endpoint's start) and ``for`` (required for a throttle; else
default: for good). The new words take ``rate`` (default 1: every matching call) and ``operations``
(default: all). ``stream`` names the stream a reshard or throttle acts on; without it, a reshard acts
on the only stream there is at that instant and a throttle on every stream, those created during it
too. Worker faults (``pause``, ``crash``, ...) are for a scenario's workers: an endpoint has none.

When an error and a drop both hit one call, the first in the file is done (a drop after answering loses
an error answer too). Each injected fault draws from its own generator, seeded by the plan's seed and
its place in the file, so a client that makes the same calls in the same order meets the same faults.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Optional, Union

from .lag import LagModel
from .protocol import operation_names
from .scenario.fault_items import FAULT_WORDS, MAX_FAULTS, read_fault, read_file, read_lag
from .scenario.schedule import Fault
from .scenario.values import Node, duration, integer, number, positive_duration, shown, stream_name

__all__ = ["ERROR_CODES", "PARTIAL_CODES", "Injected", "StreamFault", "FaultPlan", "FaultsLike", "load_faults",
           "parse_faults", "as_plan", "describe"]

#: codes an ``error`` fault may answer with
ERROR_CODES = ("ProvisionedThroughputExceededException", "LimitExceededException", "InternalFailure",
               "ServiceUnavailable", "ExpiredIteratorException", "KMSThrottlingException")
#: codes a record of a PutRecords batch may fail with alone
PARTIAL_CODES = ("ProvisionedThroughputExceededException", "InternalFailure")
_INJECTED_WORDS = ("error", "latency", "partial", "drop")
_STREAM_WORDS = ("split", "merge", "shard_count", "throttle")
_WORKER_WORDS = tuple(word for word in FAULT_WORDS if word not in _STREAM_WORDS)


@dataclass(frozen=True)
class Injected:
    """A fault the endpoint answers with: ``kind`` is error, latency, partial or drop."""

    kind: str
    at: float
    until: Optional[float]             # None: for good
    rate: float
    operations: Optional[frozenset[str]]  # None: every operation
    path: str
    code: str = ""                     # error and partial
    latency: Optional[LagModel] = None
    drop: str = ""                     # before | after

    def applies(self, operation: str, elapsed: float) -> bool:
        if self.operations is not None and operation not in self.operations:
            return False
        return self.at <= elapsed and (self.until is None or elapsed < self.until)

    def shifted(self, by: float) -> "Injected":
        """The same fault, its times counted from ``by`` seconds later."""
        return replace(self, at=self.at + by, until=None if self.until is None else self.until + by)


@dataclass(frozen=True)
class StreamFault:
    """A scenario fault the endpoint carries out on a stream: ``stream`` None as the module says."""

    fault: Fault
    stream: Optional[str]


@dataclass(frozen=True)
class FaultPlan:
    seed: int = 0
    injected: tuple[Injected, ...] = ()
    stream_faults: tuple[StreamFault, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.injected or self.stream_faults)


FaultsLike = Union[None, FaultPlan, str, Path, list, dict]


def load_faults(path: Union[str, Path]) -> FaultPlan:
    """Read and check a fault file."""
    path = Path(path)
    return parse_faults(read_file(path), str(path))


def parse_faults(document: Any, file: str = "<faults>") -> FaultPlan:
    """A plan from a parsed document: a mapping with ``faults`` (and ``seed``), or the list alone."""
    root = Node(document, "", file)
    if isinstance(document, list):
        document = {"faults": document}
        root = Node(document, "", file)
    if document is None:
        return FaultPlan()
    root.mapping(("seed", "faults"))
    seed = root.get("seed", integer, 0)
    items = root.child("faults").items() if document.get("faults") is not None else []
    if len(items) > MAX_FAULTS:
        raise root.child("faults").error(f"a fault file holds at most {MAX_FAULTS:,} faults, got {len(items):,}")
    injected, stream_faults = [], []
    for node in items:
        node.mapping(("at", "for", "hash_key", "rate", "operations", "stream") + _STREAM_WORDS + _INJECTED_WORDS
                     + _WORKER_WORDS)
        words = [key for key in node.value if key in _STREAM_WORDS + _INJECTED_WORDS + _WORKER_WORDS]
        if not words:
            raise node.error(f"a fault needs one of {', '.join(_STREAM_WORDS + _INJECTED_WORDS)}")
        if len(words) > 1:
            raise node.child(words[1]).error(f"one fault per item: this one already has '{words[0]}'")
        word = words[0]
        if word in _WORKER_WORDS:
            raise node.child(word).error(f"a {word} acts on a scenario's workers; an endpoint has none")
        if word in _STREAM_WORDS:
            stream_faults.append(_stream_fault(node, word))
        else:
            injected.append(_injected(node, word))
    return FaultPlan(seed, tuple(injected), tuple(stream_faults))


def as_plan(faults: FaultsLike, seed: Optional[int] = None) -> FaultPlan:
    """A plan from what a caller may give: a plan, a file's path, a parsed document, or nothing."""
    if faults is None:
        plan = FaultPlan()
    elif isinstance(faults, FaultPlan):
        plan = faults
    elif isinstance(faults, (str, Path)):
        plan = load_faults(faults)
    else:
        plan = parse_faults(faults)
    if seed is not None:
        plan = FaultPlan(seed, plan.injected, plan.stream_faults)
    return plan


def _stream_fault(node: Node, word: str) -> StreamFault:
    for key in ("rate", "operations"):
        if node.has(key):
            raise node.child(key).error(f"a {word} acts on the stream, not on calls: it takes no '{key}'")
    stream = node.get("stream", stream_name, None)
    item = {key: value for key, value in node.value.items() if key != "stream"}
    item.setdefault("at", 0)
    return StreamFault(read_fault(Node(item, node.path, node.file), ()), stream)


def _injected(node: Node, word: str) -> Injected:
    if node.has("hash_key"):
        raise node.child("hash_key").error("hash_key goes with split only")
    if node.has("stream"):
        raise node.child("stream").error(f"a {word} acts on calls to any stream: it takes no 'stream'")
    at = node.get("at", duration, 0.0)
    length = node.get("for", positive_duration, None)
    rate = node.get("rate", number, 1.0)
    if not 0 < rate <= 1:
        raise node.child("rate").error(f"a rate is a fraction of the calls, above 0 and at most 1, got "
                                       f"{shown(node.value['rate'])}")
    operations = _operations(node.child("operations")) if node.value.get("operations") is not None else None
    fields: dict[str, Any] = dict(kind=word, at=at, until=None if length is None else at + length, rate=rate,
                                  operations=operations, path=node.path)
    value = node.child(word)
    if word == "error":
        fields["code"] = _one_of(value, ERROR_CODES)
    elif word == "partial":
        if operations is not None and operations != {"PutRecords"}:
            raise node.child("operations").error("a partial failure is of PutRecords' records only")
        fields["code"] = _one_of(value, PARTIAL_CODES)
        fields["operations"] = frozenset({"PutRecords"})
    elif word == "latency":
        fields["latency"] = read_lag(value)
    else:
        fields["drop"] = _one_of(value, ("before", "after"))
    return Injected(**fields)


def _one_of(node: Node, choices: tuple[str, ...]) -> str:
    if node.value not in choices:
        raise node.error(f"expected one of {', '.join(choices)}, got {shown(node.value)}")
    return node.value


def _operations(node: Node) -> frozenset[str]:
    names = []
    for item in node.items():
        if item.value not in operation_names():
            raise item.error(f"no Kinesis operation is called {shown(item.value)} (e.g. PutRecords, GetRecords)")
        names.append(item.value)
    if not names:
        raise node.error("expected at least one operation")
    return frozenset(names)


def describe(fault: Union[Injected, StreamFault]) -> str:
    """One line for statistics and messages."""
    if isinstance(fault, StreamFault):
        return fault.fault.describe() + (f" on {fault.stream}" if fault.stream else "")
    if fault.kind == "latency":
        what = f"add latency {fault.latency.describe()}"
    else:
        what = {"error": f"answer {fault.code}", "partial": f"fail PutRecords records with {fault.code}",
                "drop": f"drop the connection {fault.drop} answering"}[fault.kind]
    return what + ("" if fault.rate == 1 else f" at rate {fault.rate:g}")


"""``Endpoint``: the Kinesis service as the protocol front ends serve it (DESIGN §14).

One endpoint is simulated shards (a ``MemoryBackend``) on one clock, the api layer over them, a fault
plan (``kinsim.injection``) and statistics. ``exchange(headers, body)`` takes one HTTP request as a
client sent it and gives back what to do: the answer's bytes, how long to wait first (injected
latency), or that the connection drops. ``kinsim.mock()`` hands it the requests botocore was about to
send; ``kinsim serve`` the requests that reach its socket. Both answer the same bytes for the same
requests, which the tests hold them to.

Calls are answered one at a time (a lock), so clients on several threads or connections see the
stream as the service would: each call whole, in some order. A reshard or throttle fault is applied
on the endpoint's clock at its instant (a manual clock: when it is moved past it); an injected fault
is drawn when a call it covers arrives.
"""

from __future__ import annotations

import random
import threading
from collections import Counter
from dataclasses import dataclass
from typing import Any, Mapping, Optional

from .api import KinesisApi, put_request
from .backends.memory import MemoryBackend
from .clock import Clock, ManualClock, WallClock
from .errors import FaultError, KinesisError, kinesis_error
from .injection import FaultPlan, FaultsLike, Injected, StreamFault, as_plan, describe
from .protocol import Reply, error_reply, read_request, reply
from .scenario.schedule import Throttle
from .simulation.disruptions import lowered_limits, reshard

__all__ = ["Endpoint", "Exchange"]

Params = dict[str, Any]

_MESSAGES = {
    "ProvisionedThroughputExceededException": "Rate exceeded (injected by kinsim).",
    "LimitExceededException": "Rate exceeded (injected by kinsim).",
    "InternalFailure": "Internal service failure (injected by kinsim).",
    "ServiceUnavailable": "Service Unavailable (injected by kinsim).",
    "ExpiredIteratorException": "Iterator expired (injected by kinsim).",
    "KMSThrottlingException": "Rate exceeded for KMS (injected by kinsim).",
}


@dataclass(frozen=True)
class Exchange:
    """What to do with one request: wait ``delay`` seconds, then send ``reply`` (None: close the
    connection without an answer)."""

    operation: str
    reply: Optional[Reply]
    delay: float
    request_id: str


class Endpoint:
    """Simulated Kinesis behind a protocol front end. ``clock``: a ``WallClock`` by default (a live
    endpoint); a ``ManualClock`` for virtual time. ``faults``: a ``FaultPlan``, a fault file's path, or
    its parsed document; ``seed`` overrides the plan's. The other options are ``MemoryBackend``'s."""

    def __init__(self, clock: Optional[Clock] = None, *, faults: FaultsLike = None, seed: Optional[int] = None,
                 throttling: bool = True, region: str = "us-east-1", account_id: str = "000000000000",
                 **backend_options: Any) -> None:
        self.clock = clock if clock is not None else WallClock()
        self._backend_options = dict(throttling=throttling, region=region, account_id=account_id, **backend_options)
        self._plan = as_plan(faults, seed)
        self._lock = threading.RLock()
        self._generation = 0
        self.reset()

    # -- state ------------------------------------------------------------------------------------
    def reset(self) -> None:
        """No streams, statistics from zero, the fault plan from its start again (now)."""
        with self._lock:
            self._generation += 1
            self.backend = MemoryBackend(self.clock, **self._backend_options)
            self.api = KinesisApi(self.backend)
            self.start = self.clock.now()
            self._injected: list[tuple[Injected, random.Random, Counter]] = []  # each with its own counts
            self._requests = 0
            self._stats = _Statistics()
            self._add(self._plan, 0.0)

    def add_faults(self, faults: FaultsLike, seed: Optional[int] = None) -> None:
        """More faults, their times counted from now."""
        with self._lock:
            self._add(as_plan(faults, seed), self.clock.now() - self.start)

    def clear_faults(self) -> None:
        """No more faults: injected ones stop, scheduled reshards and throttles are called off, and lowered
        limits are the service's again."""
        with self._lock:
            self._generation += 1
            self._injected = []
            self.backend.limit_all(None)

    def _add(self, plan: FaultPlan, offset: float) -> None:
        base = len(self._injected)
        for i, fault in enumerate(plan.injected):
            self._injected.append((fault.shifted(offset), random.Random(f"{plan.seed}/{base + i}"), Counter()))
        generation = self._generation
        for stream_fault in plan.stream_faults:
            fault = stream_fault.fault
            self._at(offset + fault.at, generation, lambda sf=stream_fault: self._stream_fault(sf, start=True))
            if isinstance(fault.action, Throttle):
                self._at(offset + fault.end, generation, lambda sf=stream_fault: self._stream_fault(sf, start=False))

    def _at(self, elapsed: float, generation: int, call) -> None:
        def due(_instant: float) -> None:
            if generation == self._generation:
                with self._lock:
                    call()
        self.clock.call_after(max(0.0, self.start + elapsed - self.clock.now()), due)

    def _stream_fault(self, stream_fault: StreamFault, start: bool) -> None:
        fault, elapsed = stream_fault.fault, self.clock.now() - self.start
        try:
            outcome = self._carry_out(stream_fault, start)
        except (KinesisError, FaultError) as exc:
            outcome = f"refused: {exc}"
        self._stats.stream_faults.append({"path": fault.path, "fault": describe(stream_fault),
                                          "at_s": round(elapsed, 3), "outcome": outcome})

    def _carry_out(self, stream_fault: StreamFault, start: bool) -> str:
        action, names = stream_fault.fault.action, self.backend.list_streams()
        stream = stream_fault.stream
        if isinstance(action, Throttle):
            limits = lowered_limits(action) if start else None
            if stream is None and action.shards is None:
                self.backend.limit_all(limits)
                return "limits lowered on every stream" if start else "limits restored"
            stream = stream or _only(names)
            self.backend.limit_shards(stream, limits, action.shards)
            return f"limits lowered on {stream}" if start else f"limits restored on {stream}"
        return reshard(self.backend, stream or _only(names), action, stream_fault.fault)

    # -- one request ------------------------------------------------------------------------------
    def exchange(self, headers: Mapping[str, str], body: bytes, query: str = "") -> Exchange:
        """What to answer one HTTP request with (see ``Exchange``)."""
        with self._lock:
            self._requests += 1
            request_id = f"{self._requests:08x}-0000-4000-8000-{self._generation:012x}"
            try:
                operation, params, content_type = read_request(headers, body, query)
            except KinesisError as exc:
                return self._done("(unreadable)", error_reply(exc), 0.0, request_id)
            elapsed = self.clock.now() - self.start  # (reading the clock runs what is due first)
            delay, drop, error, partial = 0.0, "", None, []
            for fault, rng, hits in self._injected:
                if not fault.applies(operation, elapsed):
                    continue
                if fault.kind == "partial":
                    partial.append((fault, rng, hits))
                    continue
                if fault.rate < 1 and rng.random() >= fault.rate:
                    continue
                if fault.kind == "latency":
                    seconds = fault.latency.sample(rng)
                    delay += seconds
                    hits["calls"] += 1
                    self._stats.injected["latency_s"] += seconds
                elif error is None and not drop:  # the first error or drop that hits is the one done
                    if fault.kind == "drop":
                        drop = fault.drop
                    else:
                        error = kinesis_error(fault.code, _MESSAGES[fault.code])
                    hits["calls"] += 1
            if drop == "before":
                self._stats.injected["dropped_before"] += 1
                self._stats.add("records_unanswered", _records_sent(operation, params))
                return self._done(operation, None, delay, request_id)
            if error is not None:
                self._stats.injected[f"error:{error.code}"] += 1
                return self._done(operation, error_reply(error, content_type), delay, request_id)
            response: Optional[Params] = None
            try:
                response = self._call(operation, params, partial)
                answer = reply(operation, response, content_type)
            except KinesisError as exc:
                answer = error_reply(exc, content_type)
            if drop == "after":  # done, error or not, and the answer lost
                self._stats.injected["dropped_after"] += 1
                self._stats.add("records_unanswered", _records_sent(operation, params))
                self._stats.add("records_written_unanswered", _records_written(operation, response))
                answer = None
            return self._done(operation, answer, delay, request_id, response)

    def call(self, operation: str, params: Params) -> Params:
        """One operation through the api layer, with no faults: for admin and tests."""
        with self._lock:
            return self.api.handle(operation, params)

    def _call(self, operation: str, params: Params, partial: list) -> Params:
        if operation != "PutRecords" or not partial:
            return self.api.handle(operation, params)
        stream_name, records = put_request(params)
        self.backend.check_put_records(stream_name, records)  # a call the service refuses whole fails whole
        failing: dict[int, str] = {}
        for i in range(len(records)):
            for fault, rng, hits in partial:
                if rng.random() < fault.rate and i not in failing:
                    failing[i] = fault.code
                    hits["records"] += 1
        if not failing:
            return self.api.handle(operation, params)
        kept = [record for i, record in enumerate(params["Records"]) if i not in failing]
        answered = iter(self.api.handle(operation, dict(params, Records=kept))["Records"] if kept else ())
        results = []
        for i in range(len(records)):
            if i in failing:
                self._stats.injected[f"partial:{failing[i]}"] += 1
                results.append({"ErrorCode": failing[i], "ErrorMessage": _MESSAGES[failing[i]]})
            else:
                results.append(next(answered))
        return {"FailedRecordCount": sum("ErrorCode" in r for r in results), "Records": results}

    def _done(self, operation: str, answer: Optional[Reply], delay: float, request_id: str,
              response: Optional[Params] = None) -> Exchange:
        self._stats.count(operation, answer, response)
        return Exchange(operation, answer, delay, request_id)

    # -- statistics -------------------------------------------------------------------------------
    def statistics(self) -> dict[str, Any]:
        """What the endpoint has answered since its start or last reset, as JSON-ready values."""
        with self._lock:
            now = self.clock.now()
            faults = [{"path": fault.path, "fault": describe(fault), "kind": fault.kind,
                       **dict(sorted(hits.items()))} for fault, _, hits in self._injected]
            return {"clock": now, "elapsed_s": round(now - self.start, 6), "requests": self._requests,
                    **self._stats.as_dict(), "faults": faults}

    @property
    def manual(self) -> bool:
        return isinstance(self.clock, ManualClock)

    def advance(self, seconds: float) -> float:
        """Move a manual clock by ``seconds``, between two calls (what falls due on the way happens); a
        ``ValueError`` for a wall clock or a step back."""
        if not self.manual:
            raise ValueError("the clock is the wall clock; only a manual one is moved")
        with self._lock:
            return self.clock.advance(seconds)  # type: ignore[union-attr]


class _Statistics:
    def __init__(self) -> None:
        self.operations: dict[str, Counter] = {}
        self.statuses: Counter = Counter()
        self.injected: Counter = Counter()
        self.records: Counter = Counter()
        self.stream_faults: list[dict] = []

    def add(self, key: str, count: int) -> None:
        if count:
            self.injected[key] += count

    def count(self, operation: str, answer: Optional[Reply], response: Optional[Params]) -> None:
        calls = self.operations.setdefault(operation, Counter())
        calls["calls"] += 1
        if answer is None:
            calls["dropped"] += 1
            self.statuses["dropped"] += 1
        else:
            self.statuses[str(answer.status)] += 1
            if answer.status != 200:
                calls["errors"] += 1
        self.records["put"] += _records_written(operation, response)
        if response is not None and operation == "GetRecords":
            self.records["read"] += len(response["Records"])

    def as_dict(self) -> dict[str, Any]:
        injected: dict[str, Any] = {}
        for key, value in sorted(self.injected.items()):
            kind, _, code = key.partition(":")
            if code:
                injected.setdefault(kind + "s" if kind == "error" else kind + "_records", {})[code] = value
            else:
                injected[key] = round(value, 6) if isinstance(value, float) else value
        return {"answers": dict(sorted(self.statuses.items())),
                "operations": {name: dict(sorted(c.items())) for name, c in sorted(self.operations.items())},
                "records": {"put": self.records["put"], "read": self.records["read"]},
                "injected": injected, "stream_faults": list(self.stream_faults)}


def _records_sent(operation: str, params: Params) -> int:
    """Records a put carried (0 for other calls): what a client whose answer was lost cannot account for."""
    if operation == "PutRecord":
        return 1
    if operation == "PutRecords":
        return len(params.get("Records") or ())
    return 0


def _records_written(operation: str, response: Optional[Params]) -> int:
    if response is None:
        return 0
    if operation == "PutRecord":
        return 1
    if operation == "PutRecords":
        return len(response["Records"]) - response["FailedRecordCount"]
    return 0


def _only(names: list[str]) -> str:
    if len(names) != 1:
        raise FaultError(f"the fault names no stream and there are {len(names)}: give it 'stream'")
    return names[0]




"""What ``kinsim serve`` answers one HTTP request with, whichever HTTP it came over: HTTP/1.1 (aiohttp,
``kinsim.serve``) and HTTP/2 (``kinsim.serve_h2``) hand ``respond`` the same method, path, query,
headers and body, and send what it gives back.

The Kinesis protocol is answered on any path by the ``Endpoint`` (after its injected latency; None is an
injected dropped answer). Admin paths under ``/_kinsim/`` answer JSON:

- ``GET  /_kinsim/stats``          what was answered: per operation, per status, injected faults, records
- ``GET  /_kinsim/clock``          ``{"now": seconds, "manual": bool}``
- ``POST /_kinsim/clock/advance``  ``{"seconds": N}``: move a manual clock (what falls due on the way happens)
- ``POST /_kinsim/reset``          no streams, statistics from zero, the fault plan from its start
- ``POST /_kinsim/faults``         a fault document (JSON or YAML, the fault file's vocabulary), from now
- ``DELETE /_kinsim/faults``       no more faults

A known admin path with another method is a 405; any other path under ``/_kinsim/`` is a Kinesis request.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any, Callable, Mapping, Optional

from .endpoint import Endpoint
from .errors import ScenarioError
from .protocol import Reply

__all__ = ["ADMIN", "MAX_BODY", "respond", "admin"]

ADMIN = "/_kinsim/"
MAX_BODY = 16 * 1024 * 1024  # the largest request body read (PutRecords is at most 5 MiB of data)
JSON_UTF8 = "application/json; charset=utf-8"


async def respond(endpoint: Endpoint, speed: float, method: str, path: str, query: str,
                  headers: Mapping[str, str], body: bytes) -> Optional[Reply]:
    """The answer to one request, sent after its injected latency (slept at ``speed``: a faster clock
    waits less real time); None: the answer is dropped (an injected fault). A Kinesis answer carries the
    request id (``x-amzn-RequestId``) first among its headers."""
    if path.startswith(ADMIN):
        answer = admin(endpoint, method, path[len(ADMIN):], body)
        if answer is not None:
            return answer
    exchange = endpoint.exchange(headers, body, query)
    if exchange.delay > 0:
        await asyncio.sleep(exchange.delay / speed)
    reply = exchange.reply
    if reply is None:
        return None
    return Reply(reply.status, reply.body, reply.content_type,
                 (("x-amzn-RequestId", exchange.request_id),) + reply.headers)


def admin(endpoint: Endpoint, method: str, path: str, body: bytes) -> Optional[Reply]:
    """The answer on admin path ``/_kinsim/<path>``; None where ``path`` is not one."""
    route = _ROUTES.get((method, path))
    if route is not None:
        return route(endpoint, body)
    if any(known == path for _, known in _ROUTES):
        allowed = ", ".join(sorted(m for m, known in _ROUTES if known == path))
        return _json({"error": f"{ADMIN}{path} answers {allowed}, not {method}"}, 405)
    return None


def _json(document: Any, status: int = 200) -> Reply:
    return Reply(status, json.dumps(document, sort_keys=True).encode("utf-8"), JSON_UTF8)


def _document(body: bytes, yaml_too: bool = False) -> Any:
    if not body.strip():
        return {}
    if yaml_too:
        from .scenario.reading import read_document

        try:
            return read_document(body)
        except ValueError as exc:
            raise ScenarioError("<request>", "", str(exc)) from None
    try:
        return json.loads(body)
    except ValueError:
        return None


def _stats(endpoint: Endpoint, body: bytes) -> Reply:
    return _json(endpoint.statistics())


def _clock(endpoint: Endpoint, body: bytes) -> Reply:
    return _json({"now": endpoint.clock.now(), "manual": endpoint.manual})


def _advance(endpoint: Endpoint, body: bytes) -> Reply:
    if not endpoint.manual:
        return _json({"error": "the clock is the wall clock: start serve with --clock manual to move it"}, 409)
    document = _document(body)
    seconds = document.get("seconds") if isinstance(document, dict) else None
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not 0 <= seconds < float("inf"):
        return _json({"error": "give {\"seconds\": N}, a number of seconds at least 0"}, 400)
    try:
        endpoint.advance(seconds)
    except ValueError as exc:
        return _json({"error": str(exc)}, 400)
    return _json({"now": endpoint.clock.now(), "manual": True})


def _reset(endpoint: Endpoint, body: bytes) -> Reply:
    endpoint.reset()
    return _json({"reset": True, "now": endpoint.clock.now()})


def _add_faults(endpoint: Endpoint, body: bytes) -> Reply:
    try:
        endpoint.add_faults(_document(body, yaml_too=True))
    except ScenarioError as exc:
        return _json({"error": str(exc)}, 400)
    return _json({"faults": endpoint.statistics()["faults"]})


def _clear_faults(endpoint: Endpoint, body: bytes) -> Reply:
    endpoint.clear_faults()
    return _json({"faults": []})


_ROUTES: dict[tuple[str, str], Callable[[Endpoint, bytes], Reply]] = {
    ("GET", "stats"): _stats,
    ("GET", "clock"): _clock,
    ("POST", "clock/advance"): _advance,
    ("POST", "reset"): _reset,
    ("POST", "faults"): _add_faults,
    ("DELETE", "faults"): _clear_faults,
}

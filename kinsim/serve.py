"""``python -m kinsim serve``: simulated Kinesis over HTTP, for any SDK and the AWS CLI (DESIGN §14).

The Kinesis protocol (JSON 1.1 and CBOR 1.1, ``kinsim.protocol``) is answered by an ``Endpoint`` on
any path, and admin paths under ``/_kinsim/`` answer JSON (``kinsim.routes``: stats, clock, reset,
faults), over HTTP/1.1 and HTTP/2 alike.

It runs on aiohttp: one asyncio event loop owns the simulated service, so calls are answered whole, one
at a time, with no locks on the hot path, while any number of clients stay connected (HTTP/1.1
keep-alive) and injected latency waits without holding anyone else up. aiohttp is well kept, parses
HTTP in C, and stops gracefully. HTTP/2 cleartext with prior knowledge (h2c, what the AWS SDK for
JavaScript v3 speaks by default) is answered on the same port by ``kinsim.serve_h2``: a connection goes
by its first bytes to aiohttp or to an HTTP/2 handler on the ``h2`` library. On SIGINT or SIGTERM the
socket closes, HTTP/2 clients are told GOAWAY, requests in flight over either are answered (up to
``GRACE_S``), then the process exits.

It binds 127.0.0.1 unless told otherwise, and says so loudly when told.
"""

from __future__ import annotations

import asyncio
import functools
import ipaddress
import signal
import sys
import threading
import time
from typing import Any, Optional

from aiohttp import web

from .clock import FunctionClock, ManualClock
from .endpoint import Endpoint
from .routes import ADMIN, MAX_BODY, respond
from .serve_h2 import Connections, Site

__all__ = ["Server", "make_app", "serve", "speed_clock", "GRACE_S"]

GRACE_S = 10.0  # how long a stopping server waits for requests in flight


def speed_clock(speed: float = 1.0) -> FunctionClock:
    """The wall clock, ``speed`` times as fast from now on (``--clock wall --speed F``)."""
    origin = time.time()
    if speed == 1.0:
        return FunctionClock(time.time)
    return FunctionClock(lambda: origin + (time.time() - origin) * speed)


def make_app(endpoint: Endpoint, speed: float = 1.0) -> web.Application:
    """The aiohttp application serving ``endpoint`` over HTTP/1.1 (``kinsim.routes``); latency is slept
    at ``speed`` (a faster clock waits less real time for the same simulated latency)."""
    app = web.Application(client_max_size=MAX_BODY)

    async def answer(request: web.Request) -> web.StreamResponse:
        body = await request.read()
        reply = await respond(endpoint, speed, request.method, request.path, request.query_string,
                              request.headers, body)
        if reply is None:  # an injected dropped connection
            if request.transport is not None:
                request.transport.abort()
            raise asyncio.CancelledError()  # as when a client goes away: no answer, nothing logged
        return web.Response(status=reply.status, body=reply.body,
                            headers={"Content-Type": reply.content_type, **dict(reply.headers)})

    app.router.add_route("*", "/{path:.*}", answer)
    return app


class Server:
    """``kinsim serve`` in a thread of this process: for tests and the pytest plugin.

        with Server(Endpoint(ManualClock(start))) as server:
            boto3.client("kinesis", endpoint_url=server.endpoint_url, ...)
    """

    def __init__(self, endpoint: Optional[Endpoint] = None, host: str = "127.0.0.1", port: int = 0,
                 speed: float = 1.0) -> None:
        self.endpoint = endpoint if endpoint is not None else Endpoint(ManualClock(time.time()))
        self.host, self.port, self.speed = host, port, speed
        self._loop: Optional[asyncio.AbstractEventLoop] = None
        self._runner: Optional[web.AppRunner] = None
        self._thread: Optional[threading.Thread] = None

    @property
    def endpoint_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def advance(self, seconds: float) -> float:
        """Move a manual clock by ``seconds`` (what falls due on the way happens), between two calls."""
        return self.endpoint.advance(seconds)

    def statistics(self) -> dict[str, Any]:
        return self.endpoint.statistics()

    def start(self) -> "Server":
        started = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            try:
                self._runner, self.port = loop.run_until_complete(_start(self.endpoint, self.host, self.port,
                                                                          self.speed))
            except BaseException as exc:  # noqa: BLE001 - handed to the starting thread
                failure.append(exc)
                started.set()
                loop.close()
                return
            started.set()
            loop.run_forever()
            loop.run_until_complete(self._runner.cleanup())
            loop.close()

        self._thread = threading.Thread(target=run, name="kinsim-serve", daemon=True)
        self._thread.start()
        started.wait()
        if failure:
            raise failure[0]
        return self

    def stop(self) -> None:
        if self._loop is not None and self._thread is not None and self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(GRACE_S + 5)

    def __enter__(self) -> "Server":
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"<kinsim serve at {self.endpoint_url}>"


async def _start(endpoint: Endpoint, host: str, port: int, speed: float) -> tuple[web.AppRunner, int]:
    """aiohttp's runner with a site answering HTTP/1.1 (aiohttp) and HTTP/2 (``kinsim.serve_h2``) on
    one port: its cleanup stops listening, then answers what is in flight over both."""
    app = make_app(endpoint, speed)
    connections = Connections(functools.partial(respond, endpoint, speed))

    async def stop(_app: web.Application) -> None:
        await connections.stop(GRACE_S)

    async def stopped(_app: web.Application) -> None:
        await connections.stopped()

    app.on_shutdown.append(stop)  # HTTP/2 waits beside aiohttp's wait for HTTP/1.1, not after it
    app.on_cleanup.append(stopped)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=GRACE_S)
    await runner.setup()
    site = Site(runner, host, port, connections)
    await site.start()
    bound = runner.addresses[0][1] if runner.addresses else port
    return runner, bound


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def serve(endpoint: Endpoint, host: str = "127.0.0.1", port: int = 4567, speed: float = 1.0,
          announce=print) -> int:
    """Serve until SIGINT or SIGTERM; then answer what is in flight and return 0."""
    async def main() -> int:
        runner, bound = await _start(endpoint, host, port, speed)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        clock = "manual" if endpoint.manual else ("wall" if speed == 1.0 else f"wall x{speed:g}")
        announce(f"kinsim serve: Kinesis at http://{host}:{bound} (clock {clock}); admin at "
                 f"http://{host}:{bound}{ADMIN}stats; stop with Ctrl-C")
        await stop.wait()
        await runner.cleanup()  # stops listening, then waits for requests in flight
        answered = endpoint.statistics()["requests"]
        announce(f"kinsim serve: stopped after {answered:,} request{'s' if answered != 1 else ''}")
        return 0

    if not is_loopback(host):
        print(f"kinsim serve: WARNING: listening on {host}, not on loopback: anyone who can reach this machine "
              "can read and write these streams, with no credentials checked", file=sys.stderr, flush=True)
    return asyncio.run(main())

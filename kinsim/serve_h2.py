"""HTTP/2 beside HTTP/1.1 on ``kinsim serve``'s one port: cleartext HTTP/2 with prior knowledge (h2c),
as the AWS SDK for JavaScript v3 speaks it to an ``http://`` endpoint by default.

Each accepted connection starts with ``FirstBytes``, which reads until the bytes either are HTTP/2's
connection preface (``PRI * HTTP/2.0\\r\\n\\r\\nSM\\r\\n\\r\\n``) or cannot be: then the connection (its
transport, and the bytes read so far) is handed to aiohttp's own request handler, which serves HTTP/1.1
as it would on its own ``TCPSite``, at the same speed: after the first bytes it is aiohttp's alone. (An
HTTP/1.1 request asking to ``Upgrade: h2c`` is answered over HTTP/1.1, as the upgrade allows.)

An HTTP/2 connection is an ``Http2`` protocol on the ``h2`` library. Why h2: aiohttp serves no HTTP/2,
and h2 (hyper-h2, python-hyper's) is the well-kept HTTP/2 state machine that hypercorn and httpx build
on; it is sans-IO (it parses and writes frames, keeps HPACK and the flow-control windows, and raises on
protocol errors, while we own the I/O), so it runs in aiohttp's event loop with no second server. The
``serve`` extra asks for ``h2>=4.3``: 4.3.0 rejects header names and values with characters HTTP/2
forbids (CVE-2025-57804), and supports every Python kinsim does. Each stream's headers (``:method``,
``:path`` among them) and the body from its DATA frames go to ``kinsim.routes.respond`` when the stream
ends, in its own asyncio task, so an injected latency waits without holding up other streams or
connections. The answer is sent as HEADERS then DATA frames no larger than the peer's frame size and
its flow-control windows allow, waiting for WINDOW_UPDATEs as needed. An injected dropped answer resets
that stream (RST_STREAM, INTERNAL_ERROR): the client loses that answer, not knowing whether the call
took effect, and the other streams on the connection are answered, as each call on its own connection
would be over HTTP/1.1. (Closing the whole connection would lose the answers of every call in flight on
it, which the fault did not cover.)

Stopping (``Connections.stop``, from aiohttp's shutdown after the listening socket closed): each HTTP/2
connection is sent GOAWAY naming the last stream it took; those streams are answered, streams opened
after it are refused (REFUSED_STREAM, safe to retry), and the connection closes once they are done, or at
the deadline. Connections that have sent nothing yet are closed.
"""

from __future__ import annotations

import asyncio
import logging
import struct
from typing import Any, Awaitable, Callable, Mapping, Optional

import h2.config
import h2.connection
import h2.events
import h2.exceptions
import h2.settings
from aiohttp import web
from h2.errors import ErrorCodes
from h2.settings import SettingCodes

from .protocol import Reply
from .routes import MAX_BODY

__all__ = ["PREFACE", "Connections", "FirstBytes", "Http2", "Site"]

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
WINDOW = 1 << 20  # what a client may send before we acknowledge it: per stream, and per connection
MAX_STREAMS = 100  # streams a client may have open at once on one connection
# headers that are HTTP/1.1's alone: HTTP/2 forbids them (RFC 9113 §8.2.2)
HOP_BY_HOP = frozenset({"connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade"})

logger = logging.getLogger(__name__)

Respond = Callable[[str, str, str, Mapping[str, str], bytes], Awaitable[Optional[Reply]]]


class Connections:
    """The connections of one ``Site`` that aiohttp does not keep: those whose first bytes are still
    awaited, and the HTTP/2 ones. ``respond`` answers a request (``kinsim.routes.respond`` bound to an
    endpoint); ``http1`` makes aiohttp's protocol for a connection (the runner's server, set by
    ``Site.start``)."""

    def __init__(self, respond: Respond) -> None:
        self.respond = respond
        self.http1: Optional[Callable[[], asyncio.Protocol]] = None
        self.sniffing: set[FirstBytes] = set()
        self.http2: set[Http2] = set()
        self.stopping = False
        self._stopped: Optional[asyncio.Future] = None

    async def stop(self, timeout: float) -> None:
        """Begin stopping (aiohttp's ``on_shutdown``, the listening socket closed): close connections
        that said nothing yet, send every HTTP/2 connection GOAWAY, and give the streams they took up to
        ``timeout`` seconds to be answered, beside aiohttp's own wait for HTTP/1.1 (``stopped``)."""
        self.stopping = True
        for waiting in list(self.sniffing):
            waiting.transport.close()
        for connection in list(self.http2):
            connection.go_away()
        self._stopped = asyncio.ensure_future(self._close(timeout))

    async def stopped(self) -> None:
        """Wait for ``stop`` to be done (aiohttp's ``on_cleanup``, after its own wait)."""
        if self._stopped is not None:
            await self._stopped

    async def _close(self, timeout: float) -> None:
        closing = [connection.closed for connection in self.http2]
        if closing:
            await asyncio.wait(closing, timeout=timeout)
        for connection in list(self.http2):  # what was not answered in time
            connection.transport.abort()


class FirstBytes(asyncio.Protocol):
    """A new connection until its first bytes tell HTTP/2's preface from anything else (HTTP/1.1)."""

    def __init__(self, connections: Connections) -> None:
        self.connections = connections
        self.transport: Any = None
        self.buffer = b""

    def connection_made(self, transport: Any) -> None:
        self.transport = transport
        if self.connections.stopping:
            transport.close()
        else:
            self.connections.sniffing.add(self)

    def data_received(self, data: bytes) -> None:
        read = self.buffer + data
        known = min(len(read), len(PREFACE))
        if read[:known] != PREFACE[:known]:
            assert self.connections.http1 is not None, "the site was not started"
            protocol: asyncio.Protocol = self.connections.http1()
        elif len(read) < len(PREFACE):
            self.buffer = read
            return
        else:
            protocol = Http2(self.connections)
        self.connections.sniffing.discard(self)
        self.transport.set_protocol(protocol)
        protocol.connection_made(self.transport)
        protocol.data_received(read)

    def connection_lost(self, exc: Optional[BaseException]) -> None:
        self.connections.sniffing.discard(self)


class _Stream:
    """A request stream: its headers, its body so far, and the task answering it once it has ended."""

    __slots__ = ("headers", "body", "size", "task")

    def __init__(self, headers: list[tuple[bytes, bytes]]) -> None:
        self.headers = headers
        self.body: list[bytes] = []
        self.size = 0
        self.task: Optional[asyncio.Task] = None


class Http2(asyncio.Protocol):
    """One HTTP/2 connection (server side), each of its streams answered by ``connections.respond``."""

    def __init__(self, connections: Connections) -> None:
        self.connections = connections
        self.h2 = h2.connection.H2Connection(h2.config.H2Configuration(client_side=False, header_encoding=None))
        self.h2.local_settings = h2.settings.Settings(client=False, initial_values={
            SettingCodes.MAX_CONCURRENT_STREAMS: MAX_STREAMS, SettingCodes.INITIAL_WINDOW_SIZE: WINDOW,
            SettingCodes.MAX_HEADER_LIST_SIZE: 64 * 1024})
        self.streams: dict[int, _Stream] = {}
        self.transport: Any = None
        self.last_stream: Optional[int] = None  # the last stream taken, once GOAWAY was sent
        self.paused = False  # the transport's write buffer is full
        self.frame_left = len(PREFACE)  # bytes of the client's preface, then of its frame, still to come
        self.header = b""  # the start of the client's next frame header
        self.dropping = False  # the frame under way is a GOAWAY, kept from h2
        self.client_goaway = False  # the client said GOAWAY: it opens no more streams
        self.changed = asyncio.Event()  # a window opened, writing resumed, or a stream or the connection closed
        self.closed: asyncio.Future = asyncio.get_running_loop().create_future()

    # -- the transport's calls --------------------------------------------------------------------
    def connection_made(self, transport: Any) -> None:
        self.transport = transport
        self.connections.http2.add(self)
        self.h2.initiate_connection()
        self.h2.increment_flow_control_window(WINDOW - 65_535)  # the connection's window, beyond the default
        self.flush()
        if self.connections.stopping:
            self.go_away()

    def data_received(self, data: bytes) -> None:
        try:
            events = self.h2.receive_data(self._without_goaway(data))
        except h2.exceptions.ProtocolError:  # h2 has written GOAWAY with the error
            self.flush()
            self.transport.close()
            return
        for event in events:
            if isinstance(event, h2.events.RequestReceived):
                self._request(event.stream_id, event.headers)
            elif isinstance(event, h2.events.DataReceived):
                self._data(event.stream_id, event.data, event.flow_controlled_length)
            elif isinstance(event, h2.events.StreamEnded):
                self._ended(event.stream_id)
            elif isinstance(event, h2.events.StreamReset):
                stream = self.streams.pop(event.stream_id, None)
                if stream is not None and stream.task is None:
                    self._settle()
                self._pulse()
            elif isinstance(event, (h2.events.WindowUpdated, h2.events.RemoteSettingsChanged)):
                self._pulse()
        self.flush()
        if self.client_goaway and self.last_stream is None:  # take no more streams; close once answered
            self.last_stream = self.h2.highest_inbound_stream_id
            self._settle()

    def _without_goaway(self, data: bytes) -> bytes:
        """``data`` less the client's GOAWAY frames, which close this connection once its streams are
        answered. h2 would take a client's GOAWAY as the connection's end at once and send nothing more,
        while it only concerns streams a server opens (RFC 9113 §6.8): a client such as Node's says it
        as soon as it hears our GOAWAY, with the answers it waits for still due."""
        kept, at = [], 0
        while at < len(data):
            if self.frame_left:
                take = min(self.frame_left, len(data) - at)
                if not self.dropping:
                    kept.append(data[at:at + take])
                at += take
                self.frame_left -= take
                continue
            piece = data[at:at + 9 - len(self.header)]
            self.header += piece
            at += len(piece)
            if len(self.header) == 9:
                self.frame_left = int.from_bytes(self.header[:3], "big")
                self.dropping = self.header[3] == 0x7  # GOAWAY
                if self.dropping:
                    self.client_goaway = True
                else:
                    kept.append(self.header)
                self.header = b""
        return b"".join(kept)

    def pause_writing(self) -> None:
        self.paused = True

    def resume_writing(self) -> None:
        self.paused = False
        self._pulse()

    def connection_lost(self, exc: Optional[BaseException]) -> None:
        self.connections.http2.discard(self)
        for stream in self.streams.values():
            if stream.task is not None:
                stream.task.cancel()
        self.streams.clear()
        self._pulse()
        if not self.closed.done():
            self.closed.set_result(None)

    # -- requests ---------------------------------------------------------------------------------
    def _request(self, stream_id: int, headers: list[tuple[bytes, bytes]]) -> None:
        if self.last_stream is not None and stream_id > self.last_stream:
            self.h2.reset_stream(stream_id, ErrorCodes.REFUSED_STREAM)  # opened after our GOAWAY
            return
        self.streams[stream_id] = _Stream(headers)

    def _data(self, stream_id: int, data: bytes, flow_controlled: int) -> None:
        self.h2.acknowledge_received_data(flow_controlled, stream_id)
        stream = self.streams.get(stream_id)
        if stream is None or stream.task is not None:
            return
        stream.body.append(data)
        stream.size += len(data)
        if stream.size > MAX_BODY:  # answer at once, and ask the client to stop sending (RFC 9113 §8.1)
            del self.streams[stream_id]
            try:
                self.h2.send_headers(stream_id, [(b":status", b"413"), (b"content-length", b"0")], end_stream=True)
                self.h2.reset_stream(stream_id, ErrorCodes.NO_ERROR)
            except h2.exceptions.ProtocolError:  # the client had sent it all, or reset the stream meanwhile
                pass
            self._settle()

    def _ended(self, stream_id: int) -> None:
        stream = self.streams.get(stream_id)
        if stream is not None and stream.task is None:
            stream.task = asyncio.get_running_loop().create_task(self._answer(stream_id, stream))

    async def _answer(self, stream_id: int, stream: _Stream) -> None:
        headers: dict[str, str] = {}
        for name, value in stream.headers:
            key = name.decode("latin-1")
            text = value.decode("latin-1")
            headers[key] = f"{headers[key]}, {text}" if key in headers else text
        path, _, query = headers.get(":path", "/").partition("?")
        try:
            reply = await self.connections.respond(headers.get(":method", "GET"), path, query, headers,
                                                   b"".join(stream.body))
            if reply is None:  # an injected dropped answer: this stream's, not the connection's
                self.h2.reset_stream(stream_id, ErrorCodes.INTERNAL_ERROR)
            else:
                await self._send(stream_id, reply)
        except h2.exceptions.ProtocolError:  # the client reset the stream, or the connection is closing
            pass
        except Exception:  # noqa: BLE001 - a bug: said, and that stream is reset (aiohttp would answer 500)
            logger.exception("kinsim serve: answering HTTP/2 stream %d failed", stream_id)
            try:
                self.h2.reset_stream(stream_id, ErrorCodes.INTERNAL_ERROR)
            except h2.exceptions.ProtocolError:
                pass
        finally:
            if self.streams.get(stream_id) is stream:
                del self.streams[stream_id]
            self.flush()
            self._settle()

    async def _send(self, stream_id: int, reply: Reply) -> None:
        body = reply.body
        headers = [(":status", str(reply.status)), ("content-type", reply.content_type),
                   ("content-length", str(len(body)))]
        headers += [(name.lower(), value) for name, value in reply.headers if name.lower() not in HOP_BY_HOP]
        self.h2.send_headers(stream_id, headers, end_stream=not body)
        view, sent = memoryview(body), 0
        while sent < len(body):
            window = 0 if self.paused else self.h2.local_flow_control_window(stream_id)
            while window > 0 and sent < len(body):
                size = min(window, len(body) - sent, self.h2.max_outbound_frame_size)
                self.h2.send_data(stream_id, bytes(view[sent:sent + size]), end_stream=sent + size == len(body))
                sent += size
                window -= size
            self.flush()
            if sent < len(body):
                await self.changed.wait()

    # -- the connection ---------------------------------------------------------------------------
    def flush(self) -> None:
        data = self.h2.data_to_send()
        if data and not self.transport.is_closing():
            self.transport.write(data)

    def go_away(self) -> None:
        """Take no more streams (GOAWAY naming the last one taken); close once those are answered."""
        if self.last_stream is not None or self.transport.is_closing():
            return
        self.flush()
        self.last_stream = self.h2.highest_inbound_stream_id
        # The frame is written by hand: h2's close_connection() would also stop us answering the streams
        # taken. A frame header (24-bit length 8, type 0x7 GOAWAY, no flags, stream 0), then the last
        # stream id and the error code (NO_ERROR).
        self.transport.write(struct.pack(">IBIII", 8 << 8 | 0x7, 0, 0, self.last_stream, ErrorCodes.NO_ERROR))
        self._settle()

    def _settle(self) -> None:
        if self.last_stream is not None and not self.streams and not self.transport.is_closing():
            self.h2.close_connection(last_stream_id=self.last_stream)
            self.flush()
            self.transport.close()

    def _pulse(self) -> None:
        self.changed.set()
        self.changed.clear()


class Site(web.BaseSite):
    """aiohttp's ``TCPSite`` serving HTTP/1.1 and HTTP/2 on one port: each connection goes by its first
    bytes (``FirstBytes``) to aiohttp's request handler or to ``Http2``. Stopping the runner closes the
    listening socket as for any site; ``connections.stop`` and ``stopped`` (aiohttp's ``on_shutdown``
    and ``on_cleanup`` hooks) do the rest."""

    def __init__(self, runner: web.BaseRunner, host: str, port: int, connections: Connections) -> None:
        super().__init__(runner)
        self._host, self._port, self.connections = host, port, connections

    @property
    def name(self) -> str:
        return f"http://{self._host}:{self._port}"

    async def start(self) -> None:
        await super().start()
        self.connections.http1 = self._runner.server
        self._server = await asyncio.get_running_loop().create_server(
            lambda: FirstBytes(self.connections), self._host, self._port, reuse_address=True)

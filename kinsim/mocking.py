"""``kinsim.mock()``: every botocore Kinesis client made inside it is answered by simulated shards.

    with kinsim.mock(clock=ManualClock(start)) as kinesis:
        my_library.run()                      # calls boto3.client("kinesis") itself
        kinesis.clock.advance(300)            # five minutes pass: iterators expire
        print(kinesis.statistics()["records"])

How: through botocore's event system only. On entry, a handler for ``creating-client-class.kinesis``
joins botocore's built-in handlers (every session made from then on has it) and boto3's default
session. A Kinesis client created while a mock is active gets a base class that, once the client is
built, registers the mock's ``before-send.kinesis`` handler on that client's own events. That handler
hands the request botocore was about to send — serialised, signed, with its headers — to the mock's
``Endpoint`` and gives botocore back the endpoint's HTTP answer, so botocore's own serialisation,
parsing, retries and ``ClientError``s run, as they would against AWS. Nothing is patched; nothing
leaves the process.

Which mock answers a client is decided when the client is made, and holds for the client's life:

- the innermost mock entered in the creating thread (or asyncio task) and still active;
- else, if that thread entered none, the most recently entered mock still active in the process (so
  threads a library starts inside a mock are answered too);
- else none: the client is botocore's own.

Mocks nest (the inner one answers clients made inside it) and may run in several threads at once,
each answering its own clients. Leaving a mock removes its handlers from botocore's built-in list and
from the default session; a client made inside it and used after it ended raises ``MockEndedError``
rather than reaching AWS. Sessions made inside a mock keep an idle handler that does nothing once no
mock is active.

While a mock is active and the environment names no credentials or region, it provides dummy ones
(``AWS_ACCESS_KEY_ID=kinsim``, ``AWS_DEFAULT_REGION=us-east-1``), so clients can be made and sign
requests; leaving restores the environment. A botocore session made before the first mock was
entered, other than boto3's default session, does not know the mock: make the client inside, or use
``mock.client()``, which is always routed.

Injected latency is slept on a wall clock; on a ``ManualClock`` the clock is moved by it instead, and
so is botocore's retry back-off (its retry handler, found by the unique id botocore gives it, is put back
wrapped). A dropped connection (a ``drop`` fault) is botocore's ``ConnectionClosedError``, which botocore
retries.
"""

from __future__ import annotations

import contextvars
import functools
import inspect
import os
import threading
import time
from typing import Any, Callable, Optional

import botocore.handlers
from botocore.awsrequest import AWSResponse
from botocore.exceptions import ConnectionClosedError

from .clock import Clock, ManualClock
from .endpoint import Endpoint
from .errors import KinsimError
from .injection import FaultsLike

__all__ = ["mock", "MockEndedError"]

_CREATING = "creating-client-class.kinesis"
_HOOK_ID = "kinsim-mock-creating-client-class"
_ENVIRONMENT = {"AWS_ACCESS_KEY_ID": "kinsim", "AWS_SECRET_ACCESS_KEY": "kinsim", "AWS_DEFAULT_REGION": "us-east-1"}


class MockEndedError(KinsimError):
    """A client made inside a ``kinsim.mock()`` was used after the mock ended."""


class _Raw:
    """The body of an answer, as botocore reads it from urllib3."""

    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any):
        yield self._body


class mock:  # noqa: N801 - used as kinsim.mock(), like a function
    """A context manager (and decorator) that answers Kinesis clients from simulated shards.

    ``clock``: where the simulated service reads the time (default: the wall clock; a ``ManualClock``
    for virtual time). ``throttling``: the shards' throughput limits (default on, as the service).
    ``faults`` and ``seed``: a fault plan (``kinsim.injection``: a file's path, its parsed document or a
    ``FaultPlan``). ``endpoint``: an ``Endpoint`` to answer from instead of a new one.

    As a decorator, each call of the function gets a fresh mock with the same options."""

    def __init__(self, clock: Optional[Clock] = None, *, throttling: bool = True, faults: FaultsLike = None,
                 seed: Optional[int] = None, endpoint: Optional[Endpoint] = None, **endpoint_options: Any) -> None:
        self._options = dict(clock=clock, throttling=throttling, faults=faults, seed=seed, **endpoint_options)
        self.endpoint = endpoint if endpoint is not None else Endpoint(**self._options)
        self._state = "new"
        self._token: Optional[contextvars.Token] = None
        self._base: Optional[type] = None

    # -- what users see ---------------------------------------------------------------------------
    @property
    def clock(self) -> Clock:
        return self.endpoint.clock

    @property
    def backend(self):
        return self.endpoint.backend

    def statistics(self) -> dict[str, Any]:
        return self.endpoint.statistics()

    def client(self, **options: Any):
        """A ``boto3.client("kinesis")`` answered by this mock, whether it is active or not (until it
        ends). Options are boto3's; region and dummy credentials are filled in when not given."""
        import boto3

        options.setdefault("region_name", "us-east-1")
        options.setdefault("aws_access_key_id", "kinsim")
        options.setdefault("aws_secret_access_key", "kinsim")
        client = boto3.session.Session().client("kinesis", **options)
        self.route(client)
        return client

    def route(self, client: Any) -> Any:
        """Answer this botocore Kinesis client from now on, whenever it was made."""
        answer = functools.partial(self._answer, client)
        client.meta.events.register_first("before-send.kinesis", answer, unique_id=f"kinsim-mock-{id(self)}")
        return client

    # -- entering and leaving ---------------------------------------------------------------------
    def __enter__(self) -> "mock":
        if self._state != "new":
            raise RuntimeError("a kinsim.mock() is entered once; make another for another block")
        self._state = "active"
        _Registry.enter(self)
        return self

    def __exit__(self, *exc_info: object) -> None:
        _Registry.leave(self)
        self._state = "ended"

    def __call__(self, function: Callable) -> Callable:
        if inspect.iscoroutinefunction(function):
            @functools.wraps(function)
            async def run_async(*args: Any, **kwargs: Any) -> Any:
                with mock(**self._options):
                    return await function(*args, **kwargs)
            return run_async

        @functools.wraps(function)
        def run(*args: Any, **kwargs: Any) -> Any:
            with mock(**self._options):
                return function(*args, **kwargs)
        return run

    def __repr__(self) -> str:
        return f"<kinsim.mock {self._state} on {self.clock!r}>"

    # -- answering --------------------------------------------------------------------------------
    def _client_base(self) -> type:
        """A base class for clients this mock answers: it routes the client once botocore built it."""
        if self._base is None:
            answering = self

            class RoutedByKinsim:
                def __init__(self, *args: Any, **kwargs: Any) -> None:
                    super().__init__(*args, **kwargs)
                    answering.route(self)
            self._base = RoutedByKinsim
        return self._base

    def _answer(self, client: Any, request, **_: Any) -> AWSResponse:
        if isinstance(self.clock, ManualClock):
            _retry_on_clock(client, self.clock)
        if self._state == "ended":
            raise MockEndedError("this Kinesis client was made inside a kinsim.mock() that has ended; make "
                                 "clients inside the block that uses them")
        body = request.body
        if hasattr(body, "read"):
            body = body.read()
        if isinstance(body, str):
            body = body.encode("utf-8")
        query = request.url.partition("?")[2]
        exchange = self.endpoint.exchange(dict(request.headers), body or b"", query)
        if exchange.delay > 0:
            if isinstance(self.clock, ManualClock):
                self.clock.advance(exchange.delay)
            else:
                time.sleep(exchange.delay)
        if exchange.reply is None:
            raise ConnectionClosedError(endpoint_url=request.url, request=request)
        answer = exchange.reply
        headers = {"x-amzn-RequestId": exchange.request_id, "Content-Type": answer.content_type,
                   "Content-Length": str(len(answer.body)), **dict(answer.headers)}
        return AWSResponse(request.url, answer.status, headers, _Raw(answer.body))


class _Registry:
    """Which mocks are active, process-wide and per thread or task; the hooks in botocore while any is."""

    lock = threading.RLock()
    active: list[mock] = []
    environment: dict[str, Optional[str]] = {}  # what the first mock found, to put back when the last leaves
    entered: contextvars.ContextVar[tuple[mock, ...]] = contextvars.ContextVar("kinsim_mocks", default=())

    @classmethod
    def current(cls) -> Optional[mock]:
        mine = [m for m in cls.entered.get() if m._state == "active"]
        if mine:
            return mine[-1]
        with cls.lock:
            return cls.active[-1] if cls.active else None

    @classmethod
    def enter(cls, entering: mock) -> None:
        with cls.lock:
            if not cls.active:
                botocore.handlers.BUILTIN_HANDLERS.append((_CREATING, _on_client_class))
                session = _default_session()
                if session is not None:
                    session.register(_CREATING, _on_client_class, unique_id=_HOOK_ID)
                for name, value in _ENVIRONMENT.items():
                    if not os.environ.get(name):
                        cls.environment[name] = os.environ.get(name)
                        os.environ[name] = value
            cls.active.append(entering)
        entering._token = cls.entered.set(cls.entered.get() + (entering,))

    @classmethod
    def leave(cls, leaving: mock) -> None:
        try:
            if leaving._token is not None:
                cls.entered.reset(leaving._token)
        except ValueError:  # left in another context than it was entered in: take it out by hand
            cls.entered.set(tuple(m for m in cls.entered.get() if m is not leaving))
        with cls.lock:
            cls.active.remove(leaving)
            if not cls.active:
                for name, value in cls.environment.items():
                    if value is None:
                        os.environ.pop(name, None)
                    else:
                        os.environ[name] = value
                cls.environment.clear()
                spec = (_CREATING, _on_client_class)
                while spec in botocore.handlers.BUILTIN_HANDLERS:
                    botocore.handlers.BUILTIN_HANDLERS.remove(spec)
                session = _default_session()
                if session is not None:
                    session.unregister(_CREATING, _on_client_class, unique_id=_HOOK_ID)


_RETRY_ID = "retry-config-kinesis"  # the unique id botocore registers its Kinesis retry handler under


def _retry_on_clock(client: Any, clock: ManualClock) -> None:
    """Make botocore's retry back-off move ``clock`` instead of sleeping: its retry handler (registered
    after the client is built, so looked for at the first call) is put back wrapped, so that the delay it
    chooses is added to the virtual clock and botocore sleeps 0. A retried throttle then meets the next
    second's throughput, in no real time. If botocore keeps the handler elsewhere, it sleeps as usual."""
    events = client.meta.events
    if getattr(client, "_kinsim_retry_clock", None) is clock:
        return
    emitter = getattr(events, "_emitter", events)
    entry = getattr(emitter, "_unique_id_handlers", {}).get(_RETRY_ID)
    if not isinstance(entry, dict) or not callable(entry.get("handler")):
        return
    decide = entry["handler"]

    def retry_on_the_clock(**kwargs: Any) -> Any:
        delay = decide(**kwargs)
        if delay:
            clock.advance(delay)
            return 0
        return delay

    events.unregister("needs-retry.kinesis", unique_id=_RETRY_ID)
    events.register("needs-retry.kinesis", retry_on_the_clock, unique_id=_RETRY_ID)
    client._kinsim_retry_clock = clock


def _default_session():
    import boto3

    return boto3.DEFAULT_SESSION._session if boto3.DEFAULT_SESSION is not None else None


def _on_client_class(class_attributes: dict, base_classes: list, **_: Any) -> None:
    answering = _Registry.current()
    if answering is not None and answering._client_base() not in base_classes:  # a session may hold the hook twice
        base_classes.insert(0, answering._client_base())

"""kinsim's pytest plugin, registered by entry point: ``pip install kinsim`` is enough.

Fixtures (each new per test, on a manual clock that starts at ``START``, so time moves only when the
test moves it):

- ``kinsim_clock``: the ``ManualClock``;
- ``kinsim_backend``: simulated shards (``MemoryBackend``) on it;
- ``kinsim_mock``: an active ``kinsim.mock()`` on that clock: every ``boto3.client("kinesis")`` made
  during the test, by the test or the code it calls, is answered by it;
- ``kinsim_boto3``: a boto3 Kinesis client answered by ``kinsim_mock``, with botocore's retries off
  (one attempt), so throttling and expired iterators reach the code under test as they happen;
- ``kinsim_server``: ``kinsim serve`` on a free port of 127.0.0.1 (``.endpoint_url``, ``.endpoint``,
  ``.advance(seconds)``), for code that takes an endpoint URL or runs in another process.

The marker ``@pytest.mark.kinsim(...)`` passes options to the mock and the server: ``faults`` (a fault
file's path or document, see ``kinsim.injection``), ``seed``, ``throttling``, ``start``.
"""

from __future__ import annotations

from typing import Any

import pytest

__all__ = ["START"]

START = 1_533_074_160.0  # 2018-07-31T21:56:00Z, the tutorial's first minute


def pytest_configure(config: Any) -> None:
    config.addinivalue_line("markers", "kinsim(faults=None, seed=None, throttling=True, start=START): options of "
                                       "kinsim's fixtures for this test")


def _options(request: Any) -> dict[str, Any]:
    marker = request.node.get_closest_marker("kinsim")
    options = dict(marker.kwargs) if marker is not None else {}
    unknown = set(options) - {"faults", "seed", "throttling", "start"}
    if unknown:
        pytest.fail(f"@pytest.mark.kinsim takes faults, seed, throttling and start, not {', '.join(sorted(unknown))}",
                    pytrace=False)
    return options


@pytest.fixture
def kinsim_clock(request: Any):
    from .clock import ManualClock

    return ManualClock(_options(request).get("start", START))


@pytest.fixture
def kinsim_backend(request: Any, kinsim_clock: Any):
    from .backends import MemoryBackend

    return MemoryBackend(kinsim_clock, throttling=_options(request).get("throttling", True))


@pytest.fixture
def kinsim_mock(request: Any, kinsim_clock: Any):
    from .mocking import mock

    options = {k: v for k, v in _options(request).items() if k != "start"}
    with mock(kinsim_clock, **options) as active:
        yield active


@pytest.fixture
def kinsim_boto3(kinsim_mock: Any):
    from botocore.config import Config

    client = kinsim_mock.client(config=Config(retries={"total_max_attempts": 1}))
    yield client
    client.close()


@pytest.fixture
def kinsim_server(request: Any, kinsim_clock: Any):
    try:
        from .serve import Server
    except ImportError as exc:
        pytest.fail(f"kinsim_server needs kinsim's serve extra ({exc}): pip install 'kinsim[serve]'", pytrace=False)
    from .endpoint import Endpoint

    options = {k: v for k, v in _options(request).items() if k != "start"}
    with Server(Endpoint(kinsim_clock, **options)) as server:
        yield server

"""kinsim: simulate and test Kinesis stream processing on one machine.

    >>> import kinsim
    >>> kinesis = kinsim.client()            # like boto3.client("kinesis"), over simulated shards
    >>> kinesis.create_stream(StreamName="words", ShardCount=1)

``kinsim.client(backend)`` wraps any ``Backend``; ``MemoryBackend(clock)`` is simulated shards on the
clock you give it, so five minutes of iterator expiry cost no waiting. ``kinsim.mock()`` answers every
``boto3.client("kinesis")`` made inside it from simulated shards, for code you do not change;
``python -m kinsim serve`` is the same over HTTP, for any SDK and the AWS CLI.
"""

from __future__ import annotations

import sys
from typing import Optional

try:  # imported below in any case; a Python without them is told which, and how to install them
    import botocore  # noqa: F401
    import dateutil  # noqa: F401
    import simpy  # noqa: F401
    import yaml  # noqa: F401
except ModuleNotFoundError as missing:
    raise ModuleNotFoundError(f"kinsim needs {missing.name}, which {sys.executable} does not have: python -m pip "
                              "install kinsim (or python -m pip install . in kinsim's folder)",
                              name=missing.name) from None

from .backends import Backend, MemoryBackend
from .client import KinesisClient
from .clock import Clock, FunctionClock, ManualClock, WallClock
from .errors import KinesisError, KinsimError, ScenarioError
from .mocking import MockEndedError, mock

__version__ = "0.1.0"

__all__ = [
    "__version__",
    "client",
    "mock",
    "MockEndedError",
    "Backend",
    "MemoryBackend",
    "KinesisClient",
    "Clock",
    "ManualClock",
    "WallClock",
    "FunctionClock",
    "KinsimError",
    "KinesisError",
    "ScenarioError",
]


def client(backend: Optional[Backend] = None) -> KinesisClient:
    """A boto3-shaped Kinesis client: over ``backend``, or over fresh simulated shards whose clock
    follows the wall clock, so it behaves like a live endpoint."""
    if backend is None:
        backend = MemoryBackend(WallClock())
    return KinesisClient(backend)

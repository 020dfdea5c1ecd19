"""Backends: the ``Backend`` interface and its implementations.

``KinesisBackend`` (boto3) is imported from ``kinsim.backends.kinesis``, so that simulated runs never
load boto3's client machinery.
"""

from .base import Backend
from .memory import MemoryBackend

__all__ = ["Backend", "MemoryBackend"]

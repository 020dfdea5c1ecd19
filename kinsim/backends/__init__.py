"""Backends: the ``Backend`` interface and its implementations."""

from .base import Backend
from .memory import MemoryBackend

__all__ = ["Backend", "MemoryBackend"]

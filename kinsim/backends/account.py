"""The simulated account: its streams by name, its shard limit, and the lookups every call starts with,
answering as the service does when a stream or shard is missing or not in the right state."""

from __future__ import annotations

from typing import Optional

from .. import errors
from ..clock import Clock
from ..records import StreamStatus
from .shards import ShardLog
from .stream_state import StreamState
from .throughput import ShardLimits

__all__ = ["Account"]


class Account:
    """Streams of one account and region, on one clock."""

    def __init__(self, clock: Clock, region: str, account_id: str, shard_limit: int,
                 shard_limits: Optional[ShardLimits]) -> None:
        self.clock = clock
        self.region = region
        self.account_id = account_id
        self.shard_limit = shard_limit
        self.shard_limits = shard_limits  # each new shard's throughput limits (None: none)
        self.streams: dict[str, StreamState] = {}
        self._uids = 0

    def next_uid(self) -> int:
        self._uids += 1
        return self._uids

    # -- errors -------------------------------------------------------------------------------------
    def not_found(self, stream_name: str) -> errors.ResourceNotFoundException:
        return errors.ResourceNotFoundException(f"Stream {stream_name} under account {self.account_id} not found.")

    def throttled(self, stream: StreamState, shard: ShardLog) -> str:
        return f"Rate exceeded for shard {shard.shard_id} in stream {stream.name} under account {self.account_id}."

    # -- lookups ------------------------------------------------------------------------------------
    def stream(self, stream_name: str) -> StreamState:
        stream = self.streams.get(stream_name)
        if stream is None:
            raise self.not_found(stream_name)
        return stream

    def writable(self, stream_name: str) -> StreamState:
        """A stream that takes writes: ACTIVE, or UPDATING (writes go to the parents until it completes)."""
        stream = self.stream(stream_name)
        if stream.status not in (StreamStatus.ACTIVE, StreamStatus.UPDATING):
            raise self.not_found(stream_name)
        return stream

    def active(self, stream_name: str) -> StreamState:
        stream = self.stream(stream_name)
        if stream.status is not StreamStatus.ACTIVE:
            raise errors.ResourceInUseException(f"Stream {stream_name} under account {self.account_id} not ACTIVE, "
                                                f"instead in state {stream.status.value}")
        return stream

    def shard(self, stream: StreamState, shard_id: str, now: float) -> ShardLog:
        shard = stream.shards.get(shard_id)
        if shard is None or not stream.listed(shard, now):
            raise errors.ResourceNotFoundException(
                f"Shard {shard_id} in stream {stream.name} under account {self.account_id} does not exist")
        return shard

    def open_shard(self, stream: StreamState, shard_id: str) -> ShardLog:
        """A shard a reshard may take: it exists and is open."""
        shard = stream.shards.get(shard_id)
        if shard is None or not stream.listed(shard, self.clock.now()):
            raise errors.ResourceNotFoundException(
                f"Could not find shard {shard_id} in stream {stream.name} under account {self.account_id}.")
        if not shard.is_open:
            raise errors.InvalidArgumentException(
                f"Shard {shard_id} in stream {stream.name} under account {self.account_id} has already been "
                "merged or split, and thus is not eligible for merging or splitting.")
        return shard

    def check_shard_limit(self, extra: int) -> None:
        current = sum(len(s.open_shards()) for s in self.streams.values() if s.status is not StreamStatus.DELETING)
        if current + extra > self.shard_limit:
            raise errors.LimitExceededException(
                f"This request would exceed the shard limit for the account {self.account_id} in "
                f"{self.region}. Current shard count for the account: {current}. Limit: {self.shard_limit}. "
                f"Number of additional shards that would have resulted from this request: {extra}.")

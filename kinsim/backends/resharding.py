"""MemoryBackend's resharding calls: split, merge and UpdateShardCount, checked as the service checks
them. (A part of ``MemoryBackend``, kept apart for size; it uses the backend's lookups.)"""

from __future__ import annotations

from .. import errors
from . import limits
from .shards import ShardLog
from .stream_state import StreamState
from .validation import Constraints, check_stream_name

__all__ = ["Resharding"]


class Resharding:
    def _reshard(self, stream: StreamState, change) -> None:
        """Apply a reshard now, or when the stream's update completes if updates take time."""
        if self.update_delay > 0:
            stream.updating_until = self.clock.now() + self.update_delay
            stream.pending_reshard = change
        else:
            change(self.clock.now())

    def _open_shard_of(self, stream: StreamState, shard_id: str) -> ShardLog:
        shard = stream.shards.get(shard_id)
        if shard is None:
            raise errors.ResourceNotFoundException(
                f"Could not find shard {shard_id} in stream {stream.name} under account {self.account_id}.")
        if not shard.is_open:
            raise errors.InvalidArgumentException(
                f"Shard {shard_id} in stream {stream.name} under account {self.account_id} has already been "
                "merged or split, and thus is not eligible for merging or splitting.")
        return shard

    def split_shard(self, stream_name: str, shard_id: str, new_starting_hash_key: str) -> None:
        check = Constraints()
        check_stream_name(check, stream_name)
        if check.required("shardToSplit", shard_id):
            check.length("shardToSplit", shard_id, 1, 128)
        if check.required("newStartingHashKey", new_starting_hash_key):
            check.pattern("newStartingHashKey", new_starting_hash_key, limits.HASH_KEY_PATTERN)
        check.check()
        stream = self._active(stream_name)
        shard = self._open_shard_of(stream, shard_id)
        self._check_shard_limit(1)
        key, hash_range = int(new_starting_hash_key), shard.hash_key_range
        if not hash_range.start + 1 < key < hash_range.end:
            raise errors.InvalidArgumentException(
                f"NewStartingHashKey {new_starting_hash_key} used in SplitShard() on shard {shard_id} in stream "
                f"{stream_name} under account {self.account_id} is not both greater than one plus the shard's "
                f"StartingHashKey {hash_range.start} and less than the shard's EndingHashKey {hash_range.end}.")
        self._reshard(stream, lambda when: stream.split(shard, key, when))

    def merge_shards(self, stream_name: str, shard_id: str, adjacent_shard_id: str) -> None:
        check = Constraints()
        check_stream_name(check, stream_name)
        for field, value in (("shardToMerge", shard_id), ("adjacentShardToMerge", adjacent_shard_id)):
            if check.required(field, value):
                check.length(field, value, 1, 128)
        check.check()
        stream = self._active(stream_name)
        shard = self._open_shard_of(stream, shard_id)
        adjacent = self._open_shard_of(stream, adjacent_shard_id)
        a, b = shard.hash_key_range, adjacent.hash_key_range
        if a.end + 1 != b.start and b.end + 1 != a.start:
            raise errors.InvalidArgumentException(
                f"Shards {shard_id} and {adjacent_shard_id} in stream {stream_name} under account "
                f"{self.account_id} are not an adjacent pair of shards eligible for merging")
        self._reshard(stream, lambda when: stream.merge(shard, adjacent, when))

    def update_shard_count(self, stream_name: str, target_shard_count: int) -> int:
        check = Constraints()
        check_stream_name(check, stream_name)
        if check.required("targetShardCount", target_shard_count):
            check.value("targetShardCount", target_shard_count, 1, 100_000)
        check.check()
        stream = self._active(stream_name)
        current = len(stream.open_shards())
        now = self.clock.now()
        problem = stream.scaling_problem(target_shard_count, now)
        if problem:
            raise errors.LimitExceededException(
                f"UpdateShardCount on stream {stream_name} under account {self.account_id} cannot scale "
                f"{problem}. Requested target shard count: {target_shard_count}.")
        self._check_shard_limit(max(0, target_shard_count - current))
        stream.scaling_times.append(now)
        if target_shard_count != current:
            self._reshard(stream, lambda when: stream.scale_uniformly(target_shard_count, when))
        return current



"""The resharding calls on simulated streams: SplitShard, MergeShards and UpdateShardCount, checked as the
service checks them, and carried out when the stream's update completes (``StreamState.update``)."""

from __future__ import annotations

from .. import errors
from . import limits
from .account import Account
from .validation import Constraints, check_stream_name

__all__ = ["split_shard", "merge_shards", "update_shard_count"]


def split_shard(account: Account, update_delay: float, stream_name: str, shard_id: str,
                new_starting_hash_key: str) -> None:
    check = Constraints()
    check_stream_name(check, stream_name)
    if check.required("shardToSplit", shard_id):
        check.length("shardToSplit", shard_id, 1, 128)
    if check.required("newStartingHashKey", new_starting_hash_key):
        check.pattern("newStartingHashKey", new_starting_hash_key, limits.HASH_KEY_PATTERN)
    check.check()
    stream = account.active(stream_name)
    shard = account.open_shard(stream, shard_id)
    account.check_shard_limit(1)
    key, hash_range = int(new_starting_hash_key), shard.hash_key_range
    if not hash_range.start + 1 < key < hash_range.end:
        raise errors.InvalidArgumentException(
            f"NewStartingHashKey {new_starting_hash_key} used in SplitShard() on shard {shard_id} in stream "
            f"{stream_name} under account {account.account_id} is not both greater than one plus the shard's "
            f"StartingHashKey {hash_range.start} and less than the shard's EndingHashKey {hash_range.end}.")
    stream.update(lambda when: stream.split(shard, key, when), update_delay)


def merge_shards(account: Account, update_delay: float, stream_name: str, shard_id: str,
                 adjacent_shard_id: str) -> None:
    check = Constraints()
    check_stream_name(check, stream_name)
    for field, value in (("shardToMerge", shard_id), ("adjacentShardToMerge", adjacent_shard_id)):
        if check.required(field, value):
            check.length(field, value, 1, 128)
    check.check()
    stream = account.active(stream_name)
    shard = account.open_shard(stream, shard_id)
    adjacent = account.open_shard(stream, adjacent_shard_id)
    a, b = shard.hash_key_range, adjacent.hash_key_range
    if a.end + 1 != b.start and b.end + 1 != a.start:
        raise errors.InvalidArgumentException(
            f"Shards {shard_id} and {adjacent_shard_id} in stream {stream_name} under account "
            f"{account.account_id} are not an adjacent pair of shards eligible for merging")
    stream.update(lambda when: stream.merge(shard, adjacent, when), update_delay)


def update_shard_count(account: Account, update_delay: float, stream_name: str, target_shard_count: int) -> int:
    """Reshard to ``target_shard_count`` even open shards; returns the open shard count before."""
    check = Constraints()
    check_stream_name(check, stream_name)
    if check.required("targetShardCount", target_shard_count):
        check.value("targetShardCount", target_shard_count, 1, 100_000)
    check.check()
    stream = account.active(stream_name)
    current = len(stream.open_shards())
    now = account.clock.now()
    problem = stream.scaling_problem(target_shard_count, now)
    if problem:
        raise errors.LimitExceededException(
            f"UpdateShardCount on stream {stream_name} under account {account.account_id} cannot scale "
            f"{problem}. Requested target shard count: {target_shard_count}.")
    account.check_shard_limit(max(0, target_shard_count - current))
    stream.scaling_times.append(now)
    if target_shard_count != current:
        stream.update(lambda when: stream.scale_uniformly(target_shard_count, when), update_delay)
    return current

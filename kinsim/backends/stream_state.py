"""A simulated stream: its shards, how keys route to them, and resharding.

Resharding closes parents and opens children; writes route to open shards only. ``UpdateShardCount``
is carried out as the service does it, by ordinary splits and then merges, so every child has at most
two parents and a reader can always finish the parents before their children.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import deque
from typing import Optional

from ..records import HashKeyRange
from .shards import ShardLog, encode_sequence_number, even_ranges

__all__ = ["StreamState"]


class StreamState:
    """Everything the memory backend knows about one stream."""

    def __init__(self, name: str, uid: int, arn: str, shard_count: int, now: float,
                 retention_hours: int, ready_at: float) -> None:
        self.name = name
        self.uid = uid
        self.arn = arn
        self.created_at = now
        self.retention_hours = retention_hours
        self.ready_at = ready_at                      # CREATING until then
        self.deleting_until: Optional[float] = None   # DELETING until then, then gone
        self.updating_until: Optional[float] = None   # UPDATING until then
        self.pending_reshard = None                   # applied when the update completes
        self.scaling_times: deque[float] = deque()    # UpdateShardCount calls, for the 24 h limit
        self.counter = 0                              # stream-wide put counter (sequence numbers)
        self.routing_version = 0                      # moves on at every reshard
        self.key_table: list[str] = []                # partition keys, stored once; shards keep indexes
        self._key_ids: dict[str, int] = {}
        self._next_expiry = float("inf")              # no record or closed shard expires before then
        self.render = None                            # renders tags into data, for records stored as tags
        self.shards: dict[str, ShardLog] = {}
        self._next_index = 0
        self._route_starts: list[int] = []
        self._route_shards: list[ShardLog] = []
        for hash_range in even_ranges(shard_count):
            self._new_shard(hash_range, ())
        self._reroute()

    # -- shards -------------------------------------------------------------------------------------
    def _new_shard(self, hash_range: HashKeyRange, parents: tuple[str, ...]) -> ShardLog:
        shard = ShardLog(self._next_index, hash_range,
                         encode_sequence_number(self._next_index, self.counter), parents, self.key_table, self)
        self._next_index += 1
        self.shards[shard.shard_id] = shard
        return shard

    def _reroute(self) -> None:
        open_shards = sorted(self.open_shards(), key=lambda s: s.hash_key_range.start)
        self._route_starts = [s.hash_key_range.start for s in open_shards]
        self._route_shards = open_shards
        self.routing_version += 1

    def open_shards(self) -> list[ShardLog]:
        return [shard for shard in self.shards.values() if shard.is_open]

    def route(self, hash_key: int) -> ShardLog:
        """The one open shard whose hash-key range holds ``hash_key``."""
        return self._route_shards[bisect_right(self._route_starts, hash_key) - 1]

    def key_id(self, partition_key: str) -> int:
        key_id = self._key_ids.get(partition_key)
        if key_id is None:
            key_id = self._key_ids[partition_key] = len(self.key_table)
            self.key_table.append(partition_key)
        return key_id

    def written(self, arrival: float) -> None:
        """Note a write at ``arrival``: retention may trim from ``arrival`` + retention on."""
        if arrival < self._next_expiry - self.retention_hours * 3600.0:
            self._next_expiry = arrival + self.retention_hours * 3600.0

    def latest_floor(self, shard: ShardLog) -> int:
        """A sequence floor above every record already in ``shard`` and below every later one."""
        return encode_sequence_number(shard.index, self.counter + 1)

    def trim(self, now: float, force: bool = False) -> None:
        """Apply retention: drop old records, and closed shards whose whole retention has passed."""
        if now < self._next_expiry and not force:
            return
        retention = self.retention_hours * 3600.0
        cutoff = now - retention
        oldest = float("inf")
        for shard_id in list(self.shards):
            shard = self.shards[shard_id]
            if shard.closed_at is not None and shard.closed_at <= cutoff:
                del self.shards[shard_id]
                continue
            shard.trim_through(cutoff)
            if len(shard):
                oldest = min(oldest, shard.arrivals[0])
            if shard.closed_at is not None:
                oldest = min(oldest, shard.closed_at)
        self._next_expiry = oldest + retention

    # -- resharding ---------------------------------------------------------------------------------
    def _close(self, shard: ShardLog, now: float, children: list[ShardLog]) -> None:
        """Close ``shard``; its ending sequence number lies above every record it holds."""
        self.counter += 1
        shard.close(now, encode_sequence_number(shard.index, self.counter), children)
        self.written(now)  # a closed shard leaves the listing a retention period after it closed

    def split(self, shard: ShardLog, new_starting_hash_key: int, now: float) -> None:
        low = HashKeyRange(shard.hash_key_range.start, new_starting_hash_key - 1)
        high = HashKeyRange(new_starting_hash_key, shard.hash_key_range.end)
        children = [self._new_shard(low, (shard.shard_id,)), self._new_shard(high, (shard.shard_id,))]
        self._close(shard, now, children)
        self._reroute()

    def merge(self, shard: ShardLog, adjacent: ShardLog, now: float) -> None:
        first, second = sorted((shard, adjacent), key=lambda s: s.hash_key_range.start)
        merged = HashKeyRange(first.hash_key_range.start, second.hash_key_range.end)
        child = self._new_shard(merged, (shard.shard_id, adjacent.shard_id))
        self._close(shard, now, [child])
        self._close(adjacent, now, [child])
        self._reroute()

    def scaling_problem(self, target: int, now: float) -> Optional[str]:
        """Why UpdateShardCount to ``target`` is over the service's limits now, or None."""
        while self.scaling_times and self.scaling_times[0] <= now - 86_400:
            self.scaling_times.popleft()
        current = len(self.open_shards())
        if len(self.scaling_times) >= 10:
            return "more than ten times per rolling 24-hour period"
        if target > 2 * current:
            return f"to more than double the current open shard count ({current})"
        if 2 * target < current:
            return f"to less than half the current open shard count ({current})"
        return None

    def scale_uniformly(self, target: int, now: float) -> None:
        """Reshard to ``target`` even open shards: split at every target boundary, then merge."""
        targets = even_ranges(target)
        boundaries = [r.start for r in targets[1:]]
        for shard in sorted(self.open_shards(), key=lambda s: s.hash_key_range.start):
            piece = shard
            for boundary in boundaries:
                if piece.hash_key_range.start < boundary <= piece.hash_key_range.end:
                    self.split(piece, boundary, now)
                    piece = piece.children[1]
        for target_range in targets:
            pieces = sorted((s for s in self.open_shards() if s.hash_key_range.start in target_range),
                            key=lambda s: s.hash_key_range.start)
            merged = pieces[0]
            for piece in pieces[1:]:
                self.merge(merged, piece, now)
                merged = merged.children[0]

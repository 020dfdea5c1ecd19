"""The Kinesis API's wire shapes (boto3's PascalCase dictionaries) to and from kinsim's domain types.

Used at the two borders only: the boto3-shaped client facade turns domain results into what
``boto3.client("kinesis")`` returns, and the boto3 backend turns boto3's answers back into domain types.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Optional

from dateutil.tz import tzlocal

from .records import (
    ChildShard,
    GetRecordsResult,
    HashKeyRange,
    Record,
    Shard,
    StreamDescription,
)

__all__ = [
    "timestamp_to_wire",
    "timestamp_from_wire",
    "hash_key_range_to_wire",
    "hash_key_range_from_wire",
    "shard_to_wire",
    "shard_from_wire",
    "record_to_wire",
    "record_from_wire",
    "child_shard_to_wire",
    "child_shard_from_wire",
    "get_records_to_wire",
    "stream_description_to_wire",
]

Wire = dict[str, Any]


def timestamp_to_wire(instant: float) -> datetime:
    """A time as boto3 returns it: an aware datetime in the local zone, to the millisecond."""
    return datetime.fromtimestamp(round(instant, 3), tzlocal())


def timestamp_from_wire(value: Any) -> float:
    if isinstance(value, datetime):
        return value.timestamp()
    return float(value)


def hash_key_range_to_wire(hash_range: HashKeyRange) -> Wire:
    return {"StartingHashKey": str(hash_range.start), "EndingHashKey": str(hash_range.end)}


def hash_key_range_from_wire(wire: Wire) -> HashKeyRange:
    return HashKeyRange(int(wire["StartingHashKey"]), int(wire["EndingHashKey"]))


def shard_to_wire(shard: Shard) -> Wire:
    wire: Wire = {"ShardId": shard.shard_id}
    if shard.parent_shard_id is not None:
        wire["ParentShardId"] = shard.parent_shard_id
    if shard.adjacent_parent_shard_id is not None:
        wire["AdjacentParentShardId"] = shard.adjacent_parent_shard_id
    wire["HashKeyRange"] = hash_key_range_to_wire(shard.hash_key_range)
    sequence_range = {"StartingSequenceNumber": shard.starting_sequence_number}
    if shard.ending_sequence_number is not None:
        sequence_range["EndingSequenceNumber"] = shard.ending_sequence_number
    wire["SequenceNumberRange"] = sequence_range
    return wire


def shard_from_wire(wire: Wire) -> Shard:
    sequence_range = wire["SequenceNumberRange"]
    return Shard(wire["ShardId"], hash_key_range_from_wire(wire["HashKeyRange"]),
                 sequence_range["StartingSequenceNumber"], sequence_range.get("EndingSequenceNumber"),
                 wire.get("ParentShardId"), wire.get("AdjacentParentShardId"))


def record_to_wire(record: Record) -> Wire:
    return {
        "SequenceNumber": record.sequence_number,
        "ApproximateArrivalTimestamp": timestamp_to_wire(record.approximate_arrival_timestamp),
        "Data": record.data,
        "PartitionKey": record.partition_key,
    }


def record_from_wire(wire: Wire) -> Record:
    return Record(wire["SequenceNumber"], timestamp_from_wire(wire["ApproximateArrivalTimestamp"]),
                  bytes(wire["Data"]), wire["PartitionKey"])


def child_shard_to_wire(child: ChildShard) -> Wire:
    return {"ShardId": child.shard_id, "ParentShards": list(child.parent_shards),
            "HashKeyRange": hash_key_range_to_wire(child.hash_key_range)}


def child_shard_from_wire(wire: Wire) -> ChildShard:
    return ChildShard(wire["ShardId"], tuple(wire["ParentShards"]), hash_key_range_from_wire(wire["HashKeyRange"]))


def get_records_to_wire(result: GetRecordsResult) -> Wire:
    wire: Wire = {"Records": [record_to_wire(r) for r in result.records]}
    if result.next_shard_iterator is not None:
        wire["NextShardIterator"] = result.next_shard_iterator
    wire["MillisBehindLatest"] = result.millis_behind_latest
    if result.child_shards:
        wire["ChildShards"] = [child_shard_to_wire(c) for c in result.child_shards]
    return wire


def stream_description_to_wire(description: StreamDescription, shards: list[Shard],
                               has_more_shards: Optional[bool] = None) -> Wire:
    wire: Wire = {
        "StreamName": description.name,
        "StreamARN": description.arn,
        "StreamStatus": description.status.value,
        "StreamModeDetails": {"StreamMode": "PROVISIONED"},
        "Shards": [shard_to_wire(s) for s in shards],
        "HasMoreShards": bool(has_more_shards),
        "RetentionPeriodHours": description.retention_period_hours,
        "StreamCreationTimestamp": timestamp_to_wire(description.created_at),
        "EnhancedMonitoring": [{"ShardLevelMetrics": []}],
        "EncryptionType": "NONE",
    }
    return wire

"""The Kinesis API's shapes (PascalCase dictionaries) to and from kinsim's domain types.

Used at the borders only: the api layer turns domain results into the API's responses, and the boto3
backend turns boto3's answers back into domain types. Timestamps leave as float seconds since the
epoch (each adapter gives them its own form) and come back from whatever boto3 gives.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any, Callable, Mapping, Optional

from .records import (
    ChildShard,
    GetRecordsResult,
    HashKeyRange,
    Record,
    Shard,
    StreamDescription,
)

__all__ = [
    "shape_converter",
    "shown_millis",
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


def shape_converter(shape, leaves: Mapping[str, Callable[[Any], Any]],
                    copy: bool = True) -> Optional[Callable[[Any], Any]]:
    """A function giving a value of botocore model ``shape`` with ``leaves[type]`` applied to every
    value of that type in it (``{"blob": ..., "timestamp": ...}``): with ``copy``, in new dictionaries and
    lists along the way, so the caller's are never touched; else in place. None if the shape holds no
    such value. Adapters build one per operation and direction, once."""
    kind = shape.type_name
    if kind in leaves:
        return leaves[kind]
    if kind == "structure":
        members = [(name, c) for name, member in shape.members.items()
                   if (c := shape_converter(member, leaves, copy)) is not None]
        if not members:
            return None

        def structure(value: dict) -> dict:
            if copy:
                value = dict(value)
            for name, member_convert in members:
                if value.get(name) is not None:
                    value[name] = member_convert(value[name])
            return value
        return structure
    if kind == "list":
        item = shape_converter(shape.member, leaves, copy)
        return None if item is None else (lambda values: [item(v) for v in values])
    if kind == "map":
        item = shape_converter(shape.value, leaves, copy)
        return None if item is None else (lambda values: {k: item(v) for k, v in values.items()})
    return None


def shown_millis(instant: float) -> int:
    """The whole millisecond the API shows a time at: the one it falls in (arrival times are kept finer,
    and a record's shown arrival time given back as AT_TIMESTAMP must start at that record). An instant
    that is a millisecond's own float (``.123``, held as ``.12299999``) is that millisecond; any other is
    the millisecond its exact value falls in (1.9999995 s is millisecond 1,999), whichever way the
    product ``instant * 1000`` rounded."""
    millis = math.floor(instant * 1000)
    if (millis + 1) / 1000 == instant:  # the next millisecond's own float, a hair under it
        return millis + 1
    if millis / 1000 > instant:  # the product rounded up onto a millisecond the instant is under
        return millis - 1
    return millis


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
        "ApproximateArrivalTimestamp": record.approximate_arrival_timestamp,
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
    records = result.records  # column by column: no Record object on the way
    wire: Wire = {"Records": [
        {"SequenceNumber": number, "ApproximateArrivalTimestamp": arrival, "Data": data, "PartitionKey": key}
        for number, arrival, data, key in zip(records.sequence_numbers, records.arrival_times, records.datas,
                                              records.partition_keys)]}
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
        "StreamCreationTimestamp": description.created_at,
        "EnhancedMonitoring": [{"ShardLevelMetrics": []}],
        "EncryptionType": "NONE",
    }
    return wire

"""kinsim.kcl with amazon-kclpy: kclpy v3's processor inputs, its processors and its errors.

A processor written for amazon-kclpy (the sdist's own sample app, and one in its pattern) runs unchanged
on kinsim's inputs and checkpointer, and catches kclpy's ``CheckpointError``; kinsim's inputs read the
same as kclpy's own ``messages`` classes. The checkpointer's rules: tests/test_kcl_checkpointer.py.
"""

from __future__ import annotations

import importlib.util
from datetime import datetime

import pytest

from kinsim.kcl import (ILLEGAL_ARGUMENT, SHARD_END, CheckpointError, InitializeInput, LeaseLostInput,
                        ProcessRecordsInput, Record, RecordProcessor, ShardEndedInput, ShutdownRequestedInput)
from kinsim.records import Record as StreamRecord
from tests.kcl_helpers import T0, Shard, stream_records


# ---- a processor written for amazon-kclpy, unchanged -------------------------------------------------------

def user_processor_class():
    """A user's processor in the sample app's pattern (defined once kclpy is importable)."""
    from amazon_kclpy import kcl
    from amazon_kclpy.v3 import processor

    class Tally(processor.RecordProcessorBase):
        def __init__(self):
            self.shard_id = None
            self.seen = []
            self.largest = (None, None)
            self.events = []

        def initialize(self, initialize_input):
            self.shard_id = initialize_input.shard_id
            self.events.append(("initialize", initialize_input.sequence_number))

        def checkpoint(self, checkpointer, sequence_number=None, sub_sequence_number=None):
            try:
                checkpointer.checkpoint(sequence_number, sub_sequence_number)
                self.events.append(("checkpointed", sequence_number))
            except kcl.CheckpointError as e:
                self.events.append(("error", e.value))

        def process_records(self, process_records_input):
            for record in process_records_input.records:
                self.seen.append((record.partition_key, record.binary_data.decode(), int(record.sequence_number)))
                self.largest = (int(record.sequence_number), record.sub_sequence_number)
            self.checkpoint(process_records_input.checkpointer, str(self.largest[0]), self.largest[1])

        def lease_lost(self, lease_lost_input):
            self.events.append(("lease_lost",))

        def shard_ended(self, shard_ended_input):
            self.checkpoint(shard_ended_input.checkpointer)

        def shutdown_requested(self, shutdown_requested_input):
            self.checkpoint(shutdown_requested_input.checkpointer)

    return Tally


def test_a_kclpy_processor_runs_unchanged(kclpy):
    from amazon_kclpy.v3.processor import RecordProcessorBase

    shard, tally = Shard(), user_processor_class()()
    assert isinstance(tally, RecordProcessorBase) and isinstance(tally, RecordProcessor)
    tally.initialize(InitializeInput("shardId-000000000000", "TRIM_HORIZON"))
    tally.process_records(shard.batch(100, 3))
    tally.process_records(shard.batch(103, 2))
    assert tally.seen == [(f"key-{i % 3}", f"event {i}", 100 + j) for j, i in enumerate([0, 1, 2, 0, 1])]
    assert shard.writes == ["102", "104"]
    shard.checkpointer.end_shard()
    tally.shard_ended(ShardEndedInput(shard.checkpointer))
    assert shard.writes == ["102", "104", SHARD_END] and shard.checkpointer.reached_shard_end
    assert tally.events == [("initialize", "TRIM_HORIZON"), ("checkpointed", "102"), ("checkpointed", "104"),
                            ("checkpointed", None)]


def test_a_kclpy_processor_catches_the_zombie_case(kclpy):
    shard, tally = Shard(), user_processor_class()()
    tally.initialize(InitializeInput("shardId-000000000000", "TRIM_HORIZON"))
    tally.process_records(shard.batch(1, 2))
    shard.accept = False                      # another worker took the lease meanwhile
    tally.process_records(shard.batch(3, 2))
    tally.lease_lost(LeaseLostInput())
    assert tally.events[-2:] == [("error", "ShutdownException"), ("lease_lost",)]
    assert (shard.checkpointer.written, shard.checkpointer.refused) == (1, 1)


def test_kcl_names():
    import kinsim.kcl

    assert sorted(kinsim.kcl.__all__) == sorted([
        "RecordProcessor", "Checkpointer", "CheckpointError", "SHARD_END", "ILLEGAL_ARGUMENT", "INVALID_STATE",
        "SHUTDOWN", "InitializeInput", "Record", "ProcessRecordsInput", "LeaseLostInput", "ShardEndedInput",
        "ShutdownRequestedInput"])


def test_the_errors_are_kclpys(kclpy):
    from amazon_kclpy import checkpoint_error, kcl

    shard = Shard()
    with pytest.raises(kcl.CheckpointError) as info:
        shard.checkpointer.checkpoint("7")
    assert isinstance(info.value, CheckpointError) and isinstance(info.value, checkpoint_error.CheckpointError)
    assert info.value.value == ILLEGAL_ARGUMENT and str(info.value) == repr(ILLEGAL_ARGUMENT)


def test_the_sdists_sample_app_runs_unchanged(kclpy, capsys):
    spec = importlib.util.spec_from_file_location("sample_kclpy_app", kclpy / "samples" / "sample_kclpy_app.py")
    sample = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(sample)
    shard, app = Shard(), sample.RecordProcessor()
    app.initialize(InitializeInput("shardId-000000000000", None))
    app.process_records(shard.batch(500, 4))      # its first batch checkpoints (30 s since time 0)
    assert shard.writes == ["503"]
    app.shutdown_requested(ShutdownRequestedInput(shard.checkpointer))  # nothing new: nothing written
    shard.checkpointer.end_shard()
    app.shard_ended(ShardEndedInput(shard.checkpointer))
    assert shard.writes == ["503", SHARD_END]
    assert "Partition Key: key-0, Sequence Number: 500" in capsys.readouterr().err


def test_inputs_read_as_kclpys_messages(kclpy):
    from amazon_kclpy import messages

    for record in ProcessRecordsInput.of(stream_records(42, 5) + [StreamRecord("47", 0.0009, b"", "")], None).records:
        theirs = messages.Record({k: record[k] for k in ("sequenceNumber", "subSequenceNumber",
                                                        "approximateArrivalTimestamp", "partitionKey", "data")})
        for name in ("binary_data", "data", "partition_key", "sequence_number", "sub_sequence_number",
                     "timestamp_millis", "approximate_arrival_timestamp"):
            assert getattr(record, name) == getattr(theirs, name), name
            assert type(getattr(record, name)) is type(getattr(theirs, name)), name
    ours = InitializeInput("shardId-1", "49590338271490256608559692538361571095921575989136588898", 0)
    theirs = messages.InitializeInput({"action": "initialize", "shardId": "shardId-1", "subSequenceNumber": 0,
                                       "sequenceNumber": "49590338271490256608559692538361571095921575989136588898"})
    assert [getattr(ours, n) for n in ("shard_id", "sequence_number", "sub_sequence_number", "action")] == \
        [getattr(theirs, n) for n in ("shard_id", "sequence_number", "sub_sequence_number", "action")]
    for ours, kind in [(LeaseLostInput(), messages.LeaseLostInput), (ShardEndedInput(None), messages.ShardEndedInput),
                       (ShutdownRequestedInput(None), messages.ShutdownRequestedInput)]:
        assert ours.action == kind({"action": ours.action}).action


def test_record_fields():
    record = Record.of(StreamRecord("9", T0, b"\x00\xffhi", "pk"))
    assert (record.sequence_number, record.sub_sequence_number, record.partition_key) == ("9", 0, "pk")
    assert record.binary_data == b"\x00\xffhi" and record.data == "AP9oaQ=="
    assert record.timestamp_millis == 1_533_074_160_250
    assert record.approximate_arrival_timestamp == datetime.fromtimestamp(1_533_074_160.25)
    assert record.get("partitionKey") == record["partitionKey"] == "pk"

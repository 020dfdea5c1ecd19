"""Record processors in the shape of amazon-kclpy v3 (DESIGN §11, "Processors" and "Checkpointer").

A class written for ``amazon_kclpy.v3.processor.RecordProcessorBase`` is given these inputs and this
checkpointer and runs unchanged: same attribute names and types (``inputs``), the KCL's checkpoint
rules and kclpy's ``CheckpointError`` (``checkpointer``). ``RecordProcessor`` states the five methods;
subclassing kclpy's base class is not needed (nor is amazon_kclpy installed for kinsim to work).
The workers that drive processors are ``simulation.workers``; ``simulation.processing`` runs one.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from .checkpointer import (ILLEGAL_ARGUMENT, INVALID_STATE, SHARD_END, SHUTDOWN, CheckpointError,
                           Checkpointer)
from .inputs import (InitializeInput, LeaseLostInput, ProcessRecordsInput, Record, ShardEndedInput,
                     ShutdownRequestedInput)

__all__ = [
    "RecordProcessor", "Checkpointer", "CheckpointError", "SHARD_END", "ILLEGAL_ARGUMENT", "INVALID_STATE",
    "SHUTDOWN", "InitializeInput", "Record", "ProcessRecordsInput", "LeaseLostInput", "ShardEndedInput",
    "ShutdownRequestedInput",
]


@runtime_checkable
class RecordProcessor(Protocol):
    """One shard's processor, called in this order: ``initialize`` once; ``process_records`` zero or
    more times; then at most one of ``lease_lost`` (no checkpointing possible), ``shard_ended`` (must
    checkpoint, or the children never start) or ``shutdown_requested`` (may checkpoint)."""

    def initialize(self, initialize_input: InitializeInput) -> None: ...

    def process_records(self, process_records_input: ProcessRecordsInput) -> None: ...

    def lease_lost(self, lease_lost_input: LeaseLostInput) -> None: ...

    def shard_ended(self, shard_ended_input: ShardEndedInput) -> None: ...

    def shutdown_requested(self, shutdown_requested_input: ShutdownRequestedInput) -> None: ...

"""What processes one lease's records (DESIGN §11, "Counters as processors"): the scenario's counters, one
part each, and the user's own KCL-shaped processor when the scenario names one.

Without a processor of the user's, the counters are the processor, and they checkpoint by the
scenario's ``consumer.checkpoint`` policy after a batch, and at a shard's end (they must, or the
children never start). A refused checkpoint (``ShutdownException``: the lease is another worker's) is
what a KCL application logs and gets over; the shard consumer then ends with ``lease_lost``.

With one (``consumer.processor``), it is given every batch that holds records as amazon-kclpy v3
inputs (an empty poll reaches the counters only: the KCL calls ``processRecords`` for an empty batch
only when ``callProcessRecordsEvenForEmptyRecordList`` is set, and it is not by default) and decides its
checkpoints itself; the counters count what it was given, beside it, and their state is saved with the
checkpoints it writes. A refused checkpoint it does not catch is passed over, as kclpy's ``KCLProcess``
does.

``consumer.state: checkpointed`` saves the counters' state with each checkpoint, atomically, in the
lease; the next owner restores it and continues the same counts (``PerShard`` lineages). With
``memory`` the state lives and dies with the processor: a new owner counts from nothing what it is
given again.
"""

from __future__ import annotations

import math
from typing import Any, Callable, Optional, Sequence

from ..counters import Part, PerShard
from ..kcl import (Checkpointer, CheckpointError, InitializeInput, LeaseLostInput, ProcessRecordsInput,
                   ShardEndedInput, ShutdownRequestedInput)
from ..records import GetRecordsResult, Record
from ..scenario.model import CheckpointPolicy
from .payload import EVENT_TIMES

__all__ = ["LeaseProcessor"]


class LeaseProcessor:
    """One lease's processor. ``restore`` is the state its lease holds (a snapshot per counter), or None."""

    def __init__(self, shard_id: str, counters: Sequence[PerShard], lineage: str, restore: Optional[tuple],
                 policy: CheckpointPolicy, started_at: float, user: Any = None,
                 echo: Optional[Callable[[Record], None]] = None) -> None:
        self.shard_id = shard_id
        if restore is not None and len(restore) == len(counters):
            self.parts: list[Part] = [counter.open(shard_id, restore=state) for counter, state in zip(counters, restore)]
        else:
            self.parts = [counter.open(shard_id, lineage) for counter in counters]
        self._woken_by_empty = [part for part in self.parts if part.owner.wants_empty_polls]
        self.policy = policy
        self.user = user
        self.echo = echo
        self._checkpointed_at = started_at
        self._since_checkpoint = 0
        self.quiet_until = self._quiet_until()

    def snapshot(self) -> tuple:
        """The counters' state now, to save with a checkpoint."""
        return tuple(part.snapshot() for part in self.parts)

    # -- the KCL calls --------------------------------------------------------------------------------
    def initialize(self, checkpoint: str) -> None:
        """``checkpoint``: where the processor starts after, a sequence number or a sentinel such as
        ``TRIM_HORIZON`` (as the multilang daemon passes it)."""
        if self.user is not None:
            self.user.initialize(InitializeInput(self.shard_id, checkpoint))

    def process(self, result: GetRecordsResult, now_s: float, now_us: int, checkpointer: Checkpointer) -> None:
        """One poll's result; an empty one changes nothing before ``quiet_until`` (the caller may leave it
        out then)."""
        records = result.records
        count = len(records)
        if count:
            if self.echo is not None:
                for record in records:
                    self.echo(record)
            keys, times = records.partition_keys, records.values(EVENT_TIMES)
            for part in self.parts:
                part.process(keys, times, now_us)
        else:
            for part in self._woken_by_empty:
                part.process((), (), now_us)
        if self.user is not None:
            if count:  # as the KCL: no processRecords for an empty poll (callProcessRecordsEvenForEmptyRecordList)
                _passed_over(self.user.process_records,
                             ProcessRecordsInput.of(records, checkpointer, result.millis_behind_latest))
            return
        self._since_checkpoint += count
        if self._due(now_s):
            self._checkpointed_at = now_s
            self._since_checkpoint = 0
            self.quiet_until = self._quiet_until()
            _passed_over(checkpointer.checkpoint)  # at the last record delivered

    def shard_ended(self, now_us: int, checkpointer: Checkpointer) -> None:
        """Read to the shard's end: the counters fire what they hold, then the checkpoint at SHARD_END."""
        for part in self.parts:
            part.end(now_us)
        if self.user is not None:
            _passed_over(self.user.shard_ended, ShardEndedInput(checkpointer))
        else:
            _passed_over(checkpointer.checkpoint)  # at the last record delivered

    def lease_lost(self) -> None:
        for part in self.parts:
            part.drop()
        if self.user is not None:
            self.user.lease_lost(LeaseLostInput())

    def shutdown_requested(self, checkpointer: Checkpointer) -> None:
        """Input has ended: a user's processor may checkpoint once more (the counters close by themselves)."""
        if self.user is not None:
            _passed_over(self.user.shutdown_requested, ShutdownRequestedInput(checkpointer))

    def crashed(self) -> None:
        """The worker crashed: nothing is called, the state is gone."""
        for part in self.parts:
            part.drop()

    def _quiet_until(self) -> float:
        """Before when an empty poll changes nothing: no counter acts on one, and no checkpoint falls due
        (a user's processor is not given one; a records policy falls due only after records; ``every``
        a little before the instant ``_due`` says, far more than the rounding of its subtraction)."""
        policy = self.policy
        if self._woken_by_empty or self.user is None and policy.each_batch:
            return -math.inf
        if self.user is None and policy.every is not None:
            due = self._checkpointed_at + policy.every
            return due - 1e-9 * (abs(due) + 1.0)
        return math.inf

    def _due(self, now_s: float) -> bool:
        policy = self.policy
        if policy.each_batch:
            return True
        if policy.every is not None:
            return now_s - self._checkpointed_at >= policy.every
        if policy.records is not None:
            return self._since_checkpoint >= policy.records
        return False


def _passed_over(call: Callable[..., None], *arguments: Any) -> None:
    """Call the processor; a ``CheckpointError`` it lets out (kclpy's sample app does, at a shard's end,
    for a zombie) is passed over, as kclpy's ``KCLProcess`` passes over what a processor raises and the
    KCL goes on: the checkpointer has counted the refusal, and the lease is let go."""
    try:
        call(*arguments)
    except CheckpointError:
        pass

"""The checkpointer a record processor is given: the KCL's rules, kclpy's errors.

Rules (KCL ``ShardRecordProcessorCheckpointer``, ``ExtendedSequenceNumber``, multilang ``MultiLangProtocol``):

- ``checkpoint()`` checkpoints at the largest permitted value: the last record delivered so far, or
  before any delivery the checkpoint the processor started from (then nothing is written).
- ``checkpoint(sequence_number, sub_sequence_number=0)``: a decimal string (an int is taken as its
  digits, as the daemon's JSON reader would); it must be >= the last checkpoint and <= the largest
  permitted, compared as (sequence number, sub-sequence number), else ``IllegalArgumentException``; so
  are a negative sub-sequence number and a sequence number that is not digits. The sentinel ``SHARD_END``
  is accepted where the KCL accepts it (at shard end); the other sentinels are refused as arguments
  (a narrowing: the KCL would compare them, and e.g. accept ``LATEST`` over ``TRIM_HORIZON``).
- A checkpoint equal to the last one written is not written again (``advancePosition``), and raises
  nothing, even for a zombie.
- At shard end (``end_shard()``, KCL ``ShutdownTask``): the largest permitted becomes ``SHARD_END``, and
  a checkpoint at the last record delivered is written as ``SHARD_END``; a smaller one is written as it
  is (and the shard has not ended for the KCL: ``reached_shard_end`` stays False). A checkpoint at the
  last record when that was already written writes nothing (the KCL compares before rewriting).
- Sub-sequence numbers take part in the comparison but are not written: kinsim's records have none.
- The write refused (``write`` returns None or False; KCL ``DynamoDBCheckpointer``: "instance doesn't
  hold the lease") → ``ShutdownException``; the lease is lost for good, so later checkpoints raise it
  without writing.
- After ``close()`` (the processor's turn is over: lease lost, shut down) → ``InvalidStateException``
  (multilang: no checkpointer for the shard; kclpy: the daemon's answer is not a checkpoint).

Errors are ``CheckpointError`` with ``.value`` the KCL exception's name. When ``amazon_kclpy`` is
importable at the time of raising, the error is also an ``amazon_kclpy.checkpoint_error.CheckpointError``
(which ``amazon_kclpy.kcl.CheckpointError`` is), so a kclpy processor's ``except`` catches it.
"""

from __future__ import annotations

import importlib
from typing import Callable, Optional, Union

__all__ = ["CheckpointError", "Checkpointer", "SHARD_END", "ILLEGAL_ARGUMENT", "INVALID_STATE", "SHUTDOWN"]

SHARD_END = "SHARD_END"
ILLEGAL_ARGUMENT = "IllegalArgumentException"
INVALID_STATE = "InvalidStateException"
SHUTDOWN = "ShutdownException"
_SENTINELS = {"AT_TIMESTAMP": -3, "TRIM_HORIZON": -2, "LATEST": -1}  # below every sequence number

Position = tuple[int, int, int]  # (0, number, sub) for a sequence number or sentinel; (1, 0, 0) for SHARD_END


class CheckpointError(Exception):
    """A refused checkpoint; ``value`` names the KCL exception (kclpy's ``CheckpointError`` shape)."""

    def __init__(self, value: str, message: str = "") -> None:
        Exception.__init__(self, value)
        self.value = value
        self.message = message

    def __str__(self) -> str:
        return repr(self.value)


_kclpy_errors: dict[type, type] = {}


def _error(value: str, message: str) -> CheckpointError:
    """kinsim's error, and kclpy's too when amazon_kclpy can be imported now."""
    try:
        kclpy = importlib.import_module("amazon_kclpy.checkpoint_error").CheckpointError
    except ImportError:
        return CheckpointError(value, message)
    cls = _kclpy_errors.get(kclpy)
    if cls is None:
        cls = _kclpy_errors[kclpy] = type("CheckpointError", (CheckpointError, kclpy),
                                          {"__module__": __name__, "__doc__": CheckpointError.__doc__})
    return cls(value, message)


def position(sequence_number: str, sub_sequence_number: int = 0) -> Position:
    """Where a checkpoint value sits in the KCL's order (``ExtendedSequenceNumber.compareTo``)."""
    if sequence_number == SHARD_END:
        return (1, 0, 0)
    if sequence_number in _SENTINELS:
        return (0, _SENTINELS[sequence_number], sub_sequence_number)
    if sequence_number.isascii() and sequence_number.isdigit():
        return (0, int(sequence_number), sub_sequence_number)
    raise ValueError(f"not a sequence number or a sentinel: {sequence_number!r}")


class Checkpointer:
    """One processor's checkpointer for one lease.

    ``delivered()`` returns the sequence number of the last record delivered to the processor so far
    (None before the first); ``write(checkpoint)`` writes a checkpoint (a decimal string or ``SHARD_END``)
    to the lease and returns something true, or None/False when refused (``Leaseholder.checkpoint``
    fits, with its shard id and state bound). ``start`` is the lease's checkpoint the processor
    started from. ``written`` and ``refused`` count the writes that succeeded and the checkpoints that
    raised ``ShutdownException``.
    """

    def __init__(self, shard_id: str, delivered: Callable[[], Optional[str]],
                 write: Callable[[str], object], start: str = "TRIM_HORIZON") -> None:
        self.shard_id = shard_id
        self._delivered = delivered
        self._write = write
        self.last_checkpoint: str = start      # as the KCL keeps it: the last value written
        self._last: Position = position(start)  # a bad start: ValueError now, not later
        self._at_shard_end: Optional[Position] = None   # the last record's position, once the shard ended
        self.lost = False
        self.closed = False
        self.written = 0
        self.refused = 0

    # ---- the worker's side -------------------------------------------------------------------------
    def end_shard(self) -> None:
        """The shard was read to its end: from now on the largest permitted value is ``SHARD_END``."""
        if self._at_shard_end is None:
            last = self._delivered()
            self._at_shard_end = position(str(last)) if last is not None else self._last

    def close(self) -> None:
        """The processor's turn is over: checkpoints now raise ``InvalidStateException``."""
        self.closed = True

    @property
    def reached_shard_end(self) -> bool:
        return self.last_checkpoint == SHARD_END

    # ---- the processor's side ----------------------------------------------------------------------
    def checkpoint(self, sequence_number: Union[str, int, None] = None,
                   sub_sequence_number: Optional[int] = None) -> None:
        if self.closed:
            raise _error(INVALID_STATE, f"no checkpointer for shard {self.shard_id}: the processor was shut down")
        largest = self._largest_permitted()
        if sequence_number is None:   # the daemon ignores a sub-sequence number without a sequence number
            self._advance(largest)
            return
        if sub_sequence_number is None:
            sub_sequence_number = 0
        if isinstance(sub_sequence_number, bool) or not isinstance(sub_sequence_number, int):
            raise _error(ILLEGAL_ARGUMENT, f"sub-sequence number is not an integer: {sub_sequence_number!r}")
        if sub_sequence_number < 0:
            raise _error(ILLEGAL_ARGUMENT, f"negative sub-sequence number {sub_sequence_number}")
        if isinstance(sequence_number, int) and not isinstance(sequence_number, bool) and sequence_number >= 0:
            sequence_number = str(sequence_number)
        if not isinstance(sequence_number, str) or sequence_number in _SENTINELS:
            raise _error(ILLEGAL_ARGUMENT, f"not a sequence number: {sequence_number!r}")
        try:
            wanted = position(sequence_number, sub_sequence_number)
        except ValueError:
            raise _error(ILLEGAL_ARGUMENT, f"not a sequence number: {sequence_number!r}") from None
        if not self._last <= wanted <= largest:
            raise _error(ILLEGAL_ARGUMENT, f"{sequence_number}.{sub_sequence_number} is outside "
                         f"[last checkpoint {self.last_checkpoint}, largest delivered {self._describe(largest)}]")
        self._advance(wanted)

    def _largest_permitted(self) -> Position:
        if self._at_shard_end is not None:
            return (1, 0, 0)
        last = self._delivered()
        return self._last if last is None else max(position(str(last)), self._last)

    def _advance(self, wanted: Position) -> None:
        if wanted == self._last:      # KCL advancePosition: never write the same value twice
            return
        if self._at_shard_end is not None and wanted == self._at_shard_end:
            wanted = (1, 0, 0)
            if wanted == self._last:
                return
        if self.lost:
            self.refused += 1
            raise _error(SHUTDOWN, f"shard {self.shard_id}: this worker no longer holds the lease")
        value = self._describe(wanted)
        if not self._write(value):
            self.lost = True
            self.refused += 1
            raise _error(SHUTDOWN, f"shard {self.shard_id}: the lease table refused checkpoint {value}")
        self.written += 1
        self.last_checkpoint, self._last = value, wanted

    @staticmethod
    def _describe(at: Position) -> str:
        if at[0] == 1:
            return SHARD_END
        names = {number: name for name, number in _SENTINELS.items()}
        return names.get(at[1], str(at[1]))

"""Policy above the seam: ``RetryingBackend`` does over any backend what a careful client does, so no
record is lost silently, and ``wait_for_stream`` waits for a stream's status.

- Throttled calls (and ``LimitExceededException`` on control calls) and the failed records of a
  partially failed PutRecords are tried again after a capped exponential backoff with full jitter; a
  record still failing after the last attempt comes back as a ``PutFailure`` (a batch) or the error (a
  single put), never dropped.
- A call whose answer was lost (``AnswerLostError``) is sent again; for a put, its records are counted
  in ``stats.possible_duplicates``: the first send may have been written.
- An expired iterator is renewed after the last sequence number read from it (a ``LATEST`` one never
  read from, at the time it was issued, so it skips nothing).
- Creating, deleting and resharding wait until the stream is ACTIVE again (or gone).

It works the same over simulated shards (sleep by moving their clock) and over a real stream. kinsim's
own simulation does not use it: its producers and pollers handle throttling and expiry themselves, on
simulated time, and count what happened.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Callable, Optional, Sequence, Union

from .. import errors
from ..records import GetRecordsResult, IteratorType, PutEntry, PutOutcome, PutResult, Shard, StreamDescription, \
    StreamStatus
from .base import Backend

__all__ = ["RetryingBackend", "RetryPolicy", "RetryStats", "wait_for_stream"]

_RETRYABLE_CODES = {"ProvisionedThroughputExceededException", "LimitExceededException", "ThrottlingException",
                    "KMSThrottlingException"}


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 10          # calls in all, the first included
    base_s: float = 0.05        # the first backoff's ceiling
    cap_s: float = 5.0          # no backoff is longer

    def backoff(self, attempt: int, rng: random.Random) -> float:
        """Full jitter: uniform over [0, min(cap, base * 2**attempt)]."""
        return rng.uniform(0.0, min(self.cap_s, self.base_s * 2**attempt))


@dataclass
class RetryStats:
    retried_calls: int = 0
    retried_records: int = 0
    possible_duplicates: int = 0   # records sent again after an answer was lost
    renewed_iterators: int = 0


def wait_for_stream(backend: Backend, stream_name: str, done: Callable[[Optional[StreamStatus]], bool],
                    sleep: Callable[[float], None], clock: Callable[[], float], timeout_s: float) -> None:
    """Poll the stream's status (None: it does not exist) until ``done`` says so, sleeping 0.05 s doubling
    to 1 s between looks; a ``BackendError`` once ``timeout_s`` of ``clock`` have passed."""
    deadline = clock() + timeout_s
    delay = 0.05
    while True:
        try:
            status: Optional[StreamStatus] = backend.describe_stream(stream_name).status
        except errors.ResourceNotFoundException:
            status = None
        if done(status):
            return
        if clock() > deadline:
            raise errors.BackendError(f"stream {stream_name} is still {status.value if status else 'absent'} "
                                      f"after {timeout_s:g} s")
        sleep(delay)
        delay = min(1.0, delay * 2)


@dataclass
class _Chain:
    """Where an iterator chain reads, so an expired iterator can be renewed."""

    stream: str
    shard_id: str
    last_sequence: Optional[str]
    kind: IteratorType
    start_sequence: Optional[str]
    timestamp: Union[datetime, float, None]


class RetryingBackend(Backend):
    """``backend`` with retries, renewal and waiting (see the module's docstring)."""

    def __init__(self, backend: Backend, *, retry: RetryPolicy = RetryPolicy(),
                 sleep: Callable[[float], None] = time.sleep, rng: Optional[random.Random] = None,
                 clock: Callable[[], float] = time.monotonic, wait_timeout_s: float = 300.0) -> None:
        self.backend = backend
        self.name = backend.name
        self.retry = retry
        self.stats = RetryStats()
        self._sleep = sleep
        self._rng = rng if rng is not None else random.Random(0)
        self._clock = clock
        self._wait_timeout_s = wait_timeout_s
        self._chains: dict[str, _Chain] = {}

    def now(self) -> float:
        return self.backend.now()

    def _call(self, call: Callable, *args, records: int = 0, **kwargs):
        """One call, tried again while the service throttles or the answer is lost."""
        for attempt in range(self.retry.attempts):
            try:
                return call(*args, **kwargs)
            except errors.AnswerLostError:
                if attempt + 1 == self.retry.attempts:
                    raise
                self.stats.possible_duplicates += records
            except errors.KinesisError as exc:
                if exc.code not in _RETRYABLE_CODES or attempt + 1 == self.retry.attempts:
                    raise
            self.stats.retried_calls += 1
            self._sleep(self.retry.backoff(attempt, self._rng))
        raise AssertionError("unreachable")

    def _wait(self, stream_name: str, done: Callable[[Optional[StreamStatus]], bool]) -> None:
        wait_for_stream(self, stream_name, done, self._sleep, self._clock, self._wait_timeout_s)

    # -- streams ------------------------------------------------------------------------------------
    def create_stream(self, stream_name: str, shard_count: int) -> None:
        """Create the stream and wait until it is ACTIVE."""
        self._call(self.backend.create_stream, stream_name, shard_count)
        self._wait(stream_name, lambda status: status is StreamStatus.ACTIVE)

    def delete_stream(self, stream_name: str) -> None:
        """Delete the stream and wait until it is gone."""
        self._call(self.backend.delete_stream, stream_name)
        self._wait(stream_name, lambda status: status is None)

    def describe_stream(self, stream_name: str) -> StreamDescription:
        return self._call(self.backend.describe_stream, stream_name)

    def list_streams(self) -> list[str]:
        return self._call(self.backend.list_streams)

    def list_shards(self, stream_name: str) -> list[Shard]:
        return self._call(self.backend.list_shards, stream_name)

    def set_retention_period(self, stream_name: str, hours: int, *, increase: bool) -> None:
        self._call(self.backend.set_retention_period, stream_name, hours, increase=increase)

    # -- records ------------------------------------------------------------------------------------
    def put_record(self, stream_name: str, data: bytes, partition_key: str,
                   explicit_hash_key: Optional[str] = None,
                   sequence_number_for_ordering: Optional[str] = None) -> PutResult:
        return self._call(self.backend.put_record, stream_name, data, partition_key, explicit_hash_key,
                          sequence_number_for_ordering, records=1)

    def put_records(self, stream_name: str, entries: Sequence[PutEntry]) -> list[PutOutcome]:
        """Every entry's outcome in order; failed entries are sent again until they succeed or the
        attempts run out, and then come back as ``PutFailure``."""
        outcomes: list[Optional[PutOutcome]] = [None] * len(entries)
        pending = list(range(len(entries)))
        for attempt in range(self.retry.attempts):
            answers = self._call(self.backend.put_records, stream_name, [entries[i] for i in pending],
                                 records=len(pending))
            still = []
            for i, outcome in zip(pending, answers):
                outcomes[i] = outcome
                if not isinstance(outcome, PutResult):
                    still.append(i)
            pending = still
            if not pending or attempt + 1 == self.retry.attempts:
                break
            self.stats.retried_records += len(pending)
            self._sleep(self.retry.backoff(attempt, self._rng))
        return outcomes  # type: ignore[return-value]

    def get_shard_iterator(self, stream_name: str, shard_id: str, iterator_type: Union[IteratorType, str],
                           starting_sequence_number: Optional[str] = None,
                           timestamp: Union[datetime, float, None] = None) -> str:
        kind = IteratorType(iterator_type)
        if kind is IteratorType.LATEST:  # renewed, it must not skip what arrived since it was issued
            chain = _Chain(stream_name, shard_id, None, IteratorType.AT_TIMESTAMP, None, self.backend.now())
        else:
            chain = _Chain(stream_name, shard_id, None, kind, starting_sequence_number, timestamp)
        iterator = self._call(self.backend.get_shard_iterator, stream_name, shard_id, kind, starting_sequence_number,
                              timestamp)
        self._chains[iterator] = chain
        return iterator

    def _renew(self, chain: _Chain) -> str:
        self.stats.renewed_iterators += 1
        if chain.last_sequence is not None:
            iterator = self._call(self.backend.get_shard_iterator, chain.stream, chain.shard_id,
                                  IteratorType.AFTER_SEQUENCE_NUMBER, chain.last_sequence)
        else:
            iterator = self._call(self.backend.get_shard_iterator, chain.stream, chain.shard_id, chain.kind,
                                  chain.start_sequence, chain.timestamp)
        self._chains[iterator] = chain
        return iterator

    def get_records(self, shard_iterator: str, limit: Optional[int] = None) -> GetRecordsResult:
        chain = self._chains.pop(shard_iterator, None)
        try:
            result = self._call(self.backend.get_records, shard_iterator, limit)
        except errors.ExpiredIteratorException:
            if chain is None:
                raise
            renewed = self._renew(chain)
            result = self._call(self.backend.get_records, renewed, limit)
            chain = self._chains.pop(renewed)
        if result.next_shard_iterator is not None and chain is not None:
            if result.records:
                chain.last_sequence = result.records.last_sequence_number
            self._chains[result.next_shard_iterator] = chain
        return result

    # -- resharding ---------------------------------------------------------------------------------
    def split_shard(self, stream_name: str, shard_id: str, new_starting_hash_key: str) -> None:
        self._call(self.backend.split_shard, stream_name, shard_id, new_starting_hash_key)
        self._wait(stream_name, lambda status: status is StreamStatus.ACTIVE)

    def merge_shards(self, stream_name: str, shard_id: str, adjacent_shard_id: str) -> None:
        self._call(self.backend.merge_shards, stream_name, shard_id, adjacent_shard_id)
        self._wait(stream_name, lambda status: status is StreamStatus.ACTIVE)

    def update_shard_count(self, stream_name: str, target_shard_count: int) -> int:
        current = self._call(self.backend.update_shard_count, stream_name, target_shard_count)
        self._wait(stream_name, lambda status: status is StreamStatus.ACTIVE)
        return current

    def close(self) -> None:
        self.backend.close()

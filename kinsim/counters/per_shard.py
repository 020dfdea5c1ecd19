"""One counter per processor of a shard, as one KCL processor per shard lease (DESIGN §6, §11), reported
as one.

Each processor of a shard counts with a counter of its own (a ``Part``), built when it starts: a child
shard's first processor starts with empty state and no watermark. A part's counts belong to a
**lineage**: a processor that starts from nothing begins a lineage of its own; one that restores the
state a previous owner saved with its checkpoint (``consumer.state: checkpointed``) continues that
owner's lineage. A cell's reported count is the sum, over lineages, of each lineage's latest count for
it. So a key whose window is split between a parent and its children is counted whole; a processor
that lost its predecessor's state and counts the redelivered records again adds them a second time (the
at-least-once double count); one that restored the state replaces its predecessor's counts.

When a closed shard has been read to its end, its part fires every window it still holds (``end``); a
part whose processor lost its lease or crashed is ``drop``-ped: its state is gone, nothing fires.
``close`` at the end of input fires every part still live.

The figures a report reads are summed over all parts: records counted, rows emitted, late records (in
processing order), cells held; a restored part's figures are what it did itself, not what the counter
it was restored from had done. ``peak_state_cells`` is the most cells held at once by all live parts
together: during a call on one part, that part's own peak plus what the others hold (a counter measures
its peak as ``max(peak_state_cells, state_cells)`` as it goes; the built-in ones do, after each record or
run of records they count).
"""

from __future__ import annotations

import copy
from typing import Any, Callable, Optional, Sequence

from .base import Counter, LateRecord, Sink, report_rows
from .windows import Windowing

__all__ = ["PerShard", "Part"]


def _no_report(start: int, key: str, count: int, at_us: int) -> None:
    """The sink of the counter built only to read its name, kind and parameters."""


class Part:
    """One processor's counter for one shard."""

    __slots__ = ("owner", "shard_id", "lineage", "counter", "live", "since")

    def __init__(self, owner: "PerShard", shard_id: str, lineage: str, counter: Counter) -> None:
        self.owner = owner
        self.shard_id = shard_id
        self.lineage = lineage
        self.counter = counter
        self.live = True
        # what a restored counter had done already, its predecessor's work: not this part's
        self.since = (getattr(counter, "records_counted", 0), getattr(counter, "emitted_rows", 0),
                      len(getattr(counter, "late", ())))

    @property
    def records_counted(self) -> int:
        return getattr(self.counter, "records_counted", 0) - self.since[0]

    @property
    def emitted_rows(self) -> int:
        return self.counter.emitted_rows - self.since[1]  # type: ignore[attr-defined]

    @property
    def late(self) -> list[LateRecord]:
        return list(getattr(self.counter, "late", ()))[self.since[2]:]

    def process(self, keys: Sequence[str], event_us: Sequence[int], now_us: int) -> None:
        """One poll's records (maybe none) to this part's counter."""
        counter, owner = self.counter, self.owner
        if not owner._plain_peak:
            owner._run(counter, counter.process, self.shard_id, keys, event_us, now_us)
            return
        # ``PerShard._run``, inline, for a counter whose peak is a plain attribute (the built-in ones)
        before, saved = counter.state_cells, counter.peak_state_cells
        counter.peak_state_cells = before
        counter.process(self.shard_id, keys, event_us, now_us)
        after, peak = counter.state_cells, counter.peak_state_cells
        held = peak if peak > after else after          # max(after, peak), as _run has it
        counter.peak_state_cells = held if held > saved else saved
        owner.state_cells += after - before
        total = owner.state_cells - after + held
        if total > owner._peak:
            owner._peak = total

    def end(self, now_us: int) -> None:
        """The shard was read to its end (or input ended): the counter fires what it holds."""
        if self.live:
            self.owner._run(self.counter, self.counter.close, now_us)
            self._retire()

    def drop(self) -> None:
        """The processor is gone without finishing (lease lost, worker crashed): its state is lost."""
        if self.live:
            self._retire()

    def snapshot(self) -> tuple[str, Counter]:
        """This part's lineage and a copy of its counter's state as it is now, to save with a checkpoint
        (``PerShard.open(..., restore=)`` continues the lineage from it)."""
        return self.lineage, self.owner._copy(self.counter, self.lineage)

    def _retire(self) -> None:
        self.live = False
        self.owner.state_cells -= getattr(self.counter, "state_cells", 0)


class PerShard:
    """A counter kind run as one counter per processor of a shard: ``build(sink)`` makes each one."""

    def __init__(self, build: Callable[[Sink], Counter], sink: Sink) -> None:
        self._build = build
        self._sink = sink
        self._template = build(_no_report)
        self.name: str = self._template.name
        self.windowing: Windowing = self._template.windowing
        self.parts: list[Part] = []                      # in the order processors started
        self._first: dict[str, Part] = {}                # shard id → its first part (``process`` by shard id)
        self._lineages: dict[str, _Lineage] = {}         # lineage → the sink its counters report to
        self._totals: dict[int, dict[str, int]] = {}     # window start → key → the sum of each lineage's latest
        self._counts_cells = hasattr(self._template, "state_cells")
        self._counts_rows = hasattr(self._template, "emitted_rows")
        # the counter keeps its cells and its peak as plain attributes (Part.process measures it inline)
        self._plain_peak = self._counts_cells and _plain_attributes(self._template, "state_cells", "peak_state_cells")
        # False: the counter says a poll with no records changes nothing (then none is handed to it)
        self.wants_empty_polls: bool = getattr(self._template, "wants_empty_polls", True)
        self.state_cells = 0
        self._peak = 0
        self._reports = 0

    # -- what a report reads --------------------------------------------------------------------------
    def __getattr__(self, name: str) -> Any:
        """``kind``, ``params`` and anything else a report may ask of the counter: the counter's own
        (an attribute it does not have is missing here too)."""
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self._template, name)

    @property
    def records_counted(self) -> int:
        return sum(part.records_counted for part in self.parts)

    @property
    def emitted_rows(self) -> int:
        if not self._counts_rows:
            return self._reports
        return sum(part.emitted_rows for part in self.parts)

    @property
    def peak_state_cells(self) -> Optional[int]:
        if self._counts_cells:
            return self._peak
        if hasattr(self._template, "peak_state_cells"):  # an upper bound: the parts' peaks may not coincide
            return sum(part.counter.peak_state_cells for part in self.parts)  # type: ignore[attr-defined]
        return None

    @property
    def late(self) -> list[LateRecord]:
        late = [record for part in self.parts for record in part.late]
        return sorted(late, key=lambda record: record.processed_us)  # stable: parts in the order started

    # -- what processors call -------------------------------------------------------------------------
    def open(self, shard_id: str, lineage: Optional[str] = None,
             restore: Optional[tuple[str, Counter]] = None) -> Part:
        """A part for a processor starting on ``shard_id``: a new counter in lineage ``lineage`` (default:
        the shard id), or a copy of ``restore`` (a ``Part.snapshot``), continuing the snapshot's lineage."""
        lineage = shard_id if lineage is None else lineage
        if restore is not None:
            lineage = restore[0]
            counter = self._copy(restore[1], lineage)
        else:
            counter = self._build(self._sink_for(lineage))
        part = Part(self, shard_id, lineage, counter)
        self.parts.append(part)
        self._first.setdefault(shard_id, part)
        held = getattr(counter, "state_cells", 0)
        self.state_cells += held
        self._peak = max(self._peak, self.state_cells)
        return part

    def process(self, shard_id: str, keys: Sequence[str], event_us: Sequence[int], now_us: int) -> None:
        """One poll of one shard to that shard's first part (a single reader per shard)."""
        part = self._first.get(shard_id)
        if part is None:
            part = self.open(shard_id)
        part.process(keys, event_us, now_us)

    def end_shard(self, shard_id: str, now_us: int) -> None:
        """A closed shard has been read to its end by its single reader: its counter fires what it holds."""
        part = self._first.get(shard_id)
        if part is not None:
            part.end(now_us)

    def close(self, now_us: int) -> None:
        """Input has ended: every live part reports what it holds, in shard order (then started order)."""
        for part in sorted(self.parts, key=lambda part: part.shard_id):
            part.end(now_us)

    # -- the sum over lineages ------------------------------------------------------------------------
    def _run(self, counter: Counter, call: Callable[..., None], *args: Any) -> None:
        """Call the counter, and keep the total of cells held and its peak: the counter's own peak during
        the call (its ``peak_state_cells`` is set to its cells before, and read after) plus what the
        other parts hold meanwhile."""
        if not self._counts_cells:
            call(*args)
            return
        before = counter.state_cells  # type: ignore[attr-defined]
        saved = getattr(counter, "peak_state_cells", None)
        try:
            counter.peak_state_cells = before  # type: ignore[attr-defined]
        except AttributeError:  # a read-only peak: the counter's cells after the call are what is known
            saved = None
        call(*args)
        after = counter.state_cells  # type: ignore[attr-defined]
        held = after
        if saved is not None:
            held = max(after, counter.peak_state_cells)  # type: ignore[attr-defined]
            counter.peak_state_cells = max(saved, held)  # type: ignore[attr-defined]
        self.state_cells += after - before
        self._peak = max(self._peak, self.state_cells - after + held)

    def _copy(self, counter: Counter, lineage: str) -> Counter:
        """A deep copy of a counter's state that reports to ``lineage``'s sink (sinks are not copied)."""
        sink = self._sink_for(lineage)
        memo = {id(self._sink): self._sink, id(sink): sink, id(self): self}
        return copy.deepcopy(counter, memo)

    def _sink_for(self, lineage: str) -> Sink:
        """The sink of a lineage's counters: each cell's sum over lineages to the report's sink."""
        found = self._lineages.get(lineage)
        if found is None:
            found = self._lineages[lineage] = _Lineage(self)
        return found


def _plain_attributes(counter: Counter, *names: str) -> bool:
    """Whether these are the counter's own attributes, int values, none a property of its class."""
    held = getattr(counter, "__dict__", {})
    return all(type(held.get(name)) is int and not hasattr(type(counter), name) for name in names)


class _Lineage:
    """A lineage's sink: it keeps the lineage's latest count per cell, and the cell's total over lineages
    (``PerShard._totals``) moves by the change; the total goes on to the report's sink. Cells are kept
    window by window (window start → key → count), and a window's reports go on in one call."""

    __slots__ = ("owner", "latest")

    def __init__(self, owner: PerShard) -> None:
        self.owner = owner
        self.latest: dict[int, dict[str, int]] = {}

    def __call__(self, start: int, key: str, count: int, at_us: int) -> None:
        self.rows(start, (key,), (count,), at_us)

    def rows(self, start: int, keys: Sequence[str], counts: Sequence[int], at_us: int) -> None:
        owner = self.owner
        if not owner._counts_rows:
            owner._reports += len(keys)
        mine = self.latest.get(start)
        if mine is None:
            mine = self.latest[start] = {}
        totals = owner._totals.get(start)
        if totals is None:
            totals = owner._totals[start] = {}
        if len(keys) == 1:  # one cell (a quiet shard's poll), as below
            key, count = keys[0], counts[0]
            total = totals.get(key)
            sums: Sequence[int] = counts if total is None else [total + count - mine.get(key, 0)]
            mine[key] = count
            totals[key] = sums[0]
        elif totals.keys().isdisjoint(keys):  # cells no lineage has reported yet: each total is its count
            mine.update(zip(keys, counts))
            totals.update(zip(keys, counts))
            sums = counts
        else:
            sums = []
            for key, count in zip(keys, counts):
                total = totals.get(key, 0) + count - mine.get(key, 0)
                mine[key] = count
                totals[key] = total
                sums.append(total)
        report_rows(owner._sink, start, keys, sums, at_us)

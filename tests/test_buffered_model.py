"""The buffered counter against a model of DESIGN §6 written for this test, record by record.

The model shares no code with ``kinsim.counters``: it keeps every cell as ``(window start, key)``, works
out each record's windows itself, and applies the rules in the order §6 states them, one record at a
time. The counter takes whole polls in segments; for any generated polls both must report the same
rows in the same order, refuse the same late records, and agree on every count they keep. With an
``idle_timeout``, the polls include empty ones, and processing time jumps by about the timeout.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from kinsim.counters import BufferedCounter, Windowing

from kinsim.strategies import S, counter_polls, window_shapes


class BufferedModel:
    """§6 buffered semantics, one record at a time, as plainly as they can be written."""

    def __init__(self, size_us: int, slide_us: int, grace_us: int, lateness_us: int, idle_us=None) -> None:
        self.size, self.slide, self.grace, self.lateness = size_us, slide_us, grace_us, lateness_us
        self.idle = idle_us                                    # idle_timeout, or None when off
        self.last_read: dict[str, int] = {}                    # shard → processing time of its last poll with records
        self.max_ts: dict[str, int] = {}                       # shard → largest event time not late
        self.cells: dict[str, dict[tuple[int, str], int]] = {}  # shard → (window start, key) → count
        self.fired: dict[str, set[int]] = {}                   # shard → windows fired (or passed while empty)
        self.rows: list[tuple[int, str, int, int]] = []
        self.late: list[tuple[str, str, int, int, int]] = []
        self.records_counted = 0
        self.peak_state_cells = 0

    @property
    def state_cells(self) -> int:
        return sum(len(cells) for cells in self.cells.values())

    def watermark(self, shard: str):
        return self.max_ts[shard] - self.grace if shard in self.max_ts else None

    def windows_of(self, ts: int) -> list[int]:
        """Every aligned window start s with s <= ts < s + size, earliest first."""
        first = ts - self.size + 1
        start = first + (-first) % self.slide  # the first multiple of slide at or after ts - size + 1
        return list(range(start, ts + 1, self.slide))

    def poll(self, shard: str, keys, times, now: int) -> None:
        if self.idle is not None and shard in self.last_read and now - self.last_read[shard] >= self.idle:
            # quiet for idle_timeout since its last poll with records: W = max(W, now - idle_timeout - grace)
            self.max_ts[shard] = max(self.max_ts[shard], now - self.idle)
            self.advance(shard, self.max_ts[shard] - self.grace, now)
        for key, ts in zip(keys, times):
            self.record(shard, key, ts, now)
        if len(keys) > 0:
            self.last_read[shard] = now

    def record(self, shard: str, key: str, ts: int, now: int) -> None:
        cells = self.cells.setdefault(shard, {})
        fired = self.fired.setdefault(shard, set())
        mark = self.watermark(shard)
        live = [s for s in self.windows_of(ts) if mark is None or mark < s + self.size + self.lateness]
        if not live:  # every window evicted: late
            self.late.append((shard, key, ts, mark - ts, now))
            return
        for start in live:
            cells[(start, key)] = cells.get((start, key), 0) + 1
            if mark is not None and mark >= start + self.size:  # fired already, or passed while empty
                fired.add(start)
                self.rows.append((start, key, cells[(start, key)], now))
        self.records_counted += 1
        self.peak_state_cells = max(self.peak_state_cells, self.state_cells)
        if shard not in self.max_ts or ts > self.max_ts[shard]:
            self.max_ts[shard] = ts
            self.advance(shard, ts - self.grace, now)

    def advance(self, shard: str, mark: float, now: int) -> None:
        cells = self.cells.get(shard, {})
        fired = self.fired.setdefault(shard, set())
        for start in sorted({s for s, _ in cells}):
            if start not in fired and start + self.size <= mark:
                fired.add(start)
                for key in sorted(k for s, k in cells if s == start):
                    self.rows.append((start, key, cells[(start, key)], now))
        for start, key in list(cells):
            if start + self.size + self.lateness <= mark:
                del cells[(start, key)]

    def close(self, now: int) -> None:
        for shard in sorted(self.cells):
            self.advance(shard, float("inf"), now)


def observed(counter, rows) -> tuple:
    late = [(r.shard_id, r.key, r.event_us, r.late_by_us, r.processed_us) for r in counter.late]
    return (list(rows), late, counter.emitted_rows, counter.peak_state_cells, counter.records_counted,
            counter.state_cells)


def expected(model: BufferedModel) -> tuple:
    return (model.rows, model.late, len(model.rows), model.peak_state_cells, model.records_counted,
            model.state_cells)


@st.composite
def cases(draw, idle: bool = False):
    """(size, slide, grace, allowed lateness, idle_timeout, polls), times in microseconds. With ``idle``,
    an idle_timeout (or None) is drawn, and the polls include empty ones and jumps of processing time of
    about the timeout (exactly it too), before a poll and summed over a round of polls."""
    size, slide = draw(window_shapes())
    grace, lateness = draw(st.integers(0, 30)), draw(st.integers(0, 30))
    offsets = (0, grace * S, (grace + lateness) * S)  # where a watermark meets a window's end or eviction
    max_records = draw(st.sampled_from([60, 60, 400]))
    if not idle:
        return size, slide, grace * S, lateness * S, None, draw(counter_polls(slide, max_records, offsets))
    idle_us = draw(st.sampled_from([None, 1, S, 5 * S, 30 * S, 90 * S]))
    jumps = (30 * S, 120 * S) if idle_us is None else (idle_us - 1, idle_us, idle_us + 1)
    steps = draw(st.sampled_from([(0, 1, S), (0, 0, 1, S, *jumps), (0, *jumps)]))
    polls = draw(counter_polls(slide, max_records, offsets, steps=steps, quiet_rounds=3,
                               silent_shards=draw(st.booleans())))
    return size, slide, grace * S, lateness * S, idle_us, polls


def check_against_the_model(case, container):
    size, slide, grace, lateness, idle, polls = case
    rows = []
    options = {} if idle is None else {"idle_timeout": f"{idle}us"}
    counter = BufferedCounter("b", Windowing(size, slide), lambda *row: rows.append(row), grace=f"{grace}us",
                              allowed_lateness=f"{lateness}us", **options)
    model = BufferedModel(size, slide, grace, lateness, idle)
    for shard, keys, times, now in polls:
        counter.process(shard, container(keys), container(times), now)
        model.poll(shard, keys, times, now)
        assert observed(counter, rows) == expected(model)
        assert counter.watermark(shard) == model.watermark(shard)
    end = polls[-1].now_us + S
    counter.close(end)
    model.close(end)
    assert observed(counter, rows) == expected(model)


@settings(max_examples=1000, deadline=None)
@given(cases(), st.sampled_from([tuple, list]))
def test_the_buffered_counter_does_what_the_model_does(case, container):
    check_against_the_model(case, container)


@settings(max_examples=1000, deadline=None)
@given(cases(idle=True), st.sampled_from([tuple, list]))
def test_with_idle_timeout_and_empty_polls_the_buffered_counter_does_what_the_model_does(case, container):
    check_against_the_model(case, container)

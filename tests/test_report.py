"""The report, written to its output as it is made, is the report made whole: JSON byte for byte what
``json.dumps(report_dict(...))`` gives, the windows tables what a table built at once gives; and the
command line writes it to a file or standard output, failing as it always has."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import kinsim.report.base
from kinsim.metrics import CellReport, Observations, Truth
from kinsim.report import report_dict, to_json, to_text, utc_text, write_json, write_text
from kinsim.runner import run
from kinsim.scenario import load_scenario

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ["lagged_producers", "hopping_windows", "reshard_midway", "failover", "user_counter"]


def plain_json(result) -> str:
    return json.dumps(report_dict(result), indent=2, ensure_ascii=False) + "\n"


def plain_window_tables(result) -> str:
    """The windows tables as the report once built them: every row in memory, then the widths."""
    lines, groups = [], {}
    for part in result.counters:
        groups.setdefault(part.truth.windowing, []).append(part)
    for windowing, parts in groups.items():
        size, slide = windowing.size_us / 1e6, windowing.slide_us / 1e6
        lines += ["", f"windows of {size:g} s" + (f" every {slide:g} s" if slide != size else "")]
        cells = sorted(set(parts[0].truth.cells).union(*(p.observations.cells for p in parts)))
        rows = [["window", "key", "truth"] + [p.spec.name for p in parts]]
        rows += [[utc_text(c[0]), str(c[1]), str(parts[0].truth.cells.get(c, 0))]
                 + [str(p.observations.cells[c].last if c in p.observations.cells else 0) for p in parts]
                 for c in cells]
        widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
        rows.insert(1, ["-" * w for w in widths])
        lines += ["  ".join(cell.ljust(w) if i < 2 else cell.rjust(w) for i, (cell, w) in enumerate(zip(row, widths)))
                  .rstrip() for row in rows]
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def results():
    return {name: run(load_scenario(ROOT / "scenarios" / f"{name}.yaml")) for name in SCENARIOS}


@pytest.mark.parametrize("name", SCENARIOS)
def test_the_streamed_report_is_the_report_made_whole(results, name):
    result = results[name]
    assert to_json(result) == plain_json(result)
    assert to_text(result).endswith(plain_window_tables(result))


def test_odd_keys_and_counts_are_written_as_json_writes_them(results):
    """What a counter of one's own may report: keys with quotes, escapes and any script; counts that
    are not whole numbers."""
    result = results["lagged_producers"]
    part = result.counters[0]
    start = min(part.truth.cells)[0]
    odd = {"quote\"and\\slash": 1.5, "new\nline\ttab": True, "ünïcödé ключ 鍵 🙂": None,
           "\u2028\x7f": [1, {"a": 2}], "big": 10**30, "negative": -3}
    try:
        for i, (key, count) in enumerate(odd.items()):
            part.observations.cells[(start, key)] = CellReport(count, 0, count, 0)
            part.truth.cells[(start + i, "k")] = 1
        assert to_json(result) == plain_json(result)
        assert to_text(result).endswith(plain_window_tables(result))
    finally:
        for i, key in enumerate(odd):
            del part.observations.cells[(start, key)], part.truth.cells[(start + i, "k")]


WHOLE = st.integers(-3, 60) | st.integers(min_value=2**63) | st.integers(max_value=-10**7)
ODD = st.floats(allow_nan=False) | st.booleans() | st.none() | st.text(max_size=3)  # what a user's counter may report


@st.composite
def windows_cells(draw) -> tuple[dict, list[dict]]:
    """Cells of a few windows (window number, key) with a truth, and per counter its counts: keys all text
    (quotes, escapes, any script) or all whole numbers; values whole numbers, or odd ones too; counters that
    reported only cells with a truth, or others as well."""
    keys = draw(st.lists(st.text(st.sampled_from(',"\\\r\n\t\x00\x7f\u2028é鍵🙂') | st.characters(), max_size=6),
                         min_size=1, max_size=6, unique=True)
                | st.lists(st.integers(-9, 99), min_size=1, max_size=6, unique=True))
    values = WHOLE | ODD if draw(st.booleans()) else WHOLE
    cells = st.tuples(st.integers(0, 3), st.sampled_from(keys))
    truth = draw(st.dictionaries(cells, values, max_size=16))
    counted = st.sampled_from(sorted(truth)) if truth and draw(st.booleans()) else cells
    return truth, draw(st.lists(st.dictionaries(counted, values, max_size=16), min_size=3, max_size=3))


def with_cells(result, truth: dict, counts: list[dict]):
    """``result`` with the cells of the counters that share its first counter's truth given instead: window
    numbers as window starts from the first one on, counts as the counters' last reports."""
    size = result.counters[0].truth.windowing.size_us
    first = min(result.counters[0].truth.cells)[0]
    cells = {*truth, *(cell for of in counts for cell in of)}
    starts = {(number, key): (first + number * size, key) for number, key in cells}
    shared = Truth(result.counters[0].truth.windowing)
    shared.cells.update((starts[cell], value) for cell, value in truth.items())
    parts = []
    for part, of in zip(result.counters, counts):
        observations = Observations()
        observations.cells.update((starts[cell], CellReport(count, 0, count, 0)) for cell, count in of.items())
        parts.append(dataclasses.replace(part, truth=shared, observations=observations))
    assert all(part.truth is result.counters[0].truth for part in result.counters[:len(counts)])
    return dataclasses.replace(result, counters=(*parts, *result.counters[len(counts):]))


@settings(max_examples=150, deadline=None)
@given(cells=windows_cells())
def test_any_rows_are_written_as_json_dumps_and_the_plain_tables_write_them(results, cells):
    """Rows of any keys and values, windows written from a template and row by row alike: the JSON is
    ``json.dumps(report_dict(...))``, its rows every cell with a truth or a count in order, and the text
    tables those built at once."""
    result = with_cells(results["lagged_producers"], *cells)
    size = result.counters[0].truth.windowing.size_us
    for part, counter in zip(result.counters[:3], report_dict(result)["counters"]):
        truth, reports = part.truth.cells, part.observations.cells
        assert counter["rows"] == [
            {"window_start": utc_text(start), "window_end": utc_text(start + size), "key": key,
             "truth": truth.get((start, key), 0), "count": reports[start, key].last if (start, key) in reports else 0}
            for start, key in sorted({*truth, *reports})]
    assert to_json(result) == plain_json(result)
    assert to_text(result).endswith(plain_window_tables(result))


class Recording:
    """An output that keeps what each write was given."""

    def __init__(self) -> None:
        self.writes: list[str] = []

    def write(self, text: str) -> int:
        self.writes.append(text)
        return len(text)


@pytest.mark.parametrize("write", [write_json, write_text])
def test_a_report_is_written_in_pieces_not_built_whole(results, write, monkeypatch):
    monkeypatch.setattr(kinsim.report.base, "CHUNK", 10)  # rows in one write (a thousand, in earnest)
    result = results["hopping_windows"]
    out = Recording()
    write(result, out)
    whole = "".join(out.writes)
    assert whole == (to_json(result) if write is write_json else to_text(result))
    assert len(out.writes) > 10 and max(map(len, out.writes)) < len(whole) / 4


def cli(*args, stdout=subprocess.PIPE):
    return subprocess.run([sys.executable, "-m", "kinsim", "run", *args], stdout=stdout, stderr=subprocess.PIPE,
                          text=True, timeout=120, cwd=ROOT)


@pytest.mark.parametrize("form", ["text", "json"])
def test_the_report_goes_to_a_file_or_standard_output_alike(tmp_path, form):
    out = tmp_path / "report"
    to_file = cli("scenarios/many_producers.yaml", "--format", form, "--output", str(out))
    to_stdout = cli("scenarios/many_producers.yaml", "--format", form)
    assert to_file.returncode == to_stdout.returncode == 0 and to_file.stdout == to_file.stderr == ""
    assert out.read_text(encoding="utf-8") == to_stdout.stdout


@pytest.mark.parametrize("target, problem", [
    ("missing/report.txt", "No such file or directory"),
    (".", "Is a directory"),
    ("/dev/full", "No space left on device"),
])
def test_an_output_that_cannot_be_written_is_one_line_and_exit_status_2(tmp_path, target, problem):
    if target == "/dev/full" and not os.path.exists(target):
        pytest.skip("no /dev/full here")
    path = target if target.startswith("/") else str(tmp_path / target)
    done = cli("scenarios/many_producers.yaml", "--output", path)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr == f"kinsim: error: cannot write {path}: {problem}\n"


@pytest.mark.parametrize("form", ["text", "json"])
def test_a_reader_that_went_away_stops_the_report_quietly(form):
    read, write = os.pipe()
    os.close(read)  # nobody will read: the first write that reaches the pipe fails
    try:
        done = cli("scenarios/seed_tutorial.yaml", "--format", form, stdout=write)
    finally:
        os.close(write)
    assert done.returncode == 1 and done.stderr == ""

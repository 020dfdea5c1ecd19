"""``run --format csv``: the JSON report's rows, one per (counter, window, key), as RFC 4180 CSV, written as
it is made, the same bytes every time."""

from __future__ import annotations

import csv
import io
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import kinsim.report.base
from kinsim.metrics import CellReport
from kinsim.report import report_dict, to_csv, write_csv
from kinsim.report.as_csv import CSV_COLUMNS
from kinsim.runner import run
from kinsim.scenario import load_scenario

from .test_report import Recording, windows_cells, with_cells

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ["lagged_producers", "hopping_windows", "reshard_midway", "failover", "user_counter"]


@pytest.fixture(scope="module")
def results():
    return {name: run(load_scenario(ROOT / "scenarios" / f"{name}.yaml")) for name in SCENARIOS}


def parsed(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


@pytest.mark.parametrize("name", SCENARIOS)
def test_the_rows_are_the_json_reports_rows_led_by_their_counter(results, name):
    result = results[name]
    expected = [list(CSV_COLUMNS)]
    for counter in report_dict(result)["counters"]:
        expected += [[counter["name"], counter["kind"], row["window_start"], row["window_end"], row["key"],
                      str(row["truth"]), str(row["count"])] for row in counter["rows"]]
    text = to_csv(result)
    assert parsed(text) == expected
    assert len(expected) > len(result.counters)  # every shipped scenario has rows to show
    assert text.count("\r\n") == len(expected) and "\n" not in text.replace("\r\n", "")


@pytest.mark.parametrize("name", ["lagged_producers", "failover"])
def test_the_same_run_gives_the_same_bytes(results, name):
    again = run(load_scenario(ROOT / "scenarios" / f"{name}.yaml"))
    assert to_csv(again) == to_csv(results[name])


@settings(max_examples=60, deadline=None)
@given(keys=st.lists(st.text(min_size=1, max_size=12), min_size=1, max_size=6, unique=True))
def test_any_key_comes_back_from_a_spreadsheet_reader_as_it_was(results, keys):
    """Keys a counter of one's own may report, commas, quotes and line breaks included: quoted where
    RFC 4180 says, and read back whole."""
    result = results["lagged_producers"]
    part = result.counters[0]
    start = min(part.truth.cells)[0] - 3600 * 1_000_000  # an hour before the run: nothing else there
    try:
        for i, key in enumerate(keys):
            part.observations.cells[(start, key)] = CellReport(i, 0, i + 1, 0)
        rows = parsed(to_csv(result))
    finally:
        for key in keys:
            del part.observations.cells[(start, key)]
    mine = [row for row in rows if row[0] == part.spec.name][:len(keys)]  # the earliest window comes first
    assert [row[4] for row in mine] == sorted(keys)
    assert all(int(row[6]) == keys.index(row[4]) + 1 and row[5] == "0" for row in mine)


@settings(max_examples=150, deadline=None)
@given(cells=windows_cells())
def test_any_rows_are_written_as_the_csv_module_writes_the_json_reports_rows(results, cells):
    """Rows of any keys and values, windows written from a template and through the csv module alike: the
    bytes the csv module writes for the JSON report's rows."""
    result = with_cells(results["lagged_producers"], *cells)
    expected = io.StringIO()
    writer = csv.writer(expected)
    writer.writerow(CSV_COLUMNS)
    for counter in report_dict(result)["counters"]:
        writer.writerows([counter["name"], counter["kind"], *row.values()] for row in counter["rows"])
    assert to_csv(result) == expected.getvalue()


def test_a_field_is_quoted_only_when_it_must_be(results):
    """Each key to quote in a window of its own, with one that needs nothing, all counted in whole numbers:
    a window the report writes from a template, were it not for that key."""
    odd = ['comma,key', 'quote"key', 'line\nkey', 'return\rkey']
    truth = {(number, key): 1 for number, mark in enumerate(odd) for key in [mark, "plain-key"]}
    text = to_csv(with_cells(results["lagged_producers"], truth, [truth] * 3))
    assert '"comma,key"' in text and '"quote""key"' in text and '"line\nkey"' in text and '"return\rkey"' in text
    assert text.count(",plain-key,") == 4 * 3 and ",8.8.8.8," in text  # nothing to quote: bare


def test_the_csv_is_written_in_pieces_not_built_whole(results, monkeypatch):
    monkeypatch.setattr(kinsim.report.base, "CHUNK", 10)  # rows in one write (a thousand, in earnest)
    result = results["hopping_windows"]
    out = Recording()
    write_csv(result, out)
    whole = "".join(out.writes)
    assert whole == to_csv(result)
    assert len(out.writes) > 10 and max(map(len, out.writes)) < len(whole) / 4


def cli(*args):
    return subprocess.run([sys.executable, "-m", "kinsim", "run", *args], capture_output=True, timeout=120, cwd=ROOT)


def test_the_command_line_writes_the_same_bytes_to_a_file_and_to_standard_output(results, tmp_path):
    out = tmp_path / "rows.csv"
    to_file = cli("scenarios/lagged_producers.yaml", "--format", "csv", "--output", str(out))
    to_stdout = cli("scenarios/lagged_producers.yaml", "--format", "csv")
    assert to_file.returncode == to_stdout.returncode == 0 and to_file.stdout == to_file.stderr == b""
    assert out.read_bytes() == to_stdout.stdout == to_csv(results["lagged_producers"]).encode("utf-8")

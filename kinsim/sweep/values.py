"""The values of a ``--vary`` and of ``--seeds``, as the user writes them, and how they are shown.

VALUES is a list or a range:

- a list: comma-separated (``30s,60s,90s``), or a YAML flow sequence (``[[10s, 60s], [20s, 90s]]``)
  when the values are themselves lists or mappings; ``[30s, 60s]`` is the two values 30s and 60s, as
  ``30s,60s`` is. Each value is read as YAML reads it in a scenario file, by the same strict reader
  (``5`` is a number, ``90s`` text, ``{constant: 1s}`` a mapping).
- a range ``A..B/STEP``: A, A + STEP, ... up to B, both ends included (B must be A plus a whole number of
  steps). Numbers give numbers (``1..10/1``: whole numbers; ``0.5..2/0.25``: decimals, without binary
  rounding drift); if an end or the step is a duration (``0s..180s/15s``, ``1m..5m/30s``), durations,
  written as a scenario writes them (``1m45s``).

Seeds are a range ``A..B`` (step 1, or ``A..B/STEP``) or a list of whole numbers.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal, InvalidOperation
from typing import Any, Callable

from ..durations import duration_text, parse_duration
from ..scenario.reading import read_document
from .errors import SweepError

__all__ = ["MAX_VALUES", "parse_values", "parse_seeds", "value_text"]

MAX_VALUES = 10_000  # values of one --vary, and seeds
_RANGE = re.compile(r"\s*([^,\[\]{}/]+?)\s*\.\.\s*([^,\[\]{}/]+?)\s*(?:/\s*([^,\[\]{}/]+?)\s*)?")


def parse_values(text: str, option: str) -> list[Any]:
    """The values ``text`` gives (see the module's docstring), or a ``SweepError`` naming ``option``."""
    text = text.strip()
    if not text:
        raise SweepError(option, "no values after '=': give a list (30s,60s,90s) or a range (0s..180s/15s)")
    if not text.startswith("[") and "," not in text and ".." in text:
        return _range(text, option)
    values = _listed(text, option)
    if not values:
        raise SweepError(option, "an empty list of values")
    if len(values) > MAX_VALUES:
        raise SweepError(option, f"{len(values):,} values; at most {MAX_VALUES:,} are taken")
    _distinct(values, option)
    return values


def _listed(text: str, option: str) -> list[Any]:
    """A YAML flow sequence as given, else the text as the items of one (comma-separated)."""
    tries = [text, f"[{text}]"] if text.startswith("[") else [f"[{text}]"]
    problem = ""
    for attempt in tries:
        try:
            document = read_document(attempt.encode("utf-8"))
        except ValueError as exc:
            problem = str(exc)
            continue
        if isinstance(document, list):
            return document
    raise SweepError(option, f"cannot read the values as a list ({problem}); give them comma-separated "
                             "(30s,60s) or as a YAML flow sequence ([[10s, 60s], [20s, 90s]])")


def _distinct(values: list[Any], option: str) -> None:
    seen = set()
    for value in values:
        key = json.dumps(value, sort_keys=True, default=str)
        if key in seen:
            raise SweepError(option, f"the value {value_text(value)} is given twice")
        seen.add(key)


def _range(text: str, option: str) -> list[Any]:
    match = _RANGE.fullmatch(text)
    if match is None or match.group(3) is None:
        raise SweepError(option, f"cannot read {text!r} as a range: expected A..B/STEP, both ends included, "
                                 "like 0s..180s/15s or 1..10/1")
    ends = match.groups()
    numbers = [_number(end) for end in ends]
    if all(number is not None for number in numbers):
        first, last, step = numbers
        whole = all(isinstance(_scalar(end), int) for end in ends)
        made = [int(value) if whole else float(value) for value in _steps(first, last, step, text, option)]
        return made
    try:
        first, last, step = (Decimal(round(parse_duration(_scalar(end)) * 1_000_000)) for end in ends)
    except ValueError as exc:
        raise SweepError(option, f"cannot read {text!r} as a range of numbers or durations: {exc}") from None
    return [_duration(us) for us in _steps(first, last, step, text, option, _duration)]


def _duration(us: Decimal) -> str:
    return duration_text(float(us) / 1_000_000)


def _scalar(text: str) -> Any:
    """One end of a range as YAML reads it (so ``1e3`` and ``1_000`` are numbers as in a file)."""
    try:
        return read_document(text.encode("utf-8"))
    except ValueError:
        return text


def _number(text: str) -> Decimal | None:
    value = _scalar(text)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        number = Decimal(text.replace("_", "")) if isinstance(value, float) else Decimal(value)
    except InvalidOperation:
        number = Decimal(str(value))
    return number if number.is_finite() else None


def _steps(first: Decimal, last: Decimal, step: Decimal, text: str, option: str,
           shown: Callable[[Decimal], str] = lambda number: format(number.normalize(), "f")) -> list[Decimal]:
    """first, first + step, ... last (a whole number of steps from first), or a ``SweepError``; ``shown``
    writes a number in a message."""
    if step <= 0:
        raise SweepError(option, f"the step of {text!r} must be above 0")
    if last < first:
        raise SweepError(option, f"the range {text!r} ends before it starts")
    count, rest = divmod(last - first, step)
    if rest:
        below = first + count * step
        raise SweepError(option, f"the range {text!r} does not land on its end: steps of {shown(step)} from "
                                 f"{shown(first)} reach {shown(below)}, then {shown(below + step)}; both ends are "
                                 "included, so make the end the start plus a whole number of steps")
    if count + 1 > MAX_VALUES:
        raise SweepError(option, f"the range {text!r} has {int(count) + 1:,} values; at most {MAX_VALUES:,} "
                                 "are taken")
    return [first + step * k for k in range(int(count) + 1)]


def parse_seeds(text: str, option: str = "--seeds") -> list[int]:
    """Seeds: ``A..B`` (both included), ``A..B/STEP``, or a list of whole numbers, each once."""
    stripped = text.strip()
    if ".." in stripped and "," not in stripped and not stripped.startswith("["):
        match = _RANGE.fullmatch(stripped)
        ends = [_scalar(end) for end in match.groups(default="1")] if match else []
        if not ends or not all(isinstance(end, int) and not isinstance(end, bool) for end in ends):
            raise SweepError(f"{option} {text}", "expected whole numbers A..B (both included), A..B/STEP or a list "
                                                 "like 1,2,5")
        seeds = [int(seed) for seed in _steps(Decimal(ends[0]), Decimal(ends[1]), Decimal(ends[2]), stripped,
                                              f"{option} {text}")]
    else:
        seeds = parse_values(stripped, f"{option} {text}") if stripped else []
        if not seeds or not all(isinstance(seed, int) and not isinstance(seed, bool) for seed in seeds):
            raise SweepError(f"{option} {text}", "expected whole numbers A..B (both included), A..B/STEP or a list "
                                                 "like 1,2,5")
    if len(seeds) > MAX_VALUES:
        raise SweepError(f"{option} {text}", f"{len(seeds):,} seeds; at most {MAX_VALUES:,} are taken")
    return seeds


def value_text(value: Any) -> str:
    """A value as the user would write it on the command line or in a scenario: ``90s``, ``5``,
    ``[10s, 60s]``, ``{constant: 1s}``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, list):
        return "[" + ", ".join(value_text(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{value_text(key)}: {value_text(item)}" for key, item in value.items()) + "}"
    return str(value)

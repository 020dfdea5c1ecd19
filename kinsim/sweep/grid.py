"""A sweep's grid: the scenario document, the fields varied and their values; its points, each the
document with one value of every ``--vary`` set, in the order of the cartesian product (the first
``--vary`` changes slowest), parsed by the scenario loader itself.

A ``Grid`` is all a worker needs to make any point: it holds the document (plain YAML values), never
parsed scenarios, so a counter class a scenario imports from its own directory is imported by each worker
as the loader imports it. ``check`` parses every point and estimates its run before anything runs, so a
value the loader refuses, or a point over the budget, stops the sweep with one message naming the
``--vary`` that gave it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional, Sequence

from ..errors import ScenarioError
from ..estimate import Budget, RunTooBig, check
from ..scenario import Scenario
from ..scenario.fault_items import read_file
from ..scenario.loader import parse_scenario
from .errors import SweepError
from .paths import KeyPath, resolve, with_value
from .values import parse_values, value_text

__all__ = ["MAX_POINTS", "Vary", "Grid", "build_grid", "check_points"]

MAX_POINTS = 100_000


@dataclass(frozen=True)
class Vary:
    """One ``--vary``: the path and its values, and the option as given (for messages)."""

    path: KeyPath
    values: tuple[Any, ...]
    option: str


@dataclass(frozen=True)
class Grid:
    document: Any
    file: str
    default_name: str
    directory: Optional[str]
    varies: tuple[Vary, ...]

    @property
    def size(self) -> int:
        return math.prod(len(vary.values) for vary in self.varies)

    def values_at(self, point: int) -> tuple[Any, ...]:
        """The value of each ``--vary`` at ``point`` (0 to ``size - 1``), the last ``--vary`` fastest."""
        values = []
        for vary in reversed(self.varies):
            point, index = divmod(point, len(vary.values))
            values.append(vary.values[index])
        return tuple(reversed(values))

    def document_at(self, point: int) -> Any:
        document = self.document
        for vary, value in zip(self.varies, self.values_at(point)):
            document = with_value(document, vary.path, value)
        return document

    def scenario_at(self, point: int) -> Scenario:
        """The point's scenario, as the loader makes it (``ScenarioError`` if it refuses the values)."""
        directory = None if self.directory is None else Path(self.directory)
        return parse_scenario(self.document_at(point), self.file, self.default_name, directory)


def _split(text: str) -> tuple[str, str]:
    """PATH and VALUES of ``PATH=VALUES``: at the first ``=`` outside brackets."""
    depth = 0
    for i, char in enumerate(text):
        depth += char == "["
        depth -= char == "]"
        if char == "=" and depth == 0:
            return text[:i].strip(), text[i + 1:]
    raise SweepError(f"--vary {text}", "expected PATH=VALUES, like counters[buffered-90s].grace=0s..180s/15s")


def build_grid(file: str, varies: Sequence[str]) -> tuple[Grid, Scenario]:
    """The grid of the scenario file ``file`` and the ``--vary`` options' texts, and the scenario as the
    file has it (a bad file: its ``ScenarioError``; a bad option: a ``SweepError`` naming it)."""
    path = Path(file)
    document = read_file(path)
    directory = path.resolve().parent
    base = parse_scenario(document, file, path.stem, directory)
    names = [counter.name for counter in base.counters]
    made: list[Vary] = []
    for text in varies:
        option = f"--vary {text}"
        path_text, values_text = _split(text)
        key_path = resolve(document, path_text, option, names)
        for other in made:
            inner, outer = sorted((key_path.loader_path, other.path.loader_path), key=len)
            if outer == inner or outer.startswith(inner + ".") or outer.startswith(inner + "["):
                raise SweepError(option, f"{key_path.loader_path} overlaps what {other.option} sets "
                                         f"({other.path.loader_path}): vary each field once")
        made.append(Vary(key_path, tuple(parse_values(values_text, option)), option))
    grid = Grid(document, file, path.stem, str(directory), tuple(made))
    if grid.size > MAX_POINTS:
        raise SweepError("--vary", f"the grid has {grid.size:,} points; a sweep takes at most {MAX_POINTS:,}")
    return grid, base


def _culprit(grid: Grid, point: int, key_path: str) -> str:
    """The option that gave the value the loader refused at ``key_path``: the ``--vary`` of that field
    (or of a field around it) with its one value; else the point's every value."""
    values = grid.values_at(point)
    for vary, value in zip(grid.varies, values):
        mine = vary.path.loader_path
        if key_path == mine or key_path.startswith((mine + ".", mine + "[")) or \
                mine.startswith((key_path + ".", key_path + "[")):
            return f"--vary {vary.path.text}={value_text(value)}"
    return "--vary " + ", ".join(f"{vary.path.text}={value_text(value)}" for vary, value in zip(grid.varies, values))


def check_points(grid: Grid, budget: Optional[Budget]) -> None:
    """Parse every point and estimate its run (within ``budget``; None: no limit), or a ``SweepError``
    naming the option and the value, with the loader's or the estimate's own message."""
    for point in range(grid.size):
        try:
            check(grid.scenario_at(point), grid.file, budget)
        except ScenarioError as exc:
            raise SweepError(_culprit(grid, point, exc.key_path), str(exc)) from None
        except RunTooBig as exc:
            raise SweepError(_culprit(grid, point, ""), str(exc)) from None

"""Counter kinds as a scenario names them: a built-in by its word, any other class by its import path.

``package.module:Class`` imports ``package.module`` — from the scenario file's directory, put first on
``sys.path`` for the import and taken off again, or from wherever Python finds modules — and takes its
attribute ``Class``. Importing runs the module's code: run only scenarios you trust. Nothing is fetched
or installed. A module already imported under that name is used as it is (Python imports a module once).
Every failure is a ``ValueError`` whose message says what was looked for and where.
"""

from __future__ import annotations

import importlib
import re
import sys
from pathlib import Path
from typing import Optional

from ..counters import BUILT_IN

__all__ = ["counter_class", "short_name"]

_NAME = r"[A-Za-z_][A-Za-z0-9_]*"
_IMPORT_PATH = re.compile(rf"({_NAME}(?:\.{_NAME})*):({_NAME}(?:\.{_NAME})*)")
_EXAMPLE = "an import path like mypackage.counting:TopKeys"


def counter_class(kind: str, directory: Optional[Path] = None) -> type:
    """The class a counter kind names; ``directory`` is the scenario file's, searched first."""
    if ":" not in kind:
        if kind in BUILT_IN:
            return BUILT_IN[kind]
        raise ValueError(f"unknown counter kind {kind!r}: the built-in kinds are {', '.join(BUILT_IN)}; "
                         f"a counter class of your own is named by {_EXAMPLE}")
    match = _IMPORT_PATH.fullmatch(kind)
    if match is None:
        raise ValueError(f"expected {_EXAMPLE} (package.module:Class), got {kind!r}")
    module_name, attribute = match.groups()
    found = _imported(module_name, directory)
    for part in attribute.split("."):
        if not hasattr(found, part):
            raise ValueError(f"module {module_name} ({getattr(found, '__file__', None) or 'built in'}) "
                             f"has no {attribute!r}")
        found = getattr(found, part)
    if not isinstance(found, type) or not callable(getattr(found, "process", None)) \
            or not callable(getattr(found, "close", None)):
        raise ValueError(f"{kind} is not a counter class: a counter is a class with the methods process and "
                         f"close (see 'Counters of your own' in the README)")
    return found


def short_name(kind: str) -> str:
    """The default name of a counter of this kind: the word, or the class's own name."""
    return kind.rsplit(":", 1)[-1].rsplit(".", 1)[-1]


def _imported(module_name: str, directory: Optional[Path]):
    entry = None if directory is None else str(directory)
    if entry is not None:
        sys.path.insert(0, entry)
    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name is not None and (module_name + ".").startswith(exc.name + "."):
            where = "" if entry is None else f"next to the scenario file (in {entry}) or "
            raise ValueError(f"no module named {exc.name!r} {where}on Python's path") from None
        raise ValueError(f"importing {module_name} failed: {type(exc).__name__}: {exc}") from exc
    except Exception as exc:  # the module's own code failed: say how, without a traceback
        raise ValueError(f"importing {module_name} failed: {type(exc).__name__}: {exc}") from exc
    finally:
        if entry is not None and entry in sys.path:
            sys.path.remove(entry)

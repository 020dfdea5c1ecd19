"""Classes a scenario names: counter kinds (a built-in by its word, any other class by its import path)
and record processors (by import path).

``package.module:Class`` imports ``package.module`` — from the scenario file's directory, put first on
``sys.path`` for the import and taken off again, or from wherever Python finds modules — and takes its
attribute ``Class``. Importing runs the module's code: run only scenarios you trust. Nothing is fetched
or installed. A module already imported under that name is used as it is (Python imports a module once).
Every failure is a ``ValueError`` whose message says what was looked for and where.
"""

from __future__ import annotations

import importlib
import inspect
import re
import sys
from pathlib import Path
from typing import Optional

from ..counters import BUILT_IN

__all__ = ["counter_class", "processor_class", "imported_class", "short_name", "PROCESSOR_METHODS"]

_NAME = r"[A-Za-z_][A-Za-z0-9_]*"
_IMPORT_PATH = re.compile(rf"({_NAME}(?:\.{_NAME})*):({_NAME}(?:\.{_NAME})*)")
_EXAMPLE = "an import path like mypackage.counting:TopKeys"
# what kinsim calls on a record processor: the shape of kclpy v3's RecordProcessorBase (DESIGN §11)
PROCESSOR_METHODS = ("initialize", "process_records", "lease_lost", "shard_ended", "shutdown_requested")


def counter_class(kind: str, directory: Optional[Path] = None) -> type:
    """The class a counter kind names; ``directory`` is the scenario file's, searched first."""
    if ":" not in kind:
        if kind in BUILT_IN:
            return BUILT_IN[kind]
        raise ValueError(f"unknown counter kind {kind!r}: the built-in kinds are {', '.join(BUILT_IN)}; "
                         f"a counter class of your own is named by {_EXAMPLE}")
    found = imported_class(kind, directory, _EXAMPLE)
    if not isinstance(found, type) or not callable(getattr(found, "process", None)) \
            or not callable(getattr(found, "close", None)):
        raise ValueError(f"{kind} is not a counter class: a counter is a class with the methods process and "
                         f"close (see 'Counters of your own' in the README)")
    return found


def processor_class(path: str, directory: Optional[Path] = None) -> type:
    """The record processor class ``path`` names: a class with the methods of ``PROCESSOR_METHODS``, built
    with no arguments (one per lease)."""
    found = imported_class(path, directory, "an import path like myapp.processing:RecordProcessor")
    if not isinstance(found, type):
        raise ValueError(f"{path} is not a class, got {type(found).__name__}")
    missing = [method for method in PROCESSOR_METHODS if not callable(getattr(found, method, None))]
    if missing:
        raise ValueError(f"{path} is not a record processor: it has no {', '.join(missing)} (a processor has "
                         f"{', '.join(PROCESSOR_METHODS)}, as kclpy v3's RecordProcessorBase)")
    try:
        inspect.signature(found).bind()
    except TypeError as exc:
        raise ValueError(f"{path} cannot be built with no arguments, as kinsim builds one per lease: {exc}") from None
    except ValueError:  # no signature to look at (a class made in C): building it will tell
        pass
    return found


def imported_class(path: str, directory: Optional[Path], example: str):
    """What an import path ``package.module:Attribute`` names (not yet checked to be a class)."""
    match = _IMPORT_PATH.fullmatch(path)
    if match is None:
        raise ValueError(f"expected {example} (package.module:Class), got {path!r}")
    module_name, attribute = match.groups()
    found = _imported(module_name, directory)
    for part in attribute.split("."):
        if not hasattr(found, part):
            raise ValueError(f"module {module_name} ({getattr(found, '__file__', None) or 'built in'}) "
                             f"has no {attribute!r}")
        found = getattr(found, part)
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

"""The cyclic garbage collector, paused over work that makes millions of objects and no reference cycles.

Reading a scenario file and running it each make millions of small objects, kept or freed by their
reference counts; left running, the collector walks them over and over as they pile up (each full
collection walks all of them) and finds nothing: a YAML document is a tree, and a run makes next to no
cycles. ``paused()`` stops it over such work and then restores it as it was, for the caller's own
objects: the first collection after that walks what the work kept, once. A command whose process ends
with its report keeps it paused from the file to the report: nothing it made is collected before the
process exits, when the interpreter's own last collection runs.
"""

from __future__ import annotations

import gc
from contextlib import contextmanager
from typing import Iterator

__all__ = ["paused"]


@contextmanager
def paused() -> Iterator[None]:
    """The cyclic collector off inside, and as it was after (already off: left off)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()

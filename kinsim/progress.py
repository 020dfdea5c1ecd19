"""Progress bars for long runs and sweeps: tqdm's, on standard error, and only on a terminal.

Nothing is ever written to standard output (a report piped elsewhere stays byte for byte the same), and
nothing at all when standard error is not a terminal (CI logs, a pipe, a file) or ``KINSIM_PROGRESS=0``.
A bar only reads what it is told; it never feeds back into a run, so a run's report is the same with a
bar or without one.
"""

from __future__ import annotations

import os
import sys
from typing import Optional, TextIO

__all__ = ["Progress", "progress_bar", "wanted"]


def wanted(stream: Optional[TextIO] = None) -> bool:
    """True if a bar should be drawn on ``stream`` (default: standard error): a terminal, and not turned
    off by ``KINSIM_PROGRESS=0``."""
    stream = sys.stderr if stream is None else stream
    if os.environ.get("KINSIM_PROGRESS", "").strip() in ("0", "false", "no", "off"):
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


class Progress:
    """A bar of ``total`` units (or a silent one): ``advance(n)``, ``reach(done)``, ``close()``; also a
    context manager. The rate (units/s) and the time left are tqdm's, from the wall clock."""

    def __init__(self, total: Optional[float], *, unit: str, description: str, enabled: Optional[bool] = None,
                 stream: Optional[TextIO] = None) -> None:
        stream = sys.stderr if stream is None else stream
        self.done = 0.0
        self._bar = None
        if enabled if enabled is not None else wanted(stream):
            from tqdm import tqdm

            # 1.2M records, not 1234567; but 4/6 runs, not 4.00/6.00
            large = total is not None and total >= 10_000
            self._bar = tqdm(total=total, unit=unit, desc=description, file=stream, unit_scale=large,
                             dynamic_ncols=True, leave=False, smoothing=0.1)

    @property
    def shown(self) -> bool:
        return self._bar is not None

    def advance(self, units: float = 1) -> None:
        self.reach(self.done + units)

    def reach(self, done: float) -> None:
        """Move the bar to ``done`` units (never back)."""
        if done <= self.done:
            return
        if self._bar is not None:
            self._bar.update(done - self.done)
        self.done = done

    def note(self, text: str) -> None:
        """A short status after the bar (e.g. the simulated time reached)."""
        if self._bar is not None:
            self._bar.set_postfix_str(text, refresh=False)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def __enter__(self) -> "Progress":
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def progress_bar(total: Optional[float], *, unit: str, description: str, enabled: Optional[bool] = None,
                 stream: Optional[TextIO] = None) -> Progress:
    """A ``Progress`` bar on ``stream`` (default standard error); silent off a terminal."""
    return Progress(total, unit=unit, description=description, enabled=enabled, stream=stream)

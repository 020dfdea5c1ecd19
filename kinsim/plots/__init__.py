"""Pictures of runs and sweeps, drawn with matplotlib (the optional ``plot`` extra).

Figures are made with ``matplotlib.figure.Figure`` directly (no pyplot, no global state, no screen) and
written with the Agg canvas. Without matplotlib installed, asking for a picture raises
``MissingExtraError`` with the command that installs it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..errors import MissingExtraError

__all__ = ["require_matplotlib", "save_figure"]


def require_matplotlib() -> Any:
    """The ``matplotlib`` module, with its Agg backend chosen; ``MissingExtraError`` if it is not installed."""
    try:
        import matplotlib
    except ImportError:
        raise MissingExtraError("pictures need matplotlib: pip install 'kinsim[plot]'") from None
    matplotlib.use("Agg", force=False)
    return matplotlib


def save_figure(figure: Any, path: str | Path) -> None:
    """Write ``figure`` to ``path`` (the format from its suffix: .png, .svg, .pdf), at 120 dpi."""
    require_matplotlib()
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(figure)
    figure.savefig(str(path), dpi=120)

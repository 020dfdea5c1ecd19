"""Strategies for network lag models (``kinsim.lag``): every model kind, built valid, with parameters
in whole milliseconds (and shapes in hundredths), so a model written into a scenario file
(``lag_document``) reads back equal.

``max_seconds`` bounds a model's location and scale (a constant, the ends of a uniform, a mean, a
median, a Pareto minimum), not its draws: a normal, lognormal or Pareto tail reaches past it.
``max_sigma`` and ``min_shape`` bound how heavy the lognormal and Pareto tails get: with the defaults,
one draw in a million can be 10^12 times the scale. Every draw is finite and at least 0, whatever the
parameters.
"""

from __future__ import annotations

from typing import Any, Iterable, Optional

from hypothesis import strategies as st

from kinsim.durations import MAX_DURATION_S, duration_text
from kinsim.lag import LAG_KINDS, Constant, Exponential, LagModel, LogNormal, Normal, Pareto, Uniform

from .once import built_once

__all__ = ["lag_models", "lag_document", "seconds"]


@built_once
def seconds(low: float = 0.0, high: float = 60.0) -> st.SearchStrategy[float]:
    """Whole milliseconds from ``low`` to ``high`` seconds, as floats, often one of the ends. Each is the
    float a scenario file's ``"1.25s"`` or ``1.25`` reads as."""
    low_ms, high_ms = round(low * 1000), round(high * 1000)
    if not 0 <= low_ms <= high_ms:
        raise ValueError("seconds needs 0 <= low <= high")
    return st.one_of(st.sampled_from([low_ms, high_ms]), st.integers(low_ms, high_ms)).map(lambda ms: ms / 1000)


@built_once
def _hundredths(low: float, high: float) -> st.SearchStrategy[float]:
    return st.integers(round(low * 100), round(high * 100)).map(lambda h: h / 100)


@built_once
def lag_models(kinds: Optional[Iterable[str]] = None, *, max_seconds: float = 60.0, max_sigma: float = 2.0,
               min_shape: float = 0.5) -> st.SearchStrategy[LagModel]:
    """A lag model of one of ``kinds`` (the scenario file's words: constant, uniform, exponential, normal,
    lognormal, pareto; default all). ``max_seconds`` (0.001 up to a thousand years) bounds the location and scale,
    ``max_sigma`` (0 to 10) a lognormal's sigma and ``min_shape`` (0.1 to 5) a Pareto's shape (see the
    module's docstring)."""
    chosen = tuple(LAG_KINDS) if kinds is None else tuple(kinds)
    unknown = [kind for kind in chosen if kind not in LAG_KINDS]
    if unknown or not chosen:
        raise ValueError(f"lag kinds are {', '.join(LAG_KINDS)}; got {', '.join(map(repr, unknown)) or 'none'}")
    if not 0.001 <= max_seconds <= MAX_DURATION_S or not 0 <= max_sigma <= 10 or not 0.1 <= min_shape <= 5:
        raise ValueError("lag_models needs max_seconds from 0.001 to a thousand years, max_sigma from 0 to 10, "
                         "min_shape from 0.1 to 5")
    anywhere, above_zero = seconds(0.0, max_seconds), seconds(0.001, max_seconds)
    built = {
        "constant": anywhere.map(Constant),
        "uniform": st.tuples(anywhere, anywhere).map(lambda ends: Uniform(*sorted(ends))),
        "exponential": above_zero.map(Exponential),
        "normal": st.builds(Normal, anywhere, seconds(0.0, max_seconds / 2)),
        "lognormal": st.builds(LogNormal, above_zero, _hundredths(0.0, max_sigma)),
        "pareto": st.builds(Pareto, above_zero, _hundredths(min_shape, max(min_shape, 5.0))),
    }
    return st.one_of(*(built[kind] for kind in chosen))


def lag_document(model: LagModel) -> dict[str, Any]:
    """A lag model as a scenario file writes it under ``lag``: ``{"uniform": {"low": "20s", "high":
    "1m30s"}}``, durations as text, shapes as numbers."""
    for kind, (model_class, names, durations) in LAG_KINDS.items():
        if type(model) is model_class:
            return {kind: {name: duration_text(getattr(model, name)) if name in durations else getattr(model, name)
                           for name in names}}
    raise TypeError(f"not a lag model: {model!r}")

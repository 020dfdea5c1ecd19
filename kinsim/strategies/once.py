"""Strategies built once per arguments, for strategies that other strategies build while drawing.

hypothesis checks a strategy the first time it draws from it (its arguments, whether it can be empty,
its label, and those of every strategy inside it) and remembers the answers on the object. A
``@st.composite`` that calls ``st.one_of(...)`` or ``seconds(...)`` anew at each draw hands it a new
object every time, so the checks run again at every draw: for the scenarios here, about half the
time spent generating them. ``@built_once`` keeps the strategy a function builds and gives the same
object back for the same arguments. Strategies are immutable, so the kept one draws exactly what a new
one would: the same choices make the same values.

Arguments are told apart by type and value (``60`` and ``60.0`` are built apart); lists and tuples by
their items, so a pool of keys given as a list is found again; strategies by identity. Arguments that
cannot be hashed build a new strategy each time, as without the decorator. At most ``MAX_KEPT``
strategies are kept per function (then it starts afresh), so arguments drawn from a wide range, such as
bounds in milliseconds, cost a lookup and no memory to speak of.
"""

from __future__ import annotations

import functools
from typing import Any, Callable, TypeVar

__all__ = ["MAX_KEPT", "built_once"]

MAX_KEPT = 512

F = TypeVar("F", bound=Callable[..., Any])


def _key(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return type(value), tuple(_key(item) for item in value)
    return type(value), value


def built_once(build: F) -> F:
    """``build`` (a function returning a strategy), keeping what it returns per arguments."""
    kept: dict[Any, Any] = {}

    @functools.wraps(build)
    def cached(*args: Any, **kwargs: Any) -> Any:
        try:
            key = (tuple(_key(arg) for arg in args), tuple(sorted((name, _key(v)) for name, v in kwargs.items())))
            strategy = kept.get(key)
        except TypeError:  # an argument that cannot be hashed
            return build(*args, **kwargs)
        if strategy is None:
            strategy = build(*args, **kwargs)
            if len(kept) >= MAX_KEPT:
                kept.clear()
            kept[key] = strategy
        return strategy

    return cached  # type: ignore[return-value]

"""Network lag models: how long a record takes from its producer to the stream.

Each model draws from the ``random.Random`` it is handed, never the global one, so a seed fixes every
delay. Delays are seconds, never negative (a normal draw below zero is clamped to zero). A model's
parameters are finite numbers, checked when it is made. ``samples(rng, n)`` is exactly ``n`` calls of
``sample(rng)``, faster. ``beyond(q)`` is the delay a draw exceeds with probability ``q``: of ``n`` draws,
the largest is about ``beyond(1 / n)``, which the run's size estimate takes.
"""

from __future__ import annotations

import functools
import math
import random
from dataclasses import dataclass, fields
from statistics import NormalDist
from itertools import repeat
from operator import sub, truediv
from typing import Union

__all__ = ["Constant", "Uniform", "Exponential", "Normal", "LogNormal", "Pareto", "LagModel", "LAG_KINDS"]


def _finite(model) -> None:
    """Every parameter of a lag model is a finite number of seconds (or a finite shape)."""
    for name in _parameters(type(model)):
        value = getattr(model, name)
        if not math.isfinite(value) or value < 0:
            raise ValueError(f"{name} must be a finite number, at least 0")


@functools.lru_cache(maxsize=None)
def _parameters(model_type: type) -> tuple[str, ...]:
    """A lag model's parameters, by name (its fields: a file of 100,000 producers makes as many models)."""
    return tuple(field.name for field in fields(model_type))


class _OneByOne:
    """``samples`` as ``n`` calls of ``sample``, for models with no faster way."""

    def samples(self, rng: random.Random, n: int) -> list[float]:
        return [self.sample(rng) for _ in range(n)]


@dataclass(frozen=True)
class Constant:
    value: float

    def __post_init__(self) -> None:
        _finite(self)

    def beyond(self, q: float) -> float:
        return self.value

    def sample(self, rng: random.Random) -> float:
        return self.value

    def samples(self, rng: random.Random, n: int) -> list[float]:
        return [self.value] * n

    def describe(self) -> str:
        return f"constant {self.value:g} s"


@dataclass(frozen=True)
class Uniform:
    low: float
    high: float

    def __post_init__(self) -> None:
        _finite(self)
        if self.high < self.low:
            raise ValueError(f"high ({self.high:g} s) is below low ({self.low:g} s)")

    def beyond(self, q: float) -> float:
        return self.high - q * (self.high - self.low)

    def sample(self, rng: random.Random) -> float:
        return rng.uniform(self.low, self.high)

    def samples(self, rng: random.Random, n: int) -> list[float]:
        low, span = self.low, self.high - self.low
        return [low + span * u for u in map(random.Random.random, repeat(rng, n))]  # rng.uniform, unrolled

    def describe(self) -> str:
        return f"uniform {self.low:g}-{self.high:g} s"


@dataclass(frozen=True)
class Exponential:
    mean: float

    def __post_init__(self) -> None:
        _finite(self)
        if self.mean <= 0:
            raise ValueError("mean must be above 0")

    def beyond(self, q: float) -> float:
        return -self.mean * math.log(q)

    def sample(self, rng: random.Random) -> float:
        return rng.expovariate(1.0 / self.mean)

    def samples(self, rng: random.Random, n: int) -> list[float]:
        # random.expovariate unrolled: -log(1 - u) / rate, written as log(1 - u) / -rate (the same bits)
        uniforms = map(random.Random.random, repeat(rng, n))
        return list(map(truediv, map(math.log, map(sub, repeat(1.0), uniforms)), repeat(-1.0 / self.mean)))

    def describe(self) -> str:
        return f"exponential, mean {self.mean:g} s"


@dataclass(frozen=True)
class Normal(_OneByOne):
    mean: float
    stddev: float

    def __post_init__(self) -> None:
        _finite(self)

    def beyond(self, q: float) -> float:
        return max(0.0, self.mean - self.stddev * NormalDist().inv_cdf(q))

    def sample(self, rng: random.Random) -> float:
        return max(0.0, rng.gauss(self.mean, self.stddev))

    def describe(self) -> str:
        return f"normal {self.mean:g} ± {self.stddev:g} s"


@dataclass(frozen=True)
class LogNormal(_OneByOne):
    median: float
    sigma: float

    def __post_init__(self) -> None:
        _finite(self)
        if self.median <= 0:
            raise ValueError("median must be above 0")

    def beyond(self, q: float) -> float:
        try:
            return self.median * math.exp(-self.sigma * NormalDist().inv_cdf(q))
        except OverflowError:
            return math.inf

    def sample(self, rng: random.Random) -> float:
        return rng.lognormvariate(math.log(self.median), self.sigma)

    def describe(self) -> str:
        return f"lognormal, median {self.median:g} s, sigma {self.sigma:g}"


@dataclass(frozen=True)
class Pareto(_OneByOne):
    scale: float
    shape: float

    def __post_init__(self) -> None:
        _finite(self)
        if self.scale <= 0 or self.shape <= 0:
            raise ValueError("scale and shape must be above 0")

    def beyond(self, q: float) -> float:
        try:
            return self.scale * q ** (-1.0 / self.shape)
        except OverflowError:
            return math.inf

    def sample(self, rng: random.Random) -> float:
        return self.scale * rng.paretovariate(self.shape)  # at least ``scale``, heavy tail past it

    def describe(self) -> str:
        return f"pareto, minimum {self.scale:g} s, shape {self.shape:g}"


LagModel = Union[Constant, Uniform, Exponential, Normal, LogNormal, Pareto]

#: YAML name → (model, its parameters in order, which of them are durations)
LAG_KINDS = {
    "constant": (Constant, ("value",), ("value",)),
    "uniform": (Uniform, ("low", "high"), ("low", "high")),
    "exponential": (Exponential, ("mean",), ("mean",)),
    "normal": (Normal, ("mean", "stddev"), ("mean", "stddev")),
    "lognormal": (LogNormal, ("median", "sigma"), ("median",)),
    "pareto": (Pareto, ("scale", "shape"), ("scale",)),
}

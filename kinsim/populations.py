"""Key populations: the partition keys a producer's records are drawn from (DESIGN §5).

A population is a range of IPv4 addresses counted up from ``first`` (``Addresses``), drawn uniformly or
by a Zipf law (rank 1, the heaviest, is ``first``), or a list of keys (``KeyList``), drawn uniformly or
by weights. With ``each``, there is no draw: member ``i`` of a producer group writes key ``i`` only.

Every draw is one ``rng.random()`` (``u``) from the producer's own generator, in record order:

- uniform over ``n`` keys: key ``floor(u × n)``;
- weighted (Zipf weights ``r ** -s`` for ranks ``r = 1 … n``, or the list's weights): the number of
  running sums of the weights, added in key order, that are at most ``u × total``.

A weighted draw is a bisection over a table of the ``n - 1`` first running sums (``Sampler``), built
once per run in a typed array: 8 bytes a key, exact to the floats' rounding, about a microsecond a draw
for a million keys, with nothing to build per record. (An alias table draws in constant time, but takes
twice the memory, a slower build in pure Python and two numbers a draw; rejection-inversion takes no
table but a rejection loop of transcendental functions per draw. Bisection is within a factor of two
of either where it matters, and is the easiest to state exactly.)

A population's own check raises ``PopulationError``, which names the field at fault, so the scenario
loader can point at ``producers[1].keys.count``.
"""

from __future__ import annotations

import heapq
import ipaddress
import math
from array import array
from bisect import bisect_right
from dataclasses import dataclass
from itertools import accumulate, repeat
from functools import reduce
from operator import add, mul
from random import Random
from typing import Iterable, Optional, Union

__all__ = ["Zipf", "Addresses", "KeyList", "Population", "PopulationError", "Sampler", "address_text",
           "MAX_TABLE_KEYS"]

IPV4_SPACE = 2**32
MAX_TABLE_KEYS = 10_000_000  # a weighted population's table takes 8 bytes a key: 80 MB at most


class PopulationError(ValueError):
    """A population that cannot be: ``field`` is the key at fault (``count``, ``weights``, ...)."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(problem)
        self.field, self.problem = field, problem


def address_text(address: int) -> str:
    """An IPv4 address held as an integer, in dotted decimal."""
    return f"{address >> 24}.{address >> 16 & 255}.{address >> 8 & 255}.{address & 255}"


def parse_address(text: str) -> int:
    """Dotted-decimal IPv4 text as an integer (``ValueError`` if it is not one)."""
    try:
        return int(ipaddress.IPv4Address(text))
    except ipaddress.AddressValueError:
        raise ValueError(f"expected an IPv4 address like 10.0.0.1, got {text[:60]!r}") from None


@dataclass(frozen=True)
class Zipf:
    """Rank ``r`` (1 to n) drawn with probability proportional to ``r ** -s``."""

    s: float

    def __post_init__(self) -> None:
        if not (math.isfinite(self.s) and self.s > 0):
            raise PopulationError("distribution.zipf", f"the exponent s is a finite number above 0, got {self.s!r}")


@dataclass(frozen=True)
class Addresses:
    """``count`` IPv4 addresses from ``first`` (an integer) up; drawn uniformly, by ``zipf``, or with
    ``each`` one address per member of the producer group."""

    first: int
    count: int
    zipf: Optional[Zipf] = None
    each: bool = False

    def __post_init__(self) -> None:
        if not 0 <= self.first < IPV4_SPACE:
            raise PopulationError("first", f"an IPv4 address, got {self.first!r}")
        if self.count < 1:
            raise PopulationError("count", f"a population holds at least one key, got {self.count}")
        if self.first + self.count > IPV4_SPACE:
            raise PopulationError("count", f"{self.count:,} addresses from {address_text(self.first)} run past "
                                           f"255.255.255.255 (at most {IPV4_SPACE - self.first:,} from there)")
        if self.zipf is not None and self.each:
            raise PopulationError("each", "with each, member i writes key i only: no distribution applies")
        if self.zipf is not None and self.count > MAX_TABLE_KEYS:
            raise PopulationError("count", f"a zipf population holds at most {MAX_TABLE_KEYS:,} keys "
                                           f"(its table takes 8 bytes a key), got {self.count:,}")

    def __len__(self) -> int:
        return self.count

    def key(self, index: int) -> str:
        return address_text(self.first + index)

    def draw_weights(self) -> Optional[Iterable[float]]:
        """Each key's weight, in key order (None: uniform)."""
        if self.zipf is None:
            return None
        return map(pow, map(float, range(1, self.count + 1)), repeat(-self.zipf.s))

    def top_shares(self, most: int) -> list[tuple[int, float]]:
        """The chances of the ``most`` likeliest keys, heaviest first, as ``(index, chance)`` (for an
        estimate: a Zipf law's total is summed exactly over the first 1,000 ranks, the rest as an
        integral)."""
        if self.zipf is None:
            return [(i, 1.0 / self.count) for i in range(min(most, self.count))]
        s, exact = self.zipf.s, min(self.count, 1000)
        total = math.fsum(float(r) ** -s for r in range(1, exact + 1))
        if self.count > exact:
            low, high = exact + 0.5, self.count + 0.5
            total += math.log(high / low) if s == 1 else (high ** (1 - s) - low ** (1 - s)) / (1 - s)
        return [(r - 1, float(r) ** -s / total) for r in range(1, min(most, self.count) + 1)]

    def expected_distinct(self, draws: float) -> float:
        """About how many distinct keys ``draws`` draws hit (for the run estimate): the sum over
        keys of 1 - (1 - p)^draws; a Zipf law's in blocks of ranks a hundredth wide, each as its first."""
        n = self.count
        if draws <= 0:
            return 0.0
        if self.zipf is None:
            return n * -math.expm1(draws * math.log1p(-1 / n)) if n > 1 else 1.0
        top = self.top_shares(1)[0][1]  # rank 1's chance: r ** -s x top is rank r's
        s, total, rank = self.zipf.s, 0.0, 1
        while rank <= n:
            width = max(1, min(n + 1 - rank, rank // 100))
            chance = min(1.0, top * float(rank) ** -s)
            total += width * (-math.expm1(draws * math.log1p(-chance)) if chance < 1 else 1.0)
            rank += width
        return total

    def describe(self) -> str:
        how = "one per member" if self.each else "uniform" if self.zipf is None else f"zipf s={self.zipf.s:g}"
        return f"{self.count:,} addresses from {address_text(self.first)}, {how}"


@dataclass(frozen=True)
class KeyList:
    """Keys given one by one; drawn uniformly, by ``weights`` (one a key), or with ``each`` one key per
    member of the producer group."""

    keys: tuple[str, ...]
    weights: Optional[tuple[float, ...]] = None
    each: bool = False

    def __post_init__(self) -> None:
        if not self.keys:
            raise PopulationError("list", "a population holds at least one key")
        for i, key in enumerate(self.keys):
            if not 1 <= len(key) <= 256:
                raise PopulationError(f"list[{i}]", "a partition key has 1 to 256 characters")
        if len(set(self.keys)) != len(self.keys):
            seen: dict[str, int] = {}
            for i, key in enumerate(self.keys):
                if key in seen:
                    raise PopulationError(f"list[{i}]", f"{key[:60]!r} is already list[{seen[key]}]: each key once")
                seen[key] = i
        if self.weights is None:
            return
        if self.each:
            raise PopulationError("weights", "with each, member i writes key i only: weights do not apply")
        if len(self.weights) != len(self.keys):
            raise PopulationError("weights", f"one weight a key: {len(self.keys):,} keys, "
                                             f"{len(self.weights):,} weights")
        for i, weight in enumerate(self.weights):
            if not (math.isfinite(weight) and weight >= 0):
                raise PopulationError(f"weights[{i}]", f"a weight is a finite number, at least 0, got {weight!r}")
        if not any(weight > 0 for weight in self.weights):
            raise PopulationError("weights", "at least one weight above 0")
        if math.isinf(reduce(add, self.weights)):  # summed in key order, as the draws sum them
            raise PopulationError("weights", "the weights' sum must be finite")
        if len(self.keys) > MAX_TABLE_KEYS:
            raise PopulationError("weights", f"a weighted population holds at most {MAX_TABLE_KEYS:,} keys")

    def __len__(self) -> int:
        return len(self.keys)

    def key(self, index: int) -> str:
        return self.keys[index]

    def draw_weights(self) -> Optional[Iterable[float]]:
        return self.weights

    def top_shares(self, most: int) -> list[tuple[int, float]]:
        """The chances of the ``most`` likeliest keys, heaviest first, as ``(index, chance)``."""
        n = len(self.keys)
        if self.weights is None:
            return [(i, 1.0 / n) for i in range(min(most, n))]
        weights, total = self.weights, math.fsum(self.weights)
        return [(i, weights[i] / total) for i in heapq.nlargest(most, range(n), key=weights.__getitem__)]

    def expected_distinct(self, draws: float) -> float:
        """About how many distinct keys ``draws`` draws hit: the sum over keys of 1 - (1 - p)^draws."""
        if draws <= 0:
            return 0.0
        n = len(self.keys)
        chances = [1 / n] * n if self.weights is None else [w / math.fsum(self.weights) for w in self.weights]
        return sum(-math.expm1(draws * math.log1p(-p)) if p < 1 else 1.0 for p in chances)

    def describe(self) -> str:
        how = "one per member" if self.each else "uniform" if self.weights is None else "weighted"
        return f"{len(self.keys):,} listed keys, {how}"


Population = Union[Addresses, KeyList]


class Sampler:
    """Draws key indices of one population (see the module's docstring): ``draw(rng, count)``."""

    __slots__ = ("size", "_bounds", "_total")

    def __init__(self, population: Population) -> None:
        self.size = len(population)
        weights = population.draw_weights()
        self._bounds: Optional[array] = None
        self._total = float(self.size)
        if weights is not None and self.size > 1:
            sums = array("d", accumulate(weights))
            self._total = sums.pop()  # the last running sum: the total; the table keeps the n - 1 before it
            self._bounds = sums

    def draw(self, rng: Random, count: int) -> list[int]:
        """``count`` key indices, in draw order: one ``rng.random()`` each."""
        uniforms = [rng.random() for _ in range(count)]
        if self._bounds is None:
            return list(map(int, map(mul, uniforms, repeat(self._total))))
        return list(map(bisect_right, repeat(self._bounds), map(mul, uniforms, repeat(self._total))))

"""Strategies for key populations and producer groups (``kinsim.populations``, DESIGN §5).

``key_populations()`` draws a population a producer's records draw their keys from: a range of IPv4
addresses (uniform or Zipf, the exponent in hundredths), or a list of keys (uniform, or weighted, zero
weights included); ``each_populations(n)`` one whose member ``i`` writes key ``i`` only, for a group of
``n``. ``producer_groups(producer)`` turns a one-key producer into a group and/or gives it a population.
``population_document`` writes a population as a scenario file does, so it reads back equal.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Optional

from hypothesis import strategies as st

from kinsim.populations import Addresses, KeyList, Population, Zipf, address_text
from kinsim.scenario import ProducerSpec

from .once import built_once

__all__ = ["address_ranges", "key_lists", "key_populations", "each_populations", "producer_groups",
           "population_document"]

_FIRSTS = (0x0A000001, 0x08080808, 0xC0000201, 0xFFFFFF00)  # 10.0.0.1, 8.8.8.8, 192.0.2.1, 255.255.255.0


_WEIGHTS = st.one_of(st.just(0.0), st.integers(1, 100).map(float), st.sampled_from([0.5, 0.001, 1e6]))
_FIRST_ADDRESSES = st.one_of(st.sampled_from(_FIRSTS), st.integers(0, 2**32 - 1))
_ZIPF_HUNDREDTHS = st.integers(1, 300)


@built_once
def _weight_lists(length: int) -> st.SearchStrategy[list[float]]:
    return st.lists(_WEIGHTS, min_size=length, max_size=length)


@built_once
def _distinct_keys(keys: Optional[st.SearchStrategy[str]], max_keys: int) -> st.SearchStrategy[list[str]]:
    return st.lists(keys if keys is not None else st.ip_addresses(v=4).map(str), min_size=1, max_size=max_keys,
                    unique=True)


@built_once
@st.composite
def address_ranges(draw, max_keys: int = 1000, each: bool = False) -> Addresses:
    """``1`` to ``max_keys`` addresses from a usual first address or any one with room for them, uniform
    or Zipf (s from 0.01 to 3), or with ``each`` one per member."""
    count = draw(st.integers(1, max_keys))
    first = draw(_FIRST_ADDRESSES)
    first = min(first, 2**32 - count)
    zipf = None if each or draw(st.booleans()) else Zipf(draw(_ZIPF_HUNDREDTHS) / 100)
    return Addresses(first, count, zipf, each)


@built_once
@st.composite
def key_lists(draw, max_keys: int = 8, keys: Optional[st.SearchStrategy[str]] = None, each: bool = False) -> KeyList:
    """One to ``max_keys`` distinct keys (``keys`` draws them: default addresses), uniform or weighted
    (one weight in three 0, at least one above 0), or with ``each`` one per member."""
    drawn = draw(_distinct_keys(keys, max_keys))
    if each or draw(st.booleans()):
        return KeyList(tuple(drawn), None, each)
    weights = draw(_weight_lists(len(drawn)))
    if not any(weights):
        weights[draw(st.integers(0, len(weights) - 1))] = 1.0
    return KeyList(tuple(drawn), tuple(weights))


@built_once
def key_populations(max_keys: int = 1000, keys: Optional[st.SearchStrategy[str]] = None) -> st.SearchStrategy[Population]:
    """A population to draw keys from: addresses (up to ``max_keys``) or a list (up to 8 keys)."""
    return st.one_of(address_ranges(max_keys), key_lists(min(8, max_keys), keys))


@built_once
def each_populations(members: int, keys: Optional[st.SearchStrategy[str]] = None) -> st.SearchStrategy[Population]:
    """A population of exactly ``members`` keys with ``each``: member ``i`` writes key ``i``."""
    addresses = st.one_of(st.sampled_from(_FIRSTS), st.integers(0, 2**32 - members)).map(
        lambda first: Addresses(min(first, 2**32 - members), members, None, True))
    listed = st.lists(keys if keys is not None else st.ip_addresses(v=4).map(str), min_size=members,
                      max_size=members, unique=True).map(lambda drawn: KeyList(tuple(drawn), None, True))
    return st.one_of(addresses, listed)


_HOW_ONE = st.sampled_from(["key", "drawn", "drawn"])
_HOW_GROUP = st.sampled_from(["key", "drawn", "drawn", "each"])


@built_once
def _member_counts(max_members: int) -> st.SearchStrategy[Optional[int]]:
    return st.one_of(st.none(), st.integers(1, max_members))


@st.composite
def producer_groups(draw, producer: ProducerSpec, max_members: int = 4, max_keys: int = 1000,
                    keys: Optional[st.SearchStrategy[str]] = None, stretch: bool = True) -> ProducerSpec:
    """``producer`` as a group of 1 to ``max_members`` (or still one producer), writing its one key, a
    key per member (``each``), or keys drawn from a population of up to ``max_keys`` (``keys`` draws a
    list's keys); with ``stretch``, its interval times the members, so the group writes about as often
    as the producer did."""
    count = draw(_member_counts(max_members))
    members = 1 if count is None else count
    how = draw(_HOW_ONE if count is None else _HOW_GROUP)
    if how == "key":
        population = None
    elif how == "each":
        population = draw(each_populations(members, keys))
    else:
        population = draw(key_populations(max_keys, keys))
    interval = round(producer.interval * 1000) * members / 1000 if stretch else producer.interval  # whole ms
    return dataclasses.replace(producer, partition_key=producer.partition_key if population is None else None,
                               keys=population, count=count, interval=interval)


def population_document(population: Population) -> dict[str, Any]:
    """A population as a scenario file's ``keys`` mapping."""
    if isinstance(population, Addresses):
        item: dict[str, Any] = {"first": address_text(population.first), "count": population.count}
        if population.zipf is not None:
            item["distribution"] = {"zipf": population.zipf.s}
    else:
        item = {"list": list(population.keys)}
        if population.weights is not None:
            item["weights"] = list(population.weights)
    if population.each:
        item["each"] = True
    return item

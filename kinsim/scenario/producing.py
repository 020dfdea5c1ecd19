"""The ``producers`` of a scenario file (DESIGN §5): each one's pace, lag, outages and clock, its key or
key population (``keys``), and producer groups (``count``).

A population is ``keys: {first: 10.0.0.1, count: 100000, distribution: uniform | {zipf: s}}`` (IPv4
addresses counted up from ``first``) or ``keys: {list: [...], weights: [...]}``; with ``each: true`` the
group's member ``i`` writes key ``i`` only. A bad population is one message naming its key path
(``producers[1].keys.count``).
"""

from __future__ import annotations

from typing import Any, Callable, Optional

from ..errors import ScenarioError
from ..lag import Constant, LagModel
from ..populations import Addresses, KeyList, Population, PopulationError, Zipf, parse_address
from .fault_items import read_lag
from .model import MAX_MEMBERS, Outage, Pacing, ProducerSpec
from .values import (
    Node,
    built,
    choice,
    duration,
    integer,
    name,
    number,
    partition_key,
    positive_duration,
    rate,
    shown,
    signed_duration,
    text,
)

__all__ = ["producer_spec", "producer_specs", "check_member_names"]

_NO_LAG = Constant(0.0)  # a frozen value: every producer without a lag shares it
_KEYS = ("name", "partition_key", "keys", "count", "interval", "rate", "offset", "jitter", "lag", "outages",
         "clock_skew", "pacing", "until")


def _outages(node: Node) -> tuple[Outage, ...]:
    outages = []
    for item in node.items():
        item.mapping(("at", "for"))
        at = item.get("at", duration, required=True)
        length = item.get("for", duration, required=True)
        outages.append(built(item, lambda: Outage(at, length)))
    return tuple(outages)


def _address(value: Any) -> int:
    return parse_address(text(value, 100))


def _boolean(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"expected true or false, got {shown(value)}")
    return value


def _zipf(node: Node) -> Zipf:
    """``distribution``: ``uniform`` (None is returned as no Zipf law) or ``{zipf: s}``."""
    if node.value == "uniform":
        return None  # type: ignore[return-value]
    if not isinstance(node.value, dict) or list(node.value) != ["zipf"]:
        raise node.error(f"expected uniform or {{zipf: s}} (s above 0), got {shown(node.value)}")
    s = node.get("zipf", number, required=True)
    return _built(node, lambda: Zipf(s), node.path.rsplit(".", 1)[0])


def _built(node: Node, build, base: Optional[str] = None):
    """Build a population (or part of one); its ``PopulationError`` names the key under ``base`` (default:
    the node's path, worked out only then)."""
    try:
        return build()
    except PopulationError as exc:
        raise ScenarioError(node.file, f"{node.path if base is None else base}.{exc.field}", exc.problem) from None
    except ValueError as exc:
        raise node.error(str(exc)) from None


def _population(node: Node) -> Population:
    """``keys``: a range of addresses or a list of keys (see the module's docstring)."""
    node.mapping(("first", "count", "distribution", "list", "weights", "each"))
    each = node.get("each", _boolean, False)
    if node.has("list") == node.has("first"):
        raise node.error("give either first and count (IPv4 addresses) or list (keys), not both or neither")
    if node.has("list"):
        for key in ("count", "distribution"):
            if node.has(key):
                raise node.child(key).error("a list of keys takes weights, not count or distribution")
        keys = tuple(item.convert(partition_key) for item in node.child("list").items())
        weights = None
        if node.value.get("weights") is not None:
            weights = tuple(item.convert(number) for item in node.child("weights").items())
        return _built(node, lambda: KeyList(keys, weights, each))
    if node.has("weights"):
        raise node.child("weights").error("weights go with a list of keys; addresses take a distribution")
    first = node.get("first", _address, required=True)
    count = node.get("count", integer, required=True)
    zipf = _zipf(node.child("distribution")) if node.value.get("distribution") is not None else None
    return _built(node, lambda: Addresses(first, count, zipf, each))


def producer_specs(node: Node) -> list[ProducerSpec]:
    """Every item of ``producers`` (``node``). Producers that write their lag the same way share one lag
    model (a frozen value), and a duration, rate or pacing written the same way is read once: a file of
    100,000 producers says a few of each 100,000 times. A producer of only the common keys is read by
    ``_common_spec``; any other, or one it finds anything wrong with, by ``producer_spec``."""
    lags: dict[str, LagModel] = {}
    readers = {key: (field, convert, {} if key in _REPEATED else None) for key, (field, convert) in _COMMON.items()}
    specs = []
    for i, value in enumerate(node.item_values()):
        spec = _common_spec(value, lags, readers)
        specs.append(producer_spec(node.child(i), lags) if spec is None else spec)
    return specs


def _lag(node: Node, known: dict[str, LagModel]) -> LagModel:
    """``lag``, read once for each way it is written. A lag is a scalar or a one-key mapping of a few
    scalars, and the ``repr`` of such a value tells any two apart (types included: ``1``, ``'1'``, ``True``,
    ``1.0``, ``-0.0``); anything larger is read every time (it is an error)."""
    value = node.value
    if type(value) is dict and len(value) == 1:
        inner = next(iter(value.values()))
        if type(inner) in (dict, list) and len(inner) > 4:
            return read_lag(node)
    key = repr(value)
    model = known.get(key)
    if model is None:
        model = known[key] = read_lag(node)
    return model


def _no_outages(value: Any) -> tuple:
    """``outages: []``, as a file that writes every key says none (others: ``_outages``)."""
    if type(value) is not list or value:
        raise ValueError("outages for _outages to read")
    return ()


# A producer's common keys: the field each gives and how its value is read. Those in _REPEATED are read
# once for each way they are written (each converter is a function of the value alone); a lag, as its
# repr, names the model ``_lag`` has read for it (a larger lag than ``_lag`` keeps is an error: its repr is
# taken once, before ``producer_spec`` says what is wrong).
_COMMON: dict[str, tuple[str, Callable[[Any], Any]]] = {
    "name": ("name", name), "partition_key": ("partition_key", partition_key), "count": ("count", integer),
    "interval": ("interval", positive_duration), "rate": ("interval", rate), "offset": ("offset", duration),
    "jitter": ("jitter", duration), "clock_skew": ("clock_skew", signed_duration), "pacing": ("pacing", Pacing),
    "until": ("until", positive_duration), "lag": ("lag", repr), "outages": ("outages", _no_outages)}
_REPEATED = ("interval", "rate", "offset", "jitter", "clock_skew", "pacing", "until")


def _common_spec(value: Any, lags: dict[str, LagModel], readers: dict[str, tuple]) -> Optional[ProducerSpec]:
    """The producer that a mapping of only common keys (no ``keys``, no outages), each given a value,
    says, read as ``producer_spec`` reads it, with a lag ``producer_spec`` has read before; None for any
    other mapping, or anything it finds wrong (``producer_spec`` then says what, and where). ``readers``:
    per common key, its field, its converter and the values it has read (None: each is read anew)."""
    if type(value) is not dict or not value.keys() <= _COMMON.keys() or "name" not in value \
            or "partition_key" not in value or ("interval" in value) == ("rate" in value):
        return None
    fields: dict[str, Any] = {"lag": _NO_LAG}
    try:
        for key, given in value.items():
            if given is None:  # the default, or an error: producer_spec says which
                return None
            field, convert, known = readers[key]
            if known is None or type(given) is not str:
                fields[field] = convert(given)
                continue
            result = known.get(given)
            if result is None:
                result = known[given] = convert(given)
            fields[field] = result
        if "lag" in value:
            fields["lag"] = lags[fields["lag"]]  # a KeyError for a lag not read yet
        count = fields.get("count")
        if count is not None and not 1 <= count <= MAX_MEMBERS:
            return None
        return ProducerSpec(**fields)
    except Exception:  # noqa: BLE001 - whatever it is, producer_spec says it as it always has
        return None


def producer_spec(node: Node, lags: Optional[dict[str, LagModel]] = None) -> ProducerSpec:
    """One item of ``producers`` (``lags``: the lag models read so far, shared by ``producer_specs``)."""
    node.mapping(_KEYS)
    if node.has("interval") == node.has("rate"):
        raise node.error("give either 'interval' (e.g. 2s) or 'rate' (e.g. 30/min), not both or neither")
    if node.has("partition_key") == node.has("keys"):
        raise node.error("give either 'partition_key' (one key) or 'keys' (a population), not both or neither")
    interval = node.get("interval", positive_duration, required=True) if node.has("interval") else \
        node.get("rate", rate, required=True)
    count = node.get("count", integer, None)
    if count is not None and not 1 <= count <= MAX_MEMBERS:
        raise node.child("count").error(f"a group has 1 to {MAX_MEMBERS:,} members, got {count:,}")
    fields = dict(
        name=node.get("name", name, required=True),
        partition_key=node.get("partition_key", partition_key, None),
        keys=_population(node.child("keys")) if node.has("keys") else None,
        count=count,
        interval=interval,
        offset=node.get("offset", duration, 0.0),
        jitter=node.get("jitter", duration, 0.0),
        lag=(read_lag(node.child("lag")) if lags is None else _lag(node.child("lag"), lags)) if node.has("lag") \
        else _NO_LAG,
        outages=_outages(node.child("outages")) if node.has("outages") else (),
        clock_skew=node.get("clock_skew", signed_duration, 0.0),
        pacing=node.get("pacing", choice(Pacing), Pacing.FIXED),
        until=node.get("until", positive_duration, None),
    )
    return _built(node, lambda: ProducerSpec(**fields))


def check_member_names(node: Node, specs: list[ProducerSpec]) -> None:
    """No producer (an item of ``node``, ``producers``) is named as a member of a group (``edge-3`` beside a
    group ``edge`` of more than 3): both would be one producer, with the same generators. Members of two
    groups never share a name (a member's name ends in ``-`` and digits; the groups' names differ)."""
    groups = {spec.name: i for i, spec in enumerate(specs) if spec.count is not None}
    if not groups:
        return
    for i, spec in enumerate(specs):
        stem, _, number_text = spec.name.rpartition("-")
        group = groups.get(stem)
        if group is None or not (number_text.isascii() and number_text.isdigit()) or number_text != str(int(number_text)):
            continue
        if int(number_text) < specs[group].members:
            item = node.child(i)
            path = f"{item.path}.name" if isinstance(item.value, dict) else item.path
            raise ScenarioError(item.file, path, f"'{spec.name}' is the name of a member of producers[{group}] "
                                                 f"(a group of {specs[group].members:,}): use another name")

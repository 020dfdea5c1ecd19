"""Key paths into a scenario document, as ``--vary`` names a field: ``counters[buffered-90s].grace``,
``producers[slow].lag.uniform``, ``consumer.poll_interval``, ``faults[0].at``.

A path is keys joined by dots, any of them followed by list selectors: ``[2]`` is the item at index 2
(from 0), ``[NAME]`` the item named NAME: a mapping whose ``name`` is NAME, or a bare text item equal to
it (``consumer.workers[w1]``). In the top-level ``counters``, a counter is named as the loader names it,
so ``counters[naive]`` also picks a bare ``- naive``; a path that goes on into such a counter
(``counters[naive].size``) rewrites it as the mapping it stands for, ``{kind: naive, name: naive}``, with
the key added (the same counter, under the same name). Names are those of the scenario file.

Every key but the last must be in the file; the last may be new (a field left at its default, like
``counters[buffered-90s].allowed_lateness``): the loader then says if it is no field of that place.

Setting a value copies only the containers along the path: the rest of the document is shared between
points and never changed (the loader only reads it).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Optional, Sequence

from .errors import SweepError

__all__ = ["KeyPath", "Step", "resolve", "with_value"]

_TOKEN = re.compile(r"\.?([^.\[\]]+)|\[([^\[\]]*)\]")
_LISTED = 8  # names or keys a message lists at most


@dataclass(frozen=True)
class Step:
    """One step down: a mapping's key or a list's index. ``expand``: the item there is a bare counter
    kind, to be written as ``{kind: expand[0], name: expand[1]}`` before going on."""

    key: str | int
    expand: Optional[tuple[str, str]] = None


@dataclass(frozen=True)
class KeyPath:
    """A path as given (``text``), its steps in the document, and the key path the loader's messages
    use for the same place (``counters[1].grace``)."""

    text: str
    steps: tuple[Step, ...]
    loader_path: str


def _selectors(text: str, option: str) -> list[tuple[str, str | int]]:
    """``text`` as (how, what) pairs: ("key", name), ("index", i) or ("name", name)."""
    found, at = [], 0
    while at < len(text):
        match = _TOKEN.match(text, at)
        if match is None or (match.group(1) is not None and at > 0 and text[at] != "."):
            raise SweepError(option, f"cannot read the path {text!r} at character {at + 1}: expected keys joined "
                                     "by dots and [INDEX] or [NAME] after a key, like counters[buffered-90s].grace")
        if at == 0 and (match.group(1) is None or text.startswith(".")):
            raise SweepError(option, f"the path {text!r} starts with a list item: a scenario is a mapping, so "
                                     "a path starts with a key")
        key, selector = match.groups()
        if key is not None:
            found.append(("key", key))
        elif selector.strip() == "":
            raise SweepError(option, f"an empty [] in the path {text!r}: give an index or a name")
        elif selector.isdigit():
            found.append(("index", int(selector)))
        else:
            found.append(("name", selector))
        at = match.end()
    if not found:
        raise SweepError(option, "no path before '=': expected PATH=VALUES, like counters[buffered-90s].grace=0s,90s")
    return found


def _shown(path: list[str | int]) -> str:
    """A resolved path as the loader writes it: ``counters[1].grace``."""
    text = ""
    for key in path:
        text += f"[{key}]" if isinstance(key, int) else (f".{key}" if text else str(key))
    return text


def _listed(names: Sequence[Any]) -> str:
    shown = [str(name) for name in names[:_LISTED]]
    return ", ".join(shown) + (f" and {len(names) - _LISTED} more" if len(names) > _LISTED else "")


def _item_names(items: list, at: list[str | int], counter_names: Sequence[str]) -> list[Optional[str]]:
    """The name of each item of a list: the loader's names for the top-level counters; else a mapping's
    ``name``, or the item itself if it is text."""
    if at == ["counters"] and len(counter_names) == len(items):
        return list(counter_names)
    return [item.get("name") if isinstance(item, dict) else item if isinstance(item, str) else None
            for item in items]


def resolve(document: Any, text: str, option: str, counter_names: Sequence[str] = ()) -> KeyPath:
    """The place ``text`` names in ``document`` (a scenario's YAML document), or a ``SweepError`` naming
    ``option``. ``counter_names``: the names the loader gives the document's counters, in order."""
    selectors = _selectors(text, option)
    if selectors == [("key", "seed")]:
        raise SweepError(option, "the seed is not varied by path: give the seeds with --seeds")
    node, at, steps = document, [], []
    for i, (how, what) in enumerate(selectors):
        last = i == len(selectors) - 1
        where = _shown(at) or "the scenario"
        if how == "key":
            if not isinstance(node, dict):
                kind = "a list" if isinstance(node, list) else f"{_value_text(node)}"
                hint = f": pick an item with {where}[NAME] or {where}[INDEX]" if isinstance(node, list) else ""
                raise SweepError(option, f"{where} is {kind}, not a mapping, so it has no key {what!r}{hint}")
            if what not in node and not last:
                raise SweepError(option, f"{where} has no key {what!r} (its keys: {_listed(list(node))}); every key "
                                         "of a path but the last must be in the scenario file")
            steps.append(Step(what))
            at.append(what)
            node = node.get(what)
            continue
        if not isinstance(node, list):
            kind = "a mapping" if isinstance(node, dict) else _value_text(node)
            raise SweepError(option, f"{where} is {kind}, not a list, so [{what}] picks nothing")
        if how == "index":
            if what >= len(node):
                raise SweepError(option, f"{where} has {len(node)} item{'s' * (len(node) != 1)} (0 to "
                                         f"{len(node) - 1}), so there is no {where}[{what}]")
            index = what
        else:
            names = _item_names(node, at, counter_names)
            if what not in names:
                known = [name for name in names if name is not None]
                listed = f" (the names: {_listed(known)})" if known else " (its items have no names: pick one by index)"
                raise SweepError(option, f"{where} has no item named {what!r}{listed}")
            if names.count(what) > 1:
                raise SweepError(option, f"{where} has {names.count(what)} items named {what!r}: pick one by index")
            index = names.index(what)
        item = node[index]
        expand = None
        if not last and isinstance(item, str) and at == ["counters"]:
            expand = (item, _item_names(node, at, counter_names)[index] or item)
            item = {"kind": expand[0], "name": expand[1]}
        steps.append(Step(index, expand))
        at.append(index)
        node = item
    return KeyPath(text, tuple(steps), _shown(at))


def with_value(document: Any, path: KeyPath, value: Any) -> Any:
    """``document`` with ``value`` at ``path``: the containers along the path copied, the rest shared."""
    return _set(document, path.steps, value)


def _set(node: Any, steps: tuple[Step, ...], value: Any) -> Any:
    if not steps:
        return value
    step = steps[0]
    copied = dict(node) if isinstance(node, dict) else list(node)
    child = node.get(step.key) if isinstance(node, dict) else node[step.key]
    if step.expand is not None and isinstance(child, str):
        child = {"kind": step.expand[0], "name": step.expand[1]}
    copied[step.key] = _set(child, steps[1:], value)
    return copied


def _value_text(value: Any) -> str:
    """A value in a message: short."""
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."

"""Reading a scenario file: bytes to a YAML document, within stated limits, or one clear problem.

A scenario file is at most ``MAX_FILE_BYTES``, UTF-8, one YAML document. Before anything is built, its
events are counted in one streaming pass (the parser keeps its own stack, so any depth is safe to
count): nesting deeper than ``MAX_DEPTH``, more than ``MAX_ALIASES`` aliases, an alias to a node that
holds it (a recursive structure) or more than ``MAX_NODES`` nodes once every alias is expanded (an
"alias bomb") is refused before it can exhaust the stack, the memory or the time of whatever walks
it. Then the document is built with a strict safe loader: a key given twice in one mapping is refused
with both places; timestamps stay text (the scenario parses and checks its own instants); a scalar
that looks like a number but is not one (``.``, ``0x``, a number of 5,000 digits) stays text, for the
scenario's own checks to refuse with its key path.

Every failure is a ``ValueError`` whose message says what is wrong and where (line and column).
"""

from __future__ import annotations

from typing import Any, Optional

import yaml

__all__ = ["MAX_FILE_BYTES", "MAX_DEPTH", "MAX_ALIASES", "MAX_NODES", "read_document"]

MAX_FILE_BYTES = 1024 * 1024
MAX_DEPTH = 32
MAX_ALIASES = 1_000
MAX_NODES = 100_000

_Base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's parser when it is there: several times faster


def _where(mark) -> str:
    return f"line {mark.line + 1}, column {mark.column + 1}" if mark is not None else "somewhere"


class _StrictLoader(_Base):
    """The safe loader, but: duplicate keys are refused, timestamps stay text, and a scalar that looks
    like a number without being one stays text."""

    yaml_implicit_resolvers = {
        first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
        for first, resolvers in _Base.yaml_implicit_resolvers.items()
    }

    def construct_mapping(self, node, deep=False):
        if isinstance(node, yaml.MappingNode):
            seen: dict[Any, Any] = {}
            for key_node, _ in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    continue
                key = self.construct_object(key_node, deep=True)
                try:
                    first = seen.setdefault(key, key_node)
                except TypeError:
                    raise ValueError(f"{_where(key_node.start_mark)}: a mapping key must be text or a number") from None
                if first is not key_node:
                    shown = repr(key) if len(repr(key)) <= 40 else repr(key)[:37] + "..."
                    raise ValueError(f"{_where(key_node.start_mark)}: the key {shown} is given twice in one mapping "
                                     f"(first at {_where(first.start_mark)})")
        return super().construct_mapping(node, deep=deep)

    def construct_yaml_int(self, node):
        try:
            return super().construct_yaml_int(node)
        except ValueError:
            return self.construct_scalar(node)

    def construct_yaml_float(self, node):
        try:
            return super().construct_yaml_float(node)
        except ValueError:
            return self.construct_scalar(node)

    def construct_yaml_timestamp(self, node):
        return self.construct_scalar(node)


_StrictLoader.add_constructor("tag:yaml.org,2002:int", _StrictLoader.construct_yaml_int)
_StrictLoader.add_constructor("tag:yaml.org,2002:float", _StrictLoader.construct_yaml_float)
_StrictLoader.add_constructor("tag:yaml.org,2002:timestamp", _StrictLoader.construct_yaml_timestamp)


def _check_shape(text: str) -> None:
    """One streaming pass over the events: depth, aliases and the expanded size, within the limits."""
    depth = aliases = expanded = 0   # expanded: values so far, each alias counted as what it names
    open_nodes: list[tuple[Optional[str], int]] = []  # per open collection: its anchor, ``expanded`` at its start
    sizes: dict[str, int] = {}       # anchor → how many values the node it names holds, itself included
    for event in yaml.parse(text, Loader=_Base):
        if isinstance(event, yaml.AliasEvent):
            aliases += 1
            if aliases > MAX_ALIASES:
                raise ValueError(f"{_where(event.start_mark)}: more than {MAX_ALIASES:,} aliases")
            if event.anchor not in sizes:
                raise ValueError(f"{_where(event.start_mark)}: the alias *{event.anchor} names a node that holds "
                                 "it, or no node")
            expanded += sizes[event.anchor]
        elif isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
            depth += 1
            if depth > MAX_DEPTH:
                raise ValueError(f"{_where(event.start_mark)}: nested more than {MAX_DEPTH} levels deep")
            open_nodes.append((event.anchor, expanded))
            expanded += 1
        elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
            depth -= 1
            anchor, start = open_nodes.pop()
            if anchor is not None:
                sizes[anchor] = expanded - start
        elif isinstance(event, yaml.ScalarEvent):
            expanded += 1
            if event.anchor is not None:
                sizes[event.anchor] = 1
        if expanded > MAX_NODES:
            raise ValueError(f"{_where(event.start_mark)}: more than {MAX_NODES:,} values once its aliases are "
                             "expanded")


def read_document(data: bytes) -> Optional[Any]:
    """The YAML document in ``data`` (None for an empty file), or a ``ValueError`` saying what is wrong."""
    if len(data) > MAX_FILE_BYTES:
        raise ValueError(f"the file has more than {MAX_FILE_BYTES:,} bytes, the most a scenario file may have")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"not UTF-8 text: byte {exc.start:,} cannot be read") from None
    try:
        _check_shape(text)
        return yaml.load(text, Loader=_StrictLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        where = f"{_where(mark)}: " if mark is not None else ""
        raise ValueError(f"not valid YAML: {where}{problem}") from None

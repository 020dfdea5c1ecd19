"""Reading a scenario file: bytes to a YAML document, within stated limits, or one clear problem.

A scenario file is at most ``MAX_FILE_BYTES``, UTF-8, one YAML document. Nesting deeper than
``MAX_DEPTH``, more than ``MAX_ALIASES`` aliases, an alias to a node that holds it (a recursive
structure) or aliases that add more than ``MAX_ALIAS_VALUES`` values once expanded (an "alias bomb")
are refused before they can exhaust the stack, the memory or the time of whatever walks the document.
The document is built strictly: a key given twice in one mapping is refused with both places;
timestamps stay text (the scenario parses and checks its own instants); a scalar that looks like a
number but is not one (``.``, ``0x``, a number of 5,000 digits) stays text, for the scenario's own
checks to refuse with its key path.

Two readers do that. The one-pass reader builds the document straight from the parser's events,
counting as it goes, for plain YAML: no tags, no merge keys (``<<``), only text and numbers as keys —
what scenario files are (100,000 producers: 17 s to 1.5 s). Anything else it leaves to the full
reader, for a file of at most ``MAX_FULL_BYTES``: first one streaming pass over the events to count
(the parser keeps its own stack, so any depth is safe to count), then PyYAML's strict safe loader.
The full reader also says what is wrong with a small file, so its messages stay as they always were;
a larger file gets the one-pass reader's own.

Every failure is a ``ValueError`` whose message says what is wrong and where (line and column).
"""

from __future__ import annotations

from typing import Any, Optional

import yaml

from ..collector import paused

__all__ = ["MAX_FILE_BYTES", "MAX_FULL_BYTES", "MAX_DEPTH", "MAX_ALIASES", "MAX_ALIAS_VALUES", "read_document"]

MAX_FILE_BYTES = 32 * 1024 * 1024   # 100,000 producers written out one by one fit, with room
MAX_FULL_BYTES = 1024 * 1024        # the full reader's node graph takes ~70 bytes of memory a byte of text
MAX_DEPTH = 32
MAX_ALIASES = 1_000
MAX_ALIAS_VALUES = 100_000          # values aliases add, each counted as all it names

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
    depth = aliases = expanded = added = 0   # expanded: values so far, each alias counted as what it names
    open_nodes: list[tuple[Optional[str], int]] = []  # per open collection: its anchor, ``expanded`` at its start
    sizes: dict[str, int] = {}       # anchor → how many values the node it names holds, itself included
    for event in yaml.parse(text, Loader=_Base):
        if isinstance(event, yaml.AliasEvent):
            aliases += 1
            problem = _alias_problem(event, aliases, sizes)
            if problem:
                raise ValueError(problem)
            expanded += sizes[event.anchor]
            added += sizes[event.anchor]
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
        if added > MAX_ALIAS_VALUES:
            raise ValueError(_too_many_aliased(event))


def _alias_problem(event, aliases: int, anchors) -> Optional[str]:
    """What is wrong with ``event``, the document's ``aliases``-th alias, given the ``anchors`` of the
    nodes done so far; None if nothing."""
    if aliases > MAX_ALIASES:
        return f"{_where(event.start_mark)}: more than {MAX_ALIASES:,} aliases"
    if event.anchor not in anchors:
        return f"{_where(event.start_mark)}: the alias *{event.anchor} names a node that holds it, or no node"
    return None


def _too_many_aliased(event) -> str:
    return f"{_where(event.start_mark)}: its aliases add more than {MAX_ALIAS_VALUES:,} values once expanded"


def read_document(data: bytes) -> Optional[Any]:
    """The YAML document in ``data`` (None for an empty file), or a ``ValueError`` saying what is wrong."""
    if len(data) > MAX_FILE_BYTES:
        raise ValueError(f"the file has more than {MAX_FILE_BYTES:,} bytes, the most a scenario file may have")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"not UTF-8 text: byte {exc.start:,} cannot be read") from None
    with paused():  # a document is a tree: the collector would walk it as it grows and find nothing
        try:
            return _read_plain(text)
        except _NotPlain as exc:
            if len(data) > MAX_FULL_BYTES:
                raise ValueError(exc.problem) from None
        return _read_full(text)


def _read_full(text: str) -> Optional[Any]:
    """The full reader: the shape counted in one pass, then PyYAML's strict safe loader."""
    try:
        _check_shape(text)
        return yaml.load(text, Loader=_StrictLoader)
    except yaml.YAMLError as exc:
        raise ValueError(_yaml_problem(exc)) from None


def _yaml_problem(exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    where = f"{_where(mark)}: " if mark is not None else ""
    return f"not valid YAML: {where}{problem}"


class _NotPlain(Exception):
    """What the one-pass reader will not read, or found wrong, in words (for a file too large for the
    full reader to say it)."""

    def __init__(self, problem: str) -> None:
        self.problem = problem


_STR, _INT, _FLOAT, _BOOL, _NULL = (f"tag:yaml.org,2002:{name}" for name in ("str", "int", "float", "bool", "null"))
_RESOLVERS = _StrictLoader.yaml_implicit_resolvers


# per first character of a plain scalar that any resolver may take: the strict loader's resolvers, in its order
_FIRST_RESOLVERS = {first: tuple(resolvers + _RESOLVERS.get(None, [])) for first, resolvers in _RESOLVERS.items()
                    if first is not None}
_ANY_RESOLVERS = tuple(_RESOLVERS.get(None, []))
# the first characters only numbers may start with; a number has at most one '.' (IPv4 addresses are text)
_NUMBER_FIRSTS = frozenset(first for first, resolvers in _FIRST_RESOLVERS.items()
                           if all(tag in (_INT, _FLOAT) for tag, _ in resolvers))


class _Plain:
    """Plain scalars to values, as the strict loader's resolver and constructors make them; each text
    once (a scenario file says the same few values many times). A text that no resolver takes, by its
    first character or as no number has two dots, is text at once: ``_build`` sees to that itself, for
    most texts seen once (names, IPv4 addresses)."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}  # each text seen, and its value
        self._constructor = _StrictLoader("")

    @staticmethod
    def is_text(text: str) -> bool:
        """Whether ``text`` is text at once (what ``_build`` checks inline)."""
        first = text[:1]
        return first not in _FIRST_RESOLVERS or first in _NUMBER_FIRSTS and text.count(".") > 1

    def __call__(self, text: str, event) -> Any:
        for tag, regexp in _FIRST_RESOLVERS.get(text[:1], _ANY_RESOLVERS):
            if regexp.match(text):
                break
        else:
            tag = _STR
        if tag == _STR:
            value = text
        elif tag in (_INT, _FLOAT, _BOOL, _NULL):
            value = self._constructor.yaml_constructors[tag](self._constructor, yaml.ScalarNode(tag, text))
        else:  # a merge key, or another tag the strict loader has its own say on
            raise _NotPlain(f"{_where(event.start_mark)}: {text!r} is not a plain value here; "
                            f"{_PLAIN_ONLY}")
        self.values[text] = value
        return value


_PLAIN_ONLY = (f"a file of more than {MAX_FULL_BYTES:,} bytes is read as plain YAML: no tags, merge keys or "
               "keys that are not text or numbers")


class _GivenTwice(Exception):
    """A key given twice in one mapping, found by a pass that did not keep where each key was given."""


def _read_plain(text: str) -> Optional[Any]:
    """The one-pass reader: the document built from the parser's events, within the limits; a
    ``_NotPlain`` for anything it does not read (the full reader may), or finds wrong. A key given twice
    is found without keeping where each key was: the file is then read again, keeping that, to say both
    places (a key's place is an object of its own, one for each key read: 700,000 for 100,000 producers
    with a lag)."""
    try:
        return _build_from(text, marked=False)
    except _GivenTwice:
        return _build_from(text, marked=True)


def _build_from(text: str, marked: bool) -> Optional[Any]:
    parser = _Base(text)
    try:
        return _build(parser.get_event, _Plain(), marked)
    except yaml.YAMLError as exc:
        raise _NotPlain(_yaml_problem(exc)) from None
    finally:
        parser.dispose()


def _build(next_event, plain: _Plain, marked: bool = False) -> Optional[Any]:
    """Values go into the innermost open collection as they come (an open mapping waits for a key, then
    its value); a collection is put in its parent when it opens, and filled in place. What the open
    collections hold is kept in locals, and on a stack for the outer ones: this loop is most of the
    reading's own time. With ``marked``, where each key of a mapping was given is kept, to say where a
    key given twice was first given; without, such a key is a ``_GivenTwice``."""
    scalar, alias, mapping_start, sequence_start = (yaml.ScalarEvent, yaml.AliasEvent, yaml.MappingStartEvent,
                                                    yaml.SequenceStartEvent)
    mapping_end, sequence_end = yaml.MappingEndEvent, yaml.SequenceEndEvent
    values, resolved, number_firsts = plain.values, _FIRST_RESOLVERS, _NUMBER_FIRSTS
    known = values.get
    waiting, in_list = object(), object()  # ``key`` in an open mapping that waits for a key; in an open list
    outer: list[tuple] = []  # per enclosing collection: its (container, key, key marks), and the inner one's
    #                          anchor and values counted before it
    container: Any = []      # the innermost open collection; at the top, a list that takes the document
    key, marks = in_list, None  # marks: with ``marked``, where each key of an open mapping was given
    anchored: dict[str, tuple[Any, int]] = {}  # anchor → (the value, how many values it holds)
    aliases = expanded = added = 0
    next_event()  # the stream's start
    if type(next_event()) is yaml.StreamEndEvent:
        return None
    while True:
        event = next_event()
        kind = type(event)
        if kind is scalar:  # most events: a key or a value, put where it goes here
            if event.tag is not None:
                raise _NotPlain(f"{_where(event.start_mark)}: a tag ({event.tag}); {_PLAIN_ONLY}")
            value = event.value
            if event.implicit[0]:
                text, value = value, known(value, plain)
                if value is plain:  # a text not seen before: text at once as _Plain.is_text says (inline)
                    first = text[:1]
                    if first not in resolved or first in number_firsts and text.count(".") > 1:
                        value = values[text] = text
                    else:
                        value = plain(text, event)
            if event.anchor is not None:
                _anchor(anchored, event.anchor, event, value, 1)
            expanded += 1
            if key is waiting:  # the keys given so far are the container's: their values came before this
                if value in container:
                    if marks is None:
                        raise _GivenTwice()
                    raise _NotPlain(_twice(event, value, marks[value]))
                if marks is not None:
                    marks[value] = event.start_mark
                key = value
            elif key is in_list:
                container.append(value)
            else:
                container[key] = value
                key = waiting
            continue
        elif kind is mapping_start or kind is sequence_start:
            if event.tag is not None:
                raise _NotPlain(f"{_where(event.start_mark)}: a tag ({event.tag}); {_PLAIN_ONLY}")
            if len(outer) == MAX_DEPTH:
                raise _NotPlain(f"{_where(event.start_mark)}: nested more than {MAX_DEPTH} levels deep")
            value = {} if kind is mapping_start else []
            expanded += 1
        elif kind is mapping_end or kind is sequence_end:
            done = container
            container, key, marks, anchor, start = outer.pop()
            if anchor is not None:
                _anchor(anchored, anchor, event, done, expanded - start)
            continue
        elif kind is alias:
            aliases += 1
            problem = _alias_problem(event, aliases, anchored)
            if problem:
                raise _NotPlain(problem)
            value, size = anchored[event.anchor]
            added += size
            if added > MAX_ALIAS_VALUES:
                raise _NotPlain(_too_many_aliased(event))
            expanded += size
        elif kind is yaml.DocumentEndEvent:
            if type(next_event()) is not yaml.StreamEndEvent:
                raise _NotPlain(f"{_where(event.end_mark)}: more than one document; a scenario file holds one")
            return container[0]
        else:
            raise _NotPlain(f"{_where(event.start_mark)}: {kind.__name__}; {_PLAIN_ONLY}")
        if key is in_list:
            container.append(value)
        elif key is waiting:
            raise _NotPlain(f"{_where(event.start_mark)}: a key that is not text or a number; {_PLAIN_ONLY}")
        else:
            container[key] = value
            key = waiting
        if kind is mapping_start:
            outer.append((container, key, marks, event.anchor, expanded - 1))
            container, key, marks = value, waiting, {} if marked else None
        elif kind is sequence_start:
            outer.append((container, key, marks, event.anchor, expanded - 1))
            container, key, marks = value, in_list, None


def _twice(event, key: Any, first) -> str:
    shown = repr(key) if len(repr(key)) <= 40 else repr(key)[:37] + "..."
    return f"{_where(event.start_mark)}: the key {shown} is given twice in one mapping (first at {_where(first)})"


def _anchor(anchored: dict, anchor: str, event, value: Any, size: int) -> None:
    if anchor in anchored:
        raise _NotPlain(f"{_where(event.start_mark)}: the anchor &{anchor} is given twice")
    anchored[anchor] = (value, size)

"""YAML loading that remembers where everything came from.

This module owns reading YAML files into plain Python data and answering "where in the
file is this?" for any JSON pointer into that data, so later checks can put a caret under
the exact column. The data follows the project's rules rather than YAML 1.1 folklore:

- resolution is YAML 1.2 core schema style: only `true`/`false` (any case) are booleans,
  so `on`, `yes`, `no` and `off` stay strings, and `010` is ten;
- there are no floats: a decimal scalar becomes `decimal.Decimal` of its written text;
- dates and timestamps are not resolved, so they stay strings exactly as written;
- mapping keys are strings (scalar keys of other types are converted with `str()`);
- duplicate keys, merge keys (`<<`), unknown tags and infinite numbers are errors;
- aliases share the data they name; an alias inside its own anchor, nesting beyond
  `MAX_YAML_DEPTH` and aliases that repeat more than `MAX_YAML_ALIAS_EXPANSION` values and
  characters (an alias bomb) are errors.

Every problem is raised as a `DiagnosticError`, never as a PyYAML traceback.
"""
from __future__ import annotations

import os
import re
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any

import yaml
from yaml.composer import Composer
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.parser import Parser
from yaml.reader import Reader, ReaderError
from yaml.resolver import BaseResolver
from yaml.scanner import Scanner

from .. import pointers
from ..diagnostics import Diagnostic, DiagnosticError, EmbeddedSource, SourceText, Span
from ..limits import MAX_YAML_ALIAS_EXPANSION, MAX_YAML_DEPTH
from .offsets import scalar_offsets

_TAG = "tag:yaml.org,2002:"


class _CoreResolver(BaseResolver):
    """YAML 1.2 core schema tags, plus `<<` so that merge keys can be refused by name."""


def _add_core_tags(resolver: type[BaseResolver]) -> None:
    for tag, pattern, first in [
        ("bool", r"(?i:true|false)", "tTfF"),
        ("null", r"~|null|Null|NULL|", ["~", "n", "N", ""]),
        ("int", r"[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+", "-+0123456789"),
        ("float", r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
                  r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)", "-+.0123456789"),
        ("merge", r"<<", "<"),
    ]:
        resolver.add_implicit_resolver(_TAG + tag, re.compile(rf"^(?:{pattern})$"), list(first))


_add_core_tags(_CoreResolver)


class _PyComposer(Reader, Scanner, Parser, Composer, _CoreResolver):
    """PyYAML's pure-Python composer: slower, but its error messages are clearer."""

    def __init__(self, text: str) -> None:
        Reader.__init__(self, text)
        Scanner.__init__(self)
        Parser.__init__(self)
        Composer.__init__(self)
        _CoreResolver.__init__(self)


try:
    from yaml.cyaml import CParser  # type: ignore[attr-defined]
except ImportError:  # PyYAML built without libyaml
    _FastComposer: type = _PyComposer
else:
    class _FastComposer(CParser, _CoreResolver):  # type: ignore[no-redef]
        """libyaml's composer with the core schema resolver."""

        def __init__(self, text: str) -> None:
            CParser.__init__(self, text)
            _CoreResolver.__init__(self)


# ---------------------------------------------------------------------------------------
# Public API


class YamlDocument:
    """A loaded YAML file: its text, its plain data, and where each value came from."""

    def __init__(self, source: SourceText, data: Any, root: Node | None,
                 entries: dict[int, dict[str, tuple[Node, Node]]]) -> None:
        self.source = source
        self.data = data
        self._root = root
        self._entries = entries  # id(mapping node) -> key -> (key node, value node)

    def __repr__(self) -> str:
        return f"YamlDocument({self.source.name!r})"

    def span(self, pointer: str, key: bool = False) -> Span | None:
        """Span of the value at a JSON pointer, or of its mapping key when `key` is true.

        A pointer that does not exist gives the span of its deepest existing ancestor.
        """
        key_node, node, found = self._find(pointer)
        if node is None:  # an empty document
            return self.source.span(0, 0)
        return _node_span(self.source, key_node if key and found and key_node else node)

    def locate(self, pointer: str, key: bool) -> Span | None:
        """`span`, with the `schemacheck.Locate` signature."""
        return self.span(pointer, key)

    def embedded(self, pointer: str) -> EmbeddedSource:
        """The scalar at a pointer as a source whose spans land on the right file columns."""
        _, node, found = self._find(pointer)
        if not found or not isinstance(node, ScalarNode):
            raise LookupError(f"{pointer!r} is not a scalar in {self.source.name}")
        return EmbeddedSource(self.source, node.value, scalar_offsets(self.source.text, node))

    def _find(self, pointer: str) -> tuple[Node | None, Node | None, bool]:
        """(key node, value node, found) at a pointer; its deepest ancestor when not found."""
        key_node, node = None, self._root
        for part in pointers.tokens(pointer):
            child = self._child(node, part)
            if child is None:
                return key_node, node, False
            key_node, node = child
        return key_node, node, node is not None

    def _child(self, node: Node | None, part: str) -> tuple[Node | None, Node] | None:
        if isinstance(node, MappingNode):
            return self._entries.get(id(node), {}).get(part)
        index = pointers.array_index(part) if isinstance(node, SequenceNode) else None
        if isinstance(node, SequenceNode) and index is not None:
            return (None, node.value[index]) if index < len(node.value) else None
        return None


def load_yaml(text: str, name: str) -> YamlDocument:
    """Parse YAML text; raises DiagnosticError with every problem found."""
    source = SourceText(name, text)
    root = _compose(source)
    builder = _Builder(source)
    data = builder.build(root, 0) if root is not None else None
    if builder.diagnostics:
        raise DiagnosticError(builder.diagnostics)
    return YamlDocument(source, data, root, builder.entries)


def load_yaml_file(path: str | os.PathLike) -> YamlDocument:
    """Read a UTF-8 YAML file (a byte order mark is allowed) and parse it."""
    name = os.fspath(path)
    try:
        with open(path, encoding="utf-8-sig") as handle:
            text = handle.read()
    except OSError as error:
        raise _unreadable(f"cannot read '{name}': {error.strerror or error}") from None
    except UnicodeDecodeError as error:
        raise _unreadable(f"cannot read '{name}': it is not UTF-8 text "
                          f"(byte 0x{error.object[error.start]:02x} at offset {error.start})") from None
    return load_yaml(text, name)


def _unreadable(message: str) -> DiagnosticError:
    return DiagnosticError([Diagnostic("yaml.unreadable", message)])


# ---------------------------------------------------------------------------------------
# Parsing and syntax errors


def _compose(source: SourceText) -> Node | None:
    """The node tree of the single document in the text (None when it is empty)."""
    try:
        return _compose_with(_FastComposer, source.text)
    except (ReaderError, yaml.MarkedYAMLError) as error:
        raise DiagnosticError([_syntax_diagnostic(source, _clearer_error(source.text, error))]) from None


def _compose_with(composer_class: type, text: str) -> Node | None:
    composer = composer_class(text)
    try:
        return composer.get_single_node()
    finally:
        composer.dispose()


def _clearer_error(text: str, error: yaml.YAMLError) -> yaml.YAMLError:
    """The pure-Python parser's wording of an error (it names characters and aliases)."""
    try:
        _compose_with(_PyComposer, text)
    except (ReaderError, yaml.MarkedYAMLError) as py_error:
        return py_error
    except RecursionError:
        pass
    return error


_NOT_PRINTABLE = re.compile("[^\t\n\r\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _syntax_diagnostic(source: SourceText, error: yaml.YAMLError) -> Diagnostic:
    text = source.text
    if isinstance(error, ReaderError):
        match = _NOT_PRINTABLE.search(text)
        offset = match.start() if match else 0
        char = ord(match.group()) if match else error.character
        return Diagnostic("yaml.syntax", f"character U+{char:04X} is not allowed in YAML text",
                          source.span(offset, offset + 1),
                          hint="remove it, or write it as an escape in a double-quoted string")
    problem_mark, context = getattr(error, "problem_mark", None), getattr(error, "context", None)
    offset = problem_mark.index if problem_mark else 0
    span = source.span(offset, min(offset + 1, len(text)))
    if _is_indentation_tab(text, offset):
        return Diagnostic("yaml.syntax", "tab characters are not allowed for indentation; use spaces", span)
    notes: tuple[str, ...] = ()
    if context:
        mark = getattr(error, "context_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        notes = (f"note: {context}{where}",)
    return Diagnostic("yaml.syntax", getattr(error, "problem", None) or "invalid YAML", span, notes=notes)


def _is_indentation_tab(text: str, offset: int) -> bool:
    line_start = text.rfind("\n", 0, offset) + 1
    return text[offset:offset + 1] == "\t" and not text[line_start:offset].strip(" \t")


# ---------------------------------------------------------------------------------------
# From nodes to plain data


def _bool(text: str) -> bool:
    if text.lower() not in ("true", "false"):
        raise ValueError(f"{_shown(text)} is not true or false")
    return text.lower() == "true"


def _int(text: str) -> int:
    try:
        return int(text, 0 if text[:2] in ("0o", "0x") else 10)
    except ValueError:
        raise ValueError(f"{_shown(text)} is not a whole number") from None


def _decimal(text: str) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation:
        value = None
    if value is None or not value.is_finite():
        raise ValueError(f"{_shown(text)} is not a finite decimal number")
    return value


def _shown(text: str) -> str:
    return repr(text) if len(text) <= 40 else repr(text[:37] + "...")


#: tag -> (converter raising ValueError with a message, diagnostic code)
_SCALARS: dict[str, tuple[Callable[[str], Any], str]] = {
    _TAG + "str": (str, ""),
    _TAG + "null": (lambda text: None, ""),
    _TAG + "bool": (_bool, "yaml.bad_value"),
    _TAG + "int": (_int, "yaml.bad_number"),
    _TAG + "float": (_decimal, "yaml.bad_number"),
}


class _Builder:
    """Turns a node tree into plain data, collecting every problem and each mapping's entries."""

    def __init__(self, source: SourceText) -> None:
        self.source = source
        self.diagnostics: list[Diagnostic] = []
        self.entries: dict[int, dict[str, tuple[Node, Node]]] = {}
        self._built: dict[int, Any] = {}  # id(node) -> data, so aliases share it
        self._extents: dict[int, tuple[int, int]] = {}  # id(node) -> its (size, height), once built
        self._repeated = 0  # the size of what aliases repeat, so far

    def build(self, node: Node, depth: int) -> Any:
        if id(node) in self._built:
            return self._repeat(node, depth)
        self._check_depth(node, depth)
        data = self._build(node, depth)
        self._extents[id(node)] = self._extent(node)
        return data

    def _repeat(self, node: Node, depth: int) -> Any:
        """The data of a node an alias names again. It is shared, not copied, but whoever
        reads the data reads it again: an alias bomb (a few hundred bytes that repeat a
        value a billion times) or an alias inside the value it names must stop here."""
        extent = self._extents.get(id(node))
        if extent is None:
            raise DiagnosticError([Diagnostic(
                "yaml.alias_cycle", "an alias inside the value anchored here names that value: it never ends",
                _node_span(self.source, node), hint="write the value out")])
        size, height = extent
        self._check_depth(node, depth + height)
        self._repeated += size
        if self._repeated > MAX_YAML_ALIAS_EXPANSION:
            raise DiagnosticError([Diagnostic(
                "yaml.alias_expansion", f"aliases repeat more than {MAX_YAML_ALIAS_EXPANSION:,} values and "
                "characters (the value anchored here among them)", _node_span(self.source, node),
                hint="write the values out, or repeat fewer")])
        return self._built[id(node)]

    def _extent(self, node: Node) -> tuple[int, int]:
        """(size, height) of a built node: its values and characters, and the levels below it."""
        if isinstance(node, ScalarNode):
            return 1 + len(node.value), 0
        children = node.value if isinstance(node, SequenceNode) else [n for pair in node.value for n in pair]
        extents = [self._extents.get(id(child), (1, 0)) for child in children]  # (a refused key is not built)
        return 1 + sum(size for size, _ in extents), 1 + max((height for _, height in extents), default=0)

    def _check_depth(self, node: Node, depth: int) -> None:
        if depth > MAX_YAML_DEPTH:
            raise DiagnosticError([Diagnostic(
                "yaml.too_deep", f"the document nests more than {MAX_YAML_DEPTH} levels deep",
                _node_span(self.source, node))])

    def _build(self, node: Node, depth: int) -> Any:
        if isinstance(node, ScalarNode):
            return self._scalar(node)
        if node.tag != _TAG + ("seq" if isinstance(node, SequenceNode) else "map"):
            return self._unsupported_tag(node)
        if isinstance(node, SequenceNode):
            items: list[Any] = []
            self._built[id(node)] = items
            for item in node.value:
                items.append(self.build(item, depth + 1))
            return items
        assert isinstance(node, MappingNode)
        mapping: dict[str, Any] = {}
        self._built[id(node)] = mapping
        self._fill_mapping(node, mapping, depth)
        return mapping

    def _scalar(self, node: ScalarNode) -> Any:
        if node.tag not in _SCALARS:
            return self._unsupported_tag(node)
        convert, code = _SCALARS[node.tag]
        try:
            value = convert(node.value)
        except ValueError as error:
            self._report(code, str(error), node)
            value = None
        self._built[id(node)] = value
        return value

    def _unsupported_tag(self, node: Node) -> None:
        self._report("yaml.unsupported", f"unsupported YAML tag '{node.tag}'", node,
                     hint="remove the tag; rule packs use plain YAML values")
        self._built[id(node)] = None

    def _fill_mapping(self, node: MappingNode, mapping: dict[str, Any], depth: int) -> None:
        entries = self.entries[id(node)] = {}
        for key_node, value_node in node.value:
            key = self._key(key_node, depth)
            if key is None:
                continue
            if key in entries:
                first_line = self.source.line_col(entries[key][0].start_mark.index)[0]
                self._report("yaml.duplicate_key",
                             f"duplicate key '{key}' (first defined at line {first_line})", key_node)
                continue
            entries[key] = (key_node, value_node)
            mapping[key] = self.build(value_node, depth + 1)

    def _key(self, node: Node, depth: int) -> str | None:
        """The key as a string, or None (reported) when it cannot be one."""
        if node.tag == _TAG + "merge":
            self._report("yaml.unsupported", "merge keys ('<<') are not supported", node,
                         hint="write the fields out in full")
            return None
        if not isinstance(node, ScalarNode):
            kind = "a list" if isinstance(node, SequenceNode) else "a mapping"
            self._report("yaml.bad_key", f"a mapping key must be text, not {kind}", node)
            return None
        key = self.build(node, depth + 1)
        if key is None:
            self._report("yaml.bad_key", "a mapping key must be text, not null", node)
            return None
        return key if isinstance(key, str) else str(key)

    def _report(self, code: str, message: str, node: Node, hint: str | None = None) -> None:
        self.diagnostics.append(Diagnostic(code, message, _node_span(self.source, node), hint=hint))


# ---------------------------------------------------------------------------------------
# Locations


def _node_span(source: SourceText, node: Node) -> Span:
    """A node's span, without the blank lines YAML counts as part of a block."""
    start = node.start_mark.index
    return source.span(start, start + len(source.text[start:node.end_mark.index].rstrip()))

"""Facts as text: one document (JSON, or YAML when it is not JSON) or one batch line,
read into JSON data (dates stay strings), refusing a document beyond the limits of
`policyengine.limits` and what only its text shows (a key given twice, a YAML alias)."""
from __future__ import annotations

import json
import math
from decimal import Decimal
from typing import Any

import yaml

from ..diagnostics import Diagnostic, DiagnosticError, SourceText, Span
from ..limits import MAX_DEPTH, MAX_FACTS_BYTES
from .jsondata import integer_too_large, read_json, too_deep


def parse_facts_text(text: str, name: str) -> Any:
    """The document in `text` (JSON, or YAML when it is not JSON), named `name` in errors.

    Raises a `DiagnosticError`: `facts.too_large` beyond `MAX_FACTS_BYTES`; `facts.malformed`
    at the line and column of the problem (JSON's when the text looks like JSON, YAML's
    otherwise); what `read_json` refuses in JSON; aliases, repeated keys and nesting beyond
    `MAX_DEPTH` in YAML, at their line and column.
    """
    size = _size_beyond_limit(text)
    if size is not None:
        raise DiagnosticError([Diagnostic(
            "facts.too_large", f"the facts are {size:,} bytes; at most {MAX_FACTS_BYTES:,} are read",
            where=name, hint="one document holds one patient-month")])
    try:
        return read_json(text)
    except json.JSONDecodeError as json_error:
        try:
            return _load_yaml(text, name)
        except (yaml.YAMLError, DiagnosticError) as yaml_error:
            if _looks_like_json(text):
                raise DiagnosticError([_malformed_json(text, name, json_error)]) from None
            if isinstance(yaml_error, DiagnosticError):
                raise
            raise DiagnosticError([_malformed_yaml(text, name, yaml_error)]) from None


def parse_facts_line(raw: bytes | str) -> Any:
    """One line of JSON Lines (its line end may be included) as data.

    Raises a `DiagnosticError`: `facts.too_large` beyond `MAX_FACTS_BYTES`, `facts.malformed`
    for text that is not UTF-8, blank or not JSON, and what `read_json` refuses.
    """
    line = raw.rstrip(b"\r\n") if isinstance(raw, bytes) else raw.rstrip("\r\n")
    too_large = len(line) > MAX_FACTS_BYTES if isinstance(line, bytes) else _size_beyond_limit(line) is not None
    if too_large:
        raise DiagnosticError([Diagnostic(
            "facts.too_large", f"the line is longer than {MAX_FACTS_BYTES:,} bytes, the most one facts document may be",
            hint="one line holds one patient-month")])
    try:
        text = line.decode("utf-8") if isinstance(line, bytes) else line
    except UnicodeDecodeError as error:
        raise DiagnosticError([Diagnostic("facts.malformed", f"not valid UTF-8: {error.reason} at byte {error.start}")]) from None
    if not text.strip():
        raise DiagnosticError([Diagnostic("facts.malformed", "empty line: expected one JSON object")])
    try:
        return read_json(text)
    except json.JSONDecodeError as error:
        raise DiagnosticError([Diagnostic("facts.malformed", f"not valid JSON: {error.msg} (column {error.colno})")]) from None


def _size_beyond_limit(text: str) -> int | None:
    """The bytes of `text` in UTF-8 when they exceed MAX_FACTS_BYTES, else None (a short
    text is not encoded to know)."""
    if len(text) * 4 <= MAX_FACTS_BYTES:
        return None
    size = len(text.encode("utf-8", "surrogatepass"))
    return size if size > MAX_FACTS_BYTES else None


class _FactsLoader(yaml.SafeLoader):
    """YAML read as JSON would be: dates stay strings, every key is a string and is given
    once. Facts have no use for aliases, which can repeat a value until memory runs out
    (a few hundred bytes of "billion laughs"), so each one is refused where it stands; so
    is nesting beyond MAX_DEPTH, before the composer's recursion gets there."""

    def __init__(self, text: str, name: str) -> None:
        super().__init__(text)
        self.source = SourceText(name, text)
        self.depth = 0

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent):
            raise DiagnosticError([Diagnostic("facts.yaml_alias", f"an alias (*{event.anchor}) repeats a value; "
                                              "facts have none", self.span(event.start_mark),
                                              hint="write the value out where it is used")])
        nests = isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent))
        if nests:
            self.depth += 1
            if self.depth > MAX_DEPTH:
                raise DiagnosticError([too_deep(span=self.span(event.start_mark))])
        try:
            return super().compose_node(parent, index)
        finally:
            if nests:
                self.depth -= 1

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        self.flatten_mapping(node)
        first_of: dict[str, yaml.Node] = {}
        for key_node, _ in node.value:
            if key_node.tag != "tag:yaml.org,2002:str":
                raise yaml.constructor.ConstructorError(
                    None, None, f"a key must be text; quote {key_node.value!r}", key_node.start_mark)
            first = first_of.setdefault(key_node.value, key_node)
            if first is not key_node:
                mark = first.start_mark
                raise DiagnosticError([Diagnostic(
                    "facts.duplicate_key", f"the key {key_node.value!r} is given twice in this mapping (first at "
                    f"line {mark.line + 1}, column {mark.column + 1})", self.span(key_node.start_mark),
                    hint="name each field once")])
        return super().construct_mapping(node, deep)

    def construct_yaml_int(self, node: yaml.ScalarNode) -> int:
        try:
            return super().construct_yaml_int(node)
        except ValueError:  # int() refuses thousands of digits
            raise DiagnosticError([integer_too_large(f"an integer of {len(node.value):,} characters",
                                                     span=self.span(node.start_mark))]) from None

    def construct_yaml_float(self, node: yaml.ScalarNode) -> float | Decimal:  # type: ignore[override]
        """A YAML float; `.nan` and `.inf` (or a float too large, which reads as one) as the
        Decimal `check_json_data` refuses, as it refuses JSON's NaN and Infinity."""
        value = super().construct_yaml_float(node)
        return value if math.isfinite(value) else Decimal(value)

    def span(self, mark: Any) -> Span:
        return self.source.span(mark.index, mark.index + 1)


_FactsLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_FactsLoader.add_constructor("tag:yaml.org,2002:int", _FactsLoader.construct_yaml_int)
_FactsLoader.add_constructor("tag:yaml.org,2002:float", _FactsLoader.construct_yaml_float)


def _load_yaml(text: str, name: str) -> Any:
    loader = _FactsLoader(text, name)
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()


def _looks_like_json(text: str) -> bool:
    return text.lstrip().startswith(("{", "["))


def _malformed_json(text: str, name: str, error: json.JSONDecodeError) -> Diagnostic:
    return Diagnostic(code="facts.malformed", message=f"not valid JSON: {error.msg}",
                      span=SourceText(name, text).span(error.pos, error.pos + 1))


def _malformed_yaml(text: str, name: str, error: yaml.YAMLError) -> Diagnostic:
    mark = getattr(error, "problem_mark", None)
    parts = [getattr(error, attribute, None) for attribute in ("context", "problem")]
    problem = ", ".join(part for part in parts if part) or str(error)
    offset = mark.index if mark else 0
    return Diagnostic(code="facts.malformed", message=f"not valid YAML: {problem}",
                      span=SourceText(name, text).span(offset, offset + 1))

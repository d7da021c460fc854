"""Facts written as YAML, read as JSON would be (`reading.py` tries JSON first, and comes
here only for a document that is not JSON, so a command given JSON never imports PyYAML).
"""
from __future__ import annotations

import math
from decimal import Decimal
from typing import Any

import yaml

from ..diagnostics import Diagnostic, DiagnosticError, SourceText, Span
from ..limits import MAX_DEPTH
from .jsondata import integer_too_large, too_deep


def read_yaml(text: str, name: str) -> Any:
    """The YAML document in `text` as data; a `DiagnosticError` for what facts refuse
    (aliases, repeated keys, nesting beyond MAX_DEPTH) and for text that is not YAML
    (`facts.malformed`), at its line and column."""
    try:
        loader = _FactsLoader(text, name)  # its reader refuses characters YAML does not allow
        try:
            return loader.get_single_data()
        finally:
            loader.dispose()
    except yaml.YAMLError as error:
        raise DiagnosticError([_malformed_yaml(text, name, error)]) from None


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


def _malformed_yaml(text: str, name: str, error: yaml.YAMLError) -> Diagnostic:
    mark = getattr(error, "problem_mark", None)
    parts = [getattr(error, attribute, None) for attribute in ("context", "problem")]
    problem = ", ".join(part for part in parts if part) or str(error)
    offset = mark.index if mark else 0
    return Diagnostic(code="facts.malformed", message=f"not valid YAML: {problem}",
                      span=SourceText(name, text).span(offset, offset + 1))

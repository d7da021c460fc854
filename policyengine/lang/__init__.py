"""The expression language: parse, check, compile once, evaluate many times.

    env = Environment(facts=record(...), namespaces={"params": record(...)})
    expr = compile_expression('sum(interactions.duration_seconds) >= 20 min', env, expect=BOOL)
    expr.evaluate(facts, {}, params)          # fast path: just the value
    trace = expr.trace(facts, {}, params)     # tracing path: value + every part's value
    trace.details().reads                     # lazily: the facts it read, as JSON pointers
"""
from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..diagnostics import SourceText
from . import codegen, recorder
from . import nodes as _nodes
from .checker import Checked, FactRef, NamespaceMember, check
from .nodes import Node, format_seconds
from .recorder import ByItem, ByPath, Recording
from .runtime import EvaluationError, as_evaluation_error
from .types import (BOOL, DATE, DECIMAL, DURATION, INT, MONEY, STRING, Environment, FieldSpec, ListOf, Optional, Record,
                    Type, record)

NOT_EVALUATED = codegen.NOT_EVALUATED


@dataclass(frozen=True)
class Filter:
    """A `where` outside every predicate: its number and text, the number of the list it
    filters, and its conditions (`nodes.conjuncts` of the predicate) and the predicate
    itself, each as (number, text)."""

    node: int
    text: str
    items: int
    conditions: tuple[tuple[int, str], ...]
    predicate: tuple[int, str]


@dataclass(frozen=True)
class CompiledExpression:
    """A checked expression compiled to Python functions; immutable and reusable."""

    name: str
    text: str
    checked: Checked = field(repr=False)
    fast: Callable[..., Any] = field(repr=False)
    nodes: tuple[Node, ...] = field(repr=False)

    @property
    def type(self) -> Type:
        return self.checked.type

    def __reduce__(self) -> tuple:
        """Pickled as its checked tree (the compiled-pack cache): the function is generated
        again from it on loading, so no code object is ever unpickled."""
        return _compiled, (self.name, self.text, self.checked, self.nodes)

    @functools.cached_property
    def index(self) -> dict[int, int]:
        """The preorder number of each node (by id), as traces number them."""
        return {id(node): k for k, node in enumerate(self.nodes)}

    @functools.cached_property
    def outside_predicates(self) -> frozenset[int]:
        """The preorder numbers of the nodes outside every `where` predicate: evaluated at
        most once per evaluation (a node inside a predicate is evaluated once per item)."""
        inside: set[int] = set()
        for node in self.nodes:
            if isinstance(node, _nodes.Where):
                inside.update(id(inner) for inner in _nodes.walk(node.predicate))
        return frozenset(self.index[id(node)] for node in self.nodes if id(node) not in inside)

    @functools.cached_property
    def part_nodes(self) -> tuple[tuple[int, str], ...]:
        """(number, text) of the parts a full trace shows, its part table: every node but
        the root outside the predicates, in preorder, but a namespace's name (`params` in
        `params.x`), which has no value of its own."""
        return tuple((k, node.span.text) for k, node in enumerate(self.nodes)
                     if k > 0 and k in self.outside_predicates and node.span is not None
                     and not (isinstance(node, _nodes.Name) and self.checked.resolution(node) is None))

    @functools.cached_property
    def fact_nodes(self) -> Mapping[str, tuple[int, ...]]:
        """The numbers of the nodes that read each of the facts' fields, by the field's name
        (`interactions`): where a trace's parts hold a facts list as it was read."""
        found: dict[str, list[int]] = {}
        for k, node in enumerate(self.nodes):
            if isinstance(ref := self.checked.resolution(node), FactRef):
                found.setdefault(ref.name, []).append(k)
        return {name: tuple(numbers) for name, numbers in found.items()}

    @functools.cached_property
    def parameter_nodes(self) -> tuple[tuple[int, str], ...]:
        """(number, parameter name) of each node that reads a parameter (`params.x`)."""
        return tuple((k, ref.name) for k, node in enumerate(self.nodes)
                     if isinstance(ref := self.checked.resolution(node), NamespaceMember) and ref.namespace == "params")

    @functools.cached_property
    def filters(self) -> tuple[Filter, ...]:
        """The filters (`where`) outside every predicate, in preorder, as a full trace
        reports them."""
        def numbered(node: Node) -> tuple[int, str]:
            return self.index[id(node)], node.span.text if node.span else ""
        return tuple(Filter(k, numbered(node)[1], self.index[id(node.items)],
                            tuple(numbered(c) for c in _nodes.conjuncts(node.predicate)), numbered(node.predicate))
                     for k, node in enumerate(self.nodes)
                     if isinstance(node, _nodes.Where) and k in self.outside_predicates)

    @functools.cached_property
    def line(self) -> str:
        """The expression's text on one line, as traces and explanations show it."""
        return " ".join(self.text.split())

    def evaluate(self, facts: Mapping[str, Any], defs: Mapping[str, Any] | None = None, *namespaces: Mapping) -> Any:
        """The value; raises EvaluationError (coded, and located: see `failure`)."""
        try:
            return self.fast(facts, defs, *namespaces)
        except Exception as error:  # noqa: BLE001 - mapped to coded evaluation errors
            raise self.failure(error, facts, defs, namespaces) from None

    @functools.cached_property
    def tracing(self) -> Callable[..., tuple[Any, tuple]]:
        """The tracing function (`codegen.py`), `(facts, defs, *namespaces) -> (value, values)`;
        compiled when first needed: the engine never asks for it (`trace` does)."""
        return codegen.build(self.checked, tracing=True, name=self.name)[0]

    @functools.cached_property
    def recording(self) -> Callable[..., Recording]:
        """The recording function (`recorder.py`), `(facts, defs, *namespaces) -> Recording`;
        compiled when first needed: most packs never trace fully."""
        return recorder.build(self.checked, self.name)

    def record(self, facts: Mapping[str, Any], defs: Mapping[str, Any] | None = None, *namespaces: Mapping) -> Recording:
        """The full reading: the value, every node's value (item by item inside predicates)
        and the facts read; raises a located EvaluationError."""
        return self.recording(facts, defs or {}, *namespaces)

    def trace(self, facts: Mapping[str, Any], defs: Mapping[str, Any] | None = None, *namespaces: Mapping) -> Trace:
        """The value and the value of every part outside `where` predicates."""
        try:
            result, values = self.tracing(facts, defs, *namespaces)
        except Exception as error:  # noqa: BLE001
            raise self.failure(error, facts, defs, namespaces) from None
        return Trace(self, result, values, (facts, defs or {}, namespaces))

    def failure(self, error: Exception, facts: Mapping[str, Any], defs: Mapping[str, Any] | None,
                namespaces: tuple) -> EvaluationError:
        """The coded error for a failed evaluation, located at the node that failed and the
        fact read last: the recording function reads the same inputs again to find them
        (only ever on failure, so the fast path stays free of bookkeeping)."""
        coded = as_evaluation_error(error)
        try:
            self.record(facts, defs, *namespaces)
        except EvaluationError as located:
            return located if located.code == coded.code else coded.at(self.checked.root.span, located.pointer)
        return coded.at(self.checked.root.span, None)


def _compiled(name: str, text: str, checked: Checked, nodes: tuple[Node, ...]) -> CompiledExpression:
    """A compiled expression again, from what `CompiledExpression.__reduce__` kept."""
    return CompiledExpression(name, text, checked, codegen.build(checked, tracing=False, name=name)[0], nodes)


class Trace:
    """One evaluation's values, aligned with `expression.nodes`; details on demand."""

    __slots__ = ("expression", "result", "values", "_inputs", "_details")

    def __init__(self, expression: CompiledExpression, result: Any, values: tuple, inputs: tuple) -> None:
        self.expression = expression
        self.result = result
        self.values = values
        self._inputs = inputs
        self._details: Recording | None = None

    def details(self) -> Recording:
        """Per-item values inside predicates and the facts read (JSON pointers), computed
        once, on first request, by the recording function over the same inputs."""
        if self._details is None:
            facts, defs, namespaces = self._inputs
            self._details = self.expression.record(facts, defs, *namespaces)
        return self._details

    @property
    def reads(self) -> list[str]:
        return self.details().reads


def compile_expression(text: str | SourceText, env: Environment, expect: Type | None = None,
                       name: str = "expression") -> CompiledExpression:
    """Parse, check and compile; raises DiagnosticError with every problem found. The
    parser (Lark) is imported by the first expression compiled, not by a process that
    only evaluates packs compiled earlier (`packs/cache.py`)."""
    from .parser import parse
    checked = check(parse(text), env, expect)
    fast, _ = codegen.build(checked, tracing=False, name=name)
    source_text = text.text if isinstance(text, SourceText) else text
    return CompiledExpression(name, source_text, checked, fast, tuple(codegen.preorder(checked.root)))


__all__ = [
    "BOOL", "DATE", "DECIMAL", "DURATION", "INT", "MONEY", "STRING", "NOT_EVALUATED",
    "ByItem", "ByPath", "CompiledExpression", "Environment", "EvaluationError", "FieldSpec", "Filter", "ListOf",
    "Optional", "Record", "Recording", "Trace", "Type", "compile_expression", "format_seconds", "record",
]

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
from .checker import Checked, NamespaceMember, check
from .nodes import Node, format_seconds
from .parser import parse
from .recorder import Recording
from .runtime import EvaluationError, as_evaluation_error
from .types import (BOOL, DATE, DECIMAL, DURATION, INT, MONEY, STRING, Environment, FieldSpec, ListOf, Optional, Record,
                    Type, record)

NOT_EVALUATED = codegen.NOT_EVALUATED


@dataclass(frozen=True)
class CompiledExpression:
    """A checked expression compiled to Python functions; immutable and reusable."""

    name: str
    text: str
    checked: Checked = field(repr=False)
    fast: Callable[..., Any] = field(repr=False)
    tracing: Callable[..., tuple[Any, tuple]] = field(repr=False)
    nodes: tuple[Node, ...] = field(repr=False)
    #: the full reading (`recorder.py`), compiled when first needed: most packs never trace fully
    _recording: list[Callable[..., Recording]] = field(default_factory=list, repr=False, compare=False)

    @property
    def type(self) -> Type:
        return self.checked.type

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
        """(number, text) of the parts a full trace shows: every node but the root outside
        the predicates, in preorder."""
        return tuple((k, node.span.text) for k, node in enumerate(self.nodes)
                     if k > 0 and k in self.outside_predicates and node.span is not None)

    @functools.cached_property
    def parameter_nodes(self) -> tuple[tuple[int, str], ...]:
        """(number, parameter name) of each node that reads a parameter (`params.x`)."""
        return tuple((k, ref.name) for k, node in enumerate(self.nodes)
                     if isinstance(ref := self.checked.resolution(node), NamespaceMember) and ref.namespace == "params")

    @functools.cached_property
    def filter_nodes(self) -> tuple[int, ...]:
        """The numbers of the filters (`where`) outside every predicate."""
        return tuple(k for k, node in enumerate(self.nodes) if isinstance(node, _nodes.Where) and k in self.outside_predicates)

    @property
    def line(self) -> str:
        """The expression's text on one line, as traces and explanations show it."""
        return " ".join(self.text.split())

    def evaluate(self, facts: Mapping[str, Any], defs: Mapping[str, Any] | None = None, *namespaces: Mapping) -> Any:
        """The value; raises EvaluationError (coded, and located: see `failure`)."""
        try:
            return self.fast(facts, defs, *namespaces)
        except Exception as error:  # noqa: BLE001 - mapped to coded evaluation errors
            raise self.failure(error, facts, defs, namespaces) from None

    def record(self, facts: Mapping[str, Any], defs: Mapping[str, Any] | None = None, *namespaces: Mapping) -> Recording:
        """The full reading: the value, every node's value (item by item inside predicates)
        and the facts read; raises a located EvaluationError."""
        if not self._recording:
            self._recording.append(recorder.build(self.checked, self.name))
        return self._recording[0](facts, defs or {}, *namespaces)

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
    """Parse, check and compile; raises DiagnosticError with every problem found."""
    checked = check(parse(text), env, expect)
    fast, _ = codegen.build(checked, tracing=False, name=name)
    tracing, _ = codegen.build(checked, tracing=True, name=name)
    source_text = text.text if isinstance(text, SourceText) else text
    return CompiledExpression(name, source_text, checked, fast, tracing, tuple(codegen.preorder(checked.root)))


__all__ = [
    "BOOL", "DATE", "DECIMAL", "DURATION", "INT", "MONEY", "STRING", "NOT_EVALUATED",
    "CompiledExpression", "Environment", "EvaluationError", "FieldSpec", "ListOf", "Optional", "Record",
    "Recording", "Trace", "Type", "compile_expression", "format_seconds", "record",
]

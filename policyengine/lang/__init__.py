"""The expression language: parse, check, compile once, evaluate many times.

    env = Environment(facts=record(...), namespaces={"params": record(...)})
    expr = compile_expression('sum(interactions.duration_seconds) >= 20 min', env, expect=BOOL)
    expr.evaluate(facts, {}, params)          # fast path: just the value
    trace = expr.trace(facts, {}, params)     # tracing path: value + every part's value
    trace.details().reads                     # lazily: the facts it read, as JSON pointers
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from ..diagnostics import SourceText
from . import codegen
from .checker import Checked, check
from .interpreter import Recording, interpret
from .nodes import Node, format_seconds
from .parser import parse
from .runtime import EvaluationError, as_evaluation_error
from .types import (BOOL, DATE, DECIMAL, DURATION, INT, MONEY, STRING, Environment, FieldSpec, ListOf, Optional,
                    Record, Type, record)

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

    @property
    def type(self) -> Type:
        return self.checked.type

    def evaluate(self, facts: dict, defs: dict | None = None, *namespaces: dict) -> Any:
        """The value; raises EvaluationError (coded) on a run-time failure."""
        try:
            return self.fast(facts, defs, *namespaces)
        except Exception as error:  # noqa: BLE001 - mapped to coded evaluation errors
            raise as_evaluation_error(error) from None

    def trace(self, facts: dict, defs: dict | None = None, *namespaces: dict) -> "Trace":
        """The value and the value of every part outside `where` predicates."""
        try:
            result, values = self.tracing(facts, defs, *namespaces)
        except Exception as error:  # noqa: BLE001
            raise as_evaluation_error(error) from None
        return Trace(self, result, values, (facts, defs or {}, namespaces))


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
        once, on first request, by the recording interpreter over the same inputs."""
        if self._details is None:
            facts, defs, namespaces = self._inputs
            self._details = interpret(self.expression.checked, facts, defs, namespaces)
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

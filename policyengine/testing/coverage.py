"""Which outcomes of a pack's conditions its test cases exercised.

A coverage point is every comparison (==, <, in, ...) and every operand of `and`/`or` in
every expression of a pack; each has two sides, true and false. The tracer used for the
test cases reads each expression fully (its recording function), which sees every
item inside `where` filters, and notes the sides it saw. What no case reached is reported
at its file:line:col.

An overlay's cases answer for what the overlay says (`OwnConditions`): the conditions
written in its own file and those that read a parameter it gives values to. Its parents'
conditions are their own tests' business, unless the whole pack is asked for.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..engine.tracing import Tracer
from ..lang import ByItem, ByPath, CompiledExpression, EvaluationError, nodes
from ..packs.loader import load_source
from ..packs.model import CompiledPack
from ..packs.slots import Slot

_COMPARISONS = {"==", "!=", "<", "<=", ">", ">=", "in", "not in"}


def _points(expression: CompiledExpression) -> Iterator[int]:
    """Preorder indices of the nodes whose true and false sides count."""
    index = {id(node): k for k, node in enumerate(expression.nodes)}
    seen: set[int] = set()
    for k, node in enumerate(expression.nodes):
        if isinstance(node, nodes.Binary) and node.op in _COMPARISONS and k not in seen:
            seen.add(k)
            yield k
        if isinstance(node, nodes.Logical):
            for operand in node.operands:
                if index[id(operand)] not in seen:
                    seen.add(index[id(operand)])
                    yield index[id(operand)]


@dataclass(frozen=True)
class OwnConditions:
    """What a pack itself says, as against what it inherits: the file it is written in and
    the parameters that file gives values to."""

    file: str
    parameters: frozenset[str]

    @classmethod
    def of(cls, pack_dir: Path) -> OwnConditions:
        source = load_source(pack_dir)
        own = source.meta.doc
        return cls(own.source.name, frozenset(name for name, dated in source.parameter_values.items()
                                              if any(entry.doc is own for entry in dated.values())))

    def hold(self, expression: CompiledExpression, k: int) -> bool:
        """Whether the condition at node `k` is the pack's own: written in its file, or
        reading one of its parameters."""
        node = expression.nodes[k]
        if node.span is not None and node.span.source.name == self.file:
            return True
        own_reads = {number for number, name in expression.parameter_nodes if name in self.parameters}
        return any(expression.index[id(inner)] in own_reads for inner in nodes.walk(node))


@dataclass
class Coverage:
    """Sides seen per (expression, node); built for one pack, fed by every case. With
    `own`, only the conditions it holds are counted."""

    pack: CompiledPack
    own: OwnConditions | None = None
    seen: dict[tuple[int, int], set[bool]] = field(default_factory=dict)
    expressions: dict[int, CompiledExpression] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for expression in self.pack.expressions.values():
            if id(expression) in self.expressions:
                continue
            self.expressions[id(expression)] = expression
            for k in _points(expression):
                if self.own is None or self.own.hold(expression, k):
                    self.seen[(id(expression), k)] = set()

    def observe(self, expression: CompiledExpression, args: tuple) -> None:
        facts, defs, *namespaces = args
        try:
            recording = expression.record(facts, defs, *namespaces)
        except EvaluationError:
            return
        for (expr_id, k), sides in self.seen.items():
            if expr_id != id(expression):
                continue
            value = recording.values[k]
            if isinstance(value, ByItem):
                values = list(value)
            elif isinstance(value, ByPath):
                values = [v for _, v in value]
            else:
                values = [value]
            sides.update(v for v in values if isinstance(v, bool))

    @property
    def total(self) -> int:
        return 2 * len(self.seen)

    @property
    def covered(self) -> int:
        return sum(len(sides) for sides in self.seen.values())

    @property
    def percent(self) -> float:
        return 100.0 * self.covered / self.total if self.total else 100.0

    def gaps(self) -> list[str]:
        """'file:line:col: never true: <condition>' for each side no case reached, by location."""
        out = []
        for (expr_id, k), sides in self.seen.items():
            node = self.expressions[expr_id].nodes[k]
            missing = [word for word, side in (("true", True), ("false", False)) if side not in sides]
            if missing and node.span is not None:
                out.append((node.span.source.name, node.span.start,
                            f"{node.span.location}: never {' nor '.join(missing)}: {node.span.text}"))
        return [line for *_, line in sorted(out)]


class CoverageTracer(Tracer):
    """A tracer that also feeds every evaluation to a Coverage."""

    program = None

    def __init__(self, pack: CompiledPack, coverage: Coverage) -> None:
        super().__init__(pack)
        self.coverage = coverage

    def compute(self, expression: CompiledExpression, args: tuple, day: str) -> Any:
        result = expression.evaluate(*args)
        self.coverage.observe(expression, args)
        return result

    def evaluate(self, slot: Slot, expression: CompiledExpression, args: tuple, day: str) -> Any:
        return self.compute(expression, args, day)

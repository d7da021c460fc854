"""The expression AST: frozen dataclasses with source spans left out of equality.

The Lark parse tree never leaves `parser.py`; everything after it (checker, code
generator, tracer) works on these nodes. Two ASTs parsed from differently spaced text
compare equal.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal

from ..diagnostics import Span


@dataclass(frozen=True, slots=True)
class Node:
    span: Span | None = field(default=None, compare=False, repr=False, kw_only=True)

    def children(self) -> tuple[Node, ...]:
        return ()


@dataclass(frozen=True, slots=True)
class Literal(Node):
    """A constant. `kind` is the literal's type name: int, decimal, money, duration
    (value in whole seconds), date (ISO string), string or bool."""

    kind: str
    value: int | Decimal | str | bool


@dataclass(frozen=True, slots=True)
class ListLiteral(Node):
    items: tuple[Node, ...]

    def children(self) -> tuple[Node, ...]:
        return self.items


@dataclass(frozen=True, slots=True)
class Name(Node):
    name: str


@dataclass(frozen=True, slots=True)
class Field(Node):
    """`base.name`: a record's field, a namespace member (`params.x`), or, on a list of
    records, the list of that field's values (projection)."""

    base: Node
    name: str

    def children(self) -> tuple[Node, ...]:
        return (self.base,)


@dataclass(frozen=True, slots=True)
class Call(Node):
    function: str
    args: tuple[Node, ...]

    def children(self) -> tuple[Node, ...]:
        return self.args


@dataclass(frozen=True, slots=True)
class Unary(Node):
    op: str  # "-" or "not"
    operand: Node

    def children(self) -> tuple[Node, ...]:
        return (self.operand,)


@dataclass(frozen=True, slots=True)
class Binary(Node):
    """Arithmetic and comparison: + - * / // == != < <= > >= in, "not in"."""

    op: str
    left: Node
    right: Node

    def children(self) -> tuple[Node, ...]:
        return (self.left, self.right)


@dataclass(frozen=True, slots=True)
class Logical(Node):
    """`and` / `or` over two or more operands, evaluated left to right, short-circuit."""

    op: str
    operands: tuple[Node, ...]

    def children(self) -> tuple[Node, ...]:
        return self.operands


@dataclass(frozen=True, slots=True)
class Coalesce(Node):
    """`a ?? b`: a unless it is missing, else b (evaluated only then)."""

    left: Node
    right: Node

    def children(self) -> tuple[Node, ...]:
        return (self.left, self.right)


@dataclass(frozen=True, slots=True)
class Conditional(Node):
    condition: Node
    then: Node
    otherwise: Node

    def children(self) -> tuple[Node, ...]:
        return (self.condition, self.then, self.otherwise)


@dataclass(frozen=True, slots=True)
class Where(Node):
    """`items where predicate`: the predicate is evaluated once per item, in a scope
    where the item's fields (and `item`) are names."""

    items: Node
    predicate: Node

    def children(self) -> tuple[Node, ...]:
        return (self.items, self.predicate)


def walk(node: Node) -> Iterator[Node]:
    """Every node of a tree, parents before children, left to right."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(reversed(current.children()))


def conjuncts(node: Node) -> tuple[Node, ...]:
    """The conditions an `and` joins, nested `and`s flattened (`a and (b and c)` gives a, b,
    c); any other node is its own one condition. A filter drops an item by the first of
    these that is false, and traces and explanations name that one."""
    if isinstance(node, Logical) and node.op == "and":
        return tuple(c for operand in node.operands for c in conjuncts(operand))
    return (node,)


def format_seconds(seconds: int) -> str:
    """A duration as billing staff say it: 1200 -> '20 min', 1199 -> '19 min 59 s',
    3900 -> '65 min' (minutes are not folded into hours)."""
    sign = "-" if seconds < 0 else ""
    minutes, secs = divmod(abs(seconds), 60)
    if not minutes:
        return f"{sign}{secs} s"
    return f"{sign}{minutes} min {secs} s" if secs else f"{sign}{minutes} min"

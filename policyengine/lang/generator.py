"""The one expression generator: what each kind of node means in Python, written once.

Like cel-go, which plans an expression into one program and adds tracing as decorators
around the planned nodes, the generator walks the checked AST once and says what each
node computes: a binary operator, `/` through `_divide`, `and`/`or` stopping early, `??`,
`if`, a `where` filter, a field read as its spec says (required, defaulted or optional),
a function as `FUNCTIONS[...].emit` writes it. How the values are held is the job of a
*mode*, which the generator asks for a few primitives (`Mode`). There are two modes:

- the expression form (`codegen.py`): one Python expression, the fast function; its
  tracing decorator captures each value outside `where` predicates with `:=`;
- the statement form (`recorder.py`): the recording function, which also notes where
  each value came from in the facts, each value inside a predicate item by item, and the
  node that failed.

A mode never decides what a node means, and the generator never decides how a value is
stored or recorded.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any, NamedTuple, Protocol

from . import nodes as n
from .checker import Checked, DefinitionRef, FactRef, ItemRef, NamespaceMember, RecordField
from .functions import FUNCTIONS
from .types import FieldSpec


def preorder(root: n.Node) -> list[n.Node]:
    """Nodes in the order that numbers them in traces."""
    return list(n.walk(root))


class Operand(NamedTuple):
    """A node's value as the generated code names it (an expression, or a variable), and,
    in the statement form only, the variable naming where it came from in the facts."""

    value: str
    provenance: str = "None"


#: the code generating a node's value when it is needed (an operand that may not be evaluated)
Later = Callable[[], Operand]


def access(container: str, name: str, spec: FieldSpec | None) -> str:
    """A field read as the checker resolved it: a required field is indexed (absent: an
    error), a defaulted one falls back to its default, any other one may be missing (None)."""
    if spec is not None and spec.required:
        return f"{container}[{name!r}]"
    if spec is not None and spec.default is not None:
        return f"{container}.get({name!r}, {spec.default!r})"
    return f"{container}.get({name!r})"


class ItemField(NamedTuple):
    """What a projection reads of each item: the field, its spec (None when the field may
    be missing), and whether an item may itself be missing (then its field is too)."""

    name: str
    spec: FieldSpec | None
    items_optional: bool

    def of(self, item: str) -> str:
        """The field of one item, `item` naming it."""
        if self.items_optional:
            return f"_optional_field({item}, {self.name!r})"
        return access(item, self.name, self.spec)


class Mode(Protocol):
    """How the generated code holds and records values. `k` is the preorder number of the
    node being generated, `depth` how many `where` predicates enclose it."""

    def constant(self, value: Any) -> str:
        """A name for a value the code refers to (one that has no literal form)."""

    def enter(self, k: int) -> None:
        """The node's own operation starts here: an error from now on is the node's."""

    def record(self, k: int, value: Operand, depth: int) -> Operand:
        """The node's value, once computed: the mode may keep it (the decorator)."""

    def compute(self, k: int, expression: str) -> Operand:
        """A value computed from values already there; from no fact."""

    def read(self, k: int, container: Operand, name: str, spec: FieldSpec | None) -> Operand:
        """A field of a record (`access`)."""

    def facts(self) -> Operand:
        """The facts, the record that fact names read."""

    def item(self, depth: int) -> Operand:
        """The item of the `depth`-th enclosing filter (0: the outermost)."""

    def whole_item(self, k: int, depth: int) -> Operand:
        """The item itself as the node's value (`item`)."""

    def bind(self, operand: Operand) -> tuple[str, Operand]:
        """An operand used twice: its first use (evaluating it) and the later ones."""

    def choose(self, k: int, test: str, then: Later, otherwise: Later) -> Operand:
        """`then` if `test` holds, else `otherwise`; only the one chosen is evaluated."""

    def short_circuit(self, k: int, op: str, operands: Sequence[Later]) -> Operand:
        """`and`/`or`: the operands in order, stopping at the first one equal to the value
        that decides (false for `and`, true for `or`)."""

    def filter(self, k: int, items: Operand, depth: int, predicate: Later, field: ItemField | None = None) -> Operand:
        """The items the predicate keeps, or (`field`) that field of each; the predicate
        reads the item as `item(depth)`."""

    def project(self, k: int, items: Operand, field: ItemField) -> Operand:
        """The field of each item."""

    def fuses_filters(self, depth: int) -> bool:
        """Whether `(xs where p).f` may be one step: true where the filtered list itself
        is not recorded."""


class Generator:
    """The code of one expression in a mode: `generate(checked.root)`."""

    def __init__(self, checked: Checked, mode: Mode) -> None:
        self.checked = checked
        self.mode = mode
        self.nodes = preorder(checked.root)
        self.index = {id(node): k for k, node in enumerate(self.nodes)}
        self.depth = 0  # how many `where` predicates enclose the node being generated

    def generate(self, node: n.Node) -> Operand:
        """The code of `node` (its operands' first), kept as the mode keeps values."""
        k = self.index[id(node)]
        value = getattr(self, "_" + type(node).__name__.lower())(node, k)
        return self.mode.record(k, value, self.depth)

    def later(self, node: n.Node) -> Later:
        """`node` generated when the mode asks: where it is evaluated only if reached."""
        return lambda: self.generate(node)

    def in_predicate(self, predicate: n.Node) -> Later:
        """The predicate of a filter, generated one scope deeper, when the mode asks."""
        def generate() -> Operand:
            self.depth += 1
            try:
                return self.generate(predicate)
            finally:
                self.depth -= 1
        return generate

    # --- leaves and names ------------------------------------------------------------------

    def _literal(self, node: n.Literal, k: int) -> Operand:
        value = self.mode.constant(node.value) if isinstance(node.value, Decimal) else repr(node.value)
        return self.mode.compute(k, value)

    def _listliteral(self, node: n.ListLiteral, k: int) -> Operand:
        return self.mode.compute(k, "[" + ", ".join(self.generate(item).value for item in node.items) + "]")

    def _name(self, node: n.Name, k: int) -> Operand:
        ref = self.checked.resolution(node)
        self.mode.enter(k)
        if isinstance(ref, FactRef):
            return self.mode.read(k, self.mode.facts(), ref.name, ref.spec)
        if isinstance(ref, DefinitionRef):
            return self.mode.compute(k, f"_defs[{ref.name!r}]")
        assert isinstance(ref, ItemRef), f"unresolved name {node.name!r}"
        if ref.field is None:
            return self.mode.whole_item(k, ref.depth)
        return self.mode.read(k, self.mode.item(ref.depth), ref.field, ref.spec)

    def _field(self, node: n.Field, k: int) -> Operand:
        ref = self.checked.resolution(node)
        if isinstance(ref, NamespaceMember):
            self.mode.enter(k)
            return self.mode.compute(k, f"_ns_{ref.namespace}[{ref.name!r}]")
        assert isinstance(ref, RecordField)
        if ref.projection:
            field = ItemField(node.name, None if ref.optional_items else ref.spec, ref.optional_items)
            if isinstance(node.base, n.Where) and self.mode.fuses_filters(self.depth):
                where = node.base
                return self.mode.filter(k, self.generate(where.items), self.depth, self.in_predicate(where.predicate), field)
            items = self.generate(node.base)
            self.mode.enter(k)
            return self.mode.project(k, items, field)
        base = self.generate(node.base)
        self.mode.enter(k)
        if ref.optional_base:
            first, later = self.mode.bind(base)
            return self.mode.choose(k, f"{first} is None", lambda: self.mode.compute(k, "None"),
                                    lambda: self.mode.read(k, later, node.name, None))
        return self.mode.read(k, base, node.name, ref.spec)

    # --- calls and operators -----------------------------------------------------------------

    def _call(self, node: n.Call, k: int) -> Operand:
        args = [self.generate(arg).value for arg in node.args]
        types = [self.checked.type_of(arg) for arg in node.args]
        self.mode.enter(k)
        return self.mode.compute(k, FUNCTIONS[node.function].emit(args, types))

    def _unary(self, node: n.Unary, k: int) -> Operand:
        operand = self.generate(node.operand).value
        self.mode.enter(k)
        return self.mode.compute(k, f"(not {operand})" if node.op == "not" else f"(-{operand})")

    def _binary(self, node: n.Binary, k: int) -> Operand:
        left, right = self.generate(node.left).value, self.generate(node.right).value
        self.mode.enter(k)
        return self.mode.compute(k, f"_divide({left}, {right})" if node.op == "/" else f"({left} {node.op} {right})")

    def _logical(self, node: n.Logical, k: int) -> Operand:
        return self.mode.short_circuit(k, node.op, [self.later(operand) for operand in node.operands])

    def _coalesce(self, node: n.Coalesce, k: int) -> Operand:
        first, later = self.mode.bind(self.generate(node.left))
        return self.mode.choose(k, f"{first} is not None", lambda: later, self.later(node.right))

    def _conditional(self, node: n.Conditional, k: int) -> Operand:
        condition = self.generate(node.condition).value
        return self.mode.choose(k, condition, self.later(node.then), self.later(node.otherwise))

    def _where(self, node: n.Where, k: int) -> Operand:
        items = self.generate(node.items)
        self.mode.enter(k)
        return self.mode.filter(k, items, self.depth, self.in_predicate(node.predicate))

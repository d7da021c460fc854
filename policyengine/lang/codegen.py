"""Checked AST to Python source, compiled once into a function.

Two functions come from each expression, from the same walk:

- the fast one, `fn(facts, defs, *namespaces) -> value`, with no tracing at all;
- the tracing one, which also returns the value of every node outside a `where`
  predicate (indexed by the node's preorder number), captured with assignment
  expressions, so recording costs a local store per node.

User text never reaches `compile`: only names the checker resolved against the
environment (emitted as string constants via `repr`) and numbers it parsed.
"""
from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from itertools import count
from typing import Any

from . import nodes as n
from .checker import Checked, DefinitionRef, FactRef, ItemRef, NamespaceMember, RecordField
from .functions import FUNCTIONS
from .runtime import GENERATED_GLOBALS
from .types import FieldSpec

#: placeholder in a trace for a node that was not evaluated (short-circuit, or inside a predicate)
NOT_EVALUATED = type("NotEvaluated", (), {"__repr__": lambda self: "<not evaluated>", "__slots__": ()})()


def preorder(root: n.Node) -> list[n.Node]:
    """Nodes in the order that numbers them in traces."""
    return list(n.walk(root))


class _Generator:
    def __init__(self, checked: Checked, tracing: bool, prefix: str = "") -> None:
        self.checked = checked
        self.tracing = tracing
        self.prefix = prefix
        self.constants: dict[str, Any] = {}
        self.index = {id(node): i for i, node in enumerate(preorder(checked.root))}
        self.recorded: list[int] = []
        self.scope_depth = 0
        self._temps = count()

    def temp(self) -> str:
        return f"_t{next(self._temps)}"

    def constant(self, value: Any) -> str:
        name = f"_c{self.prefix}{len(self.constants)}"
        self.constants[name] = value
        return name

    def emit(self, node: n.Node) -> str:
        source = getattr(self, "_" + type(node).__name__.lower())(node)
        if self.tracing and self.scope_depth == 0:
            k = self.index[id(node)]
            self.recorded.append(k)
            return f"(_v{k} := {source})"
        return source

    # --- leaves and names --------------------------------------------------------------

    def _literal(self, node: n.Literal) -> str:
        if isinstance(node.value, Decimal):
            return self.constant(node.value)
        return repr(node.value)

    def _listliteral(self, node: n.ListLiteral) -> str:
        return "[" + ", ".join(self.emit(item) for item in node.items) + "]"

    @staticmethod
    def _get(base: str, name: str, spec: FieldSpec) -> str:
        if spec.required:
            return f"{base}[{name!r}]"
        if spec.default is not None:
            return f"{base}.get({name!r}, {spec.default!r})"
        return f"{base}.get({name!r})"

    def _name(self, node: n.Name) -> str:
        ref = self.checked.resolution(node)
        if isinstance(ref, FactRef):
            return self._get("_facts", ref.name, ref.spec)
        if isinstance(ref, DefinitionRef):
            return f"_defs[{ref.name!r}]"
        assert isinstance(ref, ItemRef), f"unresolved name {node.name!r}"
        if ref.field is None:
            return f"_i{ref.depth}"
        return self._get(f"_i{ref.depth}", ref.field, ref.spec)  # type: ignore[arg-type]

    def _field(self, node: n.Field) -> str:
        ref = self.checked.resolution(node)
        if isinstance(ref, NamespaceMember):
            return f"_ns_{ref.namespace}[{ref.name!r}]"
        assert isinstance(ref, RecordField)
        if ref.projection and isinstance(node.base, n.Where) and not (self.tracing and self.scope_depth == 0):
            return self._filtered_projection(node, ref)
        base = self.emit(node.base)
        if ref.projection:
            var = self.temp()
            value = (f"_optional_field({var}, {node.name!r})" if ref.optional_items
                     else self._get(var, node.name, ref.spec))
            return self._comprehension(f"{value} for {var} in", base, "")
        if ref.optional_base:
            tmp = self.temp()
            return f"(None if ({tmp} := {base}) is None else {tmp}.get({node.name!r}))"
        return self._get(f"({base})" if not base.isidentifier() else base, node.name, ref.spec)

    def _filtered_projection(self, node: n.Field, ref: RecordField) -> str:
        """`(xs where p).f` as one comprehension, `[x['f'] for x in xs if p]`, when the
        filtered list itself need not be recorded (it is, on the tracing path's top level)."""
        where = node.base
        assert isinstance(where, n.Where)
        items = self.emit(where.items)
        var = f"_i{self.scope_depth}"
        self.scope_depth += 1
        try:
            predicate = self.emit(where.predicate)
        finally:
            self.scope_depth -= 1
        value = f"_optional_field({var}, {node.name!r})" if ref.optional_items else self._get(var, node.name, ref.spec)
        return self._comprehension(f"{value} for {var} in", items, f" if {predicate}")

    def _comprehension(self, head: str, iterable: str, tail: str) -> str:
        """`[head iterable tail]`. An iterable holding assignment expressions is evaluated
        first, in a tuple, because Python forbids `:=` in a comprehension's iterable."""
        if ":=" not in iterable:
            return f"[{head} {iterable}{tail}]"
        var = self.temp()
        return f"(({var} := {iterable}), [{head} {var}{tail}])[1]"

    # --- calls and operators -------------------------------------------------------------

    def _call(self, node: n.Call) -> str:
        args = [self.emit(arg) for arg in node.args]
        types = [self.checked.type_of(arg) for arg in node.args]
        return FUNCTIONS[node.function].emit(args, types)

    def _unary(self, node: n.Unary) -> str:
        operand = self.emit(node.operand)
        return f"(not {operand})" if node.op == "not" else f"(-{operand})"

    def _binary(self, node: n.Binary) -> str:
        left, right = self.emit(node.left), self.emit(node.right)
        if node.op == "/":
            return f"_divide({left}, {right})"
        return f"({left} {node.op} {right})"

    def _logical(self, node: n.Logical) -> str:
        return "(" + f" {node.op} ".join(self.emit(o) for o in node.operands) + ")"

    def _coalesce(self, node: n.Coalesce) -> str:
        tmp = self.temp()
        left = self.emit(node.left)
        right = self.emit(node.right)
        return f"({tmp} if ({tmp} := {left}) is not None else {right})"

    def _conditional(self, node: n.Conditional) -> str:
        cond = self.emit(node.condition)
        then = self.emit(node.then)
        otherwise = self.emit(node.otherwise)
        return f"({then} if {cond} else {otherwise})"

    def _where(self, node: n.Where) -> str:
        items = self.emit(node.items)
        var = f"_i{self.scope_depth}"
        self.scope_depth += 1
        try:
            predicate = self.emit(node.predicate)
        finally:
            self.scope_depth -= 1
        return self._comprehension(f"{var} for {var} in", items, f" if {predicate}")


def expression_writer(checked: Checked, prefix: str) -> _Generator:
    """A writer of the fast form of one expression among others in one function (a whole
    pack's program): `writer.emit(checked.root)` is its source, `writer.constants` what it
    refers to, named apart from the others' by `prefix`."""
    return _Generator(checked, tracing=False, prefix=prefix)


def signature(checked: Checked) -> str:
    """The generated functions' parameters: the facts, the definitions, each namespace."""
    return ", ".join(["_facts", "_defs"] + [f"_ns_{ns}" for ns in checked.environment.namespace_order])


def generate(checked: Checked, tracing: bool) -> tuple[str, dict[str, Any]]:
    """Python source of the fast (or tracing) function `_expr`, and its constants."""
    gen = _Generator(checked, tracing)
    body = gen.emit(checked.root)
    if not tracing:
        return f"def _expr({signature(checked)}):\n    return {body}\n", gen.constants
    size = len(gen.index)
    slots = ", ".join(f"_v{k}" if k in set(gen.recorded) else "_NE" for k in range(size))
    init = " = ".join(f"_v{k}" for k in sorted(set(gen.recorded)))
    source = (f"def _expr({signature(checked)}):\n"
              f"    {init} = _NE\n"
              f"    _r = {body}\n"
              f"    return _r, ({slots},)\n")
    return source, gen.constants


def build(checked: Checked, tracing: bool, name: str) -> tuple[Callable[..., Any], str]:
    """Compile the generated source; returns the function and its source (for debugging)."""
    source, constants = generate(checked, tracing)
    return _compiled(source, constants, name), source


def _compiled(source: str, constants: dict[str, Any], name: str) -> Callable[..., Any]:
    namespace = dict(GENERATED_GLOBALS)
    namespace.update(constants)
    namespace["_NE"] = NOT_EVALUATED
    exec(compile(source, f"<policyengine {name}>", "exec"), namespace)  # noqa: S102 - generated from a checked AST
    return namespace["_expr"]


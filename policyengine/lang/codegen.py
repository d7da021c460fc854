"""The expression form of the generator (`generator.py`): one Python expression per
expression, compiled once into a function.

Two functions come from it:

- the fast one, `fn(facts, defs, *namespaces) -> value`, with no tracing at all;
- the tracing one, the same expression decorated (`Tracing`): it also returns the value
  of every node outside a `where` predicate (indexed by the node's preorder number),
  captured with assignment expressions, so recording costs a local store per node.

User text never reaches `compile`: only names the checker resolved against the
environment (emitted as string constants via `repr`) and numbers it parsed.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from itertools import count
from typing import Any

from . import nodes as n
from .checker import Checked
from .generator import Generator, ItemField, Later, Operand, access, preorder
from .runtime import GENERATED_GLOBALS
from .types import FieldSpec

__all__ = ["NOT_EVALUATED", "build", "expression_writer", "generate", "preorder", "signature"]

#: placeholder in a trace for a node that was not evaluated (short-circuit, or inside a predicate)
NOT_EVALUATED = type("NotEvaluated", (), {"__repr__": lambda self: "<not evaluated>", "__slots__": ()})()


class Inline:
    """Each value is an expression written where it is used; nothing is recorded."""

    def __init__(self, prefix: str = "") -> None:
        self.prefix = prefix
        self.constants: dict[str, Any] = {}
        self._temps = count()

    def temp(self) -> str:
        return f"_t{next(self._temps)}"

    def constant(self, value: Any) -> str:
        name = f"_c{self.prefix}{len(self.constants)}"
        self.constants[name] = value
        return name

    def enter(self, k: int) -> None:
        """Nothing: a failure is located afterwards, by the recording function."""

    def record(self, k: int, value: Operand, depth: int) -> Operand:
        return value

    def compute(self, k: int, expression: str) -> Operand:
        return Operand(expression)

    def read(self, k: int, container: Operand, name: str, spec: FieldSpec | None) -> Operand:
        base = container.value
        return Operand(access(base if base.isidentifier() else f"({base})", name, spec))

    def facts(self) -> Operand:
        return Operand("_facts")

    def item(self, depth: int) -> Operand:
        return Operand(f"_i{depth}")

    def whole_item(self, k: int, depth: int) -> Operand:
        return self.item(depth)

    def bind(self, operand: Operand) -> tuple[str, Operand]:
        name = self.temp()
        return f"({name} := {operand.value})", Operand(name)

    def choose(self, k: int, test: str, then: Later, otherwise: Later) -> Operand:
        chosen = then().value
        return Operand(f"({chosen} if {test} else {otherwise().value})")

    def short_circuit(self, k: int, op: str, operands: Sequence[Later]) -> Operand:
        return Operand("(" + f" {op} ".join(operand().value for operand in operands) + ")")

    def filter(self, k: int, items: Operand, depth: int, predicate: Later, field: ItemField | None = None) -> Operand:
        item = self.item(depth).value
        kept = item if field is None else field.of(item)
        return Operand(self._comprehension(f"{kept} for {item} in", items.value, f" if {predicate().value}"))

    def project(self, k: int, items: Operand, field: ItemField) -> Operand:
        item = self.temp()
        return Operand(self._comprehension(f"{field.of(item)} for {item} in", items.value, ""))

    def fuses_filters(self, depth: int) -> bool:
        return True

    def _comprehension(self, head: str, iterable: str, tail: str) -> str:
        """`[head iterable tail]`. An iterable holding assignment expressions is evaluated
        first, in a tuple, because Python forbids `:=` in a comprehension's iterable."""
        if ":=" not in iterable:
            return f"[{head} {iterable}{tail}]"
        name = self.temp()
        return f"(({name} := {iterable}), [{head} {name}{tail}])[1]"


class Tracing(Inline):
    """The decorator: each value outside every predicate is also kept in `_vk`."""

    def __init__(self) -> None:
        super().__init__()
        self.recorded: set[int] = set()

    def record(self, k: int, value: Operand, depth: int) -> Operand:
        if depth:
            return value
        self.recorded.add(k)
        return Operand(f"(_v{k} := {value.value})")

    def fuses_filters(self, depth: int) -> bool:
        return depth > 0  # a filter outside every predicate is recorded: it stays a step of its own


class ExpressionWriter:
    """The fast form of one expression among others in one function (a whole pack's
    program): `emit(checked.root)` is its source, `constants` what it refers to."""

    def __init__(self, checked: Checked, prefix: str) -> None:
        self._mode = Inline(prefix)
        self._generator = Generator(checked, self._mode)
        self.constants = self._mode.constants

    def emit(self, root: n.Node) -> str:
        return self._generator.generate(root).value


def expression_writer(checked: Checked, prefix: str) -> ExpressionWriter:
    """A writer of the fast form of one expression, its constants named apart from the
    others' in the same function by `prefix`."""
    return ExpressionWriter(checked, prefix)


def signature(checked: Checked) -> str:
    """The generated functions' parameters: the facts, the definitions, each namespace."""
    return ", ".join(["_facts", "_defs"] + [f"_ns_{ns}" for ns in checked.environment.namespace_order])


def generate(checked: Checked, tracing: bool) -> tuple[str, dict[str, Any]]:
    """Python source of the fast (or tracing) function `_expr`, and its constants."""
    mode = Tracing() if tracing else Inline()
    generator = Generator(checked, mode)
    body = generator.generate(checked.root).value
    if not isinstance(mode, Tracing):
        return f"def _expr({signature(checked)}):\n    return {body}\n", mode.constants
    slots = ", ".join(f"_v{k}" if k in mode.recorded else "_NE" for k in range(len(generator.nodes)))
    init = " = ".join(f"_v{k}" for k in sorted(mode.recorded))
    source = (f"def _expr({signature(checked)}):\n"
              f"    {init} = _NE\n"
              f"    _r = {body}\n"
              f"    return _r, ({slots},)\n")
    return source, mode.constants


def build(checked: Checked, tracing: bool, name: str) -> tuple[Callable[..., Any], str]:
    """Compile the generated source; returns the function and its source (for debugging)."""
    source, constants = generate(checked, tracing)
    namespace = dict(GENERATED_GLOBALS)
    namespace.update(constants)
    namespace["_NE"] = NOT_EVALUATED
    exec(compile(source, f"<policyengine {name}>", "exec"), namespace)  # noqa: S102 - generated from a checked AST
    return namespace["_expr"], source

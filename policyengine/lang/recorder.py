"""The recording function: an expression's full reading, compiled once per expression.

A full trace needs what the fast function skips: the value of every node inside `where`
predicates, item by item, the facts read as JSON pointers, and the node that failed. The
walk of the AST finds them at about ten Python calls per node; this module is the
statement form of the one generator (`generator.py`, which says what each node means):
the same walk as straight-line Python statements, so a traced evaluation costs a store
per node (one per item inside a predicate) and a pointer per fact read, with no call for
either. The tree-walking interpreter stays, as the readable specification, in the tests
(`tests/reference_interpreter.py`): property tests hold this function to it value for
value, pointer for pointer, and error for error.

Generated code reads like the walk it replaces: a node k computes `_vk` (its value) and
`_pk` (where it came from in the facts: a pointer, a list of pointers, or None), sets
`_at = k` before its own operation (so an error is located at it) and records `_vk`: in
`_values[k]`; directly inside the predicate of a top-level filter, at the item's place in
the list `_Lk` (a `ByItem`, made before the loop); deeper, appended to `_Lk` with the
item's path (a `ByPath`). A list no item reached is left out when the function returns.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from itertools import repeat
from typing import Any

from .. import pointers
from . import nodes as n
from .checker import Checked
from .codegen import NOT_EVALUATED, signature
from .source import Source
from .generator import Generator, ItemField, Later, Operand, access
from .runtime import GENERATED_GLOBALS, EvaluationError, as_evaluation_error
from .types import FieldSpec


class ByItem(list):
    """The values of a node inside the predicate of a filter that is itself outside every
    predicate: one per item of the filter, in order, NOT_EVALUATED where that item did not
    reach the node (a condition before it was false)."""


class ByPath(list):
    """The values of a node inside nested predicates: `(item_path, value)` pairs in the
    order evaluated, item_path being the indices of the items of the enclosing filters."""


@dataclass
class Recording:
    """Everything one evaluation touched.

    `values[k]` is the value of preorder node k: for a node inside a `where` predicate a
    `ByItem` (directly inside the predicate of a filter outside every predicate, the usual
    case: a flat list, no pair per item) or a `ByPath` (deeper), or NOT_EVALUATED when no
    item reached it. `reads` lists the facts read, in first-read order.
    """

    result: Any
    values: list[Any]
    reads: list[str] = field(default_factory=list)


class Statements(Source):
    """The statement form of the generator (`generator.py`): node k's value in `_vk`,
    where it came from in `_pk`, `_at = k` before its own operation, and each value
    recorded (the decorator, `record`) at its place: `_values[k]`; by item; by path."""

    def __init__(self) -> None:
        super().__init__(prefix="_c")
        #: the nodes inside predicates, each with how many enclosing predicates: each collects
        #: its values in a list `_Lk` (by item at depth 1, by item path deeper)
        self.item_nodes: list[tuple[int, int]] = []

    def enter(self, k: int) -> None:
        self.line(f"_at = {k}")

    def record(self, k: int, value: Operand, depth: int) -> Operand:
        if depth == 1:  # inside the predicate of a filter outside every predicate: at its item
            self.line(f"_L{k}[_j0] = {value.value}")
            self.item_nodes.append((k, 1))
        elif depth:  # deeper: at the path of items of the enclosing filters
            self.line(f"_L{k}.append((_path{depth}, {value.value}))")
            self.item_nodes.append((k, depth))
        else:
            self.line(f"_values[{k}] = {value.value}")
        return value

    def compute(self, k: int, expression: str) -> Operand:
        self.line(f"_v{k}, _p{k} = {expression}, None")
        return Operand(f"_v{k}", f"_p{k}")

    def read(self, k: int, container: Operand, name: str, spec: FieldSpec | None) -> Operand:
        result = Operand(f"_v{k}", f"_p{k}")
        self._read(result, container, name, spec)
        return result

    def _read(self, result: Operand, container: Operand, name: str, spec: FieldSpec | None) -> None:
        """A field read: its pointer noted when the container came from the facts (the
        facts themselves: a pointer known now), then the value, then one pointer per item
        when the value is a list."""
        value, provenance = result
        suffix = self.constant(pointers.join("", name))
        if container is _FACTS:
            self.line(f"{provenance} = {suffix}")
            self.line(f"_reads[{provenance}] = None")
        else:
            self.line(f"{provenance} = {container.provenance} + {suffix} if {container.provenance}.__class__ is _str else None")
            self.line(f"if {provenance} is not None: _reads[{provenance}] = None")
        self.line(f"{value} = {access(container.value, name, spec)}")
        self.line(f"if {provenance} is not None and {value}.__class__ is _list: "
                  f"{provenance} = _items({provenance}, _len({value}))")

    def facts(self) -> Operand:
        return _FACTS

    def item(self, depth: int) -> Operand:
        return Operand(f"_i{depth}", f"_ip{depth}")

    def whole_item(self, k: int, depth: int) -> Operand:
        self.line(f"_v{k}, _p{k} = _i{depth}, _ip{depth}")
        self.line(f"if _p{k}.__class__ is _str: _reads[_p{k}] = None")
        return Operand(f"_v{k}", f"_p{k}")

    def bind(self, operand: Operand) -> tuple[str, Operand]:
        return operand.value, operand  # already a variable

    def choose(self, k: int, test: str, then: Later, otherwise: Later) -> Operand:
        result = Operand(f"_v{k}", f"_p{k}")
        for branch, chosen in ((f"if {test}:", then), ("else:", otherwise)):
            self.line(branch)
            self.indent += 1
            value = chosen()
            if value != result:
                self.line(f"{result.value}, {result.provenance} = {value.value}, {value.provenance}")
            self.indent -= 1
        return result

    def short_circuit(self, k: int, op: str, operands: Sequence[Later]) -> Operand:
        stop = op == "or"
        self.line(f"_v{k}, _p{k} = {stop}, None")
        for operand in operands:
            self.line(f"if {operand().value} != {stop}:")
            self.indent += 1
        self.line(f"_v{k} = {not stop}")
        self.indent -= len(operands)
        return Operand(f"_v{k}", f"_p{k}")

    def filter(self, k: int, items: Operand, depth: int, predicate: Later, field: ItemField | None = None) -> Operand:
        """A loop over the items; the values inside the predicate are recorded item by item
        (`record`), in lists made before the loop."""
        assert field is None, "the statement form does not fuse filters"
        value, provenance = f"_v{k}", f"_p{k}"
        item, item_provenance, position = f"_i{depth}", f"_ip{depth}", f"_j{depth}"
        self.line(f"{value}, {provenance} = [], []")
        self.line(f"_each = {items.provenance} if {items.provenance}.__class__ is _list else [None] * _len({items.value})")
        allocate, before = len(self.lines), len(self.item_nodes)
        self.line(f"for {position}, ({item}, {item_provenance}) in _enumerate(_zip({items.value}, _each)):")
        self.indent += 1
        path = len(self.lines)
        self.line(f"_path{depth + 1} = " + (f"_path{depth} + ({position},)" if depth else f"({position},)"))
        keep = predicate().value
        self.line(f"if {keep}: {value}.append({item}); {provenance}.append({item_provenance})")
        self.indent -= 1
        inside = self.item_nodes[before:]
        if depth == 0 and all(at == 1 for _, at in inside):
            del self.lines[path]  # no node deeper inside needs the item's path
        if depth == 0:  # a slot per item for each node directly inside this predicate, before the loop
            self.lines[allocate:allocate] = ["    " * self.indent + f"_L{j} = _ByItem(_repeat(_NE, _len({items.value})))"
                                             for j, at in inside if at == 1]
        return Operand(value, provenance)

    def project(self, k: int, items: Operand, field: ItemField) -> Operand:
        """The field of each item read in a loop (a missing item gives a missing value)."""
        value, provenance = f"_v{k}", f"_p{k}"
        self.line(f"{value}, {provenance} = [], []")
        self.line(f"for _x, _xp in _zip({items.value}, {items.provenance} if {items.provenance}.__class__ is _list "
                  f"else [None] * _len({items.value})):")
        self.indent += 1
        self.line(f"if _x is None: {value}.append(None); {provenance}.append(None); continue")
        self._read(Operand("_y", "_yp"), Operand("_x", "_xp"), field.name, field.spec)
        self.line(f"{value}.append(_y); {provenance}.append(_yp)")
        self.indent -= 1
        return Operand(value, provenance)

    def fuses_filters(self, depth: int) -> bool:
        return False


#: the facts as a container: their pointer is the empty one, known when the code is written
_FACTS = Operand("_facts", "''")


def failed(error: Exception, node: n.Node, reads: dict[str, None]) -> EvaluationError:
    """The coded error, located at the node that raised it and the fact read last."""
    return as_evaluation_error(error).at(node.span, next(reversed(reads), None))


def generate(checked: Checked) -> tuple[str, dict[str, Any]]:
    """Python source of the recording function `_record` and its constants."""
    writer = Statements()
    generator = Generator(checked, writer)
    result = generator.generate(checked.root).value
    body = writer.text
    by_item = sorted({k for k, depth in writer.item_nodes if depth == 1})
    by_path = sorted({k for k, depth in writer.item_nodes if depth > 1})
    # a node inside a predicate that no item reached stays NOT_EVALUATED
    collected = "".join(f"    if _L{k} is not None and _L{k}.count(_NE) < _len(_L{k}): _values[{k}] = _L{k}\n"
                        for k in by_item) + "".join(f"    if _L{k}: _values[{k}] = _L{k}\n" for k in by_path)
    source = (f"def _record({signature(checked)}):\n"
              f"    _values = [_NE] * {len(generator.nodes)}\n"
              + "".join(f"    _L{k} = None\n" for k in by_item)
              + "".join(f"    _L{k} = _ByPath()\n" for k in by_path) +
              "    _reads = {}\n"
              "    _at = 0\n"
              "    try:\n"
              + "\n".join("    " + line for line in body.splitlines()) + "\n"
              "    except _Exception as error:\n"
              "        raise _failed(error, _nodes[_at], _reads) from None\n"
              + collected +
              f"    return _Recording({result}, _values, _list(_reads))\n")
    constants = dict(writer.constants, _nodes=tuple(generator.nodes))
    return source, constants


RUNTIME = {"_items": pointers.items, "_failed": failed, "_ByItem": ByItem, "_ByPath": ByPath, "_repeat": repeat,
           "_Recording": Recording, "_NE": NOT_EVALUATED,
           "_str": str, "_list": list, "_enumerate": enumerate, "_zip": zip, "_Exception": Exception}


def build(checked: Checked, name: str) -> Callable[..., Recording]:
    """The recording function `fn(facts, defs, *namespaces) -> Recording`; raises a located
    EvaluationError when the expression fails."""
    source, constants = generate(checked)
    namespace = dict(GENERATED_GLOBALS, **RUNTIME, **constants)
    exec(compile(source, f"<policyengine {name} recording>", "exec"), namespace)  # noqa: S102 - from a checked AST
    return namespace["_record"]

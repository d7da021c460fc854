"""The recording function: an expression's full reading, compiled once per expression.

A full trace needs what the fast function skips: the value of every node inside `where`
predicates, item by item, the facts read as JSON pointers, and the node that failed. The
walk of the AST finds them at about ten Python calls per node; this module writes the
same walk as straight-line Python statements, so a traced evaluation costs a store per
node (one per item inside a predicate) and a pointer per fact read, with no call for
either. The tree-walking interpreter stays, as the readable
specification, in the tests (`tests/reference_interpreter.py`): property tests hold this
function to it value for value, pointer for pointer, and error for error.

Generated code reads like the walk it replaces: a node k computes `_vk` (its value) and
`_pk` (where it came from in the facts: a pointer, a list of pointers, or None), sets
`_at = k` before its own operation (so an error is located at it) and records `_vk`: in
`_values[k]`; directly inside the predicate of a top-level filter, at the item's place in
the list `_Lk` (a `ByItem`, made before the loop); deeper, appended to `_Lk` with the
item's path (a `ByPath`). A list no item reached is left out when the function returns.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import count, repeat
from typing import Any

from .. import pointers
from . import nodes as n
from .checker import Checked, DefinitionRef, FactRef, ItemRef, NamespaceMember, RecordField
from .codegen import NOT_EVALUATED, preorder, signature
from .functions import FUNCTIONS
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


#: how a field is read (the field's spec, as the checker resolved it)
REQUIRED, DEFAULTED, OPTIONAL = 0, 1, 2


def _mode(spec: FieldSpec | None) -> tuple[int, Any]:
    if spec is not None and spec.required:
        return REQUIRED, None
    if spec is not None and spec.default is not None:
        return DEFAULTED, spec.default
    return OPTIONAL, None


def read(container: Any, provenance: Any, name: str, mode: int, default: Any, reads: dict[str, None]) -> tuple[Any, Any]:
    """One field of a record read, noting its pointer when the record came from the facts;
    a list read from the facts carries one pointer per item. (The generated code writes
    the same steps inline for a field it names; `project` reads each item through this.)"""
    pointer = pointers.join(provenance, name) if provenance.__class__ is str else None
    if pointer is not None:
        reads[pointer] = None
    if mode == REQUIRED:
        value = container[name]
    elif mode == DEFAULTED:
        value = container.get(name, default)
    else:
        value = container.get(name)
    if pointer is not None and value.__class__ is list:
        return value, pointers.items(pointer, len(value))
    return value, pointer


def project(items: list, provenance: Any, name: str, mode: int, default: Any, reads: dict[str, None]) -> tuple[list, list]:
    """`items.name`: the field of each item (None for an item that is None)."""
    item_provenance = provenance if provenance.__class__ is list else [None] * len(items)
    values, provenances = [], []
    for item, where in zip(items, item_provenance):
        value, came_from = (None, None) if item is None else read(item, where, name, mode, default, reads)
        values.append(value)
        provenances.append(came_from)
    return values, provenances


class _Writer:
    """Statements for one expression, node by node, in the interpreter's order."""

    def __init__(self, checked: Checked) -> None:
        self.checked = checked
        self.nodes = preorder(checked.root)
        self.index = {id(node): k for k, node in enumerate(self.nodes)}
        self.constants: dict[str, Any] = {}
        self.lines: list[str] = []
        self.indent = 1
        self.depth = 0  # how many `where` predicates enclose the node being written
        #: the nodes inside predicates, each with how many enclosing predicates: each collects
        #: its values in a list `_Lk` (by item at depth 1, by item path deeper)
        self.item_nodes: list[tuple[int, int]] = []
        self._temps = count()

    def line(self, text: str) -> None:
        self.lines.append("    " * self.indent + text)

    def constant(self, value: Any) -> str:
        name = f"_c{len(self.constants)}"
        self.constants[name] = value
        return name

    def write(self, node: n.Node) -> tuple[str, str]:
        """Statements computing `node`; returns the names of its value and provenance."""
        k = self.index[id(node)]
        value, provenance = f"_v{k}", f"_p{k}"
        getattr(self, "_" + type(node).__name__.lower())(node, k, value, provenance)
        if self.depth == 1:  # inside the predicate of a filter outside every predicate: at its item
            self.line(f"_L{k}[_j0] = {value}")
            self.item_nodes.append((k, 1))
        elif self.depth:  # deeper: at the path of items of the enclosing filters
            self.line(f"_L{k}.append((_path{self.depth}, {value}))")
            self.item_nodes.append((k, self.depth))
        else:
            self.line(f"_values[{k}] = {value}")
        return value, provenance

    def _read(self, value: str, provenance: str, container: str, container_provenance: str | None, name: str,
              spec: FieldSpec | None) -> None:
        """`read` written inline: the field's pointer noted when the container came from the
        facts (`container_provenance` None: the facts themselves, whose pointer is known
        now), then the value, then one pointer per item when the value is a list."""
        suffix = self.constant(pointers.join("", name))
        if container_provenance is None:
            self.line(f"{provenance} = {suffix}")
            self.line(f"_reads[{provenance}] = None")
        else:
            self.line(f"{provenance} = {container_provenance} + {suffix} if {container_provenance}.__class__ is _str else None")
            self.line(f"if {provenance} is not None: _reads[{provenance}] = None")
        mode, default = _mode(spec)
        if mode == REQUIRED:
            self.line(f"{value} = {container}[{name!r}]")
        elif mode == DEFAULTED:
            self.line(f"{value} = {container}.get({name!r}, {self.constant(default)})")
        else:
            self.line(f"{value} = {container}.get({name!r})")
        self.line(f"if {provenance} is not None and {value}.__class__ is _list: "
                  f"{provenance} = _items({provenance}, _len({value}))")

    # --- nodes: each writes `value, provenance` ------------------------------------------

    def _literal(self, node: n.Literal, k: int, value: str, provenance: str) -> None:
        self.line(f"{value}, {provenance} = {self.constant(node.value)}, None")

    def _listliteral(self, node: n.ListLiteral, k: int, value: str, provenance: str) -> None:
        items = [self.write(item)[0] for item in node.items]
        self.line(f"{value}, {provenance} = [{', '.join(items)}], None")

    def _name(self, node: n.Name, k: int, value: str, provenance: str) -> None:
        ref = self.checked.resolution(node)
        self.line(f"_at = {k}")
        if isinstance(ref, FactRef):
            self._read(value, provenance, "_facts", None, ref.name, ref.spec)
        elif isinstance(ref, DefinitionRef):
            self.line(f"{value}, {provenance} = _defs[{ref.name!r}], None")
        else:
            assert isinstance(ref, ItemRef), f"unresolved name {node.name!r}"
            item, item_provenance = f"_i{ref.depth}", f"_ip{ref.depth}"
            if ref.field is None:
                self.line(f"{value}, {provenance} = {item}, {item_provenance}")
                self.line(f"if {provenance}.__class__ is _str: _reads[{provenance}] = None")
            else:
                self._read(value, provenance, item, item_provenance, ref.field, ref.spec)

    def _field(self, node: n.Field, k: int, value: str, provenance: str) -> None:
        ref = self.checked.resolution(node)
        if isinstance(ref, NamespaceMember):
            self.line(f"_at = {k}")
            self.line(f"{value}, {provenance} = _ns_{ref.namespace}[{ref.name!r}], None")
            return
        assert isinstance(ref, RecordField)
        base, base_provenance = self.write(node.base)
        self.line(f"_at = {k}")
        if ref.projection:
            mode, default = _mode(None if ref.optional_items else ref.spec)
            self.line(f"{value}, {provenance} = _project({base}, {base_provenance}, {node.name!r}, {mode}, "
                      f"{self.constant(default)}, _reads)")
        elif ref.optional_base:
            self.line(f"if {base} is None: {value}, {provenance} = None, None")
            self.line("else:")
            self.indent += 1
            self._read(value, provenance, base, base_provenance, node.name, None)
            self.indent -= 1
        else:
            self._read(value, provenance, base, base_provenance, node.name, ref.spec)

    def _call(self, node: n.Call, k: int, value: str, provenance: str) -> None:
        args = [self.write(arg)[0] for arg in node.args]
        if node.function == "sum":  # an empty total takes its type (0 or Decimal 0) from the list's
            args.append(self.constant(self.checked.type_of(node.args[0]).item))  # type: ignore[attr-defined]
        self.line(f"_at = {k}")
        self.line(f"{value}, {provenance} = {self.constant(FUNCTIONS[node.function].impl)}({', '.join(args)}), None")

    def _unary(self, node: n.Unary, k: int, value: str, provenance: str) -> None:
        operand = self.write(node.operand)[0]
        self.line(f"_at = {k}")
        self.line(f"{value}, {provenance} = ({'not ' if node.op == 'not' else '-'}{operand}), None")

    def _binary(self, node: n.Binary, k: int, value: str, provenance: str) -> None:
        left, right = self.write(node.left)[0], self.write(node.right)[0]
        self.line(f"_at = {k}")
        operation = f"_divide({left}, {right})" if node.op == "/" else f"({left} {node.op} {right})"
        self.line(f"{value}, {provenance} = {operation}, None")

    def _logical(self, node: n.Logical, k: int, value: str, provenance: str) -> None:
        """Operands in order until one equals the stopping value (true for `or`)."""
        stop = node.op == "or"
        self.line(f"{value}, {provenance} = {stop}, None")
        opened = 0
        for operand in node.operands:
            result = self.write(operand)[0]
            self.line(f"if {result} != {stop}:")
            self.indent += 1
            opened += 1
        self.line(f"{value} = {not stop}")
        self.indent -= opened

    def _coalesce(self, node: n.Coalesce, k: int, value: str, provenance: str) -> None:
        left, left_provenance = self.write(node.left)
        self.line(f"if {left} is not None: {value}, {provenance} = {left}, {left_provenance}")
        self.line("else:")
        self.indent += 1
        right, right_provenance = self.write(node.right)
        self.line(f"{value}, {provenance} = {right}, {right_provenance}")
        self.indent -= 1

    def _conditional(self, node: n.Conditional, k: int, value: str, provenance: str) -> None:
        condition = self.write(node.condition)[0]
        for branch, chosen in ((f"if {condition}:", node.then), ("else:", node.otherwise)):
            self.line(branch)
            self.indent += 1
            result, result_provenance = self.write(chosen)
            self.line(f"{value}, {provenance} = {result}, {result_provenance}")
            self.indent -= 1

    def _where(self, node: n.Where, k: int, value: str, provenance: str) -> None:
        items, items_provenance = self.write(node.items)
        self.line(f"_at = {k}")
        depth = self.depth
        item, item_provenance, position = f"_i{depth}", f"_ip{depth}", f"_j{depth}"
        self.line(f"{value}, {provenance} = [], []")
        self.line(f"_each = {items_provenance} if {items_provenance}.__class__ is _list else [None] * _len({items})")
        allocate, before = len(self.lines), len(self.item_nodes)
        self.line(f"for {position}, ({item}, {item_provenance}) in _enumerate(_zip({items}, _each)):")
        self.indent += 1
        self.depth += 1
        path = len(self.lines)
        self.line(f"_path{self.depth} = " + (f"_path{depth} + ({position},)" if depth else f"({position},)"))
        keep = self.write(node.predicate)[0]
        self.depth -= 1
        self.line(f"if {keep}: {value}.append({item}); {provenance}.append({item_provenance})")
        self.indent -= 1
        inside = self.item_nodes[before:]
        if depth == 0 and all(at == 1 for _, at in inside):
            del self.lines[path]  # no node deeper inside needs the item's path
        if depth == 0:  # a slot per item for each node directly inside this predicate, before the loop
            self.lines[allocate:allocate] = ["    " * self.indent + f"_L{j} = _ByItem(_repeat(_NE, _len({items})))"
                                             for j, at in inside if at == 1]


def failed(error: Exception, node: n.Node, reads: dict[str, None]) -> EvaluationError:
    """The coded error, located at the node that raised it and the fact read last."""
    return as_evaluation_error(error).at(node.span, next(reversed(reads), None))


def generate(checked: Checked) -> tuple[str, dict[str, Any]]:
    """Python source of the recording function `_record` and its constants."""
    writer = _Writer(checked)
    result = writer.write(checked.root)[0]
    body = "\n".join(writer.lines)
    by_item = sorted({k for k, depth in writer.item_nodes if depth == 1})
    by_path = sorted({k for k, depth in writer.item_nodes if depth > 1})
    # a node inside a predicate that no item reached stays NOT_EVALUATED
    collected = "".join(f"    if _L{k} is not None and _L{k}.count(_NE) < _len(_L{k}): _values[{k}] = _L{k}\n"
                        for k in by_item) + "".join(f"    if _L{k}: _values[{k}] = _L{k}\n" for k in by_path)
    source = (f"def _record({signature(checked)}):\n"
              f"    _values = [_NE] * {len(writer.nodes)}\n"
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
    constants = dict(writer.constants, _nodes=tuple(writer.nodes))
    return source, constants


RUNTIME = {"_project": project, "_items": pointers.items, "_failed": failed, "_ByItem": ByItem, "_ByPath": ByPath,
           "_repeat": repeat,
           "_Recording": Recording, "_NE": NOT_EVALUATED,
           "_str": str, "_list": list, "_enumerate": enumerate, "_zip": zip, "_Exception": Exception}


def build(checked: Checked, name: str) -> Callable[..., Recording]:
    """The recording function `fn(facts, defs, *namespaces) -> Recording`; raises a located
    EvaluationError when the expression fails."""
    source, constants = generate(checked)
    namespace = dict(GENERATED_GLOBALS, **RUNTIME, **constants)
    exec(compile(source, f"<policyengine {name} recording>", "exec"), namespace)  # noqa: S102 - from a checked AST
    return namespace["_record"]

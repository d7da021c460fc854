"""The reference reading of an expression: a tree-walking interpreter.

It walks the checked AST and records what a full trace shows: the value of every node
(inside `where` predicates item by item) and every fact it read, as a JSON pointer
(`/interactions/3/duration_seconds`). The package runs the same reading compiled
(`policyengine/lang/recorder.py`); this plain walk is the specification the property
tests (`test_paths_agree.py`) hold the fast, tracing and recording functions to.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from policyengine import pointers
from policyengine.lang import nodes as n
from policyengine.lang import runtime as rt
from policyengine.lang.checker import Checked, DefinitionRef, FactRef, ItemRef, NamespaceMember, RecordField
from policyengine.lang.codegen import NOT_EVALUATED, preorder
from policyengine.lang.functions import FUNCTIONS
from policyengine.lang.recorder import Recording
from policyengine.lang.types import FieldSpec

#: where a value came from in the facts: a JSON pointer, a list of those (one per item), or None
Provenance = Any


class _Failed(Exception):
    """An evaluation error with the node that raised it and the fact last read."""

    def __init__(self, error: rt.EvaluationError, node: n.Node, pointer: str | None) -> None:
        super().__init__(error.message)
        self.error, self.node, self.pointer = error, node, pointer


class _Interpreter:
    def __init__(self, checked: Checked, facts: Mapping[str, Any], defs: Mapping[str, Any],
                 namespaces: Sequence[Mapping]) -> None:
        self.checked = checked
        self.facts = facts
        self.defs = defs
        self.namespaces = dict(zip(checked.environment.namespace_order, namespaces))
        nodes = preorder(checked.root)
        self.index = {id(node): i for i, node in enumerate(nodes)}
        self.values: list[Any] = [NOT_EVALUATED] * len(nodes)
        self.reads: dict[str, None] = {}
        self.items: list[tuple[Any, Provenance]] = []  # (item, provenance) per enclosing where
        self.item_path: tuple[int, ...] = ()

    def eval(self, node: n.Node) -> tuple[Any, Provenance]:
        try:
            value, prov = getattr(self, "_" + type(node).__name__.lower())(node)
        except _Failed:
            raise
        except Exception as error:  # noqa: BLE001 - mapped to a coded error at this node
            raise _Failed(rt.as_evaluation_error(error), node, next(reversed(self.reads), None)) from None
        k = self.index[id(node)]
        if self.items:
            if self.values[k] is NOT_EVALUATED:
                self.values[k] = []
            self.values[k].append((self.item_path, value))
        else:
            self.values[k] = value
        return value, prov

    def read(self, container: Any, prov: Provenance, name: str, spec: FieldSpec | None) -> tuple[Any, Provenance]:
        pointer = pointers.join(prov, name) if isinstance(prov, str) else None
        if pointer is not None:
            self.reads[pointer] = None
        if spec is not None and spec.required:
            value = container[name]
        elif spec is not None and spec.default is not None:
            value = container.get(name, spec.default)
        else:
            value = container.get(name)
        return value, self._provenance(value, pointer)

    @staticmethod
    def _provenance(value: Any, pointer: str | None) -> Provenance:
        if pointer is not None and isinstance(value, list):
            return [pointers.join(pointer, i) for i in range(len(value))]
        return pointer

    # --- nodes ---------------------------------------------------------------------------

    def _literal(self, node: n.Literal):
        return node.value, None

    def _listliteral(self, node: n.ListLiteral):
        return [self.eval(item)[0] for item in node.items], None

    def _name(self, node: n.Name):
        ref = self.checked.resolution(node)
        if isinstance(ref, FactRef):
            return self.read(self.facts, "", ref.name, ref.spec)
        if isinstance(ref, DefinitionRef):
            return self.defs[ref.name], None
        assert isinstance(ref, ItemRef)
        item, prov = self.items[ref.depth]
        if ref.field is None:
            if isinstance(prov, str):
                self.reads[prov] = None
            return item, prov
        return self.read(item, prov, ref.field, ref.spec)

    def _field(self, node: n.Field):
        ref = self.checked.resolution(node)
        if isinstance(ref, NamespaceMember):
            return self.namespaces[ref.namespace][ref.name], None
        assert isinstance(ref, RecordField)
        base, prov = self.eval(node.base)
        if ref.projection:
            provs = prov if isinstance(prov, list) else [None] * len(base)
            spec = None if ref.optional_items else ref.spec
            pairs = [(None, None) if item is None else self.read(item, p, node.name, spec)
                     for item, p in zip(base, provs)]
            return [v for v, _ in pairs], [p for _, p in pairs]
        if ref.optional_base and base is None:
            return None, None
        return self.read(base, prov, node.name, None if ref.optional_base else ref.spec)

    def _call(self, node: n.Call):
        args = [self.eval(arg)[0] for arg in node.args]
        if node.function == "sum":  # an empty total takes its type (0 or Decimal 0) from the list's
            args.append(self.checked.type_of(node.args[0]).item)  # type: ignore[attr-defined]
        return FUNCTIONS[node.function].impl(*args), None

    def _unary(self, node: n.Unary):
        value = self.eval(node.operand)[0]
        return (not value) if node.op == "not" else -value, None

    def _binary(self, node: n.Binary):
        left = self.eval(node.left)[0]
        right = self.eval(node.right)[0]
        op = node.op
        if op == "/":
            return rt.divide(left, right), None
        result = {
            "+": lambda: left + right, "-": lambda: left - right, "*": lambda: left * right,
            "//": lambda: left // right, "==": lambda: left == right, "!=": lambda: left != right,
            "<": lambda: left < right, "<=": lambda: left <= right, ">": lambda: left > right,
            ">=": lambda: left >= right, "in": lambda: left in right, "not in": lambda: left not in right,
        }[op]()
        return result, None

    def _logical(self, node: n.Logical):
        stop = node.op == "or"
        for operand in node.operands:
            if self.eval(operand)[0] == stop:
                return stop, None
        return not stop, None

    def _coalesce(self, node: n.Coalesce):
        left, prov = self.eval(node.left)
        return (left, prov) if left is not None else self.eval(node.right)

    def _conditional(self, node: n.Conditional):
        chosen = node.then if self.eval(node.condition)[0] else node.otherwise
        return self.eval(chosen)

    def _where(self, node: n.Where):
        items, prov = self.eval(node.items)
        provs = prov if isinstance(prov, list) else [None] * len(items)
        kept, kept_provs = [], []
        outer_path = self.item_path
        for i, (item, item_prov) in enumerate(zip(items, provs)):
            self.items.append((item, item_prov))
            self.item_path = outer_path + (i,)
            try:
                keep = self.eval(node.predicate)[0]
            finally:
                self.items.pop()
                self.item_path = outer_path
            if keep:
                kept.append(item)
                kept_provs.append(item_prov)
        return kept, kept_provs


def interpret(checked: Checked, facts: Mapping[str, Any], defs: Mapping[str, Any] | None = None,
              namespaces: Sequence[Mapping] = ()) -> Recording:
    """Evaluate with full recording. Raises EvaluationError like the compiled paths, with
    the span of the node that failed and the pointer of the fact it read last."""
    interpreter = _Interpreter(checked, facts, defs or {}, namespaces)
    try:
        result, _ = interpreter.eval(checked.root)
    except _Failed as failed:
        raise failed.error.at(failed.node.span, failed.pointer) from None
    return Recording(result, interpreter.values, list(interpreter.reads))

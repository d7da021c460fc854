"""What each expression of a pack reads and how items reach a total, from the checked AST.

Computed once when a pack compiles and kept on it (`CompiledPack.analysis`), so that the
engine's what-if knows which expressions an overridden value reaches, and explanations
know which filters feed a time ledger, which condition of a filter is a documentation
requirement and which fields it looks at, without reading the text of any expression.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ..lang import DATE, DURATION, CompiledExpression, ListOf
from ..lang import nodes as n
from ..lang.checker import DefinitionRef, FactRef, ItemRef, NamespaceMember, RecordField
from .model import Rule
from .slots import DEFINITION, Slot, definition_slot


@dataclass(frozen=True)
class Reads:
    """The names an expression reads: definitions, options, parameters, and whether it
    reads the facts themselves (then it cannot be evaluated without them)."""

    definitions: frozenset[str]
    options: frozenset[str]
    params: tuple[str, ...]
    facts: bool


@dataclass(frozen=True)
class Condition:
    """One condition of a filter (a conjunct of its predicate)."""

    node: int
    text: str
    #: the fields this condition only asks to be present (a documentation requirement), else ()
    documents: tuple[str, ...]
    #: the fields this condition asks to be incomplete (`not (present(x) and ...)`: a record
    #: lacking one of them), else ()
    lacks: tuple[str, ...]
    #: the item's fields it reads, as paths ("two_way", "performer.role")
    looks_at: tuple[str, ...]
    #: the options it reads
    options: tuple[str, ...]


@dataclass(frozen=True)
class Filter:
    """`items where predicate` at the top level of the expression in `slot`."""

    slot: Slot
    node: int
    text: str
    conditions: tuple[Condition, ...]

    def condition(self, node: int) -> Condition | None:
        return next((c for c in self.conditions if c.node == node), None)


@dataclass(frozen=True)
class Source:
    """Where the items of a list come from: a list of the facts, and the filters between."""

    fact: str
    #: where the facts list's own value is recorded: the expression that names it, and the node
    slot: Slot
    node: int
    filters: tuple[Filter, ...]


@dataclass(frozen=True)
class Term:
    """`sum(list.field)` inside a total, with the conditions under which it is added."""

    node: int
    text: str
    field: str
    source: Source
    #: (condition node, the value it must have, its text) of each `if` around the sum
    guards: tuple[tuple[int, bool, str], ...]


@dataclass(frozen=True)
class Tally:
    """A definition that adds up listed items (a time ledger), and the rules whose actual it is."""

    definition: str
    slot: Slot
    terms: tuple[Term, ...]
    rules: tuple[str, ...]


@dataclass(frozen=True)
class Count:
    """A definition that counts a list (days counted), and the rules whose actual it is."""

    definition: str
    slot: Slot
    #: the node whose value is the counted list
    node: int
    rules: tuple[str, ...]
    of_dates: bool


@dataclass(frozen=True)
class Analysis:
    reads: Mapping[Slot, Reads]
    #: definition -> the definitions that read it directly
    readers: Mapping[str, tuple[str, ...]]
    #: rule id -> the definition its `actual` names (a rule's opportunity adds to it)
    actual_definitions: Mapping[str, str]
    tallies: tuple[Tally, ...]
    counts: tuple[Count, ...]
    #: the slot of an evidence (a finding's, a blocked condition's) -> the facts list it
    #: draws its records from, where one list does (not one of the facts' own objects) (the evidence then points at them by
    #: their index in it)
    evidence_lists: Mapping[Slot, str]
    #: the slot of an evidence whose records are picked for lacking documentation -> the
    #: fields it asks of them (`not (present(performer) and present(summary))`), so a reader
    #: can say which each record lacks (`lacking`)
    evidence_documents: Mapping[Slot, tuple[str, ...]]

    def changed_by(self, definitions: Iterable[str], options: Iterable[str] = ()) -> frozenset[str]:
        """The definitions whose value may change when `definitions` and `options` take
        other values: those, every definition reading one of the options, and all that
        read any of these in turn."""
        options = frozenset(options)
        changed = set(definitions)
        if not changed and not options:
            return frozenset()
        changed.update(slot.owner for slot, reads in self.reads.items()
                       if slot.kind == DEFINITION and reads.options & options)
        todo = list(changed)
        while todo:
            for reader in self.readers.get(todo.pop(), ()):
                if reader not in changed:
                    changed.add(reader)
                    todo.append(reader)
        return frozenset(changed)

    def affected(self, slot: Slot, changed: frozenset[str], options: Iterable[str] = ()) -> bool:
        """Whether the expression in `slot` reads a changed definition or option."""
        reads = self.reads[slot]
        return bool(reads.definitions & changed) or not reads.options.isdisjoint(options)


def analyse(expressions: Mapping[Slot, CompiledExpression], definitions: tuple[tuple[str, CompiledExpression], ...],
            rules: tuple[Rule, ...]) -> Analysis:
    reads = {slot: _reads(expression) for slot, expression in expressions.items()}
    defined = dict(definitions)
    order = [name for name, _ in definitions]
    readers: dict[str, list[str]] = {name: [] for name in order}
    for name in order:
        for read in reads[definition_slot(name)].definitions:
            readers[read].append(name)
    actual = {rule.id: named for rule in rules
              if rule.actual is not None and (named := _definition_named(rule.actual)) is not None}
    sources = _Sources(defined)
    tallies, counts = [], []
    for name in dict.fromkeys(actual.values()):
        users = tuple(rule_id for rule_id, used in actual.items() if used == name)
        expression = defined[name]
        if expression.type == DURATION:
            terms = sources.terms(expression, definition_slot(name))
            if terms:
                tallies.append(Tally(name, definition_slot(name), terms, users))
        elif isinstance(expression.checked.root, n.Call) and expression.checked.root.function == "count":
            listed = expression.checked.root.args[0]
            of_dates = expression.checked.type_of(listed) == ListOf(DATE)
            counts.append(Count(name, definition_slot(name), expression.index[id(listed)], users, of_dates))
    evidence_sources = {slot: source for slot, expression in expressions.items()
                        if slot.part == "evidence" and isinstance(expression.type, ListOf)
                        and (source := sources.of(expression.checked.root, expression, slot)) is not None}
    evidence_documents = {slot: lacked for slot, source in evidence_sources.items()
                          if (lacked := tuple(dict.fromkeys(f for flt in source.filters for c in flt.conditions
                                                            for f in c.lacks)))}
    return Analysis(reads, {name: tuple(names) for name, names in readers.items()}, actual, tuple(tallies),
                    tuple(counts), {slot: source.fact for slot, source in evidence_sources.items()}, evidence_documents)


def field_value(record: dict, path: str) -> Any:
    """The value at a dotted path of a record ("performer.role"), None where it stops."""
    value: Any = record
    for name in path.split("."):
        value = value.get(name) if isinstance(value, dict) else None
    return value


def lacking(record: dict, fields: Iterable[str]) -> list[str]:
    """The fields a record lacks, as documentation conditions read them: absent, null, or
    an empty list or text."""
    return [path for path in fields if not field_value(record, path)]


def _reads(expression: CompiledExpression) -> Reads:
    definitions, options, params, facts = set(), set(), [], False
    for node in expression.nodes:
        ref = expression.checked.resolution(node)
        if isinstance(ref, DefinitionRef):
            definitions.add(ref.name)
        elif isinstance(ref, FactRef):
            facts = True
        elif isinstance(ref, NamespaceMember):
            if ref.namespace == "options":
                options.add(ref.name)
            elif ref.namespace == "params":
                params.append(ref.name)
    return Reads(frozenset(definitions), frozenset(options), tuple(dict.fromkeys(params)), facts)


def _definition_named(expression: CompiledExpression) -> str | None:
    ref = expression.checked.resolution(expression.checked.root)
    return ref.name if isinstance(ref, DefinitionRef) else None


class _Sources:
    """Where lists come from, through the pack's definitions."""

    def __init__(self, definitions: Mapping[str, CompiledExpression]) -> None:
        self.definitions = definitions
        self.known: dict[str, Source | None] = {}

    def of_definition(self, name: str) -> Source | None:
        if name not in self.known:
            expression = self.definitions[name]
            self.known[name] = self.of(expression.checked.root, expression, definition_slot(name))
        return self.known[name]

    def of(self, node: n.Node, expression: CompiledExpression, slot: Slot) -> Source | None:
        ref = expression.checked.resolution(node)
        if isinstance(node, n.Name) and isinstance(ref, FactRef):
            return Source(ref.name, slot, expression.index[id(node)], ())
        if isinstance(node, n.Name) and isinstance(ref, DefinitionRef):
            return self.of_definition(ref.name)
        if isinstance(node, n.Where):
            inner = self.of(node.items, expression, slot)
            if inner is None:
                return None
            conditions = tuple(_condition(c, expression) for c in n.conjuncts(node.predicate))
            found = Filter(slot, expression.index[id(node)], node.span.text if node.span else "", conditions)
            return Source(inner.fact, inner.slot, inner.node, inner.filters + (found,))
        return None

    def terms(self, expression: CompiledExpression, slot: Slot) -> tuple[Term, ...] | None:
        """The sums a total adds, or None when it is not a sum of listed items."""
        found: list[Term] = []

        def visit(node: n.Node, guards: tuple[tuple[int, bool, str], ...]) -> bool:
            if isinstance(node, n.Literal):
                return node.kind in ("duration", "int") and node.value == 0
            if isinstance(node, n.Binary) and node.op == "+":
                return visit(node.left, guards) and visit(node.right, guards)
            if isinstance(node, n.Conditional):
                text = node.condition.span.text if node.condition.span else ""
                k = expression.index[id(node.condition)]
                return visit(node.then, guards + ((k, True, text),)) and visit(node.otherwise, guards + ((k, False, text),))
            if isinstance(node, n.Call) and node.function == "sum" and isinstance(node.args[0], n.Field):
                listed = node.args[0]
                source = self.of(listed.base, expression, slot)
                if source is None or not isinstance(expression.checked.resolution(listed), RecordField):
                    return False
                found.append(Term(expression.index[id(node)], node.span.text if node.span else "", listed.name,
                                  source, guards))
                return True
            return False

        return tuple(found) if visit(expression.checked.root, ()) and found else None


# --- one condition of a filter -------------------------------------------------------------

#: (operator, count) that say "count(x) OP count" means x is not empty, and the same read
#: the other way round ("0 < count(x)"); and those whose negation says so ("not (count(x) == 0)")
_NONEMPTY = {(">", 0), (">=", 1), ("!=", 0)}
_NONEMPTY_REVERSED = {("<", 0), ("<=", 1), ("!=", 0)}
_EMPTY = {("==", 0), ("<", 1), ("<=", 0)}
_EMPTY_REVERSED = {("==", 0), (">", 1), (">=", 0)}


def _condition(node: n.Node, expression: CompiledExpression) -> Condition:
    paths = dict.fromkeys(p for inner in n.walk(node) if (p := _item_path(inner, expression)) is not None)
    looked = tuple(p for p in paths if not any(other.startswith(p + ".") for other in paths))
    options = (ref.name for inner in n.walk(node) if isinstance(ref := expression.checked.resolution(inner), NamespaceMember)
               and ref.namespace == "options")
    lacks = (_presence(node.operand, expression) if isinstance(node, n.Unary) and node.op == "not" else None) or ()
    return Condition(expression.index[id(node)], node.span.text if node.span else "",
                     _presence(node, expression) or (), lacks, looked, tuple(dict.fromkeys(options)))


def _item_path(node: n.Node, expression: CompiledExpression) -> str | None:
    """'performer.role' for a field of the filtered item (outermost filter only)."""
    ref = expression.checked.resolution(node)
    if isinstance(node, n.Name) and isinstance(ref, ItemRef) and ref.depth == 0 and ref.field is not None:
        return ref.field
    if isinstance(node, n.Field) and isinstance(ref, RecordField) and not ref.projection:
        base = _item_path(node.base, expression)
        return f"{base}.{node.name}" if base is not None else None
    return None


def _presence(node: n.Node, expression: CompiledExpression) -> tuple[str, ...] | None:
    """The fields a condition only asks to be present or not empty, in any of the ways it
    can be written (`present(x)`, `count(x) > 0`, `count(x) >= 1`, `not (count(x) == 0)`,
    `0 < count(x)`, and `and` of those), else None."""
    if isinstance(node, n.Logical) and node.op == "and":
        parts = [_presence(operand, expression) for operand in node.operands]
        return tuple(f for part in parts for f in part) if all(parts) else None  # type: ignore[union-attr]
    if isinstance(node, n.Call) and node.function == "present":
        path = _item_path(node.args[0], expression)
        return (path,) if path is not None else None
    if isinstance(node, n.Unary) and node.op == "not" and isinstance(node.operand, n.Binary):
        return _counted(node.operand, _EMPTY, _EMPTY_REVERSED, expression)
    if isinstance(node, n.Binary):
        return _counted(node, _NONEMPTY, _NONEMPTY_REVERSED, expression)
    return None


def _counted(node: n.Binary, forward: set, reverse: set, expression: CompiledExpression) -> tuple[str, ...] | None:
    """`count(x) OP k` (or `k OP count(x)`) with (OP, k) in the given sets: (x,)."""
    for counted, literal, allowed in ((node.left, node.right, forward), (node.right, node.left, reverse)):
        if (isinstance(counted, n.Call) and counted.function == "count" and isinstance(literal, n.Literal)
                and literal.kind == "int" and (node.op, literal.value) in allowed):
            path = _item_path(counted.args[0], expression)
            return (path,) if path is not None else None
    return None

"""Name resolution and type checking, before anything runs.

Every name is resolved against the environment (with "did you mean"), every operator
and function call is checked against its operand types, and units never mix silently:
`duration >= 1200` is an error that says to write `20 min`. All problems are collected;
a failed sub-expression has the type ERROR so one mistake is reported once.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..diagnostics import Diagnostic, DiagnosticError, Span, suggestion_suffix
from . import nodes as n
from .functions import FUNCTIONS, accepts_optional
from .types import (BOOL, DATE, DECIMAL, DURATION, INT, MONEY, NUMBERS, ORDERED, STRING, Environment, FieldSpec, ListOf,
                    Optional, Record, Scalar, Type, unify, unwrap)

ERROR = Scalar("<error>")

_LITERAL_TYPES = {"int": INT, "decimal": DECIMAL, "money": MONEY, "duration": DURATION, "date": DATE,
                  "string": STRING, "bool": BOOL}


@dataclass(frozen=True)
class FactRef:
    name: str
    spec: FieldSpec


@dataclass(frozen=True)
class DefinitionRef:
    name: str


@dataclass(frozen=True)
class ItemRef:
    """`item`, or a field of it (`field` set), in the where-scope `depth` (0 = outermost)."""

    depth: int
    field: str | None = None
    spec: FieldSpec | None = None


@dataclass(frozen=True)
class NamespaceMember:
    namespace: str
    name: str


@dataclass(frozen=True)
class RecordField:
    """`base.name` on a record; `optional_base`: the record itself may be missing;
    `projection`: base is a list of records and the result lists the field's values."""

    spec: FieldSpec
    optional_base: bool = False
    projection: bool = False
    #: a projection over a list whose items may be missing (e.g. each interaction's performer)
    optional_items: bool = False


Resolution = FactRef | DefinitionRef | ItemRef | NamespaceMember | RecordField


@dataclass
class Checked:
    """A type-checked expression: its root, its type, and what each node resolved to."""

    root: n.Node
    type: Type
    types: dict[int, Type]
    resolutions: dict[int, Resolution]
    environment: Environment

    def type_of(self, node: n.Node) -> Type:
        return self.types[id(node)]

    def __getstate__(self) -> dict:
        """What the compiled-pack cache keeps: types and resolutions by the node's place in
        the tree (preorder), since a node's id does not survive pickling."""
        place = {id(node): k for k, node in enumerate(n.walk(self.root))}
        return {"root": self.root, "type": self.type, "environment": self.environment,
                "types": {place[key]: value for key, value in self.types.items()},
                "resolutions": {place[key]: value for key, value in self.resolutions.items()}}

    def __setstate__(self, state: dict) -> None:
        ids = [id(node) for node in n.walk(state["root"])]
        self.root, self.type, self.environment = state["root"], state["type"], state["environment"]
        self.types = {ids[k]: value for k, value in state["types"].items()}
        self.resolutions = {ids[k]: value for k, value in state["resolutions"].items()}

    def resolution(self, node: n.Node) -> Resolution | None:
        return self.resolutions.get(id(node))


def _a(t: object) -> str:
    """'an int', 'a duration': a type name with its article, for messages."""
    name = str(t)
    return f"{'an' if name[:1] in 'aeiou' else 'a'} {name}"


def _is_numeric(t: Type) -> bool:
    return t in NUMBERS


class _Checker:
    def __init__(self, env: Environment) -> None:
        self.env = env
        self.diagnostics: list[Diagnostic] = []
        self.types: dict[int, Type] = {}
        self.resolutions: dict[int, Resolution] = {}
        self.scopes: list[Type] = []  # item types of the enclosing where-clauses

    def error(self, code: str, node: n.Node, message: str, hint: str | None = None) -> Type:
        self.diagnostics.append(Diagnostic(code, message, node.span, hint=hint))
        return ERROR

    def field_error(self, node: n.Field, message: str) -> Type:
        """An error about the name after the dot, with the caret under that name."""
        span = node.span
        if span is not None:
            span = Span(span.source, max(span.start, span.end - len(node.name)), span.end)
        self.diagnostics.append(Diagnostic("expr.unknown_field", message, span))
        return ERROR

    def check(self, node: n.Node) -> Type:
        method = getattr(self, "_" + type(node).__name__.lower())
        result = method(node)
        self.types[id(node)] = result
        return result

    # --- leaves -----------------------------------------------------------------------

    def _literal(self, node: n.Literal) -> Type:
        return _LITERAL_TYPES[node.kind]

    def _listliteral(self, node: n.ListLiteral) -> Type:
        if not node.items:
            return self.error("expr.empty_list", node, "an empty list literal has no type",
                              hint="name a list parameter instead, or leave the condition out")
        item_types = [self.check(item) for item in node.items]
        if ERROR in item_types:
            return ERROR
        common: Type | None = item_types[0]
        for t in item_types[1:]:
            common = unify(common, t) if common is not None else None
        if common is None:
            return self.error("expr.type_mismatch", node, "list items must all have one type, got "
                              + ", ".join(sorted({str(t) for t in item_types})))
        return ListOf(common)

    def _visible_names(self) -> list[str]:
        names = list(self.env.definitions) + self.env.facts.field_names + list(self.env.namespaces)
        for item in self.scopes:
            names.append("item")
            if isinstance(item, Record):
                names.extend(item.field_names)
        return names

    def _name(self, node: n.Name) -> Type:
        for depth in range(len(self.scopes) - 1, -1, -1):
            item = self.scopes[depth]
            if node.name == "item":
                self.resolutions[id(node)] = ItemRef(depth)
                return item
            spec = item.spec(node.name) if isinstance(item, Record) else None
            if spec is not None:
                self.resolutions[id(node)] = ItemRef(depth, node.name, spec)
                return Optional(spec.type) if spec.may_be_missing else spec.type
        if node.name in self.env.definitions:
            self.resolutions[id(node)] = DefinitionRef(node.name)
            return self.env.definitions[node.name]
        spec = self.env.facts.spec(node.name)
        if spec is not None:
            self.resolutions[id(node)] = FactRef(node.name, spec)
            return Optional(spec.type) if spec.may_be_missing else spec.type
        if node.name in self.env.namespaces:
            members = self.env.namespaces[node.name].field_names
            example = f"{node.name}.{members[0]}" if members else f"{node.name}.<name>"
            return self.error("expr.namespace_value", node, f"'{node.name}' is a group of values, not a value",
                              hint=f"name one of its members, e.g. {example}")
        if node.name in FUNCTIONS:
            return self.error("expr.function_value", node, f"'{node.name}' is a function",
                              hint=f"call it: {FUNCTIONS[node.name].usage}")
        return self.error("expr.unknown_name", node,
                          f"unknown name '{node.name}'{suggestion_suffix(node.name, self._visible_names())}")

    # --- structure --------------------------------------------------------------------

    def _field(self, node: n.Field) -> Type:
        if isinstance(node.base, n.Name) and node.base.name in self.env.namespaces and not self._shadowed(node.base.name):
            ns = self.env.namespaces[node.base.name]
            spec = ns.spec(node.name)
            self.types[id(node.base)] = ns
            if spec is None:
                return self.field_error(node, f"'{node.base.name}' has no member '{node.name}'"
                                        f"{suggestion_suffix(node.name, ns.field_names)}")
            self.resolutions[id(node)] = NamespaceMember(node.base.name, node.name)
            return spec.type
        base = self.check(node.base)
        if base is ERROR:
            return ERROR
        optional_base = isinstance(base, Optional)
        target = unwrap(base)
        projection = isinstance(target, ListOf) and not optional_base
        record_type = target.item if projection else target  # type: ignore[attr-defined]
        optional_items = projection and isinstance(record_type, Optional)
        record_type = unwrap(record_type)
        if not isinstance(record_type, Record):
            return self.field_error(node, f"{_a(base)} has no field '{node.name}'")
        spec = record_type.spec(node.name)
        if spec is None:
            return self.field_error(node, f"unknown field '{node.name}' of {record_type}"
                                    f"{suggestion_suffix(node.name, record_type.field_names)}")
        self.resolutions[id(node)] = RecordField(spec, optional_base, projection, optional_items)
        maybe_missing = spec.may_be_missing or optional_base or optional_items
        value = Optional(spec.type) if maybe_missing and not isinstance(spec.type, Optional) else spec.type
        return ListOf(value) if projection else value

    def _shadowed(self, name: str) -> bool:
        return any(name == "item" or (isinstance(s, Record) and s.spec(name)) for s in self.scopes)

    def _where(self, node: n.Where) -> Type:
        items = self.check(node.items)
        if items is ERROR:
            return ERROR
        if not isinstance(items, ListOf):
            return self.error("expr.not_a_list", node.items, f"'where' filters a list, got {items}")
        self.scopes.append(items.item)
        try:
            predicate = self.check(node.predicate)
        finally:
            self.scopes.pop()
        self._require_bool(node.predicate, predicate, "the condition after 'where'")
        return items

    def _call(self, node: n.Call) -> Type:
        function = FUNCTIONS.get(node.function)
        arg_types = [self.check(arg) for arg in node.args]
        if function is None:
            return self.error("expr.unknown_function", node, f"unknown function '{node.function}'"
                              f"{suggestion_suffix(node.function, FUNCTIONS)}",
                              hint="functions: " + ", ".join(sorted(FUNCTIONS)))
        if ERROR in arg_types:
            return ERROR
        if not accepts_optional(node.function):
            for arg, t in zip(node.args, arg_types):
                if isinstance(t, Optional):
                    return self._optional_error(arg, t)
        result = function.check(arg_types)
        if isinstance(result, str):
            return self.error("expr.bad_arguments", node, f"{node.function}() {result}", hint=function.usage)
        return result

    # --- operators --------------------------------------------------------------------

    def _optional_error(self, node: n.Node, t: Type) -> Type:
        return self.error("expr.maybe_missing", node, f"this value may be missing ({t})",
                          hint="give a default with '??', e.g. x.flag ?? false, or test it with present(...)")

    def _require_bool(self, node: n.Node, t: Type, what: str) -> None:
        if t is ERROR:
            return
        if isinstance(t, Optional) and t.inner == BOOL:
            self._optional_error(node, t)
        elif t != BOOL:
            self.error("expr.not_boolean", node, f"{what} must be true or false, got {t}")

    def _unary(self, node: n.Unary) -> Type:
        operand = self.check(node.operand)
        if operand is ERROR:
            return ERROR
        if node.op == "not":
            self._require_bool(node.operand, operand, "the operand of 'not'")
            return BOOL
        if operand in (INT, DECIMAL, MONEY, DURATION):
            return operand
        if isinstance(operand, Optional):
            return self._optional_error(node.operand, operand)
        return self.error("expr.type_mismatch", node, f"cannot negate {_a(operand)}")

    def _logical(self, node: n.Logical) -> Type:
        for operand in node.operands:
            self._require_bool(operand, self.check(operand), f"each operand of '{node.op}'")
        return BOOL

    def _coalesce(self, node: n.Coalesce) -> Type:
        left, right = self.check(node.left), self.check(node.right)
        if ERROR in (left, right):
            return ERROR
        common = unify(unwrap(left), right)
        if common is None:
            return self.error("expr.type_mismatch", node, f"the default after '??' must be {_a(unwrap(left))}, got {right}")
        return common

    def _conditional(self, node: n.Conditional) -> Type:
        self._require_bool(node.condition, self.check(node.condition), "the condition after 'if'")
        then, otherwise = self.check(node.then), self.check(node.otherwise)
        if ERROR in (then, otherwise):
            return ERROR
        common = unify(then, otherwise)
        if common is None:
            return self.error("expr.branch_mismatch", node, f"'then' gives {_a(then)} but 'else' gives {_a(otherwise)}",
                              hint="both branches must give the same type")
        return common

    def _binary(self, node: n.Binary) -> Type:
        left, right = self.check(node.left), self.check(node.right)
        if ERROR in (left, right):
            return ERROR
        if node.op in ("in", "not in"):
            return self._membership(node, left, right)
        if node.op in ("==", "!="):
            if unify(unwrap(left), unwrap(right)) is None:
                return self._mismatch(node, left, right)
            return BOOL
        for side, t in ((node.left, left), (node.right, right)):
            if isinstance(t, Optional):
                return self._optional_error(side, t)
        if node.op in ("<", "<=", ">", ">="):
            common = unify(left, right)
            if common is None:
                return self._mismatch(node, left, right)
            if common not in ORDERED:
                return self.error("expr.type_mismatch", node, f"values of type {common} cannot be ordered with '{node.op}'")
            return BOOL
        return self._arithmetic(node, left, right)

    def _membership(self, node: n.Binary, left: Type, right: Type) -> Type:
        if not isinstance(right, ListOf):
            return self.error("expr.not_a_list", node.right, f"'{node.op}' needs a list on its right, got {right}")
        if unify(unwrap(left), unwrap(right.item)) is None:
            return self.error("expr.type_mismatch", node, f"cannot look for {_a(left)} in {_a(right)}")
        return BOOL

    def _mismatch(self, node: n.Binary, left: Type, right: Type) -> Type:
        pair = {unwrap(left), unwrap(right)}
        if DURATION in pair and pair & {INT, DECIMAL}:
            return self.error("expr.unit_mismatch", node, f"'{node.op}' mixes a duration with a bare number",
                              hint="give the number a unit, e.g. 20 min or 1200 s")
        if MONEY in pair and pair & {INT, DECIMAL}:
            return self.error("expr.unit_mismatch", node, f"'{node.op}' mixes an amount of money with a bare number",
                              hint="write amounts with a dollar sign, e.g. $52.00")
        return self.error("expr.type_mismatch", node, f"'{node.op}' cannot compare {_a(left)} with {_a(right)}")

    def _arithmetic(self, node: n.Binary, left: Type, right: Type) -> Type:
        op = node.op
        if _is_numeric(left) and _is_numeric(right):
            if op == "/":
                return DECIMAL
            if op == "//" and (left, right) != (INT, INT):
                return self.error("expr.type_mismatch", node, "'//' (whole division) needs whole numbers",
                                  hint="use '/' for decimals")
            return unify(left, right) or ERROR
        table: dict[tuple[str, Type, Type], Type] = {
            ("+", DURATION, DURATION): DURATION, ("-", DURATION, DURATION): DURATION,
            ("*", DURATION, INT): DURATION, ("*", INT, DURATION): DURATION,
            ("//", DURATION, DURATION): INT, ("//", DURATION, INT): DURATION, ("/", DURATION, DURATION): DECIMAL,
            ("+", MONEY, MONEY): MONEY, ("-", MONEY, MONEY): MONEY,
            ("*", MONEY, INT): MONEY, ("*", INT, MONEY): MONEY, ("*", MONEY, DECIMAL): MONEY, ("*", DECIMAL, MONEY): MONEY,
            ("/", MONEY, MONEY): DECIMAL, ("/", MONEY, INT): MONEY, ("/", MONEY, DECIMAL): MONEY,
        }
        result = table.get((op, left, right))
        if result is not None:
            return result
        pair = {left, right}
        if DURATION in pair and pair & {INT, DECIMAL} and op in ("+", "-"):
            return self.error("expr.unit_mismatch", node, f"'{op}' adds a bare number to a duration",
                              hint="give the number a unit, e.g. 20 min or 30 s")
        if DURATION in pair and DECIMAL in pair:
            return self.error("expr.unit_mismatch", node, "durations are whole seconds; they cannot be scaled by a decimal")
        if MONEY in pair and pair & {INT, DECIMAL} and op in ("+", "-"):
            return self.error("expr.unit_mismatch", node, f"'{op}' adds a bare number to an amount of money",
                              hint="write amounts with a dollar sign, e.g. $52.00")
        return self.error("expr.type_mismatch", node, f"'{op}' does not apply to {_a(left)} and {_a(right)}")


def check(root: n.Node, env: Environment, expect: Type | None = None) -> Checked:
    """Resolve and type-check an expression; raise DiagnosticError listing every problem.

    `expect`: the type the caller needs (a rule condition needs bool, a units expression int).
    """
    checker = _Checker(env)
    result = checker.check(root)
    if expect is not None and result is not ERROR and unify(result, expect) != expect:
        if isinstance(result, Optional) and unwrap(result) == expect:
            checker._optional_error(root, result)
        else:
            checker.error("expr.wrong_result", root, f"this expression gives {_a(result)}; {_a(expect)} is needed here")
    if checker.diagnostics:
        raise DiagnosticError(checker.diagnostics)
    return Checked(root, result, checker.types, checker.resolutions, env)

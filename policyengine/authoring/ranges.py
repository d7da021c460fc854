"""What the expressions of a compiled pack can be: ranges of values, and whether a condition
can be true and whether it can be false. The reasoning under `policyengine lint` (`lint.py`).

Sound, not complete: a range holds every value an expression can take (it may be wider
than what facts can reach), and a condition is "never true" only when no facts make it
true. In doubt the answer is "any value" or "either", so a finding built on these is
certain, and what cannot be proven is not reported.

A `Ranges` reads a pack with its parameters fixed: the values in force on one date for the
expression's own `params.x`, and on one date for the definitions it reads (a rule on a
30-day-period clock reads its own parameters at the period's end, its definitions at the
month's end; `lint.py` chooses the dates). Values come from:

- literals, and parameters at their values;
- int options: the minimum and maximum the pack declares (a caller may set any value between);
- definitions, recursively;
- facts: the facts schema's minimum and maximum of a number, and maxItems of a list; a list
  filtered or made distinct has no more items than the list; facts' durations and integers
  are whole numbers;
- `count` (0 to the list's maxItems), `sum`, `min`, `max`, `seconds`, `minutes`, arithmetic,
  `if` and `??` over those.

A comparison of two ranges can be true when some pair of values makes it true. Within an
`and`, the comparisons of one term (the same AST, spans ignored) with a value fixed in the
segment narrow the term's range: when nothing is left, the `and` is never true. Within an
`or`, such comparisons that together cover the term's range make it never false.
"""
from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any

from ..facts import facts_schema
from ..lang import BOOL, DECIMAL, DURATION, INT, MONEY, CompiledExpression, Type, format_seconds
from ..lang import nodes as n
from ..lang.checker import DefinitionRef, FactRef, ItemRef, NamespaceMember, RecordField
from ..lang.types import ListOf, Optional, unwrap
from ..packs.model import CompiledPack

#: the types whose values are numbers a range can bound (durations in seconds)
NUMERIC = (INT, DECIMAL, MONEY, DURATION)
#: the numeric types of whole numbers only
WHOLE = (INT, DURATION)
#: the comparisons, and each with its operands swapped
_FLIPPED = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "==": "==", "!=": "!="}

Bound = Fraction | None


@dataclass(frozen=True)
class Interval:
    """The numbers from `low` to `high` (None: no bound on that side), each end included
    unless it is open; `whole`: only whole numbers (whose ends are then never open)."""

    low: Bound = None
    high: Bound = None
    low_open: bool = False
    high_open: bool = False
    whole: bool = False

    @classmethod
    def of(cls, low: Bound, high: Bound, whole: bool = False, low_open: bool = False,
           high_open: bool = False) -> Interval:
        """An interval; for whole numbers, its ends moved in to the nearest whole numbers."""
        if whole:
            if low is not None:
                low, low_open = Fraction(math.floor(low) + 1 if low_open else math.ceil(low)), False
            if high is not None:
                high, high_open = Fraction(math.ceil(high) - 1 if high_open else math.floor(high)), False
        return cls(low, high, low_open, high_open, whole)

    @classmethod
    def point(cls, value: Any, whole: bool = False) -> Interval:
        return cls.of(Fraction(value), Fraction(value), whole)

    def as_whole(self) -> Interval:
        return Interval.of(self.low, self.high, True, self.low_open, self.high_open)

    @property
    def empty(self) -> bool:
        if self.low is None or self.high is None:
            return False
        return self.low > self.high or (self.low == self.high and (self.low_open or self.high_open))

    @property
    def value(self) -> Fraction | None:
        """The one value of a one-value interval, else None."""
        return self.low if self.low is not None and self.low == self.high and not self.empty else None

    def meet(self, other: Interval) -> Interval:
        """The values in both."""
        low, low_open = _low_bound(self, other, max)
        high, high_open = _high_bound(self, other, min)
        return Interval.of(low, high, self.whole or other.whole, low_open, high_open)

    def hull(self, other: Interval) -> Interval:
        """The least interval holding both."""
        if self.empty or other.empty:
            return other if self.empty else self
        low, low_open = _low_bound(self, other, min)
        high, high_open = _high_bound(self, other, max)
        return Interval.of(low, high, self.whole and other.whole, low_open, high_open)

    def within(self, other: Interval) -> bool:
        """Whether every value of this one is in `other`."""
        if self.empty:
            return True
        low_in = other.low is None or (self.low is not None and (
            self.low > other.low or (self.low == other.low and (self.low_open or not other.low_open))))
        high_in = other.high is None or (self.high is not None and (
            self.high < other.high or (self.high == other.high and (self.high_open or not other.high_open))))
        return low_in and high_in


def _low_bound(a: Interval, b: Interval, pick: Any) -> tuple[Bound, bool]:
    """The lower end `pick` (min or max) chooses of two intervals' lower ends (None below all)."""
    if a.low is None or b.low is None:
        if pick is min:
            return None, False
        return (b.low, b.low_open) if a.low is None else (a.low, a.low_open)
    if a.low == b.low:
        return a.low, (a.low_open or b.low_open) if pick is max else (a.low_open and b.low_open)
    return (a.low, a.low_open) if pick(a.low, b.low) == a.low else (b.low, b.low_open)


def _high_bound(a: Interval, b: Interval, pick: Any) -> tuple[Bound, bool]:
    """The upper end `pick` (min or max) chooses of two intervals' upper ends (None above all)."""
    if a.high is None or b.high is None:
        if pick is max:
            return None, False
        return (b.high, b.high_open) if a.high is None else (a.high, a.high_open)
    if a.high == b.high:
        return a.high, (a.high_open or b.high_open) if pick is min else (a.high_open and b.high_open)
    return (a.high, a.high_open) if pick(a.high, b.high) == a.high else (b.high, b.high_open)


def covers(parts: Sequence[Interval], target: Interval) -> bool:
    """Whether the parts together hold every value of `target`: from its lower end up, each
    step takes a part that holds the least value not yet covered."""
    left = target
    for _ in range(len(parts) + 1):
        if left.empty:
            return True
        step = next((part for part in parts if _holds_least(part, left)), None)
        if step is None:
            return False
        if step.high is None:
            return True
        left = Interval.of(step.high, left.high, left.whole, not step.high_open, left.high_open)
    return left.empty


def _holds_least(part: Interval, left: Interval) -> bool:
    """Whether `part` holds the least values of `left`: it starts at or before them and
    reaches past where they start."""
    if left.low is None:
        return part.low is None
    starts = part.low is None or part.low < left.low or (part.low == left.low and (not part.low_open or left.low_open))
    reaches = part.high is None or part.high > left.low or (
        part.high == left.low and not part.high_open and not left.low_open)
    return starts and reaches


# --- arithmetic on intervals ------------------------------------------------------------------


def _plus(a: Interval, b: Interval) -> Interval:
    low = a.low + b.low if a.low is not None and b.low is not None else None
    high = a.high + b.high if a.high is not None and b.high is not None else None
    return Interval.of(low, high, a.whole and b.whole, a.low_open or b.low_open, a.high_open or b.high_open)


def _negated(a: Interval) -> Interval:
    return Interval.of(-a.high if a.high is not None else None, -a.low if a.low is not None else None, a.whole,
                       a.high_open, a.low_open)


def _scaled(a: Interval, factor: Fraction, whole: bool) -> Interval:
    if factor == 0:
        return Interval.point(0, whole)
    low = a.low * factor if a.low is not None else None
    high = a.high * factor if a.high is not None else None
    scaled = Interval.of(low, high, whole, a.low_open, a.high_open)
    return scaled if factor > 0 else _negated(scaled)


def _times(a: Interval, b: Interval, whole: bool) -> Interval:
    if a.value is not None:
        return _scaled(b, a.value, whole)
    if b.value is not None:
        return _scaled(a, b.value, whole)
    if None in (a.low, a.high, b.low, b.high):
        return Interval(whole=whole)
    corners = [x * y for x in (a.low, a.high) for y in (b.low, b.high)]  # type: ignore[operator]
    return Interval.of(min(corners), max(corners), whole)


def _divided(a: Interval, divisor: Interval, whole_division: bool, whole: bool) -> Interval:
    """`a / divisor` or `a // divisor`, for a divisor fixed and above zero (else any value)."""
    c = divisor.value
    if c is None or c <= 0:
        return Interval(whole=whole)
    if not whole_division:
        return _scaled(a, 1 / c, whole)
    return Interval.of(Fraction(math.floor(a.low / c)) if a.low is not None else None,
                       Fraction(math.floor(a.high / c)) if a.high is not None else None, whole)


def _extreme(items: Sequence[Interval], pick: Any, whole: bool) -> Interval:
    """The range of min(...) (pick=min) or max(...) of values in these ranges (ends closed):
    the least of them is at least the least low end and at most the least high end."""
    lows = [i.low for i in items if i.low is not None]
    highs = [i.high for i in items if i.high is not None]
    if pick is min:
        low, high = min(lows) if len(lows) == len(items) else None, min(highs, default=None)
    else:
        low, high = max(lows, default=None), max(highs) if len(highs) == len(items) else None
    return Interval.of(low, high, whole)


def _sum_of(item: Interval, most: int | None, whole: bool) -> Interval:
    """The range of a sum of at most `most` items (None: any number), each in `item`: an
    empty list sums to 0, a full one of its items at an end to `most` times that end."""
    low = Fraction(0) if item.low is not None and item.low >= 0 else _times_count(item.low, most)
    high = Fraction(0) if item.high is not None and item.high <= 0 else _times_count(item.high, most)
    return Interval.of(low, high, whole)


def _times_count(bound: Bound, most: int | None) -> Bound:
    return bound * most if bound is not None and most is not None else None


# --- truth -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Truth:
    """What a condition can be."""

    can_be_true: bool = True
    can_be_false: bool = True

    def negated(self) -> Truth:
        return Truth(self.can_be_false, self.can_be_true)

    def either(self, other: Truth) -> Truth:
        return Truth(self.can_be_true or other.can_be_true, self.can_be_false or other.can_be_false)


EITHER = Truth()
ALWAYS = Truth(can_be_false=False)
NEVER = Truth(can_be_true=False)


def _exists_ordered(a: Interval, b: Interval, strict: bool) -> bool:
    """Whether some value of `a` is below (or, not strict, at most) some value of `b`."""
    if a.empty or b.empty:
        return False
    if a.low is None or b.high is None:
        return True
    return a.low < b.high or (not strict and a.low == b.high and not a.low_open and not b.high_open)


def compare(op: str, left: Interval, right: Interval) -> Truth:
    """What `left op right` can be, for values in these ranges."""
    if op in (">", ">="):
        return compare(_FLIPPED[op], right, left)
    if op in ("<", "<="):
        strict = op == "<"
        return Truth(_exists_ordered(left, right, strict), _exists_ordered(right, left, not strict))
    meets = not left.meet(right).empty
    same_point = left.value is not None and left.value == right.value
    equal = Truth(meets, not same_point)
    return equal if op == "==" else equal.negated()


def _allowed(op: str, value: Fraction, whole: bool) -> Interval | None:
    """The values x for which `x op value` holds (None for `!=`: not one interval)."""
    return {">=": Interval.of(value, None, whole), ">": Interval.of(value, None, whole, low_open=True),
            "<=": Interval.of(None, value, whole), "<": Interval.of(None, value, whole, high_open=True),
            "==": Interval.of(value, value, whole)}.get(op)


# --- the facts schema ---------------------------------------------------------------------------


def _resolved(schema: Mapping, node: Mapping | None) -> Mapping | None:
    """A schema node with its local `$ref`s followed."""
    while node is not None and "$ref" in node:
        target: Any = schema
        for part in str(node["$ref"]).removeprefix("#/").split("/"):
            target = target.get(part) if isinstance(target, Mapping) else None
        node = {**(target or {}), **{k: v for k, v in node.items() if k != "$ref"}}
    return node


def _bounds(node: Mapping | None, whole: bool) -> Interval:
    """The range a number with this schema has: its minimum and maximum, when given (with
    both an exclusive and an inclusive bound on one side, either one alone holds every value)."""
    if node is None:
        return Interval(whole=whole)
    low, low_open = (node["exclusiveMinimum"], True) if "exclusiveMinimum" in node else (node.get("minimum"), False)
    high, high_open = (node["exclusiveMaximum"], True) if "exclusiveMaximum" in node else (node.get("maximum"), False)
    return Interval.of(Fraction(low) if low is not None else None, Fraction(high) if high is not None else None, whole,
                       low_open, high_open)


# --- one pack, with its parameters fixed -------------------------------------------------------


class Ranges:
    """The ranges of a pack's values with its parameters fixed: `params` for the expression
    read, `definition_params` for the definitions (each definition read once, on first use)."""

    def __init__(self, pack: CompiledPack, params: Mapping[str, Any], definition_params: Mapping[str, Any]) -> None:
        self.pack = pack
        self.params = params
        self.definition_params = definition_params
        self.schema: Mapping = pack.facts_schema or facts_schema()
        self._definitions = dict(pack.definitions)
        self._known: dict[tuple[str, str], Any] = {}

    def truth(self, expression: CompiledExpression, node: n.Node | None = None, scopes: tuple[n.Where, ...] = ()) -> Truth:
        """What a condition (the expression, or a node of it inside the filters `scopes`) can be."""
        return self.reading(expression, scopes).truth(expression.checked.root if node is None else node)

    def interval(self, expression: CompiledExpression, node: n.Node | None = None) -> Interval:
        return self.reading(expression, ()).interval(expression.checked.root if node is None else node)

    def why(self, expression: CompiledExpression, node: n.Node, scopes: tuple[n.Where, ...] = ()) -> str | None:
        """Why a condition is what it is, in words, when it says so itself (a comparison, an
        `and` or an `or` of comparisons); else None."""
        return self.reading(expression, scopes).why(node)

    def implies(self, premise: CompiledExpression, conclusion: CompiledExpression) -> bool:
        """Whether `conclusion` holds whenever `premise` does (certain when True): each of
        its conjuncts is a conjunct of the premise, never false, or a comparison of a term
        the premise's comparisons keep inside it."""
        given = n.conjuncts(premise.checked.root)
        bounds = self.reading(premise, ()).bounds(given)
        asked = self.reading(conclusion, ())
        for part in n.conjuncts(conclusion.checked.root):
            if part in given or not asked.truth(part).can_be_false:
                continue
            constraint = asked.constraint(part)
            if constraint is None or constraint[0] not in bounds or not bounds[constraint[0]].within(constraint[1]):
                return False
        return True

    def reading(self, expression: CompiledExpression, scopes: tuple[n.Where, ...]) -> _Reading:
        return _Reading(self, expression, scopes, self.params)

    def definition(self, name: str, what: str) -> Any:
        """What a definition's value is (`what`: "interval", "truth" or "schema"), read once."""
        key = (name, what)
        if key not in self._known:
            expression = self._definitions[name]
            reading = _Reading(self, expression, (), self.definition_params)
            read = {"interval": reading.interval, "truth": reading.truth, "schema": reading.schema_of}[what]
            self._known[key] = read(expression.checked.root)
        return self._known[key]


class _Reading:
    """One expression read in the scope of the filters around a node, with its parameters."""

    def __init__(self, ranges: Ranges, expression: CompiledExpression, scopes: tuple[n.Where, ...],
                 params: Mapping[str, Any]) -> None:
        self.ranges, self.expression, self.scopes, self.params = ranges, expression, scopes, params

    def _type(self, node: n.Node) -> Type | None:
        found = self.expression.checked.types.get(id(node))
        return unwrap(found) if found is not None else None

    # --- values ---------------------------------------------------------------------------

    def interval(self, node: n.Node) -> Interval:
        kind = self._type(node)
        if kind not in NUMERIC:
            return Interval()
        found = self._interval(node)
        return found.as_whole() if kind in WHOLE else found

    def _interval(self, node: n.Node) -> Interval:
        whole = self._type(node) in WHOLE
        if isinstance(node, n.Literal):
            return Interval.point(node.value, whole) if node.kind in ("int", "decimal", "money", "duration") else Interval()
        if isinstance(node, n.Name | n.Field):
            return self._named(node)
        if isinstance(node, n.Unary):
            return _negated(self.interval(node.operand))
        if isinstance(node, n.Binary):
            return self._arithmetic(node, whole)
        if isinstance(node, n.Call):
            return self._call(node, whole)
        if isinstance(node, n.Conditional):
            return self._branches(node, self.interval, Interval.hull)
        if isinstance(node, n.Coalesce):
            return self.interval(node.left).hull(self.interval(node.right))
        return Interval(whole=whole)

    def _named(self, node: n.Name | n.Field) -> Interval:
        ref = self.expression.checked.resolution(node)
        whole = self._type(node) in WHOLE
        if isinstance(ref, NamespaceMember) and ref.namespace == "params":
            value = self.params.get(ref.name)
            return Interval.point(value, whole) if isinstance(value, int | Decimal) else Interval(whole=whole)
        if isinstance(ref, NamespaceMember):
            option = self.ranges.pack.options.get(ref.name)
            if option is None or option.type != "int":
                return Interval()
            return Interval.of(_fraction(option.minimum), _fraction(option.maximum), True)
        if isinstance(ref, DefinitionRef):
            return self.ranges.definition(ref.name, "interval")
        return _bounds(self.schema_of(node), whole)

    def _arithmetic(self, node: n.Binary, whole: bool) -> Interval:
        left, right = self.interval(node.left), self.interval(node.right)
        if node.op == "+":
            return _plus(left, right)
        if node.op == "-":
            return _plus(left, _negated(right))
        if node.op == "*":
            return _times(left, right, whole)
        if node.op in ("/", "//"):
            return _divided(left, right, node.op == "//", whole)
        return Interval(whole=whole)

    def _call(self, node: n.Call, whole: bool) -> Interval:
        args = node.args
        if node.function == "count":
            return Interval.of(Fraction(0), _fraction(self.most_items(args[0])), True)
        if node.function == "sum":
            return _sum_of(self.item_interval(args[0]), self.most_items(args[0]), whole)
        if node.function in ("min", "max"):
            pick = min if node.function == "min" else max
            items = [self.item_interval(args[0])] if len(args) == 1 else [self.interval(arg) for arg in args]
            return _extreme(items, pick, whole)
        if node.function == "seconds":
            return self.interval(args[0])
        if node.function == "minutes":
            return _divided(self.interval(args[0]), Interval.point(60), True, True)
        return Interval(whole=whole)

    def item_interval(self, listed: n.Node) -> Interval:
        """The range of each item of a list."""
        kind = self._type(listed)
        whole = isinstance(kind, ListOf) and unwrap(kind.item) in WHOLE
        if isinstance(listed, n.ListLiteral):
            items = [self.interval(item) for item in listed.items]
            hull = items[0]
            for item in items[1:]:
                hull = hull.hull(item)
            return hull
        return _bounds(_resolved(self.ranges.schema, (self.schema_of(listed) or {}).get("items")), whole)

    def most_items(self, listed: n.Node) -> int | None:
        """The most items a list can hold (its schema's maxItems), or None."""
        schema = self.schema_of(listed)
        return schema.get("maxItems") if schema is not None else None

    # --- where values come from in the facts schema -------------------------------------------

    def schema_of(self, node: n.Node) -> Mapping | None:
        """The facts-schema node describing a value read from the facts, else None."""
        schema = self.ranges.schema
        ref = self.expression.checked.resolution(node)
        if isinstance(ref, FactRef):
            return _resolved(schema, schema.get("properties", {}).get(ref.name))
        if isinstance(ref, DefinitionRef):
            return self.ranges.definition(ref.name, "schema")
        if isinstance(ref, ItemRef):
            item = self._item_schema(ref.depth)
            return item if ref.field is None else _property(schema, item, ref.field)
        if isinstance(ref, RecordField) and isinstance(node, n.Field):
            return self._field_schema(node, ref)
        if isinstance(node, n.Where) or (isinstance(node, n.Call) and node.function == "distinct"):
            return self.schema_of(node.items if isinstance(node, n.Where) else node.args[0])
        return None

    def _field_schema(self, node: n.Field, ref: RecordField) -> Mapping | None:
        schema = self.ranges.schema
        base = self.schema_of(node.base)
        if not ref.projection:
            return _property(schema, base, node.name)
        if base is None:
            return None
        item = _property(schema, _resolved(schema, base.get("items")), node.name)
        return {"type": "array", "items": item or {}, **({"maxItems": base["maxItems"]} if "maxItems" in base else {})}

    def _item_schema(self, depth: int) -> Mapping | None:
        """The schema of the items the filter `depth` levels in (0: outermost) goes through."""
        if depth >= len(self.scopes):
            return None
        outer = _Reading(self.ranges, self.expression, self.scopes[:depth], self.params)
        listed = outer.schema_of(self.scopes[depth].items)
        return _resolved(self.ranges.schema, listed.get("items")) if listed is not None else None

    # --- conditions ---------------------------------------------------------------------------

    def truth(self, node: n.Node) -> Truth:
        if self._type(node) != BOOL:
            return EITHER
        return self._truth(node)

    def _truth(self, node: n.Node) -> Truth:
        if isinstance(node, n.Literal):
            return ALWAYS if node.value is True else NEVER
        if isinstance(node, n.Name | n.Field):
            return self._named_truth(node)
        if isinstance(node, n.Unary):
            return self.truth(node.operand).negated()
        if isinstance(node, n.Logical):
            return self._all(node) if node.op == "and" else self._any(node)
        if isinstance(node, n.Binary) and node.op in _FLIPPED and self._ordered(node):
            return compare(node.op, self.interval(node.left), self.interval(node.right))
        if isinstance(node, n.Coalesce):
            return self.truth(node.left).either(self.truth(node.right))
        if isinstance(node, n.Conditional):
            return self._branches(node, self.truth, Truth.either)
        return EITHER

    def _named_truth(self, node: n.Name | n.Field) -> Truth:
        ref = self.expression.checked.resolution(node)
        if isinstance(ref, NamespaceMember) and ref.namespace == "params" and isinstance(self.params.get(ref.name), bool):
            return ALWAYS if self.params[ref.name] else NEVER
        if isinstance(ref, DefinitionRef):
            return self.ranges.definition(ref.name, "truth")
        return EITHER

    def _branches(self, node: n.Conditional, value: Any, join: Any) -> Any:
        """`if`: the branch a fixed condition takes, else both joined."""
        condition = self.truth(node.condition)
        if not condition.can_be_false:
            return value(node.then)
        if not condition.can_be_true:
            return value(node.otherwise)
        return join(value(node.then), value(node.otherwise))

    def _ordered(self, node: n.Binary) -> bool:
        """Whether a comparison is of two numbers, neither of them possibly missing."""
        types = [self.expression.checked.types.get(id(side)) for side in (node.left, node.right)]
        return all(t is not None and not isinstance(t, Optional) and t in NUMERIC for t in types)

    def _all(self, node: n.Logical) -> Truth:
        parts = n.conjuncts(node)
        truths = [self.truth(part) for part in parts]
        contradictory = any(bound.empty for bound in self.bounds(parts).values())
        return Truth(all(t.can_be_true for t in truths) and not contradictory, any(t.can_be_false for t in truths))

    def _any(self, node: n.Logical) -> Truth:
        parts = _disjuncts(node)
        truths = [self.truth(part) for part in parts]
        return Truth(any(t.can_be_true for t in truths), all(t.can_be_false for t in truths) and self._covered(parts) is None)

    def constraint(self, node: n.Node) -> tuple[n.Node, Interval] | None:
        """(term, the values of the term that make it true) for a comparison of a term with a
        value fixed here (`x >= 20 min`, `params.a < x`), else None."""
        if not (isinstance(node, n.Binary) and node.op in _FLIPPED and self._ordered(node)):
            return None
        left, right = self.interval(node.left), self.interval(node.right)
        if right.value is not None and left.value is None:
            term, op, value, whole = node.left, node.op, right.value, left.whole
        elif left.value is not None and right.value is None:
            term, op, value, whole = node.right, _FLIPPED[node.op], left.value, right.whole
        else:
            return None
        allowed = _allowed(op, value, whole)
        return (term, allowed) if allowed is not None else None

    def bounds(self, conjuncts: Iterable[n.Node]) -> dict[n.Node, Interval]:
        """Each term the conjuncts compare with a fixed value, and the range they leave it."""
        found: dict[n.Node, Interval] = {}
        for part in conjuncts:
            constraint = self.constraint(part)
            if constraint is not None:
                term, allowed = constraint
                found[term] = found.get(term, self.interval(term)).meet(allowed)
        return found

    def _covered(self, disjuncts: Iterable[n.Node]) -> n.Node | None:
        """A term whose whole range the disjuncts' comparisons with fixed values cover, or None."""
        allowed: dict[n.Node, list[Interval]] = defaultdict(list)
        for part in disjuncts:
            constraint = self.constraint(part)
            if constraint is not None:
                allowed[constraint[0]].append(constraint[1])
        return next((term for term, parts in allowed.items() if covers(parts, self.interval(term))), None)

    def why(self, node: n.Node) -> str | None:
        if isinstance(node, n.Binary) and node.op in _FLIPPED and self._ordered(node):
            sides = [f"{side.span.text if side.span else '?'} is {self.describe(side)}"
                     for side in (node.left, node.right) if not isinstance(side, n.Literal)]
            return " and ".join(sides)
        if isinstance(node, n.Logical) and node.op == "and":
            term = next((t for t, bound in self.bounds(n.conjuncts(node)).items() if bound.empty), None)
            return None if term is None else f"no value of {_text(term)} ({self.describe(term)}) meets all its comparisons"
        if isinstance(node, n.Logical):
            term = self._covered(_disjuncts(node))
            return None if term is None else f"every value of {_text(term)} ({self.describe(term)}) meets one of its comparisons"
        return None

    def describe(self, node: n.Node) -> str:
        """A node's range in words, in its unit."""
        return describe(self.interval(node), self._type(node))


def _property(schema: Mapping, node: Mapping | None, name: str) -> Mapping | None:
    node = _resolved(schema, node)
    return _resolved(schema, node.get("properties", {}).get(name)) if node is not None else None


def _disjuncts(node: n.Node) -> tuple[n.Node, ...]:
    """The conditions an `or` joins, nested `or`s flattened."""
    if isinstance(node, n.Logical) and node.op == "or":
        return tuple(d for operand in node.operands for d in _disjuncts(operand))
    return (node,)


def _fraction(value: int | None) -> Bound:
    return Fraction(value) if value is not None else None


def _text(node: n.Node | None) -> str:
    return node.span.text if node is not None and node.span is not None else "?"


def shown(value: Fraction, kind: Type | None) -> str:
    """A number in its unit: '20 min', '$33.4009', '16', '1.55'."""
    if kind == DURATION and value.denominator == 1:
        return format_seconds(int(value))
    number = str(value.numerator) if value.denominator == 1 else str(Decimal(value.numerator) / Decimal(value.denominator))
    return f"${number}" if kind == MONEY else number


def describe(interval: Interval, kind: Type | None) -> str:
    """A range in words: '16', 'from 0 to 31', 'at least 0 s', 'any value'."""
    low, high = interval.low, interval.high
    if interval.empty:
        return "no value"
    if interval.value is not None:
        return shown(interval.value, kind)
    if low is not None and high is not None:
        return f"from {shown(low, kind)}{' (not included)' if interval.low_open else ''} to {shown(high, kind)}" \
               f"{' (not included)' if interval.high_open else ''}"
    if low is not None:
        return f"{'more than' if interval.low_open else 'at least'} {shown(low, kind)}"
    if high is not None:
        return f"{'less than' if interval.high_open else 'at most'} {shown(high, kind)}"
    return "any value"

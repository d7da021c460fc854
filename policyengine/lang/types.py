"""The language's types and the environment expressions are checked against.

Values at run time are plain Python: bool, int (counts, and durations in whole seconds),
Decimal (decimals and money), str (strings, and dates as ISO `YYYY-MM-DD`, which order
correctly as text), lists and dicts (records). A missing optional value is None.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Type:
    """Base of all types; `str(t)` is the name used in messages."""


@dataclass(frozen=True, slots=True)
class Scalar(Type):
    name: str

    def __str__(self) -> str:
        return self.name


BOOL = Scalar("bool")
INT = Scalar("int")
DECIMAL = Scalar("decimal")
MONEY = Scalar("money")
DURATION = Scalar("duration")
DATE = Scalar("date")
STRING = Scalar("string")

NUMBERS = (INT, DECIMAL)
ORDERED = (INT, DECIMAL, MONEY, DURATION, DATE)
SUMMABLE = (INT, DECIMAL, MONEY, DURATION)


@dataclass(frozen=True, slots=True)
class ListOf(Type):
    item: Type

    def __str__(self) -> str:
        return f"list of {self.item}"


@dataclass(frozen=True, slots=True)
class Optional(Type):
    """A value that may be missing (an optional fact with no default)."""

    inner: Type

    def __str__(self) -> str:
        return f"optional {self.inner}"


@dataclass(frozen=True, slots=True)
class FieldSpec:
    type: Type
    required: bool = False
    #: the value an absent field stands for; None = no default (the field is optional)
    default: Any = None

    @property
    def may_be_missing(self) -> bool:
        return not self.required and self.default is None


@dataclass(frozen=True, slots=True)
class Record(Type):
    """A mapping with known fields, e.g. one interaction."""

    name: str
    fields: tuple[tuple[str, FieldSpec], ...] = field(compare=False)

    def __str__(self) -> str:
        return self.name

    def spec(self, name: str) -> FieldSpec | None:
        for key, spec in self.fields:
            if key == name:
                return spec
        return None

    @property
    def field_names(self) -> list[str]:
        return [key for key, _ in self.fields]


def record(name: str, fields: Mapping[str, FieldSpec]) -> Record:
    return Record(name, tuple(fields.items()))


def unwrap(t: Type) -> Type:
    return t.inner if isinstance(t, Optional) else t


def unify(a: Type, b: Type) -> Type | None:
    """The common type of two values (int widens to decimal), or None."""
    if a == b:
        return a
    if isinstance(a, Optional) or isinstance(b, Optional):
        common = unify(unwrap(a), unwrap(b))
        return Optional(common) if common is not None else None
    if {a, b} == {INT, DECIMAL}:
        return DECIMAL
    if isinstance(a, ListOf) and isinstance(b, ListOf):
        common = unify(a.item, b.item)
        return ListOf(common) if common is not None else None
    return None


@dataclass(frozen=True)
class Environment:
    """What an expression may name.

    - `facts`: the patient-month record; its fields are plain names (`consent`,
      `interactions`).
    - `definitions`: named values computed before the expression runs (plain names).
    - `namespaces`: groups reached with a dot (`params.addon_block`, `options.x`).

    A compiled expression is called as `fn(facts, definitions, *namespaces)`, the
    namespaces' dicts in the order declared here.
    """

    facts: Record
    definitions: Mapping[str, Type] = field(default_factory=dict)
    namespaces: Mapping[str, Record] = field(default_factory=dict)

    @property
    def namespace_order(self) -> tuple[str, ...]:
        return tuple(self.namespaces)

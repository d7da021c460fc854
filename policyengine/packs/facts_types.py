"""What a pack's expressions may name in the facts: their types, read from the facts JSON Schema.

The schema is the single source of truth for what a fact is called and what type it has:
`x-unit: seconds` makes an integer a duration, a `date` reference makes a string a date,
and `default` gives an absent field its value (so `during_em_visit` is false unless said).
"""
from __future__ import annotations

import functools
from typing import Any

from ..facts import facts_schema
from ..lang import BOOL, DATE, DURATION, INT, STRING, FieldSpec, ListOf, Record, Type, record
from ..lang.types import DECIMAL

#: What an absent list or flag means, per the contract (section 1, last column).
_ABSENT = {"array": [], "boolean": False}


def _singular(name: str) -> str:
    """'activities' -> 'activity', 'interactions' -> 'interaction' (record names in messages)."""
    return name[:-3] + "y" if name.endswith("ies") else name.removesuffix("s")


def _resolve(schema: dict, node: dict) -> dict:
    while "$ref" in node:
        ref = node["$ref"]
        target = schema
        for part in ref.removeprefix("#/").split("/"):
            target = target[part]
        node = {**target, **{k: v for k, v in node.items() if k != "$ref"}}
    return node


def _type_of(schema: dict, node: dict, name: str) -> Type:
    raw = node
    node = _resolve(schema, node)
    if node.get("x-unit") == "seconds":
        return DURATION
    if "$ref" in raw and raw["$ref"].endswith("/date") or node.get("format") == "date":
        return DATE
    kind = node.get("type")
    if isinstance(kind, list):
        kind = next(k for k in kind if k != "null")
    if kind == "object":
        return _record(schema, node, name)
    if kind == "array":
        return ListOf(_type_of(schema, node.get("items", {}), _singular(name)))
    if kind == "boolean":
        return BOOL
    if kind == "integer":
        return INT
    if kind == "number":
        return DECIMAL
    return STRING


def _record(schema: dict, node: dict, name: str) -> Record:
    node = _resolve(schema, node)
    required = set(node.get("required", ()))
    fields = {}
    for key, prop in node.get("properties", {}).items():
        t = _type_of(schema, prop, key)
        resolved = _resolve(schema, prop)
        default: Any = resolved.get("default")
        if default is None and key not in required:
            kind = resolved.get("type")
            default = _ABSENT.get(kind) if isinstance(kind, str) and kind in ("array",) else None
        fields[key] = FieldSpec(t, required=key in required, default=default)
    return record(name, fields)


def record_from_schema(schema: dict) -> Record:
    """The record type of the documents a JSON Schema describes."""
    return _record(schema, schema, "facts")


@functools.cache
def facts_record() -> Record:
    """The patient-month record type of the contract, built once from its facts schema."""
    return record_from_schema(facts_schema())

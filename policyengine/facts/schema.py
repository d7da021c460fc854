"""Facts against their JSON Schema (the contract's `schemas/facts.schema.json`, or a pack's
own): every error as a diagnostic at its JSON pointer, unknown keys as warnings.

It runs on every record of a batch, so validators are compiled once, on first use, and a
valid record takes the fast path: when `jsonschema_rs` is installed it says valid or not
(with the walk of `verdict.py`, which also holds whole numbers to `int`: it takes 600.0
for an integer), and only a record they reject goes through the reference validator,
whose errors become diagnostics. The schema is the single source of truth for both.
"""
from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from typing import Any

from .. import schemacheck
from ..diagnostics import Diagnostic

try:
    import jsonschema_rs
except ImportError:  # optional: the reference validator alone gives the same answers
    jsonschema_rs = None  # type: ignore[assignment]


@functools.cache
def facts_schema() -> dict:
    """The facts schema, parsed once (shared: do not mutate it)."""
    return schemacheck.bundled_schema("facts.schema.json")


class _Validators:
    """The validators of one facts schema, built once: the fast one says valid or not, the
    reference one explains a record the verdict (the fast one and a walk) says no to."""

    def __init__(self, schema: dict) -> None:
        self.schema = schema
        #: says valid or not; the verdict (`verdict.py`) runs it before its walk
        self.fast = jsonschema_rs.validator_for(schema) if jsonschema_rs is not None else None
        #: the one-walk checks of this schema (`verdict.verdict`), by whether the calendar is checked
        self.verdicts: dict[bool, Callable[[Any], bool]] = {}

    @functools.cached_property
    def reference(self) -> Any:
        """The explaining validator (`reference.py`), built for the first record it explains."""
        from .reference import ReferenceValidator
        return ReferenceValidator(self.schema)

    def diagnostics(self, data: Any) -> list[Diagnostic]:
        """Errors and warnings (unknown keys) against the schema, by the reference validator."""
        return schemacheck.check(data, self.reference, kind="facts", severity_of=_severity)


#: validators by id() of their schema; each entry keeps its schema, so the id stays its own
_VALIDATORS: dict[int, _Validators] = {}


def validators(schema: dict) -> _Validators:
    """The validators of a facts schema, built on first use."""
    found = _VALIDATORS.get(id(schema))
    if found is None or found.schema is not schema:
        found = _VALIDATORS[id(schema)] = _Validators(schema)
    return found


def _severity(code: str) -> str:
    return "warning" if code == "facts.unknown_field" else "error"


def paths_where(schema: dict, node: dict, wanted: Callable[[dict], bool],
                 path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    """The path of every schema node `wanted` accepts; "*" stands for each item of a list."""
    if wanted(node):
        yield path
        return
    if "$ref" in node:
        node = schema["$defs"][node["$ref"].removeprefix("#/$defs/")]
        if wanted(node):
            yield path
            return
    for key, child in node.get("properties", {}).items():
        yield from paths_where(schema, child, wanted, path + (key,))
    if "items" in node:
        yield from paths_where(schema, node["items"], wanted, path + ("*",))


@functools.cache
def schema_date_paths() -> tuple[tuple[str, ...], ...]:
    return tuple(paths_where(facts_schema(), facts_schema(), lambda node: node.get("$ref") == "#/$defs/date"))

"""JSON Schema validation that speaks in diagnostics.

`check` runs a Draft 2020-12 validator over a document and turns every error into a
`Diagnostic` with a stable code and a message a compliance analyst can act on. Where the
document came from a file, a `locate` callback turns the error's JSON pointer into a source
span (of the key, for an unknown or misspelt field); otherwise the pointer itself is the
location. The schemas in `schemas/` stay the single source of truth.
"""
from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import replace
from decimal import Decimal
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .diagnostics import Diagnostic, Span, did_you_mean, suggestion_suffix
from .limits import MAX_DIAGNOSTICS
from .pointers import pointer

if TYPE_CHECKING:  # the validators come from the caller: importing jsonschema costs 50 ms of every start
    import jsonschema

#: (JSON pointer, want the key rather than the value) -> span, or None when unknown.
Locate = Callable[[str, bool], "Span | None"]

_TYPE_NAMES = {
    "object": "a mapping",
    "array": "a list",
    "string": "a string",
    "integer": "a whole number",
    "number": "a number",
    "boolean": "true or false",
    "null": "null",
}


def bundled_schema_path(name: str) -> Path:
    """Where a schema of `schemas/` is installed with the package (`facts.schema.json`, ...)."""
    return Path(str(files("policyengine.bundled.schemas") / name))


def bundled_schema(name: str) -> dict:
    """A schema of `schemas/` as installed with the package, parsed (a new copy each call)."""
    parsed: dict = json.loads(bundled_schema_path(name).read_text(encoding="utf-8"))
    return parsed


def describe(value: Any) -> str:
    """A short, typed description of a found value, for messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f"the string {value!r}" if len(value) <= 40 else "a string"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return f"the number {value}"


def _expected_type(expected: Any) -> str:
    names = [expected] if isinstance(expected, str) else list(expected)
    return " or ".join(_TYPE_NAMES.get(n, n) for n in names)


def first_repeat(items: list) -> tuple[int, int] | None:
    """(earlier, later): the indexes of the first item equal to an earlier one, as JSON
    Schema's uniqueItems compares (1 and 1.0 are equal, true and 1 are not), in one pass: a
    list of 70,000 dates took minutes compared pair by pair."""
    first_index: dict[Any, int] = {}
    for index, item in enumerate(items):
        earlier = first_index.setdefault(_equality_key(item), index)
        if earlier != index:
            return earlier, index
    return None


def _equality_key(value: Any) -> Any:
    """A hashable key equal for JSON values that are equal."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return type(value), value
    if isinstance(value, (int, float, Decimal)):
        return "number", value  # 1, 1.0 and Decimal("1") hash and compare alike
    if isinstance(value, dict):
        return "object", frozenset((key, _equality_key(item)) for key, item in value.items())
    if isinstance(value, (list, tuple)):
        return "array", tuple(_equality_key(item) for item in value)
    return "other", id(value)


def _repeated_item(items: list, where: str) -> str | None:
    """Which item of a list repeats an earlier one, by pointer (not the whole list)."""
    repeat = first_repeat(items)
    if repeat is None:
        return None
    earlier, later = repeat
    return f"{describe(items[later])} is listed twice: {where}/{earlier} and {where}/{later}"


#: what one validation error says: (pointer, at the key rather than the value, code, message, hint)
Said = tuple[str, bool, str, str, "str | None"]


def _schema(error: jsonschema.ValidationError) -> Mapping[str, Any]:
    """The schema (the part of it) that an error is about."""
    return error.schema if isinstance(error.schema, Mapping) else {}


def _value(error: jsonschema.ValidationError) -> Any:
    """The keyword's value in the schema (a list for `required` and `enum`, a number for `maximum`)."""
    return error.validator_value


def _unknown_fields(error: jsonschema.ValidationError, kind: str, path: list) -> Iterator[Said]:
    known = list(_schema(error).get("properties", {}))
    given: dict = error.instance if isinstance(error.instance, dict) else {}
    for key in sorted(k for k in given if k not in known):
        yield (pointer(path + [key]), True, f"{kind}.unknown_field", f"unknown field '{key}'{suggestion_suffix(key, known)}",
               None)


def _missing_fields(error: jsonschema.ValidationError, kind: str, path: list) -> Iterator[Said]:
    inst = error.instance
    for key in (k for k in _value(error) if isinstance(inst, dict) and k not in inst):
        yield (pointer(path), False, f"{kind}.missing_field", f"missing required field '{key}'", None)


def _not_allowed(error: jsonschema.ValidationError, kind: str, path: list) -> Iterator[Said]:
    inst, value = error.instance, _value(error)
    allowed = list(value) if error.validator == "enum" else [value]
    close = did_you_mean(str(inst), [str(a) for a in allowed]) if isinstance(inst, str) else None
    shown = ", ".join(repr(a) for a in allowed)
    yield (pointer(path), False, f"{kind}.not_allowed", f"{describe(inst)} is not allowed here; expected one of {shown}",
           f"did you mean {close!r}?" if close else None)


_RELATIONS = {"minimum": "at least", "exclusiveMinimum": "more than", "maximum": "at most", "exclusiveMaximum": "less than",
              "minItems": "at least", "maxItems": "at most"}


def _one_message(error: jsonschema.ValidationError, kind: str, path: list) -> Iterator[Said]:
    """The errors said in one line each: wrong type, out of range, bad form or size."""
    v, value, inst, where = error.validator, _value(error), error.instance, pointer(path)
    if v == "type":
        yield (where, False, f"{kind}.wrong_type", f"expected {_expected_type(value)}, found {describe(inst)}", None)
    elif v in ("minimum", "exclusiveMinimum", "maximum", "exclusiveMaximum"):
        yield (where, False, f"{kind}.out_of_range", f"{describe(inst)} is out of range: must be {_RELATIONS[v]} {value}",
               None)
    elif v == "pattern":
        example = _schema(error).get("examples", [None])[0]
        yield (where, False, f"{kind}.bad_format", f"{describe(inst)} does not have the expected form",
               f"for example {example!r}" if example is not None else None)
    elif v == "format":
        yield (where, False, f"{kind}.bad_format", f"{describe(inst)} is not a valid {value}", None)
    elif v == "uniqueItems" and isinstance(inst, list):
        yield (where, False, f"{kind}.bad_size", _repeated_item(inst, where) or error.message, None)
    elif v in ("minItems", "maxItems") and isinstance(inst, list):
        yield (where, False, f"{kind}.bad_size",
               f"{describe(inst)} of {len(inst):,} items: {_RELATIONS[v]} {value} are allowed", None)
    elif v in ("minLength", "maxLength", "uniqueItems", "minProperties"):
        yield (where, False, f"{kind}.bad_size", error.message, None)
    else:
        yield (where, False, f"{kind}.invalid", error.message, None)


def _best_branch(error: jsonschema.ValidationError, kind: str, path: list) -> Iterator[Said]:
    """Of `oneOf`/`anyOf`, the sub-error that went deepest: it names the field actually wrong."""
    from jsonschema.exceptions import best_match  # loaded already: the caller's validator raised the error
    best = best_match(error.context or []) if error.context else None
    if best is not None:
        yield from _diagnose(best, kind)
    else:
        yield (pointer(path), False, f"{kind}.invalid", error.message, None)


_SAYERS: dict[str, Callable[[jsonschema.ValidationError, str, list], Iterator[Said]]] = {
    "required": _missing_fields, "enum": _not_allowed, "const": _not_allowed, "oneOf": _best_branch,
    "anyOf": _best_branch,
}


def _diagnose(error: jsonschema.ValidationError, kind: str) -> Iterator[Said]:
    """(pointer, at_key, code, message, hint) for one validation error."""
    path = list(error.absolute_path)
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        return _unknown_fields(error, kind, path)
    return _SAYERS.get(str(error.validator), _one_message)(error, kind, path)


def check(
    document: Any,
    validator: jsonschema.protocols.Validator,
    *,
    kind: str,
    locate: Locate | None = None,
    severity_of: Callable[[str], str] | None = None,
) -> list[Diagnostic]:
    """Every schema violation of `document`, as diagnostics coded `<kind>.<problem>`: the
    first MAX_DIAGNOSTICS errors and as many warnings (the validator stops there, and the
    last one reported says there may be more).

    `severity_of(code)` may lower some codes to warnings (facts: unknown fields).
    """
    diagnostics: list[Diagnostic] = []
    counts = {"error": 0, "warning": 0}
    seen = set()
    for error in validator.iter_errors(document):
        for where, at_key, code, message, hint in _diagnose(error, kind):
            severity = severity_of(code) if severity_of else "error"
            if counts[severity] == MAX_DIAGNOSTICS:
                break  # (and no more "did you mean" worked out for it)
            if (where, code, message) in seen:
                continue
            seen.add((where, code, message))
            span = locate(where, at_key) if locate else None
            diagnostics.append(Diagnostic(code=code, message=message, span=span, hint=hint,
                                          where=None if span else (where or "/"), severity=severity))
            counts[severity] += 1
        if counts["error"] == MAX_DIAGNOSTICS:
            break
    diagnostics.sort(key=Diagnostic.sort_key)
    return _more_may_follow(diagnostics) if MAX_DIAGNOSTICS in counts.values() else diagnostics


def capped(diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    """The first MAX_DIAGNOSTICS of some diagnostics by location; when some are left out,
    the last says so."""
    if len(diagnostics) <= MAX_DIAGNOSTICS:
        return diagnostics
    return _more_may_follow(sorted(diagnostics, key=Diagnostic.sort_key)[:MAX_DIAGNOSTICS])


def _more_may_follow(diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    diagnostics[-1] = replace(diagnostics[-1], notes=(
        f"note: the first {MAX_DIAGNOSTICS} problems are reported; there may be more",))
    return diagnostics

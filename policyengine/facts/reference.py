"""The reference validator of a facts schema: the one that explains what is wrong, error by
error (`schemacheck.py` turns its errors into diagnostics). It runs only on a record the
verdict said no to (`schema.py`), so `jsonschema` is imported by the first such record,
not by every command that decides.
"""
from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from typing import Any

import jsonschema

from .. import schemacheck


@functools.cache
def _ecma_regex(pattern: str) -> re.Pattern[str]:
    """An ECMA-262 pattern compiled for Python: each `$` outside a class becomes `\\Z`.

    In Python `$` also matches before a final newline, so "rpm\\n" would pass "^[a-z]+$";
    JSON Schema patterns are ECMA-262, where `$` is the end of the string.
    """
    out, escaped, in_class = [], False, False
    for ch in pattern:
        if escaped:
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch == "[":
            in_class = True
        elif ch == "]":
            in_class = False
        elif ch == "$" and not in_class:
            ch = r"\Z"
        out.append(ch)
    return re.compile("".join(out))


def _ecma_pattern(validator: Any, pattern: str, instance: Any, schema: dict) -> Iterator[jsonschema.ValidationError]:
    if validator.is_type(instance, "string") and not _ecma_regex(pattern).search(instance):
        yield jsonschema.ValidationError(f"{instance!r} does not match {pattern!r}")


def _items(validator: Any, items: dict, instance: Any, schema: dict) -> Iterator[jsonschema.ValidationError]:
    """Each item of a list against its schema, unless the list is longer than its maxItems:
    then that is the error (its items are not explained one by one)."""
    if validator.is_type(instance, "array") and len(instance) > schema.get("maxItems", len(instance)):
        return
    yield from jsonschema.Draft202012Validator.VALIDATORS["items"](validator, items, instance, schema)


def _unique_items(validator: Any, unique: bool, instance: Any, schema: dict) -> Iterator[jsonschema.ValidationError]:
    """uniqueItems in one pass (jsonschema compares every pair when items do not sort, e.g.
    numbers and strings mixed: minutes for a list of 100,000)."""
    if unique and validator.is_type(instance, "array") and schemacheck.first_repeat(instance) is not None:
        yield jsonschema.ValidationError("has non-unique elements")


def _is_whole_number(checker: Any, instance: Any) -> bool:
    """Facts hold no fractions: 600.0 is not a duration in whole seconds (JSON Schema would
    accept it as an integer; the engine would then compute with a float)."""
    return isinstance(instance, int) and not isinstance(instance, bool)


#: Draft 2020-12 with ECMA-262 patterns, whole numbers as integers, and long lists and
#: repeats reported once
ReferenceValidator = jsonschema.validators.extend(
    jsonschema.Draft202012Validator, {"pattern": _ecma_pattern, "items": _items, "uniqueItems": _unique_items},
    type_checker=jsonschema.Draft202012Validator.TYPE_CHECKER.redefine("integer", _is_whole_number),
)

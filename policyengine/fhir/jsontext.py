"""FHIR JSON text read as orjson reads it, and what orjson does not say: a key named twice
in one object (orjson keeps the last, so a Bundle whose `resourceType` is given twice, as
"Bundle" and then "Patient", reads as a Patient and its entries vanish), and nesting deeper
than `MAX_FHIR_DEPTH` (which the readers after it would walk).

It runs on every NDJSON line of a bulk export, so the common case is cheap. Text without a
backslash writes every string as it is, so orjson writes the value it read with the same
strings, and colons are only in strings and after keys: the text names no key twice exactly
when it has as many colons as orjson's writing of the value. Only other text (an escape in
it) is read a second time, by Python's parser, which hands over every object's pairs. Depth
is measured only when orjson wrote more brackets than the limit, or could not write it (it
stops at 254 levels; then the colons are counted in the value).
"""
from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import orjson

from ..limits import MAX_FHIR_DEPTH
from ..pointers import pointer
from ..repeatedkeys import RepeatedKeys, marked_object
from .problems import Refused

#: where a value is in a document, as keys and indices: ("entry", 3, "resource")
Location = tuple[str | int, ...]


def read_json(raw: bytes) -> tuple[Any, list[Refused]]:
    """The JSON value of `raw`, and what refuses a part of it, each at its JSON pointer in
    the value: `fhir.duplicate_key` at an object that names a key twice, `fhir.too_deep` at a
    container nested deeper than MAX_FHIR_DEPTH. Raises orjson.JSONDecodeError for text that
    is not JSON."""
    value = orjson.loads(raw)
    try:
        written = orjson.dumps(value)
        colons, deep = written.count(b":"), written.count(b"[") + written.count(b"{") > MAX_FHIR_DEPTH
    except TypeError:  # deeper than orjson writes (254 levels): far beyond MAX_FHIR_DEPTH
        colons, deep = _colons(value), True
    refused = _too_deep(value) if deep else []
    if b"\\" in raw or raw.count(b":") != colons:
        refused += _repeated_keys(raw)
    return value, refused


def _colons(value: Any) -> int:
    """The colons orjson would write for `value`: one after each key, and those in strings."""
    count = 0
    stack = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, str):
            count += node.count(":")
        elif isinstance(node, dict):
            count += len(node) + sum(key.count(":") for key in node)
            stack += node.values()
        elif isinstance(node, list):
            stack += node
    return count


_MARKING = json.JSONDecoder(object_pairs_hook=marked_object)


def _repeated_keys(raw: bytes) -> list[Refused]:
    try:
        marked = _MARKING.decode(raw.decode("utf-8"))
    except RecursionError:  # nested far beyond MAX_FHIR_DEPTH: _too_deep has said where
        return [Refused("", "fhir.too_deep", f"nested far more than {MAX_FHIR_DEPTH} levels deep: not read")]
    return [Refused(pointer(at), "fhir.duplicate_key",
                    f"the key {node.repeated[0]!r} is given more than once in this object: JSON readers "
                    "disagree on which one counts")
            for at, node in _containers(marked, MAX_FHIR_DEPTH) if isinstance(node, RepeatedKeys)]


def _too_deep(value: Any) -> list[Refused]:
    return [Refused(pointer(at), "fhir.too_deep", f"lists and objects are nested more than {MAX_FHIR_DEPTH} levels "
                    "deep here: not read")
            for at, _ in _containers(value, MAX_FHIR_DEPTH + 1) if len(at) == MAX_FHIR_DEPTH]


def _containers(value: Any, levels: int) -> Iterator[tuple[Location, Any]]:
    """Every object and list in `value` down to `levels` deep (the value itself is 1), with
    its path, in document order."""
    stack: list[tuple[Location, Any]] = [((), value)] if isinstance(value, (dict, list)) else []
    while stack:
        at, node = stack.pop()
        yield at, node
        if len(at) + 1 < levels:
            children = node.items() if isinstance(node, dict) else enumerate(node)
            stack += reversed([(at + (key,), child) for key, child in children if isinstance(child, (dict, list))])

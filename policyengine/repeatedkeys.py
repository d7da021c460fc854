"""JSON objects whose text names a key more than once, marked as such.

A JSON parser keeps the last of two values for one key, so the text's first value is lost
without a word (a FHIR Bundle whose `resourceType` reads "Bundle", then "Patient", becomes
a Patient). The facts reader and the FHIR reader both parse such text a second time with
`marked_object` as the decoder's `object_pairs_hook`, and report each `RepeatedKeys`.
"""
from __future__ import annotations

from collections import Counter
from typing import Any


class RepeatedKeys(dict):
    """An object whose text named the keys `repeated` more than once."""

    repeated: tuple[str, ...] = ()


def marked_object(pairs: list[tuple[str, Any]]) -> dict:
    """The object of `pairs`, a `RepeatedKeys` when a key is among them more than once."""
    found = dict(pairs)
    if len(found) == len(pairs):
        return found
    marked = RepeatedKeys(found)
    marked.repeated = tuple(key for key, count in Counter(key for key, _ in pairs).items() if count > 1)
    return marked

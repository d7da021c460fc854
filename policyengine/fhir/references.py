"""FHIR references as one key, `Type/id`, whatever form the input wrote them in.

A reference names a resource of the input when it is relative (`Patient/p1`), or when a
Bundle says it is one of its own: a `urn:uuid:` or an absolute URL that is an entry's
`fullUrl`, or an absolute URL on the server of the Bundle's fullUrls (`read.py` rewrites
those as `Type/id`). Any other absolute URL names a resource on another server, which the
input does not hold however its last two segments read: `https://evil.example/fhir/Device/x`
is not the input's `Device/x`.
"""
from __future__ import annotations

import re
from typing import Any

from .problems import Refused

_KEY = re.compile(r"(?P<base>[A-Za-z][A-Za-z0-9+.\-]*://[^?#]*/|)(?P<type>[A-Z][A-Za-z]+)/(?P<id>[A-Za-z0-9\-.]{1,64})"
                  r"(?:/_history/[^/]+)?")
_ABSOLUTE = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*://")


def reference_key(text: Any) -> str | None:
    """'Patient/p1' and 'Patient/p1/_history/2' -> 'Patient/p1'; an absolute, contained
    ('#x'), urn or malformed reference -> None."""
    found = _KEY.fullmatch(text) if isinstance(text, str) else None
    return f"{found['type']}/{found['id']}" if found and not found["base"] else None


def on_server(text: Any) -> tuple[str, str] | None:
    """An absolute reference as (the server's base, Type/id):
    'https://ehr.example/fhir/Patient/p1' -> ('https://ehr.example/fhir/', 'Patient/p1')."""
    found = _KEY.fullmatch(text) if isinstance(text, str) else None
    return (found["base"], f"{found['type']}/{found['id']}") if found and found["base"] else None


def referenced(element: Any, at: str) -> str | None:
    """The key of the Reference element at `at` (its JSON pointer in the resource), or None.
    Raises Refused when it names a resource on another server (see the module docstring)."""
    text = element.get("reference") if isinstance(element, dict) else None
    key = reference_key(text)
    if key is None and isinstance(text, str) and _ABSOLUTE.match(text):
        raise Refused(at, "fhir.external_reference",
                      f"{text} names a resource on another server, not one in the input: it cannot be read")
    return key


def key_of(resource: dict) -> str:
    """The key of a resource read from the input (its type and id checked): 'Patient/p1'."""
    return f"{resource['resourceType']}/{resource['id']}"


def local_id(key: str) -> str:
    """'Patient/p1' -> 'p1'."""
    return key.partition("/")[2]

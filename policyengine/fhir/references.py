"""FHIR references as one key, `Type/id`, whatever form the input wrote them in."""
from __future__ import annotations

import re
from typing import Any

_KEY = re.compile(r"(?:^|/)([A-Z][A-Za-z]+)/([A-Za-z0-9\-.]{1,64})(?:/_history/[^/]+)?$")


def reference_key(text: Any) -> str | None:
    """'Patient/p1', 'https://ehr.example/fhir/Patient/p1' and 'Patient/p1/_history/2' ->
    'Patient/p1'; a contained ('#x'), urn or malformed reference -> None."""
    if not isinstance(text, str):
        return None
    found = _KEY.search(text)
    return f"{found.group(1)}/{found.group(2)}" if found else None


def referenced(element: Any) -> str | None:
    """The key of a Reference element ({"reference": ...}), or None."""
    return reference_key(element.get("reference")) if isinstance(element, dict) else None


def key_of(resource: dict) -> str:
    """The key of a resource read from the input (its type and id checked): 'Patient/p1'."""
    return f"{resource['resourceType']}/{resource['id']}"


def local_id(key: str) -> str:
    """'Patient/p1' -> 'p1'."""
    return key.partition("/")[2]

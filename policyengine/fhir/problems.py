"""What the mapping could not place, or placed with a gap, per resource."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Problem:
    """One finding about the input: `error` a resource (or a part of one) that could not be
    placed, `warning` one placed with a gap the decision will show, `info` one read for
    nothing the facts hold. `location` points into the input: `file#/entry/3/resource` in
    a Bundle, `file:12` for line 12 of an NDJSON file, with a JSON pointer to the element."""

    location: str
    severity: str
    code: str
    message: str
    reference: str = ""

    def line(self) -> str:
        about = f" ({self.reference})" if self.reference else ""
        return f"{self.location}: {self.severity}: {self.message}{about} [{self.code}]"

    def as_json(self) -> dict:
        return {"location": self.location, "severity": self.severity, "code": self.code,
                "message": self.message, "reference": self.reference}


def inside(location: str, element: str) -> str:
    """A location in the input (`file`, `file:12` or `file#/entry/3/resource`) narrowed to
    the element at the JSON pointer `element` within it ('' for the whole resource)."""
    if not element:
        return location
    return location + element if "#" in location else f"{location}#{element}"


class Refused(Exception):
    """What refuses a resource (or a file) at one element: `element` is the JSON pointer of
    the element in it, `code` and the message the problem to report there. Raised while a
    resource is mapped (`mapping.map_resource` reports it and places nothing), and listed by
    `jsontext.read_json` for what it finds in the text."""

    def __init__(self, element: str, code: str, message: str) -> None:
        super().__init__(message)
        self.element = element
        self.code = code

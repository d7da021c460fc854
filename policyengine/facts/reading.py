"""Facts as text: one document (JSON, or YAML when it is not JSON) or one batch line,
read into JSON data (dates stay strings), refusing a document beyond the limits of
`policyengine.limits` and what only its text shows (a key given twice, a YAML alias)."""
from __future__ import annotations

import json
from typing import Any

from ..diagnostics import Diagnostic, DiagnosticError, SourceText
from ..limits import MAX_FACTS_BYTES
from .jsondata import read_json


def parse_facts_text(text: str, name: str) -> Any:
    """The document in `text` (JSON, or YAML when it is not JSON), named `name` in errors.

    Raises a `DiagnosticError`: `facts.too_large` beyond `MAX_FACTS_BYTES`; `facts.malformed`
    at the line and column of the problem (JSON's when the text looks like JSON, YAML's
    otherwise); what `read_json` refuses in JSON; aliases, repeated keys and nesting beyond
    `MAX_DEPTH` in YAML, at their line and column.
    """
    size = _size_beyond_limit(text)
    if size is not None:
        raise DiagnosticError([Diagnostic(
            "facts.too_large", f"the facts are {size:,} bytes; at most {MAX_FACTS_BYTES:,} are read",
            where=name, hint="one document holds one patient-month")])
    try:
        return read_json(text)
    except json.JSONDecodeError as json_error:
        from .yamltext import read_yaml  # PyYAML for a YAML document only: JSON, the usual, does without it
        try:
            return read_yaml(text, name)
        except DiagnosticError:
            if _looks_like_json(text):
                raise DiagnosticError([_malformed_json(text, name, json_error)]) from None
            raise


def parse_facts_line(raw: bytes | str) -> Any:
    """One line of JSON Lines (its line end may be included) as data.

    Raises a `DiagnosticError`: `facts.too_large` beyond `MAX_FACTS_BYTES`, `facts.malformed`
    for text that is not UTF-8, blank or not JSON, and what `read_json` refuses.
    """
    line = raw.rstrip(b"\r\n") if isinstance(raw, bytes) else raw.rstrip("\r\n")
    too_large = len(line) > MAX_FACTS_BYTES if isinstance(line, bytes) else _size_beyond_limit(line) is not None
    if too_large:
        raise DiagnosticError([Diagnostic(
            "facts.too_large", f"the line is longer than {MAX_FACTS_BYTES:,} bytes, the most one facts document may be",
            hint="one line holds one patient-month")])
    try:
        text = line.decode("utf-8") if isinstance(line, bytes) else line
    except UnicodeDecodeError as error:
        raise DiagnosticError([Diagnostic("facts.malformed", f"not valid UTF-8: {error.reason} at byte {error.start}")]) from None
    if not text.strip():
        raise DiagnosticError([Diagnostic("facts.malformed", "empty line: expected one JSON object")])
    try:
        return read_json(text)
    except json.JSONDecodeError as error:
        raise DiagnosticError([Diagnostic("facts.malformed", f"not valid JSON: {error.msg} (column {error.colno})")]) from None


def _size_beyond_limit(text: str) -> int | None:
    """The bytes of `text` in UTF-8 when they exceed MAX_FACTS_BYTES, else None (a short
    text is not encoded to know)."""
    if len(text) * 4 <= MAX_FACTS_BYTES:
        return None
    size = len(text.encode("utf-8", "surrogatepass"))
    return size if size > MAX_FACTS_BYTES else None


def _looks_like_json(text: str) -> bool:
    return text.lstrip().startswith(("{", "["))


def _malformed_json(text: str, name: str, error: json.JSONDecodeError) -> Diagnostic:
    return Diagnostic(code="facts.malformed", message=f"not valid JSON: {error.msg}",
                      span=SourceText(name, text).span(error.pos, error.pos + 1))

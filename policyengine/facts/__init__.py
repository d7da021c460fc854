"""Patient-month facts: reading one document and checking it (contract v1, section 1).

This package owns the input side of a decision. `parse_facts_text` turns JSON or YAML text
into JSON data (dates stay strings), and `parse_facts_line` one line of a batch; both refuse
a document beyond the limits of `policyengine.limits` and what only its text shows (a key
given twice, a YAML alias: `reading.py`). `check_facts` makes sure the data is JSON data
facts can hold (`jsondata.py`: integers in 64 bits, Unicode text, bounded nesting), checks it
against `schemas/facts.schema.json` (`schema.py`), then checks the calendar, which a schema
cannot (`dates.py`), and that each provenance pointer names a fact (`provenance.py`); a record
they would find nothing in passes in one generated walk instead (`verdict.py`). Every
error is reported at once, each located by its JSON pointer; an unknown key is only a
warning, with "did you mean" where a known key is close.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .. import schemacheck
from ..diagnostics import Diagnostic, DiagnosticError
from .dates import MAX_PERIOD_DAYS, calendar_errors
from .jsondata import check_json_data
from .misplaced import decision_given
from .provenance import provenance_errors
from .reading import parse_facts_line, parse_facts_text
from .schema import facts_schema, validators
from .verdict import verdict


@dataclass(frozen=True)
class CheckedFacts:
    """Facts that passed `check_facts`: the data as given, and the warnings about it."""

    data: dict
    warnings: tuple[Diagnostic, ...]


def check_facts(data: Any) -> CheckedFacts:
    """`data` as checked facts, or a `DiagnosticError` carrying every error in it.

    The calendar is checked once the schema finds no error, so a document with a wrong
    type reports its schema errors first, all of them. A record with nothing to report
    passes in one walk (`verdict.py`); the checks that say what and where run on the others.
    """
    check_json_data(data)
    schema = facts_schema()
    if verdict(schema, calendar=True)(data):
        return CheckedFacts(data=data, warnings=())
    diagnostics = _schema_diagnostics(data, schema)  # the shape may pass where the calendar does not
    errors = [d for d in diagnostics if d.severity == "error"]
    if not errors:
        errors = schemacheck.capped(calendar_errors(data) + provenance_errors(data))
    if errors:
        raise DiagnosticError(errors)
    return CheckedFacts(data=data, warnings=tuple(diagnostics))


def check_with_schema(data: Any, schema: dict) -> CheckedFacts:
    """Facts for a pack that declares its own facts schema: that schema's errors (all of
    them) and unknown-key warnings; the contract's calendar checks do not apply."""
    check_json_data(data)
    diagnostics = _schema_diagnostics(data, schema)
    errors = [d for d in diagnostics if d.severity == "error"]
    if errors:
        raise DiagnosticError(errors)
    return CheckedFacts(data=data, warnings=tuple(diagnostics))


def _schema_diagnostics(data: Any, schema: dict) -> list[Diagnostic]:
    """The schema's errors and warnings: none when its shape and whole numbers pass in one
    walk, else what the reference validator says; a decision given as facts is an error
    (`misplaced.py`), where the schema alone would only warn of its keys."""
    if verdict(schema, calendar=False)(data):
        return []
    misplaced = decision_given(data)
    return [misplaced] if misplaced is not None else validators(schema).diagnostics(data)


__all__ = ["MAX_PERIOD_DAYS", "CheckedFacts", "check_facts", "check_with_schema", "facts_schema", "parse_facts_line",
           "parse_facts_text"]

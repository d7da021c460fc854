"""Fuzzing (issue 11): whatever a billing system sends, the answer is a decision or a clean
DiagnosticError whose every diagnostic says where (a JSON pointer, or a line and column of
malformed text), in bounded time; never another exception.

The examples each property runs come from the Hypothesis profile: "ci" (the default, a
few hundred in all, well under half a minute) or "long" (HYPOTHESIS_PROFILE=long, for a
developer before a release); both are registered in conftest.py.
"""
from __future__ import annotations

import json
import time
from typing import Any

from hypothesis import given

import policyengine
from policyengine.batch import Evaluator
from policyengine.diagnostics import Diagnostic, DiagnosticError
from policyengine.facts import check_facts, parse_facts_text
from facts_strategies import broken_facts, broken_lines, valid_facts

#: CPU seconds any one example may take, generation not counted (CPU time, not wall time:
#: the machine may be busy with other work).
TIME_BOUND = 2.0
#: Error records that concern the whole line rather than a place in the facts: the line is
#: their location (and a malformed line's message gives the column).
LINE_CODES = {"facts.malformed", "facts.too_large"}

EVALUATOR = Evaluator()


def timed(call: Any, *args: Any) -> tuple[Any, DiagnosticError | None]:
    """(result, None) or (None, the DiagnosticError), within TIME_BOUND; anything else raises."""
    started = time.process_time()
    try:
        result, error = call(*args), None
    except DiagnosticError as raised:
        result, error = None, raised
    assert time.process_time() - started < TIME_BOUND
    return result, error


def located(diagnostic: Diagnostic) -> bool:
    if diagnostic.span is not None:
        return diagnostic.span.line >= 1 and diagnostic.span.column >= 1
    return diagnostic.where is not None and diagnostic.where.startswith("/")


@given(facts=valid_facts())
def test_valid_facts_are_decided(facts: dict) -> None:
    decision, error = timed(policyengine.evaluate, facts)
    assert error is None, error
    assert decision["patient_id"] == facts["patient_id"] and not any(
        finding["id"] == "facts.unknown_field" for finding in decision["findings"])
    # the decision's bytes are the standard library's, whatever text the facts carry
    assert policyengine.to_json(decision) == json.dumps(decision, ensure_ascii=False, indent=2) + "\n"


@given(facts=broken_facts())
def test_broken_facts_are_decided_or_refused_naming_where(facts: Any) -> None:
    decision, error = timed(policyengine.evaluate, facts)
    if error is not None:
        assert error.diagnostics and all(located(d) for d in error.diagnostics), error
    else:
        assert isinstance(decision["total"], str)


@given(line=broken_lines())
def test_every_batch_line_gets_one_json_line_naming_where(line: bytes) -> None:
    (output, decision, code), _ = timed(EVALUATOR.decide, 7, line)
    assert "\n" not in output
    record = json.loads(output.encode("utf-8"))  # UTF-8 can write it, and it is JSON
    if decision is None:
        assert record["line"] == 7 and record["error"]["code"] == code and record["error"]["message"]
        assert code in LINE_CODES or record["error"]["where"].startswith("/"), record
    else:
        assert record == json.loads(json.dumps(decision, default=str))


@given(line=broken_lines())
def test_every_facts_document_is_decided_or_refused_naming_where(line: bytes) -> None:
    """As `policyengine evaluate` reads a file (invalid UTF-8 arrives as lone surrogates
    from a caller that decoded with surrogateescape)."""
    text = line.decode("utf-8", "surrogateescape")
    _, error = timed(lambda: policyengine.evaluate(check_facts(parse_facts_text(text, "facts.json")).data))
    if error is not None:
        assert error.diagnostics and all(located(d) or d.where == "facts.json" for d in error.diagnostics), error

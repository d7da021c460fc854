"""YAML test cases beside a pack: facts in, expected decision out.

A case file (`<pack>/tests/*.yaml`):

    defaults:
      facts: {...}                 # deep-merged under every case's facts
      items: {interactions: {...}} # merged under every item of these lists
    cases:
      - name: one line saying what the case shows
        facts: {interactions: [{id: a, date: 2026-03-05, duration_seconds: 1199}]}
        options: {an_option: a value}
        expect:
          billable: [{code: "A", units: 1}]          # exactly these codes are billable
          not_billable: [{code: "B", status: not_met, actual: 1199, required: params.a_threshold}]
          findings: [a.finding.id]                    # present among the findings ({id, amount_at_stake}:
                                                      # and what completing the record would add)
          no_findings: [another.finding.id]           # absent
          opportunities: ["B"]                        # exactly these codes are offered
          out_of_reach: ["C"]                         # exactly these are out of reach
          claim_review: [{code: "B", accepted: false}]
          total: "26.05"
          error: facts.outside_month                  # the facts are rejected with this code

The bundled packs' `tests/` folders are complete examples; `schemas/testcases.schema.json`
is the form. A case cannot pass without testing something: a misspelt key (`billabel`) is
an error with "did you mean", and so is a case with no expectation, or a list of what must
be present (`findings: []`) that names nothing.
In facts, the value "$absent" removes a key the defaults set. In expectations a string
`params.<name>` stands for that parameter's value in the case's month.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path
from collections.abc import Callable
from typing import Any

import jsonschema

from .. import schemacheck
from ..api import evaluate
from ..diagnostics import Diagnostic, DiagnosticError, sort_diagnostics
from ..engine import EvaluationFailed
from ..engine.values import to_json_value
from ..lang.runtime import last_day
from ..packs.model import CompiledPack
from ..yamlsource import YamlDocument, load_yaml_file
from .coverage import CoverageTracer

ABSENT = "$absent"


@dataclass(frozen=True)
class Case:
    name: str
    facts: dict
    options: dict
    expect: dict
    doc: YamlDocument = field(repr=False)
    pointer: str
    #: where `new-pack` copied the case from, in the parent pack (None: written for this pack)
    carried_over_from: str | None = None

    @property
    def location(self) -> str:
        span = self.doc.span(self.pointer)
        return span.location if span is not None else self.doc.source.name


@dataclass(frozen=True)
class CaseResult:
    case: Case
    failures: tuple[str, ...]

    @property
    def passed(self) -> bool:
        return not self.failures


def _merge(base: Any, override: Any) -> Any:
    if isinstance(base, dict) and isinstance(override, dict):
        merged = dict(base)
        for key, value in override.items():
            if value == ABSENT:
                merged.pop(key, None)
            else:
                merged[key] = _merge(base.get(key), value)
        return merged
    return override


def _with_item_defaults(facts: dict, items: dict) -> dict:
    for list_name, item_defaults in items.items():
        if isinstance(facts.get(list_name), list):
            facts[list_name] = [_merge(item_defaults, item) for item in facts[list_name]]
    return facts


@functools.cache
def _cases_validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(schemacheck.bundled_schema("testcases.schema.json"))


def _problems(doc: YamlDocument) -> list[Diagnostic]:
    """What is wrong with a case file's form, each at its file:line:col."""
    if not isinstance(doc.data, dict):
        return [Diagnostic("cases.invalid", "a case file is a mapping with a list of cases", doc.span(""),
                           hint="cases: [{name: ..., facts: ..., expect: ...}]")]
    cases = doc.data.get("cases")
    empty = [f"/cases/{i}/expect" for i, case in enumerate(cases if isinstance(cases, list) else ())
             if isinstance(case, dict) and case.get("expect") == {}]
    vacuous = [Diagnostic("cases.no_expectation", "the case expects nothing, so it would pass whatever the pack decides",
                          doc.span(where), hint="expect at least one of: billable, not_billable, findings, no_findings, "
                          "opportunities, out_of_reach, claim_review, total, error") for where in empty]
    return sort_diagnostics(vacuous + schemacheck.check(doc.data, _cases_validator(), kind="cases", locate=doc.locate))


def load_cases(path: Path) -> list[Case]:
    """The cases of one file; raises DiagnosticError for a malformed file."""
    doc = load_yaml_file(path)
    problems = _problems(doc)
    if problems:
        raise DiagnosticError(problems)
    data = doc.data
    defaults = data.get("defaults") or {}
    cases = []
    for i, raw in enumerate(data["cases"]):
        pointer = f"/cases/{i}"
        facts = _with_item_defaults(_merge(defaults.get("facts") or {}, raw.get("facts") or {}),
                                    defaults.get("items") or {})
        cases.append(Case(str(raw["name"]), facts, raw.get("options") or {}, raw["expect"], doc, pointer,
                          raw.get("carried_over_from")))
    return cases


def _resolve(expected: Any, params: dict) -> Any:
    if isinstance(expected, str) and expected.startswith("params."):
        return to_json_value(params.get(expected.removeprefix("params."), expected))
    return to_json_value(expected)


def _billable(expect: dict, decision: dict, params: dict) -> list[str]:
    if "billable" not in expect:
        return []
    failures = []
    got = sorted((line["code"], line["units"]) for line in decision["billable"])
    want = sorted((str(line["code"]), line.get("units", 1)) for line in expect["billable"])
    if got != want:
        failures.append(f"billable: expected {want}, got {got}")
    for line in expect["billable"]:
        if "amount" in line:
            actual = next((b["amount"] for b in decision["billable"] if b["code"] == str(line["code"])), None)
            if actual != str(line["amount"]):
                failures.append(f"amount of {line['code']}: expected {line['amount']}, got {actual}")
    return failures


def _not_billable(expect: dict, decision: dict, params: dict) -> list[str]:
    failures = []
    for want in expect.get("not_billable", ()):
        line = next((n for n in decision["not_billable"] if n["code"] == str(want["code"])), None)
        if line is None:
            failures.append(f"not_billable: {want['code']} is not among the codes denied")
            continue
        failures += [f"not_billable {want['code']} {key}: expected {_resolve(value, params)!r}, got {line.get(key)!r}"
                     for key, value in want.items() if key != "code" and line.get(key) != _resolve(value, params)]
    return failures


def _findings(expect: dict, decision: dict, params: dict) -> list[str]:
    found = {f["id"]: f for f in decision["findings"]}
    failures = []
    for want in expect.get("findings", ()):
        fid = want if isinstance(want, str) else want["id"]
        if fid not in found:
            failures.append(f"finding {fid} expected, not found")
        elif isinstance(want, dict) and found[fid].get("amount_at_stake") != want["amount_at_stake"]:
            failures.append(f"finding {fid} amount_at_stake: expected {want['amount_at_stake']!r}, "
                            f"got {found[fid].get('amount_at_stake')!r}")
    return failures + [f"finding {fid} not expected" for fid in expect.get("no_findings", ()) if fid in found]


def _codes_listed(key: str) -> Callable[[dict, dict, dict], list[str]]:
    """The check that exactly the expected codes are in the decision's list `key`
    (opportunities, out_of_reach; a decision leaves out_of_reach out when it is empty)."""
    def check(expect: dict, decision: dict, params: dict) -> list[str]:
        if key not in expect:
            return []
        got = sorted(o["code"] for o in decision.get(key, ()))
        want = sorted(str(c) for c in expect[key])
        return [] if got == want else [f"{key}: expected {want}, got {got}"]
    return check


def _claims(expect: dict, decision: dict, params: dict) -> list[str]:
    failures = []
    for want in expect.get("claim_review", ()):
        line = next((c for c in decision.get("claim_review", ()) if c["code"] == str(want["code"])), None)
        if line is None or any(line.get(k) != _resolve(v, params) for k, v in want.items()):
            failures.append(f"claim_review {want['code']}: expected {want}, got {line}")
    return failures


def _total(expect: dict, decision: dict, params: dict) -> list[str]:
    if "total" in expect and decision["total"] != str(expect["total"]):
        return [f"total: expected {expect['total']}, got {decision['total']}"]
    return []


#: each part of an expectation, checked against the decision
_CHECKS = (_billable, _not_billable, _findings, _codes_listed("opportunities"), _codes_listed("out_of_reach"), _claims,
           _total)


def _check(case: Case, decision: dict, params: dict) -> list[str]:
    return [failure for check in _CHECKS for failure in check(case.expect, decision, params)]


def run_case(case: Case, pack: CompiledPack, tracer_factory=None) -> CaseResult:
    """Evaluate one case against a pack (optionally with a coverage tracer). A case carried
    over from the parent that fails says why it may: the pack has changed what it decides."""
    result = _run(case, pack, tracer_factory)
    if result.passed or case.carried_over_from is None:
        return result
    parent = pack.chain[1] if len(pack.chain) > 1 else "its parent"
    hint = (f"new-pack carried this case over from {case.carried_over_from}, where {parent} decides it as it "
            f"expects: a value {pack.id} restates since moves it; update what it expects (or its facts) for "
            f"{pack.fee_schedule_year}" + (f" (policyengine diff {parent} {pack.directory} says what changed)"
                                            if len(pack.chain) > 1 else ""))
    return CaseResult(case, (*result.failures, hint))


def _run(case: Case, pack: CompiledPack, tracer_factory=None) -> CaseResult:
    expected_error = case.expect.get("error")
    try:
        tracer = tracer_factory() if tracer_factory else None
        decision = evaluate(case.facts, pack, case.options, trace="none", tracer=tracer)
    except DiagnosticError as error:
        codes = [d.code for d in error.diagnostics]
        if expected_error in codes:
            return CaseResult(case, ())
        what = "the pack failed on the facts" if isinstance(error, EvaluationFailed) else "the facts were rejected"
        return CaseResult(case, (f"{what}: {error.diagnostics[0].headline()}",))
    if expected_error:
        return CaseResult(case, (f"expected the error {expected_error}, but a decision was made",))
    params = pack.params_at(last_day(case.facts["month"]))
    return CaseResult(case, tuple(_check(case, decision, params)))


__all__ = ["Case", "CaseResult", "CoverageTracer", "load_cases", "run_case"]

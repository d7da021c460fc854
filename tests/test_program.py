"""The pack's program (one generated function: engine/program.py) against the step-by-step
evaluation it replaces, which stays the reference.

For every bundled pack over facts drawn from the schema, for hostile mutations of the 2024
pack, and for a pack with no gates and no findings: the same definitions, gates, rule
parts, findings held and compact trace values, the same decision with its full trace
(the full program's recordings against one recording per step), or the same located
failure.
"""
from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

import policyengine
from facts_strategies import valid_facts
from packcopy import copy_chain
from policyengine import DiagnosticError, compile_pack
from policyengine.engine import EvaluationFailed
from policyengine.engine.evaluation import Run
from policyengine.engine.options import resolve_options
from policyengine.engine.decide import decide
from policyengine.engine.tracing import CompactTracer, FullTracer, Tracer
from policyengine.packs import bundled_ids, load_pack, pack_for_month
from policyengine.testing import load_cases
from policyengine.testing.runner import case_files
from test_fuzz_packs import FACTS, mutated

SEED_MONTH = Path(__file__).parent.parent / "examples" / "2026-03-seed-22-minutes.json"


class StepByStep(Tracer):
    """No trace, one evaluation at a time: the decision resolved and written step by step."""

    program = None


class StepByStepCompact(CompactTracer):
    """The compact trace recorded one evaluation at a time, as before the program."""

    program = None


class StepByStepFull(FullTracer):
    """The full trace recorded one evaluation at a time."""

    program = None


def evaluated(pack, facts: dict, tracer, options: dict | None = None) -> Any:
    """What the decision is made from, or the failure's diagnostics."""
    run = Run(pack, copy.deepcopy(facts), resolve_options(pack, options), tracer)
    try:
        state = run.state()
        held = run.finding_conditions()
    except EvaluationFailed as failed:
        return ("failed", [(d.code, d.message, d.location, d.where) for d in failed.diagnostics])
    return ("ok", dict(state.definitions), dict(state.gates), dict(state.parts), held, tracer.values)


def decided(pack, facts: dict, tracer, options: dict | None = None) -> Any:
    """The decision's JSON, or the failure's diagnostics."""
    try:
        return policyengine.to_json(decide(pack, copy.deepcopy(facts), options, trace=tracer.form, tracer=tracer))
    except EvaluationFailed as failed:
        return ("failed", [(d.code, d.message, d.location, d.where) for d in failed.diagnostics])


def assert_program_agrees(pack, facts: dict, options: dict | None = None) -> None:
    reference = evaluated(pack, facts, StepByStepCompact(pack), options)
    assert evaluated(pack, facts, CompactTracer(pack), options) == reference
    untraced = evaluated(pack, facts, Tracer(pack), options)
    assert untraced[:5] == reference[:5] if reference[0] == "ok" else untraced == reference
    full = decided(pack, facts, FullTracer(pack), options)
    assert full == decided(pack, facts, StepByStepFull(pack), options)
    assert decided(pack, facts, Tracer(pack), options) == decided(pack, facts, StepByStep(pack), options)
    assert decided(pack, facts, CompactTracer(pack), options) == decided(pack, facts, StepByStepCompact(pack), options)
    if reference[0] == "failed":  # a decision fails where its values do (and may fail later: a rate, an opportunity)
        assert full == reference


@pytest.mark.parametrize("pack_id", bundled_ids())
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(facts=valid_facts())
def test_the_program_decides_from_the_values_step_by_step_gives(pack_id, facts):
    pack = load_pack(pack_id)
    if not pack.covers(facts["month"] + "-01"):
        pack = pack_for_month(facts["month"])
    assert_program_agrees(pack, facts)


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])  # examples: the profile's (tests/conftest.py)
@given(text=mutated())
def test_a_mutated_pack_runs_as_its_program_or_fails_at_the_same_place(tmp_path_factory, text):
    directory = tmp_path_factory.mktemp("pack")
    (directory / "pack.yaml").write_text(text)
    try:
        pack = compile_pack(directory)
    except DiagnosticError:
        return
    for facts in FACTS:
        assert_program_agrees(pack, facts)


def without_section(text: str, section: str) -> str:
    """The pack text without a top-level section (`findings:`, `gates:`)."""
    return re.sub(rf"^{section}:\n(?:(?:[ #].*)?\n)*", "", text, flags=re.M)


def test_a_pack_with_no_gates_and_no_findings_decides(tmp_path):
    directory = copy_chain(tmp_path, lambda text: without_section(without_section(text, "findings"), "gates"))["cms-rpm-2024"]
    pack = compile_pack(directory)
    assert pack.findings == () and pack.gates == ()
    for facts in FACTS:
        assert_program_agrees(pack, facts)
        decision = policyengine.evaluate(facts, pack, trace="none")
        assert [finding for finding in decision["findings"] if not finding["id"].startswith(("concurrency.", "units."))] == []
        assert decision["billable"], "the month bills something without gates"


CASES = [(pack_id, case) for pack_id in bundled_ids() for path in case_files(pack_id) for case in load_cases(path)
         if "error" not in case.expect]


@pytest.mark.parametrize("pack_id, case", CASES, ids=[f"{pack_id}:{case.name}" for pack_id, case in CASES])
def test_every_pack_case_is_decided_alike_by_the_program_and_step_by_step(pack_id, case):
    """The packs' own cases reach every cause a line can have (billed elsewhere, replaced,
    capped, needing its base code, blocked with evidence), which drawn facts seldom do."""
    pack = load_pack(pack_id)
    assert_program_agrees(pack, case.facts, case.options)


def month_of(minutes: int) -> dict:
    """The seed's 2026 month with `minutes` of countable interactive time."""
    facts = json.loads(SEED_MONTH.read_text())
    rest = sum(item["duration_seconds"] for item in facts["interactions"][1:])
    facts["interactions"][0]["duration_seconds"] = minutes * 60 - rest
    return facts


def test_the_causes_cases_seldom_reach_are_decided_alike(tmp_path):
    """A code billed at its max_units, an add-on whose base code is billed elsewhere by the
    billing practitioner (it needs its base code), a met rule that earns no unit."""
    capped = copy_chain(tmp_path, lambda text: text.replace("rvu: params.rvu_99458\n",
                                                            "rvu: params.rvu_99458\n    max_units: 1\n"))
    pack = compile_pack(capped["cms-rpm-2026"])
    assert "units.capped" in [f["id"] for f in policyengine.evaluate(month_of(65), pack, trace="none")["findings"]]
    assert_program_agrees(pack, month_of(65))
    base_elsewhere = month_of(45)
    base_elsewhere["other_services"] = [{"code": "99457", "practitioner": base_elsewhere["billing_practitioner"]["id"]}]
    decision = policyengine.evaluate(base_elsewhere, trace="none")
    assert [line["status"] for line in decision["not_billable"] if line["code"] == "99458"] == ["prerequisite_missing"]
    assert_program_agrees(load_pack("cms-rpm-2026"), base_elsewhere)
    assert_program_agrees(load_pack("cms-rpm-2026"), month_of(45), {"addon_max_units": 0})

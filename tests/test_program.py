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
import re
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
from policyengine.engine.tracing import CompactTracer, FullTracer
from policyengine.packs import bundled_ids, load_pack, pack_for_month
from test_fuzz_packs import FACTS, mutated


class StepByStepCompact(CompactTracer):
    """The compact trace recorded one evaluation at a time, as before the program."""

    program = None


class StepByStepFull(FullTracer):
    """The full trace recorded one evaluation at a time."""

    program = None


def evaluated(pack, facts: dict, tracer) -> Any:
    """What the decision is made from, or the failure's diagnostics."""
    run = Run(pack, copy.deepcopy(facts), resolve_options(pack, None), tracer)
    try:
        state = run.state()
        held = run.finding_conditions()
    except EvaluationFailed as failed:
        return ("failed", [(d.code, d.message, d.location, d.where) for d in failed.diagnostics])
    return ("ok", dict(state.definitions), dict(state.gates), dict(state.parts), held, tracer.values)


def decided(pack, facts: dict, tracer) -> Any:
    """The decision's JSON, or the failure's diagnostics."""
    try:
        return policyengine.to_json(decide(pack, copy.deepcopy(facts), None, trace="full", tracer=tracer))
    except EvaluationFailed as failed:
        return ("failed", [(d.code, d.message, d.location, d.where) for d in failed.diagnostics])


def assert_program_agrees(pack, facts: dict) -> None:
    reference = evaluated(pack, facts, StepByStepCompact(pack))
    assert evaluated(pack, facts, CompactTracer(pack)) == reference
    untraced = evaluated(pack, facts, policyengine.engine.tracing.Tracer(pack))
    assert untraced[:5] == reference[:5] if reference[0] == "ok" else untraced == reference
    full = decided(pack, facts, FullTracer(pack))
    assert full == decided(pack, facts, StepByStepFull(pack))
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

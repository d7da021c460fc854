"""Every line says its cause: the invariants an auditor reads a decision by.

Over every bundled pack's own cases and over months drawn from the facts schema:
- a line carries `actual` and `required` only for a shortfall (status not_met, actual
  below required), and a reason reads "x of the required y" only then;
- a code replaced by a conflict names the code that replaced it, which the decision
  bills, and cites the pack's conflict;
- a code denied because a code is billed elsewhere points at that code in the facts;
- evidence points at something in the facts.
"""
from __future__ import annotations

import copy
import json
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

import policyengine
from facts_strategies import valid_facts
from policyengine import pointers
from policyengine.packs import bundled_ids, load_pack, pack_for_month
from policyengine.testing import load_cases
from policyengine.testing.runner import case_files

SEED_MONTH = Path(__file__).parent.parent / "examples" / "2026-03-seed-22-minutes.json"
CASES = [(pack_id, case) for pack_id in bundled_ids() for path in case_files(pack_id) for case in load_cases(path)
         if "error" not in case.expect]


def broken_invariants(decision: dict, facts: dict, pack) -> list[str]:
    """What a decision's not-billable lines say that their cause does not bear out."""
    billed = {line["code"] for line in decision["billable"]}
    citations = {conflict.citation for conflict in pack.conflicts.entries}
    broken = []
    for line in decision["not_billable"]:
        code, status, reason = line["code"], line["status"], line["reason"]
        actual, required = line["actual"], line["required"]
        shortfall = actual is not None or required is not None
        if shortfall and not (status == "not_met" and actual is not None and required is not None
                              and _below(actual, required)):
            broken.append(f"{code}: actual {actual!r}, required {required!r} with status {status}")
        if "of the required" in reason and not shortfall:
            broken.append(f"{code}: a shortfall sentence without a shortfall: {reason}")
        if status == "replaced":
            winner = reason.removeprefix("replaced by ").split(",")[0]
            if not reason.startswith("replaced by ") or winner not in billed:
                broken.append(f"{code}: replaced, but not by a code the decision bills: {reason}")
            if not any(f"({citation})" in reason for citation in citations):
                broken.append(f"{code}: replaced without citing the conflict: {reason}")
        if status == "billed_elsewhere":
            services = [facts["other_services"][int(pointers.tokens(at)[1])] for at in line["evidence"]
                        if at.startswith("/other_services/") and pointers.resolves(facts, at)]
            if not services or not all(service["code"] in reason or service["code"] == code for service in services):
                broken.append(f"{code}: billed elsewhere, with evidence {line['evidence']} that does not show it")
        for at in line["evidence"]:
            if not pointers.resolves(facts, at):
                broken.append(f"{code}: evidence {at} points at nothing in the facts")
    return broken


def _below(actual, required) -> bool:
    number = (int, Decimal, str)
    return isinstance(actual, number) and isinstance(required, number) and Decimal(actual) < Decimal(required)


def seed_month() -> dict:
    return json.loads(SEED_MONTH.read_text())


@pytest.mark.parametrize("pack_id,case", CASES, ids=[f"{p}: {c.name}" for p, c in CASES])
def test_every_line_of_a_pack_case_says_its_cause(pack_id, case):
    pack = load_pack(pack_id)
    decision = policyengine.evaluate(copy.deepcopy(case.facts), pack, case.options, trace="none")
    assert broken_invariants(decision, case.facts, pack) == []


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(valid_facts())
def test_every_line_of_a_generated_month_says_its_cause(facts):
    pack = pack_for_month(facts["month"])
    decision = policyengine.evaluate(copy.deepcopy(facts), pack, trace="none")
    assert broken_invariants(decision, facts, pack) == []


def test_the_seed_month_names_what_replaced_its_codes():
    """The seed's 22-minute 2026 month: 99470 and 99445 were replaced, not short."""
    decision = policyengine.evaluate(seed_month(), trace="none")
    lines = {line["code"]: line for line in decision["not_billable"]}
    assert (lines["99470"]["status"], lines["99470"]["actual"], lines["99470"]["required"]) == ("replaced", None, None)
    assert lines["99470"]["reason"].startswith("replaced by 99457, which this decision bills")
    assert lines["99470"]["reason"].endswith("(R-28)")
    assert lines["99445"]["status"] == "replaced" and lines["99445"]["reason"].startswith("replaced by 99454")


def test_a_device_that_is_not_fda_defined_is_the_cause_not_a_shortfall():
    facts = seed_month()
    facts["device"]["meets_fda_definition"] = False
    assert len(facts["transmission_days"]) >= 16  # days enough: the device alone stands in the way
    decision = policyengine.evaluate(facts, trace="none")
    line = next(line for line in decision["not_billable"] if line["code"] == "99454")
    assert line["status"] == "prerequisite_missing"
    assert "FDA definition" in line["reason"] and "of the required" not in line["reason"]
    assert (line["actual"], line["required"], line["evidence"]) == (None, None, ["/device"])


def test_a_met_rule_that_earns_no_unit_says_so_not_a_shortfall():
    """45 min with addon_max_units=0: 99458's rule is met and earns 0 units; its line is
    not "45 min of the required 40 min"."""
    facts = seed_month()
    facts["interactions"][0]["duration_seconds"] = 2700 - sum(i["duration_seconds"] for i in facts["interactions"][1:])
    decision = policyengine.evaluate(facts, options={"addon_max_units": 0}, trace="none")
    line = next(line for line in decision["not_billable"] if line["code"] == "99458")
    assert (line["status"], line["actual"], line["required"]) == ("not_met", None, None)
    assert line["reason"] == ("the rule for 99458 is met but earns no unit "
                              "(min(options.addon_max_units, addon_units_earned) is 0)")

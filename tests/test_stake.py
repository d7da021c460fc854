"""The money at stake on a line the record can still recover (engine/stake.py).

A care team completes the records worth the most first: a line denied by missing
documentation or a missing prerequisite says what its code would bill once the record is
complete, with the conflicts resolved as the decision would resolve them.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

import policyengine
from policyengine.explain import explain, render

SEED_MONTH = Path(__file__).parent.parent / "examples" / "2026-03-seed-22-minutes.json"


def seed_month() -> dict:
    """The seed's 2026 month: 22 minutes of interactive time, 16 or more reading days."""
    return json.loads(SEED_MONTH.read_text())


def at_stake(decision: dict) -> dict[str, str | None]:
    return {line["code"]: line["amount_at_stake"] for line in decision["not_billable"] if "amount_at_stake" in line}


def test_without_documented_consent_each_code_is_at_stake_for_what_it_would_bill():
    billed = policyengine.evaluate(seed_month(), trace="none")
    facts = seed_month()
    facts["consent"] = None
    decision = policyengine.evaluate(facts, trace="none")
    assert decision["billable"] == [] and decision["total"] == "0.00"
    stake = at_stake(decision)
    assert set(stake) == {line["code"] for line in decision["not_billable"]}
    assert {code: amount for code, amount in stake.items() if amount != "0.00"} == {
        line["code"]: line["amount"] for line in billed["billable"]}
    assert stake["99457"] == "51.77"
    assert stake["99470"] == "0.00", "99457 would replace it"


def test_a_device_not_documented_as_fda_defined_puts_the_device_code_at_stake():
    facts = seed_month()
    facts["device"]["meets_fda_definition"] = False
    decision = policyengine.evaluate(facts, trace="none")
    assert at_stake(decision) == {"99454": "52.11", "99445": "0.00"}  # 99454 would replace 99445
    assert [line["code"] for line in decision["billable"]] == ["99457"]


def test_an_undocumented_established_patient_is_at_stake_as_if_documented_established():
    facts = seed_month()
    del facts["established_patient"]
    stake = at_stake(policyengine.evaluate(facts, trace="none"))
    assert (stake["99457"], stake["99454"]) == ("51.77", "52.11")


def test_a_patient_documented_as_not_established_has_nothing_at_stake():
    facts = seed_month()
    facts["established_patient"] = False
    decision = policyengine.evaluate(facts, trace="none")
    assert {line["status"] for line in decision["not_billable"]} == {"not_met"}
    assert at_stake(decision) == {}


@pytest.mark.parametrize("trace", ["none", "compact", "full"])
def test_a_code_billed_elsewhere_or_short_carries_no_amount_at_stake(trace):
    facts = seed_month()
    facts["other_services"] = [{"code": "99454", "practitioner": "NPI-OTHER"}]
    decision = policyengine.evaluate(facts, trace=trace)
    statuses = {line["code"]: line["status"] for line in decision["not_billable"]}
    assert statuses["99454"] == "billed_elsewhere" and statuses["99458"] == "not_met"
    assert at_stake(decision) == {}


def test_the_explanation_says_what_completing_the_record_is_worth():
    facts = seed_month()
    facts["device"]["meets_fda_definition"] = False
    text = render(explain(policyengine.evaluate(facts, trace="full")), "text")
    assert "at stake: $52.11 once the record is complete" in text
    assert text.count("at stake:") == 1, "a code at stake for $0.00 says nothing"


def test_a_code_the_pack_cannot_evaluate_with_the_denial_lifted_has_no_amount_at_stake(tmp_path):
    """A rule that fails only where a gate used to stop it: the decision is still made,
    and with the gate lifted the pack cannot decide the month, so no line knows its amount
    at stake (null) rather than the decision failing."""
    directory = tmp_path / "overlay"
    directory.mkdir()
    (directory / "pack.yaml").write_text(
        "pack: {id: overlay, version: 1.0.0, fee_schedule_year: 2026, effective: {from: 2026-01-01, to: 2026-12-31}}\n"
        "extends: cms-rpm-2026\n"
        "rules:\n  - id: rpm.99457.first_20_minutes\n"
        "    required: params.time_threshold // (if (consent.obtained ?? false) then 1 else 0)\n")
    pack = policyengine.load_pack(str(directory))
    facts = seed_month()
    assert [line["code"] for line in policyengine.evaluate(facts, pack, trace="none")["billable"]] == ["99457", "99454"]
    facts["consent"] = None
    stake = at_stake(policyengine.evaluate(facts, pack, trace="none"))
    assert stake and set(stake.values()) == {None}


def month_of(minutes: int, as_of: str) -> dict:
    """The seed month with `minutes` of countable interactive time, as of a day before its end."""
    facts = seed_month()
    facts["interactions"][0]["duration_seconds"] = minutes * 60 - sum(i["duration_seconds"]
                                                                       for i in facts["interactions"][1:])
    facts["as_of"] = as_of
    return facts


def test_an_opportunity_adds_what_its_code_bills_less_the_code_it_replaces():
    """17 minutes on the 25th bill 99470; three more minutes earn 99457, which replaces it."""
    decision = policyengine.evaluate(month_of(17, "2026-03-25"), trace="none")
    assert {line["code"]: line["amount"] for line in decision["billable"]}["99470"] == "26.05"
    [opportunity] = decision["opportunities"]
    assert (opportunity["code"], opportunity["missing"], opportunity["adds"]) == (
        "99457", "3 min more RPM interactive time", "25.72")  # 51.77 - 26.05


def test_an_opportunity_with_nothing_earned_yet_adds_the_whole_code():
    decision = policyengine.evaluate(month_of(25, "2026-03-20"), trace="none")
    assert [(o["code"], o["adds"]) for o in decision["opportunities"]] == [("99458", "41.42")]  # 1.24 x 33.4009


def test_the_explanation_says_what_an_opportunity_adds():
    text = render(explain(policyengine.evaluate(month_of(17, "2026-03-25"), trace="full")), "text")
    assert "99457: 3 min more RPM interactive time by 2026-03-31 (adds $25.72)" in text


# --- what is out of reach, and what documentation would add -----------------------------------

def _device_month(days: int, as_of: str) -> dict:
    facts = seed_month()
    facts["transmission_days"] = [f"2026-03-{d:02d}" for d in range(1, days + 1)]
    facts["as_of"] = as_of
    return facts


def test_a_code_that_cannot_be_reached_in_the_days_left_is_out_of_reach_not_offered():
    """12 reading days with 3 days left in the period: 99454 needs 4 more, so it is out of
    reach, said with what it would have added; 99445 is earned; nothing is offered for it."""
    decision = policyengine.evaluate(_device_month(12, "2026-03-27"), trace="none")
    assert "99445" in {line["code"] for line in decision["billable"]}
    assert "99454" not in {o["code"] for o in decision["opportunities"]}
    assert decision["out_of_reach"] == [{
        "code": "99454", "missing": "4 more transmission days", "by": "2026-03-30",
        "message": "99454 is out of reach: it needs 4 more transmission days by 2026-03-30", "adds": "0.00"}]


def test_with_days_enough_left_the_same_code_is_offered_and_nothing_is_out_of_reach():
    decision = policyengine.evaluate(_device_month(12, "2026-03-20"), trace="none")
    assert [o["missing"] for o in decision["opportunities"] if o["code"] == "99454"] == ["4 more transmission days"]
    assert "out_of_reach" not in decision  # present only when something is


def test_a_call_without_its_performer_puts_what_documenting_it_adds_at_stake():
    """16 counted minutes bill 99470; the 8-minute call without a performer would make 24:
    99457 in place of 99470 adds $25.72 (example 2026-01-missing-performer)."""
    facts = json.loads((SEED_MONTH.parent / "2026-01-missing-performer.json").read_text())
    finding = next(f for f in policyengine.evaluate(facts, trace="none")["findings"]
                   if f["id"] == "documentation.interaction_incomplete")
    assert (finding["evidence"], finding["amount_at_stake"]) == (["/interactions/1"], "25.72")
    text = render(explain(policyengine.evaluate(facts, trace="full")), "text")
    assert "at stake $25.72 once the records are complete" in text


def test_documentation_behind_a_failed_gate_adds_nothing():
    facts = json.loads((SEED_MONTH.parent / "2026-01-missing-performer.json").read_text())
    facts["consent"] = None
    finding = next(f for f in policyengine.evaluate(facts, trace="none")["findings"]
                   if f["id"] == "documentation.interaction_incomplete")
    assert finding["amount_at_stake"] == "0.00"


def _overlay(tmp_path: Path, body: str) -> Path:
    directory = tmp_path / "overlay"
    directory.mkdir()
    (directory / "pack.yaml").write_text(
        "pack: {id: overlay, version: 1.0.0, fee_schedule_year: 2026, effective: {from: 2026-01-01, to: 2026-12-31}}\n"
        "extends: cms-rpm-2026\n" + body)
    return directory


@pytest.mark.parametrize("body, message", [
    ("findings:\n  - id: documentation.interaction_incomplete\n    if_documented: {countable_tme: 0 s}\n",
     "unknown definition 'countable_tme' (did you mean 'countable_time'?)"),
    ("findings:\n  - id: documentation.interaction_incomplete\n    if_documented: {countable_time: 3}\n",
     "duration"),
    ("rules:\n  - id: rpm.99454.device_supply_16_days\n    opportunity:\n      when: true\n      reachable: supply_days\n"
     "      missing: 1\n      by: period_end\n      needed: more days\n", "bool"),
])
def test_the_pack_says_where_its_documented_values_or_reachability_are_wrong(tmp_path, body, message):
    directory = _overlay(tmp_path, body)
    with pytest.raises(policyengine.DiagnosticError) as raised:
        policyengine.compile_pack(directory)
    [problem] = raised.value.diagnostics
    assert message in problem.message and problem.location.startswith(f"{directory / 'pack.yaml'}:"), problem.location

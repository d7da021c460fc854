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

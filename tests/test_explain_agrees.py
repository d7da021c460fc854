"""An explanation agrees with the decision it explains, and does not depend on how a pack
writes its conditions.

Over every case of every bundled pack, and the same facts with codes billed elsewhere: the
explanation's billed codes and units are the decision's, and replaying its time ledgers'
crossings ends on what the decision bills of the codes those totals decide. Rewriting the
packs' conditions into equivalent forms leaves every section of every explanation as it was.
"""
from __future__ import annotations

import copy

import pytest

import policyengine
from packcopy import copy_chain
from policyengine.explain import explain
from policyengine.packs import bundled_ids
from policyengine.testing import load_cases
from policyengine.testing.runner import case_files

ELSEWHERE = {
    "as cased": None,
    "99457 billed elsewhere": [{"code": "99457"}],
    "99454 billed elsewhere": [{"code": "99454", "practitioner": "DR-9"}],
    "99470 billed by the same practitioner": [{"code": "99470", "practitioner": "DR-1"}],
}


def variants():
    for pack_id in bundled_ids():
        for path in case_files(pack_id):
            for case in load_cases(path):
                if "error" not in case.expect:
                    for label, services in ELSEWHERE.items():
                        yield pack_id, case, label, services


CASES = list(variants())


def facts_of(case, services) -> dict:
    facts = copy.deepcopy(case.facts)
    if services is not None:
        facts["other_services"] = facts.get("other_services", []) + services
    return facts


def replayed(ledger) -> dict[str, int]:
    """What the ledger's crossings, in order, say is billed at its total."""
    billed: dict[str, int] = {}
    for row in ledger.rows:
        for crossing in row.crossings:
            for code in crossing.replaced:
                billed.pop(code, None)
            for earned in crossing.earned:
                code, _, units = earned.partition(" x")
                billed[code] = int(units)
    return billed


@pytest.mark.parametrize("pack_id,case,label,services", CASES,
                         ids=[f"{p}: {c.name} ({label})" for p, c, label, _ in CASES])
def test_the_explanation_agrees_with_its_decision(pack_id, case, label, services):
    pack = policyengine.load_pack(pack_id)
    decision = policyengine.evaluate(facts_of(case, services), pack, case.options, trace="full")
    ex = explain(decision, pack)
    assert ex.disagreements == []
    billed = {line["code"]: line["units"] for line in decision["billable"]}
    assert {c.code: c.units for c in ex.codes if c.billable} == billed
    for ledger in ex.ledgers:
        assert ledger.unavailable is None
        if ledger.failed_gates:
            assert all(row.crossings == [] for row in ledger.rows)
            continue
        decided_here = {pack.rules_by_id[rule_id].code for tally in pack.analysis.tallies
                        if tally.definition == ledger.definition for rule_id in tally.rules}
        assert replayed(ledger) == {code: units for code, units in billed.items() if code in decided_here}


# --- equivalent conditions ------------------------------------------------------------------

REWRITES = [
    ("count(clinical_topics) > 0", "count(clinical_topics) >= 1"),
    ("count(interactive_rpm) > 0", "0 < count(interactive_rpm)"),
    ("present(performer) and present(summary)", "present(summary) and present(performer)"),
    ("and two_way\n", "and two_way == true\n"),
    ('where program == "rpm"', 'where "rpm" == program'),
    ("countable_time >= params.time_threshold", "not (countable_time < params.time_threshold)"),
    ("supply_days >= params.full_supply_days", "not (supply_days < params.full_supply_days)"),
]


def rewritten(text: str) -> str:
    for old, new in REWRITES:
        text = text.replace(old, new)
    return text


def sections(ex) -> tuple:
    """Every section of an explanation, as data, without the text of any expression."""
    codes = [(c.code, c.billable, c.units, c.status, c.reason, c.actual, c.required, c.short_by,
              sorted(c.unlock_fields), [(g.pointer, sorted(g.fields), g.seconds) for g in c.gaps], c.gaps_would_unlock)
             for c in ex.codes]
    ledgers = [(ledger.definition, ledger.total, ledger.cap_seconds, ledger.failed_gates, len(ledger.not_added),
                [(row.pointer, row.counted, row.documentation_gap, row.excluded_in, sorted(row.missing_fields),
                  row.running, row.capped,
                  [(c.clock, c.earned, c.replaced, c.reached, c.left) for c in row.crossings]) for row in ledger.rows])
               for ledger in ex.ledgers]
    days = [(d.definition, d.count, d.days, d.rules) for d in ex.day_counts]
    return codes, ledgers, days, [(f.id, f.evidence) for f in ex.findings]


def test_equivalent_conditions_explain_the_same(tmp_path):
    copied = copy_chain(tmp_path, rewritten)
    texts = "".join((directory / "pack.yaml").read_text() for directory in copied.values())
    assert all(new in texts for _, new in REWRITES)  # every rewrite found something to rewrite
    compared = 0
    for pack_id in bundled_ids():
        original, equivalent = policyengine.load_pack(pack_id), policyengine.load_pack(copied[pack_id])
        assert original.sha256 != equivalent.sha256
        for path in case_files(pack_id):
            for case in load_cases(path):
                if "error" in case.expect:
                    continue
                a = explain(policyengine.evaluate(case.facts, original, case.options, trace="full"), original)
                b = explain(policyengine.evaluate(case.facts, equivalent, case.options, trace="full"), equivalent)
                assert sections(a) == sections(b), case.name
                compared += 1
    assert compared > 250

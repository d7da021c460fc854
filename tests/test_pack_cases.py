"""Every bundled pack's own YAML cases, as pytest items, and the coverage they must reach."""
from __future__ import annotations

import pytest

from policyengine.packs import bundled_ids, load_pack
from policyengine.testing import load_cases, run_case, test_pack
from policyengine.testing.runner import case_files

CASES = [(pack_id, case) for pack_id in bundled_ids() for path in case_files(pack_id) for case in load_cases(path)]


@pytest.mark.parametrize("pack_id,case", CASES, ids=[f"{p}: {c.name}" for p, c in CASES])
def test_pack_case(pack_id, case):
    result = run_case(case, load_pack(pack_id))
    assert result.passed, f"{case.location}: " + "; ".join(result.failures)


@pytest.mark.parametrize("pack_id", bundled_ids())
def test_pack_coverage_reaches_its_threshold(pack_id):
    """Of the whole pack, not only what it says itself: each year's cases test the rules
    it inherits too."""
    report = test_pack(load_pack(pack_id), pack_id, whole_pack=True)
    assert not report.failed
    assert report.coverage.percent >= report.threshold, report.render()


@pytest.mark.parametrize("pack_id", bundled_ids())
def test_compiled_rule_programs_decide_as_the_step_by_step_path(pack_id):
    """The untraced path runs definitions, rules and finding conditions as compiled
    programs; the full trace evaluates each expression on its own. Same decisions."""
    import policyengine

    pack = load_pack(pack_id)
    compared = 0
    for path in case_files(pack_id):
        for case in load_cases(path):
            if "error" in case.expect:
                continue
            fast = policyengine.evaluate(case.facts, pack, case.options, trace="none")
            stepwise = policyengine.evaluate(case.facts, pack, case.options, trace="full")
            for key in ("billable", "not_billable", "findings", "opportunities", "total"):
                assert fast[key] == stepwise[key], (case.name, key)
            compared += 1
    assert compared > 50

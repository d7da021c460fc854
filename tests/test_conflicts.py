"""Conflicts between codes as pack data: checked when a pack compiles (each problem at its
file:line:col), resolved the same whatever the order of the rules, read from a deprecated
`excludes:` with a warning; and a code's max_units enforced."""
from __future__ import annotations

import json

import pytest

import policyengine
from packcopy import ROOT, copy_chain, shuffle_list
from policyengine import DiagnosticError, compile_pack
from policyengine.packs import bundled_ids
from policyengine.testing import load_cases
from policyengine.testing.runner import case_files

HEADER = ("pack: {id: overlay, version: 1.0.0, fee_schedule_year: 2026, "
          "effective: {from: 2026-01-01, to: 2026-12-31}}\nextends: cms-rpm-2026\n")
SEED = json.loads((ROOT / "examples" / "2026-03-seed-22-minutes.json").read_text())
NEW_CODES = ("codes:\n"
             "  \"99198\": {descriptor: a test code, clock: calendar_month, rvu: \"1\"}\n"
             "  \"99199\": {descriptor: another test code, clock: calendar_month, rvu: \"1\"}\n")


def overlay(tmp_path, text: str):
    directory = tmp_path / "overlay"
    directory.mkdir()
    (directory / "pack.yaml").write_text(HEADER + text)
    return directory


def conflict(codes: str, rest: str) -> str:
    return f"conflicts:\n  - id: test.conflict\n    codes: {codes}\n    {rest}\n"


BAD = {
    "pack.unknown_code": (conflict('["99457", "99475"]', 'keep: "99457"\n    citation: test'), "pack.yaml:5:22",
                          "unknown code '99475' (did you mean '99470'?)"),
    "pack.conflict_keep": (conflict('["99457", "99470"]', 'keep: "99454"\n    citation: test'), "pack.yaml:6:11",
                           "keeps '99454', which is not one of its codes"),
    "pack.conflict_never_applies": (NEW_CODES + conflict('["99198", "99199"]', 'keep: "99198"\n    citation: test'),
                                    "pack.yaml:8:12", "no rule of this pack decides 99198 or 99199"),
    "pack.conflict_repeats": (conflict('["99470", "99457"]', 'keep: "99457"\n    citation: test'), "pack.yaml:5:12",
                              "repeats conflict 'concurrency.management_first_10_or_20_minutes'"),
    "pack.conflict_contradicts": (conflict('["99457", "99470"]', 'keep: "99470"\n    citation: test'), "pack.yaml:6:11",
                                  "contradicts conflict 'concurrency.management_first_10_or_20_minutes'"),
    "pack.conflict_cycle": (conflict('["99457", "99458"]', 'keep: "99458"\n    citation: test'), "pack.yaml:6:11",
                            "cycle: 99457, 99458"),
    "pack.rule_never_bills": (conflict('["99457", "99458"]', 'keep: "99457"\n    citation: test'), "cms-rpm-2024/pack.yaml",
                              "it requires 99457, and conflict 'test.conflict' keeps 99457 over 99458"),
    "pack.missing_field": (conflict('["99457", "99470"]', 'keep: "99457"'), "pack.yaml:4:5",
                           "conflict 'test.conflict' needs citation"),
    "pack.code_decided_twice": ("rules:\n  - id: another.99457\n    code: \"99457\"\n    when: true\n"
                                "    reason: {met: a, not_met: b}\n", "pack.yaml:5:11",
                                "decides 99457, which rule 'rpm.99457.first_20_minutes' decides already"),
}


@pytest.mark.parametrize("code", sorted(BAD))
def test_each_bad_conflict_is_reported_where_it_is_written(tmp_path, code):
    text, location, words = BAD[code]
    with pytest.raises(DiagnosticError) as info:
        compile_pack(overlay(tmp_path, text))
    found = [d for d in info.value.diagnostics if d.code == code]
    assert found, [d.render() for d in info.value.diagnostics]
    assert location in found[0].headline() and words in found[0].headline(), found[0].render()


def test_a_one_practitioner_conflict_keeps_no_code(tmp_path):
    text = conflict('["99457", "99458"]', 'one_practitioner: true\n    keep: "99457"\n    citation: test')
    with pytest.raises(DiagnosticError) as info:
        compile_pack(overlay(tmp_path, text))
    assert [d.code for d in info.value.diagnostics] == ["pack.conflict_keep"]


def test_excludes_is_read_as_a_conflict_with_a_warning_that_shows_it(tmp_path):
    """`excludes` on 99457 now means what it says whatever the order: the code it names
    (decided by a rule that comes later) is kept, and 99457 is dropped."""
    text = (NEW_CODES + "rules:\n"
            "  - id: rpm.99457.first_20_minutes\n    excludes: [\"99199\"]\n"
            "  - id: test.99199\n    code: \"99199\"\n    when: countable_time >= 5 min\n"
            "    reason: {met: '{actual} of time', not_met: '{actual} of time'}\n    citation: a test rule\n")
    pack = compile_pack(overlay(tmp_path, text))
    (warning,) = pack.warnings
    assert warning.code == "pack.excludes_deprecated" and warning.severity == "warning"
    assert "overlay/pack.yaml:8:16" in warning.headline()
    assert 'codes: ["99457", "99199"]' in (warning.hint or "") and 'keep: "99199"' in (warning.hint or "")
    decision = policyengine.evaluate(SEED, pack, trace="none")
    assert ("99199", 1) in [(b["code"], b["units"]) for b in decision["billable"]]
    assert "99457" not in [b["code"] for b in decision["billable"]]


def test_validate_prints_the_warning_and_passes(tmp_path):
    from click.testing import CliRunner

    from policyengine.cli import main
    text = NEW_CODES + ("rules:\n  - id: test.99199\n    code: \"99199\"\n    when: true\n    excludes: [\"99457\"]\n"
                        "    reason: {met: a, not_met: b}\n")
    result = CliRunner().invoke(main, ["validate", str(overlay(tmp_path, text))])
    assert result.exit_code == 0 and "pack.excludes_deprecated" in result.stderr and "1 warning" in result.stdout


def test_a_code_never_bills_more_units_than_its_max_units(tmp_path):
    text = ("options:\n  addon_max_units: {default: 3}\n"
            "codes:\n  \"99458\": {max_units: 1}\n")
    facts = dict(SEED, interactions=[dict(SEED["interactions"][0], duration_seconds=65 * 60)])
    decision = policyengine.evaluate(facts, overlay(tmp_path, text), trace="none")
    addon = next(b for b in decision["billable"] if b["code"] == "99458")
    assert addon["units"] == 1 and addon["amount"] == "41.42"
    assert addon["reason"].endswith("(2 units earned; 99458 bills at most 1)")
    capped = next(f for f in decision["findings"] if f["id"] == "units.capped")
    assert capped["message"] == "99458 earned 2 units; the code bills at most 1 (max_units)"
    unbounded = policyengine.evaluate(facts, "cms-rpm-2026", options={"addon_max_units": 3}, trace="none")
    assert next(b for b in unbounded["billable"] if b["code"] == "99458")["units"] == 2


def _normalized(decision: dict) -> tuple:
    return (sorted((b["code"], b["units"], b["amount"], b["reason"]) for b in decision["billable"]),
            sorted((n["code"], n["status"], n["reason"]) for n in decision["not_billable"]),
            sorted((f["id"], f["message"], tuple(f["evidence"])) for f in decision["findings"]),
            sorted((o["code"], o["missing"]) for o in decision["opportunities"]), decision["total"])


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_resolution_does_not_depend_on_the_order_of_rules(tmp_path, seed):
    """Every case of every bundled pack, decided by the bundled pack and by a copy whose
    rules and conflicts are in another order: the same decisions."""
    shuffled = copy_chain(tmp_path, lambda text: shuffle_list(shuffle_list(text, "rules", seed), "conflicts", seed))
    compared = 0
    for pack_id in bundled_ids():
        original, reordered = policyengine.load_pack(pack_id), policyengine.load_pack(shuffled[pack_id])
        assert [r.id for r in original.rules] != [r.id for r in reordered.rules]
        for path in case_files(pack_id):
            for case in load_cases(path):
                if "error" in case.expect:
                    continue
                a = policyengine.evaluate(case.facts, original, case.options, trace="none")
                b = policyengine.evaluate(case.facts, reordered, case.options, trace="none")
                assert _normalized(a) == _normalized(b), case.name
                compared += 1
    assert compared > 250

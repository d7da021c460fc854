"""Packs written carelessly (or to do harm): `validate` reports what evaluation would trip on,
at its file:line:col with exit 1, and what only the facts can show is an error of the pack
at evaluation (exit 1), never a traceback, a crash or a wrong amount."""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

import policyengine
from packcopy import ROOT
from policyengine import DiagnosticError, compile_pack
from policyengine.cli import main
from policyengine.engine import EvaluationFailed

HEADER = ("pack: {id: overlay, version: 1.0.0, fee_schedule_year: 2026, "
          "effective: {from: 2026-01-01, to: 2026-12-31}}\nextends: cms-rpm-2026\n")
SEED = json.loads((ROOT / "examples" / "2026-03-seed-22-minutes.json").read_text())


def overlay(tmp_path, text: str, header: str = HEADER):
    directory = tmp_path / "overlay"
    directory.mkdir(exist_ok=True)
    (directory / "pack.yaml").write_text(header + text)
    return directory


def reason(template: str) -> str:
    return (f"rules:\n  - id: rpm.99457.first_20_minutes\n    reason:\n      met: '{template}'\n"
            "      not_met: '{actual} of the required {required}'\n")


BAD = {
    "an unknown placeholder": (reason("{foo} of time"), "pack.bad_template", "pack.yaml:6:12", "'{foo}'"),
    "an unclosed brace": (reason("{ of time"), "pack.bad_template", "pack.yaml:6:12", "a brace that opens or closes nothing"),
    "a positional placeholder": (reason("{0} of time"), "pack.bad_template", "pack.yaml:6:12", "'{0}'"),
    "attribute access": (reason("{actual.__class__}"), "pack.bad_template", "pack.yaml:6:12", "'{actual.__class__}'"),
    "a format specification": (reason("{actual:>300000000}"), "pack.bad_template", "pack.yaml:6:12",
                               "'{actual:>300000000}'"),
    "a parameter date that does not exist": (
        "parameters:\n  time_threshold:\n    values:\n      2026-02-30: {value: 19 min}\n",
        "pack.bad_date", "pack.yaml:6:7", "2026-02-30 is not a real date"),
    "a negative RVU": ("parameters:\n  rvu_99457:\n    values:\n      2026-01-01: {value: -1.55}\n",
                       "pack.bad_value", "pack.yaml:6:27", "the RVU of 99457 from 2026-01-01 is -1.55"),
    "an RVU of 1e400": ("parameters:\n  rvu_99457:\n    values:\n      2026-01-01: {value: 1e400}\n",
                        "pack.bad_value", "pack.yaml:6:27", "is 1E+400; an RVU is from 0 to 1000"),
    "a conversion factor of $0": ("parameters:\n  conversion_factor:\n    values:\n      2026-07-01: {value: $0}\n",
                                  "pack.bad_value", "pack.yaml:6:27", "a conversion factor of $0 per RVU"),
    "a conversion factor of $40000": (
        "parameters:\n  conversion_factor_qp:\n    values:\n      2026-07-01: {value: $40000}\n",
        "pack.bad_value", "pack.yaml:6:27", "$40000 per RVU is outside $0 to $1000"),
    "a float where money is expected": ("parameters:\n  conversion_factor:\n    values:\n      2026-07-01: {value: 33.9}\n",
                                        "pack.bad_value", "pack.yaml:6:27", "this value is not a money"),
    "an option default below its range": ("options:\n  addon_max_units: {default: -1}\n", "pack.bad_option", "pack.yaml:4:30",
                                          "(-1) is outside its own range 0 to ..."),
    "if_documented naming no definition": (
        "gates:\n  - id: patient.established_documented\n    if_documented: [establishd]\n", "pack.bad_if_documented",
        "pack.yaml:5:21", "unknown definition 'establishd' (did you mean 'established'?)"),
    "if_documented naming a count": (
        "gates:\n  - id: patient.established_documented\n    if_documented: [supply_days]\n", "pack.bad_if_documented",
        "pack.yaml:5:21", "'supply_days' is not a yes/no definition (it is of type int)"),
    "if_documented on a denial the record cannot lift": (
        "gates:\n  - id: patient.established\n    if_documented: [established]\n", "pack.not_recoverable",
        "pack.yaml:5:20", "if_documented is for a denial the record can lift, not status not_met"),
    "max_units beyond any line": ("codes:\n  \"99458\": {max_units: 1000}\n", "pack.bad_value", "pack.yaml:4:24",
                                  "max_units 1000 is more than any line bills (100)"),
}


@pytest.mark.parametrize("name", sorted(BAD))
def test_validate_reports_it_where_it_is_written(tmp_path, name):
    text, code, location, words = BAD[name]
    with pytest.raises(DiagnosticError) as info:
        compile_pack(overlay(tmp_path, text))
    found = [d for d in info.value.diagnostics if d.code == code]
    assert found, [d.render() for d in info.value.diagnostics]
    assert location in found[0].headline() and words in found[0].headline(), found[0].render()
    result = CliRunner().invoke(main, ["validate", str(tmp_path / "overlay")])
    assert result.exit_code == 1 and location in result.stderr and "Traceback" not in result.output


@pytest.mark.parametrize("effective,code,words", [
    ("{from: 2026-01-01, to: 2026-02-30}", "pack.bad_date", "2026-02-30 is not a real date"),
    ("{from: 2026-12-31, to: 2026-01-01}", "pack.reversed_dates", "effective to 2026-01-01, before 2026-12-31"),
])
def test_effective_dates_are_real_and_run_forward(tmp_path, effective, code, words):
    header = f"pack: {{id: overlay, version: 1.0.0, fee_schedule_year: 2026, effective: {effective}}}\nextends: cms-rpm-2026\n"
    with pytest.raises(DiagnosticError) as info:
        compile_pack(overlay(tmp_path, "", header))
    (diagnostic,) = [d for d in info.value.diagnostics if d.code == code]
    assert "overlay/pack.yaml:1:" in diagnostic.headline() and words in diagnostic.message


def test_a_template_renders_only_the_values_it_names(tmp_path):
    pack = compile_pack(overlay(tmp_path, reason("{{actual}} is {actual}, braces {{ }} kept")))
    decision = policyengine.evaluate(SEED, pack, trace="none")
    line = next(b for b in decision["billable"] if b["code"] == "99457")
    assert line["reason"] == "{actual} is 22 min, braces { } kept"
    rule = next(r for r in pack.rules if r.id == "rpm.99457.first_20_minutes")
    assert rule.reason_met.source == "{{actual}} is {actual}, braces {{ }} kept"  # as written: diff shows this


def test_an_option_out_of_its_range_is_refused(tmp_path):
    for value in ("-1", "9" * 5000):
        with pytest.raises(DiagnosticError) as info:
            policyengine.evaluate(SEED, "cms-rpm-2026", options={"addon_max_units": value})
        assert [d.code for d in info.value.diagnostics] == ["option.bad_value"]
        assert "a whole number from 0 to ..." in (info.value.diagnostics[0].hint or "")


@pytest.mark.parametrize("text,words", [
    ("definitions:\n  period_end: add_days(as_of_date, 999999999)\n", "definition:period_end could not be evaluated"),
    ("rules:\n  - id: rpm.99458.each_additional_20_minutes\n    units: 500\n", "the rule earns 500 units; a line bills at most 100"),
    ("codes:\n  \"99457\": {rvu: \"if established_patient ?? false then -1.0 else 1.0\"}\n", "the rate of 99457 is $-33.40"),
])
def test_what_only_the_facts_can_show_fails_at_evaluation_naming_the_pack(tmp_path, text, words):
    directory = overlay(tmp_path, text)
    facts = dict(SEED, interactions=[dict(SEED["interactions"][0], duration_seconds=3000)])
    with pytest.raises(EvaluationFailed) as info:
        policyengine.evaluate(facts, directory, trace="none")
    (diagnostic,) = info.value.diagnostics
    assert diagnostic.code == "eval.out_of_range" and words in diagnostic.message
    assert "overlay/pack.yaml:" in diagnostic.location
    (tmp_path / "f.json").write_text(json.dumps(facts))
    result = CliRunner().invoke(main, ["evaluate", str(tmp_path / "f.json"), "--pack", str(directory)])
    assert result.exit_code == 1 and "Traceback" not in result.output


@pytest.mark.parametrize("trace", ["none", "compact", "full"])
def test_an_integer_beyond_64_bits_that_a_pack_computes_is_written_as_the_number_it_is(tmp_path, trace):
    """Facts cannot hold one, but a pack can compute one, and a decision shows it (orjson,
    which writes decisions, refuses it): the decision is written all the same."""
    big = 10**26 + 7
    directory = overlay(tmp_path, f"definitions:\n  supply_days: {big}\n")
    (tmp_path / "f.json").write_text(json.dumps(SEED))
    for pretty in (True, False):
        written = policyengine.to_json(policyengine.evaluate(SEED, directory, trace=trace), pretty=pretty)
        assert str(big) in written and json.loads(written)["billable"]
    result = CliRunner().invoke(main, ["evaluate", str(tmp_path / "f.json"), "--pack", str(directory), "--trace", trace])
    assert result.exit_code == 0 and "Traceback" not in result.output
    device = next(line for line in json.loads(result.output)["billable"] if line["code"] == "99454")
    assert device["actual"] == big


@pytest.mark.parametrize("evidence", ["interactions where duration_seconds > 0 s",
                                      "if count(interactions) > 0 then interactions else interactions where false"])
def test_evidence_names_its_records_by_pointer_whether_or_not_their_list_is_known(tmp_path, evidence):
    """A filter of a facts list points by index into that list (the pack's analysis knows
    it); any other expression of records is pointed at by identity among all the facts'."""
    directory = overlay(tmp_path, f"findings:\n  - id: time.listed\n    severity: info\n    when: 'true'\n"
                                  f"    message: every interaction\n    evidence: '{evidence}'\n")
    pack = compile_pack(directory)
    known = pack.analysis.evidence_lists.get(pack.findings_by_id["time.listed"].evidence_slot)
    assert known == ("interactions" if "if" not in evidence else None)
    facts = dict(SEED, interactions=[dict(item, id=f"IX-{i}") for i, item in enumerate(SEED["interactions"] * 2)])
    finding = next(f for f in policyengine.evaluate(facts, directory, trace="none")["findings"] if f["id"] == "time.listed")
    assert finding["evidence"] == [f"/interactions/{i}" for i in range(len(facts["interactions"]))]


def test_an_extends_cycle_is_reported_at_the_extends_line(tmp_path):
    for name, other in (("a", "b"), ("b", "a")):
        (tmp_path / name).mkdir()
        (tmp_path / name / "pack.yaml").write_text(HEADER.replace("id: overlay", f"id: {name}")
                                                   .replace("extends: cms-rpm-2026", f"extends: ../{other}"))
    with pytest.raises(DiagnosticError) as info:
        compile_pack(tmp_path / "a")
    (diagnostic,) = info.value.diagnostics
    assert diagnostic.code == "pack.extends_cycle" and diagnostic.location.endswith("b/pack.yaml:2:10")


def test_a_bare_id_is_the_bundled_pack_whatever_folder_has_its_name(tmp_path, monkeypatch):
    local = overlay(tmp_path, "options:\n  addon_max_units: {default: 3}\n").rename(tmp_path / "cms-rpm-2026")
    monkeypatch.chdir(tmp_path)
    assert policyengine.load_pack("cms-rpm-2026").options["addon_max_units"].default == 2
    assert policyengine.load_pack("./cms-rpm-2026").options["addon_max_units"].default == 3
    assert policyengine.load_pack(str(local)).id == "overlay"

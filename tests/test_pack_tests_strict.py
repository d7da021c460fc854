"""A pack's own tests cannot pass vacuously: a misspelt key or a case that expects nothing
is an error naming where; an overlay's coverage counts what the overlay says."""
from __future__ import annotations

import textwrap

import pytest
from click.testing import CliRunner

from policyengine.cli import main
from policyengine.diagnostics import DiagnosticError
from policyengine.packs import load_pack
from policyengine.testing import load_cases, test_pack

OVERLAY = """\
pack:
  id: acme-rpm-2027
  version: 0.1.0
  fee_schedule_year: 2027
  effective: {from: 2027-01-01, to: 2027-12-31}
extends: cms-rpm-2026
parameters:
  time_threshold:
    values:
      2027-01-01: {value: 21 min, citation: a practice's own reading, confidence: high}
"""

CASES = """\
defaults:
  facts:
    patient_id: P-1
    month: 2027-03
    established_patient: true
    consent: {obtained: true, date: 2027-01-04, method: verbal, recorded_by: RN Diaz}
    interactions: []
  items:
    interactions: {date: 2027-03-10, modality: phone, two_way: true, program: rpm, clinical_topics: [symptoms],
                   performer: {id: RN-1, role: clinical_staff}, summary: reviewed home readings}
cases:
  - name: 20 min is under the overlay's 21 min
    facts: {interactions: [{id: a, duration_seconds: 1200}]}
    expect: {billable: [{code: "99470", units: 1}]}
  - name: 21 min earns 99457
    facts: {interactions: [{id: a, duration_seconds: 1260}]}
    expect: {billable: [{code: "99457", units: 1}]}
"""


def case_file(tmp_path, cases: str):
    path = tmp_path / "cases.yaml"
    path.write_text(textwrap.dedent(cases))
    return path


def problems(tmp_path, cases: str) -> list[tuple[str, str, str | None]]:
    with pytest.raises(DiagnosticError) as raised:
        load_cases(case_file(tmp_path, cases))
    return [(d.code, d.span.location if d.span else d.where, d.message) for d in raised.value.diagnostics]


def test_a_misspelt_expectation_is_an_error_with_did_you_mean(tmp_path):
    found = problems(tmp_path, """\
        cases:
          - name: misspelt
            facts: {}
            expect: {billabel: []}
        """)
    assert found == [("cases.unknown_field", f"{tmp_path}/cases.yaml:4:14",
                      "unknown field 'billabel' (did you mean 'billable'?)")]


def test_a_misspelt_key_of_a_case_or_a_line_is_an_error(tmp_path):
    found = problems(tmp_path, """\
        cases:
          - name: misspelt
            expcet: {billable: []}
          - name: misspelt line
            expect: {billable: [{code: "99457", unit: 1}]}
        """)
    assert [(code, message) for code, _, message in found] == [
        ("cases.missing_field", "missing required field 'expect'"),
        ("cases.unknown_field", "unknown field 'expcet' (did you mean 'expect'?)"),
        ("cases.unknown_field", "unknown field 'unit' (did you mean 'units'?)"),
    ]


def test_a_case_that_expects_nothing_is_an_error(tmp_path):
    found = problems(tmp_path, """\
        cases:
          - name: empty
            expect: {}
          - name: names no finding
            expect: {findings: []}
        """)
    assert [(code, where.rsplit(":", 2)[-2]) for code, where, _ in found] == [
        ("cases.no_expectation", "3"), ("cases.bad_size", "5")]


def test_every_problem_of_a_file_is_reported_at_once_by_the_command(tmp_path):
    pack = tmp_path / "pack"
    (pack / "tests").mkdir(parents=True)
    (pack / "pack.yaml").write_text(OVERLAY)
    (pack / "tests" / "cases.yaml").write_text("cases:\n  - name: a\n    expect: {billabel: []}\n"
                                               "  - name: b\n    expect: {}\n")
    result = CliRunner().invoke(main, ["test", str(pack)])
    assert result.exit_code == 1
    assert "cases.yaml:3:14: unknown field 'billabel' (did you mean 'billable'?)" in result.output
    assert "cases.yaml:5:13: the case expects nothing" in result.output
    assert "Traceback" not in result.output


def test_an_empty_expected_billable_list_is_a_real_expectation(tmp_path):
    """billable: [] says nothing is billable; it is checked, not vacuous."""
    (case,) = load_cases(case_file(tmp_path, "cases:\n  - name: nothing\n    expect: {billable: []}\n"))
    assert case.expect == {"billable": []}


@pytest.fixture
def overlay(tmp_path):
    (tmp_path / "tests").mkdir()
    (tmp_path / "pack.yaml").write_text(OVERLAY)
    (tmp_path / "tests" / "time.yaml").write_text(CASES)
    return tmp_path


def test_an_overlays_coverage_counts_the_conditions_reading_what_it_changed(overlay):
    report = test_pack(load_pack(overlay), overlay)
    assert not report.failed
    whole = test_pack(load_pack(overlay), overlay, whole_pack=True)
    assert 0 < report.coverage.total < whole.coverage.total
    gaps = report.coverage.gaps()
    assert gaps and all("params.time_threshold" in gap for gap in gaps)
    assert all(gap.split(":")[0].endswith("pack.yaml") for gap in gaps)
    assert "the conditions acme-rpm-2027 writes or whose parameters it sets" in report.render()


def test_an_overlays_coverage_counts_the_conditions_it_writes(overlay):
    text = OVERLAY + textwrap.dedent("""\
        rules:
          - id: rpm.99457.first_20_minutes
            when: countable_time >= params.time_threshold and (established_patient ?? false)
        """)
    (overlay / "pack.yaml").write_text(text)
    report = test_pack(load_pack(overlay), overlay)
    gaps = report.coverage.gaps()
    assert any(gap.startswith(f"{overlay}/pack.yaml") and gap.endswith("never false: established_patient ?? false")
               for gap in gaps), gaps


def test_a_pack_that_extends_nothing_counts_every_condition():
    report = test_pack(load_pack("cms-rpm-2024"), "cms-rpm-2024")
    assert report.coverage.total == test_pack(load_pack("cms-rpm-2024"), "cms-rpm-2024", whole_pack=True).coverage.total
    assert "whole-pack" not in report.render()


def test_the_command_counts_the_whole_pack_when_asked(overlay):
    own = CliRunner().invoke(main, ["test", str(overlay)])
    whole = CliRunner().invoke(main, ["test", str(overlay), "--whole-pack"])
    assert own.exit_code == whole.exit_code == 1  # neither reaches 100%
    assert len(whole.output.splitlines()) > len(own.output.splitlines())
    assert "rulepacks/cms-rpm-2026/pack.yaml" in whole.output

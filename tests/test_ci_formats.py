"""`test` and `validate` for CI: the same results as the text, in JSON and JUnit XML, with
the same exit codes (issue 30, item 7)."""
from __future__ import annotations

import json
from pathlib import Path
from xml.etree import ElementTree

import pytest
from click.testing import CliRunner

from policyengine.cli import main

ROOT = Path(__file__).resolve().parents[1]
HEADER = ("pack: {id: overlay-2026, version: 1.0.0, fee_schedule_year: 2026, "
          "effective: {from: 2026-01-01, to: 2026-12-31}}\nextends: cms-rpm-2026\n")
CASES = '''cases:
  - name: 21 min 40 s bill 99457
    facts: {interactions: [{id: a, duration_seconds: 1300}]}
    expect: {billable: [{code: "99457", units: 1}]}
  - name: a case that expects what the pack does not do
    facts: {interactions: [{id: a, duration_seconds: 1300}]}
    expect: {billable: [{code: "99458", units: 1}]}
'''


@pytest.fixture
def overlay(tmp_path: Path) -> Path:
    """An overlay restating one condition, one passing and one failing case: a failure, and
    coverage of half its condition's outcomes (never false)."""
    (tmp_path / "tests").mkdir()
    (tmp_path / "pack.yaml").write_text(HEADER + "rules:\n  - id: rpm.99457.first_20_minutes\n"
                                        "    when: countable_time >= params.time_threshold\n")
    gates = (ROOT / "rulepacks" / "cms-rpm-2026" / "tests" / "gates.yaml").read_text()
    (tmp_path / "tests" / "time.yaml").write_text(gates[:gates.index("cases:")] + CASES)
    return tmp_path


def run(*args: str):
    return CliRunner().invoke(main, list(args))


def test_junit_shows_each_case_and_the_coverage_as_test_cases(overlay):
    result = run("test", str(overlay), "--format", "junit")
    assert result.exit_code == 1
    suite = ElementTree.fromstring(result.stdout).find("testsuite")
    assert suite is not None and (suite.get("tests"), suite.get("failures")) == ("3", "2")
    cases = {case.get("name"): case for case in suite.iter("testcase")}
    assert cases["21 min 40 s bill 99457"].find("failure") is None
    failing = cases["a case that expects what the pack does not do"]
    assert failing.get("classname") == "overlay-2026.time" and failing.get("line") == "20"
    assert "expected [('99458', 1)], got [('99457', 1)]" in failing.find("failure").get("message")
    coverage = cases["condition coverage"].find("failure")
    assert "50.0% of condition outcomes" in coverage.get("message") and "never false" in coverage.text


def test_json_holds_what_the_text_says(overlay):
    result = run("test", str(overlay), "--format", "json")
    report = json.loads(result.stdout)
    assert result.exit_code == 1 and report["ok"] is False and (report["passed"], report["failed"]) == (1, 1)
    assert [case["passed"] for case in report["cases"]] == [True, False]
    assert report["coverage"]["percent"] == 50.0 and report["coverage"]["gaps"]
    text = run("test", str(overlay))
    assert all(failure in text.stdout for case in report["cases"] for failure in case["failures"])


def test_a_bundled_pack_passes_in_every_format():
    for output_format in ("json", "junit"):
        assert run("test", "cms-rpm-2026", "--format", output_format).exit_code == 0


def test_validate_json_says_valid_with_the_counts_or_gives_every_error(tmp_path):
    valid = run("validate", "cms-rpm-2026", "--format", "json")
    data = json.loads(valid.stdout)
    assert valid.exit_code == 0 and data["valid"] is True and data["rules"] == 7 and data["errors"] == []
    (tmp_path / "pack.yaml").write_text(HEADER + "rules:\n  - id: rpm.99457.first_20_minutes\n"
                                        "    when: countable_tme >= params.time_threshold\n")
    invalid = run("validate", str(tmp_path), "--format", "json")
    data = json.loads(invalid.stdout)
    assert invalid.exit_code == 1 and data["valid"] is False
    error = next(e for e in data["errors"] if e["code"] == "expr.unknown_name")
    assert error["where"].endswith("pack.yaml:5:11") and "did you mean 'countable_time'" in error["message"]


def test_validate_json_of_no_pack_is_a_usage_error_on_stderr(tmp_path):
    result = run("validate", str(tmp_path / "none"), "--format", "json")
    assert result.exit_code == 2 and result.stdout == "" and "Traceback" not in result.output

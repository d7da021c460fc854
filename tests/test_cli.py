"""The command line: contract exit codes, clear messages naming where, never a traceback."""
from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from policyengine.cli import main
from terminal import Terminal

EXAMPLES = Path(__file__).parent.parent / "examples"
SEED = EXAMPLES / "2026-03-seed-22-minutes.json"


@pytest.fixture
def run():
    def invoke(*args, input=None):
        result = CliRunner().invoke(main, [str(a) for a in args], input=input)
        assert "Traceback" not in result.output and "Traceback" not in (result.stderr or "")
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise result.exception
        return result
    return invoke


def seed() -> dict:
    return json.loads(SEED.read_text())


def write(tmp_path, data, name="facts.json") -> Path:
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    return path


def test_evaluate_prints_the_decision(run):
    result = run("evaluate", SEED)
    assert result.exit_code == 0
    decision = json.loads(result.stdout)
    assert [(b["code"], b["units"]) for b in decision["billable"]] == [("99457", 1), ("99454", 1)]


def test_evaluate_reads_stdin(run):
    result = run("evaluate", "-", "--trace", "none", input=SEED.read_text())
    assert result.exit_code == 0 and json.loads(result.stdout)["total"]


def test_same_facts_same_bytes(run):
    assert run("evaluate", SEED).stdout == run("evaluate", SEED).stdout


@pytest.mark.parametrize("mutate,where,words", [
    (lambda f: "{\"patient_id\": \"x\",", "facts.json:1:", "not valid JSON"),
    (lambda f: "patient_id: [unclosed", "facts.json:1:", "not valid YAML"),
    (lambda f: {k: v for k, v in f.items() if k != "month"}, "/", "missing required field 'month'"),
    (lambda f: {**f, "interactions": [{**f["interactions"][0], "duration_seconds": "600"}]},
     "/interactions/0/duration_seconds", "expected a whole number"),
    (lambda f: {**f, "interactions": [{**f["interactions"][0], "duration_seconds": -5}]},
     "/interactions/0/duration_seconds", "at least 0"),
    (lambda f: {**f, "interactions": [{**f["interactions"][0], "date": "2026-02-30"}]},
     "/interactions/0/date", "2026-02-30 is not a real date"),
    (lambda f: {**f, "interactions": [{**f["interactions"][0], "date": "2026-04-01"}]},
     "/interactions/0/date", "outside the month 2026-03"),
    (lambda f: {**f, "month": "2031-03", "interactions": [], "monitoring_period": None} if False else
     {k: v for k, v in {**f, "month": "2031-03", "interactions": []}.items()
      if k not in ("monitoring_period", "transmission_days")}, "/month", "no bundled rule pack is effective for 2031-03"),
])
def test_bad_facts_exit_2_with_a_message_naming_where(run, tmp_path, mutate, where, words):
    data = mutate(seed())
    result = run("evaluate", write(tmp_path, data))
    assert result.exit_code == 2
    assert where in result.stderr and words in result.stderr, result.stderr
    assert result.stdout == ""


def test_unknown_option_is_a_usage_error_with_did_you_mean(run):
    result = run("evaluate", SEED, "--option", "messaging_count=true")
    assert result.exit_code == 2
    assert "unknown option 'messaging_count' (did you mean 'messaging_counts'?)" in result.stderr


def test_bad_option_value_names_the_allowed_values(run):
    result = run("evaluate", SEED, "--option", "countable_time=everything")
    assert result.exit_code == 2
    assert "allowed: interactive_only, treatment_management" in result.stderr


def test_option_without_equals_is_a_usage_error(run):
    result = run("evaluate", SEED, "--option", "messaging_counts")
    assert result.exit_code == 2 and "NAME=VALUE" in result.stderr


def test_misspelled_optional_key_is_a_warning_finding_not_silence(run, tmp_path):
    facts = seed()
    facts["interactions"][0]["during_em_vist"] = True
    result = run("evaluate", write(tmp_path, facts), "--trace", "none")
    assert result.exit_code == 0
    findings = json.loads(result.stdout)["findings"]
    warning = next(f for f in findings if f["id"] == "facts.unknown_field")
    assert warning["severity"] == "warning"
    assert "did you mean 'during_em_visit'?" in warning["message"]
    assert warning["evidence"] == ["/interactions/0/during_em_vist"]


def test_unreadable_facts_file(run, tmp_path):
    result = run("evaluate", tmp_path / "nope.json")
    assert result.exit_code == 2 and "cannot read" in result.stderr


def test_unknown_pack(run):
    result = run("evaluate", SEED, "--pack", "cms-rpm-2099")
    assert result.exit_code == 2 and "no rule pack at 'cms-rpm-2099'" in result.stderr


def test_text_format(run):
    result = run("evaluate", SEED, "--format", "text")
    assert result.exit_code == 0 and "99457 x1" in result.stdout


def test_validate_bundled_pack(run):
    result = run("validate", "cms-rpm-2026")
    assert result.exit_code == 0 and "is valid" in result.stdout


def test_validate_reports_errors_inside_expressions_with_file_line_col(run, tmp_path):
    pack = tmp_path / "overlay"
    pack.mkdir()
    (pack / "pack.yaml").write_text(
        "pack: {id: overlay, version: 1.0.0, fee_schedule_year: 2026, effective: {from: 2026-01-01, to: 2026-12-31}}\n"
        "extends: cms-rpm-2026\n"
        "rules:\n"
        "  - id: rpm.99457.first_20_minutes\n"
        "    code: \"99457\"\n"
        "    when: sum(interactive_rpm.duraton_seconds) >= params.time_threshold\n"
        "    reason: {met: ok, not_met: short}\n")
    result = run("validate", pack)
    assert result.exit_code == 1
    assert "pack.yaml:6:31: unknown field 'duraton_seconds' of interaction (did you mean 'duration_seconds'?)" \
        in result.stderr


def test_help_everywhere(run):
    for args in ([], ["evaluate"], ["validate"]):
        result = run(*args, "--help")
        assert result.exit_code == 0 and "Usage:" in result.stdout


def test_a_named_pack_must_be_effective_in_the_facts_month(run):
    result = run("evaluate", EXAMPLES / "2025-06-42-minutes.json", "--pack", "cms-rpm-2026")
    assert result.exit_code == 2
    assert "/month: pack cms-rpm-2026 is effective 2026-01-01 to 2026-12-31, not in 2025-06" in result.stderr


def test_a_progress_bar_only_on_a_terminal(monkeypatch):
    """batch, impact, report, log replay, ingest fhir and timeline decide count on stderr when it is a terminal, never
    into a pipeline's log."""
    from policyengine.cli.common import progress
    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    with progress(3, "reporting") as advance:
        for _ in range(3):
            advance(1)
    assert "reporting" in terminal.getvalue() and "100%" in terminal.getvalue()
    piped = io.StringIO()
    monkeypatch.setattr(sys, "stderr", piped)
    with progress(3, "reporting") as advance:
        advance(3)
    assert piped.getvalue() == ""

"""policyengine impact: every patient-month decided under two packs; what changed is known by
construction, and the money difference is the sum of the changed records' lines."""
from __future__ import annotations

import csv
import io
import json
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner

from policyengine import evaluate
from policyengine.authoring.impact import run_impact
from policyengine.authoring.impact_render import render
from policyengine.authoring.redate import redate
from policyengine.cli import main
from policyengine.diagnostics import DiagnosticError

EXAMPLE = Path(__file__).parent.parent / "examples" / "2026-03-exactly-20-minutes.json"

#: an overlay that raises 99457's threshold by one minute
ONE_MINUTE_MORE = """\
pack:
  id: one-minute-more
  version: 1.0.0
  fee_schedule_year: 2026
  effective: {from: 2026-01-01, to: 2026-12-31}
extends: cms-rpm-2026
parameters:
  time_threshold:
    values:
      2026-01-01: {value: 21 min, citation: a what-if, confidence: high}
"""

#: seconds of interactive time, around and inside [20:00, 21:00) (and clear of the add-on's bands)
SECONDS = (599, 1199, 1200, 1230, 1259, 1260, 1800, 2700)
IN_BAND = {1200, 1230, 1259}


def month(i: int, seconds: int) -> dict:
    facts = json.loads(EXAMPLE.read_text())
    facts["patient_id"] = f"PT-{i:03d}"
    facts["billing_practitioner"]["id"] = f"PR-{i % 2}"
    first = facts["interactions"][0]
    facts["interactions"] = [{**first, "duration_seconds": seconds}]
    return facts


@pytest.fixture
def overlay(tmp_path) -> Path:
    (tmp_path / "pack.yaml").write_text(ONE_MINUTE_MORE)
    return tmp_path


def facts_lines(months: list[dict]) -> bytes:
    return b"".join(json.dumps(m).encode() + b"\n" for m in months)


def test_raising_the_threshold_a_minute_changes_exactly_the_months_in_that_band(overlay):
    months = [month(i, seconds) for i, seconds in enumerate(SECONDS)]
    rows = io.StringIO()
    report = run_impact(io.BytesIO(facts_lines(months)), "cms-rpm-2026", overlay, rows)
    tally = report.tally
    assert tally.changed == len(IN_BAND) and tally.records == len(SECONDS)
    changed_lines = {int(row["line"]) for row in csv.DictReader(io.StringIO(rows.getvalue()))}
    assert changed_lines == {i + 1 for i, seconds in enumerate(SECONDS) if seconds in IN_BAND}
    assert tally.by_code["99457"].changes["lost"] == tally.by_code["99470"].changes["gained"] == len(IN_BAND)
    total = lambda facts, pack: Decimal(evaluate(facts, pack, trace="none")["total"])
    expected = sum((total(m, overlay) - total(m, "cms-rpm-2026") for m in months
                    if m["interactions"][0]["duration_seconds"] in IN_BAND), Decimal("0"))
    assert tally.money.difference == expected < 0


def test_the_text_report(overlay, snapshot):
    months = [month(i, seconds) for i, seconds in enumerate(SECONDS)]
    report = run_impact(io.BytesIO(facts_lines(months)), "cms-rpm-2026", overlay, name="months.jsonl")
    assert render(report, "text") == snapshot


def test_a_bad_line_is_an_error_and_every_other_line_is_decided(overlay):
    lines = facts_lines([month(0, 1230)]) + b"not json\n" + facts_lines([month(2, 1230)])
    tally = run_impact(io.BytesIO(lines), "cms-rpm-2026", overlay).tally
    assert (tally.records, tally.decided, tally.changed) == (3, 2, 2)
    assert [(e.line, e.code) for e in tally.first_errors] == [(2, "facts.malformed")]


def test_two_workers_report_what_one_does(overlay):
    months = [month(i, SECONDS[i % len(SECONDS)]) for i in range(40)]
    reports = [render(run_impact(io.BytesIO(facts_lines(months)), "cms-rpm-2026", overlay, workers=workers,
                                 chunk_lines=7), "json") for workers in (1, 2)]
    assert reports[0] == reports[1]


def test_last_years_months_are_re_dated_into_the_new_packs_year():
    facts = redate(month(0, 1230), 2026, 2025)
    assert facts["month"] == "2025-03" and facts["monitoring_period"] == {"start": "2025-03-01", "end": "2025-03-30"}
    report = run_impact(io.BytesIO(facts_lines([facts])), "cms-rpm-2025", "cms-rpm-2026")
    assert report.redated_years == 1 and report.tally.decided == 1
    assert report.tally.by_code["99457"].changes["repriced"] == 1  # 20:30 bills 99457 in both years, at the 2026 rate


def test_february_29_moves_to_february_28():
    facts = {"month": "2024-02", "transmission_days": ["2024-02-28", "2024-02-29"], "consent": {"date": "2024-02-29"}}
    assert redate(facts, 2024, 2025) == {"month": "2025-02", "transmission_days": ["2025-02-28"],
                                         "consent": {"date": "2025-02-28"}}
    with pytest.raises(DiagnosticError, match="not in 2024"):
        redate({"month": "2023-12"}, 2024, 2025)


def test_the_command_writes_the_report_and_the_csv(overlay, tmp_path):
    facts = tmp_path / "months.jsonl"
    facts.write_bytes(facts_lines([month(i, seconds) for i, seconds in enumerate(SECONDS)]))
    result = CliRunner().invoke(main, ["impact", "cms-rpm-2026", str(overlay), str(facts), "--format", "json",
                                       "--csv", str(tmp_path / "changed.csv")])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["changed"] == len(IN_BAND) and data["records"] == len(SECONDS)
    assert len((tmp_path / "changed.csv").read_text().splitlines()) == 1 + 2 * len(IN_BAND)  # 99457 lost, 99470 gained
    bad = CliRunner().invoke(main, ["impact", "cms-rpm-2026", "cms-rpm-2099", str(facts)])
    assert bad.exit_code == 2 and "no rule pack at 'cms-rpm-2099'" in bad.output

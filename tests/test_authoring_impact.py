"""`policyengine impact OLD NEW facts.jsonl` (issue 13, item 2): over facts whose change is
known by construction. An overlay that raises the 99457 threshold from 20 to 21 minutes
changes exactly the months whose countable time lies in [20:00, 21:00): they lose 99457
and gain 99470 (10:00 up to the threshold), and the money difference is what those months'
decisions say. Also: re-dating into the new pack's year, error lines, deterministic
reports whatever the number of workers, the CSV, the command's exit status."""
from __future__ import annotations

import copy
import csv
import io
import json
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner

import policyengine
from policyengine.authoring.impact import CSV_COLUMNS, EXAMPLES_PER_CHANGE, UNKNOWN_PRACTITIONER, run_impact
from policyengine.authoring.impact_render import render
from policyengine.authoring.redate import redate
from policyengine.cli import main
from policyengine.diagnostics import DiagnosticError

ROOT = Path(__file__).resolve().parents[1]
BASE_2026 = json.loads((ROOT / "examples" / "2026-03-19min59s.json").read_text())
BASE_2025 = json.loads((ROOT / "examples" / "2025-06-42-minutes.json").read_text())

#: Countable interactive time of each generated month, across and around [20:00, 21:00).
SECONDS = (1199, 1200, 1230, 1259, 1260, 2700, 600, 0)
BAND = range(20 * 60, 21 * 60)
PRACTITIONERS = ("PR-1", "PR-2", None)  # None: the facts name no practitioner

OVERLAY = """\
pack: {id: test-rpm-2026-21-min, version: 1.0.0, fee_schedule_year: 2026,
       effective: {from: 2026-01-01, to: 2026-12-31}}
extends: cms-rpm-2026
parameters:
  time_threshold:
    values:
      2026-01-01: {value: 21 min, citation: a test overlay one minute above CPT 99457, confidence: high}
"""


@pytest.fixture(scope="module")
def overlay(tmp_path_factory) -> str:
    directory = tmp_path_factory.mktemp("packs") / "test-rpm-2026-21-min"
    directory.mkdir()
    (directory / "pack.yaml").write_text(OVERLAY)
    return str(directory)


def month_with_time(index: int, seconds: int, practitioner: str | None) -> dict:
    """The example month with one qualifying phone call of `seconds`."""
    facts = copy.deepcopy(BASE_2026)
    facts["patient_id"] = f"PT-{index:04d}"
    facts["interactions"] = [{**BASE_2026["interactions"][0], "duration_seconds": seconds}]
    if practitioner is None:
        del facts["billing_practitioner"]
    else:
        facts["billing_practitioner"]["id"] = practitioner
    return facts


#: Two rounds of SECONDS (so more months are in the band than examples are kept), by practitioner in turn.
MONTHS = [month_with_time(index, seconds, PRACTITIONERS[index % len(PRACTITIONERS)])
          for index, seconds in enumerate(SECONDS * 2)]
IN_BAND = [index for index, facts in enumerate(MONTHS) if facts["interactions"][0]["duration_seconds"] in BAND]


def jsonl(months: list[dict], extra: dict[int, bytes] | None = None) -> bytes:
    """The months as JSON Lines, with `extra` lines at the given (0-based) places."""
    lines = [json.dumps(facts).encode() for facts in months]
    for index, line in sorted((extra or {}).items()):
        lines.insert(index, line)
    return b"".join(line + b"\n" for line in lines)


def total(facts: dict, pack: str) -> Decimal:
    decision = policyengine.evaluate(facts, pack, trace="none")
    return sum((Decimal(line["amount"]) for line in decision["billable"]), Decimal("0"))


def impact(data: bytes, old: str, new: str, **kwargs):
    out = io.StringIO()
    report = run_impact(io.BytesIO(data), old, new, out, name="months.jsonl", **kwargs)
    return report, list(csv.reader(io.StringIO(out.getvalue())))


def test_raising_the_threshold_changes_exactly_the_months_in_the_band(overlay):
    report, _ = impact(jsonl(MONTHS), "cms-rpm-2026", overlay)
    tally = report.tally
    assert IN_BAND and tally.records == tally.decided == len(MONTHS)
    assert tally.changed == len(IN_BAND) and tally.repriced_only == 0
    changes = {code: dict(+counted.changes) for code, counted in tally.by_code.items() if +counted.changes}
    assert changes == {"99457": {"lost": len(IN_BAND)}, "99470": {"gained": len(IN_BAND)}}


def test_the_money_difference_is_the_band_months_decisions(overlay):
    report, _ = impact(jsonl(MONTHS), "cms-rpm-2026", overlay)
    expected = sum((total(MONTHS[index], overlay) - total(MONTHS[index], "cms-rpm-2026") for index in IN_BAND),
                   Decimal("0"))
    money = report.tally.money
    assert expected != 0 and money.difference == expected
    assert money.before == sum((total(facts, "cms-rpm-2026") for facts in MONTHS), Decimal("0"))


def test_money_and_changes_by_practitioner(overlay):
    report, _ = impact(jsonl(MONTHS), "cms-rpm-2026", overlay)
    for practitioner in PRACTITIONERS:
        indexes = [i for i in range(len(MONTHS)) if PRACTITIONERS[i % len(PRACTITIONERS)] == practitioner]
        counted = report.tally.by_practitioner[practitioner or UNKNOWN_PRACTITIONER]
        assert counted.records == len(indexes)
        assert counted.changed == len(set(indexes) & set(IN_BAND))
        assert counted.money.difference == sum((total(MONTHS[i], overlay) - total(MONTHS[i], "cms-rpm-2026")
                                                for i in indexes), Decimal("0"))


def test_examples_are_the_first_months_with_both_reasons(overlay):
    report, _ = impact(jsonl(MONTHS), "cms-rpm-2026", overlay, chunk_lines=2)
    examples = report.tally.examples[("99457", "lost")]
    assert [example.line for example in examples] == [index + 1 for index in IN_BAND[:EXAMPLES_PER_CHANGE]]
    first = MONTHS[IN_BAND[0]]
    old, new = (policyengine.evaluate(first, pack, trace="none") for pack in ("cms-rpm-2026", overlay))
    assert examples[0].old_reason == next(line["reason"] for line in old["billable"] if line["code"] == "99457")
    assert examples[0].new_reason == next(line["reason"] for line in new["not_billable"] if line["code"] == "99457")


def test_the_csv_rows_are_exactly_the_changed_codes(overlay):
    _, rows = impact(jsonl(MONTHS), "cms-rpm-2026", overlay)
    assert tuple(rows[0]) == CSV_COLUMNS
    assert sorted((int(row[0]), row[3], row[4]) for row in rows[1:]) == sorted(
        [(index + 1, "99457", "lost") for index in IN_BAND] + [(index + 1, "99470", "gained") for index in IN_BAND])
    expected = sum((total(MONTHS[index], overlay) - total(MONTHS[index], "cms-rpm-2026") for index in IN_BAND),
                   Decimal("0"))
    assert sum(Decimal(row[-1]) for row in rows[1:]) == expected


def test_a_bad_line_is_an_error_and_the_rest_are_decided(overlay):
    data = jsonl(MONTHS, {3: b"not json", 6: b'{"patient_id": "PT-X", "month": "2026-03", "consent": 7}'})
    report, rows = impact(data, "cms-rpm-2026", overlay)
    tally = report.tally
    assert tally.records == len(MONTHS) + 2 and tally.decided == len(MONTHS)
    assert dict(tally.errors) == {"facts.malformed": 1, "facts.wrong_type": 1}
    assert [(error.line, error.code, error.under) for error in tally.first_errors] == [
        (4, "facts.malformed", "old"), (7, "facts.wrong_type", "old")]
    assert tally.changed == len(IN_BAND) and len(rows) == 1 + 2 * len(IN_BAND)


def test_the_report_is_the_same_with_two_workers(overlay):
    data = jsonl(MONTHS, {5: b"{"})
    one, one_rows = impact(data, "cms-rpm-2026", overlay, chunk_lines=3)
    two, two_rows = impact(data, "cms-rpm-2026", overlay, chunk_lines=3, workers=2)
    for output_format in ("text", "markdown", "json"):
        assert render(one, output_format) == render(two, output_format)
    assert one_rows == two_rows


def test_the_command_reports_deterministically_with_any_workers(overlay, tmp_path):
    facts = tmp_path / "months.jsonl"
    facts.write_bytes(jsonl(MONTHS))
    runner = CliRunner()
    outputs = []
    for workers in ("1", "2", "1"):
        done = runner.invoke(main, ["impact", "cms-rpm-2026", overlay, str(facts), "--format", "json",
                                    "--workers", workers, "--csv", str(tmp_path / f"changes-{workers}.csv")])
        assert done.exit_code == 0, done.output
        outputs.append(done.stdout)
    assert outputs[0] == outputs[1] == outputs[2]
    assert json.loads(outputs[0])["changed"] == len(IN_BAND)
    assert (tmp_path / "changes-1.csv").read_bytes() == (tmp_path / "changes-2.csv").read_bytes()


@pytest.mark.parametrize("arguments", [
    ["cms-rpm-2026", "no-such-pack", "{facts}"],
    ["cms-rpm-2026", "cms-rpm-2026", "{missing}"],
    ["cms-rpm-2026", "cms-rpm-2026", "{facts}", "--csv", "{facts}"],
])
def test_bad_packs_and_files_are_usage_errors(tmp_path, arguments):
    facts = tmp_path / "months.jsonl"
    facts.write_bytes(jsonl(MONTHS[:2]))
    given = [a.format(facts=facts, missing=tmp_path / "missing.jsonl") for a in arguments]
    done = CliRunner().invoke(main, ["impact", *given])
    assert done.exit_code == 2
    assert facts.read_bytes() == jsonl(MONTHS[:2])


def test_progress_counts_every_byte(overlay):
    data = jsonl(MONTHS)
    seen: list[int] = []
    run_impact(io.BytesIO(data), "cms-rpm-2026", overlay, progress=seen.append, chunk_lines=4)
    assert sum(seen) == len(data) and len(seen) == 4


def test_the_text_report_of_a_small_case(overlay, snapshot):
    report, _ = impact(jsonl(MONTHS[:8], {2: b"[]"}), "cms-rpm-2026", overlay)
    assert render(report, "text") == snapshot


def test_last_years_months_are_decided_in_next_years_pack():
    facts = copy.deepcopy(BASE_2025)
    report, rows = impact(jsonl([facts]), "cms-rpm-2025", "cms-rpm-2026")
    tally = report.tally
    assert report.redated_years == 1 and tally.decided == 1 and not tally.errors
    assert tally.money.before == total(facts, "cms-rpm-2025")
    assert tally.money.after == total(redate(facts, 2025, 2026), "cms-rpm-2026")
    assert len(rows) > 1 and all(row[1:3] == [facts["patient_id"], "2025-06"] for row in rows[1:])  # as given


def a_year_on(day: str) -> str:
    return f"{int(day[:4]) + 1}{day[4:]}"


def test_redating_moves_the_month_and_every_date_the_schema_knows():
    moved = redate(BASE_2025, 2025, 2026)
    assert moved["month"] == "2026-06"
    assert moved["consent"]["date"] == a_year_on(BASE_2025["consent"]["date"]) == "2025-08-12"  # dates before the month too
    assert moved["episode"]["start"] == a_year_on(BASE_2025["episode"]["start"])
    assert moved["monitoring_period"] == {key: a_year_on(day) for key, day in BASE_2025["monitoring_period"].items()}
    assert moved["transmission_days"] == [a_year_on(day) for day in BASE_2025["transmission_days"]]
    assert [item["date"] for item in moved["interactions"]] == [a_year_on(i["date"]) for i in BASE_2025["interactions"]]
    assert BASE_2025["month"] == "2025-06"  # the facts given are not changed


def test_february_29_becomes_february_28():
    facts = {"patient_id": "PT-LEAP", "month": "2024-02", "as_of": "2024-02-29",
             "transmission_days": ["2024-02-27", "2024-02-28", "2024-02-29"],
             "interactions": [{"id": "IX-1", "date": "2024-02-29", "duration_seconds": 1500, "modality": "phone",
                               "two_way": True, "program": "rpm"}]}
    moved = redate(facts, 2024, 2025)
    assert moved["month"] == "2025-02" and moved["as_of"] == "2025-02-28"
    assert moved["transmission_days"] == ["2025-02-27", "2025-02-28"]  # each day once
    assert moved["interactions"][0]["date"] == "2025-02-28"


def test_a_leap_month_is_decided_under_the_next_years_pack():
    facts = copy.deepcopy(BASE_2025)
    facts["month"] = "2024-02"
    facts.pop("as_of", None)
    facts["monitoring_period"] = {"start": "2024-02-01", "end": "2024-03-01"}
    facts["transmission_days"] = [f"2024-02-{day:02d}" for day in range(1, 30)]
    facts["interactions"] = [{**BASE_2025["interactions"][0], "id": "IX-LEAP", "date": "2024-02-29"}]
    facts.pop("activities", None)
    report, _ = impact(jsonl([facts]), "cms-rpm-2024", "cms-rpm-2025")
    assert report.tally.decided == 1 and not report.tally.errors
    assert report.tally.money.after == total(redate(facts, 2024, 2025), "cms-rpm-2025")


def test_a_month_outside_the_old_pack_year_cannot_be_redated():
    with pytest.raises(DiagnosticError) as raised:
        redate({**BASE_2025, "month": "2026-01"}, 2025, 2026)
    assert raised.value.diagnostics[0].code == "redate.month_not_in_year"
    assert raised.value.diagnostics[0].where == "/month"

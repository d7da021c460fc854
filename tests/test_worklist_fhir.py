"""The worklist from a FHIR export (issue 29, item 1): `policyengine worklist INPUT... --as-of
DATE` reads FHIR through the timeline, each patient's month of DATE as the timeline writes
and decides it, from what is dated up to DATE.

What this file checks: over the bundled examples, the worklist is the worklist of the facts
`timeline decide` writes for that month, less what is dated after DATE (done by hand here
on the facts, not by the timeline's own rule); an event after DATE (a reading, a call, a
set-up claim, a consent refused) changes nothing as of DATE, though it changes the work
once its day has come; a month that cannot be decided is listed under problems, and
resources the reader refused make the command exit 1; the command gives what the library
gives, with the FHIR reader's progress as a bar on a terminal, and refuses bad arguments
with exit 2.
"""
from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from policyengine.cli import main
from policyengine.fhir.grouping import progress_length
from policyengine.timeline.files import Reading, Reporter, decide
from policyengine.worklist import worklist_of_lines
from policyengine.worklist.fhir import worklist_of_fhir
from terminal import Terminal
from test_timeline import EXAMPLES, call, claim, days, device, patient, practitioners, reading, readings, run, write_bundle

#: the facts' lists of dated events, and where each item's day is
DATED = {"transmission_days": lambda day: day, "interactions": lambda item: item["date"],
         "activities": lambda item: item["date"]}


def fhir_worklist(paths: tuple[str | Path, ...], as_of: str, **arguments) -> dict:
    reporter = Reporter()
    sheet = worklist_of_fhir(Reading(tuple(map(str, paths))), as_of, reporter, **arguments).as_json()
    assert not reporter.errors, reporter.first
    return sheet


def timeline_facts(tmp_path: Path, paths: tuple[str | Path, ...], month: str) -> list[dict]:
    """The facts `timeline decide --from MONTH --to MONTH --facts` writes."""
    facts = tmp_path / "facts.jsonl"
    decide(Reading(tuple(map(str, paths)), month, month), str(tmp_path / "decisions.jsonl"), lambda summary: None,
           facts_path=str(facts))
    return [json.loads(line) for line in facts.read_text().splitlines()]


def known_by(facts: dict, day: str) -> dict:
    """`facts` less the transmission days, interactions and activities dated after `day`,
    with the provenance of what is left out. The timeline writes each list in day order,
    so what is left is a first part of it."""
    kept = dict(facts)
    provenance = dict(facts.get("provenance", {}))
    for name, day_of in DATED.items():
        items = facts.get(name, [])
        known = [item for item in items if day_of(item) <= day]
        assert known == items[:len(known)]
        for n in range(len(known), len(items)):
            provenance.pop(f"/{name}/{n}", None)
        if known:
            kept[name] = known
        else:
            kept.pop(name, None)
    if provenance:
        kept["provenance"] = provenance
    return kept


def lines_worklist(facts: list[dict], as_of: str) -> dict:
    source = io.BytesIO(b"".join(json.dumps(f).encode() + b"\n" for f in facts))
    return worklist_of_lines(source, as_of).as_json()


# --- the examples: the worklist of the timeline's facts ---------------------------------------------

@pytest.mark.parametrize(("as_of", "later"), [
    ("2026-01-06", 4),   # p-crosses-year: the readings of the 7th and 8th and a call; a call of p-second-episode
    ("2026-02-20", 0),   # p-crosses-year's set-up was billed in January: February's period is the same episode
    ("2026-03-15", 2),   # p-16-days: two reading days after the 15th
    ("2026-04-10", 9),   # p-async-only: eight reading days and a call after the 10th
])
def test_the_worklist_of_the_examples_is_the_worklist_of_the_facts_the_timeline_writes(tmp_path, as_of, later):
    facts = timeline_facts(tmp_path, (EXAMPLES,), as_of[:7])
    known = [known_by(f, as_of) for f in facts]
    left_out = sum(len(f.get(name, [])) - len(k.get(name, [])) for f, k in zip(facts, known) for name in DATED)
    assert left_out == later  # what the timeline wrote for the month, dated after DATE: unknown on DATE

    worklist = fhir_worklist((EXAMPLES,), as_of)
    assert worklist == lines_worklist(known, as_of)
    # the facts rule (facts.dates.known_on, provenance renumbered) gives the same from the whole month
    assert worklist == lines_worklist(facts, as_of)
    assert worklist["practice"]["patients"] == 4 and worklist["practice"]["problems"] == 0
    assert any(task["days_left"] for p in worklist["patients"] for task in p["tasks"])  # work still to do


def test_set_up_billed_in_an_earlier_month_of_the_episode_is_not_offered_again():
    # p-second-episode's set-up was billed with the period decided in February; March is the same episode
    worklist = fhir_worklist((EXAMPLES / "second-episode.json",), "2026-03-04")
    [march] = worklist["patients"]
    assert "99453" not in [e["code"] for e in march["earned"]] + [c for t in march["tasks"] for c in t["codes"]]
    assert [e["code"] for e in march["earned"]] == ["99454"]


# --- as of DATE: what is dated after it is not yet known --------------------------------------------

AS_OF = "2026-03-12"


def _export(*later: dict) -> list[dict]:
    """p1 from 2026-03-02: consent, a cuff, readings on the 2nd to the 11th and a 12-minute call
    on the 5th; then `later`."""
    return [*practitioners(), *patient("p1"), device("p1", "cuff", start="2026-03-02"),
            *readings("p1", "cuff", days("2026-03-02", 10)), call("p1", "call-1", "2026-03-05", 12), *later]


@pytest.mark.parametrize(("later", "day"), [
    ([reading("p1", "cuff", day) for day in days("2026-03-20", 6)], "2026-03-25"),
    ([call("p1", "call-2", "2026-03-18", 10)], "2026-03-18"),
    ([claim("p1", "setup", "99453", "2026-03-15")], "2026-03-15"),
    ([{"resourceType": "Consent", "id": "p1-refused", "status": "rejected", "patient": {"reference": "Patient/p1"},
       "dateTime": "2026-03-14T10:00:00-05:00"}], "2026-03-14"),
], ids=["readings", "call", "set-up claim", "consent refused"])
def test_an_event_after_the_date_changes_nothing_until_its_day(tmp_path, later, day):
    with_it = write_bundle(tmp_path / "with.json", _export(*later))
    without = write_bundle(tmp_path / "without.json", _export())
    assert fhir_worklist((with_it,), AS_OF) == fhir_worklist((without,), AS_OF)
    # from its day on it is known, and it changes the work: the equality above is not for nothing
    assert fhir_worklist((with_it,), day) != fhir_worklist((without,), day)


def test_an_export_taken_later_gives_the_work_as_it_stood(tmp_path):
    taken_later = write_bundle(tmp_path / "later.json", _export(
        *readings("p1", "cuff", days("2026-03-13", 10)), call("p1", "call-2", "2026-03-20", 10)))
    [p1] = fhir_worklist((taken_later,), AS_OF)["patients"]
    # by the 12th: 10 reading days (99445, not yet 99454) and 12 minutes (99470, not yet 99457)
    assert p1["as_of"] == AS_OF
    assert sorted(e["code"] for e in p1["earned"]) == ["99445", "99453", "99470"]
    assert [task["action"] for task in p1["tasks"]] == [
        "8 min more RPM interactive time in the 19 days left (by 2026-03-31)",
        "6 more transmission days in the 19 days left (by 2026-03-31)"]


# --- what could not be decided or read ---------------------------------------------------------------

def _with_a_bad_npi(tmp_path: Path) -> Path:
    """p1 as above; p2 billed by dr-x, whose NPI is not ten digits: p2's facts cannot be decided."""
    dr_x = {"resourceType": "Practitioner", "id": "dr-x",
            "identifier": [{"system": "http://hl7.org/fhir/sid/us-npi", "value": "12345"}]}
    p2 = patient("p2")
    p2[0]["generalPractitioner"] = [{"reference": "Practitioner/dr-x"}]
    return write_bundle(tmp_path / "input.json", [*_export(), dr_x, *p2, device("p2", "cuff-2", start="2026-03-02"),
                                                  *readings("p2", "cuff-2", days("2026-03-02", 10))])


def test_a_month_that_cannot_be_decided_is_listed_under_problems(tmp_path):
    worklist = fhir_worklist((_with_a_bad_npi(tmp_path),), AS_OF)
    assert [p["patient_id"] for p in worklist["patients"]] == ["p1"]
    [problem] = worklist["problems"]
    assert problem["line"] is None and problem["patient_id"] == "p2" and problem["month"] == "2026-03"
    assert [e["where"] for e in problem["errors"]] == ["/billing_practitioner/npi"]
    assert worklist["practice"]["problems"] == 1


def test_the_command_over_a_fhir_folder_gives_what_the_library_gives(tmp_path):
    out = tmp_path / "worklist.json"
    result = run("worklist", EXAMPLES, "--as-of", "2026-03-15", "--format", "json", "--out", out)
    assert result.exit_code == 0, result.stderr
    assert json.loads(out.read_text()) == fhir_worklist((EXAMPLES,), "2026-03-15")
    # several paths, and --input fhir for a single file the automatic rule would take as facts
    ndjson = tmp_path / "export.jsonl"
    ndjson.write_text("".join(json.dumps(entry["resource"]) + "\n"
                              for entry in json.loads((EXAMPLES / "16-reading-days.json").read_text())["entry"]))
    both = run("worklist", ndjson, EXAMPLES / "second-episode.json", "--as-of", "2026-03-15", "--format", "json")
    alone = run("worklist", "--input", "fhir", ndjson, "--as-of", "2026-03-15", "--format", "json")
    assert both.exit_code == alone.exit_code == 0, both.stderr + alone.stderr
    assert [p["patient_id"] for p in json.loads(both.stdout)["patients"]] == ["p-second-episode", "p-16-days"]
    assert json.loads(alone.stdout) == fhir_worklist((EXAMPLES / "16-reading-days.json",), "2026-03-15")


def test_progress_is_the_fhir_readers_and_a_bar_on_a_terminal(tmp_path, monkeypatch):
    told: list[int] = []
    assert fhir_worklist((EXAMPLES,), "2026-03-15", progress=told.append) == fhir_worklist((EXAMPLES,), "2026-03-15")
    assert sum(told) == progress_length((str(EXAMPLES),)) and len([n for n in told if n]) > 4

    piped = run("worklist", EXAMPLES, "--as-of", "2026-03-15")
    assert piped.exit_code == 0 and "%" not in piped.stderr
    terminal, stdout = Terminal(), io.StringIO()
    monkeypatch.setattr(sys, "stderr", terminal)
    monkeypatch.setattr(sys, "stdout", stdout)
    with pytest.raises(SystemExit) as exited:
        main(["worklist", str(EXAMPLES), "--as-of", "2026-03-15"], standalone_mode=False)
    assert exited.value.code == 0
    assert "worklist" in terminal.getvalue() and "100%" in terminal.getvalue()
    assert stdout.getvalue() == piped.stdout


def test_the_command_exits_1_for_a_month_not_decided_and_for_refused_resources(tmp_path):
    result = run("worklist", _with_a_bad_npi(tmp_path), "--as-of", AS_OF, "--format", "json")
    assert result.exit_code == 1 and json.loads(result.stdout)["problems"][0]["patient_id"] == "p2"

    refused = write_bundle(tmp_path / "refused.json", _export(
        reading("p1", "cuff", "2026-03-09", effectiveDateTime="not a time", id="no-time")))
    report = tmp_path / "problems.jsonl"
    result = run("worklist", refused, "--as-of", AS_OF, "--format", "json", "--report", report)
    assert result.exit_code == 1 and "fhir.no_time" in result.stderr
    assert json.loads(result.stdout)["problems"] == []  # the rest is read and decided
    assert [json.loads(line)["code"] for line in report.read_text().splitlines()] == ["fhir.no_time"]


@pytest.mark.parametrize(("arguments", "says"), [
    (["{examples}", "--input", "xml"], "'xml' is not one of"),
    (["--input", "facts", "{examples}", "{examples}"], "one file"),
    (["-", "{examples}"], "not from standard input"),
    (["{missing}"], "cannot read"),
    (["{examples}", "--timezone", "Mars/Olympus"], "not an IANA time zone"),
    (["{examples}", "--workers", "2"], "--workers is for facts JSON Lines"),
    (["{examples}", "--out", "{examples}/worklist.json"], "the next run would read it as FHIR"),
])
def test_bad_arguments_exit_2_with_a_message(tmp_path, arguments, says):
    result = run("worklist", *[a.format(examples=EXAMPLES, missing=tmp_path / "missing.json") for a in arguments],
                 "--as-of", AS_OF)
    assert result.exit_code == 2 and says in result.stderr, result.stderr
    assert not (EXAMPLES / "worklist.json").exists()


def test_fhir_options_are_refused_for_facts(tmp_path):
    facts = tmp_path / "march.jsonl"
    facts.write_text("")
    result = run("worklist", facts, "--as-of", AS_OF, "--report", tmp_path / "problems.jsonl")
    assert result.exit_code == 2 and "--report is for a FHIR export" in result.stderr

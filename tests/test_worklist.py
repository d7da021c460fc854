"""The daily worklist (issue 29), by construction: each month below is built to need one
thing, and the worklist must say what it takes, in the days left, for the dollars the
decision says; what is out of reach is said as such; totals add up; the same input gives
the same bytes; a record that cannot be decided is listed, never dropped."""
from __future__ import annotations

import io
import json
import subprocess
import sys
from decimal import Decimal

import pytest

from policyengine.worklist import worklist_of_lines
from policyengine.worklist import Sheet
from policyengine.worklist.views import VIEWS, render

POLICYENGINE = (sys.executable, "-c", "from policyengine.cli import main; main()")


def month(patient: str, year: int = 2026, *, days: int = 0, minutes: int = 0, practitioner: str = "DR-1", **extra) -> dict:
    """A March patient-month: consent, an FDA-defined device over a 30-day period from the 1st,
    `days` reading days from the 1st and one documented `minutes`-minute call on the 2nd."""
    facts = {
        "patient_id": patient, "month": f"{year}-03",
        "billing_practitioner": {"id": practitioner, "npi": "1234567890", "qualifying_apm_participant": False},
        "established_patient": True,
        "consent": {"obtained": True, "date": f"{year}-01-04", "method": "verbal", "recorded_by": "RN Diaz"},
        "device": {"type": "blood_pressure_monitor", "meets_fda_definition": True, "data_types": ["blood_pressure"]},
        "monitoring_period": {"start": f"{year}-03-01", "end": f"{year}-03-30"},
        "episode": {"start": f"{year}-01-05", "setup_billed": True},
        "transmission_days": [f"{year}-03-{d:02d}" for d in range(1, days + 1)],
        "interactions": [_call("a", f"{year}-03-02", minutes * 60)] if minutes else [],
    }
    facts.update(extra)
    return facts


def _call(call_id: str, day: str, seconds: int, **changes) -> dict:
    call = {"id": call_id, "date": day, "duration_seconds": seconds, "modality": "phone", "two_way": True,
            "program": "rpm", "clinical_topics": ["symptoms"], "performer": {"id": "RN-1", "role": "clinical_staff"},
            "summary": "reviewed home readings"}
    call.update(changes)
    return {k: v for k, v in call.items() if v is not None}


def jsonl(*records: dict | str) -> bytes:
    return b"".join((r if isinstance(r, str) else json.dumps(r)).encode() + b"\n" for r in records)


def sheet_of(*records: dict | str, as_of: str = "2026-03-20", workers: int = 1) -> Sheet:
    return worklist_of_lines(io.BytesIO(jsonl(*records)), as_of, workers=workers)


def worklist(*records: dict | str, as_of: str = "2026-03-20", workers: int = 1) -> dict:
    return sheet_of(*records, as_of=as_of, workers=workers).as_json()


def only_patient(sheet: dict) -> dict:
    [patient] = sheet["patients"]
    return patient


def test_reading_days_still_reachable_are_a_task_worth_the_code():
    """12 reading days on day 20 of a 30-day period: 10 days left, 4 more days earn 99454."""
    patient = only_patient(worklist(month("PT-1", 2025, days=12), as_of="2025-03-20"))
    [task] = [t for t in patient["tasks"] if t["codes"] == ["99454"]]
    assert task == {"kind": "reach", "codes": ["99454"], "action": "4 more transmission days in the 10 days left (by 2025-03-30)",
                    "by": "2025-03-30", "days_left": 10, "at_stake": "43.02", "evidence": []}
    assert patient["out_of_reach"] == []


def test_in_2026_reaching_99454_from_99445_adds_what_99454_pays_over_it():
    """The same month in 2026 already earns 99445; 99454 would replace it, paid the same."""
    patient = only_patient(worklist(month("PT-1", days=12)))
    assert [(e["code"], e["amount"]) for e in patient["earned"]] == [("99445", "52.11")]
    [task] = [t for t in patient["tasks"] if t["codes"] == ["99454"]]
    assert (task["action"], task["at_stake"]) == ("4 more transmission days in the 10 days left (by 2026-03-30)", "0.00")
    assert not [t for t in patient["tasks"] if t["codes"] == ["99445"]]  # earned: not offered again


def test_reading_days_beyond_the_days_left_are_out_of_reach_not_work():
    """12 reading days with 3 days left: 99454 is out of reach, 99445 earned, no task for either."""
    patient = only_patient(worklist(month("PT-1", days=12), as_of="2026-03-27"))
    assert [e["code"] for e in patient["earned"]] == ["99445"]
    assert patient["out_of_reach"] == [{"code": "99454", "needs": "4 more transmission days", "by": "2026-03-30",
                                        "days_left": 3, "would_add": "0.00"}]
    assert not [t for t in patient["tasks"] if set(t["codes"]) & {"99454", "99445"}]


def test_minutes_short_of_99457_are_a_task_net_of_the_99470_it_replaces():
    """17 minutes on the 25th: 99470 is earned ($26.05); 3 more minutes earn 99457, which
    replaces it: $25.72 at stake."""
    patient = only_patient(worklist(month("PT-1", days=16, minutes=17), as_of="2026-03-25"))
    assert [(e["code"], e["amount"]) for e in patient["earned"]] == [("99454", "52.11"), ("99470", "26.05")]
    [task] = patient["tasks"]
    assert (task["codes"], task["action"], task["at_stake"]) == (
        ["99457"], "3 min more RPM interactive time in the 6 days left (by 2026-03-31)", "25.72")
    assert patient["at_stake"] == "25.72"


def test_a_call_without_its_performer_is_documentation_work_with_its_dollars():
    """16 documented minutes and an 8-minute call without a performer: documenting it makes
    24 minutes, 99457 in place of 99470. Reaching 20 minutes by more calls is the same money:
    the patient's money at stake counts it once."""
    facts = month("PT-1", days=16, minutes=16)
    facts["interactions"].append(_call("b", "2026-03-12", 480, performer=None))
    patient = only_patient(worklist(facts))
    by_kind = {task["kind"]: task for task in patient["tasks"]}
    assert by_kind["document"] == {"kind": "document", "codes": [], "action": "document the performer of interaction b (2026-03-12)",
                                   "by": None, "days_left": None, "at_stake": "25.72", "evidence": ["/interactions/1"]}
    assert by_kind["reach"]["at_stake"] == "25.72"
    assert patient["at_stake"] == "25.72"


def test_each_missing_field_is_named_and_consent_is_a_task_of_its_own():
    facts = month("PT-1", days=16, minutes=25, consent=None)
    facts["interactions"][0].pop("summary")
    facts["interactions"][0]["clinical_topics"] = []
    patient = only_patient(worklist(facts))
    actions = sorted(task["action"] for task in patient["tasks"])
    assert actions == ["complete the record: no documented patient consent to RPM; no RPM code is billable",
                       "document the summary, clinical_topics of interaction a (2026-03-02)"]
    consent = next(task for task in patient["tasks"] if task["action"].startswith("complete"))
    assert consent["at_stake"] == "52.11"  # 99454; the call's time counts only once it is documented


def test_totals_per_practitioner_and_practice_are_the_sums_of_their_patients():
    sheet = worklist(month("PT-1", days=12), month("PT-2", minutes=17, practitioner="DR-2"),
                     month("PT-3", days=16, minutes=5), month("PT-4", minutes=25, practitioner="DR-2"))
    for practitioner in sheet["practitioners"]:
        mine = [p for p in sheet["patients"] if p["practitioner"] == practitioner["practitioner"]]
        assert practitioner["patients"] == len(mine)
        for key in ("earned", "at_stake"):
            assert Decimal(practitioner[key]) == sum(Decimal(p["at_stake" if key == "at_stake" else "total"]) for p in mine)
        assert practitioner["tasks"] == sum(len(p["tasks"]) for p in mine)
    for key in ("earned", "at_stake", "patients", "tasks"):
        assert sum(Decimal(str(p[key])) for p in sheet["practitioners"]) == Decimal(str(sheet["practice"][key]))
    stakes = [Decimal(p["at_stake"]) for p in sheet["patients"]]
    assert stakes == sorted(stakes, reverse=True)


def test_a_record_that_cannot_be_decided_is_listed_and_another_month_counted():
    sheet = worklist(month("PT-1", days=12), "not json", {"patient_id": "PT-2", "month": "2026-03", "transmission_days": [3]},
                     month("PT-3", days=12) | {"month": "2026-02", "monitoring_period": None, "transmission_days": []})
    assert [p["patient_id"] for p in sheet["patients"]] == ["PT-1"]
    assert [(p["line"], p["patient_id"], p["errors"][0]["code"]) for p in sheet["problems"]] == [
        (2, None, "facts.malformed"), (3, "PT-2", "facts.wrong_type")]
    assert sheet["practice"]["problems"] == 2 and sheet["practice"]["other_months"] == 1


def test_the_same_input_gives_the_same_bytes_whatever_the_workers():
    records = [month(f"PT-{n}", days=n % 20, minutes=(n * 7) % 45, practitioner=f"DR-{n % 3}") for n in range(40)]
    one = worklist(*records)
    assert worklist(*records) == one and worklist(*records, workers=2) == one
    for output_format in VIEWS:  # nor does the order of the input, to the bytes of any view
        assert render(sheet_of(*reversed(records)), output_format) == render(sheet_of(*records), output_format)


def test_the_json_view_written_a_patient_at_a_time_is_the_sheet_as_one_document():
    import orjson
    for records in ([], [month("PT-1", days=12)], [month(f"PT-{n}", days=n, minutes=n) for n in range(5)] + ["[]"]):
        sheet = sheet_of(*records)
        assert render(sheet, "json") == orjson.dumps(sheet.as_json(), option=orjson.OPT_INDENT_2).decode() + "\n"


def test_views_escape_and_neutralise_what_the_facts_hold():
    sheet = sheet_of(month("<script>alert(1)</script>", days=12), month("=HYPERLINK(\"x\")", days=12))
    page = render(sheet, "html")
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    rows = render(sheet, "csv").splitlines()
    assert any(row.startswith("\"'=HYPERLINK") for row in rows) and not any(row.startswith("=") for row in rows)


def test_the_text_view(snapshot):
    facts = month("PT-2", days=16, minutes=16, practitioner="DR-2")
    facts["interactions"].append(_call("b", "2026-03-12", 480, performer=None))
    sheet = sheet_of(month("PT-1", days=12), facts, month("PT-3", days=12), "[]", as_of="2026-03-27")
    assert render(sheet, "text") == snapshot


def test_the_command_writes_the_file_and_says_when_a_record_failed(tmp_path):
    source = tmp_path / "march.jsonl"
    source.write_bytes(jsonl(month("PT-1", days=12), "[]"))
    out = tmp_path / "worklist.json"
    done = subprocess.run([*POLICYENGINE, "worklist", str(source), "--as-of", "2026-03-20", "--format", "json",
                           "--out", str(out)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 1, done.stderr  # one record could not be decided
    assert json.loads(out.read_text()) == worklist_of_lines(io.BytesIO(source.read_bytes()), "2026-03-20").as_json()


@pytest.mark.parametrize("arguments, says", [
    (["--as-of", "2026-02-30"], "'2026-02-30' is not a real day"),
    (["--as-of", "20260320"], "not a real day"),
    (["--as-of", "2026-03-20", "--workers", "0"], "--workers"),
    (["--as-of", "2026-03-20", "--pack", "no-such-pack"], "no rule pack at 'no-such-pack'"),
])
def test_bad_arguments_are_refused_before_any_work(tmp_path, arguments, says):
    source = tmp_path / "march.jsonl"
    source.write_bytes(jsonl(month("PT-1", days=12)))
    done = subprocess.run([*POLICYENGINE, "worklist", str(source), *arguments], capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and says in done.stderr, done.stderr


def test_an_unreadable_input_is_a_usage_error(tmp_path):
    done = subprocess.run([*POLICYENGINE, "worklist", str(tmp_path / "missing.jsonl"), "--as-of", "2026-03-20"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "cannot read" in done.stderr


def test_what_is_dated_after_the_worklists_day_is_not_yet_known():
    """Facts of the whole month, as of the 20th: the call on the 25th and the readings after
    the 20th had not happened; 10 minutes bill 99470 and 10 more would earn 99457."""
    facts = month("PT-1", days=25, minutes=10)
    facts["interactions"].append(_call("late", "2026-03-25", 900))
    patient = only_patient(worklist(facts, as_of="2026-03-20"))
    assert [e["code"] for e in patient["earned"]] == ["99454", "99470"]  # 20 reading days by the 20th
    assert [(t["codes"], t["action"]) for t in patient["tasks"]] == [
        (["99457"], "10 min more RPM interactive time in the 11 days left (by 2026-03-31)")]
    whole_month = only_patient(worklist(facts, as_of="2026-03-31"))
    assert [e["code"] for e in whole_month["earned"]] == ["99457", "99454"]


def test_a_compiled_pack_is_used_as_given(tmp_path):
    from policyengine.packs import load_pack
    overlay = tmp_path / "overlay"
    overlay.mkdir()
    (overlay / "pack.yaml").write_text(
        "pack: {id: overlay, version: 1.0.0, fee_schedule_year: 2026, effective: {from: 2026-01-01, to: 2026-12-31}}\n"
        "extends: cms-rpm-2026\nparameters:\n  time_threshold:\n    values:\n"
        "      2026-01-01: {value: 25 min, citation: a stricter practice, confidence: high}\n")
    pack = load_pack(str(overlay))
    source = jsonl(month("PT-1", days=16, minutes=22))
    for workers in (1, 2):
        patient = only_patient(worklist_of_lines(io.BytesIO(source), "2026-03-20", pack=pack, workers=workers).as_json())
        assert [t["action"] for t in patient["tasks"] if t["codes"] == ["99457"]] == [
            "3 min more RPM interactive time in the 11 days left (by 2026-03-31)"]


def test_facts_as_they_stood_keep_the_provenance_of_what_is_left():
    from policyengine.facts import check_facts
    from policyengine.facts.dates import known_on
    facts = month("PT-1", days=4, minutes=10, consent={"obtained": True, "date": "2026-03-25", "method": "verbal"})
    facts["interactions"].insert(0, _call("late", "2026-03-25", 900))
    facts["provenance"] = {"/transmission_days/1": ["Observation/d2"], "/transmission_days/3": ["Observation/d4"],
                           "/interactions/0": ["Communication/late"], "/interactions/1/performer": ["Practitioner/rn"],
                           "/consent": ["Consent/c"], "/device": ["Device/d"]}
    stood = known_on(facts, "2026-03-02")
    assert [i["id"] for i in stood["interactions"]] == ["a"] and stood["transmission_days"] == ["2026-03-01", "2026-03-02"]
    assert "consent" not in stood and stood["as_of"] == "2026-03-02"
    assert stood["provenance"] == {"/transmission_days/1": ["Observation/d2"], "/interactions/0/performer": ["Practitioner/rn"],
                                   "/device": ["Device/d"]}
    check_facts(stood)  # every pointer left names a fact


def test_facts_lines_show_progress_on_a_terminal_only(tmp_path, monkeypatch):
    from policyengine.cli import main
    from terminal import Terminal
    source = tmp_path / "march.jsonl"
    source.write_bytes(jsonl(*(month(f"PT-{n}", days=n) for n in range(12))))
    told: list[int] = []
    assert worklist_of_lines(io.BytesIO(source.read_bytes()), "2026-03-20", progress=told.append).as_json() == worklist(
        *(month(f"PT-{n}", days=n) for n in range(12)))
    assert sum(told) == source.stat().st_size
    terminal, stdout = Terminal(), io.StringIO()
    monkeypatch.setattr(sys, "stderr", terminal)
    monkeypatch.setattr(sys, "stdout", stdout)
    with pytest.raises(SystemExit) as exited:
        main(["worklist", str(source), "--as-of", "2026-03-20"], standalone_mode=False)
    assert exited.value.code == 0 and "worklist" in terminal.getvalue() and "100%" in terminal.getvalue()
    assert "%" not in stdout.getvalue() and stdout.getvalue().startswith("Worklist as of 2026-03-20: 12 patients")

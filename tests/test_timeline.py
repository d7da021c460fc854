"""The timeline: FHIR events across months as patient-month facts, and those months decided
in order (`policyengine ingest fhir`, `policyengine timeline decide`).

What this file checks, against docs/fhir-mapping.md ("From events to months (the timeline)"):
the four bundled examples decided end to end to their known codes and money; a 30-day
period decided in the month it ends, with its readings from both months and each reading
day in one period only; a period crossing the year decided with the new year's pack;
set-up (99453) once per episode (carried by the timeline's own decision or by an active
claim, across a device swap, and again after a gap); `ingest fhir` leaving
`episode.setup_billed` out; ingest output that does not depend on how the input is split,
ordered or formatted; memory that stays flat as the input grows; the commands' exit
statuses and messages for bad arguments and refused resources; and which months are
written. Every input is a small FHIR Bundle built here, so each expected answer can be
worked out by hand from the mapping and the bundled packs.
"""
from __future__ import annotations

import json
import random
import tracemalloc
from collections import Counter
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner

from policyengine.cli import main
from policyengine.fhir import grouping
from policyengine.timeline.files import Reading, ingest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "fhir"

BASE = "http://rpm-policyengine.org/fhir"
CPT = "http://www.ama-assn.org/go/cpt"
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
MODE = "http://terminology.hl7.org/CodeSystem/v3-ParticipationMode"
SETUP_BY = "policyengine:timeline/{patient}/{month}#99453"


# --- small FHIR builders ---------------------------------------------------------------------

def days(first: str, n: int) -> list[str]:
    """`n` consecutive ISO days from `first`."""
    start = date.fromisoformat(first)
    return [(start + timedelta(days=k)).isoformat() for k in range(n)]


def practitioners() -> list[dict]:
    """The billing physician (dr-a) and the nurse who makes the calls (rn-b)."""
    def one(pid: str, degree: str, npi: str | None) -> dict:
        found = {"resourceType": "Practitioner", "id": pid,
                 "qualification": [{"code": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0360",
                                                          "code": degree}]}}]}
        if npi:
            found["identifier"] = [{"system": "http://hl7.org/fhir/sid/us-npi", "value": npi}]
        return found
    return [one("dr-a", "MD", "1234567893"), one("rn-b", "RN", None)]


def patient(pid: str, visit_day: str = "2025-10-01", consent_day: str = "2025-10-01") -> list[dict]:
    """A patient of dr-a, established by a visit, who consented to RPM: every gate of the
    packs is open, so what is billed depends on the readings and calls only."""
    return [
        {"resourceType": "Patient", "id": pid, "generalPractitioner": [{"reference": "Practitioner/dr-a"}]},
        {"resourceType": "Encounter", "id": f"{pid}-visit", "status": "finished",
         "class": {"system": ACT_CODE, "code": "AMB"}, "subject": {"reference": f"Patient/{pid}"},
         "participant": [{"individual": {"reference": "Practitioner/dr-a"}}],
         "period": {"start": f"{visit_day}T09:00:00-05:00", "end": f"{visit_day}T09:30:00-05:00"}},
        {"resourceType": "Consent", "id": f"{pid}-consent", "status": "active",
         "extension": [{"url": f"{BASE}/StructureDefinition/consent-method", "valueCode": "verbal"}],
         "patient": {"reference": f"Patient/{pid}"}, "dateTime": f"{consent_day}T10:00:00-05:00",
         "performer": [{"reference": "Practitioner/rn-b"}]},
    ]


def device(pid: str, did: str, start: str | None = None, end: str | None = None) -> dict:
    """An FDA-cleared (UDI) blood-pressure cuff of `pid`, assigned from `start` to `end`."""
    found = {"resourceType": "Device", "id": did, "status": "active",
             "udiCarrier": [{"deviceIdentifier": "00812345678901"}],
             "type": {"coding": [{"system": f"{BASE}/CodeSystem/device-type", "code": "blood_pressure_monitor"}]},
             "patient": {"reference": f"Patient/{pid}"}}
    if start or end:
        period = {k: v for k, v in (("start", start), ("end", end)) if v}
        found["extension"] = [{"url": f"{BASE}/StructureDefinition/assignment-period", "valuePeriod": period}]
    return found


def reading(pid: str, did: str, day: str, **overrides) -> dict:
    """A final blood-pressure Observation from device `did` at 08:00 (US Eastern) on `day`."""
    found = {"resourceType": "Observation", "id": f"{did}-{day}", "status": "final",
             "code": {"coding": [{"system": "http://loinc.org", "code": "85354-9"}]},
             "subject": {"reference": f"Patient/{pid}"}, "device": {"reference": f"Device/{did}"},
             "effectiveDateTime": f"{day}T08:00:00-05:00"}
    found.update(overrides)
    return found


def readings(pid: str, did: str, on: list[str]) -> list[dict]:
    return [reading(pid, did, day) for day in on]


def call(pid: str, cid: str, day: str, minutes: int) -> dict:
    """A documented RPM phone call by rn-b of `minutes` on `day`."""
    end = f"{day}T14:{minutes:02d}:00-05:00" if minutes < 60 else f"{day}T15:{minutes - 60:02d}:00-05:00"
    return {"resourceType": "Encounter", "id": cid, "status": "finished",
            "class": {"system": ACT_CODE, "code": "VR"}, "type": [{"coding": [{"system": MODE, "code": "PHONE"}]}],
            "serviceType": {"coding": [{"system": f"{BASE}/CodeSystem/program", "code": "rpm"}]},
            "subject": {"reference": f"Patient/{pid}"},
            "participant": [{"type": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ParticipationType",
                                                    "code": "PPRF"}]}],
                             "individual": {"reference": "Practitioner/rn-b"}}],
            "period": {"start": f"{day}T14:00:00-05:00", "end": end},
            "reasonCode": [{"coding": [{"system": f"{BASE}/CodeSystem/clinical-topic", "code": "physiologic_data"}]}],
            "extension": [{"url": f"{BASE}/StructureDefinition/interaction-summary", "valueString": "Readings reviewed."}]}


def claim(pid: str, cid: str, code: str, day: str, status: str = "active") -> dict:
    return {"resourceType": "Claim", "id": cid, "status": status, "patient": {"reference": f"Patient/{pid}"},
            "provider": {"reference": "Practitioner/dr-a"},
            "item": [{"sequence": 1, "productOrService": {"coding": [{"system": CPT, "code": code}]},
                      "servicedDate": day}]}


def bundle(resources: list[dict]) -> dict:
    return {"resourceType": "Bundle", "type": "collection",
            "entry": [{"fullUrl": f"https://ehr.example.org/fhir/{r['resourceType']}/{r['id']}", "resource": r}
                      for r in resources]}


def write_bundle(path: Path, resources: list[dict], indent: bool = False) -> Path:
    path.write_text(json.dumps(bundle(resources), indent=1 if indent else None))
    return path


def write_ndjson(directory: Path, resources: list[dict]) -> Path:
    """The resources as a bulk-data export writes them: one NDJSON file per resource type."""
    directory.mkdir(parents=True, exist_ok=True)
    by_type: dict[str, list[dict]] = {}
    for resource in resources:
        by_type.setdefault(resource["resourceType"], []).append(resource)
    for kind, items in by_type.items():
        (directory / f"{kind}.ndjson").write_text("".join(json.dumps(r) + "\n" for r in items))
    return directory


def example_resources() -> list[dict]:
    """Every resource of the four examples, in file order."""
    found = []
    for path in sorted(EXAMPLES.glob("*.json")):
        found += [entry["resource"] for entry in json.loads(path.read_text())["entry"]]
    return found


def lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


# --- running the commands ----------------------------------------------------------------------

def run(*args):
    """The command, in process; never a traceback, and only SystemExit as an exception."""
    result = CliRunner().invoke(main, [str(a) for a in args])
    assert "Traceback" not in result.output
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result


class Timeline:
    """What `timeline decide --format json` printed and wrote for one input."""

    def __init__(self, tmp_path: Path, inputs: list, *options: str, name: str = "") -> None:
        self.out, self.facts_path = tmp_path / f"{name}decisions.jsonl", tmp_path / f"{name}facts.jsonl"
        self.result = run("timeline", "decide", *inputs, "--format", "json", "--out", self.out,
                          "--facts", self.facts_path, *options)
        self.summaries = {s["patient_id"]: s for s in map(json.loads, self.result.stdout.splitlines())}
        self.decisions = lines(self.out) if self.out.exists() else []
        self.facts = lines(self.facts_path) if self.facts_path.exists() else []

    def documents(self, patient_id: str, month: str) -> list[tuple[dict, dict]]:
        """(facts, decision) of each document of the patient's month, in the order decided."""
        return [(f, d) for f, d in zip(self.facts, self.decisions)
                if f["patient_id"] == patient_id and f["month"] == month]

    def one(self, patient_id: str, month: str) -> tuple[dict, dict]:
        found = self.documents(patient_id, month)
        assert len(found) == 1, found
        return found[0]

    def months(self, patient_id: str) -> list[str]:
        return [f["month"] for f in self.facts if f["patient_id"] == patient_id]


def decide(tmp_path: Path, resources: list[dict], *options: str) -> Timeline:
    return Timeline(tmp_path, [write_bundle(tmp_path / "input.json", [*practitioners(), *resources])], *options)


def ingested(tmp_path: Path, resources: list[dict], *options: str) -> list[dict]:
    out = tmp_path / "ingested.jsonl"
    result = run("ingest", "fhir", write_bundle(tmp_path / "input.json", [*practitioners(), *resources]),
                 "--out", out, *options)
    assert result.exit_code == 0, result.stderr
    return lines(out)


def codes(decision: dict) -> list[str]:
    return sorted(line["code"] for line in decision["billable"])


def amounts(decision: dict) -> dict[str, str]:
    return {line["code"]: line["amount"] for line in decision["billable"]}


# --- 1. the examples, end to end ---------------------------------------------------------------

EXAMPLE_RESULTS = {
    "p-16-days": {"2026-03": ({"99453": 1, "99454": 1, "99457": 1}, "125.59")},
    "p-async-only": {"2026-04": ({"99453": 1, "99454": 1}, "73.82")},
    "p-crosses-year": {"2025-12": ({"99457": 1}, "47.87"),
                       "2026-01": ({"99453": 1, "99454": 1, "99470": 1}, "99.87"),
                       "2026-02": ({"99454": 1}, "52.11")},
    "p-second-episode": {"2026-01": ({"99457": 1, "99458": 1}, "93.19"),
                         "2026-02": ({"99453": 1, "99454": 1}, "73.82"),
                         "2026-03": ({"99454": 1}, "52.11"),
                         "2026-04": ({}, "0.00"),
                         "2026-05": ({"99457": 1}, "51.77"),
                         "2026-06": ({"99453": 1, "99454": 1}, "73.82")},
}
EXAMPLE_TOTALS = {"p-16-days": "125.59", "p-async-only": "73.82", "p-crosses-year": "199.85",
                  "p-second-episode": "344.71"}


def test_the_four_examples_are_decided_to_their_known_codes_and_money(tmp_path):
    timeline = Timeline(tmp_path, [EXAMPLES])
    assert timeline.result.exit_code == 0, timeline.result.stderr
    assert "11 patient-months of 4 patients" in timeline.result.stderr

    # the summary on stdout: one JSON object per patient, months in order
    assert sorted(timeline.summaries) == sorted(EXAMPLE_RESULTS)
    for patient_id, expected in EXAMPLE_RESULTS.items():
        summary = timeline.summaries[patient_id]
        assert summary["total"] == EXAMPLE_TOTALS[patient_id]
        assert [m["month"] for m in summary["months"]] == list(expected)
        for month in summary["months"]:
            assert (month["codes"], month["amount"], month["errors"]) == (*expected[month["month"]], 0)

    # the decisions file says the same, decision by decision
    assert len(timeline.decisions) == 11
    units: dict[tuple[str, str], Counter] = {}
    money: dict[tuple[str, str], Decimal] = {}
    for decision in timeline.decisions:
        key = (decision["patient_id"], decision["month"])
        units.setdefault(key, Counter()).update({line["code"]: line["units"] for line in decision["billable"]})
        money[key] = money.get(key, Decimal(0)) + Decimal(decision["total"])
    expected = {(p, m): result for p, months in EXAMPLE_RESULTS.items() for m, result in months.items()}
    assert units == {key: Counter(c) for key, (c, _) in expected.items()}
    assert money == {key: Decimal(a) for key, (_, a) in expected.items()}
    for decision in timeline.decisions:  # each decision's total is the sum of its lines
        assert Decimal(decision["total"]) == sum((Decimal(line["amount"]) for line in decision["billable"]), Decimal(0))


# --- 2. periods across a month, and reading days at a period's edge ---------------------------

def test_a_period_crossing_a_month_counts_readings_from_both_and_is_decided_in_the_month_it_ends(tmp_path):
    # the cuff from 2026-03-10: period 1 is 03-10 to 04-08, period 2 is 04-09 to 05-08
    march, april = days("2026-03-10", 14), ["2026-04-01", "2026-04-08"]
    timeline = decide(tmp_path, [*patient("p1"), device("p1", "cuff", start="2026-03-10"),
                                 *readings("p1", "cuff", march + april)])
    assert timeline.result.exit_code == 0, timeline.result.stderr

    in_march, decided_march = timeline.one("p1", "2026-03")
    assert "monitoring_period" not in in_march and "transmission_days" not in in_march  # no period ends in March
    assert codes(decided_march) == []

    in_april, decided_april = timeline.one("p1", "2026-04")
    assert in_april["monitoring_period"] == {"start": "2026-03-10", "end": "2026-04-08"}
    assert in_april["transmission_days"] == march + april  # 14 March days and 2 April days: 16
    assert in_april["provenance"]["/transmission_days/15"] == ["Observation/cuff-2026-04-08"]
    assert codes(decided_april) == ["99453", "99454"]  # 16 days in the period: device supply and set-up


def test_a_reading_day_is_counted_in_one_period_only(tmp_path):
    # period 1 is 2026-03-10 to 2026-04-08 and period 2 from 2026-04-09: a reading on each side of the edge
    on = ["2026-03-10", "2026-03-11", "2026-04-08", "2026-04-09", "2026-04-10"]
    facts = ingested(tmp_path, [*patient("p1"), device("p1", "cuff", start="2026-03-10"), *readings("p1", "cuff", on)])
    periods = {(f["monitoring_period"]["start"], f["monitoring_period"]["end"]): f.get("transmission_days", [])
               for f in facts if "monitoring_period" in f}
    assert periods == {("2026-03-10", "2026-04-08"): ["2026-03-10", "2026-03-11", "2026-04-08"],
                       ("2026-04-09", "2026-05-08"): ["2026-04-09", "2026-04-10"]}
    counted = Counter(day for f in facts for day in f.get("transmission_days", []))
    assert counted == Counter(on)  # every reading day once, none twice


def test_a_month_in_which_two_periods_end_gets_a_device_only_document_decided_first(tmp_path):
    # from 2026-06-02 the periods end on 2026-07-01 and 2026-07-31: July decides both
    first, second = days("2026-06-02", 16), days("2026-07-02", 16)
    timeline = decide(tmp_path, [*patient("p1"), device("p1", "cuff", start="2026-06-02"),
                                 *readings("p1", "cuff", first + second), call("p1", "call-07", "2026-07-20", 21)])
    (earlier, decided_earlier), (main_doc, decided_main) = timeline.documents("p1", "2026-07")
    assert earlier["monitoring_period"] == {"start": "2026-06-02", "end": "2026-07-01"}
    assert earlier["transmission_days"] == first and "interactions" not in earlier  # device only
    assert codes(decided_earlier) == ["99453", "99454"]
    assert main_doc["monitoring_period"] == {"start": "2026-07-02", "end": "2026-07-31"}
    assert main_doc["transmission_days"] == second
    assert [i["id"] for i in main_doc["interactions"]] == ["Encounter/call-07"]
    assert main_doc["episode"]["setup_billed"] is True  # billed by the earlier document of the same month
    assert main_doc["provenance"]["/episode/setup_billed"] == [SETUP_BY.format(patient="p1", month="2026-07")]
    assert codes(decided_main) == ["99454", "99457"]
    assert timeline.summaries["p1"]["months"][-1]["codes"] == {"99453": 1, "99454": 2, "99457": 1}


# --- 3. a period crossing the year --------------------------------------------------------------

def test_a_period_crossing_the_year_is_decided_with_the_new_years_pack(tmp_path):
    # 10 December days and 3 January days in the period 2025-12-10 to 2026-01-08: 13 days earn
    # 99445 and 99453 with the 2026 pack (2 days suffice) and nothing with the 2025 pack (16 needed)
    on = days("2025-12-10", 10) + days("2026-01-02", 3)
    timeline = decide(tmp_path, [*patient("p1"), device("p1", "cuff", start="2025-12-10"), *readings("p1", "cuff", on)])
    assert timeline.months("p1") == ["2025-12", "2026-01"]

    december, decided_december = timeline.one("p1", "2025-12")
    assert decided_december["pack"]["id"] == "cms-rpm-2025"
    assert "transmission_days" not in december and codes(decided_december) == []

    january, decided_january = timeline.one("p1", "2026-01")
    assert january["monitoring_period"] == {"start": "2025-12-10", "end": "2026-01-08"}
    assert january["transmission_days"] == on
    assert decided_january["pack"]["id"] == "cms-rpm-2026"
    assert decided_january["pack"]["fee_schedule_year"] == 2026
    assert amounts(decided_january) == {"99445": "52.11", "99453": "21.71"}  # 1.56 and 0.65 RVU x $33.4009


# --- 4. set-up once per episode ------------------------------------------------------------------

def test_set_up_is_billed_in_the_first_period_reaching_its_days_and_later_documents_name_that_decision(tmp_path):
    # periods 03-02..03-31 (one reading day: no set-up yet), 04-01..04-30 and 05-01..05-30 (16 days each)
    on = ["2026-03-02"] + days("2026-04-01", 16) + days("2026-05-01", 16)
    timeline = decide(tmp_path, [*patient("p1"), device("p1", "cuff", start="2026-03-02"), *readings("p1", "cuff", on)])
    assert timeline.result.exit_code == 0, timeline.result.stderr

    march, decided_march = timeline.one("p1", "2026-03")
    assert march["episode"] == {"start": "2026-03-02", "setup_billed": False}
    assert "/episode/setup_billed" not in march["provenance"]
    assert codes(decided_march) == []

    april, decided_april = timeline.one("p1", "2026-04")
    assert april["episode"] == {"start": "2026-03-02", "setup_billed": False}
    assert codes(decided_april) == ["99453", "99454"]

    may, decided_may = timeline.one("p1", "2026-05")
    assert may["episode"] == {"start": "2026-03-02", "setup_billed": True}
    assert may["provenance"]["/episode/setup_billed"] == [SETUP_BY.format(patient="p1", month="2026-04")]
    assert codes(decided_may) == ["99454"]
    assert SETUP_BY.format(patient="p1", month="2026-04") in json.dumps(decided_may["trace"]["sources"])
    assert sum(m["codes"].get("99453", 0) for m in timeline.summaries["p1"]["months"]) == 1


def test_a_device_swapped_within_the_episode_does_not_bill_set_up_again(tmp_path):
    # cuff-1 from 03-02 to 03-20, cuff-2 from the next day: one episode, periods 03-02..03-31 and 04-01..04-30
    timeline = decide(tmp_path, [*patient("p1"), device("p1", "cuff-1", "2026-03-02", "2026-03-20"),
                                 device("p1", "cuff-2", start="2026-03-21"),
                                 *readings("p1", "cuff-1", days("2026-03-02", 16)),
                                 *readings("p1", "cuff-2", days("2026-04-01", 16))])
    _, decided_march = timeline.one("p1", "2026-03")
    assert codes(decided_march) == ["99453", "99454"]
    april, decided_april = timeline.one("p1", "2026-04")
    assert april["episode"] == {"start": "2026-03-02", "setup_billed": True}
    assert april["provenance"]["/episode/setup_billed"] == [SETUP_BY.format(patient="p1", month="2026-03")]
    assert april["provenance"]["/device"] == ["Device/cuff-2"]
    assert codes(decided_april) == ["99454"]


def test_a_device_assigned_after_a_gap_starts_a_new_episode_with_its_own_set_up(tmp_path):
    # cuff-1 ends 03-20; cuff-2 starts 04-06, after a gap: episode 2 has the period 04-06..05-05
    timeline = decide(tmp_path, [*patient("p1"), device("p1", "cuff-1", "2026-03-02", "2026-03-20"),
                                 device("p1", "cuff-2", start="2026-04-06"),
                                 *readings("p1", "cuff-1", days("2026-03-02", 16)),
                                 *readings("p1", "cuff-2", days("2026-04-06", 16))])
    _, decided_march = timeline.one("p1", "2026-03")
    assert codes(decided_march) == ["99453", "99454"]
    may, decided_may = timeline.one("p1", "2026-05")
    assert may["episode"] == {"start": "2026-04-06", "setup_billed": False}
    assert may["monitoring_period"] == {"start": "2026-04-06", "end": "2026-05-05"}
    assert codes(decided_may) == ["99453", "99454"]

    # the second-episode example: the cuff returned on 2026-02-20, a new one from 2026-05-04
    example = Timeline(tmp_path, [EXAMPLES / "second-episode.json"], name="example-")
    june, decided_june = example.one("p-second-episode", "2026-06")
    assert june["episode"] == {"start": "2026-05-04", "setup_billed": False}
    assert codes(decided_june) == ["99453", "99454"]
    march, _ = example.one("p-second-episode", "2026-03")
    assert march["provenance"]["/episode/setup_billed"] == [SETUP_BY.format(patient="p-second-episode", month="2026-02")]


@pytest.mark.parametrize(("status", "day", "billed_by_claim"), [
    ("active", "2026-03-12", True),   # an active claim dated in the episode: set-up already billed
    ("active", "2026-02-01", False),  # dated before the episode started: another episode's set-up
    ("draft", "2026-03-12", False),   # a draft proposes a line, it bills nothing
])
def test_an_active_claim_for_set_up_dated_in_the_episode_keeps_the_timeline_from_billing_it(tmp_path, status, day,
                                                                                            billed_by_claim):
    # the period 2026-03-10 to 2026-04-08 (16 days) is decided in April; a line of a device code
    # (99453 is on the episode's clock) dated in that period goes with April's document, though
    # its date is in March
    timeline = decide(tmp_path, [*patient("p1"), device("p1", "cuff", start="2026-03-10"),
                                 *readings("p1", "cuff", days("2026-03-10", 16)),
                                 claim("p1", "c-setup", "99453", day, status)])
    april, decided_april = timeline.one("p1", "2026-04")
    in_period = day >= "2026-03-10"
    assert april.get("other_services") == ([{"code": "99453", "practitioner": "dr-a"}] if billed_by_claim else None)
    assert april.get("claims") == ([{"code": "99453", "units": 1}] if status == "draft" and in_period else None)
    assert april["episode"]["setup_billed"] is billed_by_claim
    if billed_by_claim:
        assert april["provenance"]["/episode/setup_billed"] == ["Claim/c-setup"]
        assert codes(decided_april) == ["99454"]
        assert "99453" in {line["code"] for line in decided_april["not_billable"]}
    else:
        assert "/episode/setup_billed" not in april["provenance"]
        assert codes(decided_april) == ["99453", "99454"]


def test_deciding_from_a_later_month_does_not_bill_an_episodes_set_up_again(tmp_path):
    # the full run bills this episode's set-up in 2026-02 (period 01-05..02-03); 2026-03 is the same episode
    timeline = Timeline(tmp_path, [EXAMPLES / "second-episode.json"], "--from", "2026-03")
    march, decided_march = timeline.one("p-second-episode", "2026-03")
    assert march["episode"]["start"] == "2026-01-05"
    assert "99453" not in codes(decided_march)
    # the months before --from back to the episode's start are decided again, not written
    assert march["episode"]["setup_billed"] is True
    assert march["provenance"]["/episode/setup_billed"] == ["policyengine:timeline/p-second-episode/2026-02#99453"]
    assert timeline.months("p-second-episode") == ["2026-03", "2026-04", "2026-05", "2026-06"]


def test_after_a_period_that_could_not_be_decided_the_episodes_set_up_is_left_unknown(tmp_path):
    # the 2026 pack cannot decide the period ending 2025-12-09, which may have billed set-up;
    # January's period then says nothing of setup_billed, and its decision takes set-up as billed
    timeline = decide(tmp_path, [*patient("p1"), device("p1", "cuff", start="2025-11-10"),
                                 *readings("p1", "cuff", days("2025-11-10", 20) + days("2025-12-10", 20))],
                      "--pack", "cms-rpm-2026", "--from", "2025-12", "--to", "2026-01")
    (december, failed), = timeline.documents("p1", "2025-12")
    january, decided = timeline.one("p1", "2026-01")
    assert failed["error"]["code"] == "facts.pack_not_effective" and "monitoring_period" in december
    assert "setup_billed" not in january["episode"]
    assert "99453" not in codes(decided)


def test_a_device_code_billed_elsewhere_in_the_period_reaches_the_month_that_decides_the_period(tmp_path):
    # the period 2025-12-10 to 2026-01-08 is decided in January; another practice's 99454 dated
    # 2025-12-31 is in that period, so January must not bill 99454 again; its 99457 of
    # December stays with December
    timeline = decide(tmp_path, [*patient("p1"), device("p1", "cuff", start="2025-12-10"),
                                 *readings("p1", "cuff", days("2025-12-10", 20)),
                                 claim("p1", "c-supply", "99454", "2025-12-31"),
                                 claim("p1", "c-time", "99457", "2025-12-15")])
    december, _ = timeline.one("p1", "2025-12")
    january, decided_january = timeline.one("p1", "2026-01")
    assert december["other_services"] == [{"code": "99457", "practitioner": "dr-a"}]
    assert january["other_services"] == [{"code": "99454", "practitioner": "dr-a"}]
    assert january["provenance"]["/other_services/0"] == ["Claim/c-supply"]
    assert "99454" not in codes(decided_january)


def test_a_set_up_claim_dated_after_the_device_returned_but_in_its_last_period_counts(tmp_path):
    # cuff from 03-10 to 03-20: its one period runs to 04-08; a 99453 claim of 04-02 is this episode's
    timeline = decide(tmp_path, [*patient("p1"), device("p1", "cuff", "2026-03-10", "2026-03-20"),
                                 *readings("p1", "cuff", days("2026-03-10", 10)),
                                 claim("p1", "c-setup", "99453", "2026-04-02")])
    april, decided_april = timeline.one("p1", "2026-04")
    assert april["episode"]["setup_billed"] is True
    assert "99453" not in codes(decided_april)


# --- 5. ingest leaves setup_billed out -----------------------------------------------------------

def test_ingest_leaves_setup_billed_out_because_it_reads_no_pack(tmp_path):
    # Which codes are billed once per episode is the pack's to say (`clock: episode`), and whether
    # one was billed depends on the months decided before; `ingest fhir` reads no pack and decides
    # nothing, so it cannot know, and writes no value rather than a guess (a decision then takes
    # set-up as billed and says so). Even an active 99453 claim in the episode leaves it out.
    out = tmp_path / "facts.jsonl"
    input_path = write_bundle(tmp_path / "claim.json", [*practitioners(), *patient("p1"),
                                                        device("p1", "cuff", start="2026-03-10"),
                                                        *readings("p1", "cuff", days("2026-03-10", 16)),
                                                        claim("p1", "c-setup", "99453", "2026-03-12")])
    result = run("ingest", "fhir", EXAMPLES, input_path, "--out", out)
    assert result.exit_code == 0, result.stderr
    facts = lines(out)
    with_episode = [f for f in facts if "episode" in f]
    assert len(with_episode) == 8  # every document with a device period has an episode
    for document in with_episode:
        assert set(document["episode"]) == {"start"}
        assert "/episode/setup_billed" not in document["provenance"]
    # timeline decide, which reads the pack, fills it in for the same documents
    decided = Timeline(tmp_path, [EXAMPLES, input_path], name="decided-")
    assert all(isinstance(f["episode"]["setup_billed"], bool) for f in decided.facts if "episode" in f)


# --- 6. ingest determinism -----------------------------------------------------------------------

def _ingest_bytes(tmp_path: Path, name: str, inputs: list[Path]) -> bytes:
    out = tmp_path / f"{name}.jsonl"
    ingest(Reading(tuple(map(str, inputs))), str(out))
    return out.read_bytes()


def _determinism_resources() -> list[dict]:
    """The examples and one patient with a device swap, a call and a claim."""
    return [*example_resources(), *practitioners(), *patient("p-swap"),
            device("p-swap", "cuff-1", "2026-03-02", "2026-03-20"), device("p-swap", "cuff-2", start="2026-03-21"),
            *readings("p-swap", "cuff-1", days("2026-03-02", 16)), *readings("p-swap", "cuff-2", days("2026-04-01", 9)),
            call("p-swap", "call-1", "2026-03-18", 25), claim("p-swap", "c-1", "99457", "2026-02-28")]


def test_ingest_gives_the_same_bytes_however_the_resources_are_split_ordered_or_formatted(tmp_path):
    resources = _determinism_resources()
    reference = _ingest_bytes(tmp_path, "one", [write_bundle(tmp_path / "one.json", resources)])
    assert reference.count(b"\n") >= 14

    shuffled = resources[:]
    random.Random(7).shuffle(shuffled)
    reversed_bundle = write_bundle(tmp_path / "reversed.json", resources[::-1])
    thirds = [write_bundle(tmp_path / f"part-{n}.json", shuffled[n::3]) for n in range(3)]
    ndjson = write_ndjson(tmp_path / "export", shuffled)
    variants = {
        "reversed": [reversed_bundle],
        "thirds": thirds,
        "thirds backwards": thirds[::-1],
        "ndjson per type": [ndjson],
        "ndjson files named in another order": sorted(ndjson.iterdir(), reverse=True),
        "the example files themselves": [*sorted(EXAMPLES.glob("*.json"), reverse=True),
                                         write_bundle(tmp_path / "swap.json", resources[len(example_resources()):])],
    }
    for name, inputs in variants.items():
        assert _ingest_bytes(tmp_path, name.replace(" ", "-"), inputs) == reference, name


def test_ingest_order_does_not_depend_on_the_bytes_the_input_takes(tmp_path, monkeypatch):
    resources = [*practitioners()]
    for n in range(12):
        pid = f"p{n:02d}"
        resources += [*patient(pid), device(pid, f"{pid}-cuff", start="2026-03-02"),
                      *readings(pid, f"{pid}-cuff", days("2026-03-02", 3))]
    bundle_path = write_bundle(tmp_path / "all.json", resources, indent=True)
    ndjson = write_ndjson(tmp_path / "export", resources)
    # a partition size (32 MiB in use) such that the indented Bundle takes two partitions and the NDJSON one
    compact = sum(p.stat().st_size for p in ndjson.iterdir())
    monkeypatch.setattr(grouping, "PARTITION_BYTES", compact + 1)
    assert (compact // grouping.PARTITION_BYTES + 1, bundle_path.stat().st_size // grouping.PARTITION_BYTES + 1) == (1, 2)
    from_bundle = _ingest_bytes(tmp_path, "bundle", [bundle_path])
    from_ndjson = _ingest_bytes(tmp_path, "ndjson", [ndjson])
    assert sorted(from_bundle.splitlines()) == sorted(from_ndjson.splitlines())  # the same documents...
    assert from_bundle == from_ndjson  # ...in the same order


# --- 7. memory ----------------------------------------------------------------------------------

def _export(directory: Path, patients: int) -> Path:
    """An NDJSON export: each patient a cuff, a consent, a visit and 8 reading days over two months."""
    resources = [*practitioners()]
    for n in range(patients):
        pid = f"pt-{n:05d}"
        resources += [*patient(pid), device(pid, f"{pid}-cuff", start="2026-03-25"),
                      *readings(pid, f"{pid}-cuff", days("2026-03-25", 8))]
    return write_ndjson(directory, resources)


def _peak_ingest(export: Path, out: Path) -> tuple[int, int]:
    tracemalloc.start()
    try:
        run_ = ingest(Reading((str(export),)), str(out))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak, run_.patients


def test_ingest_memory_stays_flat_as_the_number_of_patients_grows(tmp_path, monkeypatch):
    small, large = _export(tmp_path / "small", 200), _export(tmp_path / "large", 800)
    small_bytes = sum(p.stat().st_size for p in small.iterdir())
    large_bytes = sum(p.stat().st_size for p in large.iterdir())
    # about 50 patients a partition: 4 partitions for the small export, 16 for the large one
    monkeypatch.setattr(grouping, "PARTITION_BYTES", small_bytes // 4)
    assert large_bytes // grouping.PARTITION_BYTES + 1 >= 16
    ingest(Reading((str(small),)), str(tmp_path / "warm.jsonl"))  # imports and caches, outside the measure
    small_peak, small_patients = _peak_ingest(small, tmp_path / "small.jsonl")
    large_peak, large_patients = _peak_ingest(large, tmp_path / "large.jsonl")
    assert (small_patients, large_patients) == (200, 800)
    assert len(lines(tmp_path / "large.jsonl")) == 800 * 2  # March and April for each
    assert large_peak < 2 * small_peak, (small_peak, large_peak)


# --- 8. bad arguments and refused resources ---------------------------------------------------

@pytest.mark.parametrize("command", [("ingest", "fhir"), ("timeline", "decide")])
@pytest.mark.parametrize(("arguments", "named"), [
    (("--timezone", "Mars/Olympus"), ["--timezone", "'Mars/Olympus' is not an IANA time zone"]),
    (("--from", "2026-13"), ["--from", "'2026-13' is not a month YYYY-MM"]),
    (("--from", "2026-05", "--to", "2026-01"), ["--from", "2026-05 is after --to 2026-01"]),
    (("{missing}",), ["cannot read", "missing.json", "no such file or directory"]),
])
def test_a_bad_argument_exits_2_with_a_message_naming_it(tmp_path, command, arguments, named):
    out = tmp_path / "out.jsonl"
    arguments = [str(tmp_path / "missing.json") if a == "{missing}" else a for a in arguments]
    result = run(*command, EXAMPLES, *arguments, "--out", out)
    assert result.exit_code == 2
    for text in named:
        assert text in result.stderr
    assert not out.exists()


@pytest.mark.parametrize("command", [("ingest", "fhir"), ("timeline", "decide")])
def test_an_output_in_a_directory_that_does_not_exist_exits_2_before_reading(tmp_path, command):
    result = run(*command, EXAMPLES, "--out", tmp_path / "nowhere" / "out.jsonl")
    assert result.exit_code == 2
    assert f"--out: the folder {tmp_path / 'nowhere'} does not exist" in result.stderr


@pytest.mark.parametrize("command", [("ingest", "fhir"), ("timeline", "decide")])
def test_an_output_that_would_overwrite_or_later_be_read_as_input_is_refused(tmp_path, command):
    export = tmp_path / "export"
    export.mkdir()
    source = write_bundle(export / "bundle.json", [*practitioners(), *patient("p1")])
    before = source.read_bytes()
    for arguments, named in ((("--out", source), f"{source} is the input"),
                             (("--out", export / "facts.jsonl"), "the next run would read it as FHIR"),
                             (("--out", tmp_path / "a.jsonl", "--report", tmp_path / "a.jsonl"), "also written by --out")):
        result = run(*command, export, *arguments)
        assert result.exit_code == 2 and named in result.stderr
    assert source.read_bytes() == before
    assert sorted(p.name for p in export.iterdir()) == ["bundle.json"] and not list(tmp_path.glob("*.jsonl*"))


@pytest.mark.parametrize(("arguments", "named"), [
    (("--option", "messaging_count=true"), "unknown option 'messaging_count' (did you mean 'messaging_counts'?)"),
    (("--option", "addon_max_units=many"), "option 'addon_max_units' cannot be 'many'"),
    (("--pack", "cms-rpm-2031"), "no rule pack at 'cms-rpm-2031'"),
])
def test_timeline_decide_refuses_options_and_packs_before_deciding_anything(tmp_path, arguments, named):
    out = tmp_path / "out.jsonl"
    result = run("timeline", "decide", EXAMPLES, *arguments, "--out", out)
    assert result.exit_code == 2
    assert named in result.stderr
    assert not out.exists()


def _with_refused(tmp_path: Path) -> Path:
    """16 good reading days, one Observation without a time and one from a Device not in the input."""
    return write_bundle(tmp_path / "input.json", [
        *practitioners(), *patient("p1"), device("p1", "cuff", start="2026-03-02"),
        *readings("p1", "cuff", days("2026-03-02", 16)),
        reading("p1", "cuff", "2026-03-20", effectiveDateTime="not a time", id="no-time"),
        reading("p1", "cuff", "2026-03-21", device={"reference": "Device/elsewhere"}, id="unknown-device")])


def test_refused_resources_exit_1_and_the_facts_are_still_written(tmp_path):
    out, report = tmp_path / "facts.jsonl", tmp_path / "problems.jsonl"
    result = run("ingest", "fhir", _with_refused(tmp_path), "--out", out, "--report", report)
    assert result.exit_code == 1
    assert "fhir.no_time" in result.stderr and "fhir.unknown_device" in result.stderr
    (march,) = lines(out)
    assert march["transmission_days"] == days("2026-03-02", 16)  # the refused readings are not among them
    problems = {p["code"]: p for p in lines(report)}
    assert problems["fhir.no_time"]["severity"] == "error"
    assert problems["fhir.no_time"]["reference"] == "Observation/no-time"
    assert problems["fhir.no_time"]["location"].endswith("#/entry/22/resource/effectiveDateTime")
    assert problems["fhir.unknown_device"]["reference"] == "Observation/unknown-device"


def test_refused_resources_make_timeline_decide_exit_1_with_the_decisions_written(tmp_path):
    timeline = Timeline(tmp_path, [_with_refused(tmp_path)])
    assert timeline.result.exit_code == 1
    facts, decision = timeline.one("p1", "2026-03")
    assert len(facts["transmission_days"]) == 16
    assert codes(decision) == ["99453", "99454"]
    assert timeline.summaries["p1"]["total"] == "73.82"


# --- 9. which months are written ------------------------------------------------------------------

def _months_resources() -> list[dict]:
    """A call in January; readings from 2026-03-10 to 03-25 only: the one period with readings
    (03-10..04-08) ends in April, and the next period, without readings, is not a month."""
    return [*patient("p1"), call("p1", "call-jan", "2026-01-14", 22), device("p1", "cuff", start="2026-03-10"),
            *readings("p1", "cuff", days("2026-03-10", 16))]


def test_the_default_months_run_from_the_first_event_to_the_end_of_the_last_period_with_readings(tmp_path):
    facts = ingested(tmp_path, _months_resources())
    assert [f["month"] for f in facts] == ["2026-01", "2026-02", "2026-03", "2026-04"]
    assert [i["id"] for i in facts[0]["interactions"]] == ["Encounter/call-jan"]
    assert "interactions" not in facts[1] and "transmission_days" not in facts[1]  # an empty month between
    assert facts[3]["monitoring_period"] == {"start": "2026-03-10", "end": "2026-04-08"}
    # the visit (2025-10-01) and the consent are not events that start the months
    assert facts[0]["established_patient"] is True


@pytest.mark.parametrize(("options", "months"), [
    (("--from", "2026-02", "--to", "2026-03"), ["2026-02", "2026-03"]),
    (("--from", "2026-03"), ["2026-03", "2026-04"]),
    (("--to", "2026-02"), ["2026-01", "2026-02"]),
    (("--from", "2025-12", "--to", "2026-05"), ["2025-12", "2026-01", "2026-02", "2026-03", "2026-04", "2026-05"]),
])
def test_from_and_to_limit_the_months_written(tmp_path, options, months):
    facts = ingested(tmp_path, _months_resources(), *options)
    assert [f["month"] for f in facts] == months
    timeline = decide(tmp_path, _months_resources(), *options)
    assert timeline.months("p1") == months
    assert [m["month"] for m in timeline.summaries["p1"]["months"]] == months

"""FHIR resources -> facts, row by row of docs/fhir-mapping.md.

Each test starts from one patient with what a billable RPM month needs (a practitioner,
a device assigned on 2026-03-01, consent, an earlier visit) and changes or adds one
resource, then reads the facts `ingest fhir` writes for March 2026 and the problems it
reports. A refusal names the resource and a pointer into the input.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from policyengine.fhir import codes
from policyengine.schemacheck import bundled_schema
from policyengine.timeline.files import Reading, ingest

BASE = "http://rpm-policyengine.org/fhir"
LOINC = "http://loinc.org"
ACT = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
MODE = "http://terminology.hl7.org/CodeSystem/v3-ParticipationMode"
DEGREE = "http://terminology.hl7.org/CodeSystem/v2-0360"
CPT = "http://www.ama-assn.org/go/cpt"


def coded(system: str, code: str) -> dict:
    return {"coding": [{"system": system, "code": code}]}


def practitioner(pid: str, degree: str, **extra) -> dict:
    return {"resourceType": "Practitioner", "id": pid, "qualification": [{"code": coded(DEGREE, degree)}], **extra}


def device(**extra) -> dict:
    return {"resourceType": "Device", "id": "cuff", "patient": {"reference": "Patient/p1"},
            "udiCarrier": [{"deviceIdentifier": "00812345678901"}],
            "type": coded(f"{BASE}/CodeSystem/device-type", "blood_pressure_monitor"),
            "extension": [{"url": f"{BASE}/StructureDefinition/assignment-period", "valuePeriod": {"start": "2026-03-01"}}],
            **extra}


def reading(n: int, when: str, **extra) -> dict:
    return {"resourceType": "Observation", "id": f"o{n}", "status": "final", "code": coded(LOINC, "85354-9"),
            "subject": {"reference": "Patient/p1"}, "device": {"reference": "Device/cuff"}, "effectiveDateTime": when,
            **extra}


def call(cid: str = "call", start: str = "2026-03-10T14:00:00-05:00", end: str = "2026-03-10T14:21:00-05:00",
         **extra) -> dict:
    resource = {"resourceType": "Encounter", "id": cid, "status": "finished", "class": {"system": ACT, "code": "VR"},
                "type": [coded(MODE, "PHONE")], "serviceType": coded(f"{BASE}/CodeSystem/program", "rpm"),
                "subject": {"reference": "Patient/p1"},
                "participant": [{"individual": {"reference": "Practitioner/rn-1"}}],
                "period": {"start": start, "end": end},
                "reasonCode": [coded(f"{BASE}/CodeSystem/clinical-topic", "physiologic_data")],
                "extension": [{"url": f"{BASE}/StructureDefinition/interaction-summary",
                               "valueString": "Readings reviewed."}]}
    resource.update(extra)
    return resource


def visit(start: str, with_practitioner: str = "dr-1") -> dict:
    return {"resourceType": "Encounter", "id": "visit", "status": "finished", "class": {"system": ACT, "code": "AMB"},
            "subject": {"reference": "Patient/p1"},
            "participant": [{"individual": {"reference": f"Practitioner/{with_practitioner}"}}],
            "period": {"start": start}}


def message(mid: str, sent: str = "2026-03-12T09:00:00-05:00", sender: str = "Practitioner/rn-1", **extra) -> dict:
    return {"resourceType": "Communication", "id": mid, "status": "completed", "subject": {"reference": "Patient/p1"},
            "sender": {"reference": sender}, "sent": sent, "category": [coded(f"{BASE}/CodeSystem/program", "rpm")],
            "medium": [coded(MODE, "WRITTEN")], "payload": [{"contentString": "Your readings look steady."}],
            "reasonCode": [coded(f"{BASE}/CodeSystem/clinical-topic", "physiologic_data")], **extra}


def claim(cid: str, code: str, day: str, status: str = "active", **extra) -> dict:
    return {"resourceType": "Claim", "id": cid, "status": status, "patient": {"reference": "Patient/p1"},
            "provider": {"reference": "Practitioner/dr-1"},
            "item": [{"sequence": 1, "productOrService": coded(CPT, code), "servicedDate": day}], **extra}


def patient_month(*changes: dict, readings: int = 16) -> list[dict]:
    """The base patient with `changes`: a resource of the same type and id replaces the base's."""
    base = [
        {"resourceType": "Patient", "id": "p1", "generalPractitioner": [{"reference": "Practitioner/dr-1"}]},
        practitioner("dr-1", "MD", identifier=[{"system": "http://hl7.org/fhir/sid/us-npi", "value": "1234567893"}]),
        practitioner("rn-1", "RN"),
        device(),
        {"resourceType": "Consent", "id": "consent", "status": "active", "patient": {"reference": "Patient/p1"},
         "scope": coded("http://terminology.hl7.org/CodeSystem/consentscope", "treatment"),
         "category": [coded(LOINC, "59284-0")],
         "dateTime": "2026-03-01T10:00:00-05:00", "performer": [{"reference": "Practitioner/rn-1"}],
         "extension": [{"url": f"{BASE}/StructureDefinition/consent-method", "valueCode": "verbal"}]},
        visit("2025-11-04T09:00:00-05:00"),
        *(reading(n, f"2026-03-{n:02d}T07:00:00-05:00") for n in range(1, readings + 1)),
    ]
    replaced = {(r["resourceType"], r["id"]) for r in changes}
    return [r for r in base if (r["resourceType"], r["id"]) not in replaced] + list(changes)


def ingested(tmp_path: Path, resources: list[dict], zone=None, first="2026-03", last="2026-03") -> tuple[dict, list[dict]]:
    """The March facts of p1 and every problem reported, from `resources` as one NDJSON file."""
    source = tmp_path / "export.ndjson"
    source.write_text("".join(json.dumps(r) + "\n" for r in resources))
    out, report = tmp_path / "facts.jsonl", tmp_path / "problems.jsonl"
    ingest(Reading((str(source),), first, last, zone), str(out), str(report))
    documents = [json.loads(line) for line in out.read_text().splitlines()]
    problems = [json.loads(line) for line in report.read_text().splitlines()]
    return (documents[-1] if documents else {}), problems


def problem(problems: list[dict], code: str) -> dict:
    found = [p for p in problems if p["code"] == code]
    assert len(found) == 1, problems
    return found[0]


def line_of(resources: list[dict], resource_id: str) -> int:
    return next(n for n, r in enumerate(resources, 1) if r["id"] == resource_id)


# --- the base month --------------------------------------------------------------------

def test_the_base_patient_month_is_read_whole_with_a_source_for_every_fact(tmp_path):
    facts, problems = ingested(tmp_path, patient_month(call()))
    assert facts["billing_practitioner"] == {"id": "dr-1", "npi": "1234567893"}
    assert facts["established_patient"] is True
    assert facts["consent"] == {"obtained": True, "date": "2026-03-01", "method": "verbal", "recorded_by": "rn-1"}
    assert facts["device"] == {"meets_fda_definition": True, "type": "blood_pressure_monitor",
                               "data_types": ["blood_pressure"]}
    assert facts["monitoring_period"] == {"start": "2026-03-01", "end": "2026-03-30"}
    assert facts["transmission_days"] == [f"2026-03-{n:02d}" for n in range(1, 17)]
    assert facts["episode"] == {"start": "2026-03-01"}
    assert facts["provenance"]["/transmission_days/0"] == ["Observation/o1"]
    assert facts["provenance"]["/consent"] == ["Consent/consent"]
    assert facts["provenance"]["/established_patient"] == ["Encounter/visit"]
    assert facts["provenance"]["/interactions/0"] == ["Encounter/call"]
    assert [p for p in problems if p["severity"] != "info"] == []


# --- Observation -----------------------------------------------------------------------

def test_a_reading_counts_on_the_local_date_of_the_offset_written_in_it(tmp_path):
    late = reading(20, "2026-03-20T23:30:00-05:00")  # 04:30 on the 21st in UTC
    facts, _ = ingested(tmp_path, patient_month(late))
    assert "2026-03-20" in facts["transmission_days"] and "2026-03-21" not in facts["transmission_days"]


def test_a_utc_reading_counts_on_the_practice_date_when_a_time_zone_is_set(tmp_path):
    from zoneinfo import ZoneInfo
    utc = reading(20, "2026-03-21T03:30:00Z")
    plain, _ = ingested(tmp_path, patient_month(utc))
    local, _ = ingested(tmp_path, patient_month(utc), zone=ZoneInfo("America/Chicago"))
    assert "2026-03-21" in plain["transmission_days"]
    assert "2026-03-20" in local["transmission_days"] and "2026-03-21" not in local["transmission_days"]


def test_two_readings_on_one_day_are_one_transmission_day_with_both_as_sources(tmp_path):
    facts, _ = ingested(tmp_path, patient_month(reading(30, "2026-03-05T19:00:00-05:00")))
    assert facts["transmission_days"].count("2026-03-05") == 1
    assert facts["provenance"]["/transmission_days/4"] == ["Observation/o30", "Observation/o5"]


@pytest.mark.parametrize("when", [{"effectiveInstant": "2026-03-20T08:00:00-05:00"},
                                  {"effectivePeriod": {"start": "2026-03-20T08:00:00-05:00"}},
                                  {"effectiveDateTime": "2026-03-20"}])
def test_a_reading_is_dated_by_its_instant_its_period_or_a_date_alone(tmp_path, when):
    observation = reading(20, "unused")
    del observation["effectiveDateTime"]
    facts, _ = ingested(tmp_path, patient_month({**observation, **when}))
    assert "2026-03-20" in facts["transmission_days"]


def test_an_observation_without_a_time_is_refused_at_its_line(tmp_path):
    undated = reading(20, "unused")
    del undated["effectiveDateTime"]
    resources = patient_month(undated)
    facts, problems = ingested(tmp_path, resources)
    found = problem(problems, "fhir.no_time")
    assert found["severity"] == "error" and found["reference"] == "Observation/o20"
    assert found["location"] == f"{tmp_path / 'export.ndjson'}:{line_of(resources, 'o20')}"
    assert len(facts["transmission_days"]) == 16


def test_an_observation_with_a_time_that_is_not_a_date_is_refused_at_the_element(tmp_path):
    resources = patient_month(reading(20, "last tuesday"))
    _, problems = ingested(tmp_path, resources)
    assert problem(problems, "fhir.no_time")["location"].endswith(f":{line_of(resources, 'o20')}#/effectiveDateTime")


def test_a_value_not_from_a_device_is_not_a_transmission(tmp_path):
    typed_in = reading(20, "2026-03-20T08:00:00-05:00")
    del typed_in["device"]
    facts, problems = ingested(tmp_path, patient_month(typed_in))
    assert problem(problems, "fhir.not_from_device")["severity"] == "info"
    assert "2026-03-20" not in facts["transmission_days"]


def test_a_reading_from_a_device_not_in_the_input_is_an_error(tmp_path):
    stray = reading(20, "2026-03-20T08:00:00-05:00", device={"reference": "Device/unknown"})
    facts, problems = ingested(tmp_path, patient_month(stray))
    assert problem(problems, "fhir.unknown_device")["severity"] == "error"
    assert "2026-03-20" not in facts["transmission_days"]


def test_a_preliminary_observation_records_nothing_that_happened(tmp_path):
    facts, problems = ingested(tmp_path, patient_month(reading(20, "2026-03-20T08:00:00-05:00", status="preliminary")))
    assert problem(problems, "fhir.not_done")["location"].endswith("#/status")
    assert "2026-03-20" not in facts["transmission_days"]


def test_an_observation_without_a_patient_is_refused_at_subject(tmp_path):
    orphan = reading(20, "2026-03-20T08:00:00-05:00")
    del orphan["subject"]
    _, problems = ingested(tmp_path, patient_month(orphan))
    found = problem(problems, "fhir.no_patient")
    assert found["severity"] == "error" and found["location"].endswith("#/subject")


def test_the_loinc_code_of_each_reading_names_the_devices_data_types(tmp_path):
    weight = reading(20, "2026-03-20T08:00:00-05:00", code=coded(LOINC, "29463-7"))
    other = reading(21, "2026-03-21T08:00:00-05:00", code=coded(LOINC, "0000-0"))
    facts, _ = ingested(tmp_path, patient_month(weight, other))
    assert facts["device"]["data_types"] == ["blood_pressure", "weight"]


# --- Device ----------------------------------------------------------------------------

def test_a_device_without_a_patient_is_refused_at_patient(tmp_path):
    orphan = device()
    del orphan["patient"]
    resources = patient_month(orphan)
    facts, problems = ingested(tmp_path, resources)
    found = problem(problems, "fhir.no_patient")
    assert found["location"] == f"{tmp_path / 'export.ndjson'}:{line_of(resources, 'cuff')}#/patient"
    assert found["reference"] == "Device/cuff"
    assert "device" not in facts  # its readings belong to no known device


def test_the_fda_flag_wins_over_a_udi(tmp_path):
    flagged = device(extension=[*device()["extension"],
                                {"url": f"{BASE}/StructureDefinition/meets-fda-definition", "valueBoolean": False}])
    facts, _ = ingested(tmp_path, patient_month(flagged))
    assert facts["device"]["meets_fda_definition"] is False


def test_a_device_without_udi_or_flag_is_taken_as_not_fda_defined_and_said_so(tmp_path):
    bare = device()
    del bare["udiCarrier"]
    facts, problems = ingested(tmp_path, patient_month(bare))
    assert problem(problems, "fhir.fda_unknown")["severity"] == "warning"
    assert facts["device"]["meets_fda_definition"] is False


def test_a_flagged_device_without_udi_meets_the_definition(tmp_path):
    flagged = device(extension=[*device()["extension"],
                                {"url": f"{BASE}/StructureDefinition/meets-fda-definition", "valueBoolean": True}])
    del flagged["udiCarrier"]
    facts, problems = ingested(tmp_path, patient_month(flagged))
    assert facts["device"]["meets_fda_definition"] is True
    assert [p for p in problems if p["code"] == "fhir.fda_unknown"] == []


def test_without_an_assignment_period_the_episode_starts_at_the_first_reading(tmp_path):
    unassigned = device(extension=[])
    resources = [r for r in patient_month(unassigned) if r["id"] not in ("o1", "o2")]
    march, _ = ingested(tmp_path, resources)
    april, _ = ingested(tmp_path, resources, first="2026-04", last="2026-04")
    assert "monitoring_period" not in march  # the period from the 3rd ends on April 1, its date of service
    assert april["episode"] == {"start": "2026-03-03"}
    assert april["monitoring_period"] == {"start": "2026-03-03", "end": "2026-04-01"}
    assert april["transmission_days"] == [f"2026-03-{n:02d}" for n in range(3, 17)]


def test_the_device_type_is_its_code_or_else_its_text(tmp_path):
    texted = device(type={"text": "Weight scale"})
    facts, _ = ingested(tmp_path, patient_month(texted))
    assert facts["device"]["type"] == "weight_scale"


def test_a_device_entered_in_error_is_not_the_patients(tmp_path):
    _, problems = ingested(tmp_path, patient_month(device(status="entered-in-error")))
    assert problem(problems, "fhir.not_done")["reference"] == "Device/cuff"


# --- Consent, Patient, Practitioner ----------------------------------------------------

@pytest.mark.parametrize("change, obtained", [({"status": "rejected"}, False), ({"status": "inactive"}, False),
                                              ({"provision": {"type": "deny"}}, False), ({}, True)])
def test_consent_is_obtained_only_when_active_and_not_a_denial(tmp_path, change, obtained):
    consent = {"resourceType": "Consent", "id": "consent", "status": "active", "patient": {"reference": "Patient/p1"},
               "dateTime": "2026-03-01T10:00:00-05:00", **change}
    facts, _ = ingested(tmp_path, patient_month(consent))
    assert facts["consent"]["obtained"] is obtained


def test_a_draft_consent_gives_no_consent_fact(tmp_path):
    draft = {"resourceType": "Consent", "id": "consent", "status": "draft", "patient": {"reference": "Patient/p1"},
             "dateTime": "2026-03-01T10:00:00-05:00"}
    facts, problems = ingested(tmp_path, patient_month(draft))
    assert "consent" not in facts
    assert problem(problems, "fhir.not_done")["reference"] == "Consent/consent"


def test_the_latest_consent_by_the_months_end_is_in_force(tmp_path):
    withdrawn = {"resourceType": "Consent", "id": "withdrawn", "status": "rejected",
                 "patient": {"reference": "Patient/p1"}, "dateTime": "2026-03-25T10:00:00-05:00"}
    later = {**withdrawn, "id": "later", "status": "active", "dateTime": "2026-04-02T10:00:00-05:00"}
    facts, _ = ingested(tmp_path, patient_month(withdrawn, later))
    assert facts["consent"] == {"obtained": False, "date": "2026-03-25"}
    assert facts["provenance"]["/consent"] == ["Consent/withdrawn"]


def test_of_two_consents_on_one_day_the_later_in_the_day_is_in_force(tmp_path):
    given = {"resourceType": "Consent", "id": "z-given", "status": "active", "patient": {"reference": "Patient/p1"},
             "dateTime": "2026-03-25T09:00:00-05:00"}
    withdrawn = {**given, "id": "a-withdrawn", "status": "rejected", "dateTime": "2026-03-25T16:00:00-05:00"}
    facts, _ = ingested(tmp_path, patient_month(given, withdrawn))
    assert facts["consent"]["obtained"] is False and facts["provenance"]["/consent"] == ["Consent/a-withdrawn"]


def test_a_consent_without_a_date_is_warned_about(tmp_path):
    undated = {"resourceType": "Consent", "id": "consent", "status": "active", "patient": {"reference": "Patient/p1"}}
    facts, problems = ingested(tmp_path, patient_month(undated))
    assert problem(problems, "fhir.undated_consent")["location"].endswith("#/dateTime")
    assert facts["consent"] == {"obtained": True}


def test_readings_after_the_last_month_are_not_reported_as_outside_every_period(tmp_path):
    later = reading(40, "2026-06-20T08:00:00-05:00")
    _, problems = ingested(tmp_path, patient_month(later))
    assert [p for p in problems if p["code"] == "fhir.outside_periods"] == []
    early = {**device(), "extension": [{"url": f"{BASE}/StructureDefinition/assignment-period",
                                         "valuePeriod": {"start": "2026-03-05"}}]}
    _, problems = ingested(tmp_path, patient_month(early))
    assert sorted(p["reference"] for p in problems if p["code"] == "fhir.outside_periods") == \
        [f"Observation/o{n}" for n in range(1, 5)]


def test_the_qualifying_apm_flag_of_the_billing_practitioner_is_read(tmp_path):
    dr = practitioner("dr-1", "MD", extension=[{"url": f"{BASE}/StructureDefinition/qualifying-apm-participant",
                                               "valueBoolean": True}])
    facts, _ = ingested(tmp_path, patient_month(dr))
    assert facts["billing_practitioner"] == {"id": "dr-1", "qualifying_apm_participant": True}


@pytest.mark.parametrize("seen, established", [("2023-03-30T09:00:00-05:00", False), ("2023-03-31T09:00:00-05:00", True)])
def test_a_visit_in_the_three_years_to_the_months_end_establishes_the_patient(tmp_path, seen, established):
    facts, _ = ingested(tmp_path, patient_month(visit(seen)))
    assert facts["established_patient"] is established


def test_a_visit_with_another_practitioner_does_not_establish_the_patient(tmp_path):
    facts, _ = ingested(tmp_path, patient_month(visit("2025-11-04T09:00:00-05:00", with_practitioner="rn-1")))
    assert facts["established_patient"] is False


def test_a_visit_with_the_billing_practitioner_through_a_practitioner_role_establishes_the_patient(tmp_path):
    role = {"resourceType": "PractitionerRole", "id": "dr-1-clinic", "practitioner": {"reference": "Practitioner/dr-1"}}
    seen = visit("2025-11-04T09:00:00-05:00")
    seen["participant"] = [{"individual": {"reference": "PractitionerRole/dr-1-clinic"}}]
    facts, _ = ingested(tmp_path, patient_month(role, seen))
    assert facts["established_patient"] is True


# --- Encounter (an interaction) --------------------------------------------------------

def test_a_call_is_an_interaction_with_its_duration_modality_performer_and_documentation(tmp_path):
    facts, _ = ingested(tmp_path, patient_month(call()))
    assert facts["interactions"] == [{"id": "Encounter/call", "date": "2026-03-10", "duration_seconds": 1260,
                                      "modality": "phone", "two_way": True, "program": "rpm",
                                      "performer": {"id": "rn-1", "role": "clinical_staff"},
                                      "clinical_topics": ["physiologic_data"], "summary": "Readings reviewed."}]


def test_a_duration_is_cut_down_to_whole_seconds_never_rounded_up(tmp_path):
    short = call(end="2026-03-10T14:19:59.900-05:00")
    facts, _ = ingested(tmp_path, patient_month(short))
    assert facts["interactions"][0]["duration_seconds"] == 1199


def test_without_an_end_the_length_gives_the_duration(tmp_path):
    lengthy = call(period={"start": "2026-03-10T14:00:00-05:00"}, length={"value": 20, "unit": "min", "code": "min"})
    facts, _ = ingested(tmp_path, patient_month(lengthy))
    assert facts["interactions"][0]["duration_seconds"] == 1200


@pytest.mark.parametrize("value", [1e30, 1.5e19, 1441])
def test_a_length_beyond_what_facts_hold_is_refused_at_the_length(tmp_path, value):
    """1e30 minutes once stopped the ingest with a decimal error (and an integer beyond 64
    bits could not have been written): now one problem, at the element. The facts hold at
    most a day (86,400 s) for what is dated one day, so a minute more is refused there too."""
    lengthy = call(period={"start": "2026-03-10T14:00:00-05:00"}, length={"value": value, "unit": "min", "code": "min"})
    facts, problems = ingested(tmp_path, patient_month(lengthy))
    found = problem(problems, "fhir.out_of_range")
    assert found["location"].endswith("#/length") and found["severity"] == "error"
    assert not facts.get("interactions")


def test_an_interaction_without_end_or_length_is_refused_at_period_end(tmp_path):
    _, problems = ingested(tmp_path, patient_month(call(period={"start": "2026-03-10T14:00:00-05:00"})))
    assert problem(problems, "fhir.no_duration")["location"].endswith("#/period/end")


@pytest.mark.parametrize("klass, mode, modality", [("AMB", None, "in_person"), ("HH", None, "in_person"),
                                                   ("VR", None, "video"), ("VR", "VIDEOCONF", "video"),
                                                   ("VR", "PHONE", "phone")])
def test_the_class_and_participation_mode_give_the_modality(tmp_path, klass, mode, modality):
    encounter = call(**{"class": {"system": ACT, "code": klass}}, type=[coded(MODE, mode)] if mode else [])
    facts, _ = ingested(tmp_path, patient_month(encounter))
    assert facts["interactions"][0]["modality"] == modality


def test_an_inpatient_encounter_is_not_a_communication_with_the_patient(tmp_path):
    _, problems = ingested(tmp_path, patient_month(call(**{"class": {"system": ACT, "code": "IMP"}})))
    assert problem(problems, "fhir.unsupported_class")["location"].endswith("#/class")


def test_an_interaction_counts_for_exactly_one_program(tmp_path):
    program = f"{BASE}/CodeSystem/program"
    two = call(serviceType={"coding": [{"system": program, "code": "rpm"}, {"system": program, "code": "ccm"}]})
    _, problems = ingested(tmp_path, patient_month(two))
    assert problem(problems, "fhir.no_program")["location"].endswith("#/serviceType")
    _, problems = ingested(tmp_path, patient_month(message("m1", category=[])))
    assert problem(problems, "fhir.no_program")["location"].endswith("#/category")


def test_the_primary_performer_comes_first_with_its_coded_role(tmp_path):
    encounter = call(participant=[
        {"individual": {"reference": "Practitioner/rn-1"}},
        {"individual": {"reference": "Practitioner/dr-1"},
         "type": [coded("http://terminology.hl7.org/CodeSystem/v3-ParticipationType", "PPRF"),
                  coded(f"{BASE}/CodeSystem/performer-role", "npp")]}])
    facts, _ = ingested(tmp_path, patient_month(encounter))
    assert facts["interactions"][0]["performer"] == {"id": "dr-1", "role": "npp"}


def test_a_practitioner_role_names_the_practitioner_and_its_role(tmp_path):
    role = {"resourceType": "PractitionerRole", "id": "pr-1", "practitioner": {"reference": "Practitioner/rn-1"},
            "code": [coded(f"{BASE}/CodeSystem/performer-role", "npp")]}
    encounter = call(participant=[{"individual": {"reference": "PractitionerRole/pr-1"}}])
    facts, _ = ingested(tmp_path, patient_month(role, encounter))
    assert facts["interactions"][0]["performer"] == {"id": "rn-1", "role": "npp"}


def test_an_interaction_without_a_performer_is_placed_and_warned_about(tmp_path):
    resources = patient_month(call(participant=[]))
    facts, problems = ingested(tmp_path, resources)
    found = problem(problems, "fhir.undocumented")
    assert found["severity"] == "warning" and "performer" in found["message"]
    assert found["location"] == f"{tmp_path / 'export.ndjson'}:{line_of(resources, 'call')}"
    assert "performer" not in facts["interactions"][0]


def test_an_interaction_without_topics_or_summary_is_warned_about(tmp_path):
    bare = call(reasonCode=[], extension=[])
    facts, problems = ingested(tmp_path, patient_month(bare))
    assert "clinical topics" in problem(problems, "fhir.undocumented")["message"]
    assert "summary" not in facts["interactions"][0]


def test_an_encounter_without_a_program_is_a_visit_not_an_interaction(tmp_path):
    visit = call(cid="clinic")
    del visit["serviceType"]
    facts, _ = ingested(tmp_path, patient_month(visit))
    assert "interactions" not in facts


# --- Procedure (an activity) -----------------------------------------------------------

def procedure(kind: str | None, **extra) -> dict:
    return {"resourceType": "Procedure", "id": "review", "status": "completed", "subject": {"reference": "Patient/p1"},
            "code": coded(f"{BASE}/CodeSystem/activity-kind", kind) if kind else coded("http://snomed.info/sct", "1"),
            "category": coded(f"{BASE}/CodeSystem/program", "rpm"),
            "performedPeriod": {"start": "2026-03-15T08:00:00-05:00", "end": "2026-03-15T08:07:30-05:00"},
            "performer": [{"actor": {"reference": "Practitioner/rn-1"},
                           "function": coded(f"{BASE}/CodeSystem/performer-role", "clinical_staff")}], **extra}


def test_a_data_review_procedure_is_an_activity(tmp_path):
    facts, _ = ingested(tmp_path, patient_month(procedure("data_review")))
    assert facts["activities"] == [{"id": "Procedure/review", "date": "2026-03-15", "kind": "data_review",
                                    "duration_seconds": 450, "program": "rpm",
                                    "performer": {"id": "rn-1", "role": "clinical_staff"}}]


def test_a_procedure_performer_role_the_facts_do_not_know_is_left_to_the_practitioners_degree(tmp_path):
    nurse = procedure("data_review")
    nurse["performer"][0]["function"] = coded(f"{BASE}/CodeSystem/performer-role", "nurse")
    facts, _ = ingested(tmp_path, patient_month(nurse))
    assert facts["activities"][0]["performer"] == {"id": "rn-1", "role": "clinical_staff"}


def test_another_procedure_is_not_read_and_one_without_times_is_refused(tmp_path):
    facts, problems = ingested(tmp_path, patient_month(procedure(None)))
    assert problem(problems, "fhir.not_read")["reference"] == "Procedure/review" and "activities" not in facts
    _, problems = ingested(tmp_path, patient_month(procedure("data_review", performedPeriod={})))
    assert problem(problems, "fhir.no_duration")["location"].endswith("#/performedPeriod")


# --- Communication ---------------------------------------------------------------------

def test_a_secure_message_carries_no_interactive_time(tmp_path):
    facts, _ = ingested(tmp_path, patient_month(message("m1")))
    assert facts["interactions"] == [{"id": "Communication/m1", "date": "2026-03-12", "duration_seconds": 0,
                                      "modality": "secure_message", "two_way": False, "program": "rpm",
                                      "performer": {"id": "rn-1", "role": "clinical_staff"},
                                      "clinical_topics": ["physiologic_data"], "summary": "Your readings look steady."}]


def test_a_patients_reply_makes_the_thread_two_way_and_is_among_its_sources(tmp_path):
    reply = {"resourceType": "Communication", "id": "r1", "status": "completed", "subject": {"reference": "Patient/p1"},
             "sender": {"reference": "Patient/p1"}, "sent": "2026-03-12T11:00:00-05:00",
             "inResponseTo": [{"reference": "Communication/m1"}]}
    facts, _ = ingested(tmp_path, patient_month(message("m1"), reply))
    assert [(i["id"], i["two_way"], i["duration_seconds"]) for i in facts["interactions"]] == [("Communication/m1", True, 0)]
    assert facts["provenance"]["/interactions/0"] == ["Communication/m1", "Communication/r1"]


def test_a_message_left_by_telephone_is_a_voicemail(tmp_path):
    facts, _ = ingested(tmp_path, patient_month(message("m1", medium=[coded(MODE, "PHONE")])))
    assert facts["interactions"][0]["modality"] == "voicemail"


def test_a_message_sent_by_a_device_is_automated(tmp_path):
    facts, _ = ingested(tmp_path, patient_month(message("m1", sender="Device/cuff")))
    assert facts["interactions"][0]["modality"] == "automated_message"
    assert facts["interactions"][0]["performer"] == {"id": "cuff", "role": "ai_system"}


def test_a_message_without_its_day_is_refused(tmp_path):
    undated = message("m1")
    del undated["sent"]
    _, problems = ingested(tmp_path, patient_month(undated))
    assert problem(problems, "fhir.no_time")["location"].endswith("#/received")


# --- Claim, Coverage, other types ------------------------------------------------------

def test_an_active_claim_line_is_another_service_of_the_month_and_a_draft_a_claim_to_review(tmp_path):
    billed = claim("c1", "99214", "2026-03-18")
    draft = claim("c2", "99457", "2026-03-31", status="draft")
    draft["item"][0]["quantity"] = {"value": 1}
    facts, _ = ingested(tmp_path, patient_month(billed, draft))
    assert facts["other_services"] == [{"code": "99214", "practitioner": "dr-1"}]
    assert facts["claims"] == [{"code": "99457", "units": 1}]
    assert facts["provenance"]["/other_services/0"] == ["Claim/c1"]


def test_a_claim_line_without_a_cpt_code_is_refused_at_its_item(tmp_path):
    bad = claim("c1", "99214", "2026-03-18")
    bad["item"][0]["productOrService"] = coded("http://example.org/local", "X1")
    _, problems = ingested(tmp_path, patient_month(bad))
    assert problem(problems, "fhir.bad_claim_line")["location"].endswith("#/item/0")


def test_coverage_and_unknown_types_are_reported_as_not_read(tmp_path):
    coverage = {"resourceType": "Coverage", "id": "cov", "status": "active"}
    other = {"resourceType": "Medication", "id": "med"}
    _, problems = ingested(tmp_path, patient_month(coverage, other))
    assert sorted(p["reference"] for p in problems if p["code"] == "fhir.not_read") == ["Coverage/cov", "Medication/med"]


# --- the input itself ------------------------------------------------------------------

def test_a_line_that_is_not_json_is_reported_and_the_rest_is_read(tmp_path):
    source = tmp_path / "export.ndjson"
    source.write_text("".join(json.dumps(r) + "\n" for r in patient_month()) + "{not json\n")
    out, report = tmp_path / "facts.jsonl", tmp_path / "problems.jsonl"
    ingest(Reading((str(source),), "2026-03", "2026-03"), str(out), str(report))
    problems = [json.loads(line) for line in report.read_text().splitlines()]
    found = problem(problems, "fhir.malformed")
    assert found["location"] == f"{source}:{len(patient_month()) + 1}"
    assert len(json.loads(out.read_text().splitlines()[0])["transmission_days"]) == 16


def test_a_resource_without_an_id_is_refused(tmp_path):
    anonymous = reading(20, "2026-03-20T08:00:00-05:00")
    del anonymous["id"]
    source = tmp_path / "export.ndjson"
    source.write_text("".join(json.dumps(r) + "\n" for r in [*patient_month(), anonymous]))
    out, report = tmp_path / "facts.jsonl", tmp_path / "problems.jsonl"
    ingest(Reading((str(source),), "2026-03", "2026-03"), str(out), str(report))
    assert problem([json.loads(line) for line in report.read_text().splitlines()], "fhir.no_id")["severity"] == "error"


def test_of_two_versions_of_a_resource_the_later_is_read_whatever_the_order(tmp_path):
    old = reading(20, "2026-03-20T08:00:00-05:00", meta={"lastUpdated": "2026-03-20T09:00:00Z"})
    new = reading(20, "2026-03-22T08:00:00-05:00", meta={"lastUpdated": "2026-03-23T09:00:00Z"})
    for order in ([old, new], [new, old]):
        facts, problems = ingested(tmp_path, [*patient_month(), *order])
        assert "2026-03-22" in facts["transmission_days"] and "2026-03-20" not in facts["transmission_days"]
        assert problem(problems, "fhir.superseded")["severity"] == "warning"


def test_a_later_copy_entered_in_error_withdraws_the_reading(tmp_path):
    counted = reading(20, "2026-03-20T08:00:00-05:00", meta={"lastUpdated": "2026-03-20T09:00:00Z"})
    retracted = {**counted, "status": "entered-in-error", "meta": {"lastUpdated": "2026-03-21T09:00:00Z"}}
    for order in ([counted, retracted], [retracted, counted]):
        facts, problems = ingested(tmp_path, [*patient_month(), *order])
        assert "2026-03-20" not in facts["transmission_days"]
        assert problem(problems, "fhir.superseded")["reference"] == "Observation/o20"
    earlier_mistake = {**retracted, "meta": {"lastUpdated": "2026-03-19T09:00:00Z"}}
    facts, _ = ingested(tmp_path, [*patient_month(), earlier_mistake, counted])
    assert "2026-03-20" in facts["transmission_days"]


def test_versions_are_compared_as_moments_not_as_text(tmp_path):
    # 10:00+05:00 is 05:00Z: earlier than 06:00Z, though it sorts after it as text
    earlier = reading(20, "2026-03-20T08:00:00-05:00", meta={"lastUpdated": "2026-03-22T10:00:00+05:00"})
    later = reading(20, "2026-03-22T08:00:00-05:00", meta={"lastUpdated": "2026-03-22T06:00:00Z"})
    facts, _ = ingested(tmp_path, [*patient_month(), earlier, later])
    assert "2026-03-22" in facts["transmission_days"] and "2026-03-20" not in facts["transmission_days"]


def test_a_claim_without_items_is_reported(tmp_path):
    empty = claim("c1", "99214", "2026-03-18")
    del empty["item"]
    facts, problems = ingested(tmp_path, patient_month(empty))
    assert problem(problems, "fhir.no_claim_lines")["location"].endswith("#/item")
    assert "other_services" not in facts


def test_a_bundles_urn_references_resolve_to_its_entries(tmp_path):
    resources = patient_month()
    entries = [{"fullUrl": f"urn:uuid:00000000-0000-0000-0000-{n:012d}", "resource": r} for n, r in enumerate(resources)]
    urn = {f"{r['resourceType']}/{r['id']}": e["fullUrl"] for e, r in zip(entries, resources)}
    for entry in entries:
        for element in ("subject", "patient", "device"):
            if element in entry["resource"]:
                entry["resource"][element] = {"reference": urn[entry["resource"][element]["reference"]]}
    source = tmp_path / "bundle.json"
    source.write_text(json.dumps({"resourceType": "Bundle", "type": "collection", "entry": entries}))
    out = tmp_path / "facts.jsonl"
    ingest(Reading((str(source),), "2026-03", "2026-03"), str(out))
    facts = json.loads(out.read_text())
    assert facts["patient_id"] == "p1" and len(facts["transmission_days"]) == 16


# --- the vocabulary --------------------------------------------------------------------

def test_every_value_the_vocabulary_maps_to_is_one_the_facts_schema_allows():
    schema = bundled_schema("facts.schema.json")["$defs"]
    modalities = set(schema["interaction"]["properties"]["modality"]["enum"])
    roles = set(schema["performer"]["properties"]["role"]["enum"])
    vocabulary = yaml.safe_load((Path(codes.__file__).parent / "vocabulary.yaml").read_text())
    mapped = [*vocabulary["encounter_class"].values(), *vocabulary["encounter_mode"].values(),
              *vocabulary["message_medium"].values(), vocabulary["message_default"], vocabulary["device_message"],
              *vocabulary["threaded"]]
    assert set(mapped) <= modalities
    assert set(vocabulary["degree_role"].values()) | {vocabulary["device_sender_role"]} <= roles
    assert set(vocabulary["refined_by_mode"]) <= set(vocabulary["encounter_class"])


# --- --validate (the fhir extra) -----------------------------------------------------------

def test_with_validate_a_resource_the_fhir_models_refuse_is_reported_at_its_element_and_not_read(tmp_path):
    from click.testing import CliRunner

    from policyengine.cli import main
    off_spec = reading(20, "2026-03-20T08:00:00-05:00", colour="red")
    resources = patient_month(off_spec)
    source = tmp_path / "export.ndjson"
    source.write_text("".join(json.dumps(r) + "\n" for r in resources))
    out, report = tmp_path / "facts.jsonl", tmp_path / "problems.jsonl"
    result = CliRunner().invoke(main, ["ingest", "fhir", str(source), "--validate", "--from", "2026-03", "--to", "2026-03",
                                       "--out", str(out), "--report", str(report)])
    assert result.exit_code == 1
    found = problem([json.loads(line) for line in report.read_text().splitlines()], "fhir.invalid")
    assert found["location"] == f"{source}:{line_of(resources, 'o20')}#/colour"
    assert "2026-03-20" not in json.loads(out.read_text())["transmission_days"]


def test_the_examples_conform_to_the_fhir_models(tmp_path):
    from click.testing import CliRunner

    from policyengine.cli import main
    examples = Path(__file__).resolve().parent.parent / "examples" / "fhir"
    result = CliRunner().invoke(main, ["ingest", "fhir", str(examples), "--validate", "--out", str(tmp_path / "f.jsonl")])
    assert result.exit_code == 0, result.output

"""FHIR input an EHR really sends (issue 31): each case once crashed, or lost resources with
exit status 0. Each is now a problem with its code at a location in the input (a file, a
line, a JSON pointer), the rest of the input is still read, and the command exits 1.

Every test reads the base patient-month of test_fhir_mapping (16 days of readings in March
2026, a call) beside the hostile input, through the command, and checks that month whole.
"""
from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from test_fhir_mapping import BASE, call, claim, device, message, patient_month, procedure, reading

from policyengine.cli import main
from policyengine.fhir import read
from policyengine.limits import MAX_FHIR_RESOURCE_BYTES

MONTH = ["--from", "2026-03", "--to", "2026-03"]
Files = dict[str | bytes, object]


class Run:
    """What one command made of an input folder: its exit status, what it wrote (facts, or
    decisions), the facts it wrote or decided, and every problem reported."""

    def __init__(self, tmp_path: Path, files: Files, command: str = "ingest", *options: str) -> None:
        self.folder = tmp_path / "in"
        self.folder.mkdir(parents=True)
        for name, content in files.items():
            _write(self.folder, name, content)
        out, facts, report = tmp_path / "out.jsonl", tmp_path / "facts.jsonl", tmp_path / "problems.jsonl"
        args = ["ingest", "fhir"] if command == "ingest" else ["timeline", "decide", "--facts", str(facts)]
        result = CliRunner().invoke(main, [*args, str(self.folder), "--out", str(out), "--report", str(report),
                                           *MONTH, *options])
        assert result.exception is None or isinstance(result.exception, SystemExit), result.output
        self.exit_code = result.exit_code
        self.lines = [json.loads(line) for line in out.read_text().splitlines()]
        self.facts = self.lines if command == "ingest" else [json.loads(line) for line in facts.read_text().splitlines()]
        self.problems = [json.loads(line) for line in report.read_text().splitlines()]

    def one(self, code: str) -> dict:
        found = [p for p in self.problems if p["code"] == code]
        assert len(found) == 1, self.problems
        return found[0]

    def at(self, name: str) -> str:
        """The location of a file of the input folder."""
        return str(self.folder / name)

    def the_month_is_whole(self) -> None:
        """The base patient-month was read, every day of it."""
        facts = self.facts[-1]
        assert facts["patient_id"] == "p1" and len(facts["transmission_days"]) == 16, self.facts


def _write(folder: Path, name: str | bytes, content: object) -> None:
    path = os.path.join(os.fsencode(folder), name if isinstance(name, bytes) else name.encode())
    if isinstance(content, list):
        content = "".join(json.dumps(r) + "\n" for r in content)
    elif isinstance(content, dict):
        content = json.dumps(content)
    with open(path, "wb") as out:
        out.write(content if isinstance(content, bytes) else str(content).encode())


def base(*changes: dict) -> Files:
    return {"export.ndjson": patient_month(*changes)}


def line_of(files: Files, resource_id: str) -> int:
    resources = files["export.ndjson"]
    assert isinstance(resources, list)
    return next(n for n, r in enumerate(resources, 1) if r["id"] == resource_id)


def bundle_text(entries: list[str]) -> str:
    """A Bundle of entries written as text (a key twice, nesting json.dumps cannot write)."""
    return '{"resourceType": "Bundle", "type": "collection", "entry": [' + ", ".join(entries) + "]}"


def bundle(resources: list[dict], **fields) -> dict:
    return {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": r} for r in resources], **fields}


# --- crashes ----------------------------------------------------------------------------

def test_a_file_name_that_is_not_utf8_is_refused_and_the_rest_read(tmp_path):
    files = {**base(), b"caf\xe9.ndjson": [reading(40, "2026-03-20T07:00:00-05:00")]}
    try:
        run = Run(tmp_path, files)
    except OSError:
        if sys.platform.startswith("linux"):  # Linux names files in bytes: CI runs this case, never skips it
            raise
        pytest.skip("this file system names files in UTF-8 only")
    found = run.one("fhir.bad_file_name")
    assert found["severity"] == "error" and found["location"] == run.at("caf\\xe9.ndjson")
    assert run.exit_code == 1
    run.the_month_is_whole()


@pytest.mark.parametrize("when, zone", [("0002-06-01T00:00:00Z", None), ("0001-01-01", None),
                                        ("9999-12-31T23:00:00-05:00", "UTC"), ("2200-01-01T00:30:00+01:00", None),
                                        ("1899-12-31T22:00:00-05:00", None)])
@pytest.mark.parametrize("command", ["ingest", "decide"])
def test_a_day_outside_the_records_days_is_refused_at_its_element(tmp_path, when, zone, command):
    files = base(reading(40, when))
    run = Run(tmp_path, files, command, *(["--timezone", zone] if zone else []))
    found = run.one("fhir.out_of_range")
    assert found["location"] == f"{run.at('export.ndjson')}:{line_of(files, 'o40')}#/effectiveDateTime"
    assert found["reference"] == "Observation/o40" and run.exit_code == 1
    run.the_month_is_whole()
    if command == "decide":
        assert [line["month"] for line in run.lines] == ["2026-03"] and "error" not in run.lines[0]


def test_a_device_assigned_until_9999_is_in_use_with_no_end(tmp_path):
    open_ended = device(extension=[{"url": f"{BASE}/StructureDefinition/assignment-period",
                                    "valuePeriod": {"start": "2026-03-01", "end": "9999-12-31"}}])
    run = Run(tmp_path, base(open_ended))
    assert run.exit_code == 0 and [p for p in run.problems if p["severity"] != "info"] == []
    run.the_month_is_whole()


def test_a_device_assigned_from_year_2_is_refused_at_the_start(tmp_path):
    ancient = device(extension=[{"url": f"{BASE}/StructureDefinition/assignment-period",
                                 "valuePeriod": {"start": "0002-03-01"}}])
    run = Run(tmp_path, base(ancient))
    assert run.one("fhir.out_of_range")["location"].endswith("#/extension/0/valuePeriod/start")
    assert run.exit_code == 1


# --- read as something else, or lost ----------------------------------------------------

def test_a_bundle_naming_its_resource_type_twice_is_refused_and_other_files_read(tmp_path):
    text = json.dumps(bundle(patient_month()[:3])).replace('"resourceType": "Bundle",',
                                                          '"resourceType": "Bundle", "resourceType": "Patient", "id": "x",', 1)
    run = Run(tmp_path, {**base(), "bundle.json": text})
    found = run.one("fhir.duplicate_key")
    assert found["location"] == f"{run.at('bundle.json')}#" and "'resourceType'" in found["message"]
    assert run.exit_code == 1
    run.the_month_is_whole()


@pytest.mark.parametrize("written", ['"id": "o40"', '"\\u0069d": "o40"'])  # an escape: read twice to find it
def test_a_key_given_twice_in_a_bundle_entry_refuses_that_entry_only(tmp_path, written):
    observation = json.dumps(reading(40, "2026-03-20T07:00:00-05:00"))
    twice = observation.replace('"id": "o40"', f'"id": "o41", {written}')
    entries = [json.dumps({"resource": r}) for r in patient_month()]
    run = Run(tmp_path, {"bundle.json": bundle_text([*entries, f'{{"resource": {twice}}}'])})
    assert run.one("fhir.duplicate_key")["location"] == f"{run.at('bundle.json')}#/entry/{len(entries)}/resource"
    assert run.exit_code == 1
    run.the_month_is_whole()


def test_a_bundle_in_a_bundle_entry_or_an_ndjson_line_is_read_at_its_own_locations(tmp_path):
    resources = patient_month()
    nested = {"resourceType": "Bundle", "type": "batch-response",
              "entry": [{"resource": bundle(resources[:10], id="page-1")}, {"resource": bundle(resources[10:], id="page-2")}]}
    run = Run(tmp_path, {"batch.json": nested, "lines.ndjson": [bundle([reading(40, "2026-03-20T07:00:00-05:00")])]})
    assert run.exit_code == 0 and [p for p in run.problems if p["code"] == "fhir.not_read"] == []
    assert run.facts[0]["transmission_days"] == [f"2026-03-{n:02d}" for n in (*range(1, 17), 20)]
    stray = reading(41, "2026-03-21T07:00:00-05:00", device={"reference": "Device/elsewhere"})
    inner = Run(tmp_path / "b", {"batch.json": {**nested, "entry": [*nested["entry"], {"resource": bundle([stray])}]}})
    assert inner.one("fhir.unknown_device")["location"] == f"{inner.at('batch.json')}#/entry/2/resource/entry/0/resource/device"


@pytest.mark.parametrize("levels", [100, 1_000])
def test_nesting_too_deep_refuses_the_resource_holding_it(tmp_path, levels):
    """1,000 levels, which orjson reads, once crashed the rewriting of a Bundle's urn:uuid references."""
    deep = json.dumps(reading(40, "2026-03-20T07:00:00-05:00")).replace(
        '"status"', '"extension": ' + '{"x": ' * levels + "1" + "}" * levels + ', "status"', 1)
    entries = [json.dumps({"fullUrl": f"urn:uuid:{r['id']}", "resource": r}) for r in patient_month()]
    run = Run(tmp_path, {"bundle.json": bundle_text([*entries, f'{{"resource": {deep}}}'])})
    assert run.one("fhir.too_deep")["location"].startswith(f"{run.at('bundle.json')}#/entry/{len(entries)}/resource/extension/x/")
    assert run.exit_code == 1
    run.the_month_is_whole()


@pytest.mark.parametrize("change, element", [
    ({"period": {"start": "2026-03-10T14:00:00-05:00", "end": "9999-03-10T14:21:00-05:00"}}, "/period/end"),
    ({"period": {"start": "2026-03-10T14:00:00-05:00", "end": "2026-03-11T14:00:01-05:00"}}, "/period/end"),
    ({"period": {"start": "2026-03-10T14:00:00-05:00"}, "length": {"value": 25, "code": "h"}}, "/length")])
@pytest.mark.parametrize("command", ["ingest", "decide"])
def test_an_interaction_longer_than_a_day_is_refused_at_the_element_it_came_from(tmp_path, change, element, command):
    """A period to 9999 wrote duration_seconds 251,629,595,999 into the facts, and the month was
    then refused as a whole, pointing into the facts."""
    files = base(call(**change))
    run = Run(tmp_path, files, command)
    found = run.one("fhir.out_of_range")
    assert found["location"] == f"{run.at('export.ndjson')}:{line_of(files, 'call')}#{element}"
    assert run.exit_code == 1
    assert "interactions" not in run.facts[0]
    run.the_month_is_whole()
    if command == "decide":
        assert "error" not in run.lines[0] and run.lines[0]["month"] == "2026-03"


def test_an_activity_longer_than_a_day_and_a_draft_line_of_more_units_than_facts_hold_are_refused(tmp_path):
    long_review = procedure("data_review", performedPeriod={"start": "2026-03-15T08:00:00-05:00",
                                                            "end": "2026-03-17T08:00:00-05:00"})
    draft = claim("c1", "99457", "2026-03-31", status="draft")
    draft["item"][0]["quantity"] = {"value": 500}
    run = Run(tmp_path, base(long_review, draft))
    codes = sorted((p["reference"], p["location"].rpartition("#")[2]) for p in run.problems if p["code"] == "fhir.out_of_range")
    assert codes == [("Claim/c1", "/item/0/quantity/value"), ("Procedure/review", "/performedPeriod/end")]
    assert run.exit_code == 1
    run.the_month_is_whole()


def test_a_practitioner_role_cycle_never_makes_a_role_the_billing_practitioner(tmp_path):
    patient = {"resourceType": "Patient", "id": "p1", "generalPractitioner": [{"reference": "PractitionerRole/a"}]}
    role_a = {"resourceType": "PractitionerRole", "id": "a", "practitioner": {"reference": "PractitionerRole/b"}}
    role_b = {"resourceType": "PractitionerRole", "id": "b", "practitioner": {"reference": "PractitionerRole/a"}}
    files = base(patient, role_a, role_b)
    run = Run(tmp_path, files)
    found = sorted((p["reference"], p["location"]) for p in run.problems if p["code"] == "fhir.wrong_reference")
    assert found == [(f"PractitionerRole/{r}", f"{run.at('export.ndjson')}:{line_of(files, r)}#/practitioner") for r in "ab"]
    assert "billing_practitioner" not in run.lines[0] and run.exit_code == 1
    run.the_month_is_whole()


def test_a_practitioner_role_naming_itself_is_a_reference_cycle(tmp_path):
    patient = {"resourceType": "Patient", "id": "p1", "generalPractitioner": [{"reference": "PractitionerRole/a"}]}
    role = {"resourceType": "PractitionerRole", "id": "a", "practitioner": {"reference": "PractitionerRole/a"}}
    run = Run(tmp_path, base(patient, role))
    assert run.one("fhir.reference_cycle")["location"].endswith("#/practitioner")
    assert "billing_practitioner" not in run.lines[0] and run.exit_code == 1


def test_files_in_the_folder_that_are_not_fhir_json_are_reported(tmp_path):
    run = Run(tmp_path, {**base(), "export.xml": "<Bundle xmlns='http://hl7.org/fhir'/>", "README.txt": "notes"})
    xml = run.one("fhir.not_fhir_json")
    assert xml["severity"] == "error" and xml["location"] == run.at("export.xml")
    assert run.one("fhir.not_read")["location"] == run.at("README.txt")
    assert run.exit_code == 1
    run.the_month_is_whole()


@pytest.mark.parametrize("sender", ["Practitioner/rn-1", "Patient/p1"])
def test_a_message_answering_itself_is_a_reference_cycle(tmp_path, sender):
    looped = message("m1", sender=sender, inResponseTo=[{"reference": "Communication/m0"}, {"reference": "Communication/m1"}])
    run = Run(tmp_path, base(looped))
    found = run.one("fhir.reference_cycle")
    assert found["location"].endswith("#/inResponseTo/1") and found["severity"] == "error"
    assert "interactions" not in run.lines[0] and run.exit_code == 1
    run.the_month_is_whole()


def test_a_patients_message_in_no_thread_is_reported_as_not_read(tmp_path):
    lone = message("r1", sender="Patient/p1")
    run = Run(tmp_path, base(lone))
    assert run.one("fhir.not_read")["reference"] == "Communication/r1" and run.exit_code == 0


def test_a_reference_to_another_server_is_not_the_inputs_resource(tmp_path):
    evil = reading(40, "2026-03-20T07:00:00-05:00", device={"reference": "https://evil.example/fhir/Device/cuff"})
    files = base(evil)
    run = Run(tmp_path, files)
    found = run.one("fhir.external_reference")
    assert found["location"] == f"{run.at('export.ndjson')}:{line_of(files, 'o40')}#/device"
    assert "2026-03-20" not in run.lines[0]["transmission_days"] and run.exit_code == 1
    run.the_month_is_whole()


@pytest.mark.parametrize("server, counted", [("https://ehr.example.org/fhir", True), ("https://evil.example/fhir", False)])
def test_in_a_bundle_an_absolute_reference_on_the_bundles_server_is_local(tmp_path, server, counted):
    resources = patient_month(reading(40, "2026-03-20T07:00:00-05:00", device={"reference": f"{server}/Device/cuff"}))
    entries = [{"fullUrl": f"https://ehr.example.org/fhir/{r['resourceType']}/{r['id']}", "resource": r} for r in resources]
    run = Run(tmp_path, {"bundle.json": {"resourceType": "Bundle", "type": "searchset", "entry": entries}})
    days = [f"2026-03-{n:02d}" for n in range(1, 17)]
    assert run.lines[0]["transmission_days"] == (sorted([*days, "2026-03-20"]) if counted else days)
    assert [p["code"] for p in run.problems if p["severity"] == "error"] == ([] if counted else ["fhir.external_reference"])


# --- size ---------------------------------------------------------------------------------

def test_a_line_longer_than_a_resource_may_be_is_refused_unread_and_the_next_lines_are_read(tmp_path):
    resources = patient_month()
    huge = reading(40, "2026-03-20T07:00:00-05:00", note=[{"text": "x" * MAX_FHIR_RESOURCE_BYTES}])
    run = Run(tmp_path, {"export.ndjson": [*resources[:8], huge, *resources[8:],
                                           reading(41, "2026-03-21T07:00:00-05:00", status="preliminary")]})
    found = run.one("fhir.too_large")
    assert found["location"] == f"{run.at('export.ndjson')}:9" and run.exit_code == 1
    assert run.one("fhir.not_done")["location"] == f"{run.at('export.ndjson')}:{len(resources) + 2}#/status"
    run.the_month_is_whole()


def test_a_resource_in_a_bundle_larger_than_a_resource_may_be_is_refused(tmp_path):
    huge = reading(40, "2026-03-20T07:00:00-05:00", note=[{"text": "x" * MAX_FHIR_RESOURCE_BYTES}])
    run = Run(tmp_path, {"bundle.json": bundle([*patient_month(), huge])})
    assert run.one("fhir.too_large")["location"] == f"{run.at('bundle.json')}#/entry/{len(patient_month())}/resource"
    assert run.exit_code == 1
    run.the_month_is_whole()


def test_a_json_file_larger_than_is_read_whole_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(read, "MAX_FHIR_DOCUMENT_BYTES", 1000)  # 256 MiB is slow to write in a test
    run = Run(tmp_path, {**base(), "bundle.json": bundle(patient_month()[:5])})
    assert run.one("fhir.too_large")["location"] == run.at("bundle.json") and run.exit_code == 1
    run.the_month_is_whole()


def test_the_mapping_doc_says_when_each_problem_code_is_given():
    """docs/fhir-mapping.md's "refused" column and its input rows name every code the FHIR
    reading and the timeline report."""
    root = Path(__file__).resolve().parent.parent
    sources = [*(root / "policyengine" / "fhir").glob("*.py"), *(root / "policyengine" / "timeline").glob("*.py")]
    codes = {code for path in sources for code in re.findall(r'"(fhir\.[a-z_]+)"', path.read_text())}
    doc = (root / "docs" / "fhir-mapping.md").read_text()
    assert len(codes) > 20 and sorted(code for code in codes if f"{code}`" not in doc) == []  # as in `error fhir.no_time`

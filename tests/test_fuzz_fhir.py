"""Hostile FHIR input: the example records with elements replaced by values of the wrong
shape (a number for a list, a list for a code, an object for a status, ...), deleted, or
whole resources replaced by junk; and with the mistakes a real EHR export makes (issue 31:
days out of range, references to other servers or to themselves, keys given twice, nesting
too deep, Bundles in Bundles, a line too long, a file that is not FHIR JSON). Whatever the
input, `ingest fhir` and `timeline decide` finish: every problem is reported at a location
in the input, every other resource is read, and no exception escapes. Examples per run: the
Hypothesis profile (conftest.py).
"""
from __future__ import annotations

import copy
import functools
import json
import os
import random
import tempfile
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from unittest import mock
from zoneinfo import ZoneInfo

from hypothesis import given, strategies as st

from policyengine.fhir import read
from policyengine.timeline.files import Reading, decide, ingest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "fhir"
RESOURCES = [entry["resource"] for path in sorted(EXAMPLES.glob("*.json"))
             for entry in json.loads(path.read_text())["entry"]]
#: values of every JSON shape, and FHIR-looking values that are wrong
JUNK = [None, 0, -5, 1.5, True, "", "x", "2026-13-45", "2026-03-10T25:00:00Z", "2026-03-10T14:00:00", "T", 10**30,
        [], {}, [1], [None], {"a": 1}, {"reference": 5}, {"reference": "Patient/"}, {"coding": "x"},
        {"coding": [None]}, [{"coding": [{"system": None, "code": 1}]}], {"start": 5}, "Device/x"]
#: whole resources that are not resources, or barely
NOT_RESOURCES = [[1], "x", None, {"resourceType": 5, "id": "a"}, {"resourceType": "Observation", "id": 7},
                 {"resourceType": "Bundle", "entry": 5}, {"resourceType": "Bundle", "entry": [{"resource": 5}]},
                 {"resourceType": "Observation", "id": ""}, {"id": "no-type"}]


def _mutate(node: object, rng: random.Random, depth: int = 0) -> None:
    """Replace or delete one element somewhere below `node`."""
    if isinstance(node, dict) and node:
        key = rng.choice(sorted(node))
        if depth > 4 or rng.random() < 0.3 or not isinstance(node[key], (dict, list)):
            if rng.random() < 0.2:
                del node[key]
            else:
                node[key] = copy.deepcopy(rng.choice(JUNK))
        else:
            _mutate(node[key], rng, depth + 1)
    elif isinstance(node, list) and node:
        i = rng.randrange(len(node))
        if depth > 4 or rng.random() < 0.3 or not isinstance(node[i], (dict, list)):
            node[i] = copy.deepcopy(rng.choice(JUNK))
        else:
            _mutate(node[i], rng, depth + 1)


@given(st.randoms(use_true_random=False), st.integers(1, 8), st.booleans())
def test_broken_records_are_reported_and_never_crash_ingest_or_the_timeline(tmp_path_factory, rng, changes, junk):
    resources = copy.deepcopy(RESOURCES)
    for _ in range(changes):
        _mutate(rng.choice(resources), rng)
    if junk:
        resources[rng.randrange(len(resources))] = copy.deepcopy(rng.choice(NOT_RESOURCES))
    work = tmp_path_factory.mktemp("fuzz")
    source = work / "export.ndjson"
    source.write_text("".join(json.dumps(r) + "\n" for r in resources))
    reading = Reading((str(source),))

    ingested = ingest(reading, str(work / "facts.jsonl"), str(work / "problems.jsonl"))
    decided = decide(reading, str(work / "decisions.jsonl"), lambda summary: None)

    problems = [json.loads(line) for line in (work / "problems.jsonl").read_text().splitlines()]
    assert all(p["location"].startswith(f"{source}:") for p in problems)
    if junk:  # refused, or (a Bundle line without entries) warned about
        assert any(severity != "info" for severity, _ in ingested.reporter.counts)
    assert decided.documents == ingested.documents  # every document ingested is decided or an error record
    assert len((work / "decisions.jsonl").read_text().splitlines()) == decided.documents

    bundle = work / "bundle.json"
    bundle.write_text(json.dumps({"resourceType": "Bundle", "type": "collection",
                                  "entry": [{"fullUrl": rng.choice([None, 5, "urn:uuid:1", f"urn:uuid:{n}"]), "resource": r}
                                            for n, r in enumerate(resources)] + rng.choice([[], [5], [{}]])}))
    ingest(Reading((str(bundle),)), str(work / "bundle-facts.jsonl"), str(work / "bundle-problems.jsonl"))
    problems = [json.loads(line) for line in (work / "bundle-problems.jsonl").read_text().splitlines()]
    assert all(p["location"].startswith(f"{bundle}#/entry/") for p in problems)


# --- what an EHR really sends (issue 31) ------------------------------------------------------
#
# Each change below is one an export makes by mistake, applied to one resource of one patient
# (never one shared by patients, such as a Practitioner), with the error it must give. The
# other patients' facts must be exactly those of the untouched examples: nothing else lost.

Expected = tuple[str, str]  # (code, the resource's Type/id or the location it is reported at)


def _patient_of(resource: dict) -> str | None:
    reference = (resource.get("subject") or resource.get("patient") or {}).get("reference", "")
    return reference.removeprefix("Patient/") if reference.startswith("Patient/") else None


def _far_day(rng: random.Random) -> str:
    """A well-formed date or dateTime outside the days records are placed on."""
    year = rng.choice([rng.randint(1, 1899), rng.randint(2200, 9999)])
    day = f"{year:04d}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
    return rng.choice([day, f"{day}T00:00:00Z", f"{day}T23:30:00-05:00", f"{day}T00:30:00+14:00"])


def _day_out_of_range(rng: random.Random, resource: dict) -> str:
    for name in ("effectiveInstant", "effectivePeriod"):
        resource.pop(name, None)
    resource["effectiveDateTime"] = _far_day(rng)
    return "fhir.out_of_range"


def _device_on_another_server(rng: random.Random, resource: dict) -> str:
    device = resource["device"]["reference"]
    resource["device"] = {"reference": f"https://{rng.choice(['evil.example', 'other.example:8443'])}/fhir/{device}"}
    return "fhir.external_reference"


def _longer_than_a_day(rng: random.Random, resource: dict) -> str:
    start = datetime.fromisoformat(resource["period"]["start"])
    end = start + timedelta(seconds=rng.randint(86_401, 10**9))
    resource["period"]["end"] = rng.choice([end.isoformat(), "9999" + resource["period"]["start"][4:]])
    return "fhir.out_of_range"


def _answers_itself(rng: random.Random, resource: dict) -> str:
    resource["inResponseTo"] = [*resource.get("inResponseTo", []), {"reference": f"Communication/{resource['id']}"}]
    return "fhir.reference_cycle"


#: resource type -> what may go wrong in it
CHANGES = {"Observation": [_day_out_of_range, _device_on_another_server], "Encounter": [_longer_than_a_day],
           "Communication": [_answers_itself]}


def _changeable(resource: dict) -> bool:
    return _patient_of(resource) is not None and resource["resourceType"] in CHANGES and \
        (resource["resourceType"] != "Encounter" or "serviceType" in resource)


def _role_cycle(rng: random.Random, resources: list[dict], patient: dict) -> Expected:
    """Two PractitionerRoles naming each other, one of them the patient's general practitioner."""
    a, b = f"cycle-a-{rng.randrange(10**6)}", f"cycle-b-{rng.randrange(10**6)}"
    resources += [{"resourceType": "PractitionerRole", "id": a, "practitioner": {"reference": f"PractitionerRole/{b}"}},
                  {"resourceType": "PractitionerRole", "id": b, "practitioner": {"reference": f"PractitionerRole/{a}"}}]
    patient["generalPractitioner"] = [{"reference": f"PractitionerRole/{a}"}]
    return "fhir.wrong_reference", f"PractitionerRole/{a}"


def _key_twice(rng: random.Random, line: str) -> tuple[str, str]:
    """The line with one of its keys given again first (written with an escape, now and then)."""
    key = rng.choice(sorted(json.loads(line)))
    written = json.dumps(key, ensure_ascii=False) if rng.random() < 0.5 else '"' + "".join(f"\\u{ord(c):04x}" for c in key) + '"'
    return "{" + written + ": " + json.dumps(rng.choice(JUNK)) + ", " + line[1:], "fhir.duplicate_key"


def _too_deep(rng: random.Random, line: str) -> tuple[str, str]:
    levels = rng.choice([rng.randint(100, 300), rng.randint(1_000, 1_100)])  # beyond 1,024 orjson refuses it
    return '{"_deep": ' + '{"x": ' * levels + "1" + "}" * levels + ", " + line[1:], "fhir.too_deep"


def _in_bundles(rng: random.Random, lines: list[str]) -> str:
    """Lines as one line: a Bundle of them, in a Bundle or two."""
    text = '{"resourceType": "Bundle", "type": "collection", "entry": [' + \
        ", ".join('{"resource": ' + line + "}" for line in lines) + "]}"
    for _ in range(rng.randint(0, 2)):
        text = '{"resourceType": "Bundle", "type": "batch-response", "entry": [{"resource": ' + text + "}]}"
    return text


@functools.cache
def _untouched_facts(zone: str | None) -> dict[str, list[dict]]:
    """Each patient's facts from the examples as they are."""
    work = Path(tempfile.mkdtemp(prefix="fuzz-fhir-clean-"))
    (work / "export.ndjson").write_text("".join(json.dumps(r) + "\n" for r in RESOURCES))
    ingest(Reading((str(work / "export.ndjson"),), zone=ZoneInfo(zone) if zone else None), str(work / "facts.jsonl"))
    return _by_patient(work / "facts.jsonl")


def _by_patient(path: Path) -> dict[str, list[dict]]:
    found: dict[str, list[dict]] = {}
    for line in path.read_text().splitlines():
        facts = json.loads(line)
        found.setdefault(facts["patient_id"], []).append(facts)
    return found


@dataclass
class Export:
    """An export with mistakes in it: its resources or lines, the errors they must give, the
    patients whose facts they change, and the longest line read (the limit, lowered when a
    line is made longer than it, so as not to write 16 MiB a run)."""

    resources: list[dict]
    expected: list[Expected] = field(default_factory=list)
    touched: set[str | None] = field(default_factory=set)
    lines: list[str] = field(default_factory=list)
    limit: int = read.MAX_FHIR_RESOURCE_BYTES

    def change_resources(self, rng: random.Random, changes: int) -> None:
        for n in rng.sample([n for n, r in enumerate(self.resources) if _changeable(r)], changes):
            resource = self.resources[n]
            code = rng.choice(CHANGES[resource["resourceType"]])(rng, resource)
            self.expected.append((code, f"{resource['resourceType']}/{resource['id']}"))
            self.touched.add(_patient_of(resource))
        if rng.random() < 0.3:
            patient = rng.choice([r for r in self.resources if r["resourceType"] == "Patient"])
            self.expected.append(_role_cycle(rng, self.resources, patient))
            self.touched.add(patient["id"])

    def change_lines(self, rng: random.Random, changes: int, source: Path) -> None:
        """Some resources in Bundles on one line; then keys twice, nesting too deep, or a line
        too long, each in a line of its own resource, one untouched so far."""
        self.lines = [json.dumps(r) for r in self.resources]
        refs: list[str | None] = [f"{r['resourceType']}/{r['id']}" for r in self.resources]
        start, nested = rng.randrange(len(self.lines)), rng.randint(0, 20)
        if nested:
            self.lines[start:start + nested] = [_in_bundles(rng, self.lines[start:start + nested])]
            refs[start:start + nested] = [None]
        changed = {where for _, where in self.expected}
        plain = [n for n, (line, ref) in enumerate(zip(self.lines, refs))
                 if ref and ref not in changed and _patient_of(json.loads(line))]
        chosen = rng.sample(plain, changes + 1)
        for n in chosen[:-1]:
            self.touched.add(_patient_of(json.loads(self.lines[n])))
            self.lines[n], code = rng.choice([_key_twice, _too_deep])(rng, self.lines[n])
            self.expected.append((code, f"{source}:{n + 1}"))
        if rng.random() < 0.3:
            n = chosen[-1]
            self.touched.add(_patient_of(json.loads(self.lines[n])))
            self.limit = max(len(line.encode()) for m, line in enumerate(self.lines) if m != n)
            self.lines[n] = self.lines[n][:-1] + ', "note": [{"text": "' + "x" * self.limit + '"}]}'
            self.expected.append(("fhir.too_large", f"{source}:{n + 1}"))

    def write(self, rng: random.Random, folder: Path) -> None:
        """The lines as export.ndjson, beside an XML file and (where the file system allows)
        a copy of some lines under a name that is not UTF-8."""
        (folder / "export.ndjson").write_text("".join(line + "\n" for line in self.lines))
        (folder / "export.xml").write_text("<Bundle xmlns='http://hl7.org/fhir'/>")
        self.expected.append(("fhir.not_fhir_json", str(folder / "export.xml")))
        if rng.random() < 0.3:
            name = bytes([rng.randint(0x80, 0xff)]) + b".ndjson"
            try:
                with open(os.path.join(os.fsencode(folder), name), "w") as copy_of_some:
                    copy_of_some.writelines(line + "\n" for line in rng.sample(self.lines, 3))
            except OSError:  # a file system that names files in UTF-8 only
                return
            self.expected.append(("fhir.bad_file_name", f"{folder}/{name.decode('utf-8', 'backslashreplace')}"))


@given(st.randoms(use_true_random=False), st.integers(1, 4), st.integers(0, 2),
       st.sampled_from([None, "UTC", "Pacific/Kiritimati"]))
def test_what_an_ehr_really_sends_is_refused_where_it_is_and_the_rest_is_read(tmp_path_factory, rng, changes, lines_changed,
                                                                              zone):
    work = tmp_path_factory.mktemp("ehr")
    folder = work / "in"
    folder.mkdir()
    export = Export(copy.deepcopy(RESOURCES))
    export.change_resources(rng, changes)
    export.change_lines(rng, lines_changed, folder / "export.ndjson")
    export.write(rng, folder)

    reading = Reading((str(folder),), zone=ZoneInfo(zone) if zone else None)
    with mock.patch.object(read, "MAX_FHIR_RESOURCE_BYTES", export.limit):
        ingested = ingest(reading, str(work / "facts.jsonl"), str(work / "problems.jsonl"))
        decided = decide(reading, str(work / "decisions.jsonl"), lambda summary: None)

    problems = [json.loads(line) for line in (work / "problems.jsonl").read_text().splitlines()]
    assert all(p["location"].startswith(str(folder)) for p in problems)
    errors = {(p["code"], where) for p in problems if p["severity"] == "error" for where in (p["reference"], p["location"])}
    for code, where in export.expected:
        deep = code == "fhir.too_deep" and (("fhir.malformed", where) in errors or  # beyond what orjson reads
                                             any(c == code and w.startswith(f"{where}#/_deep/") for c, w in errors))
        assert (code, where) in errors or deep, (code, where, problems)
    assert decided.documents == ingested.documents and ingested.reporter.errors >= len(export.expected)
    clean, now = _untouched_facts(zone), _by_patient(work / "facts.jsonl")
    untouched = (now.keys() | clean.keys()) - export.touched
    assert {p: now.get(p) for p in untouched} == {p: clean.get(p) for p in untouched}

"""FHIR ingest throughput and memory on a generated bulk-data export (issue 15).

    python benchmarks/fhir_bench.py                      # 10,000 patients x 12 months, and 1,000 for the memory ratio
    python benchmarks/fhir_bench.py --patients 2000      # quicker
    python benchmarks/fhir_bench.py --decide             # also `timeline decide` on the large export

Not a timed test: a script that prints a table. The export is NDJSON, one file per resource
type as a bulk-data export writes them (Patient, Practitioner, Device, Consent, Encounter,
Communication, Observation), 2026: each patient has a blood-pressure cuff, a consent and a
visit, and each month 14 to 22 days of readings (one or two a day), one or two calls and
now and then a secure message. Each run is a fresh process of `policyengine ingest fhir`
(or `timeline decide`), timed wall clock; its peak resident set is ru_maxrss of the child.
Memory is flat when the large export's peak is close to the small one's, not ten times it.
The baseline in the same run is orjson reading every line of the export and nothing more:
the floor any ingest pays. `--validate` (fhir.resources) is timed on a sample of resources.
"""
from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import orjson

BASE = "http://rpm-policyengine.org/fhir"
DEGREE = "http://terminology.hl7.org/CodeSystem/v2-0360"
TYPES = ("Patient", "Practitioner", "Device", "Consent", "Encounter", "Communication", "Observation")


def _reading(pid: str, n: int, day: date, hour: int) -> dict:
    return {"resourceType": "Observation", "id": f"{pid}-o{n}", "status": "final",
            "code": {"coding": [{"system": "http://loinc.org", "code": "85354-9"}]},
            "subject": {"reference": f"Patient/{pid}"}, "device": {"reference": f"Device/{pid}-cuff"},
            "effectiveDateTime": f"{day.isoformat()}T{hour:02d}:{n % 60:02d}:00-05:00",
            "component": [{"code": {"coding": [{"system": "http://loinc.org", "code": "8480-6"}]},
                           "valueQuantity": {"value": 120 + n % 25, "unit": "mmHg", "code": "mm[Hg]"}},
                          {"code": {"coding": [{"system": "http://loinc.org", "code": "8462-4"}]},
                           "valueQuantity": {"value": 75 + n % 15, "unit": "mmHg", "code": "mm[Hg]"}}]}


def _call(pid: str, n: int, day: date, minutes: int, seconds: int) -> dict:
    start = f"{day.isoformat()}T14:00:00-05:00"
    return {"resourceType": "Encounter", "id": f"{pid}-e{n}", "status": "finished",
            "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "VR"},
            "type": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ParticipationMode", "code": "PHONE"}]}],
            "serviceType": {"coding": [{"system": f"{BASE}/CodeSystem/program", "code": "rpm"}]},
            "subject": {"reference": f"Patient/{pid}"},
            "participant": [{"individual": {"reference": "Practitioner/rn-1"}}],
            "period": {"start": start, "end": f"{day.isoformat()}T14:{minutes:02d}:{seconds:02d}-05:00"},
            "reasonCode": [{"coding": [{"system": f"{BASE}/CodeSystem/clinical-topic", "code": "physiologic_data"}]}],
            "extension": [{"url": f"{BASE}/StructureDefinition/interaction-summary", "valueString": "Readings reviewed."}]}


def write_export(directory: Path, patients: int, months: int, seed: int = 15) -> int:
    """The export's files in `directory`; returns the number of resources."""
    rng = random.Random(seed)
    outs = {kind: (directory / f"{kind}.ndjson").open("wb") for kind in TYPES}
    count = 0

    def put(item: dict) -> None:
        nonlocal count
        outs[item["resourceType"]].write(orjson.dumps(item) + b"\n")
        count += 1

    for n in (1, 2):
        put({"resourceType": "Practitioner", "id": f"md-{n}",
             "identifier": [{"system": "http://hl7.org/fhir/sid/us-npi", "value": f"123456789{n}"}],
             "qualification": [{"code": {"coding": [{"system": DEGREE, "code": "MD"}]}}]})
    put({"resourceType": "Practitioner", "id": "rn-1",
         "qualification": [{"code": {"coding": [{"system": DEGREE, "code": "RN"}]}}]})
    for p in range(patients):
        pid = f"pt{p:06d}"
        doctor = f"Practitioner/md-{1 + p % 2}"
        start = date(2026, 1, 1) + timedelta(days=rng.randrange(5))
        put({"resourceType": "Patient", "id": pid, "generalPractitioner": [{"reference": doctor}]})
        put({"resourceType": "Device", "id": f"{pid}-cuff", "status": "active", "patient": {"reference": f"Patient/{pid}"},
             "udiCarrier": [{"deviceIdentifier": "00812345678901"}],
             "extension": [{"url": f"{BASE}/StructureDefinition/assignment-period",
                            "valuePeriod": {"start": start.isoformat()}}]})
        put({"resourceType": "Consent", "id": f"{pid}-consent", "status": "active", "patient": {"reference": f"Patient/{pid}"},
             "dateTime": f"{start.isoformat()}T09:00:00-05:00"})
        put({"resourceType": "Encounter", "id": f"{pid}-visit", "status": "finished",
             "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"},
             "subject": {"reference": f"Patient/{pid}"}, "participant": [{"individual": {"reference": doctor}}],
             "period": {"start": "2025-10-01T09:00:00-05:00", "end": "2025-10-01T09:30:00-05:00"}})
        readings = calls = 0
        for month in range(months):
            first = date(2026, 1 + month, 1)
            days = sorted(rng.sample(range(28), rng.randint(14, 22)))
            for d in days:
                for hour in (7, 19)[: rng.randint(1, 2)]:
                    readings += 1
                    put(_reading(pid, readings, first + timedelta(days=d), hour))
            for _ in range(rng.randint(1, 2)):
                calls += 1
                put(_call(pid, calls, first + timedelta(days=rng.randrange(28)), rng.randint(8, 26), rng.randrange(60)))
            if rng.random() < 0.3:
                put({"resourceType": "Communication", "id": f"{pid}-m{month}", "status": "completed",
                     "category": [{"coding": [{"system": f"{BASE}/CodeSystem/program", "code": "rpm"}]}],
                     "subject": {"reference": f"Patient/{pid}"}, "sender": {"reference": "Practitioner/rn-1"},
                     "sent": f"{(first + timedelta(days=10)).isoformat()}T10:00:00-05:00",
                     "reasonCode": [{"coding": [{"system": f"{BASE}/CodeSystem/clinical-topic", "code": "symptoms"}]}],
                     "payload": [{"contentString": "How are you feeling this week?"}]})
    for out in outs.values():
        out.close()
    return count


_CHILD = """
import resource, subprocess, sys, time
started = time.perf_counter()
code = subprocess.call(sys.argv[1:], stdout=subprocess.DEVNULL)
print(time.perf_counter() - started, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, code)
"""


def timed(command: list[str]) -> tuple[float, float]:
    """(seconds, peak MiB) of `command` run in a fresh process."""
    out = subprocess.run([sys.executable, "-c", _CHILD, *command], capture_output=True, text=True, check=True).stdout
    seconds, kib, code = out.split()
    if code not in ("0", "1"):
        raise SystemExit(f"{' '.join(command)} exited {code}")
    return float(seconds), int(kib) / 1024


def read_only(directory: Path) -> float:
    started = time.perf_counter()
    for path in sorted(directory.glob("*.ndjson")):
        with path.open("rb") as lines:
            for line in lines:
                orjson.loads(line)
    return time.perf_counter() - started


def validate_rate(directory: Path, sample: int = 2000) -> float | None:
    """Resources a second through `--validate`'s model check (None without the fhir extra)."""
    try:
        from policyengine.fhir.read import Located
        from policyengine.fhir.validation import fhir_validator
        validator = fhir_validator()
    except ImportError:
        return None
    with (directory / "Observation.ndjson").open("rb") as lines:
        items = [Located(f"x:{n}", orjson.loads(line)) for n, line in zip(range(sample), lines)]
    started = time.perf_counter()
    for item in items:
        validator(item)
    return len(items) / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--patients", type=int, default=10_000)
    parser.add_argument("--months", type=int, default=12)
    parser.add_argument("--small", type=int, default=1_000, help="patients in the export the memory is compared with")
    parser.add_argument("--decide", action="store_true", help="also time `timeline decide` on the large export")
    args = parser.parse_args()
    command = [sys.executable, "-c", "from policyengine.cli import main; main()"]
    print(f"load average before: {os.getloadavg()[0]:.2f}")
    rows = []
    with tempfile.TemporaryDirectory(prefix="fhir-bench-") as work:
        for patients in (args.small, args.patients):
            export = Path(work) / f"export-{patients}"
            export.mkdir()
            started = time.perf_counter()
            count = write_export(export, patients, args.months)
            size = sum(p.stat().st_size for p in export.iterdir()) / 2**20
            print(f"{patients:,} patients x {args.months} months: {count:,} resources, {size:,.0f} MiB "
                  f"(generated in {time.perf_counter() - started:.0f} s)", flush=True)
            floor = read_only(export)
            seconds, peak = timed([*command, "ingest", "fhir", str(export), "--out", f"{work}/facts-{patients}.jsonl"])
            documents = Path(f"{work}/facts-{patients}.jsonl").read_bytes().count(b"\n")
            rows.append((f"ingest fhir, {patients:,} patients", count, documents, seconds, peak, seconds / floor))
            if args.decide and patients == args.patients:
                seconds, peak = timed([*command, "timeline", "decide", str(export), "--out", f"{work}/d.jsonl",
                                       "--trace", "none", "--format", "json"])
                rows.append((f"timeline decide, {patients:,} patients", count, documents, seconds, peak, seconds / floor))
            rate = validate_rate(export) if patients == args.small else None
            if rate is not None:
                print(f"--validate's model check: {rate:,.0f} Observations/s ({1e6 / rate:,.0f} us each)")
        print()
        print("| run | resources | patient-months | seconds | resources/s | peak MiB | × orjson read |")
        print("|---|---:|---:|---:|---:|---:|---:|")
        for name, count, documents, seconds, peak, ratio in rows:
            print(f"| {name} | {count:,} | {documents:,} | {seconds:.1f} | {count / seconds:,.0f} | {peak:.0f} | {ratio:.1f} |")
        print(f"\npeak memory, {args.patients:,} against {args.small:,} patients: {rows[1][4] / rows[0][4]:.2f}x")
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()

"""Hostile FHIR input: the example records with elements replaced by values of the wrong
shape (a number for a list, a list for a code, an object for a status, ...), deleted, or
whole resources replaced by junk. Whatever the input, `ingest fhir` and `timeline decide`
finish: every problem is reported at a location in the input, every other resource is
read, and no exception escapes. Examples per run: the Hypothesis profile (conftest.py).
"""
from __future__ import annotations

import copy
import json
import random
from pathlib import Path

from hypothesis import given, strategies as st

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
    if junk:
        assert ingested.reporter.errors >= 1
    assert decided.documents == ingested.documents  # every document ingested is decided or an error record
    assert len((work / "decisions.jsonl").read_text().splitlines()) == decided.documents

    bundle = work / "bundle.json"
    bundle.write_text(json.dumps({"resourceType": "Bundle", "type": "collection",
                                  "entry": [{"fullUrl": rng.choice([None, 5, "urn:uuid:1", f"urn:uuid:{n}"]), "resource": r}
                                            for n, r in enumerate(resources)] + rng.choice([[], [5], [{}]])}))
    ingest(Reading((str(bundle),)), str(work / "bundle-facts.jsonl"), str(work / "bundle-problems.jsonl"))
    problems = [json.loads(line) for line in (work / "bundle-problems.jsonl").read_text().splitlines()]
    assert all(p["location"].startswith(f"{bundle}#/entry/") for p in problems)

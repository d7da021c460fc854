"""The Sources section of an explanation: each fact with provenance (a transmission day, an
interaction, consent...) next to the source records it was derived from, labelled as a
reader knows the fact when the full trace holds its value, and no section at all when the
decision carries no provenance (or no trace)."""
from __future__ import annotations

import copy
import re

import pytest

from policyengine import evaluate
from policyengine.explain import explain, render

DAYS = ["2026-03-02", "2026-03-03", "2026-03-05"]
PROVENANCE = {
    "/transmission_days/0": ["Observation/bp-0302-a", "Observation/bp-0302-b"],
    "/transmission_days/1": ["Observation/bp-0303"],
    "/transmission_days/2": ["Observation/bp-0305"],
    "/interactions/0": ["Encounter/call-0306"],
    "/consent": ["Consent/rpm-consent-1"],
    "/device": ["Device/cuff-77"],
}


def facts(provenance: dict | None = PROVENANCE) -> dict:
    made = {
        "patient_id": "PT-SRC-1",
        "month": "2026-03",
        "established_patient": True,
        "consent": {"obtained": True, "date": "2026-02-20", "method": "verbal"},
        "device": {"type": "bp_cuff", "meets_fda_definition": True, "data_types": ["blood_pressure"]},
        "monitoring_period": {"start": "2026-03-01", "end": "2026-03-30"},
        "transmission_days": list(DAYS),
        "interactions": [{
            "id": "IX-20260306-01", "date": "2026-03-06", "duration_seconds": 1260, "modality": "phone",
            "two_way": True, "program": "rpm", "clinical_topics": ["physiologic_data", "symptoms"],
            "performer": {"id": "STAFF-RN-014", "role": "clinical_staff"},
            "summary": "Reviewed home blood pressure readings <150/95> & dizziness; no changes.",
        }],
    }
    if provenance is not None:
        made["provenance"] = copy.deepcopy(provenance)
    return made


def rendered(trace: str, output_format: str, provenance: dict | None = PROVENANCE) -> str:
    return render(explain(evaluate(facts(provenance), trace=trace)), output_format)


def section(text: str, start: str, end: str) -> str:
    """The part of a rendering from `start` up to the next `end` (the next section)."""
    begin = text.index(start)
    return text[begin:text.index(end, begin + len(start))]


SECTIONS = {"text": ("Sources:", "\n\n"), "markdown": ("## Sources", "\n## "), "html": ("<h2>Sources</h2>", "<h2>")}


@pytest.mark.parametrize("trace", ["full", "compact"])
@pytest.mark.parametrize("output_format", ["text", "markdown", "html"])
def test_sources_section(trace, output_format, snapshot):
    start, end = SECTIONS[output_format]
    assert section(rendered(trace, output_format), start, end) == snapshot


def test_each_source_is_next_to_its_fact_in_text():
    text = rendered("full", "text")
    lines = section(text, *SECTIONS["text"]).splitlines()
    labels = {f"/transmission_days/{i}": day for i, day in enumerate(DAYS)}
    labels["/interactions/0"] = "IX-20260306-01 on 2026-03-06"
    labels |= {"/consent": "/consent", "/device": "/device"}
    shown = {f"/transmission_days/{i}": "days counted supply_days" for i in range(len(DAYS))}
    shown["/interactions/0"] = "time ledger countable_time"
    for pointer, records in PROVENANCE.items():
        line = next(line for line in lines if ", ".join(records) in line)
        where = f" +in {re.escape(shown[pointer])}" if pointer in shown else ""
        assert re.fullmatch(rf"    {re.escape(labels[pointer])} +({re.escape(pointer)} +)?{re.escape(', '.join(records))}"
                            rf"{where}", line), line
    groups = [line.strip() for line in lines if line.startswith("  ") and not line.startswith("    ")]
    assert groups == ["Transmission days", "Interactions", "Other facts"]


def test_a_compact_trace_names_each_fact_by_its_pointer():
    ex = explain(evaluate(facts(), trace="compact"))
    assert [(s.pointer, s.label) for s in ex.sources][:4] == [
        ("/transmission_days/0", None), ("/transmission_days/1", None), ("/transmission_days/2", None),
        ("/interactions/0", None)]


def test_sources_come_in_document_order_within_each_group():
    provenance = {f"/transmission_days/{i}": [f"Observation/o{i}"] for i in (2, 0, 1)}
    ex = explain(evaluate(facts(provenance), trace="full"))
    assert [(s.group, s.label) for s in ex.sources] == [("Transmission days", day) for day in DAYS]


def test_html_escapes_source_records():
    page = rendered("full", "html", {"/consent": ["Consent/<script>&1"]})
    assert "<code>Consent/&lt;script&gt;&amp;1</code>" in page and "<script>" not in page


@pytest.mark.parametrize("output_format", ["text", "markdown", "html"])
def test_no_provenance_renders_no_sources_section(output_format):
    for trace in ("full", "compact"):
        assert "Sources" not in rendered(trace, output_format, provenance=None)


@pytest.mark.parametrize("output_format", ["text", "markdown", "html"])
def test_trace_none_renders_no_sources_section(output_format):
    decision = evaluate(facts(), trace="none")
    assert "sources" not in decision["trace"] and explain(decision).sources == []
    assert "Sources" not in render(explain(decision), output_format)

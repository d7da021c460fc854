"""The code systems and extensions the mapping reads (docs/fhir-mapping.md lists them).

Standard FHIR terminology where it says what the facts need (participation modes, degree
codes, LOINC, CPT); the project's own code systems and extensions, under `BASE`, where
FHIR R4 has no element for a fact (the program time is allocated to, an interaction's
summary on an Encounter, the FDA device definition when no UDI is sent). The tables from
FHIR codes to the facts' values are data, in `vocabulary.yaml`; the values a fact may take
are the facts schema's.
"""
from __future__ import annotations

from importlib.resources import files
from typing import Any

import yaml

from ..schemacheck import bundled_schema

BASE = "http://rpm-policyengine.org/fhir"
PROGRAM = f"{BASE}/CodeSystem/program"
CLINICAL_TOPIC = f"{BASE}/CodeSystem/clinical-topic"
ACTIVITY_KIND = f"{BASE}/CodeSystem/activity-kind"
PERFORMER_ROLE = f"{BASE}/CodeSystem/performer-role"
DEVICE_TYPE = f"{BASE}/CodeSystem/device-type"
MEETS_FDA_DEFINITION = f"{BASE}/StructureDefinition/meets-fda-definition"
ASSIGNMENT_PERIOD = f"{BASE}/StructureDefinition/assignment-period"
CONSENT_METHOD = f"{BASE}/StructureDefinition/consent-method"
INTERACTION_SUMMARY = f"{BASE}/StructureDefinition/interaction-summary"
QUALIFYING_APM_PARTICIPANT = f"{BASE}/StructureDefinition/qualifying-apm-participant"

PARTICIPATION_MODE = "http://terminology.hl7.org/CodeSystem/v3-ParticipationMode"
ENCOUNTER_CLASS = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
DEGREE = "http://terminology.hl7.org/CodeSystem/v2-0360"
LOINC = "http://loinc.org"
CPT = "http://www.ama-assn.org/go/cpt"
NPI = "http://hl7.org/fhir/sid/us-npi"

def _vocabulary() -> dict[str, Any]:
    return yaml.safe_load((files("policyengine.fhir") / "vocabulary.yaml").read_text(encoding="utf-8"))


def _enum(schema: dict, *path: str) -> tuple[str, ...]:
    """An enumeration of the facts schema: the values a fact may take are the schema's."""
    node = schema
    for key in path:
        node = node[key]
    return tuple(node["enum"])


_FACTS = bundled_schema("facts.schema.json")
ACTIVITY_KINDS = _enum(_FACTS, "$defs", "activity", "properties", "kind")
PERFORMER_ROLES = _enum(_FACTS, "$defs", "performer", "properties", "role")
CONSENT_METHODS = _enum(_FACTS, "properties", "consent", "properties", "method")
MODALITIES = _enum(_FACTS, "$defs", "interaction", "properties", "modality")

VOCABULARY = _vocabulary()
ENCOUNTER_CLASS_MODALITY: dict[str, str] = VOCABULARY["encounter_class"]
REFINED_BY_MODE: list[str] = VOCABULARY["refined_by_mode"]
ENCOUNTER_MODE: dict[str, str] = VOCABULARY["encounter_mode"]
MESSAGE_MEDIUM: dict[str, str] = VOCABULARY["message_medium"]
MESSAGE_DEFAULT: str = VOCABULARY["message_default"]
THREADED: list[str] = VOCABULARY["threaded"]
DEVICE_MESSAGE: str = VOCABULARY["device_message"]
DEVICE_SENDER_ROLE: str = VOCABULARY["device_sender_role"]
DEGREE_ROLE: dict[str, str] = VOCABULARY["degree_role"]
LOINC_DATA_TYPE: dict[str, str] = {str(k): v for k, v in VOCABULARY["loinc_data_type"].items()}


def items(value: Any) -> list:
    """A list element, or [] when it is missing or not a list: the mapping reads what it can."""
    return value if isinstance(value, list) else []


def element(value: Any) -> dict:
    """An object element, or {} when it is missing or not an object."""
    return value if isinstance(value, dict) else {}


def codings(concepts: Any) -> list[dict]:
    """The codings of a CodeableConcept or a list of them."""
    if isinstance(concepts, dict):
        concepts = [concepts]
    found = []
    for concept in concepts if isinstance(concepts, list) else ():
        if isinstance(concept, dict) and isinstance(concept.get("coding"), list):
            found += [c for c in concept["coding"] if isinstance(c, dict)]
    return found


def codes_in(concepts: Any, system: str) -> list[str]:
    """The codes from `system` in a CodeableConcept or a list of them, in order, each once."""
    found = [c["code"] for c in codings(concepts) if c.get("system") == system and isinstance(c.get("code"), str)]
    return list(dict.fromkeys(found))


def code_in(concepts: Any, system: str) -> str | None:
    found = codes_in(concepts, system)
    return found[0] if found else None


def extension(resource: dict, url: str) -> dict | None:
    return extension_at(resource, url)[1]


def extension_at(resource: dict, url: str) -> tuple[str, dict | None]:
    """The first extension of `resource` with `url` and its JSON pointer ('/extension/2'), or
    ('/extension', None) when there is none."""
    for n, item in enumerate(items(resource.get("extension"))):
        if isinstance(item, dict) and item.get("url") == url:
            return f"/extension/{n}", item
    return "/extension", None

"""An event, what one FHIR resource gives the timeline, and what every mapper shares to make
one: the event itself, a problem at an element of the resource, a resource read only for
its patient, the performer role coded on it (`mapping.py`, `interactions.py`).

An event is plain JSON data (it may be spilled to disk): `kind`, `ref` (the resource's
`Type/id`), `patient` (the patient's `Type/id`, for what belongs to one), `at` (the
resource's location in the input), `version` (meta.lastUpdated, to choose between two
copies of one resource) and what the kind needs.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import tzinfo
from typing import Any

from . import codes as c
from .problems import Problem, inside
from .read import Located
from .references import key_of, referenced

Event = dict[str, Any]
Mapped = Iterator["Event | Problem"]
Mapper = Callable[[Located, "tzinfo | None"], Mapped]
#: a mapper given the Type/id of the resource's patient (see of_patient)
PatientMapper = Callable[[Located, "tzinfo | None", str], Mapped]

#: statuses of a resource that record something that happened
DONE = {"Observation": {"final", "amended", "corrected"}, "Encounter": {"finished"},
        "Procedure": {"completed"}, "Communication": {"completed"}}


def event(item: Located, kind: str, patient: str | None = None, **fields: Any) -> Event:
    resource = item.resource
    version = c.element(resource.get("meta")).get("lastUpdated")
    return {"kind": kind, "ref": key_of(resource), "patient": patient, "at": item.location,
            "version": version if isinstance(version, str) else "", **fields}


def problem(item: Located, element: str, severity: str, code: str, message: str) -> Problem:
    return Problem(inside(item.location, element), severity, code, message, key_of(item.resource))


def _patient(item: Located, element: str) -> str | Problem:
    key = referenced(item.resource.get(element), f"/{element}")
    if key is None or not key.startswith("Patient/"):
        return problem(item, f"/{element}", "error", "fhir.no_patient",
                       f"a {item.resource['resourceType']} without a Patient in {element} belongs to no patient-month")
    return key


def of_patient(element: str, done: bool = False) -> Callable[[PatientMapper], Mapper]:
    """A mapper of a resource read only for the Patient in `element` (and with `done`, only
    once it records something that happened); the mapper is given the patient's Type/id."""
    def wrap(mapper: PatientMapper) -> Mapper:
        def mapped(item: Located, zone: tzinfo | None) -> Mapped:
            patient = _patient(item, element)
            skipped = patient if isinstance(patient, Problem) else _not_done(item) if done else None
            if skipped is not None:
                yield skipped
            else:
                yield from mapper(item, zone, str(patient))
        return mapped
    return wrap


def _not_done(item: Located) -> Problem | None:
    status = item.resource.get("status")
    if isinstance(status, str) and status in DONE[item.resource["resourceType"]]:
        return None
    return problem(item, "/status", "info", "fhir.not_done", f"status {status!r}: it records nothing that happened")


def performer_role(concepts: Any) -> str | None:
    """The first performer role (code system performer-role) the facts know, or None."""
    return next((code for code in c.codes_in(concepts, c.PERFORMER_ROLE) if code in c.PERFORMER_ROLES), None)

"""One patient's events joined with the practitioners they name: a `PatientRecord`.

Practitioners are shared by patients, so they are kept apart from the per-patient events
(`Directory`) and resolved here; so are message threads (a secure message is two-way when
the patient answered it, or it answered the patient) and readings from devices the input
does not hold.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson

from . import codes as c
from .problems import Problem, inside
from .references import local_id
from .times import moment_of

Event = dict[str, Any]


@dataclass
class Directory:
    """Practitioners and practitioner roles by Type/id."""

    practitioners: dict[str, Event] = field(default_factory=dict)
    roles: dict[str, Event] = field(default_factory=dict)

    def add(self, event: Event, report: Callable[[Problem], None]) -> None:
        table = self.practitioners if event["kind"] == "practitioner" else self.roles
        kept = table.get(event["ref"])
        table[event["ref"]] = event if kept is None else preferred(kept, event, report)

    def person(self, key: str | None) -> tuple[str | None, str | None]:
        """(Practitioner Type/id, role) for a Practitioner or PractitionerRole reference."""
        if key is None:
            return None, None
        if key.startswith("PractitionerRole/"):
            role = self.roles.get(key) or {}
            return role.get("practitioner"), role.get("role")
        return key, None

    def degree_role(self, practitioner: str | None) -> str | None:
        return (self.practitioners.get(practitioner or "") or {}).get("role")


@dataclass
class PatientRecord:
    """What the input says about one patient, each event still naming its resource."""

    patient_id: str
    #: {"id", "npi", "qualifying_apm_participant"} of the billing practitioner, and "ref"
    practitioner: dict | None
    devices: list[Event]
    readings: list[Event]
    consents: list[Event]
    interactions: list[Event]
    activities: list[Event]
    visits: list[Event]
    claims: list[Event]


def preferred(kept: Event, other: Event, report: Callable[[Problem], None]) -> Event:
    """Of two copies of one resource, the later version (meta.lastUpdated, as a moment); a
    copy that differs only in where it was found is the same resource, so only differing
    copies are reported. The choice does not depend on the order or layout of the input."""
    same = _content(kept) == _content(other)
    first, second = sorted((kept, other), key=_version_order)
    if same:
        return min(kept, other, key=lambda e: e["at"])
    report(Problem(first["at"], "warning", "fhir.superseded",
                   f"given again with other content at {second['at']}; the later version is read", first["ref"]))
    return second


def _content(event: Event) -> dict:
    return {k: v for k, v in event.items() if k != "at"}


def _version_order(event: Event) -> tuple:
    """Copies by version: by the moment of meta.lastUpdated (none first), then by content."""
    moment = moment_of(event["version"])
    return (moment is not None, moment.timestamp() if moment else 0.0, orjson.dumps(_content(event), option=orjson.OPT_SORT_KEYS))


def patient_record(key: str, events: list[Event], directory: Directory, report: Callable[[Problem], None]) -> PatientRecord:
    by_ref: dict[str, Event] = {}
    for event in events:
        kept = by_ref.get(event["ref"])
        by_ref[event["ref"]] = event if kept is None else preferred(kept, event, report)
    kinds: dict[str, list[Event]] = {}  # a withdrawn copy that won (mapping.WITHDRAWN) is read by no kind
    for ref in sorted(by_ref):
        kinds.setdefault(by_ref[ref]["kind"], []).append(by_ref[ref])
    devices = kinds.get("device", [])
    interactions = [_interaction(e, kinds.get("patient_message", []), directory, report) for e in kinds.get("interaction", [])]
    _report_unanswered(kinds.get("patient_message", []), interactions, report)
    return PatientRecord(
        patient_id=local_id(key), practitioner=_billing_practitioner(kinds.get("patient", []), directory),
        devices=devices, readings=_readings(kinds.get("reading", []), devices, key, report),
        consents=kinds.get("consent", []),
        interactions=interactions,
        activities=[_with_performer(e, directory) for e in kinds.get("activity", [])],
        visits=[{**v, "practitioners": [directory.person(k)[0] or k for k in v["practitioners"]]}
                for v in kinds.get("visit", [])],
        claims=kinds.get("claim", []))


def _report_unanswered(patient_messages: list[Event], interactions: list[Event], report: Callable[[Problem], None]) -> None:
    """A patient's message counts only in the thread of a message of the practice; one in
    no thread is read for nothing, and said so."""
    threaded = {ref for interaction in interactions for ref in interaction.get("thread", ())}
    for message in patient_messages:
        if message["ref"] not in threaded:
            report(Problem(message["at"], "info", "fhir.not_read", "a message from the patient that answers no message "
                           "of the practice, and that none answers: not read", message["ref"]))


def _billing_practitioner(patients: list[Event], directory: Directory) -> dict | None:
    key, _ = directory.person(patients[0]["practitioner"] if patients else None)
    if key is None:
        return None
    known = directory.practitioners.get(key) or {}
    found = {"ref": key, "id": local_id(key)}
    if known.get("npi"):
        found["npi"] = known["npi"]
    if known.get("qp") is not None:
        found["qualifying_apm_participant"] = known["qp"]
    return found


def _readings(readings: list[Event], devices: list[Event], patient: str, report: Callable[[Problem], None]) -> list[Event]:
    own = {d["ref"] for d in devices}
    kept = []
    for reading in readings:
        if reading["device"] in own:
            kept.append(reading)
        else:
            report(Problem(inside(reading["at"], "/device"), "error",
                           "fhir.unknown_device", f"{reading['device']} is not a Device of {patient} in the input: "
                           "whether it meets the FDA definition is unknown, so the reading does not count", reading["ref"]))
    return kept


def _performer(performer: list | None, directory: Directory) -> dict | None:
    """The facts' performer {id, role} of an event's (Type/id, coded role)."""
    if not performer:
        return None
    key, coded = performer
    if key.startswith("Device/"):
        return {"id": local_id(key), "role": c.DEVICE_SENDER_ROLE}
    person, role_of_role = directory.person(key)
    role = coded or role_of_role or directory.degree_role(person)
    found = {"id": local_id(person or key)}
    if role:
        found["role"] = role
    return found


def _with_performer(event: Event, directory: Directory) -> Event:
    return {**event, "performer": _performer(event.get("performer"), directory)}


def _interaction(event: Event, patient_messages: list[Event], directory: Directory,
                 report: Callable[[Problem], None]) -> Event:
    event = _with_performer(event, directory)
    if event["modality"] in c.THREADED:
        thread = sorted(m["ref"] for m in patient_messages
                        if event["ref"] in m["replies_to"] or m["ref"] in event.get("replies_to", ()))
        event["two_way"], event["thread"] = bool(thread), thread
    missing = [name for name, absent in (("performer", event["performer"] is None),
                                         ("clinical topics", not event["clinical_topics"]),
                                         ("summary", not event["summary"])) if absent]
    if missing:
        report(Problem(event["at"], "warning", "fhir.undocumented",
                       f"an interaction without {', '.join(missing)}: placed, and the decision will not count its time",
                       event["ref"]))
    return event

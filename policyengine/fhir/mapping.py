"""One FHIR resource -> one event for the timeline, or the problems that say why not.

An event is plain JSON data (it may be spilled to disk): `kind`, `ref` (the resource's
`Type/id`), `patient` (the patient's `Type/id`, for what belongs to one), `at` (the
resource's location in the input), `version` (meta.lastUpdated, to choose between two
copies of one resource) and what the kind needs. References to practitioners stay
unresolved here: a practitioner may come later in the input (`patient.py` joins them).
docs/fhir-mapping.md is this module in a table; a change here is a change there.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import tzinfo
from typing import Any

from ..limits import MAX_INT
from . import codes as c
from .problems import Problem, inside
from .read import Located
from .references import key_of, local_id, referenced
from .times import duration_seconds, local_day, moment_of, seconds_between

Event = dict[str, Any]
Mapped = Iterator["Event | Problem"]
Mapper = Callable[[Located, "tzinfo | None"], Mapped]
#: a mapper given the Type/id of the resource's patient (see _of_patient)
PatientMapper = Callable[[Located, "tzinfo | None", str], Mapped]

#: the kind of event a resource that places nothing gives (see map_resource)
WITHDRAWN = "withdrawn"

#: statuses of a resource that record something that happened
_DONE = {"Observation": {"final", "amended", "corrected"}, "Encounter": {"finished"},
         "Procedure": {"completed"}, "Communication": {"completed"}}


def map_resource(item: Located, zone: tzinfo | None) -> Mapped:
    """The event `item` gives, and the problems found in it."""
    kind = item.resource["resourceType"]
    mapper = _MAPPERS.get(kind)
    if mapper is None:
        yield _problem(item, "", "info", "fhir.not_read", f"a {kind} holds nothing the facts need; not read")
        return
    placed = False
    for found in mapper(item, zone):
        placed = placed or not isinstance(found, Problem)
        yield found
    patient = referenced(item.resource.get("subject") or item.resource.get("patient"))
    if not placed and patient is not None and patient.startswith("Patient/"):
        # a copy that places nothing (entered in error, cancelled, unreadable) still competes
        # with the patient's other copies of the resource: when it is the later version, the
        # earlier copy is withdrawn rather than read
        yield _event(item, WITHDRAWN, patient)


def _event(item: Located, kind: str, patient: str | None = None, **fields: Any) -> Event:
    resource = item.resource
    version = c.element(resource.get("meta")).get("lastUpdated")
    return {"kind": kind, "ref": key_of(resource), "patient": patient, "at": item.location,
            "version": version if isinstance(version, str) else "", **fields}


def _problem(item: Located, element: str, severity: str, code: str, message: str) -> Problem:
    return Problem(inside(item.location, element), severity, code, message, key_of(item.resource))


def _patient(item: Located, element: str) -> str | Problem:
    key = referenced(item.resource.get(element))
    if key is None or not key.startswith("Patient/"):
        return _problem(item, f"/{element}", "error", "fhir.no_patient",
                        f"a {item.resource['resourceType']} without a Patient in {element} belongs to no patient-month")
    return key


def _of_patient(element: str, done: bool = False) -> Callable[[PatientMapper], Mapper]:
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
    if isinstance(status, str) and status in _DONE[item.resource["resourceType"]]:
        return None
    return _problem(item, "/status", "info", "fhir.not_done", f"status {status!r}: it records nothing that happened")


@_of_patient("subject", done=True)
def _observation(item: Located, zone: tzinfo | None, patient: str) -> Mapped:
    r = item.resource
    device = referenced(r.get("device"))
    if device is None or not device.startswith("Device/"):
        yield _problem(item, "/device", "info", "fhir.not_from_device",
                       "no Device: a value typed in or reported by the patient is not an automatic transmission (R-10)")
        return
    element, when = next(((f"/{name}", r.get(name)) for name in ("effectiveDateTime", "effectiveInstant")
                          if name in r), ("/effectivePeriod/start", c.element(r.get("effectivePeriod")).get("start")))
    day = local_day(when, zone)
    if day is None:
        yield _problem(item, element if when is not None else "", "error", "fhir.no_time",
                       "an Observation without the day of its reading cannot count toward a transmission day")
        return
    loinc = c.code_in(r.get("code"), c.LOINC)
    yield _event(item, "reading", patient, day=day.isoformat(), device=device, data_type=c.LOINC_DATA_TYPE.get(loinc or ""))


@_of_patient("patient")
def _device(item: Located, zone: tzinfo | None, patient: str) -> Mapped:
    r = item.resource
    if r.get("status") == "entered-in-error":
        yield _problem(item, "/status", "info", "fhir.not_done", "status 'entered-in-error': not a device the patient had")
        return
    flag = c.extension(r, c.MEETS_FDA_DEFINITION)
    if flag is not None and isinstance(flag.get("valueBoolean"), bool):
        fda = flag["valueBoolean"]
    else:
        fda = bool(r.get("udiCarrier"))
        if not fda:
            yield _problem(item, "", "warning", "fhir.fda_unknown",
                           "no UDI and no meets-fda-definition flag: taken as not meeting the FDA definition")
    assigned = c.element(c.element(c.extension(r, c.ASSIGNMENT_PERIOD)).get("valuePeriod"))
    start, end = local_day(assigned.get("start"), zone), local_day(assigned.get("end"), zone)
    kind = c.code_in(r.get("type"), c.DEVICE_TYPE) or _text_code(c.element(r.get("type")).get("text"))
    yield _event(item, "device", patient, type=kind, fda=fda, start=start and start.isoformat(), end=end and end.isoformat())


def _text_code(text: Any) -> str | None:
    return "_".join(text.lower().split()) if isinstance(text, str) and text.strip() else None


@_of_patient("patient")
def _consent(item: Located, zone: tzinfo | None, patient: str) -> Mapped:
    r = item.resource
    status = r.get("status")
    if status not in ("active", "inactive", "rejected"):
        yield _problem(item, "/status", "info", "fhir.not_done", f"status {status!r}: no consent was given or refused")
        return
    denied = c.element(r.get("provision")).get("type") == "deny"
    day = local_day(r.get("dateTime"), zone)
    method = c.element(c.extension(r, c.CONSENT_METHOD)).get("valueCode")
    performers = [key for p in c.items(r.get("performer")) if (key := referenced(p))]
    moment = moment_of(r.get("dateTime"))
    if day is None:
        yield _problem(item, "/dateTime", "warning", "fhir.undated_consent",
                       "a consent without its date: in force in every month, and the decision says it is incomplete")
    yield _event(item, "consent", patient, obtained=status == "active" and not denied, day=day and day.isoformat(),
                 moment=moment.timestamp() if moment else None,
                 method=method if method in c.CONSENT_METHODS else None,
                 recorded_by=local_id(performers[0]) if performers else None)


def _patient_resource(item: Located, zone: tzinfo | None) -> Mapped:
    practitioners = [key for p in c.items(item.resource.get("generalPractitioner"))
                     if (key := referenced(p)) and key.split("/")[0] in ("Practitioner", "PractitionerRole")]
    yield _event(item, "patient", key_of(item.resource), practitioner=practitioners[0] if practitioners else None)


def _practitioner(item: Located, zone: tzinfo | None) -> Mapped:
    r = item.resource
    npis = [i.get("value") for i in c.items(r.get("identifier")) if isinstance(i, dict) and i.get("system") == c.NPI]
    degrees = [c.DEGREE_ROLE[code] for q in c.items(r.get("qualification")) if isinstance(q, dict)
               for code in c.codes_in(q.get("code"), c.DEGREE) if code in c.DEGREE_ROLE]
    qp = c.element(c.extension(r, c.QUALIFYING_APM_PARTICIPANT)).get("valueBoolean")
    yield _event(item, "practitioner", npi=npis[0] if npis and isinstance(npis[0], str) else None,
                 role=degrees[0] if degrees else None, qp=qp if isinstance(qp, bool) else None)


def _practitioner_role(item: Located, zone: tzinfo | None) -> Mapped:
    r = item.resource
    yield _event(item, "practitioner_role", practitioner=referenced(r.get("practitioner")), role=_role(r.get("code")))


def _role(concepts: Any) -> str | None:
    """The first performer role (code system performer-role) the facts know, or None."""
    return next((code for code in c.codes_in(concepts, c.PERFORMER_ROLE) if code in c.PERFORMER_ROLES), None)


def _program(item: Located, element: str) -> str | Problem:
    programs = c.codes_in(item.resource.get(element.strip("/")), c.PROGRAM)
    if len(programs) != 1:
        return _problem(item, element, "error", "fhir.no_program",
                        f"{'no' if not programs else 'more than one'} program coding ({c.PROGRAM}) in {element.strip('/')}: "
                        "time counts for exactly one program")
    return programs[0]


def _documentation(r: dict, summary: str | None) -> dict:
    topics = c.codes_in(r.get("reasonCode"), c.CLINICAL_TOPIC)
    return {"clinical_topics": topics, "summary": summary}


@_of_patient("subject", done=True)
def _encounter(item: Located, zone: tzinfo | None, patient: str) -> Mapped:
    r = item.resource
    period: dict = r["period"] if isinstance(r.get("period"), dict) else {}
    if not c.codes_in(r.get("serviceType"), c.PROGRAM):
        day = local_day(period.get("start"), zone)
        if day is None:
            yield _problem(item, "/period/start", "error", "fhir.no_time",
                           "a visit without its day cannot show an established patient")
        else:
            yield _event(item, "visit", patient, day=day.isoformat(), practitioners=[key for key, _ in _participants(r)])
        return
    program = _program(item, "/serviceType")
    modality = _encounter_modality(r)
    day = local_day(period.get("start"), zone) if moment_of(period.get("start")) else None
    seconds = seconds_between(period.get("start"), period.get("end"))
    if seconds is None:
        seconds = duration_seconds(r.get("length"))
    if isinstance(program, Problem):
        yield program
    elif modality is None:
        yield _problem(item, "/class", "error", "fhir.unsupported_class",
                       f"class {_class_code(r)!r} is not a communication with the patient (AMB, HH or VR)")
    elif day is None:
        yield _problem(item, "/period/start", "error", "fhir.no_time",
                       "an interaction without its start time cannot be placed in a month")
    elif seconds is None or seconds < 0:
        yield _problem(item, "/period/end", "error", "fhir.no_duration",
                       "an interaction without an end (or a length) has no duration")
    elif seconds > MAX_INT:
        yield _problem(item, "/length", "error", "fhir.bad_duration",
                       f"a length of {seconds:.3e} seconds is more than facts can hold (at most {MAX_INT:,})")
    else:
        participants = _participants(r)
        summary = c.element(c.extension(r, c.INTERACTION_SUMMARY)).get("valueString")
        yield _event(item, "interaction", patient, day=day.isoformat(), seconds=seconds, modality=modality, two_way=True,
                     program=program, performer=participants[0] if participants else None,
                     **_documentation(r, summary if isinstance(summary, str) else None))


def _participants(r: dict) -> list[tuple[str, str | None]]:
    """(Type/id, role coded in participant.type) of each individual, the primary performer first."""
    found = []
    for p in c.items(r.get("participant")):
        key = referenced(p.get("individual")) if isinstance(p, dict) else None
        if key is not None:
            types = p.get("type")
            role = _role(types)
            primary = "PPRF" in c.codes_in(types, "http://terminology.hl7.org/CodeSystem/v3-ParticipationType")
            found.append((not primary, key, role))
    return [(key, role) for _, key, role in sorted(found, key=lambda x: x[0])]


def _class_code(r: dict) -> str | None:
    code = c.element(r.get("class")).get("code")
    return code if isinstance(code, str) else None


def _encounter_modality(r: dict) -> str | None:
    klass = _class_code(r)
    modality = c.ENCOUNTER_CLASS_MODALITY.get(klass or "")
    if klass in c.REFINED_BY_MODE:
        mode = next((m for m in c.codes_in(r.get("type"), c.PARTICIPATION_MODE) if m in c.ENCOUNTER_MODE), None)
        modality = c.ENCOUNTER_MODE[mode] if mode else modality
    return modality


@_of_patient("subject", done=True)
def _procedure(item: Located, zone: tzinfo | None, patient: str) -> Mapped:
    r = item.resource
    kind = next((k for k in c.codes_in(r.get("code"), c.ACTIVITY_KIND) if k in c.ACTIVITY_KINDS), None)
    if kind is None:
        yield _problem(item, "/code", "info", "fhir.not_read",
                       f"no activity kind ({c.ACTIVITY_KIND}) in code: not management time; not read")
        return
    program = _program(item, "/category")
    period: dict = r["performedPeriod"] if isinstance(r.get("performedPeriod"), dict) else {}
    day = local_day(period.get("start"), zone) if moment_of(period.get("start")) else None
    seconds = seconds_between(period.get("start"), period.get("end"))
    if isinstance(program, Problem):
        yield program
        return
    if day is None or seconds is None or seconds < 0:
        yield _problem(item, "/performedPeriod", "error", "fhir.no_duration",
                       "an activity needs a performedPeriod with its start and end times")
        return
    performers = [(key, _role(p.get("function"))) for p in c.items(r.get("performer"))
                  if isinstance(p, dict) and (key := referenced(p.get("actor")))]
    yield _event(item, "activity", patient, day=day.isoformat(), seconds=seconds, activity=kind, program=program,
                 performer=performers[0] if performers else None)


@_of_patient("subject", done=True)
def _communication(item: Located, zone: tzinfo | None, patient: str) -> Mapped:
    r = item.resource
    sender = referenced(r.get("sender"))
    replies_to = [key for ref in c.items(r.get("inResponseTo")) if (key := referenced(ref))]
    element = "/sent" if "sent" in r else "/received"
    day = local_day(r.get(element[1:]), zone)
    if day is None:
        yield _problem(item, element, "error", "fhir.no_time", "a message without the day it was sent cannot be placed")
        return
    if sender is None or sender.split("/")[0] in ("Patient", "RelatedPerson"):
        yield _event(item, "patient_message", patient, day=day.isoformat(), replies_to=replies_to)
        return
    program = _program(item, "/category")
    if isinstance(program, Problem):
        yield program
        return
    from_device = sender.startswith("Device/")
    mode = next((m for m in c.codes_in(r.get("medium"), c.PARTICIPATION_MODE) if m in c.MESSAGE_MEDIUM), None)
    modality = c.DEVICE_MESSAGE if from_device else c.MESSAGE_MEDIUM[mode] if mode else c.MESSAGE_DEFAULT
    texts = [p["contentString"] for p in c.items(r.get("payload"))
             if isinstance(p, dict) and isinstance(p.get("contentString"), str)]
    role = c.DEVICE_SENDER_ROLE if from_device else None
    yield _event(item, "interaction", patient, day=day.isoformat(), seconds=0, modality=modality, two_way=False,
                 program=program, performer=(sender, role), replies_to=replies_to,
                 **_documentation(r, " ".join(texts) if texts else None))


@_of_patient("patient")
def _claim(item: Located, zone: tzinfo | None, patient: str) -> Mapped:
    r = item.resource
    status = r.get("status")
    if status not in ("active", "draft"):
        yield _problem(item, "/status", "info", "fhir.not_done", f"status {status!r}: neither billed nor proposed")
        return
    end = c.element(r.get("billablePeriod")).get("end")
    lines = []
    for n, line in enumerate(c.items(r.get("item"))):
        line = c.element(line)
        code = c.code_in(line.get("productOrService"), c.CPT)
        day = local_day(line.get("servicedDate") or c.element(line.get("servicedPeriod")).get("end") or end, zone)
        units = c.element(line.get("quantity")).get("value", 1)
        if code is None or day is None or isinstance(units, bool) or not isinstance(units, int) or units < 1:
            yield _problem(item, f"/item/{n}", "error", "fhir.bad_claim_line",
                           f"a claim line needs a CPT code ({c.CPT}), a service date and whole units")
            continue
        lines.append({"code": code, "day": day.isoformat(), "units": units})
    if not c.items(r.get("item")):
        yield _problem(item, "/item", "warning", "fhir.no_claim_lines", "a Claim without items bills nothing; not read")
    if lines:
        yield _event(item, "claim", patient, billed=status == "active", provider=referenced(r.get("provider")), lines=lines)


def _coverage(item: Located, zone: tzinfo | None) -> Mapped:
    yield _problem(item, "", "info", "fhir.not_read",
                   "Coverage is not read: the packs decide Medicare billing, and the facts hold no payer")


_MAPPERS: dict[str, Mapper] = {
    "Observation": _observation, "Device": _device, "Consent": _consent, "Patient": _patient_resource,
    "Practitioner": _practitioner, "PractitionerRole": _practitioner_role, "Encounter": _encounter,
    "Procedure": _procedure, "Communication": _communication, "Claim": _claim, "Coverage": _coverage,
}

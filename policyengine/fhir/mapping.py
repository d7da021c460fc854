"""One FHIR resource -> one event for the timeline (`events.py`), or the problems that say
why not: the readings, devices, consent, practitioners and claims here, the time spent on a
patient in `interactions.py`. References to practitioners stay unresolved here: a
practitioner may come later in the input (`patient.py` joins them). docs/fhir-mapping.md
is these modules in a table; a change here is a change there.
"""
from __future__ import annotations

from datetime import date, tzinfo
from typing import Any

from ..limits import LAST_FHIR_DAY, MAX_UNITS
from . import codes as c
from .events import Mapped, Mapper, event, of_patient, performer_role, problem
from .interactions import communication, encounter, procedure
from .problems import Problem, Refused
from .read import Located
from .references import key_of, local_id, reference_key, referenced
from .times import local_day, moment_of

#: the kind of event a resource that places nothing gives (see map_resource)
WITHDRAWN = "withdrawn"


def map_resource(item: Located, zone: tzinfo | None) -> Mapped:
    """The event `item` gives, and the problems found in it; an element that refuses the
    resource (Refused) is reported, and nothing of the resource is placed."""
    kind = item.resource["resourceType"]
    mapper = _MAPPERS.get(kind)
    if mapper is None:
        yield problem(item, "", "info", "fhir.not_read", f"a {kind} holds nothing the facts need; not read")
        return
    placed = False
    try:
        found = list(mapper(item, zone))
    except Refused as refused:
        found = [problem(item, refused.element, "error", refused.code, str(refused))]
    for one in found:
        placed = placed or not isinstance(one, Problem)
        yield one
    patient = reference_key(c.element(item.resource.get("subject") or item.resource.get("patient")).get("reference"))
    if not placed and patient is not None and patient.startswith("Patient/"):
        # a copy that places nothing (entered in error, cancelled, unreadable) still competes
        # with the patient's other copies of the resource: when it is the later version, the
        # earlier copy is withdrawn rather than read
        yield event(item, WITHDRAWN, patient)


@of_patient("subject", done=True)
def _observation(item: Located, zone: tzinfo | None, patient: str) -> Mapped:
    r = item.resource
    device = referenced(r.get("device"), "/device")
    if device is None or not device.startswith("Device/"):
        yield problem(item, "/device", "info", "fhir.not_from_device",
                      "no Device: a value typed in or reported by the patient is not an automatic transmission (R-10)")
        return
    element, when = next(((f"/{name}", r.get(name)) for name in ("effectiveDateTime", "effectiveInstant")
                          if name in r), ("/effectivePeriod/start", c.element(r.get("effectivePeriod")).get("start")))
    day = local_day(when, zone, element)
    if day is None:
        yield problem(item, element if when is not None else "", "error", "fhir.no_time",
                      "an Observation without the day of its reading cannot count toward a transmission day")
        return
    loinc = c.code_in(r.get("code"), c.LOINC)
    yield event(item, "reading", patient, day=day.isoformat(), device=device, data_type=c.LOINC_DATA_TYPE.get(loinc or ""))


@of_patient("patient")
def _device(item: Located, zone: tzinfo | None, patient: str) -> Mapped:
    r = item.resource
    if r.get("status") == "entered-in-error":
        yield problem(item, "/status", "info", "fhir.not_done", "status 'entered-in-error': not a device the patient had")
        return
    flag = c.extension(r, c.MEETS_FDA_DEFINITION)
    if flag is not None and isinstance(flag.get("valueBoolean"), bool):
        fda = flag["valueBoolean"]
    else:
        fda = bool(r.get("udiCarrier"))
        if not fda:
            yield problem(item, "", "warning", "fhir.fda_unknown",
                          "no UDI and no meets-fda-definition flag: taken as not meeting the FDA definition")
    at, assignment = c.extension_at(r, c.ASSIGNMENT_PERIOD)
    assigned = c.element(c.element(assignment).get("valuePeriod"))
    start = local_day(assigned.get("start"), zone, f"{at}/valuePeriod/start")
    end = _assignment_end(assigned.get("end"), zone, f"{at}/valuePeriod/end")
    kind = c.code_in(r.get("type"), c.DEVICE_TYPE) or _text_code(c.element(r.get("type")).get("text"))
    yield event(item, "device", patient, type=kind, fda=fda, start=start and start.isoformat(), end=end and end.isoformat())


def _assignment_end(value: Any, zone: tzinfo | None, at: str) -> date | None:
    """The last day of a device's assignment, None while it goes on: a day after
    LAST_FHIR_DAY is none (9999-12-31 is how some records write that there is none)."""
    try:
        return local_day(value, zone, at)
    except Refused:
        if value[:10] > LAST_FHIR_DAY.isoformat():
            return None
        raise


def _text_code(text: Any) -> str | None:
    return "_".join(text.lower().split()) if isinstance(text, str) and text.strip() else None


@of_patient("patient")
def _consent(item: Located, zone: tzinfo | None, patient: str) -> Mapped:
    r = item.resource
    status = r.get("status")
    if status not in ("active", "inactive", "rejected"):
        yield problem(item, "/status", "info", "fhir.not_done", f"status {status!r}: no consent was given or refused")
        return
    denied = c.element(r.get("provision")).get("type") == "deny"
    day = local_day(r.get("dateTime"), zone, "/dateTime")
    method = c.element(c.extension(r, c.CONSENT_METHOD)).get("valueCode")
    performers = [key for n, p in enumerate(c.items(r.get("performer"))) if (key := referenced(p, f"/performer/{n}"))]
    moment = moment_of(r.get("dateTime"))
    if day is None:
        yield problem(item, "/dateTime", "warning", "fhir.undated_consent",
                      "a consent without its date: in force in every month, and the decision says it is incomplete")
    yield event(item, "consent", patient, obtained=status == "active" and not denied, day=day and day.isoformat(),
                moment=moment.timestamp() if moment else None,
                method=method if method in c.CONSENT_METHODS else None,
                recorded_by=local_id(performers[0]) if performers else None)


def _patient_resource(item: Located, zone: tzinfo | None) -> Mapped:
    practitioners = [key for n, p in enumerate(c.items(item.resource.get("generalPractitioner")))
                     if (key := referenced(p, f"/generalPractitioner/{n}"))
                     and key.split("/")[0] in ("Practitioner", "PractitionerRole")]
    yield event(item, "patient", key_of(item.resource), practitioner=practitioners[0] if practitioners else None)


def _practitioner(item: Located, zone: tzinfo | None) -> Mapped:
    r = item.resource
    npis = [i.get("value") for i in c.items(r.get("identifier")) if isinstance(i, dict) and i.get("system") == c.NPI]
    degrees = [c.DEGREE_ROLE[code] for q in c.items(r.get("qualification")) if isinstance(q, dict)
               for code in c.codes_in(q.get("code"), c.DEGREE) if code in c.DEGREE_ROLE]
    qp = c.element(c.extension(r, c.QUALIFYING_APM_PARTICIPANT)).get("valueBoolean")
    yield event(item, "practitioner", npi=npis[0] if npis and isinstance(npis[0], str) else None,
                role=degrees[0] if degrees else None, qp=qp if isinstance(qp, bool) else None)


def _practitioner_role(item: Located, zone: tzinfo | None) -> Mapped:
    r = item.resource
    practitioner = referenced(r.get("practitioner"), "/practitioner")
    if practitioner == key_of(r):
        raise Refused("/practitioner", "fhir.reference_cycle", "the PractitionerRole names itself as its practitioner")
    if practitioner is not None and not practitioner.startswith("Practitioner/"):
        raise Refused("/practitioner", "fhir.wrong_reference",
                      f"{practitioner} is not a Practitioner: a role names the Practitioner who holds it")
    yield event(item, "practitioner_role", practitioner=practitioner, role=performer_role(r.get("code")))




@of_patient("patient")
def _claim(item: Located, zone: tzinfo | None, patient: str) -> Mapped:
    r = item.resource
    status = r.get("status")
    if status not in ("active", "draft"):
        yield problem(item, "/status", "info", "fhir.not_done", f"status {status!r}: neither billed nor proposed")
        return
    lines = []
    for n, line in enumerate(c.items(r.get("item"))):
        line = c.element(line)
        code = c.code_in(line.get("productOrService"), c.CPT)
        when, at = _service_date(r, n)
        day = local_day(when, zone, at)
        units = c.element(line.get("quantity")).get("value", 1)
        if code is None or day is None or isinstance(units, bool) or not isinstance(units, int) or units < 1:
            yield problem(item, f"/item/{n}", "error", "fhir.bad_claim_line",
                          f"a claim line needs a CPT code ({c.CPT}), a service date and whole units")
            continue
        if status == "draft" and units > MAX_UNITS:
            raise Refused(f"/item/{n}/quantity/value", "fhir.out_of_range",
                          f"{units:,} units: a claim line the facts hold has at most {MAX_UNITS}")
        lines.append({"code": code, "day": day.isoformat(), "units": units})
    if not c.items(r.get("item")):
        yield problem(item, "/item", "warning", "fhir.no_claim_lines", "a Claim without items bills nothing; not read")
    if lines:
        yield event(item, "claim", patient, billed=status == "active", provider=referenced(r.get("provider"), "/provider"),
                    lines=lines)


def _service_date(r: dict, n: int) -> tuple[Any, str]:
    """The date of claim line `n` (servicedDate, servicedPeriod.end, else the claim's
    billablePeriod.end) and the JSON pointer of the element it is in."""
    line = c.element(c.items(r.get("item"))[n])
    for value, at in ((line.get("servicedDate"), f"/item/{n}/servicedDate"),
                      (c.element(line.get("servicedPeriod")).get("end"), f"/item/{n}/servicedPeriod/end"),
                      (c.element(r.get("billablePeriod")).get("end"), "/billablePeriod/end")):
        if value:
            return value, at
    return None, f"/item/{n}"


def _coverage(item: Located, zone: tzinfo | None) -> Mapped:
    yield problem(item, "", "info", "fhir.not_read",
                  "Coverage is not read: the packs decide Medicare billing, and the facts hold no payer")


_MAPPERS: dict[str, Mapper] = {
    "Observation": _observation, "Device": _device, "Consent": _consent, "Patient": _patient_resource,
    "Practitioner": _practitioner, "PractitionerRole": _practitioner_role, "Encounter": encounter,
    "Procedure": procedure, "Communication": communication, "Claim": _claim, "Coverage": _coverage,
}

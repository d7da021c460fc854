"""FHIR resources of time spent on a patient -> interactions and activities: an Encounter
(a visit, or with a program coded in serviceType a call or a meeting), a Procedure (an
activity: data review, note writing, care coordination), a Communication (a message).
docs/fhir-mapping.md is these functions in a table, with `mapping.py`'s.
"""
from __future__ import annotations

from datetime import tzinfo

from ..limits import SECONDS_PER_DAY
from . import codes as c
from .events import Mapped, event, of_patient, performer_role, problem
from .problems import Problem, Refused
from .read import Located
from .references import key_of, referenced
from .times import duration_seconds, local_day, moment_of, seconds_between


def _program(item: Located, element: str) -> str | Problem:
    programs = c.codes_in(item.resource.get(element.strip("/")), c.PROGRAM)
    if len(programs) != 1:
        return problem(item, element, "error", "fhir.no_program",
                       f"{'no' if not programs else 'more than one'} program coding ({c.PROGRAM}) in {element.strip('/')}: "
                       "time counts for exactly one program")
    return programs[0]


def _documentation(r: dict, summary: str | None) -> dict:
    topics = c.codes_in(r.get("reasonCode"), c.CLINICAL_TOPIC)
    return {"clinical_topics": topics, "summary": summary}


@of_patient("subject", done=True)
def encounter(item: Located, zone: tzinfo | None, patient: str) -> Mapped:
    r = item.resource
    period: dict = r["period"] if isinstance(r.get("period"), dict) else {}
    if not c.codes_in(r.get("serviceType"), c.PROGRAM):
        day = local_day(period.get("start"), zone, "/period/start")
        if day is None:
            yield problem(item, "/period/start", "error", "fhir.no_time",
                          "a visit without its day cannot show an established patient")
        else:
            yield event(item, "visit", patient, day=day.isoformat(), practitioners=[key for key, _ in _participants(r)])
        return
    program = _program(item, "/serviceType")
    modality = _encounter_modality(r)
    day = local_day(period.get("start"), zone, "/period/start") if moment_of(period.get("start")) else None
    seconds = _within_a_day(seconds_between(period.get("start"), period.get("end")), "/period/end")
    if seconds is None:
        seconds = _within_a_day(duration_seconds(r.get("length")), "/length")
    if isinstance(program, Problem):
        yield program
    elif modality is None:
        yield problem(item, "/class", "error", "fhir.unsupported_class",
                      f"class {_class_code(r)!r} is not a communication with the patient (AMB, HH or VR)")
    elif day is None:
        yield problem(item, "/period/start", "error", "fhir.no_time",
                      "an interaction without its start time cannot be placed in a month")
    elif seconds is None or seconds < 0:
        yield problem(item, "/period/end", "error", "fhir.no_duration",
                      "an interaction without an end (or a length) has no duration")
    else:
        participants = _participants(r)
        summary = c.element(c.extension(r, c.INTERACTION_SUMMARY)).get("valueString")
        yield event(item, "interaction", patient, day=day.isoformat(), seconds=seconds, modality=modality, two_way=True,
                    program=program, performer=participants[0] if participants else None,
                    **_documentation(r, summary if isinstance(summary, str) else None))


def _within_a_day(seconds: int | None, at: str) -> int | None:
    """A duration the facts can hold for what is dated one day (an interaction, an activity):
    longer than a day, it is refused at `at`, the element it was worked out from."""
    if seconds is not None and seconds > SECONDS_PER_DAY:
        raise Refused(at, "fhir.out_of_range", f"it lasts {seconds:,} s: more than the {SECONDS_PER_DAY:,} s of the one "
                      "day it is dated, the most the facts hold")
    return seconds


def _participants(r: dict) -> list[tuple[str, str | None]]:
    """(Type/id, role coded in participant.type) of each individual, the primary performer first."""
    found = []
    for n, p in enumerate(c.items(r.get("participant"))):
        key = referenced(p.get("individual"), f"/participant/{n}/individual") if isinstance(p, dict) else None
        if key is not None:
            types = p.get("type")
            role = performer_role(types)
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


@of_patient("subject", done=True)
def procedure(item: Located, zone: tzinfo | None, patient: str) -> Mapped:
    r = item.resource
    kind = next((k for k in c.codes_in(r.get("code"), c.ACTIVITY_KIND) if k in c.ACTIVITY_KINDS), None)
    if kind is None:
        yield problem(item, "/code", "info", "fhir.not_read",
                      f"no activity kind ({c.ACTIVITY_KIND}) in code: not management time; not read")
        return
    program = _program(item, "/category")
    period: dict = r["performedPeriod"] if isinstance(r.get("performedPeriod"), dict) else {}
    day = local_day(period.get("start"), zone, "/performedPeriod/start") if moment_of(period.get("start")) else None
    seconds = _within_a_day(seconds_between(period.get("start"), period.get("end")), "/performedPeriod/end")
    if isinstance(program, Problem):
        yield program
        return
    if day is None or seconds is None or seconds < 0:
        yield problem(item, "/performedPeriod", "error", "fhir.no_duration",
                      "an activity needs a performedPeriod with its start and end times")
        return
    performers = [(key, performer_role(p.get("function"))) for n, p in enumerate(c.items(r.get("performer")))
                  if isinstance(p, dict) and (key := referenced(p.get("actor"), f"/performer/{n}/actor"))]
    yield event(item, "activity", patient, day=day.isoformat(), seconds=seconds, activity=kind, program=program,
                performer=performers[0] if performers else None)


@of_patient("subject", done=True)
def communication(item: Located, zone: tzinfo | None, patient: str) -> Mapped:
    r = item.resource
    sender = referenced(r.get("sender"), "/sender")
    replies_to = _replies_to(r)
    element = "/sent" if "sent" in r else "/received"
    day = local_day(r.get(element[1:]), zone, element)
    if day is None:
        yield problem(item, element, "error", "fhir.no_time", "a message without the day it was sent cannot be placed")
        return
    if sender is None or sender.split("/")[0] in ("Patient", "RelatedPerson"):
        yield event(item, "patient_message", patient, day=day.isoformat(), replies_to=replies_to)
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
    yield event(item, "interaction", patient, day=day.isoformat(), seconds=0, modality=modality, two_way=False,
                program=program, performer=(sender, role), replies_to=replies_to,
                **_documentation(r, " ".join(texts) if texts else None))


def _replies_to(r: dict) -> list[str]:
    """The messages a Communication answers (inResponseTo); naming itself, it is refused."""
    found = []
    for n, ref in enumerate(c.items(r.get("inResponseTo"))):
        key = referenced(ref, f"/inResponseTo/{n}")
        if key == key_of(r):
            raise Refused(f"/inResponseTo/{n}", "fhir.reference_cycle", "the Communication names itself as the message "
                          "it answers: a thread of one message")
        if key is not None:
            found.append(key)
    return found

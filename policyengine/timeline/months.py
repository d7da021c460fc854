"""One patient's record as patient-month facts (contract v1, section 1), each fact with the
source records it came from under `provenance` (pointer -> references).

A device period is decided in the month it ends, the month of its date of service, so a
period crossing into a new year is decided with that year's pack (R-50). A month in which
two periods end (a 31-day month, both on the 1st and the 31st) gets a second, device-only
document for the earlier period, decided first; a month in which none ends has no device
facts. The month's interactions and activities go with its main document.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from ..diagnostics import DiagnosticError
from ..fhir import PatientRecord, Problem
from ..fhir.references import local_id
from ..lang.runtime import first_day, last_day
from ..packs import CompiledPack, pack_for_month
from ..pointers import pointer
from ..packs.clocks import CALENDAR_MONTH
from .periods import Period, devices_in, episodes, periods

Event = dict[str, Any]
#: a month -> the clock of each code in the pack that decides it
Clocks = Callable[[str], dict[str, str]]

#: how long a visit with the billing practitioner keeps a patient established (R-01)
ESTABLISHED_YEARS = 3


@dataclass(frozen=True)
class MonthFacts:
    """One facts document of the timeline, and the device period it decides (None: none)."""

    facts: dict
    period: Period | None


def months_between(first: str, last: str) -> list[str]:
    """'2026-11', '2027-01' -> ['2026-11', '2026-12', '2027-01']."""
    year, month = map(int, first.split("-"))
    end = tuple(map(int, last.split("-")))
    found = []
    while (year, month) <= end:  # as numbers: after 9999-12, '10000-01' sorts before '9999-12' as text
        found.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return found


def record_as_of(record: PatientRecord, day: str) -> PatientRecord:
    """The record as it stood at the end of `day` (YYYY-MM-DD): what is dated after it had
    not happened yet, so it is left out: readings, interactions, activities, visits,
    consents (an undated one is kept, as in every month) and claim lines, and a device
    whose assignment starts after it; a device's return dated after it was still ahead,
    so the device is taken as in use. The one place the timeline's "as of" is decided
    (`decide_timeline(..., as_of=day)`): a worklist run on an export taken later shows the
    work as it stood on `day`. A patient's reply after `day` still makes a message thread
    two-way: the record keeps the thread's references, not the reply's day."""
    def known(events: list[Event]) -> list[Event]:
        return [e for e in events if e["day"] <= day]
    devices = [{**d, "end": None} if d["end"] is not None and d["end"] > day else d
               for d in record.devices if d["start"] is None or d["start"] <= day]
    return replace(record, devices=devices, readings=known(record.readings), interactions=known(record.interactions),
                   activities=known(record.activities), visits=known(record.visits),
                   consents=[c for c in record.consents if c["day"] is None or c["day"] <= day],
                   claims=[{**claim, "lines": known(claim["lines"])} for claim in record.claims])


def event_months(record: PatientRecord) -> list[str]:
    """The months the record has something in: readings, interactions, activities, claims,
    and the month each period with readings ends in (where its readings are decided)."""
    days = [e["day"] for e in (*record.readings, *record.interactions, *record.activities)]
    days += [line["day"] for claim in record.claims for line in claim["lines"]]
    if record.readings:
        until = date.fromisoformat(max(r["day"] for r in record.readings))
        days += [p.end.isoformat() for episode in episodes(record.devices, record.readings)
                 for p in periods(episode, until) if _has_readings(p, record.readings)]
    return sorted({day[:7] for day in days})


def _has_readings(period: Period, readings: list[Event]) -> bool:
    refs = {d["ref"] for d in period.episode.devices}
    start, end = period.start.isoformat(), period.end.isoformat()
    return any(r["device"] in refs and start <= r["day"] <= end for r in readings)


def _month_days(month: str) -> tuple[date, date]:
    return date.fromisoformat(first_day(month)), date.fromisoformat(last_day(month))


def month_facts(record: PatientRecord, months: list[str], report: Callable[[Problem], None],
                clocks: Clocks | None = None) -> list[MonthFacts]:
    """The facts documents of `months`, in order (a device-only document first in its month).
    `clocks`: the clock of each code in the pack that decides a month (by default the
    bundled pack's), which says whether a claim line belongs to a month or a device period."""
    if not months:
        return []
    clocks = clocks or bundled_clocks
    until = _month_days(months[-1])[1]
    all_periods = [p for episode in episodes(record.devices, record.readings) for p in periods(episode, until)]
    _report_unplaced_readings(record, all_periods, until, report)
    spans = [(p.start.isoformat(), p.end.isoformat()) for p in all_periods]
    documents = []
    for month in months:
        first, last = _month_days(month)
        ending = sorted((p for p in all_periods if first <= p.end <= last), key=lambda p: p.end)
        for period in ending[:-1]:
            documents.append(MonthFacts(_document(record, month, period, False, clocks(month), spans), period))
        main = ending[-1] if ending else None
        documents.append(MonthFacts(_document(record, month, main, True, clocks(month), spans), main))
    return documents


def bundled_clocks(month: str) -> dict[str, str]:
    """The clock of each code of the bundled pack effective in `month` (none without one)."""
    try:
        return clocks_of(pack_for_month(month))
    except DiagnosticError:
        return {}


def clocks_of(pack: CompiledPack) -> dict[str, str]:
    return {code: billed.clock for code, billed in pack.codes.items()}


def _report_unplaced_readings(record: PatientRecord, all_periods: list[Period], until: date,
                               report: Callable[[Problem], None]) -> None:
    """Readings up to `until` in no period (later ones are only beyond the months decided)."""
    spans = [(p.start.isoformat(), p.end.isoformat(), {d["ref"] for d in p.episode.devices}) for p in all_periods]
    last = until.isoformat()
    for reading in record.readings:
        day = reading["day"]
        if day <= last and not any(start <= day <= end and reading["device"] in refs for start, end, refs in spans):
            report(Problem(reading["at"], "info", "fhir.outside_periods",
                           f"a reading on {day} falls in no monitoring period of the timeline", reading["ref"]))


class _Facts:
    """A facts document being written, with the provenance of what goes in."""

    def __init__(self, patient_id: str, month: str) -> None:
        self.data: dict[str, Any] = {"patient_id": patient_id, "month": month}
        self.provenance: dict[str, list[str]] = {}

    def put(self, name: str, value: Any, sources: list[str]) -> None:
        self.data[name] = value
        if sources:
            self.provenance[pointer([name])] = sorted(set(sources))

    def put_list(self, name: str, items: list[tuple[Any, list[str]]]) -> None:
        if items:
            self.data[name] = [value for value, _ in items]
            for n, (_, sources) in enumerate(items):
                if sources:
                    self.provenance[pointer([name, n])] = sorted(set(sources))

    def done(self) -> dict:
        if self.provenance:
            self.data["provenance"] = self.provenance
        return self.data


def _document(record: PatientRecord, month: str, period: Period | None, main: bool, clocks: dict[str, str],
              spans: list[tuple[str, str]]) -> dict:
    first, last = _month_days(month)
    facts = _Facts(record.patient_id, month)
    if record.practitioner is not None:
        facts.put("billing_practitioner", {k: v for k, v in record.practitioner.items() if k != "ref"}, [])
        established = _established(record, last)
        if established is not None:
            facts.put("established_patient", established[0], established[1])
    consent = _consent(record, last)
    if consent is not None:
        facts.put("consent", consent[0], consent[1])
    if period is not None:
        _device_facts(facts, record, period)
    if main:
        facts.put_list("interactions", [_interaction(e) for e in _in_order(record.interactions, first, last)])
        facts.put_list("activities", [_activity(e) for e in _in_order(record.activities, first, last)])
    _claim_facts(facts, record, month, period, main, clocks, spans)
    return facts.done()


def _in_order(events: list[Event], first: date, last: date) -> list[Event]:
    """The events dated `first` to `last`, by day (then reference, for equal days)."""
    start, end = first.isoformat(), last.isoformat()
    return sorted((e for e in events if start <= e["day"] <= end), key=lambda e: (e["day"], e["ref"]))


def _established(record: PatientRecord, last: date) -> tuple[bool, list[str]] | None:
    """Seen by the billing practitioner in the 3 years up to the month's end; None when the
    input has no visits at all (then it is not documented either way)."""
    if not record.visits or record.practitioner is None:
        return None
    year = last.year - ESTABLISHED_YEARS
    if year < date.min.year:  # a month given as --from 0002-01: every visit up to it
        since = date.min.isoformat()
    else:
        since = (last.replace(year=year) if not (last.month == 2 and last.day == 29) else date(year, 2, 28)).isoformat()
    seen = [v["ref"] for v in record.visits
            if record.practitioner["ref"] in v["practitioners"] and since <= v["day"] <= last.isoformat()]
    return bool(seen), seen


def _consent(record: PatientRecord, last: date) -> tuple[dict, list[str]] | None:
    """The latest consent (given or refused) dated by the month's end."""
    dated = [c for c in record.consents if c["day"] is None or c["day"] <= last.isoformat()]
    if not dated:
        return None
    latest = max(dated, key=lambda c: (c["day"] or "", c["moment"] or 0.0, c["ref"]))  # a withdrawal later that day wins
    consent: dict[str, Any] = {"obtained": latest["obtained"]}
    for name, key in (("date", "day"), ("method", "method"), ("recorded_by", "recorded_by")):
        if latest[key] is not None:
            consent[name] = latest[key]
    return consent, [latest["ref"]]


def _device_facts(facts: _Facts, record: PatientRecord, period: Period) -> None:
    used = devices_in(period)
    counted = [d for d in used if d["fda"]] or used
    refs = {d["ref"] for d in counted}
    by_day: dict[str, list[str]] = {}
    kinds = set()
    start, end = period.start.isoformat(), period.end.isoformat()
    for reading in record.readings:
        if reading["device"] in refs and start <= reading["day"] <= end:
            by_day.setdefault(reading["day"], []).append(reading["ref"])
            if reading["data_type"]:
                kinds.add(reading["data_type"])
    device_refs = sorted(d["ref"] for d in counted) or sorted(d["ref"] for d in period.episode.devices)
    device: dict[str, Any] = {"meets_fda_definition": any(d["fda"] for d in counted)}
    first_kind = next((d["type"] for d in counted if d["type"]), None)
    if first_kind:
        device["type"] = first_kind
    if kinds:
        device["data_types"] = sorted(kinds)
    facts.put("device", device, device_refs)
    facts.put("monitoring_period", {"start": period.start.isoformat(), "end": period.end.isoformat()},
              sorted(d["ref"] for d in period.episode.devices))
    facts.put_list("transmission_days", [(day, by_day[day]) for day in sorted(by_day)])
    facts.put("episode", {"start": period.episode.start.isoformat()}, sorted(d["ref"] for d in period.episode.devices))


def _interaction(event: Event) -> tuple[dict, list[str]]:
    item: dict[str, Any] = {"id": event["ref"], "date": event["day"], "duration_seconds": event["seconds"],
                            "modality": event["modality"], "two_way": event["two_way"], "program": event["program"]}
    if event["performer"]:
        item["performer"] = event["performer"]
    if event["clinical_topics"]:
        item["clinical_topics"] = event["clinical_topics"]
    if event["summary"]:
        item["summary"] = event["summary"]
    return item, [event["ref"], *event.get("thread", ())]


def _activity(event: Event) -> tuple[dict, list[str]]:
    item: dict[str, Any] = {"id": event["ref"], "date": event["day"], "kind": event["activity"],
                            "duration_seconds": event["seconds"], "program": event["program"]}
    if event["performer"]:
        item["performer"] = event["performer"]
    return item, [event["ref"]]


def _claim_facts(facts: _Facts, record: PatientRecord, month: str, period: Period | None, main: bool,
                 clocks: dict[str, str], spans: list[tuple[str, str]]) -> None:
    """Claim lines of this document: a line of a device code (the pack's 30-day period or
    episode clock) with the document whose period holds its date; any other line, or a
    device line in none of the timeline's periods, with the main document of its month: each
    line in one document. Billed lines are other_services, drafts claims to review."""
    first, last = first_day(month), last_day(month)
    billed, proposed = [], []
    for claim in record.claims:
        for line in claim["lines"]:
            day = line["day"]
            device_line = clocks.get(line["code"], CALENDAR_MONTH) != CALENDAR_MONTH and \
                any(start <= day <= end for start, end in spans)
            if device_line:
                placed = period is not None and period.start.isoformat() <= day <= period.end.isoformat()
            else:
                placed = main and first <= day <= last
            if not placed:
                continue
            if claim["billed"]:
                service = {"code": line["code"]}
                if claim["provider"]:
                    service["practitioner"] = local_id(claim["provider"])
                billed.append((service, [claim["ref"]]))
            else:
                proposed.append(({"code": line["code"], "units": line["units"]}, [claim["ref"]]))
    facts.put_list("other_services", billed)
    facts.put_list("claims", proposed)

"""One patient-month's work, read from its decision: what is earned, each task that can
still add to the month's total with what it takes and the dollars it adds, and what is out
of reach.

Every figure is the decision's (the engine's resolver, opportunities and amounts at stake):
an opportunity's `adds`, a finding's or a denied line's `amount_at_stake`. Nothing here
compares a fact with a threshold. What this module adds is words a care team acts on ("4
more transmission days in the 9 days left"), the records a documentation task names, and
which tasks pursue the same total (so a patient's money at stake counts them once).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from .. import pointers
from ..lang.runtime import last_day
from ..packs.analysis import lacking
from ..packs.model import CompiledPack

#: kinds of task: reach more of what a code counts (days, minutes); complete the record
REACH, DOCUMENT = "reach", "document"


@dataclass(frozen=True)
class Earned:
    code: str
    units: int
    amount: Decimal


@dataclass(frozen=True)
class Task:
    """One thing a care team can still do this period, and what it adds to the month's total."""

    kind: str
    #: the codes it earns (a documentation finding does not say which: empty)
    codes: tuple[str, ...]
    action: str
    #: the last day it can be done (None: whenever the record is completed)
    by: str | None
    days_left: int | None
    #: what doing it adds to the month's total; None when the pack cannot say
    at_stake: Decimal | None
    evidence: tuple[str, ...]
    #: what doing it changes (the totals it adds to, or the cause it lifts): tasks that share
    #: one pursue the same money, and a patient's money at stake counts them once
    changes: frozenset[str]


@dataclass(frozen=True)
class OutOfReach:
    code: str
    needs: str
    by: str
    days_left: int
    would_add: Decimal


@dataclass(frozen=True)
class PatientWork:
    patient_id: str
    practitioner: str
    month: str
    as_of: str
    total: Decimal
    earned: tuple[Earned, ...]
    tasks: tuple[Task, ...]
    out_of_reach: tuple[OutOfReach, ...]

    @property
    def at_stake(self) -> Decimal:
        """What the tasks can add together: of tasks that change the same thing (more
        interactive time, and documenting a call whose time would count) only the larger."""
        groups: list[tuple[set[str], Decimal]] = []
        for task in self.tasks:
            changes, value = set(task.changes), task.at_stake or Decimal("0.00")
            for group in [g for g in groups if g[0] & changes]:
                groups.remove(group)
                changes |= group[0]
                value = max(value, group[1])
            groups.append((changes, value))
        return sum((value for _, value in groups), Decimal("0.00"))


def practitioner_of(facts: dict) -> str:
    """The billing practitioner's id, as the worklist totals by it."""
    practitioner = facts.get("billing_practitioner")
    return str(practitioner.get("id") or "unknown") if isinstance(practitioner, dict) else "unknown"


def patient_work(facts: dict, decision: dict, pack: CompiledPack) -> PatientWork:
    """The work of the patient-month `decision` decided from `facts` with `pack`."""
    as_of = facts.get("as_of") or last_day(decision["month"])
    today = date.fromisoformat(as_of)
    tasks = [_reach(o, today, pack) for o in decision["opportunities"]]
    tasks += [_document_records(f, facts, pack) for f in decision["findings"] if "amount_at_stake" in f]
    tasks += _complete_the_record(decision["not_billable"])
    return PatientWork(
        decision["patient_id"], practitioner_of(facts), decision["month"], as_of, Decimal(decision["total"]),
        tuple(Earned(line["code"], line["units"], Decimal(line["amount"])) for line in decision["billable"]),
        tuple(tasks),
        tuple(OutOfReach(o["code"], o["missing"], o["by"], _days(today, o["by"]), Decimal(o["adds"]))
              for o in decision.get("out_of_reach", ())))


def _days(today: date, by: str) -> int:
    return max((date.fromisoformat(by) - today).days, 0)


def _reach(opportunity: dict, today: date, pack: CompiledPack) -> Task:
    """An opportunity: the missing amount in the days left; it adds to its rule's actual."""
    left = _days(today, opportunity["by"])
    totals = frozenset(pack.analysis.actual_definitions[rule.id] for rule in pack.rules
                       if rule.code == opportunity["code"] and rule.opportunity is not None)
    return Task(REACH, (opportunity["code"],),
                f"{opportunity['missing']} in the {left} day{'s' if left != 1 else ''} left (by {opportunity['by']})",
                opportunity["by"], left, Decimal(opportunity["adds"]), (), totals)


def _document_records(finding: dict, facts: dict, pack: CompiledPack) -> Task:
    """A finding about records the care team can complete: each record with the fields it
    lacks (those the finding's evidence asks of it, `Analysis.evidence_documents`)."""
    described = pack.findings_by_id[finding["id"]]
    asked = pack.analysis.evidence_documents.get(described.evidence_slot, ())
    records = [_record_task(pointer, facts, asked) for pointer in finding["evidence"]]
    action = "document " + "; ".join(records) if records else finding["message"]
    amount = finding["amount_at_stake"]
    return Task(DOCUMENT, (), action, None, None, Decimal(amount) if amount is not None else None,
                tuple(finding["evidence"]), frozenset(name for name, _ in described.if_documented))


def _record_task(pointer: str, facts: dict, asked: tuple[str, ...]) -> str:
    """'the performer of interaction IX-7 (2026-03-12)' for the record at `pointer`."""
    record = pointers.value_at(facts, pointer)
    record = record if isinstance(record, dict) else {}
    listed = pointers.tokens(pointer)[0] if pointer else "record"
    kind = listed[:-1] if listed.endswith("s") else listed
    named = " ".join(str(part) for part in (kind, record.get("id")) if part)
    dated = f" ({record['date']})" if isinstance(record.get("date"), str) else ""
    missing = lacking(record, asked)
    return f"the {', '.join(missing)} of {named}{dated}" if missing else f"{named}{dated} ({pointer})"


def _complete_the_record(not_billable: list[dict]) -> list[Task]:
    """Lines a gate or blocked condition denied for want of documentation or a
    prerequisite (they carry `amount_at_stake`): one task per cause, worth what its lines
    would bill with it lifted."""
    causes: dict[tuple[str, str], list[dict]] = {}
    for line in not_billable:
        if "amount_at_stake" in line:
            causes.setdefault((line["status"], line["reason"]), []).append(line)
    tasks = []
    for (_, reason), lines in causes.items():
        amounts = [line["amount_at_stake"] for line in lines]
        at_stake = None if None in amounts else sum((Decimal(a) for a in amounts), Decimal("0.00"))
        evidence = tuple(dict.fromkeys(p for line in lines for p in line.get("evidence", ())))
        earns = tuple(line["code"] for line in lines if line["amount_at_stake"] not in (None, "0.00"))
        tasks.append(Task(DOCUMENT, earns, f"complete the record: {reason}", None, None, at_stake, evidence,
                          frozenset({f"cause: {reason}"})))
    return tasks


def as_json(work: PatientWork) -> dict[str, Any]:
    """A patient's line of the worklist's JSON: who, what is earned and what is at stake."""
    return {"patient_id": work.patient_id, "practitioner": work.practitioner, "month": work.month,
            "as_of": work.as_of, "earned": [{"code": e.code, "units": e.units, "amount": str(e.amount)} for e in work.earned],
            "total": str(work.total), "at_stake": str(work.at_stake)}

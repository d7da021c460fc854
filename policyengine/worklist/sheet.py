"""A practice's worklist: each patient's work added as it is decided (in any order), the
records that could not be decided, and the whole as JSON data, patients sorted by what is
at stake, with totals per practitioner and for the practice. Every view (`views.py`) is
written from that data.

A patient's work is written to a temporary file as soon as it is added, and what the sheet
holds of it in memory is its place in the order: a practice of 100,000 patient-months is
read back patient by patient as a view writes it (`patients`).
"""
from __future__ import annotations

import tempfile
import weakref
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import IO, Any, NamedTuple

import orjson

from ..diagnostics import Diagnostic
from .work import PatientWork, Task, as_json

_ZERO = Decimal("0.00")


def _task_json(task: Task) -> dict[str, Any]:
    return {"kind": task.kind, "codes": list(task.codes), "action": task.action, "by": task.by,
            "days_left": task.days_left, "at_stake": None if task.at_stake is None else str(task.at_stake),
            "evidence": list(task.evidence)}


def _task_order(task: Task) -> tuple:
    """Most money first; then the soonest deadline; then the words (a fixed order)."""
    return (-(task.at_stake or _ZERO), task.by or "9999-12-31", task.kind, task.codes, task.action)


class PatientRow(NamedTuple):
    """A patient's work as the sheet keeps it: what the totals and the order need, and the
    patient's JSON as bytes. Made where the month is decided, so a worker process sends a
    few strings (unpickling the JSON as objects cost the writer more than deciding), and a
    practice of 100,000 months is kept in about 500 bytes a month."""

    practitioner: str
    earned: str
    at_stake: str
    tasks: int
    patient_id: str
    month: str
    json: bytes


def patient_row(work: PatientWork) -> PatientRow:
    at_stake = work.at_stake
    data = as_json(work)
    data["tasks"] = [_task_json(task) for task in sorted(work.tasks, key=_task_order)]
    data["out_of_reach"] = [{"code": o.code, "needs": o.needs, "by": o.by, "days_left": o.days_left,
                             "would_add": str(o.would_add)} for o in work.out_of_reach]
    return PatientRow(work.practitioner, str(work.total), str(at_stake), len(work.tasks), work.patient_id, work.month,
                      orjson.dumps(data))


@dataclass
class Totals:
    patients: int = 0
    earned: Decimal = _ZERO
    at_stake: Decimal = _ZERO
    tasks: int = 0

    def add(self, row: PatientRow, at_stake: Decimal) -> None:
        self.patients += 1
        self.earned += Decimal(row.earned)
        self.at_stake += at_stake
        self.tasks += row.tasks

    def as_json(self) -> dict[str, Any]:
        return {"patients": self.patients, "earned": str(self.earned), "at_stake": str(self.at_stake), "tasks": self.tasks}


def _spill() -> IO[bytes]:
    return tempfile.TemporaryFile(prefix="policyengine-worklist-")


@dataclass
class Sheet:
    as_of: str
    #: each patient's JSON, in the order added
    _spill: IO[bytes] = field(default_factory=_spill, repr=False)
    #: (most at stake first, patient, month; where its JSON is in the spill, its length)
    _patients: list[tuple[tuple, int, int]] = field(default_factory=list)
    _sorted: bool = True
    _by_practitioner: dict[str, Totals] = field(default_factory=dict)
    _practice: Totals = field(default_factory=Totals)
    _problems: list[dict] = field(default_factory=list)
    #: input lines of another month than the worklist's: not work, not errors
    _other_months: int = 0

    def __post_init__(self) -> None:
        weakref.finalize(self, self._spill.close)  # the spill goes with the sheet

    def add(self, work: PatientWork | PatientRow) -> None:
        row = work if isinstance(work, PatientRow) else patient_row(work)
        at_stake = Decimal(row.at_stake)
        self._practice.add(row, at_stake)
        self._by_practitioner.setdefault(row.practitioner, Totals()).add(row, at_stake)
        self._patients.append(((-at_stake, row.patient_id, row.month), self._spill.seek(0, 2), len(row.json)))
        self._spill.write(row.json)
        self._sorted = False

    def problem(self, line: int | None, data: Any, diagnostics: list[Diagnostic]) -> None:
        """A record that could not be decided: reported with its errors, never dropped."""
        errors = [d for d in diagnostics if d.severity == "error"] or diagnostics
        record: dict[str, Any] = {"line": line}
        for key in ("patient_id", "month"):
            value = data.get(key) if isinstance(data, dict) else None
            record[key] = value if isinstance(value, str) else None
        record["errors"] = [d.as_json() for d in errors]
        self._problems.append(record)

    def other_month(self) -> None:
        self._other_months += 1

    def summary(self) -> dict[str, Any]:
        """Practice totals and totals per practitioner."""
        return {
            "as_of": self.as_of,
            "practice": {**self._practice.as_json(), "problems": len(self._problems), "other_months": self._other_months},
            "practitioners": [{"practitioner": name, **totals.as_json()}
                              for name, totals in sorted(self._by_practitioner.items())],
        }

    def patients(self) -> Iterator[dict[str, Any]]:
        """Each patient's work, most at stake first (then by patient and month), read back
        one at a time."""
        if not self._sorted:
            self._patients.sort(key=lambda item: item[0])
            self._sorted = True
        for _, offset, length in self._patients:
            self._spill.seek(offset)
            yield orjson.loads(self._spill.read(length))

    @property
    def problems(self) -> list[dict[str, Any]]:
        """The records that could not be decided, in input order."""
        return sorted(self._problems, key=lambda p: (p["line"] is None, p["line"] or 0))

    def as_json(self) -> dict[str, Any]:
        """The worklist as one JSON document: the summary, each patient's work (most at
        stake first), and the records that could not be decided, in input order."""
        return {**self.summary(), "patients": list(self.patients()), "problems": self.problems}

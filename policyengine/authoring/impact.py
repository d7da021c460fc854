"""What a new pack does to the decisions an old one makes: every patient-month of a JSON
Lines facts file decided under OLD and under NEW, compared code by code, and added up.

A compliance team about to bill with next year's pack (or with a change to this year's)
needs to know first which months would bill differently, by how much, for whom and why.

Each record is decided as it is under OLD. Under NEW it is decided as it is when the two
packs are of one fee-schedule year; otherwise it is re-dated into NEW's year first
(`redate.py`: the month and every date the facts schema knows move by the years between
them, February 29 becomes February 28 in a year without one, and the day of the week is
not kept), and a month not in OLD's year is an error for that line.

A code changes in a record in one of four ways: gained (billable under NEW only), lost
(under OLD only), its units changed, or repriced (the same units for another amount: a new
rate). A decision has changed when one of its codes is gained, lost or billed for other
units; one whose codes are only repriced is counted apart. Money before and after (Decimal)
is over the records both packs decide, in all, per code and per billing practitioner (the
facts' `billing_practitioner.id`; they name no practice). A line either pack cannot decide
(not JSON, invalid facts, a pack that fails on it, a month that cannot be re-dated) is an
error with its code and line number, and every other line is still decided.

It streams on the batch's worker pool (`batch.run.decide_chunks`): each worker loads both
packs once and adds its chunks up into tallies (and CSV rows), so no decision outlives its
line and memory stays flat whatever the number of records.
"""
from __future__ import annotations

import csv
import io
import sys
from collections import Counter
from contextlib import nullcontext
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import IO

from ..batch import Evaluator
from ..batch.records import errors_of
from ..batch.files import check_paths
from ..batch.reading import CHUNK_LINES, read_chunks
from ..batch.run import decide_chunks
from ..diagnostics import DiagnosticError
from ..facts import parse_facts_line
from ..packs import CompiledPack, load_pack
from .redate import redate

#: How a code's billing changes from OLD to NEW in one record, in the order reports show them.
CHANGE_KINDS = ("gained", "lost", "units_changed", "repriced")
#: The kinds that change what is billed, not only its price.
BILLING_CHANGES = frozenset({"gained", "lost", "units_changed"})
#: Example patient-months kept for each code and kind of change.
EXAMPLES_PER_CHANGE = 3
#: Errors listed by line (all are counted by code).
FIRST_ERRORS = 5
#: The practitioner of facts that name none.
UNKNOWN_PRACTITIONER = "unknown"
#: One row per code that changed in a record.
CSV_COLUMNS = ("line", "patient_id", "month", "code", "change", "units_old", "units_new", "amount_old", "amount_new",
               "difference")

_ZERO = Decimal("0")


@dataclass(frozen=True)
class Billed:
    """A code's billable lines in one decision, added up."""

    units: int
    amount: Decimal


def billed_codes(decision: dict) -> dict[str, Billed]:
    billed: dict[str, Billed] = {}
    for line in decision["billable"]:
        so_far = billed.get(line["code"], Billed(0, _ZERO))
        billed[line["code"]] = Billed(so_far.units + line["units"], so_far.amount + Decimal(line["amount"]))
    return billed


def change_kind(old: Billed | None, new: Billed | None) -> str | None:
    """How a code's billing changed (one of CHANGE_KINDS), None when it did not."""
    if old == new:
        return None
    if old is None:
        return "gained"
    if new is None:
        return "lost"
    return "units_changed" if old.units != new.units else "repriced"


def reason_for(decision: dict, code: str) -> str | None:
    """The decision's one-line reason for `code`: its billable line's, else its not-billable
    line's; None when the pack has no line for the code."""
    lines = (*decision["billable"], *decision["not_billable"])
    return next((line["reason"] for line in lines if line["code"] == code), None)


@dataclass(frozen=True)
class CodeChange:
    code: str
    kind: str
    old: Billed | None
    new: Billed | None

    @property
    def difference(self) -> Decimal:
        return _amount(self.new) - _amount(self.old)


def _amount(billed: Billed | None) -> Decimal:
    return billed.amount if billed is not None else _ZERO


@dataclass(frozen=True)
class Compared:
    """One record decided under both packs."""

    line: int
    practitioner: str
    old: dict
    new: dict
    old_billed: dict[str, Billed]
    new_billed: dict[str, Billed]
    changes: tuple[CodeChange, ...]

    @property
    def changed(self) -> bool:
        return any(change.kind in BILLING_CHANGES for change in self.changes)

    @property
    def repriced_only(self) -> bool:
        return bool(self.changes) and not self.changed


def compare(line: int, facts: dict, old: dict, new: dict) -> Compared:
    old_billed, new_billed = billed_codes(old), billed_codes(new)
    changes = []
    for code in sorted(old_billed.keys() | new_billed.keys()):
        kind = change_kind(old_billed.get(code), new_billed.get(code))
        if kind is not None:
            changes.append(CodeChange(code, kind, old_billed.get(code), new_billed.get(code)))
    return Compared(line, practitioner_of(facts), old, new, old_billed, new_billed, tuple(changes))


def practitioner_of(facts: dict) -> str:
    practitioner = facts.get("billing_practitioner")
    identifier = practitioner.get("id") if isinstance(practitioner, dict) else None
    return identifier if isinstance(identifier, str) else UNKNOWN_PRACTITIONER


def csv_rows(compared: Compared) -> list[tuple]:
    """The CSV rows of a record: one per code that changed."""
    return [(compared.line, compared.old["patient_id"], compared.old["month"], change.code, change.kind,
             _units_text(change.old), _units_text(change.new), _amount_text(change.old), _amount_text(change.new),
             change.difference) for change in compared.changes]


def _units_text(billed: Billed | None) -> str:
    return str(billed.units) if billed is not None else ""


def _amount_text(billed: Billed | None) -> str:
    return str(billed.amount) if billed is not None else ""


@dataclass(frozen=True)
class Example:
    """A patient-month that shows a kind of change, with each decision's reason for the code."""

    line: int
    patient_id: str
    month: str
    change: CodeChange
    old_reason: str | None
    new_reason: str | None


@dataclass(frozen=True)
class LineError:
    """A line not decided under both packs: where it failed (`old`, `new` or `redate`) and why."""

    line: int
    code: str
    under: str


@dataclass
class Money:
    before: Decimal = _ZERO
    after: Decimal = _ZERO

    @property
    def difference(self) -> Decimal:
        return self.after - self.before

    def add(self, other: Money) -> None:
        self.before += other.before
        self.after += other.after


@dataclass
class CodeTally:
    """One code over the records: how many changed in each way, and its money before and after."""

    changes: Counter = field(default_factory=Counter)
    money: Money = field(default_factory=Money)

    def add(self, other: CodeTally) -> None:
        self.changes.update(other.changes)
        self.money.add(other.money)


@dataclass
class PractitionerTally:
    records: int = 0
    changed: int = 0
    money: Money = field(default_factory=Money)

    def add(self, other: PractitionerTally) -> None:
        self.records += other.records
        self.changed += other.changed
        self.money.add(other.money)


@dataclass
class ImpactTally:
    """What records add up to: one chunk's in a worker (with its CSV rows), the whole file's
    once every chunk is added in input order."""

    records: int = 0
    errors: Counter = field(default_factory=Counter)
    first_errors: list[LineError] = field(default_factory=list)
    changed: int = 0
    repriced_only: int = 0
    money: Money = field(default_factory=Money)
    by_code: dict[str, CodeTally] = field(default_factory=dict)
    by_practitioner: dict[str, PractitionerTally] = field(default_factory=dict)
    examples: dict[tuple[str, str], list[Example]] = field(default_factory=dict)
    csv: str = ""

    @property
    def failed(self) -> int:
        """Records not decided under both packs."""
        return sum(self.errors.values())

    @property
    def decided(self) -> int:
        return self.records - self.failed

    def add_error(self, error: LineError) -> None:
        self.records += 1
        self.errors[error.code] += 1
        if len(self.first_errors) < FIRST_ERRORS:
            self.first_errors.append(error)

    def add_compared(self, compared: Compared) -> None:
        self.records += 1
        self.changed += compared.changed
        self.repriced_only += compared.repriced_only
        record_money = Money(sum((b.amount for b in compared.old_billed.values()), _ZERO),
                             sum((b.amount for b in compared.new_billed.values()), _ZERO))
        self.money.add(record_money)
        self._add_codes(compared)
        self._add_practitioner(compared, record_money)
        self._add_examples(compared)

    def _add_codes(self, compared: Compared) -> None:
        for code, billed in compared.old_billed.items():
            self.by_code.setdefault(code, CodeTally()).money.before += billed.amount
        for code, billed in compared.new_billed.items():
            self.by_code.setdefault(code, CodeTally()).money.after += billed.amount
        for change in compared.changes:
            self.by_code[change.code].changes[change.kind] += 1

    def _add_practitioner(self, compared: Compared, money: Money) -> None:
        self.by_practitioner.setdefault(compared.practitioner, PractitionerTally()).add(
            PractitionerTally(1, int(compared.changed), money))

    def _add_examples(self, compared: Compared) -> None:
        for change in compared.changes:
            kept = self.examples.setdefault((change.code, change.kind), [])
            if len(kept) < EXAMPLES_PER_CHANGE:
                kept.append(Example(compared.line, compared.old["patient_id"], compared.old["month"], change,
                                    reason_for(compared.old, change.code), reason_for(compared.new, change.code)))

    def add(self, other: ImpactTally) -> None:
        """Add the tally of the records after these (a later chunk)."""
        self.records += other.records
        self.errors.update(other.errors)
        self.first_errors.extend(other.first_errors[: FIRST_ERRORS - len(self.first_errors)])
        self.changed += other.changed
        self.repriced_only += other.repriced_only
        self.money.add(other.money)
        for code, tally in other.by_code.items():
            self.by_code.setdefault(code, CodeTally()).add(tally)
        for practitioner, counted in other.by_practitioner.items():
            self.by_practitioner.setdefault(practitioner, PractitionerTally()).add(counted)
        for key, examples in other.examples.items():
            kept = self.examples.setdefault(key, [])
            kept.extend(examples[: EXAMPLES_PER_CHANGE - len(kept)])


class LineFailed(Exception):
    """A line that is not decided under both packs, and why."""

    def __init__(self, error: LineError) -> None:
        super().__init__(error.code)
        self.error = error


class ImpactDecider:
    """Decides chunks of lines under both packs, in one process: building one loads the packs."""

    def __init__(self, old_ref: str, new_ref: str, with_csv: bool) -> None:
        old_pack, new_pack = load_pack(old_ref), load_pack(new_ref)
        self.old = Evaluator(old_pack, trace="none")
        self.new = Evaluator(new_pack, trace="none")
        self.old_year, self.new_year = old_pack.fee_schedule_year, new_pack.fee_schedule_year
        self.with_csv = with_csv

    def __call__(self, first: int, lines: list[bytes]) -> ImpactTally:
        tally = ImpactTally()
        rows = io.StringIO()
        writer = csv.writer(rows, lineterminator="\n")
        for number, raw in enumerate(lines, first):
            try:
                compared = self.compared(number, raw)
            except LineFailed as failure:
                tally.add_error(failure.error)
                continue
            tally.add_compared(compared)
            if self.with_csv:
                writer.writerows(csv_rows(compared))
        tally.csv = rows.getvalue()
        return tally

    def compared(self, number: int, raw: bytes) -> Compared:
        """Line `number` decided under OLD as it is, and under NEW re-dated into NEW's year
        when the years differ. Raises LineFailed."""
        try:
            facts = parse_facts_line(raw)  # read once, for both packs
        except DiagnosticError as error:
            raise LineFailed(LineError(number, errors_of(error.diagnostics)[0].code, "old")) from None
        old = self._decided(self.old, number, facts, "old")
        moved = facts
        if self.new_year != self.old_year:
            try:
                moved = redate(facts, self.old_year, self.new_year)
            except DiagnosticError as error:
                raise LineFailed(LineError(number, error.diagnostics[0].code, "redate")) from None
        return compare(number, facts, old, self._decided(self.new, number, moved, "new"))

    @staticmethod
    def _decided(evaluator: Evaluator, number: int, facts: dict, under: str) -> dict:
        _, decision, error_code = evaluator.decide_read(number, facts)
        if decision is None:
            raise LineFailed(LineError(number, str(error_code), under))
        return decision


@dataclass(frozen=True)
class ImpactReport:
    """The whole file's tally, with the packs and the facts it is about."""

    old: CompiledPack
    new: CompiledPack
    source: str
    tally: ImpactTally

    @property
    def redated_years(self) -> int:
        """The years each month moves for NEW (0: decided as it is)."""
        return self.new.fee_schedule_year - self.old.fee_schedule_year


def run_impact(source: IO[bytes], old_ref: str | Path, new_ref: str | Path, csv_out: IO[str] | None = None, *,
               name: str = "<stdin>", workers: int = 1, progress: Callable[[int], None] | None = None,
               chunk_lines: int = CHUNK_LINES, start_method: str | None = None) -> ImpactReport:
    """Decide every line of `source` (binary JSON Lines) under both packs and add up what changed;
    each changed code of a record is a row of `csv_out` (after a header row) when given.

    `progress` is called with the input bytes handled after each chunk. Raises
    DiagnosticError for a pack that cannot be loaded, before any line is read, and
    `batch.WorkerLost` when a worker process dies.
    """
    old, new = load_pack(old_ref), load_pack(new_ref)
    tally = ImpactTally()
    if csv_out is not None:
        csv.writer(csv_out, lineterminator="\n").writerow(CSV_COLUMNS)

    def emit(chunk: ImpactTally, size: int) -> None:
        if csv_out is not None:
            csv_out.write(chunk.csv)
        tally.add(chunk)
        if progress is not None:
            progress(size)

    decide_chunks(read_chunks(source, chunk_lines), emit, ImpactDecider, (str(old_ref), str(new_ref), csv_out is not None),
                  workers=workers, start_method=start_method)
    return ImpactReport(old, new, name, tally)


def impact_of_file(facts_path: str | Path, old_ref: str | Path, new_ref: str | Path, csv_path: str | Path | None = None,
                   *, workers: int = 1, progress: Callable[[int], None] | None = None) -> ImpactReport:
    """`run_impact` over a file (`-` is stdin), the CSV written to `csv_path`. The packs and
    the paths are checked before anything is opened: DiagnosticError for a pack that does
    not load or a CSV that would overwrite the facts, OSError for a file that cannot be
    read or written."""
    for ref in (old_ref, new_ref):
        load_pack(ref)  # compiled once: run_impact finds it loaded
    check_paths(facts_path, "-", csv_path)
    source = sys.stdin.buffer if str(facts_path) == "-" else open(facts_path, "rb")  # noqa: SIM115 - closed below
    try:
        with open(csv_path, "w", encoding="utf-8", newline="") if csv_path is not None else nullcontext() as csv_out:
            return run_impact(source, old_ref, new_ref, csv_out, name=str(facts_path), workers=workers, progress=progress)
    finally:
        if source is not sys.stdin.buffer:
            source.close()

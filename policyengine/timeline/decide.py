"""A patient's months decided in order, carrying forward what the timeline billed.

What one decision bills changes the facts of a later one in a single way: a code on the
pack's episode clock (set-up, R-16) is billed once per episode, so once a decision or an
active claim in the input bills it, every later document of that episode says
`setup_billed: true`, with that decision or claim as its source (and before, `false`:
the timeline knows it was not billed). Nothing else carries over: each month's time
codes and each period's device codes are decided exactly once, so the timeline never
billed a code earlier in the same month or period; claims in the input already billed
are in `other_services` (`months.py`).

Deciding as of a day (`as_of`, the worklist's date) reads the record as it stood at that
day's end (`months.record_as_of`: nothing dated after it is known yet), earlier months of
the episode included, and the documents of that day's month say `as_of`, so their
decisions offer what the days left can still earn.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from ..api import evaluate
from ..diagnostics import Diagnostic, DiagnosticError
from ..facts import MAX_PERIOD_DAYS
from ..fhir import PatientRecord, Problem
from ..packs import CompiledPack, load_pack, pack_for_month
from ..packs.clocks import EPISODE
from .months import MonthFacts, bundled_clocks, clocks_of, month_facts, months_between, record_as_of
from .periods import Episode, episodes

#: the source named for setup_billed when the timeline's own decision billed the set-up code
BILLED_BY_TIMELINE = "policyengine:timeline/{patient}/{month}#{code}"


@dataclass(frozen=True)
class Decided:
    """One document of the timeline: its facts and their decision, or the errors that kept
    it from being decided."""

    facts: dict
    decision: dict | None
    errors: tuple[Diagnostic, ...] = ()


@dataclass
class MonthTotals:
    units: dict[str, int] = field(default_factory=dict)
    amount: Decimal = Decimal("0.00")
    errors: int = 0


@dataclass
class PatientSummary:
    """Codes (units) and money by month of one patient's timeline."""

    patient_id: str
    months: dict[str, MonthTotals] = field(default_factory=dict)

    def add(self, decided: Decided) -> None:
        totals = self.months.setdefault(decided.facts["month"], MonthTotals())
        if decided.decision is None:
            totals.errors += 1
            return
        for line in decided.decision["billable"]:
            totals.units[line["code"]] = totals.units.get(line["code"], 0) + line["units"]
            totals.amount += Decimal(line["amount"])

    @property
    def total(self) -> Decimal:
        return sum((m.amount for m in self.months.values()), Decimal("0.00"))

    def as_json(self) -> dict:
        return {"patient_id": self.patient_id, "total": str(self.total),
                "months": [{"month": month, "codes": dict(sorted(m.units.items())), "amount": str(m.amount),
                            "errors": m.errors} for month, m in sorted(self.months.items())]}


def decide_timeline(record: PatientRecord, months: list[str], report: Callable[[Problem], None],
                    pack: CompiledPack | str | Path | None = None, options: dict[str, Any] | None = None,
                    trace: str = "compact", as_of: str | None = None) -> Iterator[Decided]:
    """Each document of the patient's `months`, in order, decided: with the pack given, or
    the bundled pack effective in each month. With `as_of` (YYYY-MM-DD, in the last of
    `months` or after it), decided as of that day: from the record as it stood then, the
    documents of its month saying `as_of`."""
    if as_of is not None:
        record = record_as_of(record, as_of)
    fixed = pack if pack is None or isinstance(pack, CompiledPack) else load_pack(pack)
    billed_by: dict[int, list[str]] = {}  # episode number -> the sources that billed its set-up
    undecided: set[int] = set()  # episodes with a period that could not be decided: set-up unknown
    replayed = _replayed(record, months)
    fixed_clocks = clocks_of(fixed) if fixed is not None else {}
    clocks = bundled_clocks if fixed is None else (lambda month: fixed_clocks)
    for document in month_facts(record, replayed + months, report, clocks):
        try:
            compiled = fixed or pack_for_month(document.facts["month"])
            once = episode_codes(compiled)
            facts = _with_setup(document, record, once, billed_by, undecided)
            if as_of is not None and facts["month"] == as_of[:7]:
                facts = {**facts, "as_of": as_of}
            decision = evaluate(facts, compiled, options, trace)
        except DiagnosticError as error:
            if document.period is not None:
                undecided.add(document.period.episode.number)
            if document.facts["month"] >= months[0]:
                yield Decided(document.facts, None, tuple(error.diagnostics))
            continue
        setup = [line["code"] for line in decision["billable"] if line["code"] in once]
        if document.period is not None and setup:
            billed_by.setdefault(document.period.episode.number, [
                BILLED_BY_TIMELINE.format(patient=record.patient_id, month=facts["month"], code=setup[0])])
        if facts["month"] >= months[0]:
            yield Decided(facts, decision)


def _replayed(record: PatientRecord, months: list[str]) -> list[str]:
    """The months before `months` back to the start of the episode in progress when they
    begin: decided again, not written, so that a set-up billed in them is known (deciding
    from the middle of an episode must not bill its set-up a second time)."""
    if not months:
        return []
    first = date.fromisoformat(f"{months[0]}-01")
    # a period that starts before an episode's last day may end up to a period later
    reach = timedelta(days=MAX_PERIOD_DAYS)
    started = [e.start for e in episodes(record.devices, record.readings)
               if e.start < first and (e.end is None or e.end + reach >= first)]
    if not started:
        return []
    return [month for month in months_between(min(started).isoformat()[:7], months[0]) if month < months[0]]


def episode_codes(pack: CompiledPack) -> frozenset[str]:
    """The codes `pack` bills once per episode."""
    return frozenset(code.code for code in pack.codes.values() if code.clock == EPISODE)


def _with_setup(document: MonthFacts, record: PatientRecord, once: frozenset[str],
                billed_by: dict[int, list[str]], undecided: set[int]) -> dict:
    """The document's facts with `episode.setup_billed`: true with its sources when the
    timeline or an active claim in the input billed the episode's set-up, else false; left
    out (the decision then takes set-up as billed, and says so) when an earlier period of
    the episode could not be decided."""
    facts = document.facts
    if document.period is None:
        return facts
    episode = document.period.episode
    sources = billed_by.get(episode.number) or _setup_claims(record, episode, once)
    if not sources and episode.number in undecided:
        return facts
    facts = {**facts, "episode": {**facts["episode"], "setup_billed": bool(sources)}}
    if sources:
        facts["provenance"] = {**facts["provenance"], "/episode/setup_billed": sources}
    return facts


def _setup_claims(record: PatientRecord, episode: Episode, once: frozenset[str]) -> list[str]:
    """The input's active claims with a line of a set-up code dated in one of `episode`'s
    periods (the last may run past the device's return)."""
    last = episode.end + timedelta(days=MAX_PERIOD_DAYS - 1) if episode.end else None
    start, end = episode.start.isoformat(), last.isoformat() if last else "9999"
    return sorted(claim["ref"] for claim in record.claims
                  if claim["billed"] and any(line["code"] in once and start <= line["day"] <= end for line in claim["lines"]))


def summary_text(summary: PatientSummary) -> str:
    """A patient's codes and money by month, as a small table."""
    rows = [f"{summary.patient_id}: ${summary.total}"]
    for month, totals in sorted(summary.months.items()):
        codes = ", ".join(f"{code} x{units}" if units > 1 else code for code, units in sorted(totals.units.items()))
        errors = f"  ({totals.errors} not decided)" if totals.errors else ""
        rows.append(f"  {month}  {totals.amount:>9}  {codes or '-'}{errors}")
    return "\n".join(rows) + "\n"

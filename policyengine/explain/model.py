"""What an explanation shows: plain data that the views (text, Markdown, HTML) render.

Built by `build.py` from a decision, its trace and its pack; no view reads the decision.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..lang import format_seconds


@dataclass
class PackInfo:
    id: str
    version: str
    sha256: str
    #: whether the pack used here is the one the decision was made with (same sha256)
    matches: bool
    source: str
    note: str | None


@dataclass
class Gap:
    """A record whose time was not counted because it lacks documentation fields."""

    pointer: str
    fields: list[str]
    seconds: int | None
    condition: str


@dataclass
class CodeLine:
    code: str
    descriptor: str | None
    billable: bool
    units: int | None
    amount: str | None
    rule: str
    citation: str | None
    status: str | None
    reason: str
    actual: str | None
    required: str | None
    short_by: str | None
    unlock_fields: list[str] = field(default_factory=list)
    gaps: list[Gap] = field(default_factory=list)
    #: whether counting the gaps' time would bill the code (None: the trace cannot tell)
    gaps_would_unlock: bool | None = None
    #: what the code would bill once the record is complete (the line's amount_at_stake)
    at_stake: str | None = None

    @property
    def status_label(self) -> str:
        """The status in words, as every view shows it: "not met", "documentation missing"."""
        return (self.status or "").replace("_", " ")

    @property
    def gap_verdict(self) -> str | None:
        """Whether documenting the gaps would bill the code, as every view says it."""
        if self.billable or not self.gaps or self.gaps_would_unlock is None:
            return None
        verdict = "would unlock" if self.gaps_would_unlock else "would not alone be enough for"
        return f"documenting these {verdict} {self.code} (if the records meet the other conditions)"


@dataclass
class Crossing:
    """A running total at which the pack decides differently."""

    seconds: int
    clock: str
    #: codes billed from here ("<code> x1")
    earned: list[str]
    #: codes billed before and not from here
    replaced: list[str]
    #: codes met from here that still do not bill, with why ("<code> is met but not billed: ...")
    reached: list[str] = field(default_factory=list)
    #: codes met before (billed or not) and no longer met from here
    left: list[str] = field(default_factory=list)


@dataclass
class LedgerRow:
    pointer: str
    id: str | None
    date: str | None
    seconds: int | None
    counted: bool
    excluded_by: str | None
    excluded_in: str | None
    documentation_gap: bool
    running: int
    looked_at: list[str] = field(default_factory=list)
    filter: str | None = None
    #: the fields the dropping condition asks for that this record lacks
    missing_fields: list[str] = field(default_factory=list)
    crossings: list[Crossing] = field(default_factory=list)
    capped: bool = False

    def why_not(self, ledger: Ledger) -> str:
        """What kind of exclusion a row not counted is: the words every view starts with."""
        if self.documentation_gap:
            return "documentation missing"
        return "not added" if self.excluded_in == ledger.definition else "dropped by"


@dataclass
class Ledger:
    definition: str
    expression: str
    total: int
    rows: list[LedgerRow]
    cap: str | None
    cap_seconds: int | None
    not_added: list[str]
    #: gates that failed: no time earns anything, so no threshold crossings are shown
    failed_gates: list[str] = field(default_factory=list)
    #: why the crossings cannot be shown, when they cannot
    unavailable: str | None = None


@dataclass
class DayCount:
    definition: str
    expression: str
    count: Any
    days: list[str]
    rules: list[str]
    of_dates: bool = True


@dataclass
class Part:
    expr: str
    value: str


@dataclass
class Step:
    slot: str
    expression: str
    value: str
    parts: list[Part]
    reads: list[str]


@dataclass
class ParameterUse:
    name: str
    effective: str
    value: str
    citation: str | None
    confidence: str | None


@dataclass
class OptionUse:
    name: str
    value: str
    default: str | None
    description: str | None
    citation: str | None


@dataclass
class FindingLine:
    id: str
    severity: str
    message: str
    evidence: list[str]
    citation: str | None
    #: what completing the records it names adds to the total (the decision's), if it says
    amount_at_stake: str | None = None


@dataclass
class SourceLine:
    """A fact with provenance and the source records it was derived from."""

    #: "Transmission days", "Interactions" or "Other facts" (`SOURCE_GROUPS`)
    group: str
    pointer: str
    #: the fact in a reader's words ("2026-03-02", "IX-1 on 2026-03-05"); None when only
    #: the pointer can name it (a compact trace does not hold the values)
    label: str | None
    records: list[str]

    @property
    def fact(self) -> str:
        return self.label or self.pointer


SOURCE_GROUPS = TRANSMISSION_DAYS, INTERACTIONS, OTHER_FACTS = ("Transmission days", "Interactions", "Other facts")


@dataclass
class Explanation:
    patient_id: str
    month: str
    pack: PackInfo
    engine: str
    facts_sha256: str
    total: str
    trace_form: str
    codes: list[CodeLine]
    findings: list[FindingLine]
    options: list[OptionUse]
    ledgers: list[Ledger]
    day_counts: list[DayCount]
    steps: list[Step]
    parameters: list[ParameterUse]
    needs_full_trace: list[str]
    opportunities: list[dict]
    #: what is still to be earned but not in the time left (the decision's `out_of_reach`)
    out_of_reach: list[dict] = field(default_factory=list)
    #: where the decision's lines do not follow from its own trace (an edited decision)
    disagreements: list[str] = field(default_factory=list)
    #: the facts' provenance (empty when the facts carry none, or the trace is none)
    sources: list[SourceLine] = field(default_factory=list)


def source_groups(ex: Explanation) -> list[tuple[str, list[SourceLine]]]:
    """The sources by group, in the order every view shows them; empty groups left out."""
    return [(group, rows) for group in SOURCE_GROUPS if (rows := [s for s in ex.sources if s.group == group])]


def duration_words(seconds: int | None) -> str:
    return format_seconds(seconds) if seconds is not None else "?"


def trace_note(ex: Explanation) -> str | None:
    """What a decision without the full trace cannot show."""
    if not ex.needs_full_trace:
        return None
    carries = "no" if ex.trace_form == "none" else f"a {ex.trace_form}"
    return (f"this decision carries {carries} trace; these sections need the full trace "
            f"(evaluate --trace full): {', '.join(ex.needs_full_trace)}")


def crossing_words(crossing: Crossing) -> str:
    """What a crossing changes, as every view says it: 'earns <code> x1 (replaces <code>)'."""
    words = []
    if crossing.earned:
        replaced = f" (replaces {', '.join(crossing.replaced)})" if crossing.replaced else ""
        words.append(f"earns {', '.join(crossing.earned)}{replaced}")
    elif crossing.replaced:
        words.append(f"{', '.join(crossing.replaced)} no longer billed")
    words += crossing.reached
    words += [f"{code} no longer met" for code in crossing.left]
    return "; ".join(words)


def days_title(days: DayCount) -> str:
    return "Days counted" if days.of_dates else "Items counted"


def clock(seconds: int) -> str:
    """A running total as a stopwatch shows it: 600 -> '10:00', 3599 -> '59:59'."""
    minutes, secs = divmod(seconds, 60)
    return f"{minutes}:{secs:02d}"


def short_value(value: Any, duration: bool = False) -> str:
    """A traced value in a line: durations in words, records by their id, long lists cut."""
    if duration and isinstance(value, int) and not isinstance(value, bool):
        return format_seconds(value)
    if isinstance(value, bool):
        return str(value).lower()
    if value is None:
        return "none"
    if isinstance(value, dict):
        return str(value.get("id", "{…}"))
    if isinstance(value, list):
        shown = [short_value(v, duration) for v in value[:8]]
        more = f", … {len(value) - 8} more" if len(value) > 8 else ""
        return "[" + ", ".join(shown) + more + "]"
    return str(value)

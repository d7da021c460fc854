"""What an explanation says, decided once: `Explanation` -> `Document`.

Every condition (is a shortfall shown, are there gaps or only fields that would unlock a
code, why a ledger row was not counted) and every sentence is here; `text.py`,
`markdown.py` and `html.py` only lay the document out. A code's sentences come from
`code_card`, a ledger row's from `_row_note`: one more outcome is one more branch there.
"""
from __future__ import annotations

from collections.abc import Collection

from .document import (CodeCard, Column, DaysView, Document, GapList, Header, LedgerView, Line, Note, Row, Sentence,
                       SourceGroup, Span, StepView, Table, joined, sentence, span)
from .model import (TRANSMISSION_DAYS, CodeLine, DayCount, Explanation, Ledger, LedgerRow, SourceLine, clock,
                    crossing_words, days_title, duration_words, source_groups, trace_note)

BREAK = Span("", "break")
#: a sentence's full stop, which the plain-text view leaves out
STOP = span(".", text=None)
#: the separator of a list inside a table cell: a line break in HTML
CELL_SEP = span(", ", html=BREAK)
#: the command a trace note names, set as code in Markdown
FULL_TRACE_COMMAND = "evaluate --trace full"


def code(words: object, **differs: str | Span | Sentence | None) -> Span:
    return span(str(words), "code", **differs)


def strong(words: object) -> Span:
    return Span(str(words), "strong")


def _or_missing(value: str | None) -> Span:
    """A ledger cell that may be unknown: '?' in text, 'None' in Markdown and HTML."""
    return Span(value) if value is not None else span("?", markdown="None", html="None")


def _header(ex: Explanation) -> Header:
    p = ex.pack
    sep = Span(", ", "sep")
    notes = [Note("Pack", (Span(p.note),))] if p.note else []
    notes += [Note("Warning", (Span(f"the decision does not follow from its own trace: {d}"),), warning=True)
              for d in ex.disagreements]
    note = trace_note(ex)
    if note:
        before, command, after = note.partition(FULL_TRACE_COMMAND)
        notes.append(Note("Trace", sentence(before, code(command, html=Span(command)) if command else (), after,
                                            span(".", text=None, html=None))))
    return Header(
        title=sentence(span("Decision for ", html=None), ex.patient_id, sep, ex.month),
        page_title=f"{ex.patient_id} {ex.month}",
        meta=sentence(span("pack ", markdown="Pack "), code(p.id), f" {p.version} (sha256 ", code(p.sha256[:12]), ")",
                      sep, f"engine {ex.engine}", sep, "facts sha256 ", code(ex.facts_sha256[:12])),
        trace=sentence(span("trace: ", html="trace "), ex.trace_form, span(".", text=None, html=None)),
        notes=notes,
        total=sentence(f"Total billable: ${ex.total}"))


def _badge(c: CodeLine) -> Sentence:
    if c.billable:
        return sentence(span("billable", text="BILLABLE"), span(f" x{c.units}", markdown=f", {c.units} unit(s)"),
                        span(", ", "sep", text=Span("  ")), f"${c.amount}")
    return sentence(span("not billable", text="NOT BILLABLE"), span(" (", html=Span(", ", "sep")), c.status_label,
                    span(")", html=None))


def _tone(c: CodeLine) -> str:
    if c.billable:
        return "ok"
    return "doc" if c.status == "documentation_missing" or c.gaps_would_unlock else "no"


def _gap_time(seconds: int | None) -> Span:
    """A gap's time: unknown time is '(?)' in Markdown and HTML, left out in text."""
    words = f" ({duration_words(seconds)})"
    return Span(words) if seconds is not None else span(words, text=None)


def _gaps(c: CodeLine) -> GapList:
    records = [sentence(code(gap.pointer), _gap_time(gap.seconds), ": missing ",
                        joined([(code(f),) for f in gap.fields]) or gap.condition)
               for gap in c.gaps]
    lead = sentence(span("Documentation missing", "strong", text="documentation missing"), " (apart from the above)",
                    span(": time not counted because a record lacks fields", html=None),
                    span(":", text=None, html=None))
    return GapList(lead, records, sentence(c.gap_verdict) if c.gap_verdict else None)


def _unlock(c: CodeLine) -> Line:
    return Line(sentence(span("Documentation missing", "strong", text=None, html=strong("Documentation missing.")),
                         span(": fields that would unlock it: ", text="fields that would unlock it: ",
                              html=" Fields that would unlock it: "),
                         joined([(code(f),) for f in c.unlock_fields])), note=True)


def code_card(c: CodeLine) -> CodeCard:
    """A code's outcome: its badge, then why (or why not), by how much it falls short, and
    what documentation would change it; then its rule. Every view says these in this order."""
    label = "Why" if c.billable else "Why not"
    says: list[Line | GapList] = [
        Line(sentence(span(f"{label}:", "strong", text=f"{label.lower()}:", markdown=Span(f"{label}:")), " ", c.reason))]
    if not c.billable and c.actual is not None and c.required is not None:
        says.append(Line(sentence(span("actual", markdown="Actual"), f" {c.actual}, required {c.required}",
                                  (", short by ", strong(c.short_by)) if c.short_by else ())))
    if c.at_stake is not None and c.at_stake != "0.00":
        says.append(Line(sentence(span("At stake:", "strong", text="at stake:", markdown=Span("At stake:")),
                                  f" ${c.at_stake} once the record is complete")))
    if c.gaps:
        says.append(_gaps(c))
    elif c.unlock_fields:
        says.append(_unlock(c))
    cite = (span("; citation: ", text="; citation ", html=(BREAK, Span("citation: "))), c.citation) if c.citation else ()
    return CodeCard(code=c.code, badge=_badge(c), tone=_tone(c), descriptor=c.descriptor, says=says,
                    rule=sentence(span("rule ", markdown="Rule "), code(c.rule), *cite))


def _findings(ex: Explanation) -> Table | None:
    if not ex.findings:
        return None
    rows = []
    for f in ex.findings:
        evidence = f" (evidence: {', '.join(f.evidence)})" if f.evidence else ""
        cite = f"; citation {f.citation}" if f.citation else ""
        stake = f"; at stake ${f.amount_at_stake} once the records are complete" if f.amount_at_stake is not None else ""
        rows.append(Row(
            cells=[sentence(f.severity), sentence(f.message + stake, span(" (", html=BREAK), code(f.id), span(")", html=None)),
                   joined([(code(e, markdown=Span(e)),) for e in f.evidence], CELL_SEP), sentence(f.citation or "")],
            line=sentence(f"{f.severity}: {f.message}{stake}{evidence} [{f.id}{cite}]")))
    return Table([Column(sentence(name)) for name in ("severity", "finding", "evidence", "citation")], rows)


def _row_note(row: LedgerRow, ledger: Ledger) -> Sentence:
    """Why a ledger row was not counted, or that it counted past the cap; empty otherwise."""
    if not row.counted:
        where = span(" in ", text=f" [{row.excluded_in}]" if row.excluded_in else None)
        seen = "; ".join(row.looked_at)
        looked_at = span(f" ({seen})", html=(BREAK, Span(seen, "small"))) if row.looked_at else ()
        return sentence(f"{row.why_not(ledger)}: ", code(row.excluded_by), where, code(row.excluded_in, text=None),
                        looked_at)
    if row.capped:
        return sentence(span("counted; ", text="counted, but "), "past the cap (",
                        code(ledger.cap, markdown=Span(str(ledger.cap))), span("): ", markdown="), "),
                        "earns no further unit")
    return ()


def _ledger_row(row: LedgerRow, ledger: Ledger, sourced: Collection[str]) -> Row:
    tone = ("gap" if row.documentation_gap else "out") if not row.counted else ""
    return Row(
        cells=[sentence(_or_missing(row.date)), sentence(_or_missing(row.id)), sentence(code(row.pointer)),
               sentence(duration_words(row.seconds)), sentence("yes" if row.counted else "no"),
               sentence(clock(row.running)), _row_note(row, ledger)],
        tone=tone,
        crossings=[(sentence(f"crossed {c.clock}"), c.clock, crossing_words(c)) for c in row.crossings],
        source=row.pointer if row.pointer in sourced else None)


def _ledger_summary(ledger: Ledger) -> list[Sentence]:
    """The total, then what stopped time or left it out; HTML runs them on in one paragraph."""
    out = [sentence(span("Total counted: ", text="total counted: "), strong(duration_words(ledger.total)),
                    f" ({clock(ledger.total)})", STOP)]
    on = span("", html=" ")
    below = span("", html=BREAK)
    if ledger.failed_gates:
        out.append(sentence(on, span("No threshold earns a code: gate(s) ", text="no threshold earns a code: gate(s) "),
                            joined([(code(g, html=Span(g)),) for g in ledger.failed_gates]), " not passed", STOP))
    if ledger.cap:
        out.append(sentence(on, span("The add-on cap (", text="the add-on cap ("), code(ledger.cap),
                            f") stopped counting at {clock(ledger.cap_seconds or 0)}", STOP))
    if ledger.unavailable:
        out.append(sentence(below, span("The totals that earn a code cannot be shown: ",
                                        text="the totals that earn a code cannot be shown: "), ledger.unavailable, STOP))
    out += [sentence(below, span("Not added to the total: ", text="not added to the total: "), code(note), STOP)
            for note in ledger.not_added]
    return out


def ledger_view(ledger: Ledger, sourced: Collection[str] = ()) -> LedgerView:
    """A time ledger: each record, whether it counted and why not, the running total and
    where it crosses a threshold, then the total. A record whose pointer is in `sourced`
    (the facts with a row in the Sources section) points there."""
    columns = [Column(sentence(name), numeric=name in ("time", "running"), links=name == "pointer")
               for name in ("date", "item", "pointer", "time", "counted", "running")]
    columns.append(Column(sentence(span("why", text="note"))))
    return LedgerView(title=sentence("Time ledger: ", code(ledger.definition)), definition=ledger.definition,
                      expression=ledger.expression,
                      table=Table(columns, [_ledger_row(row, ledger, sourced) for row in ledger.rows]),
                      summary=_ledger_summary(ledger))


def _dated_sources(ex: Explanation) -> dict[str, str]:
    """A date -> the pointer of the first transmission day on it with a row in the Sources
    section (a full trace labels each by its date)."""
    dated: dict[str, str] = {}
    for source in ex.sources:
        if source.group == TRANSMISSION_DAYS and source.label is not None:
            dated.setdefault(source.label, source.pointer)
    return dated


def _days(days: DayCount, dated: dict[str, str]) -> DaysView:
    rules = sentence(span(", for rules ", text="  (rules: ", html=" for rules "), joined([(code(r),) for r in days.rules]),
                     span(".", text=")", html=None))
    return DaysView(title=sentence(f"{days_title(days)}: ", code(days.definition), span("", text=f" = {days.expression}"),
                                   f" = {days.count}"),
                    definition=days.definition, expression=days.expression, rules=rules, days=days.days,
                    listed=", ".join(days.days) or "none",
                    sources={day: dated[day] for day in days.days if day in dated} if days.of_dates else {})


def _options(ex: Explanation) -> Table:
    rows = []
    for o in ex.options:
        default = "" if o.default is None or o.default == o.value else f" (default {o.default})"
        cite = f"; {o.citation}" if o.citation else ""
        rows.append(Row(cells=[sentence(code(o.name)), sentence(o.value), sentence(o.default or ""),
                               sentence(o.citation or "")],
                        line=sentence(f"{o.name} = {o.value}{default}{cite}")))
    return Table([Column(sentence(name)) for name in ("option", "value", "default", "citation")], rows)


def _shown_in(ex: Explanation, days: list[DaysView]) -> dict[str, list[Sentence]]:
    """A fact's pointer -> the time ledgers and the day counts (of dates) that show it."""
    shown: dict[str, list[Sentence]] = {}
    for ledger in ex.ledgers:
        for pointer in dict.fromkeys(row.pointer for row in ledger.rows):
            shown.setdefault(pointer, []).append(sentence("time ledger ", code(ledger.definition)))
    for view in days:
        for pointer in dict.fromkeys(view.sources.values()):
            shown.setdefault(pointer, []).append(sentence("days counted ", code(view.definition)))
    return shown


def _sources(ex: Explanation, days: list[DaysView]) -> list[SourceGroup]:
    """Each fact and its source records, and where a time ledger or a day count shows it
    (a column only when one does)."""
    shown = _shown_in(ex, days)
    columns = [Column(sentence(name)) for name in ("fact", "pointer", "source records")]
    listed = any(s.pointer in shown for s in ex.sources)
    columns += [Column(sentence("shown in"))] if listed else []

    def row(s: SourceLine) -> Row:
        cells = [sentence(s.label) if s.label else sentence(code(s.pointer)), sentence(code(s.pointer)) if s.label else (),
                 joined([(code(r, markdown=Span(r)),) for r in s.records], CELL_SEP)]
        where = joined(shown.get(s.pointer, []), CELL_SEP)
        return Row(cells + ([sentence(span("", text="in ") if where else (), where)] if listed else []), source=s.pointer)
    return [SourceGroup(group, Table(columns, [row(s) for s in rows])) for group, rows in source_groups(ex)]


def _parameters(ex: Explanation) -> Table | None:
    if not ex.parameters:
        return None
    return Table([Column(sentence(name), whole=name == "effective")
                  for name in ("parameter", "value", "effective", "citation", "confidence")], [
        Row(cells=[sentence(code(p.name)), sentence(p.value), sentence(p.effective), sentence(p.citation or ""),
                   sentence(p.confidence or "")],
            line=sentence(f"{p.name} = {p.value}  from {p.effective}; {p.citation or 'no citation'}; "
                          f"{p.confidence or '?'}"))
        for p in ex.parameters])


def _steps(ex: Explanation) -> list[StepView]:
    return [StepView(slot=step.slot, expression=step.expression, value=step.value,
                     parts=[f"{part.expr}  =  {part.value}" for part in step.parts],
                     reads=sentence(f"reads: {', '.join(step.reads[:12])}{' …' if len(step.reads) > 12 else ''}")
                     if step.reads else None)
            for step in ex.steps]


def build_document(ex: Explanation) -> Document:
    sourced = {s.pointer for s in ex.sources}
    dated = _dated_sources(ex)
    days = [_days(d, dated) for d in ex.day_counts]
    return Document(
        header=_header(ex), codes=[code_card(c) for c in ex.codes], findings=_findings(ex),
        opportunities=[sentence(f"{o.get('code')}: {o.get('missing')} by {o.get('by')}"
                                + (f" (adds ${o['adds']})" if o.get("adds") is not None else "")) for o in ex.opportunities],
        out_of_reach=[sentence(f"{o.get('code')}: {o.get('missing')} by {o.get('by')}, more than the time left"
                               + (f" (would have added ${o['adds']})" if o.get("adds") is not None else ""))
                      for o in ex.out_of_reach],
        ledgers=[ledger_view(ledger, sourced) for ledger in ex.ledgers], days=days,
        options=_options(ex),
        sources_lead=sentence(span("The records each fact was derived from.", text="the records each fact was derived from"))
        if ex.sources else None,
        sources=_sources(ex, days), steps=_steps(ex), parameters=_parameters(ex))

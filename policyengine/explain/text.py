"""An explanation as plain text, for a terminal or a log (a view over `Explanation`)."""
from __future__ import annotations

from .model import (CodeLine, Explanation, Ledger, LedgerRow, clock, crossing_words, days_title, duration_words,
                    source_groups, trace_note)


def _code(c: CodeLine) -> list[str]:
    status = f"BILLABLE x{c.units}  ${c.amount}" if c.billable else f"NOT BILLABLE ({c.status_label})"
    out = [f"  {c.code}  {status}"]
    if c.descriptor:
        out.append(f"      {c.descriptor}")
    out.append(f"      {'why' if c.billable else 'why not'}: {c.reason}")
    if not c.billable and c.actual is not None and c.required is not None:
        by = f", short by {c.short_by}" if c.short_by else ""
        out.append(f"      actual {c.actual}, required {c.required}{by}")
    if c.gaps:
        out.append("      documentation missing (apart from the above): time not counted because a record lacks fields")
        for gap in c.gaps:
            seconds = f" ({duration_words(gap.seconds)})" if gap.seconds is not None else ""
            out.append(f"        {gap.pointer}{seconds}: missing {', '.join(gap.fields) or gap.condition}")
        if c.gap_verdict:
            out.append(f"      {c.gap_verdict}")
    elif c.unlock_fields:
        out.append(f"      fields that would unlock it: {', '.join(c.unlock_fields)}")
    cite = f"; citation {c.citation}" if c.citation else ""
    out.append(f"      rule {c.rule}{cite}")
    return out


def _row(row: LedgerRow, ledger: Ledger, width: int) -> list[str]:
    note = ""
    if not row.counted:
        where = f" [{row.excluded_in}]" if row.excluded_in else ""
        seen = f" ({'; '.join(row.looked_at)})" if row.looked_at else ""
        note = f"{row.why_not(ledger)}: {row.excluded_by}{where}{seen}"
    elif row.capped:
        note = f"counted, but past the cap ({ledger.cap}): earns no further unit"
    out = [f"  {row.date or '?':<10}  {row.id or '?':<{width}} {row.pointer:<17} {duration_words(row.seconds):>11}  "
           f"{'yes' if row.counted else 'no':<7} {clock(row.running):>7}  {note}".rstrip()]
    out += [f"  {'':<10}  -> crossed {crossing.clock}: {crossing_words(crossing)}" for crossing in row.crossings]
    return out


def ledger_lines(ledger: Ledger) -> list[str]:
    width = max([16, *(len(row.id or "?") for row in ledger.rows)])  # ids of FHIR resources run long
    out = [f"Time ledger: {ledger.definition} = {ledger.expression}",
           f"  {'date':<10}  {'item':<{width}} {'pointer':<17} {'time':>11}  {'counted':<7} {'running':>7}  note"]
    for row in ledger.rows:
        out += _row(row, ledger, width)
    out.append(f"  total counted: {duration_words(ledger.total)} ({clock(ledger.total)})")
    if ledger.failed_gates:
        out.append(f"  no threshold earns a code: gate(s) {', '.join(ledger.failed_gates)} not passed")
    if ledger.cap:
        out.append(f"  the add-on cap ({ledger.cap}) stopped counting at {clock(ledger.cap_seconds or 0)}")
    if ledger.unavailable:
        out.append(f"  the totals that earn a code cannot be shown: {ledger.unavailable}")
    out += [f"  not added to the total: {note}" for note in ledger.not_added]
    return out


def _header(ex: Explanation) -> list[str]:
    p = ex.pack
    out = [f"Decision for {ex.patient_id}, {ex.month}",
           f"  pack {p.id} {p.version} (sha256 {p.sha256[:12]}), engine {ex.engine}, "
           f"facts sha256 {ex.facts_sha256[:12]}",
           f"  trace: {ex.trace_form}"]
    if p.note:
        out.append(f"  NOTE: {p.note}")
    out += [f"  WARNING: the decision does not follow from its own trace: {d}" for d in ex.disagreements]
    if trace_note(ex):
        out.append(f"  NOTE: {trace_note(ex)}")
    return out


def _findings_and_opportunities(ex: Explanation) -> list[str]:
    out = []
    if ex.findings:
        out += ["", "Findings"]
        for f in ex.findings:
            cite = f"; citation {f.citation}" if f.citation else ""
            evidence = f" (evidence: {', '.join(f.evidence)})" if f.evidence else ""
            out.append(f"  {f.severity}: {f.message}{evidence} [{f.id}{cite}]")
    if ex.opportunities:
        out += ["", "Opportunities"]
        out += [f"  {o.get('code')}: {o.get('missing')} by {o.get('by')}" for o in ex.opportunities]
    return out


def _days_and_options(ex: Explanation) -> list[str]:
    out = []
    for days in ex.day_counts:
        out += ["", f"{days_title(days)}: {days.definition} = {days.expression} = {days.count}  "
                    f"(rules: {', '.join(days.rules)})",
                "  " + ", ".join(days.days) if days.days else "  none"]
    out += ["", "Options used"]
    for o in ex.options:
        default = "" if o.default is None or o.default == o.value else f" (default {o.default})"
        cite = f"; {o.citation}" if o.citation else ""
        out.append(f"  {o.name} = {o.value}{default}{cite}")
    return out


def _sources(ex: Explanation) -> list[str]:
    """Each fact, its pointer (when a label names the fact) and its source records, in columns."""
    if not ex.sources:
        return []
    width = max(len(s.fact) for s in ex.sources)
    at = max((len(s.pointer) for s in ex.sources if s.label), default=0)
    out = ["", "Sources: the records each fact was derived from"]
    for group, rows in source_groups(ex):
        out.append(f"  {group}")
        for s in rows:
            pointer = f"{s.pointer if s.label else '':<{at}}  " if at else ""
            out.append(f"    {s.fact:<{width}}  {pointer}{', '.join(s.records)}")
    return out


def _derivation(ex: Explanation) -> list[str]:
    out = ["", "Derivation"] if ex.steps else []
    for step in ex.steps:
        out += [f"  {step.slot}: {step.expression}", f"      = {step.value}"]
        out += [f"        {part.expr}  =  {part.value}" for part in step.parts]
        if step.reads:
            out.append(f"        reads: {', '.join(step.reads[:12])}{' …' if len(step.reads) > 12 else ''}")
    if ex.parameters:
        out += ["", "Parameters read (value, effective date, citation, confidence)"]
        out += [f"  {p.name} = {p.value}  from {p.effective}; {p.citation or 'no citation'}; {p.confidence or '?'}"
                for p in ex.parameters]
    return out


def render_text(ex: Explanation) -> str:
    lines = _header(ex) + ["", f"Total billable: ${ex.total}", "", "Codes"]
    lines += [line for c in ex.codes for line in _code(c)]
    lines += _findings_and_opportunities(ex)
    for ledger in ex.ledgers:
        lines += [""] + ledger_lines(ledger)
    lines += _days_and_options(ex) + _sources(ex) + _derivation(ex)
    return "\n".join(lines) + "\n"

"""An explanation as plain text, for a terminal or a log (a view over `Explanation`)."""
from __future__ import annotations

from .model import Explanation, Ledger, clock, crossing_words, days_title


def _code_lines(ex: Explanation) -> list[str]:
    out = []
    for c in ex.codes:
        if c.billable:
            out.append(f"  {c.code}  BILLABLE x{c.units}  ${c.amount}")
        else:
            label = c.status_label
            out.append(f"  {c.code}  NOT BILLABLE ({label})")
        if c.descriptor:
            out.append(f"      {c.descriptor}")
        out.append(f"      {'why' if c.billable else 'why not'}: {c.reason}")
        if not c.billable and c.actual is not None and c.required is not None:
            by = f", short by {c.short_by}" if c.short_by else ""
            out.append(f"      actual {c.actual}, required {c.required}{by}")
        if c.gaps:
            out.append("      documentation missing (apart from the above): time not counted because a record lacks fields")
            for gap in c.gaps:
                fields = ", ".join(gap.fields) or gap.condition
                seconds = f" ({_dur(gap.seconds)})" if gap.seconds is not None else ""
                out.append(f"        {gap.pointer}{seconds}: missing {fields}")
            if not c.billable and c.gaps_would_unlock is not None:
                verdict = "would unlock" if c.gaps_would_unlock else "would not be enough alone for"
                out.append(f"      documenting these {verdict} {c.code} (if the records meet the other conditions)")
        elif c.unlock_fields:
            out.append(f"      fields that would unlock it: {', '.join(c.unlock_fields)}")
        cite = f"; citation {c.citation}" if c.citation else ""
        out.append(f"      rule {c.rule}{cite}")
    return out


def _dur(seconds: int | None) -> str:
    from ..lang import format_seconds
    return format_seconds(seconds) if seconds is not None else "?"


def ledger_lines(ledger: Ledger) -> list[str]:
    out = [f"Time ledger: {ledger.definition} = {ledger.expression}",
           f"  {'date':<10}  {'item':<16} {'pointer':<17} {'time':>11}  {'counted':<7} {'running':>7}  note"]
    for row in ledger.rows:
        note = ""
        if not row.counted:
            where = f" [{row.excluded_in}]" if row.excluded_in else ""
            kind = ("documentation missing: " if row.documentation_gap else
                    "not added: " if row.excluded_in == ledger.definition else "dropped by: ")
            seen = f" ({'; '.join(row.looked_at)})" if row.looked_at else ""
            note = f"{kind}{row.excluded_by}{where}{seen}"
        elif row.capped:
            note = f"counted, but past the cap ({ledger.cap}): earns no further unit"
        out.append(f"  {row.date or '?':<10}  {row.id or '?':<16} {row.pointer:<17} {_dur(row.seconds):>11}  "
                   f"{'yes' if row.counted else 'no':<7} {clock(row.running):>7}  {note}".rstrip())
        for crossing in row.crossings:
            out.append(f"  {'':<10}  -> crossed {crossing.clock}: {crossing_words(crossing)}")
    out.append(f"  total counted: {_dur(ledger.total)} ({clock(ledger.total)})")
    if ledger.failed_gates:
        out.append(f"  no threshold earns a code: gate(s) {', '.join(ledger.failed_gates)} not passed")
    if ledger.cap:
        out.append(f"  the add-on cap ({ledger.cap}) stopped counting at {clock(ledger.cap_seconds or 0)}")
    if ledger.unavailable:
        out.append(f"  the totals that earn a code cannot be shown: {ledger.unavailable}")
    for note in ledger.not_added:
        out.append(f"  not added to the total: {note}")
    return out


def render_text(ex: Explanation) -> str:
    p = ex.pack
    lines = [f"Decision for {ex.patient_id}, {ex.month}",
             f"  pack {p.id} {p.version} (sha256 {p.sha256[:12]}), engine {ex.engine}, facts sha256 {ex.facts_sha256[:12]}",
             f"  trace: {ex.trace_form}"]
    if p.note:
        lines.append(f"  NOTE: {p.note}")
    for disagreement in ex.disagreements:
        lines.append(f"  WARNING: the decision does not follow from its own trace: {disagreement}")
    if ex.needs_full_trace:
        lines.append(f"  NOTE: this decision carries {'no' if ex.trace_form == 'none' else 'a ' + ex.trace_form} trace; these sections need the full trace "
                     f"(evaluate --trace full): {', '.join(ex.needs_full_trace)}")
    lines += ["", f"Total billable: ${ex.total}", "", "Codes"] + _code_lines(ex)
    if ex.findings:
        lines += ["", "Findings"]
        for f in ex.findings:
            cite = f"; citation {f.citation}" if f.citation else ""
            evidence = f" (evidence: {', '.join(f.evidence)})" if f.evidence else ""
            lines.append(f"  {f.severity}: {f.message}{evidence} [{f.id}{cite}]")
    if ex.opportunities:
        lines += ["", "Opportunities"] + [f"  {o.get('code')}: {o.get('missing')} by {o.get('by')}" for o in ex.opportunities]
    for ledger in ex.ledgers:
        lines += [""] + ledger_lines(ledger)
    for days in ex.day_counts:
        lines += ["", f"{days_title(days)}: {days.definition} = {days.expression} = {days.count}  (rules: {', '.join(days.rules)})",
                  "  " + ", ".join(days.days) if days.days else "  none"]
    lines += ["", "Options used"]
    for o in ex.options:
        default = "" if o.default is None or o.default == o.value else f" (default {o.default})"
        cite = f"; {o.citation}" if o.citation else ""
        lines.append(f"  {o.name} = {o.value}{default}{cite}")
    if ex.steps:
        lines += ["", "Derivation"]
        for step in ex.steps:
            lines.append(f"  {step.slot}: {step.expression}")
            lines.append(f"      = {step.value}")
            for part in step.parts:
                lines.append(f"        {part.expr}  =  {part.value}")
            if step.reads:
                lines.append(f"        reads: {', '.join(step.reads[:12])}{' …' if len(step.reads) > 12 else ''}")
    if ex.parameters:
        lines += ["", "Parameters read (value, effective date, citation, confidence)"]
        for prm in ex.parameters:
            lines.append(f"  {prm.name} = {prm.value}  from {prm.effective}; {prm.citation or 'no citation'}; "
                         f"{prm.confidence or '?'}")
    return "\n".join(lines) + "\n"

"""An explanation as Markdown, for a compliance officer's report (a view over `Explanation`)."""
from __future__ import annotations

from .model import (CodeLine, Explanation, Ledger, LedgerRow, clock, crossing_words, days_title, duration_words,
                    source_groups, trace_note)


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _header(ex: Explanation) -> list[str]:
    p = ex.pack
    out = [f"# Decision for {ex.patient_id}, {ex.month}", "",
           f"Pack `{p.id}` {p.version} (sha256 `{p.sha256[:12]}`), engine {ex.engine}, "
           f"facts sha256 `{ex.facts_sha256[:12]}`, trace: {ex.trace_form}.", ""]
    if p.note:
        out += [f"> **Pack:** {p.note}", ""]
    for disagreement in ex.disagreements:
        out += [f"> **Warning:** the decision does not follow from its own trace: {disagreement}", ""]
    note = trace_note(ex)
    if note:
        out += [f"> **Trace:** {note.replace('(evaluate --trace full)', '(`evaluate --trace full`)')}.", ""]
    return out


def _code(c: CodeLine) -> list[str]:
    heading = f"billable, {c.units} unit(s), ${c.amount}" if c.billable else f"not billable ({c.status_label})"
    out = [f"### {c.code}: {heading}", ""]
    if c.descriptor:
        out += [f"*{c.descriptor}*", ""]
    out.append(f"- {'Why' if c.billable else 'Why not'}: {c.reason}")
    if not c.billable and c.actual is not None and c.required is not None:
        by = f", short by **{c.short_by}**" if c.short_by else ""
        out.append(f"- Actual {c.actual}, required {c.required}{by}")
    if c.gaps:
        out.append("- **Documentation missing** (apart from the above): time not counted because a record lacks fields:")
        for gap in c.gaps:
            fields = ", ".join(f"`{f}`" for f in gap.fields) or gap.condition
            out.append(f"  - `{gap.pointer}` ({duration_words(gap.seconds)}): missing {fields}")
        if c.gap_verdict:
            out.append(f"  - {c.gap_verdict}")
    elif c.unlock_fields:
        out.append(f"- **Documentation missing**: fields that would unlock it: {', '.join(f'`{f}`' for f in c.unlock_fields)}")
    out += [f"- Rule `{c.rule}`" + (f"; citation: {c.citation}" if c.citation else ""), ""]
    return out


def _findings(ex: Explanation) -> list[str]:
    if not ex.findings:
        return []
    out = ["## Findings", "", "| severity | finding | evidence | citation |", "|---|---|---|---|"]
    out += [f"| {f.severity} | {_cell(f.message)} (`{f.id}`) | {_cell(', '.join(f.evidence))} | {_cell(f.citation or '')} |"
            for f in ex.findings]
    return out + [""]


def _row(row: LedgerRow, ledger: Ledger) -> str:
    why = ""
    if not row.counted:
        seen = f" ({'; '.join(row.looked_at)})" if row.looked_at else ""
        why = f"{row.why_not(ledger)}: `{row.excluded_by}` in `{row.excluded_in}`{seen}"
    elif row.capped:
        why = f"counted; past the cap ({ledger.cap}), earns no further unit"
    for crossing in row.crossings:
        why += f"{'; ' if why else ''}**crossed {crossing.clock}: {crossing_words(crossing)}**"
    return (f"| {row.date} | {_cell(row.id)} | `{row.pointer}` | {duration_words(row.seconds)} | "
            f"{'yes' if row.counted else 'no'} | {clock(row.running)} | {_cell(why)} |")


def _ledger(ledger: Ledger) -> list[str]:
    out = [f"## Time ledger: `{ledger.definition}`", "", f"`{ledger.definition} = {ledger.expression}`", "",
           "| date | item | pointer | time | counted | running | why |", "|---|---|---|---:|---|---:|---|"]
    out += [_row(row, ledger) for row in ledger.rows]
    out += ["", f"Total counted: **{duration_words(ledger.total)}** ({clock(ledger.total)})."]
    if ledger.failed_gates:
        out.append(f"No threshold earns a code: gate(s) {', '.join(f'`{g}`' for g in ledger.failed_gates)} not passed.")
    if ledger.cap:
        out.append(f"The add-on cap (`{ledger.cap}`) stopped counting at {clock(ledger.cap_seconds or 0)}.")
    if ledger.unavailable:
        out.append(f"The totals that earn a code cannot be shown: {ledger.unavailable}.")
    out += [f"Not added to the total: `{note}`." for note in ledger.not_added]
    return out + [""]


def _days_and_options(ex: Explanation) -> list[str]:
    out = []
    for days in ex.day_counts:
        out += [f"## {days_title(days)}: `{days.definition}` = {days.count}", "",
                f"`{days.definition} = {days.expression}`, for rules {', '.join(f'`{r}`' for r in days.rules)}.", "",
                ", ".join(days.days) or "none", ""]
    out += ["## Options used", "", "| option | value | default | citation |", "|---|---|---|---|"]
    out += [f"| `{o.name}` | {o.value} | {o.default or ''} | {_cell(o.citation or '')} |" for o in ex.options]
    return out + [""]


def _sources(ex: Explanation) -> list[str]:
    out = ["## Sources", "", "The records each fact was derived from.", ""] if ex.sources else []
    for group, rows in source_groups(ex):
        out += [f"### {group}", "", "| fact | pointer | source records |", "|---|---|---|"]
        out += [f"| {_cell(s.label) if s.label else f'`{s.pointer}`'} | {f'`{s.pointer}`' if s.label else ''} | "
                f"{_cell(', '.join(s.records))} |" for s in rows]
        out.append("")
    return out


def _derivation(ex: Explanation) -> list[str]:
    out = ["## Derivation", ""] if ex.steps else []
    for step in ex.steps:
        out += [f"**{step.slot}** = {_cell(step.value)}", "", "```", step.expression]
        out += [f"    {part.expr}  =  {part.value}" for part in step.parts]
        out += ["```", ""]
    if ex.parameters:
        out += ["## Parameters read", "", "| parameter | value | effective | citation | confidence |",
                "|---|---|---|---|---|"]
        out += [f"| `{p.name}` | {_cell(p.value)} | {p.effective} | {_cell(p.citation or '')} | {p.confidence or ''} |"
                for p in ex.parameters]
        out.append("")
    return out


def render_markdown(ex: Explanation) -> str:
    out = _header(ex) + [f"**Total billable: ${ex.total}**", "", "## Codes", ""]
    out += [line for c in ex.codes for line in _code(c)]
    out += _findings(ex)
    out += [line for ledger in ex.ledgers for line in _ledger(ledger)]
    out += _days_and_options(ex) + _sources(ex) + _derivation(ex)
    return "\n".join(out).rstrip("\n") + "\n"

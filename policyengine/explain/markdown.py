"""An explanation as Markdown, for a compliance officer's report (a view over `Explanation`)."""
from __future__ import annotations

from ..lang import format_seconds
from .model import Explanation, clock, crossing_words, days_title


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _dur(seconds: int | None) -> str:
    return format_seconds(seconds) if seconds is not None else "?"


def render_markdown(ex: Explanation) -> str:
    p = ex.pack
    out = [f"# Decision for {ex.patient_id}, {ex.month}", "",
           f"Pack `{p.id}` {p.version} (sha256 `{p.sha256[:12]}`), engine {ex.engine}, "
           f"facts sha256 `{ex.facts_sha256[:12]}`, trace: {ex.trace_form}.", ""]
    if p.note:
        out += [f"> **Pack:** {p.note}", ""]
    for disagreement in ex.disagreements:
        out += [f"> **Warning:** the decision does not follow from its own trace: {disagreement}", ""]
    if ex.needs_full_trace:
        out += [f"> **Trace:** this decision carries {'no' if ex.trace_form == 'none' else 'a ' + ex.trace_form} trace. These sections need the full trace "
                f"(`evaluate --trace full`): {', '.join(ex.needs_full_trace)}.", ""]
    out += [f"**Total billable: ${ex.total}**", "", "## Codes", ""]
    for c in ex.codes:
        if c.billable:
            out.append(f"### {c.code}: billable, {c.units} unit(s), ${c.amount}")
        else:
            label = c.status_label
            out.append(f"### {c.code}: not billable ({label})")
        out.append("")
        if c.descriptor:
            out += [f"*{c.descriptor}*", ""]
        out.append(f"- {'Why' if c.billable else 'Why not'}: {c.reason}")
        if not c.billable and c.actual is not None and c.required is not None:
            by = f", short by **{c.short_by}**" if c.short_by else ""
            out.append(f"- Actual {c.actual}, required {c.required}{by}")
        if c.gaps:
            out.append("- **Documentation missing** (apart from the above): time not counted because a record lacks fields:")
            for gap in c.gaps:
                out.append(f"  - `{gap.pointer}` ({_dur(gap.seconds)}): missing {', '.join(f'`{f}`' for f in gap.fields) or gap.condition}")
            if not c.billable and c.gaps_would_unlock is not None:
                verdict = "would unlock" if c.gaps_would_unlock else "would not alone be enough for"
                out.append(f"  - documenting these {verdict} {c.code} (if the records meet the other conditions)")
        elif c.unlock_fields:
            out.append(f"- **Documentation missing**: fields that would unlock it: {', '.join(f'`{f}`' for f in c.unlock_fields)}")
        out.append(f"- Rule `{c.rule}`" + (f"; citation: {c.citation}" if c.citation else ""))
        out.append("")
    if ex.findings:
        out += ["## Findings", "", "| severity | finding | evidence | citation |", "|---|---|---|---|"]
        for f in ex.findings:
            out.append(f"| {f.severity} | {_cell(f.message)} (`{f.id}`) | {_cell(', '.join(f.evidence))} | {_cell(f.citation or '')} |")
        out.append("")
    for ledger in ex.ledgers:
        out += [f"## Time ledger: `{ledger.definition}`", "", f"`{ledger.definition} = {ledger.expression}`", "",
                "| date | item | pointer | time | counted | running | why |", "|---|---|---|---:|---|---:|---|"]
        for row in ledger.rows:
            why = ""
            if not row.counted:
                kind = ("documentation missing" if row.documentation_gap else
                        "not added" if row.excluded_in == ledger.definition else "dropped by")
                seen = f" ({'; '.join(row.looked_at)})" if row.looked_at else ""
                why = f"{kind}: `{row.excluded_by}` in `{row.excluded_in}`{seen}"
            elif row.capped:
                why = f"counted; past the cap ({ledger.cap}), earns no further unit"
            for crossing in row.crossings:
                why += f"{'; ' if why else ''}**crossed {crossing.clock}: {crossing_words(crossing)}**"
            out.append(f"| {row.date} | {_cell(row.id)} | `{row.pointer}` | {_dur(row.seconds)} | "
                       f"{'yes' if row.counted else 'no'} | {clock(row.running)} | {_cell(why)} |")
        out += ["", f"Total counted: **{_dur(ledger.total)}** ({clock(ledger.total)})."]
        if ledger.failed_gates:
            out.append(f"No threshold earns a code: gate(s) {', '.join(f'`{g}`' for g in ledger.failed_gates)} not passed.")
        if ledger.cap:
            out.append(f"The add-on cap (`{ledger.cap}`) stopped counting at {clock(ledger.cap_seconds or 0)}.")
        if ledger.unavailable:
            out.append(f"The totals that earn a code cannot be shown: {ledger.unavailable}.")
        for note in ledger.not_added:
            out.append(f"Not added to the total: `{note}`.")
        out.append("")
    for days in ex.day_counts:
        out += [f"## {days_title(days)}: `{days.definition}` = {days.count}", "",
                f"`{days.definition} = {days.expression}`, for rules {', '.join(f'`{r}`' for r in days.rules)}.", "",
                ", ".join(days.days) or "none", ""]
    out += ["## Options used", "", "| option | value | default | citation |", "|---|---|---|---|"]
    for o in ex.options:
        out.append(f"| `{o.name}` | {o.value} | {o.default or ''} | {_cell(o.citation or '')} |")
    out.append("")
    if ex.steps:
        out += ["## Derivation", ""]
        for step in ex.steps:
            out += [f"**{step.slot}** = {_cell(step.value)}", "", "```", step.expression]
            out += [f"    {part.expr}  =  {part.value}" for part in step.parts]
            out += ["```", ""]
    if ex.parameters:
        out += ["## Parameters read", "", "| parameter | value | effective | citation | confidence |", "|---|---|---|---|---|"]
        for prm in ex.parameters:
            out.append(f"| `{prm.name}` | {_cell(prm.value)} | {prm.effective} | {_cell(prm.citation or '')} | {prm.confidence or ''} |")
        out.append("")
    return "\n".join(out).rstrip("\n") + "\n"

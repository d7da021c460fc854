"""An explanation as Markdown, for a compliance officer's report: a layout of the document
that `sentences.py` builds."""
from __future__ import annotations

from .document import CodeCard, Document, GapList, LedgerView, Sentence, Span, Table, spans_in
from .model import Explanation
from .sentences import build_document

MARKS = {"code": "`", "strong": "**"}


def _span(span: Span) -> str:
    mark = MARKS.get(span.kind, "")
    return f"{mark}{span.words}{mark}"


def md(parts: Sentence) -> str:
    return "".join(_span(span) for span in spans_in(parts, "markdown"))


def _cell(parts: Sentence) -> str:
    """A table cell: a pipe would end it, a new line the row."""
    return md(parts).replace("|", "\\|").replace("\n", " ")


def _table(table: Table) -> list[str]:
    return [f"| {' | '.join(md(c.name) for c in table.columns)} |",
            "|" + "|".join("---:" if c.numeric else "---" for c in table.columns) + "|",
            *(f"| {' | '.join(_cell(cell) for cell in row.cells)} |" for row in table.rows)]


def _header(doc: Document) -> list[str]:
    h = doc.header
    out = [f"# {md(h.title)}", "", f"{md(h.meta)}, {md(h.trace)}", ""]
    for note in h.notes:
        out += [f"> **{note.label}:** {md(note.body)}", ""]
    return out + [f"**{md(h.total)}**", ""]


def _code(card: CodeCard) -> list[str]:
    out = [f"### {card.code}: {md(card.badge)}", ""]
    if card.descriptor:
        out += [f"*{card.descriptor}*", ""]
    for said in card.says:
        if isinstance(said, GapList):
            out.append(f"- {md(said.lead)}")
            out += [f"  - {md(record)}" for record in said.records]
            if said.verdict:
                out.append(f"  - {md(said.verdict)}")
        else:
            out.append(f"- {md(said.words)}")
    return out + [f"- {md(card.rule)}", ""]


def _ledger(view: LedgerView) -> list[str]:
    rows = []
    for row in view.table.rows:
        *cells, note = row.cells
        why = md(note)
        for label, _, change in row.crossings:
            why += f"{'; ' if why else ''}**{md(label)}: {change}**"
        rows.append(f"| {' | '.join(_cell(cell) for cell in cells)} | {_cell((Span(why),))} |")
    return [f"## {md(view.title)}", "", f"`{view.definition} = {view.expression}`", "", *_table(view.table)[:2],
            *rows, "", *(md(line) for line in view.summary), ""]


def _days_and_options(doc: Document) -> list[str]:
    out = []
    for days in doc.days:
        out += [f"## {md(days.title)}", "", f"`{days.definition} = {days.expression}`{md(days.rules)}", "",
                days.listed, ""]
    return out + ["## Options used", "", *_table(doc.options), ""]


def _sources(doc: Document) -> list[str]:
    out = ["## Sources", "", md(doc.sources_lead), ""] if doc.sources_lead else []
    for group in doc.sources:
        out += [f"### {group.name}", "", *_table(group.table), ""]
    return out


def _derivation(doc: Document) -> list[str]:
    out = ["## Derivation", ""] if doc.steps else []
    for step in doc.steps:
        out += [f"**{step.slot}** = {_cell((Span(step.value),))}", "", "```", step.expression]
        out += [f"    {part}" for part in step.parts]
        out += ["```", ""]
    if doc.parameters:
        out += ["## Parameters read", "", *_table(doc.parameters), ""]
    return out


def render_markdown(ex: Explanation) -> str:
    doc = build_document(ex)
    out = _header(doc) + ["## Codes", ""]
    out += [line for card in doc.codes for line in _code(card)]
    out += ["## Findings", "", *_table(doc.findings), ""] if doc.findings else []
    for title, said in (("Opportunities", doc.opportunities), ("Out of reach", doc.out_of_reach)):
        out += [f"## {title}", "", *(f"- {md(line)}" for line in said), ""] if said else []
    out += [line for view in doc.ledgers for line in _ledger(view)]
    out += _days_and_options(doc) + _sources(doc) + _derivation(doc)
    return "\n".join(out).rstrip("\n") + "\n"

"""An explanation as plain text, for a terminal or a log: a layout of the document that
`sentences.py` builds (no markup; tables as aligned columns or one line a row)."""
from __future__ import annotations

from .document import CodeCard, Document, GapList, LedgerView, Sentence, Table, spans_in
from .model import Explanation, Ledger
from .sentences import build_document, ledger_view


def words(parts: Sentence) -> str:
    return "".join(span.words for span in spans_in(parts, "text"))


def _code(card: CodeCard) -> list[str]:
    out = [f"  {card.code}  {words(card.badge)}"]
    if card.descriptor:
        out.append(f"      {card.descriptor}")
    for said in card.says:
        if isinstance(said, GapList):
            out.append(f"      {words(said.lead)}")
            out += [f"        {words(record)}" for record in said.records]
            if said.verdict:
                out.append(f"      {words(said.verdict)}")
        else:
            out.append(f"      {words(said.words)}")
    out.append(f"      {words(card.rule)}")
    return out


def _ledger(view: LedgerView) -> list[str]:
    rows = [[words(cell) for cell in row.cells] for row in view.table.rows]
    width = max([16, *(len(cells[1]) for cells in rows)])  # ids of FHIR resources run long
    names = [words(column.name) for column in view.table.columns]
    out = [f"{words(view.title)} = {view.expression}",
           f"  {names[0]:<10}  {names[1]:<{width}} {names[2]:<17} {names[3]:>11}  {names[4]:<7} {names[5]:>7}  "
           f"{names[6]}"]
    for row, cells in zip(view.table.rows, rows):
        date, item, pointer, time, counted, running, note = cells
        out.append(f"  {date:<10}  {item:<{width}} {pointer:<17} {time:>11}  {counted:<7} {running:>7}  {note}".rstrip())
        out += [f"  {'':<10}  -> {words(label)}: {change}" for label, _, change in row.crossings]
    return out + [f"  {words(line)}" for line in view.summary]


def ledger_lines(ledger: Ledger) -> list[str]:
    return _ledger(ledger_view(ledger))


def _lines(title: str, table: Table | None) -> list[str]:
    """A table read one line a row."""
    return ["", title, *(f"  {words(row.line)}" for row in table.rows)] if table else []


def _header(doc: Document) -> list[str]:
    h = doc.header
    out = [words(h.title), f"  {words(h.meta)}", f"  {words(h.trace)}"]
    out += [f"  {'WARNING' if note.warning else 'NOTE'}: {words(note.body)}" for note in h.notes]
    return out + ["", words(h.total)]


def _days_and_options(doc: Document) -> list[str]:
    out = []
    for days in doc.days:
        out += ["", words(days.title) + words(days.rules), f"  {days.listed}"]
    return out + _lines("Options used", doc.options)


def _sources(doc: Document) -> list[str]:
    """Each fact, its pointer (when a label names the fact), its source records and where
    the explanation shows it, in columns (a column no row fills left out)."""
    if not doc.sources_lead:
        return []
    groups = [(group.name, [[words(cell) for cell in row.cells] for row in group.table.rows]) for group in doc.sources]
    widths = [max(len(cells[i]) for _, rows in groups for cells in rows) for i in range(len(groups[0][1][0]))]
    out = ["", f"Sources: {words(doc.sources_lead)}"]
    for name, rows in groups:
        out.append(f"  {name}")
        out += ["    " + "  ".join(f"{cell:<{width}}" for cell, width in zip(cells, widths) if width).rstrip()
                for cells in rows]
    return out


def _derivation(doc: Document) -> list[str]:
    out = ["", "Derivation"] if doc.steps else []
    for step in doc.steps:
        out += [f"  {step.slot}: {step.expression}", f"      = {step.value}"]
        out += [f"        {part}" for part in step.parts]
        if step.reads:
            out.append(f"        {words(step.reads)}")
    return out + _lines("Parameters read (value, effective date, citation, confidence)", doc.parameters)


def render_text(ex: Explanation) -> str:
    doc = build_document(ex)
    lines = _header(doc) + ["", "Codes"]
    lines += [line for card in doc.codes for line in _code(card)]
    lines += _lines("Findings", doc.findings)
    if doc.opportunities:
        lines += ["", "Opportunities", *(f"  {words(o)}" for o in doc.opportunities)]
    if doc.out_of_reach:
        lines += ["", "Out of reach", *(f"  {words(o)}" for o in doc.out_of_reach)]
    for view in doc.ledgers:
        lines += [""] + _ledger(view)
    lines += _days_and_options(doc) + _sources(doc) + _derivation(doc)
    return "\n".join(lines) + "\n"

"""An explanation as one self-contained HTML file (no external assets; prints cleanly): a
layout of the document that `sentences.py` builds, every word escaped. And an index page
for a batch of them."""
from __future__ import annotations

from html import escape

from .document import CodeCard, Column, Document, GapList, LedgerView, Row, Sentence, Span, Table, spans_in
from .model import Explanation
from .sentences import build_document

#: the explanation's stylesheet, every rule scoped to its article (`pe-explanation`), so
#: that a page embedding `render_html_body` can serve it beside its own without either
#: restyling the other; printed, it is set small and tight, without ligatures (a pointer or an
#: id copied out of the PDF is the characters printed), and a closed derivation stays closed
STYLE = """
.pe-explanation { --ok: #1b6e3a; --no: #9b1c1c; --doc: #8a5a00; --muted: #5b6470; --rule: #d8dde3;
  font: 14px/1.45 -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; color: #1d232b;
  max-width: 1100px; margin: 24px auto; padding: 0 20px; }
.pe-explanation * { box-sizing: border-box; }
.pe-explanation h1 { font-size: 22px; margin: 0 0 4px; }
.pe-explanation h2 { font-size: 17px; margin: 28px 0 8px; border-bottom: 2px solid var(--rule); padding-bottom: 4px; }
.pe-explanation h3 { font-size: 15px; margin: 12px 0 4px; }
.pe-explanation .meta { color: var(--muted); font-size: 12px; } .pe-explanation .meta code { font-size: 12px; }
.pe-explanation .total { font-size: 20px; font-weight: 600; margin: 14px 0; }
.pe-explanation .note { border-left: 4px solid var(--doc); background: #fff8e6; padding: 8px 12px; margin: 10px 0; }
.pe-explanation .codes { display: grid; grid-template-columns: repeat(auto-fill, minmax(320px, 1fr)); gap: 12px; }
.pe-explanation .card { border: 1px solid var(--rule); border-radius: 6px; padding: 10px 12px; break-inside: avoid; }
.pe-explanation .card h3 { margin: 0 0 4px; font-size: 16px; } .pe-explanation .card p { margin: 4px 0; }
.pe-explanation .card ul { margin: 4px 0; padding-left: 20px; }
.pe-explanation .card.ok { border-top: 4px solid var(--ok); }
.pe-explanation .card.no { border-top: 4px solid var(--no); }
.pe-explanation .card.doc { border-top: 4px solid var(--doc); }
.pe-explanation .badge { display: inline-block; font-size: 11px; font-weight: 600; padding: 1px 7px; border-radius: 10px;
  color: #fff; print-color-adjust: exact; -webkit-print-color-adjust: exact; }
.pe-explanation .badge.ok { background: var(--ok); } .pe-explanation .badge.no { background: var(--no); }
.pe-explanation .badge.doc { background: var(--doc); }
.pe-explanation .desc { color: var(--muted); font-style: italic; font-size: 12px; }
.pe-explanation table { border-collapse: collapse; width: 100%; font-size: 12.5px; }
.pe-explanation th, .pe-explanation td { text-align: left; padding: 4px 6px; border-bottom: 1px solid var(--rule);
  vertical-align: top; }
.pe-explanation th { background: #f3f5f7; }
.pe-explanation td:first-child { white-space: nowrap; }
.pe-explanation td { overflow-wrap: break-word; }
.pe-explanation .num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.pe-explanation .whole { white-space: nowrap; }
.pe-explanation tr.out td { color: var(--muted); }
.pe-explanation tr.gap td { background: #fff8e6; }
.pe-explanation tr.cross td { background: #eaf6ee; font-weight: 600; color: var(--ok); }
.pe-explanation tr:target td, .pe-explanation tr:target th { background: #fff1a8; }
.pe-explanation code, .pe-explanation pre { font: 12px/1.4 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
.pe-explanation pre { background: #f6f8fa; padding: 8px 10px; border-radius: 4px; white-space: pre-wrap; margin: 4px 0 12px; }
.pe-explanation .days span { display: inline-block; margin: 2px; padding: 1px 6px; border: 1px solid var(--rule);
  border-radius: 3px; font-size: 12px; }
.pe-explanation details summary { cursor: pointer; color: var(--muted); }
@media print {
  .pe-explanation { max-width: none; margin: 0; padding: 0; font-size: 10.5px; line-height: 1.3;
    font-variant-ligatures: none; }
  .pe-explanation h1 { font-size: 16px; margin: 0; }
  .pe-explanation h2 { font-size: 13px; margin: 9px 0 3px; padding-bottom: 1px; border-bottom-width: 1px; }
  .pe-explanation h3 { font-size: 11px; margin: 5px 0 2px; }
  .pe-explanation h2, .pe-explanation h3 { break-after: avoid; }
  .pe-explanation .meta, .pe-explanation .meta code, .pe-explanation .desc { font-size: 9.5px; }
  .pe-explanation .total { font-size: 13px; margin: 4px 0; }
  .pe-explanation .note { padding: 2px 8px; margin: 4px 0; border-left-width: 3px; }
  .pe-explanation .codes { grid-template-columns: repeat(3, 1fr); gap: 5px; }
  .pe-explanation .card { padding: 3px 6px; border-radius: 3px; }
  .pe-explanation .card.ok, .pe-explanation .card.no, .pe-explanation .card.doc { border-top-width: 3px; }
  .pe-explanation .card h3 { font-size: 11.5px; margin: 0 0 1px; } .pe-explanation .card p { margin: 1px 0; }
  .pe-explanation .card ul { margin: 1px 0; padding-left: 14px; }
  .pe-explanation .badge { font-size: 9px; padding: 0 5px; }
  .pe-explanation table { font-size: 9.5px; }
  .pe-explanation th, .pe-explanation td { padding: 1px 4px; }
  .pe-explanation code, .pe-explanation pre { font-size: 9px; line-height: 1.25; }
  .pe-explanation pre { padding: 2px 5px; margin: 1px 0 3px; }
  .pe-explanation .days span { margin: 1px; padding: 0 3px; font-size: 9px; }
  .pe-explanation tr, .pe-explanation .card, .pe-explanation pre, .pe-explanation .note { break-inside: avoid; }
  .pe-explanation a { color: inherit; text-decoration: none; } }
"""


def _e(value: object) -> str:
    return escape(str(value), quote=True)


#: how each kind of span is drawn: (before, after) its escaped words
MARKUP = {"code": ("<code>", "</code>"), "strong": ("<b>", "</b>"),
          "small": ("<small>", "</small>")}


def _span(span: Span) -> str:
    if span.kind == "sep":
        return " &middot; "
    if span.kind == "break":
        return "<br>"
    before, after = MARKUP.get(span.kind, ("", ""))
    return f"{before}{_e(span.words)}{after}"


def h(parts: Sentence) -> str:
    return "".join(_span(span) for span in spans_in(parts, "html"))


def source_id(pointer: str) -> str:
    """The id of a fact's row in the Sources section, which a ledger's row and a counted day
    link to: `src` and the pointer, each `/` written `-`, each character but an ASCII letter,
    a digit and `_` written `.` and the hex of its UTF-8 bytes (`/a-b~1c` -> `src-a.2db.7e1c`):
    no space or quote, so safe in an attribute and a URL fragment, and never the same for
    two pointers."""
    def safe(char: str) -> str:
        if char == "/":
            return "-"
        if char == "_" or char.isascii() and char.isalnum():
            return char
        return "".join(f".{byte:02x}" for byte in char.encode())
    return "src" + "".join(safe(char) for char in pointer)


def _page(title: str, article: str) -> str:
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{_e(title)}</title>"
            f"<style>{STYLE}</style></head><body>\n{article}\n</body></html>\n")


def _article(body: list[str]) -> str:
    """The lines as one article, the element every rule of `STYLE` is scoped to."""
    return '<article class="pe-explanation">\n' + "\n".join(body) + "\n</article>"


def _linked(words: str, pointer: str | None) -> str:
    """`words` as a link to the row of `pointer` in the Sources section (as they are without one)."""
    return words if pointer is None else f'<a href="#{_e(source_id(pointer))}">{words}</a>'


def _column_class(column: Column) -> str:
    """A column's cells' class: a figure's, or a word's that no line break splits."""
    return ' class="num"' if column.numeric else ' class="whole"' if column.whole else ""


def _head(table: Table) -> str:
    return "<thead><tr>" + "".join(f"<th{_column_class(c)}>{h(c.name)}</th>" for c in table.columns) + "</tr></thead>"


def _cells(table: Table, row: Row) -> str:
    return "".join(f"<td{_column_class(c)}>{_linked(h(cell), row.source if c.links else None)}</td>"
                   for c, cell in zip(table.columns, row.cells))


def _table(table: Table, anchored: bool = False) -> list[str]:
    """A table; `anchored`: each row with a source is that source's row (its id)."""
    def tr(row: Row) -> str:
        anchor = f' id="{_e(source_id(row.source))}"' if anchored and row.source is not None else ""
        return f"<tr{anchor}>{_cells(table, row)}</tr>"
    return [f"<table>{_head(table)}", *(tr(row) for row in table.rows), "</table>"]


def _card(card: CodeCard) -> list[str]:
    out = [f'<div class="card {card.tone}"><h3>{_e(card.code)} <span class="badge {card.tone}">{h(card.badge)}</span></h3>']
    if card.descriptor:
        out.append(f'<p class="desc">{_e(card.descriptor)}</p>')
    for said in card.says:
        if isinstance(said, GapList):
            items = "".join(f"<li>{h(record)}</li>" for record in said.records)
            verdict = f"<br>{h(said.verdict)}" if said.verdict else ""
            out.append(f'<p class="note">{h(said.lead)}{verdict}</p><ul>{items}</ul>')
        else:
            out.append(f'<p class="note">{h(said.words)}</p>' if said.note else f"<p>{h(said.words)}</p>")
    out.append(f'<p class="meta">{h(card.rule)}</p></div>')
    return out


def _header(doc: Document) -> list[str]:
    head = doc.header
    out = [f"<h1>{h(head.title)}</h1>", f'<div class="meta">{h(head.meta)} &middot; {h(head.trace)}</div>']
    out += [f'<div class="note"><b>{_e(note.label)}:</b> {h(note.body)}</div>' for note in head.notes]
    return out + [f'<div class="total">{h(head.total)}</div>']


def _ledger(view: LedgerView) -> list[str]:
    out = [f"<h2>{h(view.title)}</h2>", f"<pre>{_e(view.expression)}</pre>", f"<table>{_head(view.table)}"]
    for row in view.table.rows:
        out.append(f'<tr class="{row.tone}">{_cells(view.table, row)}</tr>')
        out += [f'<tr class="cross"><td></td><td colspan="4">{h(label)}</td><td class="num">{_e(at)}</td>'
                f"<td>{_e(change)}</td></tr>" for label, at, change in row.crossings]
    first, *rest = view.summary
    return out + ["</table>", f"<p>{h(first)}", *(h(line) for line in rest), "</p>"]


def _days_and_options(doc: Document) -> list[str]:
    out = []
    for days in doc.days:
        out += [f"<h2>{h(days.title)}</h2>", f"<p><code>{_e(days.expression)}</code>{h(days.rules)}</p>",
                '<div class="days">' + "".join(f"<span>{_linked(_e(d), days.sources.get(d))}</span>" for d in days.days)
                + "</div>"]
    return out + ["<h2>Options used</h2>", *_table(doc.options)]


def _sources(doc: Document) -> list[str]:
    out = ["<h2>Sources</h2>", f"<p>{h(doc.sources_lead)}</p>"] if doc.sources_lead else []
    for group in doc.sources:
        out += [f"<h3>{_e(group.name)}</h3>", *_table(group.table, anchored=True)]
    return out


def _derivation(doc: Document, derivation_open: bool) -> list[str]:
    """The parameters read, then every expression with its parts' values: long, so in a
    <details>, closed unless `derivation_open` (printed as it is on the screen)."""
    out = ["<h2>Parameters read</h2>", *_table(doc.parameters)] if doc.parameters else []
    if doc.steps:
        out += ["<h2>Derivation</h2>", f"<details{' open' if derivation_open else ''}><summary>every expression with "
                f"the values of its parts ({len(doc.steps)} expressions)</summary>"]
        for step in doc.steps:
            parts = "".join(f"\n    {_e(part)}" for part in step.parts)
            out.append(f"<p><b><code>{_e(step.slot)}</code></b> = {_e(step.value)}</p>"
                       f"<pre>{_e(step.expression)}{parts}</pre>")
        out.append("</details>")
    return out


def _body(doc: Document, derivation_open: bool) -> str:
    body = _header(doc) + ["<h2>Codes</h2>", '<div class="codes">']
    body += [line for card in doc.codes for line in _card(card)] + ["</div>"]
    body += (["<h2>Findings</h2>", *_table(doc.findings)] if doc.findings else [])
    for title, said in (("Opportunities", doc.opportunities), ("Out of reach", doc.out_of_reach)):
        body += [f"<h2>{title}</h2>", "<ul>", *(f"<li>{h(line)}</li>" for line in said), "</ul>"] if said else []
    body += [line for view in doc.ledgers for line in _ledger(view)]
    body += _days_and_options(doc) + _sources(doc) + _derivation(doc, derivation_open)
    return _article(body)


def render_html_body(ex: Explanation, *, derivation_open: bool = False) -> str:
    """The explanation as one <article class="pe-explanation"> (no <html>, <head> or style),
    for a page to place under its own header and style with `STYLE`: every section, the
    derivation a closed <details> unless `derivation_open`. Its ids are the source rows'
    (`source_id`)."""
    return _body(build_document(ex), derivation_open)


def render_html(ex: Explanation, *, derivation_open: bool = False) -> str:
    """The explanation as a self-contained page: `render_html_body` styled by `STYLE`."""
    doc = build_document(ex)
    return _page(doc.header.page_title, _body(doc, derivation_open))


def render_index(rows: list[tuple[Explanation, str]], title: str = "Decisions") -> str:
    """An index page for a batch: one row per decision, linking to its report (`href`)."""
    body = [f"<h1>{_e(title)}</h1>", f'<div class="meta">{len(rows)} decision(s)</div>',
            "<table><tr><th>patient</th><th>month</th><th>billable</th><th>not billable</th>"
            '<th class="num">total</th><th>pack</th></tr>']
    for ex, href in rows:
        billable = ", ".join(f"{c.code} x{c.units}" for c in ex.codes if c.billable) or "nothing"
        denied = ", ".join(c.code for c in ex.codes if not c.billable)
        body.append(f'<tr><td><a href="{_e(href)}">{_e(ex.patient_id)}</a></td><td>{_e(ex.month)}</td>'
                    f'<td>{_e(billable)}</td><td>{_e(denied)}</td><td class="num">${_e(ex.total)}</td>'
                    f"<td><code>{_e(ex.pack.id)}</code> {_e(ex.pack.version)}</td></tr>")
    body.append("</table>")
    return _page(title, _article(body))

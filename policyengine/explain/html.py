"""An explanation as one self-contained HTML file (no external assets; prints cleanly): a
layout of the document that `sentences.py` builds, every word escaped. And an index page
for a batch of them."""
from __future__ import annotations

from html import escape

from .document import CodeCard, Column, Document, GapList, LedgerView, Sentence, Span, Table, spans_in
from .model import Explanation
from .sentences import build_document

STYLE = """
:root { --ok: #1b6e3a; --no: #9b1c1c; --doc: #8a5a00; --muted: #5b6470; --rule: #d8dde3; }
* { box-sizing: border-box; }
body { font: 14px/1.45 -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; color: #1d232b;
       max-width: 1100px; margin: 24px auto; padding: 0 20px; }
h1 { font-size: 22px; margin: 0 0 4px; }
h2 { font-size: 17px; margin: 28px 0 8px; border-bottom: 2px solid var(--rule); padding-bottom: 4px; }
.meta { color: var(--muted); font-size: 12px; } .meta code { font-size: 12px; }
.total { font-size: 20px; font-weight: 600; margin: 14px 0; }
.note { border-left: 4px solid var(--doc); background: #fff8e6; padding: 8px 12px; margin: 10px 0; }
.codes { display: grid; grid-template-columns: repeat(auto-fill, minmax(320px, 1fr)); gap: 12px; }
.card { border: 1px solid var(--rule); border-radius: 6px; padding: 10px 12px; break-inside: avoid; }
.card h3 { margin: 0 0 4px; font-size: 16px; } .card p { margin: 4px 0; }
.card.ok { border-top: 4px solid var(--ok); }
.card.no { border-top: 4px solid var(--no); }
.card.doc { border-top: 4px solid var(--doc); }
.badge { display: inline-block; font-size: 11px; font-weight: 600; padding: 1px 7px; border-radius: 10px; color: #fff; }
.badge.ok { background: var(--ok); } .badge.no { background: var(--no); } .badge.doc { background: var(--doc); }
.desc { color: var(--muted); font-style: italic; font-size: 12px; }
.bar { height: 8px; background: #eceff2; border-radius: 4px; overflow: hidden; margin: 6px 0; }
.bar span { display: block; height: 100%; background: var(--no); }
table { border-collapse: collapse; width: 100%; font-size: 12.5px; }
th, td { text-align: left; padding: 4px 6px; border-bottom: 1px solid var(--rule); vertical-align: top; }
th { background: #f3f5f7; }
td:first-child { white-space: nowrap; }
td { overflow-wrap: break-word; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tr.out td { color: var(--muted); }
tr.gap td { background: #fff8e6; }
tr.cross td { background: #eaf6ee; font-weight: 600; color: var(--ok); }
code, pre { font: 12px/1.4 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
pre { background: #f6f8fa; padding: 8px 10px; border-radius: 4px; white-space: pre-wrap; margin: 4px 0 12px; }
.days span { display: inline-block; margin: 2px; padding: 1px 6px; border: 1px solid var(--rule); border-radius: 3px;
             font-size: 12px; }
details summary { cursor: pointer; color: var(--muted); }
@media print { body { margin: 0; max-width: none; font-size: 11px; }
details { display: block; }
details > * { display: block; }
  h2 { break-after: avoid; } tr, .card, pre { break-inside: avoid; } a { color: inherit; text-decoration: none; } }
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


def _page(title: str, body: list[str]) -> str:
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{_e(title)}</title>"
            f"<style>{STYLE}</style></head><body>\n" + "\n".join(body) + "\n</body></html>\n")


def _table(table: Table) -> list[str]:
    head = "".join(f"<th>{h(c.name)}</th>" for c in table.columns)
    rows = ["<tr>" + "".join(f"<td>{h(cell)}</td>" for cell in row.cells) + "</tr>" for row in table.rows]
    return [f"<table><tr>{head}</tr>", *rows, "</table>"]


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


def _numeric(column: Column) -> str:
    return ' class="num"' if column.numeric else ""


def _ledger(view: LedgerView) -> list[str]:
    head = "".join(f"<th{_numeric(c)}>{h(c.name)}</th>" for c in view.table.columns)
    out = [f"<h2>{h(view.title)}</h2>", f"<pre>{_e(view.expression)}</pre>", f"<table><tr>{head}</tr>"]
    for row in view.table.rows:
        cells = "".join(f"<td{_numeric(c)}>{h(cell)}</td>"
                        for c, cell in zip(view.table.columns, row.cells))
        out.append(f'<tr class="{row.tone}">{cells}</tr>')
        out += [f'<tr class="cross"><td></td><td colspan="4">{h(label)}</td><td class="num">{_e(at)}</td>'
                f"<td>{_e(change)}</td></tr>" for label, at, change in row.crossings]
    first, *rest = view.summary
    return out + ["</table>", f"<p>{h(first)}", *(h(line) for line in rest), "</p>"]


def _days_and_options(doc: Document) -> list[str]:
    out = []
    for days in doc.days:
        out += [f"<h2>{h(days.title)}</h2>", f"<p><code>{_e(days.expression)}</code>{h(days.rules)}</p>",
                '<div class="days">' + "".join(f"<span>{_e(d)}</span>" for d in days.days) + "</div>"]
    return out + ["<h2>Options used</h2>", *_table(doc.options)]


def _sources(doc: Document) -> list[str]:
    out = ["<h2>Sources</h2>", f"<p>{h(doc.sources_lead)}</p>"] if doc.sources_lead else []
    for group in doc.sources:
        out += [f"<h3>{_e(group.name)}</h3>", *_table(group.table)]
    return out


def _derivation(doc: Document) -> list[str]:
    out = ["<h2>Parameters read</h2>", *_table(doc.parameters)] if doc.parameters else []
    if doc.steps:
        out += ["<h2>Derivation</h2>", "<details open><summary>every expression with the values of its parts</summary>"]
        for step in doc.steps:
            parts = "".join(f"\n    {_e(part)}" for part in step.parts)
            out.append(f"<p><b><code>{_e(step.slot)}</code></b> = {_e(step.value)}</p>"
                       f"<pre>{_e(step.expression)}{parts}</pre>")
        out.append("</details>")
    return out


def render_html(ex: Explanation) -> str:
    doc = build_document(ex)
    body = _header(doc) + ["<h2>Codes</h2>", '<div class="codes">']
    body += [line for card in doc.codes for line in _card(card)] + ["</div>"]
    body += (["<h2>Findings</h2>", *_table(doc.findings)] if doc.findings else [])
    for title, said in (("Opportunities", doc.opportunities), ("Out of reach", doc.out_of_reach)):
        body += [f"<h2>{title}</h2>", "<ul>", *(f"<li>{h(line)}</li>" for line in said), "</ul>"] if said else []
    body += [line for view in doc.ledgers for line in _ledger(view)]
    body += _days_and_options(doc) + _sources(doc) + _derivation(doc)
    return _page(doc.header.page_title, body)


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
    return _page(title, body)

"""An explanation as one self-contained HTML file (no external assets; prints cleanly),
and an index page for a batch of them. A view over `Explanation`."""
from __future__ import annotations

from html import escape

from .model import (CodeLine, Explanation, Ledger, LedgerRow, clock, crossing_words, days_title, duration_words,
                    source_groups, trace_note)

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


def _page(title: str, body: list[str]) -> str:
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{_e(title)}</title>"
            f"<style>{STYLE}</style></head><body>\n" + "\n".join(body) + "\n</body></html>\n")


def _card_kind(c: CodeLine) -> tuple[str, str]:
    if c.billable:
        return "ok", f"billable x{c.units} &middot; ${_e(c.amount)}"
    kind = "doc" if c.status == "documentation_missing" or c.gaps_would_unlock else "no"
    return kind, "not billable &middot; " + _e(c.status_label)


def _card(c: CodeLine) -> list[str]:
    kind, badge = _card_kind(c)
    out = [f'<div class="card {kind}"><h3>{_e(c.code)} <span class="badge {kind}">{badge}</span></h3>']
    if c.descriptor:
        out.append(f'<p class="desc">{_e(c.descriptor)}</p>')
    out.append(f"<p><b>{'Why' if c.billable else 'Why not'}:</b> {_e(c.reason)}</p>")
    if not c.billable and c.actual is not None and c.required is not None:
        by = f", short by <b>{_e(c.short_by)}</b>" if c.short_by else ""
        out.append(f"<p>actual {_e(c.actual)}, required {_e(c.required)}{by}</p>")
    if c.gaps:
        items = "".join(f"<li><code>{_e(g.pointer)}</code> ({_e(duration_words(g.seconds))}): missing "
                        f"{', '.join(f'<code>{_e(f)}</code>' for f in g.fields) or _e(g.condition)}</li>" for g in c.gaps)
        verdict = f"<br>{_e(c.gap_verdict)}" if c.gap_verdict else ""
        out.append(f'<p class="note"><b>Documentation missing</b> (apart from the above){verdict}</p><ul>{items}</ul>')
    elif c.unlock_fields:
        out.append('<p class="note"><b>Documentation missing.</b> Fields that would unlock it: '
                   + ", ".join(f"<code>{_e(f)}</code>" for f in c.unlock_fields) + "</p>")
    cite = f"<br>citation: {_e(c.citation)}" if c.citation else ""
    out.append(f'<p class="meta">rule <code>{_e(c.rule)}</code>{cite}</p></div>')
    return out


def _header(ex: Explanation) -> list[str]:
    p = ex.pack
    out = [f"<h1>{_e(ex.patient_id)} &middot; {_e(ex.month)}</h1>",
           f'<div class="meta">pack <code>{_e(p.id)}</code> {_e(p.version)} (sha256 <code>{_e(p.sha256[:12])}</code>) '
           f"&middot; engine {_e(ex.engine)} &middot; facts sha256 <code>{_e(ex.facts_sha256[:12])}</code> "
           f"&middot; trace {_e(ex.trace_form)}</div>"]
    if p.note:
        out.append(f'<div class="note"><b>Pack:</b> {_e(p.note)}</div>')
    out += [f'<div class="note"><b>Warning:</b> the decision does not follow from its own trace: {_e(d)}</div>'
            for d in ex.disagreements]
    note = trace_note(ex)
    if note:
        out.append(f'<div class="note"><b>Trace:</b> {_e(note)}</div>')
    return out


def _findings(ex: Explanation) -> list[str]:
    if not ex.findings:
        return []
    out = ["<h2>Findings</h2>", "<table><tr><th>severity</th><th>finding</th><th>evidence</th><th>citation</th></tr>"]
    for f in ex.findings:
        evidence = "<br>".join(f"<code>{_e(x)}</code>" for x in f.evidence)
        out.append(f"<tr><td>{_e(f.severity)}</td><td>{_e(f.message)}<br><code>{_e(f.id)}</code></td>"
                   f"<td>{evidence}</td><td>{_e(f.citation or '')}</td></tr>")
    return out + ["</table>"]


def _row(row: LedgerRow, ledger: Ledger) -> list[str]:
    why, cls = "", ""
    if not row.counted:
        cls = "gap" if row.documentation_gap else "out"
        seen = f"<br><small>{_e('; '.join(row.looked_at))}</small>" if row.looked_at else ""
        why = f"{row.why_not(ledger)}: <code>{_e(row.excluded_by)}</code> in <code>{_e(row.excluded_in)}</code>{seen}"
    elif row.capped:
        why = f"counted; past the cap (<code>{_e(ledger.cap)}</code>): earns no further unit"
    out = [f'<tr class="{cls}"><td>{_e(row.date)}</td><td>{_e(row.id)}</td><td><code>{_e(row.pointer)}</code></td>'
           f'<td class="num">{_e(duration_words(row.seconds))}</td><td>{"yes" if row.counted else "no"}</td>'
           f'<td class="num">{_e(clock(row.running))}</td><td>{why}</td></tr>']
    out += [f'<tr class="cross"><td></td><td colspan="4">crossed {_e(c.clock)}</td>'
            f'<td class="num">{_e(c.clock)}</td><td>{_e(crossing_words(c))}</td></tr>' for c in row.crossings]
    return out


def _ledger(ledger: Ledger) -> list[str]:
    out = [f"<h2>Time ledger: <code>{_e(ledger.definition)}</code></h2>", f"<pre>{_e(ledger.expression)}</pre>",
           '<table><tr><th>date</th><th>item</th><th>pointer</th><th class="num">time</th><th>counted</th>'
           '<th class="num">running</th><th>why</th></tr>']
    out += [line for row in ledger.rows for line in _row(row, ledger)]
    out += ["</table>", f"<p>Total counted: <b>{_e(duration_words(ledger.total))}</b> ({_e(clock(ledger.total))})."]
    if ledger.failed_gates:
        out.append(f" No threshold earns a code: gate(s) {_e(', '.join(ledger.failed_gates))} not passed.")
    if ledger.cap:
        out.append(f" The add-on cap (<code>{_e(ledger.cap)}</code>) stopped counting at "
                   f"{_e(clock(ledger.cap_seconds or 0))}.")
    if ledger.unavailable:
        out.append(f"<br>The totals that earn a code cannot be shown: {_e(ledger.unavailable)}.")
    out += [f"<br>Not added to the total: <code>{_e(note)}</code>." for note in ledger.not_added]
    return out + ["</p>"]


def _days_and_options(ex: Explanation) -> list[str]:
    out = []
    for days in ex.day_counts:
        rules = ", ".join(f"<code>{_e(r)}</code>" for r in days.rules)
        out += [f"<h2>{_e(days_title(days))}: <code>{_e(days.definition)}</code> = {_e(days.count)}</h2>",
                f"<p><code>{_e(days.expression)}</code> for rules {rules}</p>",
                '<div class="days">' + "".join(f"<span>{_e(d)}</span>" for d in days.days) + "</div>"]
    out += ["<h2>Options used</h2>", "<table><tr><th>option</th><th>value</th><th>default</th><th>citation</th></tr>"]
    out += [f"<tr><td><code>{_e(o.name)}</code></td><td>{_e(o.value)}</td><td>{_e(o.default or '')}</td>"
            f"<td>{_e(o.citation or '')}</td></tr>" for o in ex.options]
    return out + ["</table>"]


def _sources(ex: Explanation) -> list[str]:
    out = ["<h2>Sources</h2>", "<p>The records each fact was derived from.</p>"] if ex.sources else []
    for group, rows in source_groups(ex):
        out += [f"<h3>{_e(group)}</h3>", "<table><tr><th>fact</th><th>pointer</th><th>source records</th></tr>"]
        for s in rows:
            fact = _e(s.label) if s.label else f"<code>{_e(s.pointer)}</code>"
            pointer = f"<code>{_e(s.pointer)}</code>" if s.label else ""
            records = "<br>".join(f"<code>{_e(r)}</code>" for r in s.records)
            out.append(f"<tr><td>{fact}</td><td>{pointer}</td><td>{records}</td></tr>")
        out.append("</table>")
    return out


def _derivation(ex: Explanation) -> list[str]:
    out = []
    if ex.parameters:
        out += ["<h2>Parameters read</h2>",
                "<table><tr><th>parameter</th><th>value</th><th>effective</th><th>citation</th><th>confidence</th></tr>"]
        out += [f"<tr><td><code>{_e(p.name)}</code></td><td>{_e(p.value)}</td><td>{_e(p.effective)}</td>"
                f"<td>{_e(p.citation or '')}</td><td>{_e(p.confidence or '')}</td></tr>" for p in ex.parameters]
        out.append("</table>")
    if ex.steps:
        out += ["<h2>Derivation</h2>", "<details open><summary>every expression with the values of its parts</summary>"]
        for step in ex.steps:
            parts = "".join(f"\n    {_e(part.expr)}  =  {_e(part.value)}" for part in step.parts)
            out.append(f"<p><b><code>{_e(step.slot)}</code></b> = {_e(step.value)}</p>"
                       f"<pre>{_e(step.expression)}{parts}</pre>")
        out.append("</details>")
    return out


def render_html(ex: Explanation) -> str:
    body = _header(ex) + [f'<div class="total">Total billable: ${_e(ex.total)}</div>', "<h2>Codes</h2>",
                          '<div class="codes">']
    body += [line for c in ex.codes for line in _card(c)] + ["</div>"]
    body += _findings(ex) + [line for ledger in ex.ledgers for line in _ledger(ledger)]
    body += _days_and_options(ex) + _sources(ex) + _derivation(ex)
    return _page(f"{ex.patient_id} {ex.month}", body)


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

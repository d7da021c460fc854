"""The practice page's figures, read from the decision log: money billed by month and code,
money held back by documentation the record lacks, and the reasons codes were most often
not billable, each with the search that lists the decisions behind it.

A month may be decided more than once (as of a day, then complete): the figures count the
latest logged decision of each patient-month. At most MAX_ROWS rows are read, the newest
first; the page says when there were more.
"""
from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from html import escape
from urllib.parse import urlencode

from ...decisionlog import LoggedDecision

#: the most log rows the page reads
MAX_ROWS = 20_000
#: the most reasons the page lists
TOP_REASONS = 10
_ZERO = Decimal("0.00")
#: one colour per code in the chart, in turn (each at least 3:1 against white)
PALETTE = ("#0b4f9c", "#1b6e3a", "#8a5a00", "#9b1c1c", "#5a3c99", "#00707a", "#6b5e00", "#b3206d")


@dataclass
class Practice:
    #: month -> code -> money billed
    billed: dict[str, dict[str, Decimal]] = field(default_factory=dict)
    #: month -> money held back by documentation (findings and denied lines with an amount at stake)
    held_back: dict[str, Decimal] = field(default_factory=dict)
    #: (code, status, reason) -> how many patient-months (each by its latest decision)
    reasons: Counter = field(default_factory=Counter)
    decisions: int = 0
    #: whether the log held more rows than were read
    more: bool = False

    @property
    def months(self) -> list[str]:
        return sorted(set(self.billed) | set(self.held_back))

    @property
    def codes(self) -> list[str]:
        return sorted({code for by_code in self.billed.values() for code in by_code})

    def total(self, month: str) -> Decimal:
        return sum(self.billed.get(month, {}).values(), _ZERO)


def practice_of(rows: Iterable[LoggedDecision], more: bool = False) -> Practice:
    """The figures of the logged decisions `rows`, newest first (the latest of a patient-month counts)."""
    practice = Practice(more=more)
    seen: set[tuple[str, str]] = set()
    for row in rows:
        if (row.patient_id, row.month) in seen:
            continue
        seen.add((row.patient_id, row.month))
        decision = json.loads(row.decision)
        practice.decisions += 1
        by_code = practice.billed.setdefault(row.month, {})
        for line in decision.get("billable", ()):
            by_code[line["code"]] = by_code.get(line["code"], _ZERO) + Decimal(line["amount"])
        held = [f.get("amount_at_stake") for f in decision.get("findings", ())]
        held += [line.get("amount_at_stake") for line in decision.get("not_billable", ())]
        practice.held_back[row.month] = practice.held_back.get(row.month, _ZERO) + sum(
            (Decimal(amount) for amount in held if amount is not None), _ZERO)
        for line in decision.get("not_billable", ()):
            practice.reasons[(line["code"], line["status"], line["reason"])] += 1
    return practice


def reason_rows(practice: Practice) -> list[dict]:
    """The most frequent reasons, each with the search for its code and status."""
    return [{"code": code, "status": status, "reason": reason, "count": count,
             "href": "/console/search?" + urlencode({"code": code, "status": status})}
            for (code, status, reason), count in practice.reasons.most_common(TOP_REASONS)]


def chart_svg(practice: Practice, width: int = 720, height: int = 260) -> str:
    """Money billed by month as stacked bars, one colour a code, with a legend: inline SVG,
    every label escaped, described for a screen reader (the same figures are in the table
    below it)."""
    months, codes = practice.months, practice.codes
    top = max((practice.total(month) for month in months), default=_ZERO)
    scale = Decimal(height - 60) / top if top > 0 else Decimal(0)
    band = (width - 60) / max(len(months), 1)
    bar = min(48.0, band * 0.6)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" '
             f'aria-labelledby="chart-title chart-desc">',
             '<title id="chart-title">Money billed by month and code</title>',
             f'<desc id="chart-desc">Stacked bars for {len(months)} month(s); the highest month billed ${top}.</desc>',
             f'<line x1="50" y1="{height - 40}" x2="{width - 10}" y2="{height - 40}" stroke="#4f5863"/>']
    for i, month in enumerate(months):
        x = 50 + i * band + (band - bar) / 2
        y = float(height - 40)
        for k, code in enumerate(codes):
            amount = practice.billed.get(month, {}).get(code, _ZERO)
            if amount <= 0:
                continue
            tall = float(amount * scale)
            y -= tall
            parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" height="{tall:.1f}" '
                         f'fill="{PALETTE[k % len(PALETTE)]}"><title>{escape(month)} {escape(code)}: ${amount}</title></rect>')
        parts.append(f'<text x="{x + bar / 2:.1f}" y="{height - 24}" font-size="11" text-anchor="middle" fill="#1d232b">'
                     f'{escape(month)}</text>')
        parts.append(f'<text x="{x + bar / 2:.1f}" y="{y - 4:.1f}" font-size="10" text-anchor="middle" fill="#1d232b">'
                     f'${practice.total(month)}</text>')
    for k, code in enumerate(codes):
        parts.append(f'<rect x="{50 + k * 80}" y="{height - 14}" width="10" height="10" fill="{PALETTE[k % len(PALETTE)]}"/>'
                     f'<text x="{64 + k * 80}" y="{height - 5}" font-size="11" fill="#1d232b">{escape(code)}</text>')
    return "\n".join(parts + ["</svg>"])

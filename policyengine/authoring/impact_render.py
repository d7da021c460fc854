"""An impact report for the people who decide on a new pack and the tools around them:
text for a terminal, Markdown for a change request, JSON for tools.

Text and Markdown are drawn from one list of sections, so they say the same things. All
three are deterministic (codes and practitioners sorted, examples in input order, no
timings): the same facts and packs give the same bytes, with any number of workers.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from ..engine.values import pretty_json
from ..packs import CompiledPack
from ..wording import counted
from .impact import CHANGE_KINDS, Billed, CodeTally, Example, ImpactReport, ImpactTally, Money, PractitionerTally

#: Practitioners a text or Markdown report lists (the largest differences); JSON lists all.
PRACTITIONERS_SHOWN = 20

_KIND_TITLES = {"gained": "gained", "lost": "lost", "units_changed": "units changed", "repriced": "repriced"}
_UNDER = {"old": "under the old pack", "new": "under the new pack", "redate": "re-dating"}
_CENT = Decimal("0.01")


def render(report: ImpactReport, output_format: str) -> str:
    """The report as `text`, `markdown` or `json`."""
    renderers: dict[str, Callable[[ImpactReport], str]] = {"text": render_text, "markdown": render_markdown,
                                                            "json": render_json}
    return renderers[output_format](report)


@dataclass(frozen=True)
class Table:
    header: tuple[str, ...]
    rows: Sequence[tuple[str, ...]]


@dataclass(frozen=True)
class Section:
    """A titled part of the report: items (each at a depth of nesting), then perhaps a table."""

    title: str
    items: list[tuple[int, str]] = field(default_factory=list)
    table: Table | None = None


def title(report: ImpactReport) -> str:
    return f"Impact of {_pack_name(report.new)} over {_pack_name(report.old)} on {report.source}"


def sections(report: ImpactReport) -> list[Section]:
    tally = report.tally
    found = [_summary(report), Section("By code", table=_code_table(tally)), _practitioners(tally),
             Section("Examples", _example_items(tally))]
    if tally.errors:
        found.append(Section("Errors", _error_items(tally)))
    return found


def _summary(report: ImpactReport) -> Section:
    tally = report.tally
    unchanged = tally.decided - tally.changed - tally.repriced_only
    money = tally.money
    return Section("Summary", [
        (0, _redating(report)),
        (0, f"records: {tally.records:,} read, {tally.decided:,} decided under both packs, "
            f"{counted(tally.failed, 'error')}"),
        (0, f"decisions: {tally.changed:,} changed (a code gained, lost or billed for other units), "
            f"{tally.repriced_only:,} repriced only, {unchanged:,} unchanged"),
        (0, f"money: before {_dollars(money.before)}, after {_dollars(money.after)}, "
            f"difference {_signed_dollars(money.difference)}"),
    ])


def _redating(report: ImpactReport) -> str:
    old_year, new_year = report.old.fee_schedule_year, report.new.fee_schedule_year
    if report.redated_years == 0:
        return f"both packs are of fee-schedule year {old_year}: each record is decided as it is under both"
    years = abs(report.redated_years)
    return (f"re-dated: for the new pack each month and every date moves {counted(years, 'year')}, "
            f"{old_year} to {new_year} (February 29 becomes February 28; the day of the week is not kept)")


def _code_table(tally: ImpactTally) -> Table:
    header = ("code", *(_KIND_TITLES[kind] for kind in CHANGE_KINDS), "before", "after", "difference")
    rows = [(code, *(f"{tallied.changes[kind]:,}" for kind in CHANGE_KINDS), *_money_cells(tallied.money))
            for code, tallied in sorted(tally.by_code.items())]
    return Table(header, rows)


def _practitioners(tally: ImpactTally) -> Section:
    ranked = sorted(tally.by_practitioner.items(), key=_largest_difference_first)
    rows = [(practitioner, f"{tallied.records:,}", f"{tallied.changed:,}", *_money_cells(tallied.money))
            for practitioner, tallied in ranked[:PRACTITIONERS_SHOWN]]
    items = []
    if len(ranked) > PRACTITIONERS_SHOWN:
        items.append((0, f"the {PRACTITIONERS_SHOWN} largest differences of {len(ranked):,} practitioners "
                         "(all of them in --format json)"))
    return Section("By practitioner", items, Table(("practitioner", "records", "changed", "before", "after",
                                                     "difference"), rows))


def _largest_difference_first(item: tuple[str, PractitionerTally]) -> tuple[Decimal, int, str]:
    practitioner, tallied = item
    return -abs(tallied.money.difference), -tallied.changed, practitioner


def _money_cells(money: Money) -> tuple[str, str, str]:
    return _dollars(money.before), _dollars(money.after), _signed_dollars(money.difference)


def _example_items(tally: ImpactTally) -> list[tuple[int, str]]:
    items: list[tuple[int, str]] = []
    for (code, kind), examples in sorted(tally.examples.items(), key=_by_code_and_kind):
        count = tally.by_code[code].changes[kind]
        items.append((0, f"{code} {_KIND_TITLES[kind]}: {counted(count, 'record')}"))
        for example in examples:
            items += _example_lines(example)
    return items or [(0, "no decision changed")]


def _by_code_and_kind(item: tuple[tuple[str, str], list[Example]]) -> tuple[str, int]:
    (code, kind), _ = item
    return code, CHANGE_KINDS.index(kind)


def _example_lines(example: Example) -> list[tuple[int, str]]:
    change = example.change
    return [(1, f"line {example.line:,}, {example.patient_id}, {example.month}: "
                f"{_billed(change.old)} -> {_billed(change.new)}"),
            (2, f"old: {_reason(example.old_reason, 'old', change.code)}"),
            (2, f"new: {_reason(example.new_reason, 'new', change.code)}")]


def _reason(reason: str | None, side: str, code: str) -> str:
    return reason if reason is not None else f"(the {side} pack has no line for {code})"


def _billed(billed: Billed | None) -> str:
    if billed is None:
        return "not billable"
    return f"{counted(billed.units, 'unit')}, {_dollars(billed.amount)}"


def _error_items(tally: ImpactTally) -> list[tuple[int, str]]:
    items = [(0, f"{code}: {count:,}") for code, count in sorted(tally.errors.items(), key=lambda kv: (-kv[1], kv[0]))]
    items.append((0, f"the first {len(tally.first_errors)}:" if len(tally.first_errors) > 1 else "the first:"))
    items += [(1, f"line {error.line:,}: {error.code} ({_UNDER[error.under]})") for error in tally.first_errors]
    return items



def _dollars(amount: Decimal) -> str:
    return f"${amount.quantize(_CENT):,}"


def _signed_dollars(amount: Decimal) -> str:
    if amount < 0:
        return f"-{_dollars(-amount)}"
    return f"+{_dollars(amount)}" if amount > 0 else _dollars(amount)


def _pack_name(pack: CompiledPack) -> str:
    return f"{pack.id} {pack.version}"


def render_text(report: ImpactReport) -> str:
    lines = [title(report)]
    for section in sections(report):
        lines += ["", section.title]
        lines += ["  " * (depth + 1) + text for depth, text in section.items]
        if section.table is not None:
            lines += ["  " + row for row in _aligned(section.table)]
    return "\n".join(lines) + "\n"


def _aligned(table: Table) -> list[str]:
    """The table's lines: the first column to the left, the others (numbers) to the right."""
    rows = [table.header, *table.rows]
    widths = [max(len(row[column]) for row in rows) for column in range(len(table.header))]
    return ["  ".join(cell.ljust(width) if column == 0 else cell.rjust(width)
                      for column, (cell, width) in enumerate(zip(row, widths))).rstrip() for row in rows]


def render_markdown(report: ImpactReport) -> str:
    lines = [f"# {title(report)}"]
    for section in sections(report):
        lines += ["", f"## {section.title}", ""]
        lines += ["  " * depth + "- " + text for depth, text in section.items]
        if section.table is not None and section.items:
            lines.append("")
        if section.table is not None:
            lines += _markdown_table(section.table)
    return "\n".join(lines) + "\n"


def _markdown_table(table: Table) -> list[str]:
    def row(cells: tuple[str, ...]) -> str:
        return "| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |"

    rule = "|" + "|".join([" --- "] + [" ---: "] * (len(table.header) - 1)) + "|"
    return [row(table.header), rule, *(row(cells) for cells in table.rows)]


def render_json(report: ImpactReport) -> str:
    return pretty_json(as_json(report)) + "\n"


def as_json(report: ImpactReport) -> dict:
    tally = report.tally
    return {
        "old": _pack_json(report.old), "new": _pack_json(report.new), "facts": report.source,
        "redated_years": report.redated_years,
        "records": tally.records, "decided": tally.decided, "errors": tally.failed,
        "changed": tally.changed, "repriced_only": tally.repriced_only,
        "money": _money_json(tally.money),
        "by_code": {code: _code_json(tallied) for code, tallied in sorted(tally.by_code.items())},
        "by_practitioner": {practitioner: {"records": tallied.records, "changed": tallied.changed,
                                           **_money_json(tallied.money)}
                            for practitioner, tallied in sorted(tally.by_practitioner.items())},
        "examples": [_example_json(example) for _, examples in sorted(tally.examples.items(), key=_by_code_and_kind)
                     for example in examples],
        "error_codes": dict(sorted(tally.errors.items())),
        "first_errors": [{"line": error.line, "code": error.code, "under": error.under} for error in tally.first_errors],
    }


def _pack_json(pack: CompiledPack) -> dict:
    return {"id": pack.id, "version": pack.version, "fee_schedule_year": pack.fee_schedule_year, "sha256": pack.sha256}


def _money_json(money: Money) -> dict:
    return {"before": str(money.before.quantize(_CENT)), "after": str(money.after.quantize(_CENT)),
            "difference": str(money.difference.quantize(_CENT))}


def _code_json(tallied: CodeTally) -> dict:
    return {**{kind: tallied.changes[kind] for kind in CHANGE_KINDS}, **_money_json(tallied.money)}


def _example_json(example: Example) -> dict:
    change = example.change
    return {"code": change.code, "change": change.kind, "line": example.line, "patient_id": example.patient_id,
            "month": example.month, "old": _billed_json(change.old), "new": _billed_json(change.new),
            "old_reason": example.old_reason, "new_reason": example.new_reason}


def _billed_json(billed: Billed | None) -> dict | None:
    return None if billed is None else {"units": billed.units, "amount": str(billed.amount)}

"""A pack diff for people and tools: text for a terminal, Markdown for a change request,
JSON for tools (sorted keys, the same bytes for the same packs).

Text and Markdown lay out one document: first what changes money and billability, in
the words a compliance officer would use (codes, rates, thresholds, conflicts, rules,
gates, options), then every difference in detail, old → new.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from decimal import Decimal

from ..engine.values import pretty_json, to_json_value
from ..lang.runtime import round_half_up
from .diff import ADDED, CHANGED, REMOVED, DatedChange, DatedValue, EntryDiff, PackDiff, PackSide, ParameterDiff, RateTable, Reach

#: how a view marks an expression or a name of the pack inside a sentence
Quote = Callable[[str], str]

#: the parts of a rule that decide whether it bills, as `diff.rule_fields` names them
BILLING_FIELDS = ("condition", "units", "requires")
#: the confidence of a value that is not yet confirmed
DOUBTFUL = ("unverified", "low")
#: the detail sections, by entry kind
DETAIL_TITLES = (("conversion factor", "Conversion factor"), ("code", "Codes"), ("rule", "Rules"), ("conflict", "Conflicts"),
                 ("gate", "Gates"), ("finding", "Findings"), ("definition", "Definitions"), ("option", "Options"))


@dataclass(frozen=True)
class Item:
    line: str
    details: tuple[str, ...] = ()


@dataclass(frozen=True)
class Block:
    title: str
    items: tuple[Item, ...] = ()
    header: tuple[str, ...] = ()
    rows: tuple[tuple[str, ...], ...] = ()


def render_diff(diff: PackDiff, output_format: str) -> str:
    if output_format == "json":
        return pretty_json(to_json_value({**asdict(diff), "empty": diff.empty})) + "\n"
    return render_markdown(diff) if output_format == "markdown" else render_text(diff)


# --- the document --------------------------------------------------------------------------

def title(diff: PackDiff) -> str:
    return f"{diff.old.id} {diff.old.version} → {diff.new.id} {diff.new.version}"


def about(pack: PackSide) -> str:
    extends = f"; extends {', '.join(pack.chain[1:])}" if len(pack.chain) > 1 else ""
    return f"{pack.title} (CY{pack.fee_schedule_year}, {pack.effective_from} to {pack.effective_to}{extends})"


def parts(diff: PackDiff, q: Quote) -> list[tuple[str, list[Block]]]:
    if diff.empty:
        return [("No differences", [Block("", (Item("the two packs bill the same codes at the same rates, under the "
                                                    "same rules, parameters, conflicts and options"),))])]
    return [("What changes money and billability", summary_blocks(diff, q)), ("In detail", detail_blocks(diff, q))]


def money(amount: Decimal | None) -> str:
    return f"${amount}" if amount is not None else "none"


def arrow(old: str | None, new: str | None) -> str:
    """A change, old → new; one side alone when the other has nothing (an entry added or removed)."""
    if old is None or new is None:
        return old or new or "none"
    return f"{old} → {new}"


def tag(status: str) -> str:
    return {ADDED: " (new)", REMOVED: " (removed)"}.get(status, "")


def in_force_words(values: tuple[DatedValue, ...]) -> str | None:
    if not values:
        return None
    return "; ".join([values[0].words, *(f"from {v.effective} {v.words}" for v in values[1:])])


def reach_words(reach: Reach) -> str:
    if reach.gates:
        return f"decides every code, through gate {', '.join(reach.gates)}"
    return f"decides {', '.join(reach.codes)}"


# --- what changes money and billability ----------------------------------------------------------

def summary_blocks(diff: PackDiff, q: Quote) -> list[Block]:
    blocks = [Block("Codes", tuple(code_items(diff))), *rate_blocks(diff, q),
              Block("Thresholds and values that decide billing", tuple(threshold_items(diff, q))),
              Block("New values marked unverified or low confidence", tuple(doubtful_items(diff, q))),
              Block("Conflicts", tuple(Item(conflict_words(e)) for e in diff.of_kind("conflict"))),
              Block("Rules", tuple(rule_items(diff, q))), Block("Gates", tuple(gate_items(diff, q))),
              Block("Definitions that decide billing",
                    tuple(Item(f"{q(e.key)} {e.status} ({reach_words(e.reach)})") for e in diff.of_kind("definition")
                          if e.reach is not None and (e.reach.codes or e.reach.gates))),
              Block("Options", tuple(option_items(diff, q)))]
    return [block for block in blocks if block.items or block.rows]


def code_items(diff: PackDiff) -> Iterable[Item]:
    """New codes first, then those no longer billed, then changes."""
    first_rates = {rate.code: rate.new for rate in diff.rates[0].rates} if diff.rates else {}
    order = {ADDED: 0, REMOVED: 1}
    for entry in sorted(diff.of_kind("code"), key=lambda e: order.get(e.status, 2)):
        if entry.status == ADDED:
            assert entry.new is not None
            units = f", at most {entry.new['max units']} per {entry.new['clock']}" if "max units" in entry.new else ""
            yield Item(f"{entry.key} is new: {entry.new['descriptor']}; {money(first_rates.get(entry.key))} per unit{units}")
        elif entry.status == REMOVED:
            assert entry.old is not None
            yield Item(f"{entry.key} is no longer billed: {entry.old['descriptor']}")
        else:
            yield from (Item(f"{entry.key} {name}: {arrow(*sides(entry, name))}") for name in entry.changed)


def sides(entry: EntryDiff, name: str) -> tuple[str | None, str | None]:
    return (entry.old or {}).get(name), (entry.new or {}).get(name)


def rate_blocks(diff: PackDiff, q: Quote) -> list[Block]:
    cf = diff.of_kind("conversion factor")
    blocks = [Block("Conversion factor", tuple(Item(f"the pack's conversion factor: {arrow(*quoted(e, 'expression', q))}")
                                               for e in cf))]
    header = ("code", diff.old.effective_from, diff.new.effective_from, "change")
    for table in diff.rates:
        heading = f"Rates per unit (RVU x conversion factor) at {q(table.basis)}{rate_change(table)}"
        blocks.append(Block(heading, header=header, rows=tuple((rate.code, money(rate.old), money(rate.new),
                                                              difference(rate.old, rate.new)) for rate in table.rates)))
    return blocks


def rate_change(table: RateTable) -> str:
    old, new = table.old_factor, table.new_factor
    if old == new:
        return f": {money(new)}, unchanged"
    if old is None or new is None:
        return f" (new): {money(new)}" if old is None else f" (removed): {money(old)}"
    return f": {money(old)} → {money(new)}"


def difference(old: Decimal | None, new: Decimal | None) -> str:
    if old is None or new is None:
        return "new" if new is not None else "removed" if old is not None else ""
    if old == new:
        return "unchanged"
    change = new - old
    share = f" ({round_half_up(change / old * 100, 1):+}%)" if old else ""
    return f"{'+' if change > 0 else '-'}${abs(change)}{share}"


def threshold_items(diff: PackDiff, q: Quote) -> Iterable[Item]:
    for parameter in diff.parameters:
        if parameter.reach.codes or parameter.reach.gates:
            yield Item(f"{q(parameter.name)}{tag(parameter.status)}: {value_change(parameter)} ({reach_words(parameter.reach)})")


def doubtful_items(diff: PackDiff, q: Quote) -> Iterable[Item]:
    """The values the new pack's year rests on that its authors could not confirm."""
    for parameter in diff.parameters:
        for value in parameter.new_in_force:
            if value.confidence in DOUBTFUL and value in (change.new for change in parameter.dated):
                yield Item(f"{q(parameter.name)} = {value.words} from {value.effective}, {value.confidence}: {value.citation}")


def value_change(parameter: ParameterDiff) -> str:
    old, new = parameter.old_in_force, parameter.new_in_force
    if len(old) == len(new) == 1 and isinstance(old[0].value, list) and isinstance(new[0].value, list):
        added = [str(v) for v in new[0].value if v not in old[0].value]
        dropped = [str(v) for v in old[0].value if v not in new[0].value]
        said = ([f"adds {', '.join(added)}"] if added else []) + ([f"removes {', '.join(dropped)}"] if dropped else [])
        return "; ".join(said) or f"{new[0].words} (order changed)"
    old_words, new_words = in_force_words(old), in_force_words(new)
    return f"{new_words}, unchanged" if old_words == new_words else arrow(old_words, new_words)


def conflict_sentence(fields: dict[str, str]) -> str:
    codes = fields["codes"]
    if "one practitioner" in fields:
        return f"{codes} are billed by one practitioner only"
    return f"{codes.replace(', ', ' and ')} are never billed together; {fields['keep']} is kept"


def conflict_words(entry: EntryDiff) -> str:
    new, old = entry.new, entry.old
    if new is None:
        assert old is not None
        return f"no longer: {conflict_sentence(dict(old))} ({entry.key})"
    if old is None:
        return f"new: {conflict_sentence(dict(new))} ({new['citation']}; {entry.key})"
    return f"now {conflict_sentence(dict(new))} (was: {conflict_sentence(dict(old))}; {new['citation']}; {entry.key})"


def quoted(entry: EntryDiff, name: str, q: Quote) -> tuple[str | None, str | None]:
    """A field's text on each side, quoted when it is an expression."""
    mark = q if name in entry.expressions else (lambda text: text)
    return tuple(mark(text) if text is not None else None for text in sides(entry, name))  # type: ignore[return-value]


def rule_items(diff: PackDiff, q: Quote) -> Iterable[Item]:
    for entry in diff.of_kind("rule"):
        fields = entry.new or entry.old or {}
        name = f"{q(entry.key)} ({fields['code']})"
        if entry.status == ADDED:
            yield Item(f"new rule {name} bills when {q(fields['condition'])} ({fields.get('citation', 'no citation')})")
        elif entry.status == REMOVED:
            yield Item(f"rule {name} is removed")
        else:
            deciding = [n for n in entry.changed if n in BILLING_FIELDS or n.startswith("blocked")]
            said = [f"{n} {arrow(*quoted(entry, n, q))}" for n in deciding]
            others = [n for n in entry.changed if n not in deciding]
            said += [f"also changed: {', '.join(others)}"] if others else []
            yield Item(f"rule {name}: {'; '.join(said)}")


def gate_items(diff: PackDiff, q: Quote) -> Iterable[Item]:
    for entry in diff.of_kind("gate"):
        if entry.status == ADDED:
            assert entry.new is not None
            yield Item(f"new gate {q(entry.key)}: no code bills unless {q(entry.new['condition'])} ({entry.new['reason']})")
        elif entry.status == REMOVED:
            yield Item(f"gate {q(entry.key)} is removed: it no longer stops any code")
        else:
            yield Item(f"gate {q(entry.key)}: " + "; ".join(f"{n} {arrow(*quoted(entry, n, q))}" for n in entry.changed))


def option_items(diff: PackDiff, q: Quote) -> Iterable[Item]:
    for entry in diff.of_kind("option"):
        old, new = sides(entry, "default")
        if entry.status == ADDED:
            yield Item(f"new option {q(entry.key)}, default {new}")
        elif entry.status == REMOVED:
            yield Item(f"option {q(entry.key)} is removed (its default was {old})")
        elif "default" in entry.changed:
            yield Item(f"{q(entry.key)} defaults to {new} (was {old})")


# --- in detail -------------------------------------------------------------------------------

def detail_blocks(diff: PackDiff, q: Quote) -> list[Block]:
    blocks = [Block("Parameters", tuple(parameter_item(p, q) for p in diff.parameters))]
    blocks += [Block(heading, tuple(entry_item(e, q) for e in diff.of_kind(kind))) for kind, heading in DETAIL_TITLES]
    return [block for block in blocks if block.items]


def parameter_item(parameter: ParameterDiff, q: Quote) -> Item:
    types = parameter.old_type if parameter.old_type == parameter.new_type else arrow(parameter.old_type, parameter.new_type)
    status = f", {parameter.status}" if parameter.status != CHANGED else ""
    in_force = arrow(in_force_words(parameter.old_in_force), in_force_words(parameter.new_in_force))
    return Item(f"{q(parameter.name)} ({types}{status}), in force: {in_force}", tuple(dated_words(d) for d in parameter.dated))


def dated_value_words(value: DatedValue) -> str:
    return f"{value.words} (confidence {value.confidence or 'not given'}; {value.citation or 'no citation'})"


def dated_words(change: DatedChange) -> str:
    status = ADDED if change.old is None else REMOVED if change.new is None else ""
    return f"from {change.effective}{tag(status)}: " + arrow(dated_value_words(change.old) if change.old else None,
                                                            dated_value_words(change.new) if change.new else None)


def entry_item(entry: EntryDiff, q: Quote) -> Item:
    return Item(f"{q(entry.key)}{tag(entry.status)}",
                tuple(f"{name}: {arrow(*quoted(entry, name, q))}" for name in entry.changed))


# --- layouts ---------------------------------------------------------------------------------

def render_text(diff: PackDiff) -> str:
    lines = [title(diff), f"  from: {about(diff.old)}", f"  to:   {about(diff.new)}"]
    for heading, blocks in parts(diff, lambda text: text):
        lines += ["", heading.upper()]
        for block in blocks:
            lines += ["", block.title] if block.title else [""]
            lines += [line for item in block.items for line in (f"  - {item.line}", *(f"      {d}" for d in item.details))]
            lines += aligned((block.header, *block.rows)) if block.rows else []
    return "\n".join(lines) + "\n"


def aligned(rows: tuple[tuple[str, ...], ...]) -> list[str]:
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    return ["  " + "  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in rows]


def render_markdown(diff: PackDiff) -> str:
    lines = [f"# {title(diff)}", "", f"- **from:** {about(diff.old)}", f"- **to:** {about(diff.new)}"]
    for heading, blocks in parts(diff, lambda text: f"`{text}`"):
        lines += ["", f"## {heading}"]
        for block in blocks:
            lines += ["", f"### {block.title}", ""] if block.title else [""]
            lines += [line for item in block.items for line in (f"- {item.line}", *(f"  - {d}" for d in item.details))]
            if block.rows:
                lines += [table_row(block.header), table_row(tuple("---" for _ in block.header))]
                lines += [table_row(row) for row in block.rows]
    return "\n".join(lines) + "\n"


def table_row(cells: tuple[str, ...]) -> str:
    return "| " + " | ".join(cells) + " |"

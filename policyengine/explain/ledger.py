"""The time ledger: every listed item in date order, counted or not and why, with a
running total and the totals at which the pack decides differently.

What feeds a total, and through which filters, is the pack's analysis (`Tally`); which
item each filter kept, and the condition that dropped the others, is in the full trace;
which running total earns which code is the engine's what-if, with the pack's own rules
and resolver. Nothing here names a code, a threshold or a field.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .. import pointers
from ..engine.failures import EvaluationFailed
from ..engine.lines import reason
from ..engine.recorded import Entry
from ..engine.resolve import Met, Outcome
from ..engine.whatif import WhatIf, WhatIfUnavailable
from ..packs.analysis import Condition, Tally, Term, field_value, lacking
from ..packs.model import CompiledPack
from ..packs.slots import DEFINITION
from .model import Crossing, Ledger, LedgerRow, clock, short_value

#: the outcomes of the pack at a running total (and options in force)
Decide = Callable[..., dict[str, Outcome]]


@dataclass
class _Item:
    """One listed record, as the ledger follows it through a total's terms."""

    pointer: str
    record: dict
    field: str
    order: int
    counted: bool = False
    dropped: tuple[str, Condition] | None = None
    not_added: str | None = None


def build_ledger(pack: CompiledPack, tally: Tally, entries: Mapping[str, Entry], options: dict,
                 whatif: WhatIf | None, failed_gates: list[str]) -> Ledger | None:
    entry = entries.get(str(tally.slot))
    if entry is None:
        return None
    items: dict[str, _Item] = {}
    not_added = []
    for term in tally.terms:
        why = _not_added(term, entry)
        if why is not None:
            not_added.append(f"{_term_name(term)}: {why}")
        for item, dropped in _follow(term, entries, items):
            if dropped is None and why is None:
                item.counted, item.dropped, item.not_added = True, None, None
            elif not item.counted and item.dropped is None and item.not_added is None:
                item.dropped, item.not_added = dropped, why
    rows = [_row(item, tally, options) for item in sorted(items.values(), key=lambda i: (i.record.get("date") or "", i.order))]
    ledger = Ledger(tally.definition, entry.expression, 0, rows, None, None, not_added, failed_gates)
    _run(ledger, tally, whatif)
    return ledger


def _term_name(term: Term) -> str:
    last = term.source.filters[-1] if term.source.filters else None
    return last.slot.owner if last is not None and last.slot.kind == DEFINITION else term.text


def _not_added(term: Term, entry: Entry) -> str | None:
    """None when every `if` around the sum took the branch that adds it, else why not:
    the condition and the value it had."""
    for node, wanted, text in term.guards:
        got = entry.parts.get(node)
        if got is None:
            return f"{text} is not evaluated"
        if got is not wanted:
            return f"{text} is {short_value(got)}"
    return None


def _follow(term: Term, entries: Mapping[str, Entry], items: dict[str, _Item]
            ) -> list[tuple[_Item, tuple[str, Condition] | None]]:
    """The term's source records, each with the first filter (and condition) that dropped
    it on the way to the sum, or None when it reached the sum."""
    source = term.source
    base = entries.get(str(source.slot))
    records = None if base is None else base.value if source.node == 0 else base.parts.get(source.node)
    if not isinstance(records, list):
        return []
    prefix = pointers.join("", source.fact)
    dropped: dict[str, tuple[str, Condition] | None] = {}
    for i, record in enumerate(records):
        pointer = pointers.join(prefix, i)
        items.setdefault(pointer, _Item(pointer, record if isinstance(record, dict) else {}, term.field, len(items)))
        dropped[pointer] = None
    for flt in source.filters:
        filtered = entries.get(str(flt.slot))
        traced = next((f for f in filtered.filters if f["node"] == flt.node), None) if filtered is not None else None
        for row in (traced or {}).get("items", ()):
            if row["pointer"] in dropped and dropped[row["pointer"]] is None and not row["kept"]:
                condition = flt.condition(row["dropped_by"]["node"]) if row["dropped_by"] else None
                dropped[row["pointer"]] = (flt.slot.owner, condition or Condition(-1, flt.text, (), (), (), ()))
    return [(items[pointer], why) for pointer, why in dropped.items()]


def _row(item: _Item, tally: Tally, options: dict) -> LedgerRow:
    record = item.record
    seconds = record.get(item.field)
    row = LedgerRow(item.pointer, record.get("id"), record.get("date"), seconds if isinstance(seconds, int) else None,
                    item.counted, None, None, False, 0)
    if item.counted:
        return row
    if item.dropped is not None:
        owner, condition = item.dropped
        row.excluded_in, row.excluded_by = owner, condition.text
        row.documentation_gap = bool(condition.documents)
        row.missing_fields = lacking(record, condition.documents)
        row.looked_at = [f"{path} = {short_value(field_value(record, path))}" for path in condition.looks_at] + \
                        [f"options.{name} = {short_value(options.get(name))}" for name in condition.options]
    else:
        row.excluded_in, row.excluded_by = tally.definition, item.not_added
    return row



# --- running totals and what they earn ------------------------------------------------------------

def _signature(outcomes: dict[str, Outcome]) -> tuple:
    """What a crossing is a change of: each rule's billed units, and whether it is met."""
    return tuple((rule_id, o.units, o.earned) for rule_id, o in outcomes.items())


def _run(ledger: Ledger, tally: Tally, whatif: WhatIf | None) -> None:
    """Running totals, and where the pack decides differently (none when a gate failed)."""
    running = 0
    for row in ledger.rows:
        if row.counted and row.seconds:
            running += row.seconds
        row.running = running
    ledger.total = running
    if whatif is None or ledger.failed_gates:
        return

    def decide(seconds: int, **options: Any) -> dict[str, Outcome]:
        return whatif.outcomes({tally.definition: seconds}, options)

    try:
        low = 0
        for row in ledger.rows:
            if not row.counted or not row.seconds:
                continue
            high = row.running
            while _signature(decide(low)) != _signature(decide(high)):
                at = _first_change(decide, low, high)
                row.crossings.append(_crossing(decide(low), decide(at), at))
                low = at
            low = high
        _cap(ledger, tally, whatif, decide)
    except (WhatIfUnavailable, EvaluationFailed) as error:
        for row in ledger.rows:
            row.crossings = []
        ledger.unavailable = str(error)


def _first_change(decide: Decide, low: int, high: int, **options: Any) -> int:
    """The least total in (low, high] decided differently from `low` (one exists)."""
    start = _signature(decide(low, **options))
    while high - low > 1:
        mid = (low + high) // 2
        if _signature(decide(mid, **options)) != start:
            high = mid
        else:
            low = mid
    return high


def _crossing(before: dict[str, Outcome], after: dict[str, Outcome], seconds: int) -> Crossing:
    earned = [f"{o.rule.code} x{o.units}" for rule_id, o in after.items() if o.billed and before[rule_id].units != o.units]
    replaced = [o.rule.code for rule_id, o in before.items() if o.billed and not after[rule_id].billed]
    reached = [f"{o.rule.code} is met but not billed: {reason(o)}" for rule_id, o in after.items()
               if not o.billed and o.earned and not before[rule_id].earned]
    left = [o.rule.code for rule_id, o in before.items() if o.earned and not after[rule_id].earned and not o.billed]
    return Crossing(seconds, clock(seconds), earned, replaced, reached, left)


def _cap(ledger: Ledger, tally: Tally, whatif: WhatIf, decide: Decide) -> None:
    """Where a limit stops further units: an option the rules' units read (the totals at
    which lifting it would bill more), or a code's max_units (where it caps)."""
    total = ledger.total
    if total <= 0:
        return
    pack = whatif.pack
    for rule in (r for r in pack.rules if r.id in tally.rules and r.units is not None):
        for name in sorted(pack.analysis.reads[rule.slots.units].options):
            unbounded = {name: 10 ** 6}

            def lifted(total: int, unbounded: dict = unbounded) -> bool:
                """Whether lifting the option would bill more at this total."""
                return _signature(decide(total, **unbounded)) != _signature(decide(total))

            if pack.options[name].type == "int" and lifted(total):
                ledger.cap = f"options.{name} = {whatif.state.options[name]}"
                ledger.cap_seconds = _least(lifted, total)
                break
        if ledger.cap is None and _is_capped(decide(total)[rule.id]):
            ledger.cap = f"{rule.code} max_units = {pack.codes[rule.code].max_units}"

            def capped(total: int, rule_id: str = rule.id) -> bool:
                return _is_capped(decide(total)[rule_id])

            ledger.cap_seconds = _least(capped, total)
    for row in ledger.rows:
        row.capped = ledger.cap_seconds is not None and row.counted and row.running >= ledger.cap_seconds


def _is_capped(outcome: Outcome) -> bool:
    return isinstance(outcome.cause, Met) and outcome.cause.capped_from is not None


def _least(holds: Callable[[int], bool], high: int) -> int:
    """The least t in (0, high] for which `holds` (true at `high`, false at 0) is true."""
    low = 0
    while high - low > 1:
        mid = (low + high) // 2
        if holds(mid):
            high = mid
        else:
            low = mid
    return high

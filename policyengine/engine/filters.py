"""Which items a filter kept, and for each one it dropped, the condition that dropped it.

From a full reading's per-item values (`lang/recorder.py`): for `interactions where a and b and c`,
an interaction dropped by `b` is reported with `b` (the first of the conditions that was
false, `nodes.conjuncts`), so an explanation can say "not counted: not two-way" for every
excluded interaction. Linear in the number of items.
"""
from __future__ import annotations

from collections.abc import Mapping

from .. import pointers
from ..lang import NOT_EVALUATED, CompiledExpression, Filter, Recording


def pointers_by_identity(facts: Mapping) -> dict[int, str]:
    """JSON pointers of the records in the facts' lists (and in lists inside those records),
    keyed by the record's id(): a filter over a definition (a list computed earlier) still
    names the facts it kept."""
    found: dict[int, str] = {}
    for key, value in facts.items():
        if isinstance(value, list):
            _index_records(value, pointers.join("", key), found, depth=2)
    return found


def _index_records(items: list, pointer: str, found: dict[int, str], depth: int) -> None:
    for i, item in enumerate(items):
        if isinstance(item, dict):
            item_pointer = pointers.join(pointer, i)
            found[id(item)] = item_pointer
            if depth > 1:
                for key, value in item.items():
                    if isinstance(value, list) and value and isinstance(value[0], dict):
                        _index_records(value, pointers.join(item_pointer, key), found, depth - 1)


def _dropped_by(flt: Filter, values: list) -> dict[int, dict]:
    """Item number -> the first of the filter's conditions that was false for it (one
    reason object per condition, shared by the items it dropped). A condition's values are
    one per item (`ByItem`): the filter is outside every predicate."""
    found: dict[int, dict] = {}
    for k, text in flt.conditions:
        got = values[k]
        if got is NOT_EVALUATED:
            continue
        reason = {"node": k, "expr": text}
        for i, value in enumerate(got):
            if value is False and i not in found:
                found[i] = reason
    return found


def filters(expression: CompiledExpression, recording: Recording, known: dict[int, str]) -> list[dict]:
    """For each top-level `where` evaluated: every item's pointer, kept or not, and the
    condition that dropped it (node number and text).

    `known`: pointers of fact records by identity (see `pointers_by_identity`)."""
    out = []
    values = recording.values
    for flt in expression.filters:
        items, kept_items = values[flt.items], values[flt.node]
        if not isinstance(items, list) or not isinstance(kept_items, list):
            continue  # not evaluated
        kept_ids = {id(item) for item in kept_items}
        dropped = _dropped_by(flt, values) if len(kept_ids) < len(items) else {}
        rows = [{"pointer": known.get(id(item)), "kept": (kept := id(item) in kept_ids),
                 "dropped_by": None if kept else dropped.get(i) or {"node": flt.predicate[0], "expr": flt.predicate[1]}}
                for i, item in enumerate(items)]
        out.append({"node": flt.node, "filter": flt.text, "items": rows})
    return out

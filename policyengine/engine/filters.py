"""Which items a filter kept, and for each one it dropped, the condition that dropped it.

From a full reading's per-item values (`lang/recorder.py`): for `interactions where a and b and c`,
an interaction dropped by `b` is reported with `b` (the first of the conditions that was
false, `nodes.conjuncts`), so an explanation can say "not counted: not two-way" for every
excluded interaction. Linear in the number of items.
"""
from __future__ import annotations

from collections.abc import Mapping

from .. import pointers
from ..lang import NOT_EVALUATED, CompiledExpression, Recording


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
        by_item: list[tuple[int, str, dict]] | None = None  # each condition's values by item path, once needed
        rows: list[dict] = []
        for i, item in enumerate(items):
            if id(item) in kept_ids:
                rows.append({"pointer": known.get(id(item)), "kept": True, "dropped_by": None})
                continue
            if by_item is None:
                by_item = [(k, text, dict(got) if (got := values[k]) is not NOT_EVALUATED else {})
                           for k, text in flt.conditions]
            number, text = next(((k, text) for k, text, got in by_item if got.get((i,)) is False), flt.predicate)
            rows.append({"pointer": known.get(id(item)), "kept": False, "dropped_by": {"node": number, "expr": text}})
        out.append({"node": flt.node, "filter": flt.text, "items": rows})
    return out

"""Which items a filter kept, and for each one it dropped, the condition that dropped it.

From a full reading's per-item values (`lang/recorder.py`): for `interactions where a and b and c`,
an interaction dropped by `b` is reported with `b` (the first of the conditions that was
false, `nodes.conjuncts`), so an explanation can say "not counted: not two-way" for every
excluded interaction. Linear in the number of items.
"""
from __future__ import annotations

from typing import Any

from .. import pointers
from ..lang import NOT_EVALUATED, CompiledExpression, Recording, nodes


def pointers_by_identity(facts: dict) -> dict[int, str]:
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


def _by_item(recording: Recording, k: int) -> dict[tuple[int, ...], Any]:
    """The values node k had inside a predicate, by item path."""
    values = recording.values[k]
    return dict(values) if values is not NOT_EVALUATED else {}


def filters(expression: CompiledExpression, recording: Recording, known: dict[int, str]) -> list[dict]:
    """For each top-level `where` evaluated: every item's pointer, kept or not, and the
    condition that dropped it (node number and text).

    `known`: pointers of fact records by identity (see `pointers_by_identity`)."""
    out = []
    index = expression.index
    for k in expression.filter_nodes:
        node = expression.nodes[k]
        assert isinstance(node, nodes.Where)
        items, kept_items = recording.values[index[id(node.items)]], recording.values[k]
        if not isinstance(items, list) or not isinstance(kept_items, list):
            continue  # not evaluated
        kept_ids = {id(item) for item in kept_items}
        conditions = [(index[id(c)], c, _by_item(recording, index[id(c)])) for c in nodes.conjuncts(node.predicate)]
        rows = []
        for i, item in enumerate(items):
            kept = id(item) in kept_ids
            dropped = None
            if not kept:
                number, condition = next(((j, c) for j, c, values in conditions if values.get((i,)) is False),
                                         (index[id(node.predicate)], node.predicate))
                dropped = {"node": number, "expr": condition.span.text if condition.span else ""}
            rows.append({"pointer": known.get(id(item)), "kept": kept, "dropped_by": dropped})
        out.append({"node": k, "filter": node.span.text if node.span else "", "items": rows})
    return out

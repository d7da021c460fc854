"""Which items a filter kept, and for each one it dropped, the condition that dropped it.

From the recording interpreter's per-item values: for `interactions where a and b and c`,
an interaction dropped by `b` is reported with `b` (the first operand that was false), so
an explanation can say "not counted: not two-way" for every excluded interaction.
"""
from __future__ import annotations

from ..lang import CompiledExpression, Trace, nodes
from ..lang.interpreter import Recording


def _text(node: nodes.Node) -> str:
    span = node.span
    return " ".join(span.source.text[span.start:span.end].split()) if span is not None else ""


def _value_at(recording: Recording, index: dict[int, int], node: nodes.Node, path: tuple[int, ...]):
    for item_path, value in recording.values[index[id(node)]] or ():
        if item_path == path:
            return value
    return None


def _dropped_by(recording: Recording, index: dict[int, int], predicate: nodes.Node, path: tuple[int, ...]) -> str:
    if isinstance(predicate, nodes.Logical) and predicate.op == "and":
        for operand in predicate.operands:
            if _value_at(recording, index, operand, path) is False:
                return _text(operand)
    return _text(predicate)


def pointers_by_identity(facts: dict) -> dict[int, str]:
    """JSON pointers of the records in the facts' lists (and in lists inside those records),
    keyed by the record's id(): a filter over a definition (a list computed earlier) still
    names the facts it kept."""
    found: dict[int, str] = {}
    for key, value in facts.items():
        if isinstance(value, list):
            _index_records(value, f"/{_escape(key)}", found, depth=2)
    return found


def _index_records(items: list, pointer: str, found: dict[int, str], depth: int) -> None:
    for i, item in enumerate(items):
        if isinstance(item, dict):
            item_pointer = f"{pointer}/{i}"
            found[id(item)] = item_pointer
            if depth > 1:
                for key, value in item.items():
                    if isinstance(value, list) and value and isinstance(value[0], dict):
                        _index_records(value, f"{item_pointer}/{_escape(key)}", found, depth - 1)


def _escape(key: str) -> str:
    return key.replace("~", "~0").replace("/", "~1") if ("~" in key or "/" in key) else key


def filters(expression: CompiledExpression, trace: Trace, known: dict[int, str]) -> list[dict]:
    """For each top-level `where` evaluated: every item's pointer, kept or not, and why not.

    `known`: pointers of fact records by identity (see `pointers_by_identity`)."""
    recording = trace.details()
    index = {id(node): k for k, node in enumerate(expression.nodes)}
    out = []
    for k, node in enumerate(expression.nodes):
        if not isinstance(node, nodes.Where) or k not in range(len(recording.values)):
            continue
        items = recording.values[index[id(node.items)]]
        kept_items = recording.values[k]
        if not isinstance(items, list) or not isinstance(kept_items, list):
            continue
        kept_ids = {id(item) for item in kept_items}
        rows = []
        for i, item in enumerate(items):
            kept = id(item) in kept_ids
            rows.append({"pointer": known.get(id(item)), "kept": kept,
                         "dropped_by": None if kept else _dropped_by(recording, index, node.predicate, (i,))})
        out.append({"filter": _text(node), "items": rows})
    return out

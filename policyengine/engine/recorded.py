"""A decision's full trace read back into the values it was made from.

The tracer (`tracing.py`) writes the trace; this module is its reader, so the format has
one owner. With the state it returns, an explanation runs the same resolver and the same
what-if as the engine did, on the same values, without the facts.

A record of one of the facts' lists (an interaction, a transmission of a device...) is
written once, under the trace's `records` by its JSON pointer, and inside a value as
`{"$ref": pointer}` (engine 0.3.0 on; before, every value repeated the records it held,
which made a month of 1,000 interactions a 9 MB trace). `resolved_trace` gives the trace
with every reference replaced by its record, so its readers see values as they were; the
trace as written (`full_trace`) serves those that read no values (verify).

An entry's parts are one array aligned with its expression's part table (engine 0.6.0 on;
before, a `{"node", "expr", "value"}` object per part, which this reader still reads).
`traced_entries` reads either into typed `Entry` records, the parts by node number: the
recorded state here, the explanation's ledgers, day counts and steps, and verify read
entries only through it.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..packs.model import CompiledPack
from ..packs.plan import ACTUAL, REQUIRED, RulePlan, RuleStep
from ..packs.slots import definition_slot
from .parts import rule_parts
from .state import BilledElsewhere, Evaluated
from .values import from_json_value


#: the key of a reference to a record under the trace's `records`: {"$ref": "/interactions/3"}
REF = "$ref"
#: the key of a part the evaluation did not reach, in an entry's parts: {"$unevaluated": true}
UNEVALUATED = "$unevaluated"


def full_trace(decision: dict) -> dict | None:
    """The decision's full trace as written; None when it has another trace form."""
    trace = decision.get("trace")
    return trace if isinstance(trace, dict) and trace.get("form") == "full" else None


def resolved_trace(decision: dict) -> dict | None:
    """The decision's full trace, each record written by reference given in full; None
    when the decision has another trace form."""
    trace = full_trace(decision)
    if trace is None:
        return None
    records = trace.get("records")
    if not isinstance(records, dict) or not records:
        return trace
    return dict(trace, entries=[_resolved_entry(entry, records) for entry in trace.get("entries", ())])


def _resolved_entry(entry: dict, records: dict) -> dict:
    return dict(entry, value=resolved(entry.get("value"), records),
                parts=[resolved(part, records) for part in entry.get("parts", ())])


def resolved(value: Any, records: dict) -> Any:
    """A traced value with each reference (a one-key object {"$ref": pointer} naming a
    record of `records`) replaced by the record, itself resolved."""
    if isinstance(value, list):
        return [resolved(item, records) for item in value]
    if isinstance(value, dict):
        if len(value) == 1 and isinstance(value.get(REF), str) and value[REF] in records:
            return resolved(records[value[REF]], records)
        return {key: resolved(item, records) for key, item in value.items()}
    return value


@dataclass(frozen=True)
class Entry:
    """One evaluation a full trace recorded, as every reader uses it."""

    slot: str
    #: the expression's text (what an auditor reads; no reader looks a value up by it)
    expression: str
    value: Any
    #: the value of each part evaluated, by node number: the trace's array read through the
    #: expression's part table (`CompiledExpression.part_nodes`) of the pack that made the
    #: decision; empty without that pack
    parts: Mapping[int, Any]
    reads: tuple[str, ...]
    filters: tuple[dict, ...]


def read_entries(trace: dict | None, pack: CompiledPack | None) -> list[Entry]:
    """The trace's entries in order (none without a full trace). `pack` must be the pack
    the decision was made with (its sha256): its part tables name the parts' values."""
    return [_entry(entry, pack) for entry in (trace or {}).get("entries", ())]


def traced_entries(trace: dict | None, pack: CompiledPack | None) -> dict[str, Entry]:
    """The trace's entries by slot (`read_entries`)."""
    return {entry.slot: entry for entry in read_entries(trace, pack)}


def _entry(entry: dict, pack: CompiledPack | None) -> Entry:
    parts: Any = entry.get("parts") or []
    if all(isinstance(part, dict) and part.keys() == _OLD_PART for part in parts) and parts:
        by_node = {part["node"]: part["value"] for part in parts}  # engine 0.5.0 and before: a dict per part
    else:
        slot = pack.slot_named.get(entry["slot"]) if pack is not None else None
        table = pack.expressions[slot].part_nodes if slot is not None and pack is not None else ()
        by_node = {k: value for (k, _), value in zip(table, parts)
                   if not (isinstance(value, dict) and len(value) == 1 and value.get(UNEVALUATED) is True)}
    return Entry(entry["slot"], entry["expression"], entry.get("value"), by_node, tuple(entry.get("reads", ())),
                 tuple(entry.get("filters", ())))


#: the keys of a part as engines up to 0.5.0 wrote it ({"node": 3, "expr": "...", "value": ...})
_OLD_PART = {"node", "expr", "value"}


def recorded_state(pack: CompiledPack, decision: dict, trace: dict | None) -> Evaluated | None:
    """The values of a decision made with `pack`, from its full trace as `resolved_trace`
    gives it; None when the decision has no full trace or was made with another pack
    (another sha256)."""
    if trace is None or (decision.get("pack") or {}).get("sha256") != pack.sha256:
        return None
    entries = traced_entries(trace, pack)

    def value(slot: Any, kind: Any = None) -> Any:
        entry = entries.get(str(slot))
        if entry is None:
            return None
        return from_json_value(entry.value, kind) if kind is not None else entry.value

    definitions = {name: value(definition_slot(name), e.type) for name, e in pack.definitions
                   if str(definition_slot(name)) in entries}
    gates = {gate.id: bool(value(gate.slot)) for gate in pack.gates if str(gate.slot) in entries}
    parts = {rule.id: rule_parts(rule, plan, lambda step: value(step.site.slot, _kind(step)))
             for rule, plan in zip(pack.rules, pack.plan.rules) if _reached(plan, entries)}
    elsewhere = tuple(BilledElsewhere(item["code"], item["practitioner"], item["other_practitioner"], item["pointer"])
                      for item in trace.get("billed_elsewhere", ()))
    return Evaluated(None, dict(decision.get("options") or {}), dict(trace.get("service_dates") or {}), definitions,
                     gates, parts, elsewhere)


def _reached(plan: RulePlan, entries: Mapping[str, Entry]) -> bool:
    """Whether the evaluation reached the rule: it did unless a gate stopped every code, and
    then it left an entry for the rule's first step."""
    return str(plan.steps[0].site.slot) in entries


def _kind(step: RuleStep) -> Any:
    """The type a trace's value of the step is read back as: the line's values by their
    expressions' types; conditions and units as written."""
    return step.site.expression.type if step.role in (ACTUAL, REQUIRED) else None

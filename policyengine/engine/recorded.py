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
"""
from __future__ import annotations

from typing import Any

from ..packs.model import CompiledPack
from ..packs.plan import ACTUAL, REQUIRED, RulePlan, RuleStep
from ..packs.slots import definition_slot
from .parts import rule_parts
from .state import BilledElsewhere, Evaluated
from .values import from_json_value


#: the key of a reference to a record under the trace's `records`: {"$ref": "/interactions/3"}
REF = "$ref"


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
                parts=[dict(part, value=resolved(part.get("value"), records)) for part in entry.get("parts", ())])


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


def entries_by_slot(trace: dict) -> dict[str, dict]:
    return {entry["slot"]: entry for entry in trace.get("entries", ())}


def recorded_state(pack: CompiledPack, decision: dict, trace: dict | None) -> Evaluated | None:
    """The values of a decision made with `pack`, from its full trace as `resolved_trace`
    gives it; None when the decision has no full trace or was made with another pack
    (another sha256)."""
    if trace is None or (decision.get("pack") or {}).get("sha256") != pack.sha256:
        return None
    entries = entries_by_slot(trace)

    def value(slot: Any, kind: Any = None) -> Any:
        entry = entries.get(str(slot))
        if entry is None:
            return None
        return from_json_value(entry["value"], kind) if kind is not None else entry["value"]

    definitions = {name: value(definition_slot(name), e.type) for name, e in pack.definitions
                   if str(definition_slot(name)) in entries}
    gates = {gate.id: bool(value(gate.slot)) for gate in pack.gates if str(gate.slot) in entries}
    parts = {rule.id: rule_parts(rule, plan, lambda step: value(step.site.slot, _kind(step)))
             for rule, plan in zip(pack.rules, pack.plan.rules) if _reached(plan, entries)}
    elsewhere = tuple(BilledElsewhere(item["code"], item["practitioner"], item["other_practitioner"], item["pointer"])
                      for item in trace.get("billed_elsewhere", ()))
    return Evaluated(None, dict(decision.get("options") or {}), dict(trace.get("service_dates") or {}), definitions,
                     gates, parts, elsewhere)


def _reached(plan: RulePlan, entries: dict[str, dict]) -> bool:
    """Whether the evaluation reached the rule: it did unless a gate stopped every code, and
    then it left an entry for the rule's first step."""
    return str(plan.steps[0].site.slot) in entries


def _kind(step: RuleStep) -> Any:
    """The type a trace's value of the step is read back as: the line's values by their
    expressions' types; conditions and units as written."""
    return step.site.expression.type if step.role in (ACTUAL, REQUIRED) else None

"""A decision's full trace read back into the values it was made from.

The tracer (`tracing.py`) writes the trace; this module is its reader, so the format has
one owner. With the state it returns, an explanation runs the same resolver and the same
what-if as the engine did, on the same values, without the facts.
"""
from __future__ import annotations

from typing import Any

from ..packs.model import CompiledPack, Rule
from ..packs.slots import definition_slot
from .state import BilledElsewhere, Evaluated, RuleParts
from .values import from_json_value


def full_trace(decision: dict) -> dict | None:
    trace = decision.get("trace")
    return trace if isinstance(trace, dict) and trace.get("form") == "full" else None


def entries_by_slot(trace: dict) -> dict[str, dict]:
    return {entry["slot"]: entry for entry in trace.get("entries", ())}


def recorded_state(pack: CompiledPack, decision: dict) -> Evaluated | None:
    """The values of a decision made with `pack`, from its full trace; None when the
    decision has no full trace or was made with another pack (another sha256)."""
    trace = full_trace(decision)
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
    parts = {rule.id: got for rule in pack.rules if (got := _parts(rule, entries, value)) is not None}
    elsewhere = tuple(BilledElsewhere(item["code"], item["practitioner"], item["other_practitioner"], item["pointer"])
                      for item in trace.get("billed_elsewhere", ()))
    return Evaluated(None, dict(decision.get("options") or {}), dict(trace.get("service_dates") or {}), definitions,
                     gates, parts, elsewhere)


def _parts(rule: Rule, entries: dict[str, dict], value: Any) -> RuleParts | None:
    s = rule.slots
    if not any(str(slot) in entries for slot in (*s.blocked, s.when)):
        return None  # not evaluated: a gate stopped every code
    for i, slot in enumerate(s.blocked):
        if value(slot) is True:
            return RuleParts(i, False, None, None, 0)
    met = bool(value(s.when))
    actual = value(s.actual, rule.actual.type) if rule.actual is not None else None
    required = value(s.required, rule.required.type) if rule.required is not None else None
    units = (value(s.units) if rule.units is not None else 1) if met else 0
    return RuleParts(None, met, actual, required, units)

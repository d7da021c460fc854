"""Building an `Explanation` from a decision, its trace and its pack.

With a full trace the explanation reads the values the decision was made from back out
of it (`engine.recorded`) and asks the engine's own resolver and what-if what they mean:
the outcome of each rule, the running totals at which a code is earned, whether missing
documentation would unlock one. Everything else it knows of a rule (which filters feed a
total, which condition is a documentation requirement) is the pack's analysis. With a
compact trace, or none, it says which sections need the full trace and shows the rest.
"""
from __future__ import annotations

from typing import Any

from ..engine.recorded import Entry, read_entries, recorded_state, resolved_trace
from ..engine.resolve import resolve
from ..engine.whatif import WhatIf
from ..lang import DURATION, CompiledExpression, ListOf
from ..packs.model import CompiledPack
from ..pointers import array_index, document_order, tokens
from .codes import code_line, disagreements, documentation_gaps, outcome_line, unlock_fields
from .ledger import build_ledger
from .model import (INTERACTIONS, OTHER_FACTS, SOURCE_GROUPS, TRANSMISSION_DAYS, DayCount, Explanation, FindingLine, OptionUse,
                    PackInfo, ParameterUse, Part, SourceLine, Step, short_value)

#: the facts' lists whose items a source row can name (from the full trace), and their groups
SOURCE_LISTS = {"transmission_days": TRANSMISSION_DAYS, "interactions": INTERACTIONS}
FULL_TRACE_SECTIONS = ("time ledger", "days counted", "derivation (values of each part)",
                       "documentation fields that would unlock a code")


def pack_info(decision: dict, pack: CompiledPack | None, source: str) -> PackInfo:
    named = decision.get("pack") or {}
    pid, version, sha = named.get("id", "?"), named.get("version", "?"), named.get("sha256", "?")
    if pack is None:
        return PackInfo(pid, version, sha, False, source,
                        f"pack {pid} {version} (sha256 {sha[:12]}) is not available here: citations, "
                        f"descriptors and parameter details are left out; give it with --pack")
    if pack.sha256 != sha or pack.id != pid:
        return PackInfo(pid, version, sha, False, source,
                        f"the pack used here ({pack.id} {pack.version}, {source}, sha256 {pack.sha256[:12]}) "
                        f"is NOT the pack this decision was made with ({pid} {version}, sha256 {sha[:12]}): "
                        f"descriptors and citations below come from a different pack content")
    return PackInfo(pid, version, sha, True, source, None)


def build_explanation(decision: dict, pack: CompiledPack | None = None, source: str = "bundled") -> Explanation:
    info = pack_info(decision, pack, source)
    recorded = decision.get("trace")
    resolved = resolved_trace(decision)
    trace: dict = resolved or (recorded if isinstance(recorded, dict) else {})
    form = str(trace.get("form", "none"))
    codes = [code_line(line, pack) for line in decision.get("billable", ()) + decision.get("not_billable", ())]
    ex = Explanation(decision.get("patient_id", "?"), decision.get("month", "?"), info,
                     (decision.get("engine") or {}).get("version", "?"), decision.get("facts_sha256", "?"),
                     decision.get("total", "?"), form, codes, _findings(decision, pack), _options(decision, pack),
                     [], [], [], [], [] if form == "full" else list(FULL_TRACE_SECTIONS),
                     list(decision.get("opportunities", ())), list(decision.get("out_of_reach", ())))
    read = read_entries(resolved, pack if info.matches else None)
    entries = {entry.slot: entry for entry in read}
    ex.sources = _sources(trace, entries, pack if info.matches else None)
    state = recorded_state(pack, decision, resolved) if pack is not None and info.matches else None
    if pack is not None and state is not None:
        _from_full_trace(ex, decision, trace, read, pack, state)
    elif pack is not None and info.matches and form == "compact":
        ex.steps = _compact_steps(pack, trace)
    elif form == "full":
        ex.steps = _full_steps(None, read)
    return ex


def _from_full_trace(ex: Explanation, decision: dict, trace: dict, read: list[Entry], pack: CompiledPack,
                     state: Any) -> None:
    """The explanation's parts only a full trace gives; `trace` is the decision's, with
    its records given in full (`resolved_trace`), and `read` its entries read."""
    entries = {entry.slot: entry for entry in read}
    failed = state.failed_gate(pack)
    outcomes = resolve(pack, state.parts, failed, state.elsewhere)
    ex.disagreements = disagreements(decision, outcomes)
    lines = {line["rule"]: line for line in decision.get("billable", ()) + decision.get("not_billable", ())}
    ordered = [o for o in outcomes.values() if o.billed] + [o for o in outcomes.values() if not o.billed]
    ex.codes = [outcome_line(outcome, lines.get(outcome.rule.id), pack) for outcome in ordered]
    whatif = WhatIf(pack, state)
    failed_gates = [gate.id for gate in pack.gates if state.gates.get(gate.id) is False]
    for tally in pack.analysis.tallies:
        ledger = build_ledger(pack, tally, entries, dict(state.options), whatif, failed_gates)
        if ledger is not None:
            ex.ledgers.append(ledger)
    for count in pack.analysis.counts:
        entry = entries.get(str(count.slot))
        if entry is not None:
            listed = entry.parts.get(count.node) or []
            ex.day_counts.append(DayCount(count.definition, entry.expression, entry.value,
                                          [str(day) for day in listed or ()], list(count.rules), count.of_dates))
    for line in ex.codes:
        outcome = outcomes.get(line.rule)
        unlock_fields(line, outcome, entries)
        rule = pack.rules_by_id.get(line.rule)
        if rule is not None:
            documentation_gaps(line, rule, pack.analysis.actual_definitions.get(rule.id), ex.ledgers, whatif)
    ex.steps = _full_steps(pack, read)
    ex.parameters = [_parameter(p, pack) for p in trace.get("parameters", ())]


def _sources(trace: dict, entries: dict[str, Entry], pack: CompiledPack | None) -> list[SourceLine]:
    """The facts' provenance the trace repeats, a row per pointer: by group as the views
    show them (`SOURCE_GROUPS`), in document order within a group."""
    provenance = trace.get("sources") or {}
    listed = {name: _listed(entries, pack, name) for name in SOURCE_LISTS} if provenance and pack is not None else {}
    lines = [_source_line(pointer, records, listed) for pointer, records in provenance.items()]
    return sorted(lines, key=lambda line: (SOURCE_GROUPS.index(line.group), document_order(line.pointer)))


def _listed(entries: dict[str, Entry], pack: CompiledPack, name: str) -> list:
    """The facts' list `name` as the full trace shows it: the value of a part that reads
    the list, in an entry of the pack's ([] without a full trace, or when no rule read it)."""
    for entry in entries.values():
        slot = pack.slot_named.get(entry.slot)
        if slot is None or f"/{name}" not in entry.reads:
            continue
        expression = pack.expressions[slot]
        for k in expression.fact_nodes.get(name, ()):
            if isinstance(entry.parts.get(k), list):
                return entry.parts[k]
    return []


def _source_line(pointer: str, records: list, listed: dict[str, list]) -> SourceLine:
    """A source row, labelled as a reader knows the fact when it is an item of a traced
    list: a transmission day by its date, an interaction (a record) by its id and date."""
    at = tokens(pointer)
    items = listed.get(at[0], []) if at else []
    found = array_index(at[1]) if len(at) == 2 else None
    index = len(items) if found is None else found
    item = items[index] if index < len(items) else None
    if isinstance(item, dict):
        label: str | None = f"{item.get('id', '?')} on {item.get('date', '?')}"
    else:
        label = None if item is None else str(item)
    return SourceLine(SOURCE_LISTS.get(at[0] if at else "", OTHER_FACTS), pointer, label, [str(r) for r in records])


def _findings(decision: dict, pack: CompiledPack | None) -> list[FindingLine]:
    cited = {f.id: f.citation for f in pack.findings} if pack is not None else {}
    cited.update({c.id: c.citation for c in pack.conflicts.entries} if pack is not None else {})
    return [FindingLine(f["id"], f["severity"], f["message"], list(f["evidence"]), cited.get(f["id"]),
                        f.get("amount_at_stake"))
            for f in decision.get("findings", ())]


def _options(decision: dict, pack: CompiledPack | None) -> list[OptionUse]:
    out = []
    for name, value in (decision.get("options") or {}).items():
        meta = pack.options.get(name) if pack is not None else None
        out.append(OptionUse(name, short_value(value), short_value(meta.default) if meta else None,
                             meta.description if meta else None, meta.citation if meta else None))
    return out


def _full_steps(pack: CompiledPack | None, entries: list[Entry]) -> list[Step]:
    """Each evaluation with its parts, named by the pack's part tables (without the pack
    that made the decision, the parts cannot be named and are left out)."""
    steps = []
    for entry in entries:
        slot = pack.slot_named.get(entry.slot) if pack is not None else None
        expression = pack.expressions[slot] if pack is not None and slot is not None else None
        parts = [Part(text, short_value(entry.parts[k], _is_duration(expression, k)))
                 for k, text in (expression.part_nodes if expression is not None else ()) if k in entry.parts]
        steps.append(Step(entry.slot, entry.expression, short_value(entry.value, _is_duration(expression, 0)),
                          parts, list(entry.reads)))
    return steps


def _is_duration(expression: CompiledExpression | None, node: int) -> bool:
    """Whether node number `node` of the expression is a duration (or a list of them)."""
    return expression is not None and expression.checked.type_of(expression.nodes[node]) in (DURATION, ListOf(DURATION))


def _compact_steps(pack: CompiledPack, trace: dict) -> list[Step]:
    steps = []
    for slot, value in zip(pack.trace_slots, trace.get("values", ())):
        if value is not None:
            expression = pack.expressions[slot]
            steps.append(Step(str(slot), expression.line, short_value(value, expression.type == DURATION), [], []))
    return steps


def _parameter(used: dict, pack: CompiledPack) -> ParameterUse:
    meta = pack.parameters.get(used["name"])
    return ParameterUse(used["name"], used["effective"],
                        short_value(used["value"], meta is not None and meta.type == DURATION),
                        used.get("citation"), used.get("confidence"))

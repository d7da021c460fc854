"""What changed between two rule packs, as data (`policyengine diff OLD NEW`).

Next year's pack is reviewed as a list of changes before it ships. Both packs are compared
as compiled, so whatever a pack inherits through `extends:` counts as its own, and a
change restated in an overlay is no change. Expressions compare by their parsed trees (a
change of spacing or line breaks is none) and are shown by their text; values are shown
as the pack writes them ("20 min", "$33.4009").

A rate is RVU x conversion factor, rounded as a decision's line is (`engine.rates.rate_of`),
in force on the first day of each pack's effective range. A pack's conversion factor may
choose among amounts by the facts (2026: qualifying APM participants); the compiler bounds
each amount it reads as a conversion factor, and the rates are given at each of them.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ..engine.rates import rate_of
from ..engine.values import to_json_value
from ..lang import DURATION, MONEY, CompiledExpression, ListOf, Type, format_seconds
from ..packs.analysis import Reads
from ..packs.model import Code, CompiledPack, Conflict, Finding, Gate, Option, Parameter, Rule
from ..packs.slots import CONVERSION_FACTOR, DEFINITION

ADDED, REMOVED, CHANGED = "added", "removed", "changed"
#: the parts of a rule that decide whether, and how many units, its code bills
BILLING_PARTS = ("blocked", "when", "units")

#: an entry's fields by name: an expression (compared by its tree), text, or absent
Fields = dict[str, CompiledExpression | str | None]


@dataclass(frozen=True)
class PackSide:
    id: str
    version: str
    title: str
    fee_schedule_year: int
    effective_from: str
    effective_to: str
    chain: tuple[str, ...]
    sha256: str


@dataclass(frozen=True)
class Reach:
    """What a value decides: the codes whose rules read it to bill (blocked, when, units),
    directly or through definitions, and the gates (each stops every code) that read it."""

    codes: tuple[str, ...]
    gates: tuple[str, ...]


@dataclass(frozen=True)
class EntryDiff:
    """A code, rule, conflict, gate, finding, definition, option or the conversion factor
    added, removed or changed: its fields on each side as text (None where it is absent)
    and the names of those that differ."""

    kind: str
    key: str
    status: str
    old: Mapping[str, str] | None
    new: Mapping[str, str] | None
    changed: tuple[str, ...]
    #: the fields that are expressions (the rest are prose, codes and values)
    expressions: tuple[str, ...]
    #: what a definition decides (None for the other kinds)
    reach: Reach | None = None


@dataclass(frozen=True)
class DatedValue:
    effective: str
    #: the value as JSON data (decimals and money as text, durations in seconds)
    value: Any
    words: str
    citation: str | None
    confidence: str | None


@dataclass(frozen=True)
class DatedChange:
    """The dated value of one effective date on each side (None: that side has none)."""

    effective: str
    old: DatedValue | None
    new: DatedValue | None


@dataclass(frozen=True)
class ParameterDiff:
    name: str
    status: str
    old_type: str | None
    new_type: str | None
    #: the values in force over each pack's effective range: on its first day, then each later change
    old_in_force: tuple[DatedValue, ...]
    new_in_force: tuple[DatedValue, ...]
    dated: tuple[DatedChange, ...]
    #: what it decides in the new pack (in the old, when removed)
    reach: Reach


@dataclass(frozen=True)
class Rate:
    code: str
    old: Decimal | None
    new: Decimal | None


@dataclass(frozen=True)
class RateTable:
    """Every code's rate per unit at one amount the conversion factor reads (None: not in
    force on that day, or a code the pack does not have, or an RVU that reads the facts)."""

    basis: str
    old_factor: Decimal | None
    new_factor: Decimal | None
    rates: tuple[Rate, ...]


@dataclass(frozen=True)
class PackDiff:
    old: PackSide
    new: PackSide
    parameters: tuple[ParameterDiff, ...]
    rates: tuple[RateTable, ...]
    entries: tuple[EntryDiff, ...]

    @property
    def empty(self) -> bool:
        unchanged_rates = all(rate.old == rate.new for table in self.rates for rate in table.rates)
        return not self.parameters and not self.entries and unchanged_rates

    def of_kind(self, kind: str) -> tuple[EntryDiff, ...]:
        return tuple(entry for entry in self.entries if entry.kind == kind)


def diff_packs(old: CompiledPack, new: CompiledPack) -> PackDiff:
    entries = tuple(entry for kind, fields_of in ENTRY_KINDS
                    for entry in compare_entries(kind, fields_of(old), fields_of(new), old, new))
    return PackDiff(side(old), side(new), parameter_diffs(old, new), rate_tables(old, new), entries)


def side(pack: CompiledPack) -> PackSide:
    return PackSide(pack.id, pack.version, pack.title, pack.fee_schedule_year, pack.effective_from, pack.effective_to,
                    pack.chain, pack.sha256)


def in_order(first: Iterable[str], second: Iterable[str]) -> list[str]:
    """The keys of both sides: the first side's in its order, then the second's new ones."""
    return list(dict.fromkeys([*first, *second]))


# --- entries: each kind as fields ------------------------------------------------------------

def code_fields(code: Code) -> Fields:
    return {"descriptor": code.descriptor, "clock": code.clock, "rvu": code.rvu,
            "max units": str(code.max_units) if code.max_units is not None else None}


def rule_fields(rule: Rule) -> Fields:
    fields: Fields = {"code": rule.code, "condition": rule.when, "units": rule.units, "actual": rule.actual,
                      "required": rule.required, "requires": ", ".join(rule.requires) or None}
    for number, blocker in enumerate(rule.blocked, 1):
        fields[f"blocked {number} condition"] = blocker.when
        fields[f"blocked {number} reason"] = blocker.reason
        fields[f"blocked {number} status"] = blocker.status
        fields[f"blocked {number} evidence"] = blocker.evidence
        fields[f"blocked {number} if documented"] = ", ".join(blocker.if_documented) or None
    fields.update({"reason met": rule.reason_met.source, "reason not met": rule.reason_not_met.source,
                   "citation": rule.citation})
    if rule.opportunity is not None:
        fields.update({"opportunity when": rule.opportunity.when, "opportunity missing": rule.opportunity.missing,
                       "opportunity by": rule.opportunity.by, "opportunity needed": rule.opportunity.needed})
    return fields


def conflict_fields(conflict: Conflict) -> Fields:
    return {"codes": ", ".join(conflict.codes), "keep": conflict.keep,
            "one practitioner": "yes" if conflict.one_practitioner else None,
            "description": conflict.description, "citation": conflict.citation}


def gate_fields(gate: Gate) -> Fields:
    return {"condition": gate.when, "status": gate.status, "reason": gate.reason,
            "if documented": ", ".join(gate.if_documented) or None, "citation": gate.citation}


def finding_fields(finding: Finding) -> Fields:
    return {"severity": finding.severity, "condition": finding.when, "message": finding.message,
            "evidence": finding.evidence, "citation": finding.citation}


def option_fields(option: Option) -> Fields:
    def words(value: Any) -> str | None:
        return value_words(value) if value is not None else None
    return {"type": option.type, "default": words(option.default),
            "allowed": ", ".join(value_words(v) for v in option.allowed) or None,
            "minimum": words(option.minimum), "maximum": words(option.maximum),
            "description": option.description, "citation": option.citation}


#: each kind of entry, and its entries' fields by key in a pack
ENTRY_KINDS: tuple[tuple[str, Callable[[CompiledPack], dict[str, Fields]]], ...] = (
    ("conversion factor", lambda pack: {"conversion_factor": {"expression": pack.conversion_factor}}),
    ("code", lambda pack: {c.code: code_fields(c) for c in pack.codes.values()}),
    ("rule", lambda pack: {r.id: rule_fields(r) for r in pack.rules}),
    ("conflict", lambda pack: {c.id: conflict_fields(c) for c in pack.conflicts.entries}),
    ("gate", lambda pack: {g.id: gate_fields(g) for g in pack.gates}),
    ("finding", lambda pack: {f.id: finding_fields(f) for f in pack.findings}),
    ("definition", lambda pack: {name: {"expression": e} for name, e in pack.definitions}),
    ("option", lambda pack: {o.name: option_fields(o) for o in pack.options.values()}),
)


def same(old: CompiledExpression | str | None, new: CompiledExpression | str | None) -> bool:
    if isinstance(old, CompiledExpression) and isinstance(new, CompiledExpression):
        return old.checked.root == new.checked.root
    return old == new


def field_texts(fields: Fields | None) -> dict[str, str] | None:
    if fields is None:
        return None
    return {name: value.line if isinstance(value, CompiledExpression) else value
            for name, value in fields.items() if value is not None}


def compare_entries(kind: str, old: dict[str, Fields], new: dict[str, Fields], old_pack: CompiledPack,
                    new_pack: CompiledPack) -> Iterable[EntryDiff]:
    for key in in_order(old, new):
        before, after = old.get(key), new.get(key)
        names = in_order(before or {}, after or {})
        changed = tuple(name for name in names if not same((before or {}).get(name), (after or {}).get(name)))
        if not changed:
            continue
        status = ADDED if before is None else REMOVED if after is None else CHANGED
        expressions = tuple(name for name in names
                            if any(isinstance(fields.get(name), CompiledExpression) for fields in (before or {}, after or {})))
        reach = None
        if kind == "definition":
            reach = reach_of(old_pack if after is None else new_pack, _reads_definition(key))
        yield EntryDiff(kind, key, status, field_texts(before), field_texts(after), changed, expressions, reach)


def _reads_definition(name: str) -> Callable[[Reads], bool]:
    return lambda reads: name in reads.definitions


def _reads_parameter(name: str) -> Callable[[Reads], bool]:
    return lambda reads: name in reads.params


def reach_of(pack: CompiledPack, reads_it: Callable[[Reads], bool]) -> Reach:
    """The codes and gates that read what `reads_it` says, directly or through definitions."""
    reads = pack.analysis.reads
    through = pack.analysis.changed_by(slot.owner for slot, r in reads.items() if slot.kind == DEFINITION and reads_it(r))

    def depends(slot: Any) -> bool:
        return reads_it(reads[slot]) or bool(reads[slot].definitions & through)
    codes = (rule.code for rule in pack.rules for slot, _ in rule.expressions() if slot.part in BILLING_PARTS and depends(slot))
    return Reach(tuple(dict.fromkeys(codes)), tuple(gate.id for gate in pack.gates if depends(gate.slot)))


# --- parameters --------------------------------------------------------------------------

def value_words(value: Any, kind: Type | None = None) -> str:
    """A value as a pack writes it: '20 min', '$33.4009', '[phone, video]', 'true'."""
    if kind == DURATION:
        return format_seconds(value)
    if kind == MONEY:
        return f"${value}"
    if isinstance(value, list):
        item = kind.item if isinstance(kind, ListOf) else None
        return "[" + ", ".join(value_words(v, item) for v in value) + "]"
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)


def dated_value(dated: tuple[str, Any, str | None, str | None], kind: Type) -> DatedValue:
    effective, value, citation, confidence = dated
    return DatedValue(effective, to_json_value(value), value_words(value, kind), citation, confidence)


def in_force(parameter: Parameter | None, pack: CompiledPack) -> tuple[DatedValue, ...]:
    """The values in force over the pack's effective range, on its first day and then each change."""
    if parameter is None:
        return ()
    first = parameter.at(pack.effective_from)
    later = [d for d in reversed(parameter.values) if pack.effective_from < d[0] <= pack.effective_to]
    return tuple(dated_value(d, parameter.type) for d in ([first] if first is not None else []) + later)


def dated_changes(old: Parameter | None, new: Parameter | None) -> tuple[DatedChange, ...]:
    before = {d[0]: dated_value(d, old.type) for d in old.values} if old is not None else {}
    after = {d[0]: dated_value(d, new.type) for d in new.values} if new is not None else {}
    return tuple(DatedChange(day, before.get(day), after.get(day))
                 for day in sorted(set(before) | set(after)) if before.get(day) != after.get(day))


def parameter_diffs(old: CompiledPack, new: CompiledPack) -> tuple[ParameterDiff, ...]:
    found = []
    for name in in_order(old.parameters, new.parameters):
        before, after = old.parameters.get(name), new.parameters.get(name)
        types = (str(before.type) if before else None, str(after.type) if after else None)
        old_in_force, new_in_force = in_force(before, old), in_force(after, new)
        dated = dated_changes(before, after)
        if types[0] == types[1] and not dated and [v.value for v in old_in_force] == [v.value for v in new_in_force]:
            continue
        status = ADDED if before is None else REMOVED if after is None else CHANGED
        reach = reach_of(old if after is None else new, _reads_parameter(name))
        found.append(ParameterDiff(name, status, *types, old_in_force, new_in_force, dated, reach))
    return tuple(found)


# --- rates -------------------------------------------------------------------------------

def conversion_factor_amounts(pack: CompiledPack) -> tuple[str, ...]:
    """The amounts the conversion factor reads, in the order the pack declares them (the
    first year's own first)."""
    read = pack.analysis.reads[CONVERSION_FACTOR].params
    return tuple(name for name, parameter in pack.parameters.items() if name in read and parameter.type == MONEY)


def rvu_before_facts(pack: CompiledPack, code: Code, params: Mapping[str, Any]) -> Any | None:
    """The code's RVU on a day, when it reads only parameters in force then (else None)."""
    reads = pack.analysis.reads[code.slot]
    if reads.facts or reads.definitions or reads.options or any(name not in params for name in reads.params):
        return None
    return code.rvu.evaluate({}, {}, params, {})


def first_day_factor(pack: CompiledPack, basis: str) -> Decimal | None:
    """The amount `basis` on the pack's first day, when its conversion factor reads it."""
    return pack.params_at(pack.effective_from).get(basis) if basis in conversion_factor_amounts(pack) else None


def first_day_rate(pack: CompiledPack, code: str, factor: Decimal | None) -> Decimal | None:
    described = pack.codes.get(code)
    if described is None or factor is None:
        return None
    rvu = rvu_before_facts(pack, described, pack.params_at(pack.effective_from))
    return rate_of(described, rvu, factor) if rvu is not None else None


def rate_table(old: CompiledPack, new: CompiledPack, basis: str) -> RateTable:
    old_factor, new_factor = first_day_factor(old, basis), first_day_factor(new, basis)
    return RateTable(basis, old_factor, new_factor,
                     tuple(Rate(code, first_day_rate(old, code, old_factor), first_day_rate(new, code, new_factor))
                           for code in in_order(old.codes, new.codes)))


def rate_tables(old: CompiledPack, new: CompiledPack) -> tuple[RateTable, ...]:
    bases = in_order(conversion_factor_amounts(old), conversion_factor_amounts(new))
    return tuple(rate_table(old, new, basis) for basis in bases)

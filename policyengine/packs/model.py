"""The compiled pack: what a pack means, in one immutable object.

Everything the engine evaluates and everything an explanation needs to know about a rule
lives here, computed once by the compiler: the expressions by slot, the rules with their
parts, the conflicts between codes as a resolution table, and (`analysis`) what each
expression reads and how filtered items reach a total.
"""
from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..diagnostics import Diagnostic
from ..lang import CompiledExpression, Environment, Type
from .places import PACK_FILE
from .plan import Plan, plan_of, rule_parts_in_order
from .slots import CONVERSION_FACTOR, Slot, code_slot, definition_slot, finding_slot, gate_slot, rule_slot

if TYPE_CHECKING:
    from .analysis import Analysis


@dataclass(frozen=True)
class Parameter:
    name: str
    type: Type
    #: (date, value, citation, confidence), newest first
    values: tuple[tuple[str, Any, str | None, str | None], ...]

    def at(self, day: str) -> tuple[str, Any, str | None, str | None] | None:
        """The value in force on `day` (the newest dated value not after it)."""
        for dated in self.values:
            if dated[0] <= day:
                return dated
        return None


@dataclass(frozen=True)
class Option:
    name: str
    type: str
    default: Any
    allowed: tuple[Any, ...]
    description: str
    citation: str | None
    #: the range of an int option (None: unbounded on that side)
    minimum: int | None = None
    maximum: int | None = None


@dataclass(frozen=True)
class Code:
    code: str
    descriptor: str
    clock: str
    rvu: CompiledExpression
    #: the most units a decision bills of this code (None: no cap beyond the rule's own)
    max_units: int | None
    #: the parameters the rate reads (RVU and conversion factor), for provenance findings
    parameters_used: tuple[str, ...]

    @functools.cached_property
    def slot(self) -> Slot:
        """The slot of its RVU expression."""
        return code_slot(self.code)


@dataclass(frozen=True)
class Opportunity:
    when: CompiledExpression
    missing: CompiledExpression
    by: CompiledExpression
    needed: str
    #: whether what is missing can still happen by `by`; None: always (out of reach otherwise)
    reachable: CompiledExpression | None = None


#: the statuses of a denial that completing the record can lift: a gate or blocked condition
#: with one of them may say which definitions then hold (`if_documented`), and its lines
#: carry the money at stake (`engine/stake.py`)
RECOVERABLE = frozenset({"documentation_missing", "prerequisite_missing"})


@dataclass(frozen=True)
class Blocker:
    when: CompiledExpression
    reason: str
    #: the status of the line it denies (schemas/rulepack.schema.json lists them)
    status: str = "not_met"
    #: the facts records that show the condition held (a record or a list of them), as a
    #: finding's evidence: the line points at them
    evidence: CompiledExpression | None = None
    #: the yes/no definitions that hold once the record is complete (`RECOVERABLE`)
    if_documented: tuple[str, ...] = ()


@dataclass(frozen=True)
class Template:
    """A reason with placeholders, split once when the pack compiles: (text, placeholder
    or None) pieces; rendering only joins them, so no template can run anything."""

    pieces: tuple[tuple[str, str | None], ...]

    def render(self, values: Mapping[str, str]) -> str:
        return "".join(text + (values[name] if name is not None else "") for text, name in self.pieces)

    @property
    def source(self) -> str:
        """The template as a pack writes it: braces of the text doubled, placeholders in braces."""
        return "".join(text.replace("{", "{{").replace("}", "}}") + ("{" + name + "}" if name is not None else "")
                       for text, name in self.pieces)


@dataclass(frozen=True)
class RuleSlots:
    """The slots of a rule's parts (built once: the engine records values against them)."""

    blocked: tuple[Slot, ...]
    #: the slot of each blocked condition's evidence (computed, not traced)
    blocked_evidence: tuple[Slot, ...]
    when: Slot
    actual: Slot
    required: Slot
    units: Slot
    opportunity: Slot
    reachable: Slot
    missing: Slot
    by: Slot

    @classmethod
    def of(cls, rule_id: str, blocked: int) -> RuleSlots:
        return cls(tuple(rule_slot(rule_id, "blocked", i) for i in range(blocked)),
                   tuple(rule_slot(rule_id, "evidence", i) for i in range(blocked)),
                   *(rule_slot(rule_id, part) for part in ("when", "actual", "required", "units", "opportunity",
                                                             "reachable", "missing", "by")))


@dataclass(frozen=True)
class Rule:
    """A rule decides one code: blocked first (the first condition that holds denies it),
    then `when`; `units` counts when it is met (else 1). Whether a met rule bills is the
    engine's resolver's to say, from the pack's conflicts and the codes a rule requires."""

    id: str
    code: str
    when: CompiledExpression
    units: CompiledExpression | None
    actual: CompiledExpression | None
    required: CompiledExpression | None
    requires: tuple[str, ...]
    reason_met: Template
    reason_not_met: Template
    citation: str | None
    opportunity: Opportunity | None
    blocked: tuple[Blocker, ...]
    slots: RuleSlots

    def expressions(self) -> Iterator[tuple[Slot, CompiledExpression]]:
        """Every expression of the rule by slot, in evaluation order."""
        s = self.slots
        yield from ((slot, expression) for _, slot, expression, _ in rule_parts_in_order(self))
        if self.opportunity is not None:
            yield s.opportunity, self.opportunity.when
            if self.opportunity.reachable is not None:
                yield s.reachable, self.opportunity.reachable
            yield from ((s.missing, self.opportunity.missing), (s.by, self.opportunity.by))
        yield from ((slot, blocker.evidence) for slot, blocker in zip(s.blocked_evidence, self.blocked)
                    if blocker.evidence is not None)


@dataclass(frozen=True)
class Gate:
    id: str
    when: CompiledExpression
    status: str
    reason: str
    citation: str | None
    #: the yes/no definitions that hold once the record is complete (`RECOVERABLE`)
    if_documented: tuple[str, ...] = ()

    @functools.cached_property
    def slot(self) -> Slot:
        return gate_slot(self.id)


@dataclass(frozen=True)
class Finding:
    id: str
    severity: str
    when: CompiledExpression
    message: str
    evidence: CompiledExpression | None
    citation: str | None
    #: (definition, its value once the record is complete) for a finding about records the
    #: care team can still complete: its amount at stake (`engine/stake.py`)
    if_documented: tuple[tuple[str, CompiledExpression], ...] = ()

    @functools.cached_property
    def slot(self) -> Slot:
        return finding_slot(self.id)

    @functools.cached_property
    def evidence_slot(self) -> Slot:
        return finding_slot(self.id, "evidence")

    @functools.cached_property
    def documented_slots(self) -> tuple[Slot, ...]:
        """The slot of each `if_documented` value, in order."""
        return tuple(finding_slot(self.id, "if_documented", i) for i in range(len(self.if_documented)))


@dataclass(frozen=True)
class Conflict:
    """Codes that are not billed together for the same patient and period.

    With `keep`, two codes never billed together: when the rules earn both, `keep` is
    billed; when either is already billed elsewhere (other_services), the other is not.
    With `one_practitioner`, codes that one practitioner may bill together but two may
    not: one of them billed elsewhere by another practitioner stops them all."""

    id: str
    codes: tuple[str, ...]
    keep: str | None
    one_practitioner: bool
    citation: str
    description: str | None

    def other(self, code: str) -> str:
        """The code this two-code conflict pairs `code` with."""
        return self.codes[1] if self.codes[0] == code else self.codes[0]


@dataclass(frozen=True)
class ConflictTable:
    """The conflicts as the resolver reads them, indexed by code once at compile time."""

    entries: tuple[Conflict, ...]
    #: code -> the codes kept over it, with the conflict that says so
    winners: Mapping[str, tuple[tuple[str, Conflict], ...]]
    #: code -> the codes it is never billed with (either side of a two-code conflict)
    partners: Mapping[str, tuple[tuple[str, Conflict], ...]]
    #: code -> the one-practitioner groups that hold it
    groups: Mapping[str, tuple[Conflict, ...]]
    #: the codes the pack's rules decide, each after the codes kept over it and the codes it requires
    order: tuple[str, ...]


def expressions_of(definitions: Iterable[tuple[str, CompiledExpression]], gates: Iterable[Gate],
                   rules: Iterable[Rule], findings: Iterable[Finding], codes: Mapping[str, Code],
                   conversion_factor: CompiledExpression) -> dict[Slot, CompiledExpression]:
    """Every expression by slot, in evaluation order: definitions, gates, each rule's
    parts, findings (condition, evidence), then the rates."""
    table: dict[Slot, CompiledExpression] = {definition_slot(name): e for name, e in definitions}
    table.update((gate.slot, gate.when) for gate in gates)
    for rule in rules:
        table.update(rule.expressions())
    for finding in findings:
        table[finding.slot] = finding.when
        if finding.evidence is not None:
            table[finding.evidence_slot] = finding.evidence
        table.update(zip(finding.documented_slots, (value for _, value in finding.if_documented)))
    table.update((code_slot(code.code), code.rvu) for code in codes.values())
    table[CONVERSION_FACTOR] = conversion_factor
    return table


@dataclass(frozen=True)
class CompiledPack:
    id: str
    version: str
    fee_schedule_year: int
    effective_from: str
    effective_to: str
    title: str
    citations: tuple[str, ...]
    chain: tuple[str, ...]
    sha256: str
    options: dict[str, Option]
    parameters: dict[str, Parameter]
    codes: dict[str, Code]
    conversion_factor: CompiledExpression
    #: the pack's own facts schema, or None for the contract's (schemas/facts.schema.json)
    facts_schema: dict | None
    #: the least share of condition outcomes (percent) the pack's test cases must exercise
    coverage_threshold: float
    #: the files it was compiled from
    source_files: tuple[Path, ...]
    definitions: tuple[tuple[str, CompiledExpression], ...]
    gates: tuple[Gate, ...]
    rules: tuple[Rule, ...]
    findings: tuple[Finding, ...]
    conflicts: ConflictTable
    #: every expression of the pack by slot, in evaluation order (`expressions_of`): the one
    #: list that traces, explanations and test coverage read
    expressions: Mapping[Slot, CompiledExpression] = field(repr=False)
    analysis: Analysis = field(repr=False)
    environment: Environment = field(repr=False)
    #: what the compiler warned about (a deprecated `excludes:`, ...), each at its file:line:col
    warnings: tuple[Diagnostic, ...] = ()

    @functools.cached_property
    def pack_files(self) -> tuple[Path, ...]:
        """The pack files of the chain, the first base first and the pack's own last (the
        loader reads the packs it extends first)."""
        return tuple(path for path in self.source_files if path.name == PACK_FILE)

    @property
    def directory(self) -> Path:
        """The pack's own directory."""
        return self.pack_files[-1].parent

    @functools.cached_property
    def plan(self) -> Plan:
        """The order a decision evaluates the pack in (`plan.py`): what every evaluation of
        its rules, and every reader of their trace, walks."""
        return plan_of(self)

    @functools.cached_property
    def trace_slots(self) -> tuple[Slot, ...]:
        """The pack's rule table: the traced slots; a compact trace is aligned with them."""
        return tuple(slot for slot in self.expressions if slot.traced)

    @functools.cached_property
    def slot_text_index(self) -> dict[str, int]:
        """The place of each traced slot in a compact trace, by the slot's text."""
        return {slot.text: i for i, slot in enumerate(self.trace_slots)}

    @functools.cached_property
    def slot_named(self) -> dict[str, Slot]:
        """A slot by the text a trace writes for it."""
        return {str(slot): slot for slot in self.expressions}

    @functools.cached_property
    def definition_slots(self) -> tuple[Slot, ...]:
        """The slot of each definition, in the order of `definitions`."""
        return tuple(definition_slot(name) for name, _ in self.definitions)

    @functools.cached_property
    def clocks(self) -> frozenset[str]:
        """The clocks the pack's codes run on."""
        return frozenset(code.clock for code in self.codes.values())

    @functools.cached_property
    def rules_by_id(self) -> dict[str, Rule]:
        return {rule.id: rule for rule in self.rules}

    @functools.cached_property
    def findings_by_id(self) -> dict[str, Finding]:
        return {finding.id: finding for finding in self.findings}

    @functools.cached_property
    def derived(self) -> dict[str, Any]:
        """What the layers above build once from the pack and keep with it (the engine's
        generated programs, by trace form): derived from the fields, never changing them."""
        return {}

    def covers(self, day: str) -> bool:
        return self.effective_from <= day <= self.effective_to

    @functools.cached_property
    def _params_cache(self) -> dict[str, dict]:
        return {}

    def params_at(self, day: str) -> dict[str, Any]:
        """Every parameter's value in force on `day` (cached per date)."""
        cached = self._params_cache.get(day)
        if cached is None:
            cached = {}
            for name, parameter in self.parameters.items():
                dated = parameter.at(day)
                if dated is not None:
                    cached[name] = dated[1]
            self._params_cache[day] = cached
        return cached

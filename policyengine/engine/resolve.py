"""The resolver: what each rule's evaluated parts mean for the code it decides.

This is the one place that says whether a code bills, for how many units, and if not,
why: a decision and every explanation of it (the time ledger's what-if, an opportunity's
confirmation) call `resolve`, so they cannot disagree.

In order of precedence, for each rule:
1. a gate that did not pass stops every code (its status and reason);
2. a blocked condition that held denies the code (its own reason);
3. a rule that is not met (or earns no unit) falls short;
4. a conflicting code already billed elsewhere for the patient and period (the facts'
   other_services) denies it: a two-code conflict by anyone, a one-practitioner group by
   another practitioner;
5. a code the pack keeps over it, billed by this decision, drops it;
6. a code it requires that this decision does not bill holds it back;
7. else it bills, at most the code's max_units.
Steps 5 and 6 follow the pack's conflict table order (every code after the codes kept over
it and the codes it requires), so the outcome never depends on the order rules are written.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ..packs.model import CompiledPack, Conflict, Gate, Rule
from .state import BilledElsewhere, RuleParts


@dataclass(frozen=True, slots=True)
class Met:
    """The code bills."""

    #: the units the rule earned when the code's max_units billed fewer, else None
    capped_from: int | None = None


@dataclass(frozen=True, slots=True)
class Shortfall:
    """The rule is not met (or earns no unit): its actual falls short of its required."""


@dataclass(frozen=True, slots=True)
class Blocked:
    """The rule's blocked condition number `index` held."""

    index: int


@dataclass(frozen=True, slots=True)
class Gated:
    """A gate of the pack did not pass: no code bills."""

    gate: Gate


@dataclass(frozen=True, slots=True)
class BilledWith:
    """A conflicting code is billed elsewhere for the patient and period."""

    conflict: Conflict
    other: BilledElsewhere


@dataclass(frozen=True, slots=True)
class KeptOver:
    """The pack keeps another code, which this decision bills, over this one."""

    conflict: Conflict
    winner: str


@dataclass(frozen=True, slots=True)
class Needs:
    missing: tuple[str, ...]


Cause = Met | Shortfall | Blocked | Gated | BilledWith | KeptOver | Needs


@dataclass(frozen=True, slots=True)
class Outcome:
    rule: Rule
    #: the rule's evaluated parts (None when a gate stopped every code)
    parts: RuleParts | None
    #: units billed; 0 when not billable
    units: int
    cause: Cause

    @property
    def billed(self) -> bool:
        return self.units > 0

    @property
    def earned(self) -> bool:
        """Whether the rule itself is met: only a conflict or a requirement stands in the way."""
        return self.parts is not None and self.parts.blocker is None and self.parts.units > 0

    @property
    def status(self) -> str:
        if isinstance(self.cause, Gated):
            return self.cause.gate.status
        return "billable" if self.billed else "not_met"


def resolve(pack: CompiledPack, parts: Mapping[str, RuleParts], failed_gate: Gate | None,
            elsewhere: tuple[BilledElsewhere, ...]) -> dict[str, Outcome]:
    """Every rule's outcome, by rule id in the pack's rule order."""
    if failed_gate is not None:
        return {rule.id: Outcome(rule, None, 0, Gated(failed_gate)) for rule in pack.rules}
    table = pack.conflicts
    decided: dict[str, Outcome] = {}
    earned: dict[str, Rule] = {}
    for rule in pack.rules:
        got = parts[rule.id]
        if got.blocker is not None:
            decided[rule.id] = Outcome(rule, got, 0, Blocked(got.blocker))
        elif got.units <= 0:
            decided[rule.id] = Outcome(rule, got, 0, Shortfall())
        elif (clash := _billed_elsewhere(pack, rule.code, elsewhere)) is not None:
            decided[rule.id] = Outcome(rule, got, 0, BilledWith(*clash))
        else:
            earned[rule.code] = rule
    billed: dict[str, int] = {}
    for code in table.order:
        candidate = earned.get(code)
        if candidate is None:
            continue
        rule, got = candidate, parts[candidate.id]
        winner = next(((w, c) for w, c in table.winners.get(code, ()) if w in billed), None)
        missing = tuple(r for r in rule.requires if r not in billed)
        if winner is not None:
            decided[rule.id] = Outcome(rule, got, 0, KeptOver(winner[1], winner[0]))
        elif missing:
            decided[rule.id] = Outcome(rule, got, 0, Needs(missing))
        else:
            cap = pack.codes[code].max_units
            units = min(got.units, cap) if cap is not None else got.units
            billed[code] = units
            decided[rule.id] = Outcome(rule, got, units, Met(got.units if units < got.units else None))
    return {rule.id: decided[rule.id] for rule in pack.rules}


def _billed_elsewhere(pack: CompiledPack, code: str, elsewhere: tuple[BilledElsewhere, ...]
                      ) -> tuple[Conflict, BilledElsewhere] | None:
    """The first conflict that a code billed elsewhere sets against `code`."""
    if not elsewhere:
        return None
    for other, conflict in pack.conflicts.partners.get(code, ()):
        for item in elsewhere:
            if item.code == other:
                return conflict, item
    for conflict in pack.conflicts.groups.get(code, ()):
        for item in elsewhere:
            if item.other_practitioner and item.code in conflict.codes:
                return conflict, item
    return None

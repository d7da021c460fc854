"""The resolver: what each rule's evaluated parts mean for the code it decides.

This is the one place that says whether a code bills, for how many units, and if not,
why: a decision and every explanation of it (the time ledger's what-if, an opportunity's
confirmation) call `resolve`, so they cannot disagree.

In order of precedence, for each rule:
1. a gate that did not pass stops every code (its status and reason);
2. a blocked condition that held denies the code (its own reason);
3. a rule that is not met falls short when its actual is below its required; one whose
   actual reaches its required is replaced when a code the pack keeps over it bills (the
   first-10-minutes code at 22 minutes, by the first-20-minutes code), and otherwise fails
   a condition of its own; a met rule may earn no unit;
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
    """The rule is not met and its actual falls short of its required."""


@dataclass(frozen=True, slots=True)
class NotMet:
    """The rule is not met although its actual reaches its required (or it states neither):
    a condition of its own other than the threshold does not hold."""


@dataclass(frozen=True, slots=True)
class NoUnits:
    """The rule is met but earns no unit (its `units` is 0: a cap of 0, say)."""


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
    """The pack keeps another code, which this decision bills, over this one: the rule earned
    its code, or reached its required with a condition that leaves the range to the winner
    (`Outcome.earned` tells the two apart)."""

    conflict: Conflict
    winner: str


@dataclass(frozen=True, slots=True)
class Needs:
    """Codes this one requires (an add-on code its base code) that the decision does not bill."""

    missing: tuple[str, ...]


Cause = Met | Shortfall | NotMet | NoUnits | Blocked | Gated | BilledWith | KeptOver | Needs

#: the status of a line by its cause (a gate's and a blocked condition's come from the pack)
STATUSES = {Met: "billable", Shortfall: "not_met", NotMet: "not_met", NoUnits: "not_met",
            BilledWith: "billed_elsewhere", KeptOver: "replaced", Needs: "prerequisite_missing"}


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
        cause = self.cause
        if isinstance(cause, Gated):
            return cause.gate.status
        if isinstance(cause, Blocked):
            return self.rule.blocked[cause.index].status
        return STATUSES[type(cause)]


def resolve(pack: CompiledPack, parts: Mapping[str, RuleParts], failed_gate: Gate | None,
            elsewhere: tuple[BilledElsewhere, ...]) -> dict[str, Outcome]:
    """Every rule's outcome, by rule id in the pack's rule order."""
    if failed_gate is not None:
        return {rule.id: Outcome(rule, None, 0, Gated(failed_gate)) for rule in pack.rules}
    table = pack.conflicts
    decided: dict[str, Outcome] = {}
    earned: dict[str, Rule] = {}
    reached: list[Rule] = []
    for rule in pack.rules:
        got = parts[rule.id]
        cause = _own_cause(got)
        if cause is None and not got.met:
            reached.append(rule)
        elif cause is None and (clash := billed_elsewhere_by(pack, rule.code, elsewhere)) is not None:
            decided[rule.id] = Outcome(rule, got, 0, BilledWith(*clash))
        elif cause is None:
            earned[rule.code] = rule
        else:
            decided[rule.id] = Outcome(rule, got, 0, cause)
    billed: dict[str, int] = {}
    for code in table.order:
        candidate = earned.get(code)
        if candidate is None:
            continue
        rule, got = candidate, parts[candidate.id]
        winner = _kept_over(pack, code, billed)
        missing = tuple(r for r in rule.requires if r not in billed)
        if winner is not None:
            decided[rule.id] = Outcome(rule, got, 0, winner)
        elif missing:
            decided[rule.id] = Outcome(rule, got, 0, Needs(missing))
        else:
            cap = pack.codes[code].max_units
            units = min(got.units, cap) if cap is not None else got.units
            billed[code] = units
            decided[rule.id] = Outcome(rule, got, units, Met(got.units if units < got.units else None))
    for rule in reached:
        decided[rule.id] = Outcome(rule, parts[rule.id], 0, _kept_over(pack, rule.code, billed) or NotMet())
    return {rule.id: decided[rule.id] for rule in pack.rules}


def _own_cause(got: RuleParts) -> Cause | None:
    """What the rule's own parts deny its code with: a blocked condition, a met rule that
    earns no unit, a shortfall; None when the rule earned its code, or reached its required
    without being met (then what the decision bills says more)."""
    if got.blocker is not None:
        return Blocked(got.blocker)
    if got.met:
        return NoUnits() if got.units <= 0 else None
    return Shortfall() if falls_short(got) else None


def _kept_over(pack: CompiledPack, code: str, billed: Mapping[str, int]) -> KeptOver | None:
    """The first code the pack keeps over `code` that the decision bills."""
    winner = next(((w, c) for w, c in pack.conflicts.winners.get(code, ()) if w in billed), None)
    return KeptOver(winner[1], winner[0]) if winner is not None else None


def falls_short(parts: RuleParts) -> bool:
    """Whether a rule's actual is below its required: the one case a line reads "x of the
    required y" and carries the two as data."""
    try:
        return parts.actual is not None and parts.required is not None and parts.actual < parts.required
    except TypeError:  # values a pack gave no order (two lists): no shortfall to state
        return False


def billed_elsewhere_by(pack: CompiledPack, code: str, elsewhere: tuple[BilledElsewhere, ...]
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

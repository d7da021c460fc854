"""The plan: the order in which a decision evaluates a pack, written once, as data.

A pack's traced expressions run as one sequence of sites (`Site`: slot, expression, the
clock whose date of service its parameters are read at):
1. every definition, in the pack's order;
2. every gate;
3. only when every gate passed, each rule's steps (`RulePlan`);
4. every finding's condition.

A rule's steps, in order: its blocked conditions (the first that holds stops the rule:
nothing after it is evaluated), `when`, `actual`, `required`, then `units`, only when
`when` held (a rule that states no units earns 1). Every reader of a rule's parts walks
these steps: the generated program (`engine/program.py`) writes them as code, the
step-by-step reference (`engine/evaluation.py`: test coverage, the what-if) evaluates
them, and the reader of a full trace (`engine/recorded.py`) reads them back. No reader
knows the order of its own.
"""
from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..lang import CompiledExpression
from .clocks import CALENDAR_MONTH
from .slots import Slot

if TYPE_CHECKING:
    from .model import CompiledPack, Rule

#: the roles of a rule's steps: a blocked condition, the condition, the values a line shows,
#: the units earned
BLOCKED, WHEN, ACTUAL, REQUIRED, UNITS = "blocked", "when", "actual", "required", "units"


@dataclass(frozen=True, slots=True)
class Site:
    """One traced expression of the plan: its slot, and the clock whose date of service
    the parameters it reads are taken at."""

    slot: Slot
    expression: CompiledExpression
    clock: str


@dataclass(frozen=True, slots=True)
class RuleStep:
    """One step of a rule: its role, its site, and for a blocked condition its number."""

    role: str
    site: Site
    index: int | None = None


@dataclass(frozen=True, slots=True)
class RulePlan:
    """A rule's steps in the one order they are evaluated."""

    rule_id: str
    steps: tuple[RuleStep, ...]


@dataclass(frozen=True)
class Plan:
    """A pack's sites in the order a decision runs them; each of definitions, gates and
    findings by its name or id."""

    definitions: tuple[tuple[str, Site], ...]
    gates: tuple[tuple[str, Site], ...]
    rules: tuple[RulePlan, ...]
    findings: tuple[tuple[str, Site], ...]

    @functools.cached_property
    def sites(self) -> tuple[Site, ...]:
        """Every site, in the order the plan runs them (a program numbers them so)."""
        return (tuple(site for _, site in self.definitions) + tuple(site for _, site in self.gates)
                + tuple(step.site for rule in self.rules for step in rule.steps)
                + tuple(site for _, site in self.findings))


def rule_parts_in_order(rule: Rule) -> Iterator[tuple[str, Slot, CompiledExpression, int | None]]:
    """(role, slot, expression, blocked number) of each part of a rule the plan runs, in
    the one order: the rule's plan (`rule_plan`) and its expressions (`Rule.expressions`)
    both take it from here."""
    s = rule.slots
    yield from ((BLOCKED, slot, blocker.when, i) for i, (slot, blocker) in enumerate(zip(s.blocked, rule.blocked)))
    yield WHEN, s.when, rule.when, None
    for role, slot, expression in ((ACTUAL, s.actual, rule.actual), (REQUIRED, s.required, rule.required),
                                   (UNITS, s.units, rule.units)):
        if expression is not None:
            yield role, slot, expression, None


def rule_plan(rule: Rule, clock: str) -> RulePlan:
    steps = tuple(RuleStep(role, Site(slot, expression, clock), index)
                  for role, slot, expression, index in rule_parts_in_order(rule))
    return RulePlan(rule.id, steps)


def plan_of(pack: CompiledPack) -> Plan:
    """The plan of a compiled pack (`CompiledPack.plan` keeps it)."""
    return Plan(
        definitions=tuple((name, Site(slot, expression, CALENDAR_MONTH))
                          for (name, expression), slot in zip(pack.definitions, pack.definition_slots)),
        gates=tuple((gate.id, Site(gate.slot, gate.when, CALENDAR_MONTH)) for gate in pack.gates),
        rules=tuple(rule_plan(rule, pack.codes[rule.code].clock) for rule in pack.rules),
        findings=tuple((finding.id, Site(finding.slot, finding.when, CALENDAR_MONTH)) for finding in pack.findings),
    )


__all__ = ["ACTUAL", "BLOCKED", "REQUIRED", "UNITS", "WHEN", "Plan", "RulePlan", "RuleStep", "Site", "plan_of"]

"""What the pack would decide if some definitions (or options) had other values, or one
cause of a denial were taken away (a gate passed, a blocked condition did not hold).

The same compiled rules and the same resolver as the decision: the definitions the
changed values reach are evaluated again, then each rule part that reads one of them;
every other part keeps the value the evaluation recorded. An explanation asks it which
running total earns which code; the engine asks it whether an opportunity really earns
its code. Read back from a trace there are no facts: a part that would have to read them
again raises `WhatIfUnavailable`, and the explanation says it cannot show that section;
an expression that fails on the changed values raises `EvaluationFailed`, as in a decision.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..lang import CompiledExpression, EvaluationError
from ..packs.clocks import CALENDAR_MONTH
from ..packs.model import CompiledPack
from ..packs.plan import BLOCKED, RuleStep
from ..packs.slots import Slot, definition_slot
from .failures import failure
from .parts import rule_parts
from .resolve import Outcome, resolve
from .state import Evaluated, RuleParts


class WhatIfUnavailable(Exception):
    """A changed value reaches an expression that reads the facts, and there are none."""

    def __init__(self, slot: Slot) -> None:
        super().__init__(f"{slot} reads the facts, which a trace does not hold")
        self.slot = slot


@dataclass(frozen=True)
class Lift:
    """A cause taken away: a gate that passes, or a rule's blocked condition that does not hold."""

    gate: str | None = None
    rule: str | None = None
    blocker: int | None = None


class WhatIf:
    def __init__(self, pack: CompiledPack, state: Evaluated) -> None:
        self.pack, self.state = pack, state
        self._known: dict[tuple, dict[str, Outcome]] = {}

    def outcomes(self, definitions: Mapping[str, Any] | None = None,
                 options: Mapping[str, Any] | None = None, lift: Lift = Lift()) -> dict[str, Outcome]:
        """Every rule's outcome with `definitions` and `options` in place of the values
        the evaluation had, and the cause `lift` names taken away (remembered per set of
        values)."""
        definitions, options = dict(definitions or {}), dict(options or {})
        key = (tuple(sorted(definitions.items())), tuple(sorted(options.items())), lift)
        if key not in self._known:
            self._known[key] = self._decide(definitions, options, lift)
        return self._known[key]

    def _decide(self, definitions: dict[str, Any], options: dict[str, Any], lift: Lift) -> dict[str, Outcome]:
        pack, state = self.pack, self.state
        changed, affected, rules_affected = _reach(pack, definitions, options)
        values = {**state.options, **options}
        defs = {**state.definitions, **definitions}
        month = state.params(pack, CALENDAR_MONTH)
        for name, expression in pack.definitions:
            if name in changed and name not in definitions:
                defs[name] = self._evaluate(definition_slot(name), expression, defs, month, values)
        gates = {gate.id: (bool(self._evaluate(gate.slot, gate.when, defs, month, values))
                           if gate.slot in affected else state.gates.get(gate.id, False))
                 for gate in pack.gates}
        if lift.gate is not None:
            gates[lift.gate] = True
        failed = next((gate for gate in pack.gates if not gates[gate.id]), None)
        parts: dict[str, RuleParts] = {}
        if failed is None:
            for rule, plan in zip(pack.rules, pack.plan.rules):
                recorded = state.parts.get(rule.id)
                params = state.params(pack, pack.codes[rule.code].clock)
                lifted = lift.blocker if lift.rule == rule.id else None
                if recorded is not None and lifted is None and rule.id not in rules_affected:
                    parts[rule.id] = recorded
                    continue

                def evaluate(step: RuleStep, recorded: RuleParts | None = recorded, params: dict = params,
                             lifted: int | None = lifted) -> Any:
                    if step.role == BLOCKED and step.index == lifted:
                        return False
                    slot = step.site.slot
                    if recorded is not None and slot not in affected:
                        reached, value = recorded.recorded(step)
                        if reached:
                            return value
                    return self._evaluate(slot, step.site.expression, defs, params, values)

                parts[rule.id] = rule_parts(rule, plan, evaluate)
        return resolve(pack, parts, failed, state.elsewhere)

    def _evaluate(self, slot: Slot, expression: CompiledExpression, defs: dict, params: dict,
                  options: dict) -> Any:
        if self.state.facts is None and self.pack.analysis.reads[slot].facts:
            raise WhatIfUnavailable(slot)
        try:
            return expression.evaluate(self.state.facts or {}, defs, params, options)
        except EvaluationError as error:
            raise failure(error, slot) from None


def _reach(pack: CompiledPack, definitions: Mapping[str, Any], options: Mapping[str, Any]
           ) -> tuple[frozenset[str], frozenset[Slot], frozenset[str]]:
    """What other values of these definitions and options reach: the definitions whose
    value may change, the expressions that read one of them (or an option), and the rules
    with such a step. The same for every decision of the pack, so worked out once per
    process (`CompiledPack.derived`): a worklist asks the same what-if of every month."""
    known = pack.derived.setdefault("what-if reach", {})
    key = (frozenset(definitions), frozenset(options))
    if key not in known:
        analysis = pack.analysis
        changed = analysis.changed_by(key[0], key[1])
        affected = frozenset(slot for slot in analysis.reads if analysis.affected(slot, changed, key[1]))
        rules = frozenset(plan.rule_id for plan in pack.plan.rules if any(step.site.slot in affected for step in plan.steps))
        known[key] = (changed, affected, rules)
    return known[key]


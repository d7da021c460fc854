"""Evaluating a pack over one patient-month: definitions, gates, each rule's parts.

The order of a rule's parts is written once here, in `evaluate_rule`; test coverage and
the what-if evaluate step by step through it. A decision, with any trace form, runs the
pack's generated program (`program.py`) instead, which evaluates the same values in one
call and is held to this order by tests. A failure is an `EvaluationFailed` (`failures.py`).
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ..lang import CompiledExpression, EvaluationError
from ..packs.clocks import CALENDAR_MONTH, service_dates
from ..packs.model import CompiledPack, Rule
from ..packs.slots import Slot
from .failures import checked_units, failure
from .program import program
from .state import Evaluated, RuleParts, billed_elsewhere
from .tracing import Tracer

#: evaluates the expression in a slot (a rule's part) and returns its value
Evaluate = Callable[[Slot, CompiledExpression], Any]


def evaluate_rule(rule: Rule, evaluate: Evaluate) -> RuleParts:
    """A rule's parts, in the one order every evaluation follows: its blocked conditions
    until one holds (then nothing else), `when`, `actual`, `required`, and `units` only when
    the rule is met (1 when it states none)."""
    s = rule.slots
    for i, blocker in enumerate(rule.blocked):
        if evaluate(s.blocked[i], blocker.when):
            return RuleParts(i, False, None, None, 0)
    met = bool(evaluate(s.when, rule.when))
    actual = evaluate(s.actual, rule.actual) if rule.actual is not None else None
    required = evaluate(s.required, rule.required) if rule.required is not None else None
    units = (checked_units(rule, evaluate(s.units, rule.units)) if rule.units is not None else 1) if met else 0
    return RuleParts(None, met, actual, required, units)


class Run:
    """One pack over one patient-month's facts, recorded by a tracer."""

    def __init__(self, pack: CompiledPack, facts: dict, options: Mapping[str, Any], tracer: Tracer) -> None:
        self.pack, self.facts, self.options, self.tracer = pack, facts, options, tracer
        self.dates = service_dates(pack.clocks, facts)
        self.defs: dict[str, Any] = {}
        #: the findings' conditions, when the program evaluated them with the rest
        self._held: dict[str, bool] | None = None
        #: per clock: (the date of service, the inputs of an expression evaluated at that date)
        self._inputs = {clock: (day, (facts, self.defs, pack.params_at(day), options)) for clock, day in self.dates.items()}

    def _at(self, code: str | None) -> tuple[str, tuple]:
        """(the date parameters are read at, the inputs of an expression): at the code's
        date of service, or the month's end."""
        return self._inputs[self.pack.codes[code].clock if code is not None else CALENDAR_MONTH]

    def day(self, code: str | None) -> str:
        return self._at(code)[0]

    def evaluate(self, slot: Slot, expression: CompiledExpression, code: str | None = None) -> Any:
        day, inputs = self._at(code)
        try:
            return self.tracer.evaluate(slot, expression, inputs, day)
        except EvaluationError as error:
            raise failure(error, slot) from None

    def compute(self, slot: Slot, expression: CompiledExpression, code: str | None = None) -> Any:
        day, inputs = self._at(code)
        try:
            return self.tracer.compute(expression, inputs, day)
        except EvaluationError as error:
            raise failure(error, slot) from None

    def state(self) -> Evaluated:
        """Every value a decision is made from: by the pack's program in one call when the
        tracer has one, else step by step."""
        if self.tracer.program is not None:
            params = {clock: inputs[2] for clock, (_, inputs) in self._inputs.items()}
            gates, parts, self._held = program(self.pack, self.tracer.program).run(
                self.facts, self.defs, params, self.options, self.tracer.values)
        else:
            for (name, expression), slot in zip(self.pack.definitions, self.pack.definition_slots):
                self.defs[name] = self.evaluate(slot, expression)
            gates = {gate.id: bool(self.evaluate(gate.slot, gate.when)) for gate in self.pack.gates}
            parts = {}
            if all(gates.values()):
                parts = {rule.id: evaluate_rule(rule, self.rule_part(rule.code)) for rule in self.pack.rules}
        return Evaluated(self.facts, self.options, self.dates, self.defs, gates, parts, billed_elsewhere(self.facts))

    def rule_part(self, code: str) -> Evaluate:
        """How the parts of a rule deciding `code` are evaluated: at its date of service."""
        day, inputs = self._at(code)
        tracer = self.tracer

        def evaluate(slot: Slot, expression: CompiledExpression) -> Any:
            try:
                return tracer.evaluate(slot, expression, inputs, day)
            except EvaluationError as error:
                raise failure(error, slot) from None
        return evaluate

    def finding_conditions(self) -> dict[str, bool]:
        """Each pack finding's condition, by finding id (the program's, once it ran)."""
        if self._held is not None:
            return self._held
        return {finding.id: bool(self.evaluate(finding.slot, finding.when)) for finding in self.pack.findings}

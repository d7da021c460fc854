"""Evaluating a pack over one patient-month: definitions, gates, each rule's parts.

Step by step, in the order of the pack's plan (`packs/plan.py`): `rule_parts` reads a
rule's steps with any way of finding a step's value (evaluating it here, for test coverage
and the what-if; reading it from a trace in `recorded.py`). A decision, with any trace
form, runs the pack's generated program (`program.py`) instead, written from the same
plan and held to this path by tests. A failure is an `EvaluationFailed` (`failures.py`).
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..lang import CompiledExpression, EvaluationError
from ..packs.clocks import CALENDAR_MONTH, service_dates
from ..packs.model import CompiledPack
from ..packs.plan import RuleStep
from ..packs.slots import Slot
from .failures import failure
from .parts import StepValue, rule_parts
from .program import program
from .state import Evaluated, billed_elsewhere
from .tracing import Tracer

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
            plan = self.pack.plan
            for name, site in plan.definitions:
                self.defs[name] = self.evaluate(site.slot, site.expression)
            gates = {gate_id: bool(self.evaluate(site.slot, site.expression)) for gate_id, site in plan.gates}
            parts = {}
            if all(gates.values()):
                parts = {rule.id: rule_parts(rule, steps, self.rule_step(rule.code))
                         for rule, steps in zip(self.pack.rules, plan.rules)}
        return Evaluated(self.facts, self.options, self.dates, self.defs, gates, parts, billed_elsewhere(self.facts))

    def rule_step(self, code: str) -> StepValue:
        """How the steps of a rule deciding `code` are evaluated: at its date of service."""
        day, inputs = self._at(code)
        tracer = self.tracer

        def evaluate(step: RuleStep) -> Any:
            site = step.site
            try:
                return tracer.evaluate(site.slot, site.expression, inputs, day)
            except EvaluationError as error:
                raise failure(error, site.slot) from None
        return evaluate

    def finding_conditions(self) -> dict[str, bool]:
        """Each pack finding's condition, by finding id (the program's, once it ran)."""
        if self._held is not None:
            return self._held
        return {finding_id: bool(self.evaluate(site.slot, site.expression)) for finding_id, site in self.pack.plan.findings}

"""Evaluating a pack over one patient-month: definitions, gates, each rule's parts.

The order of a rule's parts is written once, in `evaluate_rule`; the engine and the
what-if both call it. An expression that fails at run time (a division by zero, a date
out of range) is not a decision: `EvaluationFailed` names the expression's place in the
pack (file:line:col) and the fact it was reading.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ..diagnostics import Diagnostic, DiagnosticError
from ..lang import CompiledExpression, EvaluationError
from ..limits import MAX_UNITS
from ..packs.clocks import CALENDAR_MONTH, service_dates
from ..packs.model import CompiledPack, Rule
from ..packs.slots import Slot
from .state import Evaluated, RuleParts, billed_elsewhere
from .tracing import Tracer

#: evaluates the expression in a slot (a rule's part) and returns its value
Evaluate = Callable[[Slot, CompiledExpression], Any]


class EvaluationFailed(DiagnosticError):
    """The pack could not be evaluated over these facts: no decision is made."""


def failure(error: EvaluationError, slot: Slot) -> EvaluationFailed:
    reading = f" (reading {error.pointer})" if error.pointer else ""
    return EvaluationFailed([Diagnostic(
        error.code, f"{slot} could not be evaluated: {error.message}{reading}", error.span, where=error.pointer,
        hint="the pack fails on these facts; correct the expression (policyengine validate cannot see this)")])


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
    units = (evaluate(s.units, rule.units) if rule.units is not None else 1) if met else 0
    if rule.units is not None and units > MAX_UNITS:
        raise failure(EvaluationError("eval.out_of_range", f"the rule earns {units} units; a line bills at most {MAX_UNITS}",
                                      rule.units.checked.root.span), s.units)
    return RuleParts(None, met, actual, required, units)


class Run:
    """One pack over one patient-month's facts, recorded by a tracer."""

    def __init__(self, pack: CompiledPack, facts: dict, options: Mapping[str, Any], tracer: Tracer) -> None:
        self.pack, self.facts, self.options, self.tracer = pack, facts, options, tracer
        self.dates = service_dates(pack.clocks, facts)
        self.defs: dict[str, Any] = {}
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
        self.definitions()
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

    def definitions(self) -> None:
        """Every definition in order: all at once when the tracer allows (one compiled
        function), else one at a time. When the batch fails, the definitions run one at
        a time to say which one failed, and where."""
        pack = self.pack
        if self.tracer.batches:
            try:
                pack.all_definitions(*self._at(None)[1], self.defs)
            except Exception:  # noqa: BLE001 - located below, one definition at a time
                self.defs.clear()
            else:
                if self.tracer.records:
                    for (name, _), slot in zip(pack.definitions, pack.definition_slots):
                        self.tracer.note(slot, self.defs[name])
                return
        for (name, expression), slot in zip(pack.definitions, pack.definition_slots):
            self.defs[name] = self.evaluate(slot, expression)

    def finding_conditions(self) -> dict[str, bool]:
        """Each pack finding's condition, by finding id (all at once when the tracer allows)."""
        pack = self.pack
        held: dict[str, bool] = {}
        if self.tracer.batches:
            try:
                pack.all_finding_conditions(*self._at(None)[1], held)
            except Exception:  # noqa: BLE001 - located below, one condition at a time
                held.clear()
            if self.tracer.records:
                for finding_id, value in held.items():
                    self.tracer.note(pack.findings_by_id[finding_id].slot, value)
        return held or {finding.id: bool(self.evaluate(finding.slot, finding.when)) for finding in pack.findings}

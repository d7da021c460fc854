"""When a pack cannot be evaluated over the facts: no decision, a located error.

An expression that fails at run time (a division by zero, a date out of range) or a rule
that earns more units than a line can bill is not a decision: `EvaluationFailed` names
the expression's place in the pack (file:line:col) and the fact it was reading.
"""
from __future__ import annotations

from ..diagnostics import Diagnostic, DiagnosticError
from ..lang import EvaluationError
from ..limits import MAX_UNITS
from ..packs.model import Rule
from ..packs.slots import Slot


class EvaluationFailed(DiagnosticError):
    """The pack could not be evaluated over these facts: no decision is made."""


def failure(error: EvaluationError, slot: Slot) -> EvaluationFailed:
    reading = f" (reading {error.pointer})" if error.pointer else ""
    return EvaluationFailed([Diagnostic(
        error.code, f"{slot} could not be evaluated: {error.message}{reading}", error.span, where=error.pointer,
        hint="the pack fails on these facts; correct the expression (policyengine validate cannot see this)")])


def checked_units(rule: Rule, units: int) -> int:
    """The units a rule's `units` expression earned, when a line can bill them."""
    if units > MAX_UNITS:
        assert rule.units is not None
        raise failure(EvaluationError("eval.out_of_range", f"the rule earns {units} units; a line bills at most {MAX_UNITS}",
                                      rule.units.checked.root.span), rule.slots.units)
    return units

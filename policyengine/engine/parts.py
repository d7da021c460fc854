"""A rule's parts read from its plan's steps: the one reading of what each step means.

`rule_parts` takes any way of finding a step's value: evaluating it (`evaluation.py`,
the what-if) or reading it from a full trace (`recorded.py`). The generated program
(`program.py`) writes the same reading as code.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..packs.model import Rule
from ..packs.plan import ACTUAL, BLOCKED, REQUIRED, UNITS, WHEN, RulePlan, RuleStep
from .failures import checked_units
from .state import RuleParts

#: the value of one step of a rule's plan
StepValue = Callable[[RuleStep], Any]


def rule_parts(rule: Rule, plan: RulePlan, value: StepValue) -> RuleParts:
    """A rule's parts from its plan's steps, each valued by `value` when the plan reaches
    it: a blocked condition that holds stops the rule; `units` only when `when` held (1
    when the rule states none)."""
    met, shown, units = False, {ACTUAL: None, REQUIRED: None}, 1
    for step in plan.steps:
        role = step.role
        if role == BLOCKED:
            if value(step):
                return RuleParts(step.index, False, None, None, 0)
        elif role == WHEN:
            met = bool(value(step))
        elif role == UNITS:
            units = checked_units(rule, value(step)) if met else 0
        else:
            shown[role] = value(step)
    return RuleParts(None, met, shown[ACTUAL], shown[REQUIRED], units if met else 0)

"""What is still reachable before a period ends, e.g. "4 min 30 s more RPM interactive
time by 2026-03-31 earns" the first time code, and what no longer is.

A rule's opportunity says when a code is still to be earned and how much is missing; the
engine offers it only when the resolver agrees: with the missing amount added to the
rule's actual (a definition), the code bills, or bills more units. A code blocked, billed
elsewhere, or kept out by a conflict is never offered. When the opportunity's `reachable`
does not hold (4 more transmission days with 3 left), the code is out of reach: said as
such, with what it would have added, never offered as work.
"""
from __future__ import annotations

from collections.abc import Mapping

from ..lang import CompiledExpression
from ..packs.slots import Slot
from .evaluation import Run
from .rates import Rate
from .stake import added
from .state import Evaluated
from .values import in_words
from .whatif import WhatIf


def opportunities(run: Run, state: Evaluated, billed: Mapping[str, int], rate: Rate) -> tuple[list[dict], list[dict]]:
    """The opportunities the resolver confirms, and those out of reach, each with what
    reaching it adds to the decision's total (`adds`: the codes it would bill, less those
    they would replace); `billed` is the units each rule bills now, by rule id."""
    if state.failed_gate(run.pack) is not None:
        return [], []
    whatif = WhatIf(run.pack, state)
    offered, out_of_reach = [], []
    for rule in run.pack.rules:
        opportunity = rule.opportunity
        if opportunity is None or not run.evaluate(rule.slots.opportunity, opportunity.when, rule.code):
            continue
        missing = run.compute(rule.slots.missing, opportunity.missing, rule.code)
        actual = run.pack.analysis.actual_definitions[rule.id]
        then = whatif.outcomes({actual: state.definitions[actual] + missing})
        if then[rule.id].units <= billed[rule.id]:
            continue
        by = run.compute(rule.slots.by, opportunity.by, rule.code)
        needed = f"{in_words(missing, opportunity.missing)} {opportunity.needed}"
        adds = str(added(then, billed, rate))
        if _reachable(run, rule.slots.reachable, opportunity.reachable, rule.code):
            offered.append({"code": rule.code, "missing": needed, "by": by,
                            "message": f"{needed} by {by} earns {rule.code}", "adds": adds})
        else:
            out_of_reach.append({"code": rule.code, "missing": needed, "by": by,
                                 "message": f"{rule.code} is out of reach: it needs {needed} by {by}", "adds": adds})
    return offered, out_of_reach


def _reachable(run: Run, slot: Slot, reachable: CompiledExpression | None, code: str) -> bool:
    return reachable is None or bool(run.evaluate(slot, reachable, code))

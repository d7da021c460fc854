"""What is still reachable before a period ends, e.g. "4 min 30 s more RPM interactive
time by 2026-03-31 earns" the first time code.

A rule's opportunity says when to offer it and how much is missing; the engine offers it
only when the resolver agrees: with the missing amount added to the rule's actual (a
definition), the code bills, or bills more units. A code blocked, billed elsewhere, or
kept out by a conflict is never offered.
"""
from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from .evaluation import Run
from .rates import Rate
from .state import Evaluated
from .values import in_words
from .whatif import WhatIf


def opportunities(run: Run, state: Evaluated, billed: Mapping[str, int], rate: Rate) -> list[dict]:
    """The opportunities the resolver confirms, each with what reaching it adds to the
    decision's total (`adds`: the codes it would bill, less those they would replace);
    `billed` is the units each rule bills now, by rule id."""
    if state.failed_gate(run.pack) is not None:
        return []
    whatif = WhatIf(run.pack, state)
    found = []
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
        adds = sum((rate(o.rule.code) * (o.units - billed[rule_id]) for rule_id, o in then.items()
                    if o.units != billed[rule_id]), Decimal("0.00"))
        found.append({"code": rule.code, "missing": needed, "by": by, "message": f"{needed} by {by} earns {rule.code}",
                      "adds": str(adds)})
    return found

"""The money at stake where completing the record could recover it.

A code denied by missing documentation (no documented consent) or a missing prerequisite
(a device not documented as FDA-defined) may be worth completing the record for. Its
line says what the code would bill were that one cause lifted: the gate passed or the
blocked condition not held, the yes/no definitions the pack says then hold
(`if_documented: [device_ok]`) true, every other fact as it is. A finding about records
the care team can still complete (calls without a performer) names the values its
definitions take once they are (`if_documented: {countable_time: ...}`), and says what
that adds to the decision's total. The what-if (`whatif.py`) evaluates what that changes
and the resolver decides, conflicts included, so a code the lift would only see replaced
is at stake for $0.00.
"""
from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from ..packs.model import RECOVERABLE, CompiledPack
from .evaluation import Run
from .failures import EvaluationFailed
from .rates import Rate
from .resolve import Outcome
from .state import Evaluated
from .whatif import Lift, WhatIf


def added(then: Mapping[str, Outcome], billed: Mapping[str, int], rate: Rate) -> Decimal:
    """What the outcomes `then` add to a decision that bills `billed` units by rule id: the
    codes they would bill, less those they would replace."""
    return sum((rate(o.rule.code) * (o.units - billed[rule_id]) for rule_id, o in then.items()
                if o.units != billed[rule_id]), Decimal("0.00"))


def add_finding_stakes(run: Run, state: Evaluated, findings: list[dict], billed: Mapping[str, int], rate: Rate) -> None:
    """Give each of the pack's findings that says what its definitions would be once the
    record is complete its `amount_at_stake`: what that adds to the total (null when the
    pack cannot decide the month with them: an expression fails)."""
    by_id = run.pack.findings_by_id
    whatif = None
    for found in findings:
        finding = by_id.get(found["id"])
        if finding is None or not finding.if_documented:
            continue
        whatif = whatif or WhatIf(run.pack, state)
        try:
            values = {name: run.compute(slot, value)
                      for (name, value), slot in zip(finding.if_documented, finding.documented_slots)}
            found["amount_at_stake"] = str(added(whatif.outcomes(values), billed, rate))
        except EvaluationFailed:
            found["amount_at_stake"] = None


def add_amounts_at_stake(pack: CompiledPack, state: Evaluated, not_billable: list[dict],
                         rate: Rate) -> None:
    """Give each recoverable line denied by a gate or a blocked condition its
    `amount_at_stake`: the code's rate times the units it would bill with that cause lifted;
    null when the pack cannot decide the month without it (an expression fails)."""
    recoverable = [line for line in not_billable if line["status"] in RECOVERABLE]
    if not recoverable:
        return
    whatif = WhatIf(pack, state)
    failed = state.failed_gate(pack)
    if failed is not None:  # one lift for every line: the gate
        units = _units_billed(whatif, Lift(gate=failed.id), failed.if_documented)
        for line in recoverable:
            _give(line, units, rate)
        return
    for line in recoverable:
        blocker = state.parts[line["rule"]].blocker
        if blocker is None:  # an add-on without its base code: no one record to complete
            continue
        documented = pack.rules_by_id[line["rule"]].blocked[blocker].if_documented
        _give(line, _units_billed(whatif, Lift(rule=line["rule"], blocker=blocker), documented), rate)


def _give(line: dict, units: dict[str, int] | None, rate: Rate) -> None:
    """The line's amount at stake from the units each rule would bill (None: unknown)."""
    if units is None:
        line["amount_at_stake"] = None
    else:
        billed = units[line["rule"]]
        line["amount_at_stake"] = str(rate(line["code"]) * billed) if billed else "0.00"


def _units_billed(whatif: WhatIf, lift: Lift, documented: tuple[str, ...]) -> dict[str, int] | None:
    """The units each rule would bill with `lift` taken away and the `documented`
    definitions true; None when the pack cannot decide that month (an expression fails)."""
    try:
        return {rule: outcome.units for rule, outcome in whatif.outcomes(dict.fromkeys(documented, True), lift=lift).items()}
    except EvaluationFailed:
        return None

"""The money at stake on a line that completing the record could recover.

A code denied by missing documentation (no documented consent) or a missing prerequisite
(a device not documented as FDA-defined) may be worth completing the record for. Its
line says what the code would bill were that one cause lifted: the gate passed or the
blocked condition not held, the yes/no definitions the pack says then hold
(`if_documented: [device_ok]`) true, every other fact as it is. The what-if
(`whatif.py`) evaluates what that changes and the resolver decides, conflicts included,
so a code the lift would only see replaced is at stake for $0.00.
"""
from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from ..packs.model import RECOVERABLE, CompiledPack
from .failures import EvaluationFailed
from .state import Evaluated
from .whatif import Lift, WhatIf

def add_amounts_at_stake(pack: CompiledPack, state: Evaluated, not_billable: list[dict],
                         rate: Callable[[str], Decimal]) -> None:
    """Give each recoverable line denied by a gate or a blocked condition its
    `amount_at_stake`: the code's rate times the units it would bill with that cause lifted;
    null when the pack cannot evaluate the code without it."""
    failed = state.failed_gate(pack)
    whatif = WhatIf(pack, state)
    for line in not_billable:
        if line["status"] not in RECOVERABLE:
            continue
        if failed is not None:
            lift, documented = Lift(gate=failed.id), failed.if_documented
        elif (blocker := state.parts[line["rule"]].blocker) is not None:
            lift = Lift(rule=line["rule"], blocker=blocker)
            documented = pack.rules_by_id[line["rule"]].blocked[blocker].if_documented
        else:  # an add-on without its base code: no one record to complete
            continue
        try:
            units = whatif.outcomes(dict.fromkeys(documented, True), lift=lift)[line["rule"]].units
            line["amount_at_stake"] = str(rate(line["code"]) * units) if units else "0.00"
        except EvaluationFailed:
            line["amount_at_stake"] = None

"""The rate of a code: its RVU times the conversion factor, rounded half-up to cents.

A decision asks for a code's rate once; the RVU and the conversion factor are the pack's
expressions, evaluated at the code's date of service. One that reads nothing but
parameters has the same value for every decision on that date, so the pack keeps it by
date; one that reads the facts (the factor for a qualifying APM participant) is evaluated
once per decision and date. A tracer that watches computed values (the full trace lists
every parameter a rate read) sees every evaluation.
"""
from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from ..lang import CompiledExpression, EvaluationError
from ..lang.runtime import round_half_up
from ..limits import MAX_RATE
from ..packs.model import Code, CompiledPack
from ..packs.slots import CONVERSION_FACTOR, Slot
from .evaluation import Run
from .failures import failure
from .tracing import Tracer

#: the rate per unit of a code
Rate = Callable[[str], Decimal]


def rate_of(code: Code, rvu: Any, conversion_factor: Decimal) -> Decimal:
    """RVU x conversion factor, rounded half-up to cents (contract section 2); a rate out
    of bounds (a negative RVU, a mistyped factor) is an error of the pack, never billed."""
    rate = round_half_up(Decimal(rvu) * conversion_factor, 2)
    if not 0 <= rate <= MAX_RATE:
        error = EvaluationError("eval.out_of_range", f"the rate of {code.code} is ${rate} ({rvu} RVU x ${conversion_factor}); "
                                f"a rate is from $0 to ${MAX_RATE}", code.rvu.checked.root.span)
        raise failure(error, code.slot)
    return rate


class Rates:
    """The rates of one decision: `rates(code)`."""

    def __init__(self, run: Run) -> None:
        self.run = run
        self.watched = type(run.tracer).compute is not Tracer.compute
        #: (slot, date) -> value, for the expressions that read only parameters
        self.dated: dict[tuple[Slot, str], Any] = run.pack.derived.setdefault("rate values by date", {})
        #: (slot, date) -> value, for this decision
        self.values: dict[tuple[Slot, str], Any] = {}
        self.known: dict[str, Decimal] = {}

    def __call__(self, code: str) -> Decimal:
        found = self.known.get(code)
        if found is None:
            pack = self.run.pack
            described = pack.codes[code]
            found = self.known[code] = rate_of(described, self.value(described.slot, described.rvu, code),
                                               self.value(CONVERSION_FACTOR, pack.conversion_factor, code))
        return found

    def value(self, slot: Slot, expression: CompiledExpression, code: str) -> Any:
        """The expression's value at the code's date of service."""
        if self.watched:
            return self.run.compute(slot, expression, code)
        key = (slot, self.run.day(code))
        kept = self.dated if _reads_only_params(self.run.pack, slot) else self.values
        if key not in kept:
            kept[key] = self.run.compute(slot, expression, code)
        return kept[key]


def _reads_only_params(pack: CompiledPack, slot: Slot) -> bool:
    reads = pack.analysis.reads[slot]
    return not (reads.facts or reads.definitions or reads.options)

"""What an evaluation found, before anything is decided: the values the resolver decides
from and the what-if starts from.

An `Evaluated` comes from evaluating a pack over facts (`evaluation.py`), or from reading
back the full trace of a decision (`recorded.py`); the resolver, the what-if and so the
decision and its explanation read nothing else.
"""
from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

from .. import pointers
from ..packs.model import CompiledPack, Gate
from ..packs.plan import ACTUAL, BLOCKED, REQUIRED, UNITS, WHEN, RuleStep
from .filters import pointers_by_identity


class RuleParts(NamedTuple):
    """A rule's evaluated parts: the first blocked condition that held (then nothing else
    was evaluated), whether it is met, its actual and required values, and the units it
    earns (0 unless met). A tuple: every decision makes one per rule."""

    blocker: int | None
    met: bool
    actual: Any
    required: Any
    units: int

    def recorded(self, step: RuleStep) -> tuple[bool, Any]:
        """(whether the evaluation reached the step of the rule's plan, its value there)."""
        if step.role == BLOCKED:
            index = step.index or 0
            return self.blocker is None or index <= self.blocker, index == self.blocker
        if self.blocker is not None:
            return False, None
        if step.role == UNITS:
            return self.met, self.units
        return True, {WHEN: self.met, ACTUAL: self.actual, REQUIRED: self.required}[step.role]


@dataclass(frozen=True, slots=True)
class BilledElsewhere:
    """A code the facts say is already billed for the patient and period (other_services)."""

    code: str
    practitioner: str | None
    #: billed by a practitioner other than the billing practitioner (or by one not named)
    other_practitioner: bool
    pointer: str

    def as_json(self) -> dict:
        return {"code": self.code, "practitioner": self.practitioner, "other_practitioner": self.other_practitioner,
                "pointer": self.pointer}


#: the contract fields (facts, section 1) that say what is billed elsewhere, and by whom
OTHER_SERVICES = "other_services"
BILLING_PRACTITIONER = "billing_practitioner"


def billed_elsewhere(facts: Mapping) -> tuple[BilledElsewhere, ...]:
    """The codes billed elsewhere, in the facts' order; a practitioner who is not named,
    or a billing practitioner who is not, counts as another practitioner (the reading an
    auditor cannot deny)."""
    ours = (facts.get(BILLING_PRACTITIONER) or {}).get("id")
    return tuple(BilledElsewhere(item["code"], item.get("practitioner"),
                                 ours is None or item.get("practitioner") != ours,
                                 pointers.pointer((OTHER_SERVICES, i)))
                 for i, item in enumerate(facts.get(OTHER_SERVICES) or ()))


@dataclass(frozen=True)
class Evaluated:
    """The values one decision is made from."""

    #: the facts, or None when read back from a trace (then what reads them cannot run again)
    facts: Mapping | None
    options: Mapping[str, Any]
    #: the date of service of each clock: dated parameters are read at these dates
    service_dates: Mapping[str, str]
    definitions: Mapping[str, Any]
    #: gate id -> whether it passed
    gates: Mapping[str, bool]
    #: rule id -> its parts (none when a gate stopped every code)
    parts: Mapping[str, RuleParts]
    elsewhere: tuple[BilledElsewhere, ...]

    @functools.cached_property
    def fact_pointers(self) -> dict[int, str]:
        """The JSON pointer of each record of the facts' lists by the record's id()
        (`filters.pointers_by_identity`), found once a decision: the findings' evidence and
        the full trace both name records by it."""
        return pointers_by_identity(self.facts or {})

    def failed_gate(self, pack: CompiledPack) -> Gate | None:
        """The first gate that did not pass: it stops every code."""
        return next((gate for gate in pack.gates if self.gates.get(gate.id) is False), None)

    def params(self, pack: CompiledPack, clock: str) -> dict[str, Any]:
        """The parameters in force on the date of service of `clock`."""
        return pack.params_at(self.service_dates[clock])

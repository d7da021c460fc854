"""Outcomes in the decision's words: billable and not-billable lines, and claim review.

Each line says why in the sentence of its cause, as the resolver found it: the rule's own
reason with its values in words (met, or short of its required), the reason of the
blocked condition or gate, the code that replaced it, the code billed elsewhere, the code
it needs, or the condition that did not hold though the threshold was reached. A line
carries a shortfall's actual and required as data, never a threshold it reached.
"""
from __future__ import annotations

from typing import Any

from ..packs.model import CompiledPack, Conflict, Rule
from .rates import Rate
from .resolve import BilledWith, Blocked, Gated, KeptOver, Met, Needs, NotMet, NoUnits, Outcome, Shortfall
from .state import BilledElsewhere
from .values import in_words, to_json_value


def line(outcome: Outcome, rate: Rate, evidence: list[str]) -> dict:
    """The decision line of one rule's outcome: billable lines carry units and amount and
    the rule's actual and required; the others a status (the kind of cause), the actual and
    required only when the cause is a shortfall (else None), and the evidence of the cause
    as JSON pointers into the facts."""
    rule = outcome.rule
    actual, required = line_values(outcome)
    if outcome.units > 0:
        return {"code": rule.code, "units": outcome.units, "amount": str(rate(rule.code) * outcome.units),
                "rule": rule.id, "reason": reason(outcome), "actual": actual, "required": required}
    return {"code": rule.code, "rule": rule.id, "status": outcome.status, "reason": reason(outcome),
            "actual": actual, "required": required, "evidence": evidence}


def line_values(outcome: Outcome) -> tuple[Any, Any]:
    """The actual and required a line carries, as JSON data: the rule's, for a code billed
    or short of its required; None for every other cause."""
    parts = outcome.parts
    if parts is None or not (outcome.billed or isinstance(outcome.cause, Shortfall)):
        return None, None
    return to_json_value(parts.actual), to_json_value(parts.required)


def reason(outcome: Outcome) -> str:
    """Why a code is billed or not, in one sentence: the sentence of its cause."""
    rule, parts, cause = outcome.rule, outcome.parts, outcome.cause
    if isinstance(cause, Gated):
        return cause.gate.reason
    if isinstance(cause, Blocked):
        return rule.blocked[cause.index].reason
    if isinstance(cause, BilledWith):
        return elsewhere_reason(rule.code, cause.conflict, cause.other)
    if isinstance(cause, KeptOver):
        return kept_over_reason(rule.code, cause)
    if isinstance(cause, Needs):
        return needs_reason(cause.missing)
    assert parts is not None
    if isinstance(cause, NoUnits):
        return no_units_reason(rule, parts.units)
    words = {"actual": in_words(parts.actual, rule.actual), "required": in_words(parts.required, rule.required)}
    if isinstance(cause, Met):
        if cause.capped_from is None:
            return rule.reason_met.render(words)
        return rule.reason_met.render(words) + capped_reason(rule.code, cause.capped_from, outcome.units)
    if isinstance(cause, NotMet) and states_threshold(rule):
        return reached_reason(rule, words["actual"], words["required"])
    return rule.reason_not_met.render(words)


def capped_reason(code: str, earned: int, units: int) -> str:
    """What a met reason adds when the code bills fewer units than its rule earned."""
    return f" ({earned} units earned; {code} bills at most {units})"


def kept_over_reason(code: str, cause: KeptOver) -> str:
    return (f"replaced by {cause.winner}, which this decision bills: {code} and {cause.winner} are not "
            f"billed together for the same patient and period ({cause.conflict.citation})")


def needs_reason(missing: tuple[str, ...]) -> str:
    return f"needs {', '.join(missing)} in the same period"


def no_units_reason(rule: Rule, units: int) -> str:
    assert rule.units is not None
    return f"the rule for {rule.code} is met but earns no unit ({rule.units.line} is {units})"


def states_threshold(rule: Rule) -> bool:
    """Whether a rule states an actual and a required: one that reached its required and is
    not met then says which condition did not hold."""
    return rule.actual is not None and rule.required is not None


def reached_reason(rule: Rule, actual: str, required: str) -> str:
    """A rule whose actual reaches its required is not met: another of its conditions failed."""
    return (f"{actual} reaches the required {required}, but a condition of the rule for "
            f"{rule.code} does not hold: {rule.when.line}")


def elsewhere_reason(code: str, conflict: Conflict, other: BilledElsewhere) -> str:
    if conflict.one_practitioner:
        by = other.practitioner or "a practitioner not named"
        return (f"{other.code} is billed for this patient and period by another practitioner ({by}); "
                f"{', '.join(conflict.codes)} are billed by one practitioner only ({conflict.citation})")
    return (f"{other.code} is already billed for this patient and period (other_services), and {code} is not "
            f"billed with it ({conflict.citation})")


def review(pack: CompiledPack, claims: list[dict], billable: list[dict], not_billable: list[dict],
           rate: Rate) -> list[dict]:
    """Each proposed claim line accepted only exactly as the decision bills it."""
    billed = {line["code"]: line for line in billable}
    denied = {line["code"]: line for line in not_billable}
    summary = ", ".join(f"{line['code']} x{line['units']}" for line in billable) or "nothing"
    seen: set[str] = set()
    reviewed = []
    for claim in claims:
        code, units = claim["code"], claim["units"]
        billed_line = billed.get(code)
        if code in seen:
            accepted, why = False, f"{code} is claimed on more than one line; it is billed once per period"
        elif billed_line is not None and billed_line["units"] == units:
            accepted, why = True, f"matches the decision: {code} x{units}"
        elif billed_line is not None:
            accepted, why = False, f"the decision bills {code} x{billed_line['units']}, not x{units} (it bills {summary})"
        elif code in denied:
            accepted, why = False, f"{code} is not billable: {denied[code]['reason']}"
        else:
            accepted, why = False, f"{code} is not decided by pack {pack.id}"
        seen.add(code)
        at_stake = str(rate(code) * units) if code in pack.codes else None
        reviewed.append({"code": code, "units": units, "accepted": accepted, "reason": why,
                         "amount_at_stake": at_stake})
    return reviewed

"""The decision's findings: the pack's own, and those the engine adds from the outcomes
(a conflict that kept an earned code from billing, a code capped at its max_units, a
rate that rests on a value marked unverified, a period that ends after the pack's year)."""
from __future__ import annotations

from collections.abc import Iterable

from ..packs.model import CompiledPack, Conflict
from .evaluation import Run
from .evidence import Evidence
from .lines import reason
from .resolve import BilledWith, KeptOver, Met, Outcome
from .values import to_json_value


def pack_findings(run: Run, evidence: Evidence) -> list[dict]:
    """The pack's findings whose condition holds, with their evidence as pointers."""
    held = run.finding_conditions()
    found = []
    for finding in run.pack.findings:
        if not held[finding.id]:
            continue
        pointed: list[str] = []
        if finding.evidence is not None:
            records = run.compute(finding.slot, finding.evidence)
            pointed = evidence.pointers(records, run.pack.analysis.evidence_lists.get(finding.evidence_slot))
        found.append({"id": finding.id, "severity": finding.severity, "message": finding.message, "evidence": pointed})
    return found


def outcome_findings(pack: CompiledPack, outcomes: Iterable[Outcome]) -> list[dict]:
    """A warning for each earned code a conflict kept from billing, and a note for each
    code billed at its max_units rather than what its rule earned."""
    found = []
    for outcome in outcomes:
        cause = outcome.cause
        if isinstance(cause, (KeptOver, BilledWith)) and outcome.earned:
            evidence = [cause.other.pointer] if isinstance(cause, BilledWith) else []
            found.append(earned_not_billed(outcome.rule.code, reason(outcome), cause.conflict, evidence))
        elif isinstance(cause, Met) and cause.capped_from is not None:
            found.append(capped(outcome.rule.code, cause.capped_from, pack.codes[outcome.rule.code].max_units))
    return found


def earned_not_billed(code: str, reason: str, conflict: Conflict, evidence: list[str]) -> dict:
    """The warning for an earned code a conflict kept from billing."""
    return {"id": conflict.id, "severity": "warning", "message": f"{code} is earned but not billed: {reason}",
            "evidence": evidence}


def capped(code: str, earned: int, max_units: int | None) -> dict:
    """The note for a code billed at its max_units rather than what its rule earned."""
    return {"id": "units.capped", "severity": "info",
            "message": f"{code} earned {earned} units; the code bills at most {max_units} (max_units)", "evidence": []}


def unverified_rates(run: Run, billable: list[dict]) -> list[dict]:
    """An info finding for each billed rate that rests on a value marked unverified."""
    found = []
    for line in billable:
        code = run.pack.codes[line["code"]]
        for name in code.parameters_used:
            dated = run.pack.parameters[name].at(run.day(code.code))
            if dated is not None and dated[3] == "unverified":
                found.append({"id": "parameter.unverified", "severity": "info",
                              "message": f"the {line['code']} rate uses {name} = {to_json_value(dated[1])}, "
                                         f"a value marked unverified ({dated[2]})",
                              "evidence": []})
    return found


def periods_beyond_pack(run: Run) -> list[dict]:
    """A warning when a code's period ends after the pack's fee-schedule year: CMS has not
    said which year decides a device period spanning two (R-50 recommends the year it ends
    in), and this decision used this pack's values for it."""
    beyond: dict[str, set[str]] = {}
    for clock, day in run.dates.items():
        if not run.pack.covers(day):
            beyond.setdefault(day, set()).update(c.code for c in run.pack.codes.values() if c.clock == clock)
    return [{"id": "period.beyond_pack", "severity": "warning",
             "message": f"the monitoring period ends on {day}, after {run.pack.id} ends on {run.pack.effective_to}; "
                        f"{', '.join(sorted(codes))} were decided with this pack's values. CMS has not said which "
                        f"fee-schedule year decides a period spanning two; the year it ends in is the safer "
                        f"reading: decide those codes with the pack for {day[:4]}",
             "evidence": ["/monitoring_period/end"]} for day, codes in sorted(beyond.items())]

"""One patient-month in, one decision out (contract v1, section 2).

The data flow: options resolved; the pack evaluated over the facts (definitions, gates,
each rule's parts: `evaluation.py`); the outcomes resolved from those values and written
as lines (`assembly.py`: by the pack's generated assembly after its program, by the
resolver step by step); then findings, opportunities, claim review, total, trace. The
output is plain JSON data in a fixed key order, so the same facts and pack serialize to
the same bytes.
"""
from __future__ import annotations

from decimal import Decimal
from typing import Any

from ..packs.model import CompiledPack
from ..version import __version__
from .assembly import assembly, resolved_lines
from .collector import collector_paused
from .evaluation import Run
from .evidence import Evidence
from .findings import pack_findings, periods_beyond_pack, unverified_rates
from .lines import review
from .rates import Rates
from .opportunities import opportunities
from .options import resolve_options
from .stake import add_amounts_at_stake, add_finding_stakes
from .tracing import TRACE_FORMS, Tracer, tracer_for
from .values import canonical_sha256


def decide(pack: CompiledPack, facts: dict, options: dict[str, Any] | None = None, trace: str = "compact",
           tracer: Tracer | None = None) -> dict:
    """The decision for facts already checked against the facts schema.

    `options` are raw values (strings from a command line are coerced); `trace` is one of
    none, compact (values aligned with `pack.trace_slots`) or full; `tracer` replaces the
    standard one (test coverage watches every evaluation this way). Raises
    `EvaluationFailed` when an expression of the pack fails on these facts.
    """
    with collector_paused():
        return _decide(pack, facts, options, tracer or tracer_for(pack, trace))


def _decide(pack: CompiledPack, facts: dict, options: dict[str, Any] | None, tracer: Tracer) -> dict:
    run = Run(pack, facts, resolve_options(pack, options), tracer)
    state = run.state()
    rate = Rates(run)
    evidence = Evidence(run, state)
    if tracer.program is not None:
        lines = assembly(pack).run(state.gates, state.parts, state.elsewhere, rate, evidence)
    else:
        lines = resolved_lines(pack, state, rate, evidence)
    billable, not_billable = lines.billable, lines.not_billable
    add_amounts_at_stake(pack, state, not_billable, rate)
    findings = pack_findings(run, evidence) + lines.findings + unverified_rates(run, billable) + periods_beyond_pack(run)
    add_finding_stakes(run, state, findings, lines.units, rate)
    offered, out_of_reach = opportunities(run, state, lines.units, rate)
    decision = {
        "patient_id": facts["patient_id"],
        "month": facts["month"],
        "pack": {"id": pack.id, "version": pack.version, "fee_schedule_year": pack.fee_schedule_year,
                 "sha256": pack.sha256},
        "engine": {"version": __version__},
        "facts_sha256": canonical_sha256(facts),
        "options": dict(sorted(run.options.items())),
        "billable": billable,
        "not_billable": not_billable,
        "findings": findings,
        "opportunities": offered,
    }
    if out_of_reach:
        decision["out_of_reach"] = out_of_reach
    if facts.get("claims") is not None:
        decision["claim_review"] = review(pack, facts["claims"], billable, not_billable, rate)
    total = sum((Decimal(item["amount"]) for item in billable), Decimal("0"))
    decision["total"] = str(total.quantize(Decimal("0.01")))
    decision["trace"] = tracer.output(state)
    return decision


__all__ = ["TRACE_FORMS", "decide"]

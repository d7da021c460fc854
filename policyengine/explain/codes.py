"""Why each code is billed or not: the decision's lines, and with a full trace the
resolver's own outcomes (the same function the engine called), their shortfalls in
words, the documentation that would unlock a code, and any line that does not follow
from the trace it carries."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..engine.failures import EvaluationFailed
from ..engine.recorded import Entry
from ..engine.lines import line_values, reason
from ..engine.resolve import Gated, Outcome
from ..engine.whatif import WhatIf, WhatIfUnavailable
from ..lang import DURATION, CompiledExpression
from ..packs.model import CompiledPack, Rule
from .model import CodeLine, Gap, Ledger, short_value


def _words(value: Any, expression: CompiledExpression | None) -> str | None:
    if value is None:
        return None
    return short_value(value, expression is not None and expression.type == DURATION)


def code_line(line: dict, pack: CompiledPack | None) -> CodeLine:
    """One line of the decision, in words, with what the pack says of its code and rule."""
    billable = "units" in line
    return _line(line["code"], line["rule"], billable, line.get("units"), line.get("amount"),
                 None if billable else line.get("status"), line["reason"], line.get("actual"), line.get("required"), pack,
                 line.get("amount_at_stake"))


def outcome_line(outcome: Outcome, line: dict | None, pack: CompiledPack) -> CodeLine:
    """One rule's outcome as the resolver gives it from the trace (the amount, which needs
    the facts' rates, from the decision's line)."""
    amount = line.get("amount") if line is not None and line.get("units") == outcome.units else None
    return _line(outcome.rule.code, outcome.rule.id, outcome.billed, outcome.units if outcome.billed else None, amount,
                 None if outcome.billed else outcome.status, reason(outcome), *line_values(outcome), pack,
                 line.get("amount_at_stake") if line is not None else None)


def _line(code: str, rule_id: str, billable: bool, units: int | None, amount: str | None, status: str | None,
          why: str, actual: Any, required: Any, pack: CompiledPack | None, at_stake: str | None) -> CodeLine:
    rule = pack.rules_by_id.get(rule_id) if pack is not None else None
    described = pack.codes.get(code) if pack is not None else None
    short_by = None
    if (not billable and isinstance(actual, int) and isinstance(required, int) and not isinstance(actual, bool)
            and actual < required):
        short_by = _words(required - actual, rule.actual if rule else None)
    return CodeLine(code, described.descriptor if described else None, billable, units, amount, rule_id,
                    rule.citation if rule else None, status, why,
                    None if billable else _words(actual, rule.actual if rule else None),
                    None if billable else _words(required, rule.required if rule else None), short_by, at_stake=at_stake)


def disagreements(decision: dict, outcomes: dict[str, Outcome]) -> list[str]:
    """Each rule whose line in the decision is not what its trace resolves to."""
    lines = {line["rule"]: line for line in decision.get("billable", ()) + decision.get("not_billable", ())}
    found = []
    for rule_id, outcome in outcomes.items():
        line = lines.get(rule_id)
        says = (line.get("units", 0), line.get("reason")) if line is not None else None
        if says != (outcome.units, reason(outcome)):
            billed = f"{outcome.rule.code} x{outcome.units}" if outcome.billed else f"{outcome.rule.code} not billable"
            found.append(f"rule {rule_id}: the decision's line says {says}, its trace resolves to {billed} "
                         f"({reason(outcome)})")
    return found


def unlock_fields(line: CodeLine, outcome: Outcome | None, entries: Mapping[str, Entry]) -> None:
    """For a code a documentation gate stopped: the facts that gate read."""
    if outcome is None or not isinstance(outcome.cause, Gated) or outcome.status != "documentation_missing":
        return
    gate = outcome.cause.gate
    line.citation = gate.citation
    entry = entries.get(str(gate.slot))
    reads = list(entry.reads) if entry is not None else []
    line.unlock_fields = [p for p in reads if p.count("/") > 1] or reads or [gate.when.line]


def documentation_gaps(line: CodeLine, rule: Rule, actual: str | None, ledgers: list[Ledger],
                       whatif: WhatIf | None) -> None:
    """Records whose time the rule's actual (a total, `actual`) left out for want of
    documentation, and whether counting them would bill the code (the what-if says, with
    the pack's own rules)."""
    for ledger in ledgers:
        if ledger.definition != actual:
            continue
        gaps = [Gap(row.pointer, [f"{row.pointer}/{f}" for f in row.missing_fields], row.seconds, row.excluded_by or "")
                for row in ledger.rows if row.documentation_gap]
        if not gaps:
            continue
        line.gaps = gaps
        if not line.billable:
            line.unlock_fields = [f for gap in gaps for f in gap.fields]
            extra = sum(gap.seconds or 0 for gap in gaps)
            if whatif is not None and ledger.unavailable is None:
                try:
                    line.gaps_would_unlock = whatif.outcomes({ledger.definition: ledger.total + extra})[rule.id].billed
                except (WhatIfUnavailable, EvaluationFailed):
                    line.gaps_would_unlock = None

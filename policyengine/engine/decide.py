"""One patient-month in, one decision out (contract v1, section 2).

Order of work: options resolved, definitions evaluated, pack gates (consent, established
patient) checked, then each rule in pack order, then findings. A rule whose expression
fails at run time is recorded as `status: error` and the decision goes on. The output is
plain JSON data in a fixed key order, so the same facts and pack serialize byte for byte
the same.
"""
from __future__ import annotations

import hashlib
import json
from decimal import Decimal
from typing import Any

from .. import __version__
from ..diagnostics import Diagnostic, DiagnosticError, did_you_mean
from ..lang import DURATION, NOT_EVALUATED, EvaluationError, format_seconds
from ..lang.runtime import last_day, round_half_up
from ..packs.compiler import CompiledPack, Rule

TRACE_FORMS = ("none", "compact", "full")


def resolve_options(pack: CompiledPack, given: dict[str, Any] | None) -> dict[str, Any]:
    """Every option the pack declares, defaults overridden by `given`; raises DiagnosticError."""
    values = {name: option.default for name, option in pack.options.items()}
    problems = []
    for name, raw in (given or {}).items():
        option = pack.options.get(name)
        if option is None:
            close = did_you_mean(name, pack.options)
            problems.append(Diagnostic("option.unknown", f"unknown option '{name}'" + (f" (did you mean '{close}'?)" if close else ""),
                                       where=f"--option {name}", hint="options: " + ", ".join(sorted(pack.options))))
            continue
        value = _coerce(raw, option.type)
        if value is None or (option.allowed and value not in option.allowed):
            allowed = ", ".join(map(str, option.allowed)) or f"a {option.type}"
            problems.append(Diagnostic("option.bad_value", f"option '{name}' cannot be {raw!r}",
                                       where=f"--option {name}", hint=f"allowed: {allowed}"))
            continue
        values[name] = value
    if problems:
        raise DiagnosticError(problems)
    return values


def _coerce(raw: Any, kind: str) -> Any:
    if not isinstance(raw, str):
        return raw if (kind == "bool") == isinstance(raw, bool) else None
    if kind == "bool":
        return {"true": True, "false": False}.get(raw.lower())
    if kind == "int":
        return int(raw) if raw.isdigit() else None
    return raw


def _display(value: Any, expression) -> Any:
    """A value as JSON: durations stay whole seconds, money and decimals become strings."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (list, tuple)):
        return [_display(v, None) for v in value]
    return value


def _words(value: Any, expression) -> str:
    if expression is not None and expression.type == DURATION and isinstance(value, int):
        return format_seconds(value)
    return str(value)


def service_date(pack: CompiledPack, clock: str, facts: dict) -> str:
    """The date of service of a code's line: the last day of its period."""
    period = facts.get("monitoring_period")
    if clock != "calendar_month" and period:
        return period["end"]
    return last_day(facts["month"])


def canonical_sha256(data: Any) -> str:
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


class _Run:
    def __init__(self, pack: CompiledPack, facts: dict, options: dict, trace: str) -> None:
        self.pack, self.facts, self.options, self.trace_form = pack, facts, options, trace
        self.month_day = last_day(facts["month"])
        self.defs: dict[str, Any] = {}
        self.trace: list[Any] = []

    def params(self, code: str) -> dict:
        return self.pack.params_at(service_date(self.pack, self.pack.codes[code].clock, self.facts))

    def eval(self, label: str, expression, params: dict) -> Any:
        if self.trace_form == "none":
            return expression.evaluate(self.facts, self.defs, params, self.options)
        traced = expression.trace(self.facts, self.defs, params, self.options)
        if self.trace_form == "full":
            parts = [{"expr": _text(node), "value": _display(v, None)}
                     for node, v in zip(expression.nodes, traced.values)
                     if v is not NOT_EVALUATED and node.span is not None]
            self.trace.append({"id": label, "expression": expression.text, "value": _display(traced.result, None),
                               "parts": parts, "reads": traced.reads})
        else:
            self.trace.append(_display(traced.result, None))
        return traced.result

    def run(self) -> dict:
        pack, facts = self.pack, self.facts
        month_params = pack.params_at(self.month_day)
        for name, expression in pack.definitions:
            self.defs[name] = self.eval(f"definition {name}", expression, month_params)
        failed_gate = None
        for gate in pack.gates:
            if not self.eval(f"gate {gate.id}", gate.when, month_params) and failed_gate is None:
                failed_gate = gate
        billable, not_billable = [], []
        billed: dict[str, int] = {}
        for rule in pack.rules:
            outcome = self.rule(rule, failed_gate, billed)
            (billable if "units" in outcome else not_billable).append(outcome)
        findings = self.findings()
        total = sum((Decimal(line["amount"]) for line in billable), Decimal("0.00"))
        decision = {
            "patient_id": facts["patient_id"], "month": facts["month"],
            "pack": {"id": pack.id, "version": pack.version, "fee_schedule_year": pack.fee_schedule_year,
                     "sha256": pack.sha256},
            "engine": {"version": __version__},
            "facts_sha256": canonical_sha256(facts),
            "options": dict(sorted(self.options.items())),
            "billable": billable, "not_billable": not_billable, "findings": findings,
            "opportunities": [],
            "total": str(total.quantize(Decimal("0.01"))),
        }
        if self.trace_form != "none":
            decision["trace"] = {"form": self.trace_form, "pack_sha256": pack.sha256,
                                 "entries": self.trace if self.trace_form == "full" else
                                 [list(self._labels()), self.trace]}
        return decision

    def _labels(self):
        yield from (f"definition {n}" for n, _ in self.pack.definitions)
        yield from (f"gate {g.id}" for g in self.pack.gates)

    def rule(self, rule: Rule, failed_gate, billed: dict[str, int]) -> dict:
        base = {"code": rule.code, "rule": rule.id}
        if failed_gate is not None:
            return {**base, "status": failed_gate.status, "reason": failed_gate.reason, "actual": None, "required": None}
        params = self.params(rule.code)
        try:
            met = self.eval(f"rule {rule.id}", rule.when, params)
            actual = self.eval(f"rule {rule.id} actual", rule.actual, params) if rule.actual else None
            required = self.eval(f"rule {rule.id} required", rule.required, params) if rule.required else None
            blocked = [c for c in rule.excludes if c in billed] + [c for c in rule.requires if c not in billed]
            if not met or blocked or rule.code in billed:
                reason = _fill(rule.reason_not_met, actual, required, rule)
                if met and blocked:
                    reason = f"not billable with {', '.join(blocked)}" if blocked[0] in rule.excludes else \
                        f"needs {', '.join(blocked)} in the same period"
                return {**base, "status": "not_met", "reason": reason,
                        "actual": _display(actual, rule.actual), "required": _display(required, rule.required)}
            units = self.eval(f"rule {rule.id} units", rule.units, params) if rule.units else 1
        except EvaluationError as error:
            return {**base, "status": "error", "reason": f"{error.code}: {error.message}", "actual": None, "required": None}
        if units <= 0:
            return {**base, "status": "not_met", "reason": _fill(rule.reason_not_met, actual, required, rule),
                    "actual": _display(actual, rule.actual), "required": _display(required, rule.required)}
        billed[rule.code] = units
        rate = self.rate(rule.code, params)
        return {**base, "units": units, "amount": str(rate * units), "reason": _fill(rule.reason_met, actual, required, rule)}

    def rate(self, code: str, params: dict) -> Decimal:
        spec = self.pack.codes[code]
        rvu = spec.rvu.evaluate(self.facts, self.defs, params, self.options)
        cf = self.pack.conversion_factor.evaluate(self.facts, self.defs, params, self.options)
        return round_half_up(Decimal(rvu) * cf, 2)

    def findings(self) -> list[dict]:
        out = []
        params = self.pack.params_at(self.month_day)
        for finding in self.pack.findings:
            try:
                if not self.eval(f"finding {finding.id}", finding.when, params):
                    continue
                evidence = []
                if finding.evidence is not None:
                    evidence = finding.evidence.trace(self.facts, self.defs, params, self.options).details().result_pointers
            except EvaluationError as error:
                out.append({"id": finding.id, "severity": "error", "message": f"{error.code}: {error.message}",
                            "evidence": []})
                continue
            out.append({"id": finding.id, "severity": finding.severity, "message": finding.message,
                        "evidence": evidence})
        return out


def _text(node) -> str:
    span = node.span
    return " ".join(span.source.text[span.start:span.end].split())


def _fill(template: str, actual: Any, required: Any, rule: Rule) -> str:
    return template.format(actual=_words(actual, rule.actual), required=_words(required, rule.required))


def decide(pack: CompiledPack, facts: dict, options: dict[str, Any] | None = None, trace: str = "compact") -> dict:
    """The decision for checked facts; options are raw values (strings from a command line are coerced)."""
    if trace not in TRACE_FORMS:
        raise ValueError(f"trace must be one of {TRACE_FORMS}")
    return _Run(pack, facts, resolve_options(pack, options), trace).run()

"""One patient-month in, one decision out (contract v1, section 2).

Order of work: options resolved, definitions evaluated, the pack's gates (consent,
established patient) checked, each rule in pack order, then findings. A rule whose
expression fails at run time is recorded with `status: error` and the decision goes on.
The output is plain JSON data in a fixed key order, so the same facts and pack serialize
to the same bytes.
"""
from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import Any

from .. import __version__
from ..lang import CompiledExpression, EvaluationError
from ..lang.runtime import as_evaluation_error, last_day, round_half_up
from ..packs.compiler import CompiledPack, Gate, Rule
from .ledger import pointers_by_identity
from .options import resolve_options
from .values import canonical_sha256, in_words, to_json_value
from .tracing import Tracer

TRACE_FORMS = ("none", "compact", "full")


def service_date(clock: str, facts: dict) -> str:
    """The date of service of a line: the last day of its period (the monitoring period
    for device codes, the calendar month for time codes)."""
    period = facts.get("monitoring_period")
    if clock != "calendar_month" and period:
        return period["end"]
    return last_day(facts["month"])


class Definitions(dict):
    """Definition values by name. Reading one whose evaluation failed raises that failure
    again, so every expression that depends on it fails with the cause, not a KeyError."""

    def __init__(self) -> None:
        super().__init__()
        self.errors: dict[str, EvaluationError] = {}

    def __missing__(self, name: str) -> Any:
        error = self.errors.get(name)
        if error is None:
            raise KeyError(name)
        raise EvaluationError(error.code, f"definition {name} failed: {error.message}")


class _Run:
    def __init__(self, pack: CompiledPack, facts: dict, options: dict, tracer: Tracer) -> None:
        self.pack, self.facts, self.options, self.tracer = pack, facts, options, tracer
        self.month_params = pack.params_at(last_day(facts["month"]))
        self.defs = Definitions()
        self.known_pointers: dict[int, str] | None = None

    def eval(self, slot: str, expression: CompiledExpression, params: dict) -> Any:
        return self.tracer.eval(slot, expression, (self.facts, self.defs, params, self.options))

    def definitions(self) -> None:
        """Every definition in order: all at once when nothing watches each one, else (or
        when one fails, to know which) one at a time, a failure recorded, not raised."""
        args = (self.facts, self.defs, self.month_params, self.options)
        if not self.tracer.watches_each_evaluation:
            try:
                self.pack.all_definitions(*args, self.defs)
            except Exception as error:  # noqa: BLE001 - redone one at a time below
                as_evaluation_error(error)
                self.defs.clear()
            else:
                for name, _ in self.pack.definitions:
                    self.tracer.note(f"definition:{name}", self.defs[name])
                return
        for name, expression in self.pack.definitions:
            try:
                self.defs[name] = self.eval(f"definition:{name}", expression, self.month_params)
            except EvaluationError as error:
                self.defs.errors[name] = error

    def params_for(self, code: str) -> dict:
        return self.pack.params_at(service_date(self.pack.codes[code].clock, self.facts))

    def decide(self) -> dict:
        pack = self.pack
        self.definitions()
        failed_gate = None
        for gate in pack.gates:
            try:
                passed = self.eval(f"gate:{gate.id}", gate.when, self.month_params)
            except EvaluationError as error:  # a gate that cannot be decided stops every code
                passed, gate = False, replace(gate, status="error", reason=f"{gate.id}: {error.message} [{error.code}]")
            if not passed and failed_gate is None:
                failed_gate = gate
        billable: list[dict] = []
        not_billable: list[dict] = []
        billed: dict[str, int] = {}
        for rule in pack.rules:
            line = self.gated(rule, failed_gate) if failed_gate else self.rule(rule, billed)
            (billable if "units" in line else not_billable).append(line)
        findings = self.findings()
        findings += self.unverified_rates(billable)
        findings += [{"id": "evaluation.error", "severity": "error", "evidence": [],
                      "message": f"definition {name} could not be evaluated: {error.message} [{error.code}]"}
                     for name, error in self.defs.errors.items()]
        total = sum((Decimal(line["amount"]) for line in billable), Decimal("0"))
        decision = {
            "patient_id": self.facts["patient_id"],
            "month": self.facts["month"],
            "pack": {"id": pack.id, "version": pack.version, "fee_schedule_year": pack.fee_schedule_year,
                     "sha256": pack.sha256},
            "engine": {"version": __version__},
            "facts_sha256": canonical_sha256(self.facts),
            "options": dict(sorted(self.options.items())),
            "billable": billable,
            "not_billable": not_billable,
            "findings": findings,
            "opportunities": [] if failed_gate else self.opportunities(),
        }
        claims = self.facts.get("claims")
        if claims is not None:
            decision["claim_review"] = self.review(claims, billable, not_billable)
        decision["total"] = str(total.quantize(Decimal("0.01")))
        return decision

    def opportunities(self) -> list[dict]:
        """Codes still reachable before their period ends, as each rule's pack states it."""
        found = []
        for rule in self.pack.rules:
            opportunity = rule.opportunity
            if opportunity is None:
                continue
            params = self.params_for(rule.code)
            try:
                if not self.eval(f"rule:{rule.id}:opportunity", opportunity.when, params):
                    continue
                args = (self.facts, self.defs, params, self.options)
                amount = in_words(self.tracer.compute(opportunity.missing, args), opportunity.missing)
                by = self.tracer.compute(opportunity.by, args)
            except EvaluationError:
                continue  # an opportunity is advice; a failing one is simply not offered
            missing = f"{amount} {opportunity.needed}"
            found.append({"code": rule.code, "missing": missing, "by": by,
                          "message": f"{missing} by {by} earns {rule.code}"})
        return found

    def review(self, claims: list[dict], billable: list[dict], not_billable: list[dict]) -> list[dict]:
        """Each proposed claim line accepted only exactly as the decision bills it."""
        billed = {line["code"]: line for line in billable}
        denied = {line["code"]: line for line in not_billable}
        summary = ", ".join(f"{line['code']} x{line['units']}" for line in billable) or "nothing"
        seen: set[str] = set()
        reviewed = []
        for claim in claims:
            code, units = claim["code"], claim["units"]
            line = billed.get(code)
            if code in seen:
                accepted, reason = False, f"{code} is claimed on more than one line; it is billed once per period"
            elif line is not None and line["units"] == units:
                accepted, reason = True, f"matches the decision: {code} x{units}"
            elif line is not None:
                accepted, reason = False, f"the decision bills {code} x{line['units']}, not x{units} (it bills {summary})"
            elif code in denied:
                accepted, reason = False, f"{code} is not billable: {denied[code]['reason']}"
            else:
                accepted, reason = False, f"{code} is not decided by pack {self.pack.id}"
            seen.add(code)
            at_stake = str(self.rate(code, self.params_for(code)) * units) if code in self.pack.codes else None
            reviewed.append({"code": code, "units": units, "accepted": accepted, "reason": reason,
                             "amount_at_stake": at_stake})
        return reviewed

    def unverified_rates(self, billable: list[dict]) -> list[dict]:
        """An info finding for each billed rate that rests on a value marked unverified."""
        found = []
        for line in billable:
            code = self.pack.codes[line["code"]]
            day = service_date(code.clock, self.facts)
            for name in code.parameters_used:
                dated = self.pack.parameters[name].at(day)
                if dated is not None and dated[3] == "unverified":
                    found.append({"id": "parameter.unverified", "severity": "info",
                                  "message": f"the {line['code']} rate uses {name} = {to_json_value(dated[1])}, "
                                             f"a value marked unverified ({dated[2]})",
                                  "evidence": []})
        return found

    @staticmethod
    def gated(rule: Rule, gate: Gate) -> dict:
        return {"code": rule.code, "rule": rule.id, "status": gate.status, "reason": gate.reason,
                "actual": None, "required": None}

    def rule(self, rule: Rule, billed: dict[str, int]) -> dict:
        params = self.params_for(rule.code)
        try:
            blocker, met, actual, required, units = self.rule_parts(rule, params)
            if blocker >= 0:
                return {"code": rule.code, "rule": rule.id, "status": "not_met",
                        "reason": rule.blocked[blocker].reason, "actual": None, "required": None}
            rate = self.rate(rule.code, params) if units > 0 else None
        except EvaluationError as error:
            return {"code": rule.code, "rule": rule.id, "status": "error",
                    "reason": f"{error.message} [{error.code}]", "actual": None, "required": None}
        shortfall = {"actual": to_json_value(actual), "required": to_json_value(required)}  # as data, met or not
        excluded = [code for code in rule.excludes if code in billed]
        missing = [code for code in rule.requires if code not in billed]
        if units > 0 and (excluded or missing or rule.code in billed):
            reason = (f"not billable with {', '.join(excluded)} in the same period" if excluded else
                      f"needs {', '.join(missing)} in the same period" if missing else
                      f"{rule.code} is already billed by an earlier rule")
            return {"code": rule.code, "rule": rule.id, "status": "not_met", "reason": reason, **shortfall}
        words = {"actual": in_words(actual, rule.actual), "required": in_words(required, rule.required)}
        if units <= 0:
            return {"code": rule.code, "rule": rule.id, "status": "not_met",
                    "reason": rule.reason_not_met.format(**words), **shortfall}
        billed[rule.code] = units
        return {"code": rule.code, "units": units, "amount": str(rate * units), "rule": rule.id,
                "reason": rule.reason_met.format(**words), **shortfall}

    def rule_parts(self, rule: Rule, params: dict) -> tuple[int, Any, Any, Any, int]:
        """(blocker, met, actual, required, units) of a rule: its compiled program when
        nothing watches each expression (step by step again when it fails, to say where),
        else one traced expression at a time."""
        slot = f"rule:{rule.id}"
        if not self.tracer.watches_each_evaluation:
            try:
                parts = rule.program(self.facts, self.defs, params, self.options)
            except Exception as error:  # noqa: BLE001 - redone step by step below
                as_evaluation_error(error)
            else:
                blocker, met, actual, required, units = parts
                for i in range(len(rule.blocked) if blocker < 0 else blocker + 1):
                    self.tracer.note(f"{slot}:blocked:{i}", i == blocker)
                if blocker < 0:
                    self.tracer.note(f"{slot}:when", met)
                    for part, value in (("actual", actual), ("required", required)):
                        if getattr(rule, part) is not None:
                            self.tracer.note(f"{slot}:{part}", value)
                    if met and rule.units is not None:
                        self.tracer.note(f"{slot}:units", units)
                return parts
        for i, blocker in enumerate(rule.blocked):
            if self.eval(f"{slot}:blocked:{i}", blocker.when, params):
                return i, None, None, None, 0
        met = self.eval(f"{slot}:when", rule.when, params)
        actual = self.eval(f"{slot}:actual", rule.actual, params) if rule.actual else None
        required = self.eval(f"{slot}:required", rule.required, params) if rule.required else None
        units = self.eval(f"{slot}:units", rule.units, params) if (met and rule.units) else int(bool(met))
        return -1, met, actual, required, units

    def rate(self, code: str, params: dict) -> Decimal:
        """RVU x conversion factor, rounded half-up to cents (contract section 2)."""
        args = (self.facts, self.defs, params, self.options)
        rvu = self.tracer.compute(self.pack.codes[code].rvu, args)
        factor = self.tracer.compute(self.pack.conversion_factor, args)
        return round_half_up(Decimal(rvu) * factor, 2)

    def pointers_of(self, records: list) -> list[str]:
        """JSON pointers of fact records (found by identity: filters keep the facts' own dicts)."""
        if self.known_pointers is None:
            self.known_pointers = pointers_by_identity(self.facts)
        return [self.known_pointers[id(r)] for r in records if id(r) in self.known_pointers]

    def findings(self) -> list[dict]:
        """The pack's findings whose condition holds; conditions run together when nothing
        watches each one (or one at a time when one of them fails)."""
        conditions: dict[str, bool] = {}
        if not self.tracer.watches_each_evaluation:
            try:
                self.pack.all_finding_conditions(self.facts, self.defs, self.month_params, self.options, conditions)
            except Exception as error:  # noqa: BLE001 - redone one at a time
                as_evaluation_error(error)
                conditions.clear()
            for finding_id, holds in conditions.items():
                self.tracer.note(f"finding:{finding_id}", holds)
        found = (self.finding(finding, conditions.get(finding.id)) for finding in self.pack.findings)
        return [f for f in found if f is not None]

    def finding(self, finding, holds: bool | None) -> dict | None:
        try:
            if holds is None:
                holds = self.eval(f"finding:{finding.id}", finding.when, self.month_params)
            if not holds:
                return None
            evidence = []
            if finding.evidence is not None:
                found = self.tracer.compute(finding.evidence, (self.facts, self.defs, self.month_params, self.options))
                evidence = self.pointers_of(found if isinstance(found, list) else [found])
        except EvaluationError as error:
            return {"id": finding.id, "severity": "error", "message": f"{error.message} [{error.code}]", "evidence": []}
        return {"id": finding.id, "severity": finding.severity, "message": finding.message, "evidence": evidence}


def decide(pack: CompiledPack, facts: dict, options: dict[str, Any] | None = None, trace: str = "compact",
           tracer: Tracer | None = None) -> dict:
    """The decision for facts already checked against the facts schema.

    `options` are raw values (strings from a command line are coerced); `trace` is one of
    none, compact (values aligned with `pack.trace_slots`) or full; `tracer` replaces the
    standard one (test coverage watches every evaluation this way).
    """
    if trace not in TRACE_FORMS:
        raise ValueError(f"trace must be one of {', '.join(TRACE_FORMS)}, not {trace!r}")
    tracer = tracer or Tracer(pack, trace)
    decision = _Run(pack, facts, resolve_options(pack, options), tracer).decide()
    decision["trace"] = tracer.output()
    return decision


__all__ = ["TRACE_FORMS", "decide", "service_date"]

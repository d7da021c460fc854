"""Compiling a merged pack: every expression parsed, checked and compiled, once.

The result, a `CompiledPack`, is immutable and evaluates any number of patient-months.
All problems in all files are collected and reported together, each at its
`file:line:col`, with the caret inside the expression, not under its YAML key.
"""
from __future__ import annotations

import functools
import hashlib
import json
from dataclasses import dataclass, field, replace
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable

from ..diagnostics import Diagnostic, DiagnosticError, suggestion_suffix
from ..engine.environment import facts_record, record_from_schema
from ..lang import (BOOL, DATE, DECIMAL, DURATION, INT, MONEY, STRING, CompiledExpression, Environment, FieldSpec,
                    ListOf, Type, compile_expression, nodes, record)
from ..lang import codegen
from ..lang.checker import NamespaceMember
from ..lang.parser import parse
from .loader import Entry, SourcePack, load_source

PARAMETER_TYPES: dict[str, Type] = {
    "bool": BOOL, "int": INT, "decimal": DECIMAL, "money": MONEY, "duration": DURATION, "date": DATE,
    "string": STRING, "list of string": ListOf(STRING),
}
OPTION_TYPES: dict[str, Type] = {"bool": BOOL, "int": INT, "string": STRING}


@dataclass(frozen=True)
class Parameter:
    name: str
    type: Type
    #: (date, value, citation, confidence), newest first
    values: tuple[tuple[str, Any, str | None, str | None], ...]

    def at(self, day: str) -> tuple[str, Any, str | None, str | None] | None:
        """The value in force on `day` (the newest dated value not after it)."""
        for dated in self.values:
            if dated[0] <= day:
                return dated
        return None


@dataclass(frozen=True)
class Option:
    name: str
    type: str
    default: Any
    allowed: tuple[Any, ...]
    description: str
    citation: str | None


@dataclass(frozen=True)
class Code:
    code: str
    descriptor: str
    clock: str
    rvu: CompiledExpression
    max_units: int | None
    #: the parameters the rate reads (RVU and conversion factor), for provenance findings
    parameters_used: tuple[str, ...]


@dataclass(frozen=True)
class Opportunity:
    when: CompiledExpression
    missing: CompiledExpression
    by: CompiledExpression
    needed: str


@dataclass(frozen=True)
class Blocker:
    when: CompiledExpression
    reason: str


@dataclass(frozen=True)
class Rule:
    id: str
    code: str
    when: CompiledExpression
    units: CompiledExpression | None
    actual: CompiledExpression | None
    required: CompiledExpression | None
    requires: tuple[str, ...]
    excludes: tuple[str, ...]
    reason_met: str
    reason_not_met: str
    citation: str | None
    opportunity: Opportunity | None
    blocked: tuple[Blocker, ...]

    @functools.cached_property
    def program(self) -> Callable[..., tuple]:
        """The rule's expressions as one compiled function (see codegen.build_rule)."""
        part = lambda e: e.checked if e is not None else None  # noqa: E731
        return codegen.build_rule([b.when.checked for b in self.blocked], self.when.checked, part(self.actual),
                                  part(self.required), part(self.units), f"rule {self.id}")


@dataclass(frozen=True)
class Gate:
    id: str
    when: CompiledExpression
    status: str
    reason: str
    citation: str | None


@dataclass(frozen=True)
class Finding:
    id: str
    severity: str
    when: CompiledExpression
    message: str
    evidence: CompiledExpression | None
    citation: str | None


@dataclass(frozen=True)
class CompiledPack:
    id: str
    version: str
    fee_schedule_year: int
    effective_from: str
    effective_to: str
    title: str
    citations: tuple[str, ...]
    chain: tuple[str, ...]
    sha256: str
    options: dict[str, Option]
    parameters: dict[str, Parameter]
    codes: dict[str, Code]
    conversion_factor: CompiledExpression
    #: the pack's own facts schema, or None for the contract's (schemas/facts.schema.json)
    facts_schema: dict | None
    #: the least share of condition outcomes (percent) the pack's test cases must exercise
    coverage_threshold: float
    #: the files it was compiled from
    source_files: tuple[Path, ...]
    definitions: tuple[tuple[str, CompiledExpression], ...]
    gates: tuple[Gate, ...]
    rules: tuple[Rule, ...]
    findings: tuple[Finding, ...]
    environment: Environment = field(repr=False)

    @functools.cached_property
    def all_definitions(self) -> Callable[..., None]:
        """Every definition in one compiled function: fn(facts, defs, params, options, defs)."""
        return codegen.build_sequence([(name, e.checked) for name, e in self.definitions], f"{self.id} definitions")

    @functools.cached_property
    def all_finding_conditions(self) -> Callable[..., None]:
        """Every finding's condition in one compiled function: fn(facts, defs, params, options, out)."""
        return codegen.build_sequence([(f.id, f.when.checked) for f in self.findings], f"{self.id} findings")

    @functools.cached_property
    def slot_expressions(self) -> dict[str, CompiledExpression]:
        """The pack's rule table: each traced expression by its slot, in evaluation order."""
        slots: dict[str, CompiledExpression] = {f"definition:{name}": e for name, e in self.definitions}
        slots.update((f"gate:{gate.id}", gate.when) for gate in self.gates)
        for rule in self.rules:
            slots.update((f"rule:{rule.id}:blocked:{i}", blocker.when) for i, blocker in enumerate(rule.blocked))
            slots.update((f"rule:{rule.id}:{part}", getattr(rule, part)) for part in ("when", "actual", "required", "units")
                         if getattr(rule, part) is not None)
            if rule.opportunity is not None:
                slots[f"rule:{rule.id}:opportunity"] = rule.opportunity.when
        slots.update((f"finding:{finding.id}", finding.when) for finding in self.findings)
        return slots

    @functools.cached_property
    def trace_slots(self) -> tuple[str, ...]:
        """The slots of the rule table; a compact trace is a list of values aligned with them."""
        return tuple(self.slot_expressions)

    @functools.cached_property
    def slot_index(self) -> dict[str, int]:
        return {slot: i for i, slot in enumerate(self.trace_slots)}

    def covers(self, day: str) -> bool:
        return self.effective_from <= day <= self.effective_to

    @functools.cached_property
    def _params_cache(self) -> dict[str, dict]:
        return {}

    def params_at(self, day: str) -> dict[str, Any]:
        """Every parameter's value in force on `day` (cached per date)."""
        cached = self._params_cache.get(day)
        if cached is None:
            cached = {}
            for name, parameter in self.parameters.items():
                dated = parameter.at(day)
                if dated is not None:
                    cached[name] = dated[1]
            self._params_cache[day] = cached
        return cached


def _parameters_read(expression: CompiledExpression) -> tuple[str, ...]:
    """The `params.x` an expression reads, in order."""
    found = [ref.name for node in expression.nodes
             if isinstance(ref := expression.checked.resolution(node), NamespaceMember) and ref.namespace == "params"]
    return tuple(dict.fromkeys(found))


def _canonical_json(data: Any) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


class _Compiler:
    def __init__(self, source: SourcePack) -> None:
        self.source = source
        self.diagnostics: list[Diagnostic] = []

    def expression(self, entry: Entry, key: str, env: Environment, expect: Type | None, name: str
                   ) -> CompiledExpression | None:
        doc, pointer = entry.origin(key)
        try:
            return compile_expression(doc.embedded(pointer), env, expect, name=name)
        except DiagnosticError as error:
            self.diagnostics.extend(error.diagnostics)
            return None

    def complete(self, kind: str, name: str, entry: Entry, keys: tuple[str, ...]) -> bool:
        """Whether a merged entry has every key it needs (an overlay may omit what its base has)."""
        missing = [key for key in keys if key not in entry.value]
        if missing:
            self.diagnostics.append(Diagnostic(
                "pack.missing_field", f"{kind} '{name}' needs {', '.join(missing)}", entry.doc.span(entry.pointer, key=True),
                hint=f"a new {kind} states {', '.join(keys)}; an overlay of an existing one may state only what changes"))
        return not missing

    def parameter(self, name: str, entry: Entry) -> Parameter | None:
        if not self.complete("parameter", name, entry, ("type", "values")):
            return None
        declared = PARAMETER_TYPES[entry.value["type"]]
        values = []
        for day, dated in sorted(self.source.parameter_values[name].items(), reverse=True):
            value = self.parameter_value(dated, declared)
            if value is not None or declared == BOOL:
                values.append((day, value, dated.value.get("citation"), dated.value.get("confidence")))
        return Parameter(name, declared, tuple(values))

    def parameter_value(self, dated: Entry, declared: Type) -> Any:
        raw = dated.value["value"]
        pointer = f"{dated.pointer}/value"
        ok = {
            BOOL: lambda v: isinstance(v, bool), INT: lambda v: isinstance(v, int) and not isinstance(v, bool),
            DECIMAL: lambda v: isinstance(v, (int, Decimal)) and not isinstance(v, bool),
            STRING: lambda v: isinstance(v, str),
            ListOf(STRING): lambda v: isinstance(v, list) and all(isinstance(x, str) for x in v),
        }.get(declared)
        if ok is not None:
            if ok(raw):
                return Decimal(raw) if declared == DECIMAL else raw
        elif isinstance(raw, str):
            try:
                literal = parse(dated.doc.embedded(pointer))
            except DiagnosticError as error:
                self.diagnostics.extend(error.diagnostics)
                return None
            kinds = {MONEY: ("money",), DURATION: ("duration",), DATE: ("date",)}[declared]
            if isinstance(literal, nodes.Literal) and literal.kind in kinds:
                return literal.value
        elif declared == MONEY and isinstance(raw, (int, Decimal)) and not isinstance(raw, bool):
            return Decimal(raw)
        example = {MONEY: "$33.4009", DURATION: "20 min", DATE: "2026-01-01", BOOL: "true", INT: "16",
                   DECIMAL: "1.55", STRING: "some text", ListOf(STRING): "[first, second]"}[declared]
        self.diagnostics.append(Diagnostic("pack.bad_value", f"this value is not a {declared}",
                                           dated.doc.span(pointer), hint=f"for example: {example}"))
        return None

    def option(self, name: str, entry: Entry) -> Option | None:
        if not self.complete("option", name, entry, ("type", "default", "description")):
            return None
        spec = entry.value
        allowed = tuple(spec.get("values", ()))
        ok = {"bool": lambda v: isinstance(v, bool), "int": lambda v: isinstance(v, int) and not isinstance(v, bool),
              "string": lambda v: isinstance(v, str)}[spec["type"]]
        if not ok(spec["default"]) or (allowed and spec["default"] not in allowed):
            self.diagnostics.append(Diagnostic("pack.bad_option", f"the default of option '{name}' is not one of "
                                               f"its {spec['type']} values", entry.doc.span(entry.pointer + "/default")))
        return Option(name, spec["type"], spec["default"], allowed, spec["description"], spec.get("citation"))

    def compile(self) -> CompiledPack:
        src = self.source
        parameters = {name: self.parameter(name, entry) for name, entry in src.parameters.items()}
        options = {name: option for name, entry in src.options.items()
                   if (option := self.option(name, entry)) is not None}
        facts_type = record_from_schema(src.facts_schema) if src.facts_schema is not None else facts_record()
        params_record = record("params", {n: FieldSpec(p.type, required=True) for n, p in parameters.items() if p})
        options_record = record("options", {n: FieldSpec(OPTION_TYPES[o.type], required=True) for n, o in options.items()})
        namespaces = {"params": params_record, "options": options_record}
        definitions: list[tuple[str, CompiledExpression]] = []
        types: dict[str, Type] = {}
        for name, entry in src.definitions.items():
            env = Environment(facts_type, dict(types), namespaces)
            compiled = self.expression(entry, "", env, None, f"definition {name}")
            if compiled is not None:
                definitions.append((name, compiled))
                types[name] = compiled.type
        env = Environment(facts_type, types, namespaces)
        codes = {}
        for code, entry in src.codes.items():
            if not self.complete("code", code, entry, ("descriptor", "clock", "rvu")):
                continue
            rvu = self.expression(entry, "rvu", env, DECIMAL, f"rvu {code}")
            if rvu is not None:
                codes[code] = Code(code, entry.value["descriptor"], entry.value["clock"], rvu,
                                   entry.value.get("max_units"), _parameters_read(rvu))
        cf = None
        if src.conversion_factor is None:
            self.diagnostics.append(Diagnostic("pack.missing_field", "a pack needs a conversion_factor expression",
                                               src.meta.doc.span(""), hint="e.g. conversion_factor: params.conversion_factor"))
        else:
            cf = self.expression(src.conversion_factor, "", env, MONEY, "conversion_factor")
            if cf is not None:
                codes = {c: replace(code, parameters_used=tuple(dict.fromkeys(code.parameters_used + _parameters_read(cf))))
                         for c, code in codes.items()}
        gates = tuple(g for e in src.gates.values() if (g := self._gate(e, env)) is not None)
        rules = tuple(r for e in src.rules.values() if (r := self._rule(e, env, codes)) is not None)
        findings = tuple(f for e in src.findings.values() if (f := self._finding(e, env)) is not None)
        if self.diagnostics:
            raise DiagnosticError(self.diagnostics)
        meta = src.meta.value
        return CompiledPack(
            id=meta["id"], version=meta["version"], fee_schedule_year=meta["fee_schedule_year"],
            effective_from=meta["effective"]["from"], effective_to=meta["effective"]["to"],
            title=meta.get("title", meta["id"]), citations=tuple(meta.get("citations", ())), chain=tuple(src.chain),
            sha256=hashlib.sha256(_canonical_json(src.canonical()).encode()).hexdigest(),
            options=options, parameters={n: p for n, p in parameters.items() if p}, codes=codes,
            conversion_factor=cf,  # type: ignore[arg-type]
            facts_schema=src.facts_schema,
            coverage_threshold=src.coverage_threshold,
            source_files=tuple(src.files),
            definitions=tuple(definitions), gates=gates, rules=rules, findings=findings, environment=env,
        )

    def _gate(self, entry: Entry, env: Environment) -> Gate | None:
        v = entry.value
        if not self.complete("gate", v["id"], entry, ("when", "status", "reason")):
            return None
        return Gate(v["id"], self.expression(entry, "when", env, BOOL, f"gate {v['id']}"),  # type: ignore[arg-type]
                    v["status"], v["reason"], v.get("citation"))

    def _rule(self, entry: Entry, env: Environment, codes: dict[str, Code]) -> Rule | None:
        v = entry.value
        name = f"rule {v['id']}"
        if not self.complete("rule", v["id"], entry, ("code", "when", "reason")):
            return None
        if v["code"] not in self.source.codes:
            self._unknown_code(entry, "code", v["code"])
        for key in ("requires", "excludes"):
            for i, code in enumerate(v.get(key, ())):
                if code not in self.source.codes:
                    self._unknown_code(entry, f"{key}/{i}", code)
        optional: Callable[[str, Type | None], CompiledExpression | None] = (
            lambda key, expect: self.expression(entry, key, env, expect, f"{name} {key}") if key in v else None)
        return Rule(
            id=v["id"], code=v["code"], when=self.expression(entry, "when", env, BOOL, name),  # type: ignore[arg-type]
            units=optional("units", INT), actual=optional("actual", None), required=optional("required", None),
            requires=tuple(v.get("requires", ())), excludes=tuple(v.get("excludes", ())),
            reason_met=v["reason"]["met"], reason_not_met=v["reason"]["not_met"], citation=v.get("citation"),
            opportunity=self._opportunity(entry, env, name) if "opportunity" in v else None,
            blocked=tuple(Blocker(when, blocker["reason"]) for i, blocker in enumerate(v.get("blocked", ()))
                          if (when := self.expression(entry, f"blocked/{i}/when", env, BOOL, f"{name} blocked")))
        )

    def _opportunity(self, entry: Entry, env: Environment, name: str) -> Opportunity | None:
        parts = {key: self.expression(entry, f"opportunity/{key}", env, expect, f"{name} opportunity {key}")
                 for key, expect in (("when", BOOL), ("missing", None), ("by", DATE))}
        if None in parts.values():
            return None
        return Opportunity(parts["when"], parts["missing"], parts["by"], entry.value["opportunity"]["needed"])  # type: ignore[arg-type]

    def _unknown_code(self, entry: Entry, key: str, code: str) -> None:
        doc, pointer = entry.origin(key)
        self.diagnostics.append(Diagnostic("pack.unknown_code", f"unknown code '{code}'"
                                           f"{suggestion_suffix(code, self.source.codes)}",
                                           doc.span(pointer), hint="declare it under codes:"))

    def _finding(self, entry: Entry, env: Environment) -> Finding | None:
        v = entry.value
        if not self.complete("finding", v["id"], entry, ("severity", "when", "message")):
            return None
        name = f"finding {v['id']}"
        evidence = self.expression(entry, "evidence", env, None, f"{name} evidence") if "evidence" in v else None
        return Finding(v["id"], v["severity"], self.expression(entry, "when", env, BOOL, name),  # type: ignore[arg-type]
                       v["message"], evidence, v.get("citation"))


def compile_pack(ref: str | Path) -> CompiledPack:
    """Load (with everything it extends), validate and compile a pack; raises DiagnosticError."""
    return _Compiler(load_source(ref)).compile()

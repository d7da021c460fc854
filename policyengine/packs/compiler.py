"""Compiling a merged pack: every expression parsed, checked and compiled, once.

The result, a `CompiledPack` (`model.py`), is immutable and evaluates any number of
patient-months. All problems in all files are collected and reported together, each at its
`file:line:col`, with the caret inside the expression, not under its YAML key.
"""
from __future__ import annotations

import hashlib
import json
import string
from collections.abc import Callable
from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from .. import pointers
from ..diagnostics import Diagnostic, DiagnosticError, suggestion_suffix
from ..lang import (BOOL, DATE, DECIMAL, DURATION, INT, MONEY, STRING, CompiledExpression, Environment,
                    FieldSpec, ListOf, Type, compile_expression, nodes, record)
from ..lang.parser import parse
from .analysis import analyse
from .conflicts import ConflictCompiler
from .facts_types import facts_record, record_from_schema
from ..yamlsource import YamlDocument
from ..limits import MAX_UNITS
from .loader import Entry, SourcePack, load_source
from .rate_bounds import parameters_read, rate_problems
from .model import (RECOVERABLE, Blocker, Code, CompiledPack, Finding, Gate, Opportunity, Option, Parameter, Rule, RuleSlots,
                    Template, expressions_of)

PARAMETER_TYPES: dict[str, Type] = {
    "bool": BOOL, "int": INT, "decimal": DECIMAL, "money": MONEY, "duration": DURATION, "date": DATE,
    "string": STRING, "list of string": ListOf(STRING),
}
OPTION_TYPES: dict[str, Type] = {"bool": BOOL, "int": INT, "string": STRING}
#: the placeholders a rule's reason may use: the rule's actual and required values, in words
REASON_FIELDS = ("actual", "required")


def _canonical_json(data: Any) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


class _Compiler:
    def __init__(self, source: SourcePack) -> None:
        self.source = source
        self.diagnostics: list[Diagnostic] = []
        self.warnings: list[Diagnostic] = []

    def expression(self, entry: Entry, key: str, env: Environment, expect: Type | None, name: str
                   ) -> CompiledExpression | None:
        doc, pointer = entry.origin(key)
        try:
            return compile_expression(doc.embedded(pointer), env, expect, name=name)
        except DiagnosticError as error:
            self.diagnostics.extend(error.diagnostics)
            return None

    def complete(self, kind: str, name: str, entry: Entry, keys: tuple[str, ...]) -> bool:
        """Whether a merged entry has every key it needs (an overlay may omit what its base has).
        An incomplete one named like an entry of its base is most likely a misspelt overlay
        of it, and the message says so."""
        missing = [key for key in keys if key not in entry.value]
        if missing:
            others = [other for other in getattr(self.source, f"{kind}s") if other != name]
            self.diagnostics.append(Diagnostic(
                "pack.missing_field", f"{kind} '{name}' needs {', '.join(missing)}{suggestion_suffix(name, others)}",
                entry.doc.span(entry.pointer, key=True),
                hint=f"a new {kind} states {', '.join(keys)}; an overlay of an existing one may state only what changes"))
        return not missing

    def template(self, entry: Entry, key: str) -> Template:
        """A reason, split once into text and placeholders; only {actual} and {required},
        with no format specification, conversion or attribute: anything else is an error
        here rather than a crash (or 300 MB of padding) in a decision."""
        text = entry.value
        for part in key.split("/"):
            text = text[part]
        pieces: list[tuple[str, str | None]] = []
        problem = None
        try:
            for literal, name, spec, conversion in string.Formatter().parse(str(text)):
                if name is not None and (name not in REASON_FIELDS or spec or conversion):
                    problem = f"'{{{name}{'!' + conversion if conversion else ''}{':' + spec if spec else ''}}}'"
                    break
                pieces.append((literal, name))
        except ValueError as error:
            problem = f"a brace that opens or closes nothing ({error})"
        if problem is not None:
            doc, pointer = entry.origin(key)
            self.diagnostics.append(Diagnostic(
                "pack.bad_template", f"a reason may not hold {problem}", doc.span(pointer),
                hint="use {actual} and {required} (the rule's values in words); write {{ and }} for braces"))
            return Template(((str(text), None),))
        return Template(tuple(pieces))

    def real_date(self, text: str, doc: YamlDocument, pointer: str, key: bool = False) -> bool:
        """Whether `text` is a date that exists (2026-02-30 does not), else an error there."""
        try:
            date.fromisoformat(text)
        except ValueError:
            self.diagnostics.append(Diagnostic("pack.bad_date", f"{text} is not a real date", doc.span(pointer, key=key),
                                               hint="a date is YYYY-MM-DD, with a day that the month has"))
            return False
        return True

    def effective(self) -> None:
        """The pack's effective dates are real, and the range runs forward."""
        meta = self.source.meta
        doc, pointer = meta.origin("effective")
        start, end = meta.value["effective"]["from"], meta.value["effective"]["to"]
        real = self.real_date(start, doc, f"{pointer}/from") & self.real_date(end, doc, f"{pointer}/to")
        if real and end < start:
            self.diagnostics.append(Diagnostic("pack.reversed_dates", f"the pack is effective to {end}, before {start}",
                                               doc.span(f"{pointer}/to"), hint="effective: {from: <first day>, to: <last day>}"))

    def parameter(self, name: str, entry: Entry) -> Parameter | None:
        if not self.complete("parameter", name, entry, ("type", "values")):
            return None
        declared = PARAMETER_TYPES[entry.value["type"]]
        values = []
        for day, dated in sorted(self.source.parameter_values[name].items(), reverse=True):
            if not self.real_date(day, dated.doc, dated.pointer, key=True):
                continue
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
            kinds: dict[Type, str] = {MONEY: "money", DURATION: "duration", DATE: "date"}
            if isinstance(literal, nodes.Literal) and literal.kind == kinds.get(declared):
                return literal.value
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
        low, high = spec.get("minimum"), spec.get("maximum")
        default = spec["default"]
        if not ok(default) or (allowed and default not in allowed):
            self.diagnostics.append(Diagnostic("pack.bad_option", f"the default of option '{name}' is not one of "
                                               f"its {spec['type']} values", entry.doc.span(entry.pointer + "/default")))
        elif spec["type"] == "int" and ((low is not None and default < low) or (high is not None and default > high)):
            self.diagnostics.append(Diagnostic(
                "pack.bad_option", f"the default of option '{name}' ({default}) is outside its own range "
                f"{low if low is not None else '...'} to {high if high is not None else '...'}",
                entry.doc.span(entry.pointer + "/default")))
        return Option(name, spec["type"], default, allowed, spec["description"], spec.get("citation"), low, high)

    def environment(self) -> tuple[Environment, list[tuple[str, CompiledExpression]], dict[str, Parameter],
                                   dict[str, Option]]:
        """The definitions, parameters and options, and the environment rules are checked in."""
        src = self.source
        parameters = {name: p for name, entry in src.parameters.items() if (p := self.parameter(name, entry)) is not None}
        options = {name: o for name, entry in src.options.items() if (o := self.option(name, entry)) is not None}
        facts_type = record_from_schema(src.facts_schema) if src.facts_schema is not None else facts_record()
        params_record = record("params", {n: FieldSpec(p.type, required=True) for n, p in parameters.items()})
        options_record = record("options", {n: FieldSpec(OPTION_TYPES[o.type], required=True) for n, o in options.items()})
        namespaces = {"params": params_record, "options": options_record}
        definitions: list[tuple[str, CompiledExpression]] = []
        # One environment for all: a definition is checked before it joins `types`, so it
        # reads only the definitions above it (and the pack compiles in linear time).
        types: dict[str, Type] = {}
        env = Environment(facts_type, types, namespaces)
        for name, entry in src.definitions.items():
            compiled = self.expression(entry, "", env, None, f"definition {name}")
            if compiled is not None:
                definitions.append((name, compiled))
                types[name] = compiled.type
        return env, definitions, parameters, options

    def codes(self, env: Environment) -> tuple[dict[str, Code], CompiledExpression | None]:
        src = self.source
        codes = {}
        for code, entry in src.codes.items():
            if not self.complete("code", code, entry, ("descriptor", "clock", "rvu")):
                continue
            rvu = self.expression(entry, "rvu", env, DECIMAL, f"rvu {code}")
            max_units = entry.value.get("max_units")
            if max_units is not None and max_units > MAX_UNITS:
                doc, pointer = entry.origin("max_units")
                self.diagnostics.append(Diagnostic("pack.bad_value", f"max_units {max_units} is more than any line bills "
                                                   f"({MAX_UNITS})", doc.span(pointer)))
            if rvu is not None:
                codes[code] = Code(code, entry.value["descriptor"], entry.value["clock"], rvu, max_units,
                                   parameters_read(rvu))
        if src.conversion_factor is None:
            self.diagnostics.append(Diagnostic("pack.missing_field", "a pack needs a conversion_factor expression",
                                               src.meta.doc.span(""), hint="e.g. conversion_factor: params.conversion_factor"))
            return codes, None
        cf = self.expression(src.conversion_factor, "", env, MONEY, "conversion_factor")
        if cf is not None:
            codes = {c: replace(code, parameters_used=tuple(dict.fromkeys(code.parameters_used + parameters_read(cf))))
                     for c, code in codes.items()}
        return codes, cf

    def compile(self) -> CompiledPack:
        src = self.source
        self.effective()
        env, definitions, parameters, options = self.environment()
        codes, cf = self.codes(env)
        self.diagnostics += rate_problems(self.source, codes, cf, parameters)
        gates = tuple(g for e in src.gates.values() if (g := self._gate(e, env)) is not None)
        rules = tuple(r for e in src.rules.values() if (r := self._rule(e, env)) is not None)
        findings = tuple(f for e in src.findings.values() if (f := self._finding(e, env)) is not None)
        conflicts = ConflictCompiler(src, self.diagnostics, self.warnings).compile(rules, src.rules)
        if self.diagnostics:
            raise DiagnosticError(self.diagnostics)
        meta = src.meta.value
        expressions = expressions_of(definitions, gates, rules, findings, codes, cf)  # type: ignore[arg-type]
        return CompiledPack(
            id=meta["id"], version=meta["version"], fee_schedule_year=meta["fee_schedule_year"],
            effective_from=meta["effective"]["from"], effective_to=meta["effective"]["to"],
            title=meta.get("title", meta["id"]), citations=tuple(meta.get("citations", ())), chain=tuple(src.chain),
            sha256=hashlib.sha256(_canonical_json(src.canonical()).encode()).hexdigest(),
            options=options, parameters=parameters, codes=codes,
            conversion_factor=cf,  # type: ignore[arg-type]
            facts_schema=src.facts_schema,
            coverage_threshold=src.coverage_threshold,
            source_files=tuple(src.files),
            definitions=tuple(definitions), gates=gates, rules=rules, findings=findings, conflicts=conflicts,
            expressions=expressions, analysis=analyse(expressions, tuple(definitions), rules),
            environment=env, warnings=tuple(self.warnings),
        )

    def _gate(self, entry: Entry, env: Environment) -> Gate | None:
        v = entry.value
        if not self.complete("gate", v["id"], entry, ("when", "status", "reason")):
            return None
        when = self.expression(entry, "when", env, BOOL, f"gate {v['id']}")
        documented = self.if_documented(entry, "", v, env, v["status"])
        return Gate(v["id"], when, v["status"], v["reason"], v.get("citation"), documented) if when is not None else None

    def _rule(self, entry: Entry, env: Environment) -> Rule | None:
        v = entry.value
        name = f"rule {v['id']}"
        if not self.complete("rule", v["id"], entry, ("code", "when", "reason")):
            return None
        for key, codes in (("code", [v["code"]]), ("requires", v.get("requires", ()))):
            for i, code in enumerate(codes):
                if code not in self.source.codes:
                    self._unknown_code(entry, key if key == "code" else f"{key}/{i}", code)
        optional: Callable[[str, Type | None], CompiledExpression | None] = (
            lambda key, expect: self.expression(entry, key, env, expect, f"{name} {key}") if key in v else None)
        when = self.expression(entry, "when", env, BOOL, name)
        maybe_blocked = [self._blocker(entry, env, name, i) for i in range(len(v.get("blocked", ())))]
        blocked = tuple(blocker for blocker in maybe_blocked if blocker is not None)
        opportunity = self._opportunity(entry, env, name) if "opportunity" in v else None
        actual = optional("actual", None)
        if opportunity is not None and actual is not None and not isinstance(actual.checked.root, nodes.Name):
            doc, pointer = entry.origin("actual")
            self.diagnostics.append(Diagnostic(
                "pack.opportunity_needs_definition", f"rule '{v['id']}' offers an opportunity, so its actual must "
                "name a definition", doc.span(pointer),
                hint="the engine confirms an opportunity by adding the missing amount to that definition"))
        if when is None or len(blocked) < len(maybe_blocked):
            return None
        return Rule(
            id=v["id"], code=v["code"], when=when, units=optional("units", INT), actual=actual,
            required=optional("required", None), requires=tuple(v.get("requires", ())),
            reason_met=self.template(entry, "reason/met"), reason_not_met=self.template(entry, "reason/not_met"),
            citation=v.get("citation"), opportunity=opportunity, blocked=blocked,
            slots=RuleSlots.of(v["id"], len(blocked)),
        )

    def _blocker(self, entry: Entry, env: Environment, name: str, i: int) -> Blocker | None:
        spec = entry.value["blocked"][i]
        when = self.expression(entry, f"blocked/{i}/when", env, BOOL, f"{name} blocked")
        evidence = (self.expression(entry, f"blocked/{i}/evidence", env, None, f"{name} blocked evidence")
                    if "evidence" in spec else None)
        if when is None or ("evidence" in spec and evidence is None):
            return None
        status = spec.get("status", "not_met")
        return Blocker(when, spec["reason"], status, evidence, self.if_documented(entry, f"blocked/{i}/", spec, env, status))

    def if_documented(self, entry: Entry, at: str, spec: dict, env: Environment, status: str) -> tuple[str, ...]:
        """The yes/no definitions a denial (`spec`, written at `at` in `entry`) names as
        holding once the record is complete; an error for a name that is not one, or for a
        denial the record cannot lift."""
        names = tuple(spec.get("if_documented", ()))
        if names and status not in RECOVERABLE:
            doc, pointer = entry.origin(f"{at}if_documented")
            self.diagnostics.append(Diagnostic(
                "pack.not_recoverable", f"if_documented is for a denial the record can lift, not status {status}",
                doc.span(pointer), hint=f"give the status {' or '.join(sorted(RECOVERABLE))}, or leave if_documented out"))
        for k, name in enumerate(names):
            kind = env.definitions.get(name)
            if kind != BOOL:
                doc, pointer = entry.origin(f"{at}if_documented/{k}")
                problem = (f"unknown definition '{name}'{suggestion_suffix(name, env.definitions)}" if kind is None
                           else f"'{name}' is not a yes/no definition (it is of type {kind})")
                self.diagnostics.append(Diagnostic(
                    "pack.bad_if_documented", problem, doc.span(pointer),
                    hint="if_documented names yes/no definitions that hold once the record is complete"))
        return names

    def _opportunity(self, entry: Entry, env: Environment, name: str) -> Opportunity | None:
        written = entry.value["opportunity"]
        parts = {key: self.expression(entry, f"opportunity/{key}", env, expect, f"{name} opportunity {key}")
                 for key, expect in (("when", BOOL), ("missing", None), ("by", DATE), ("reachable", BOOL))
                 if key in written}
        if None in parts.values():
            return None
        return Opportunity(parts["when"], parts["missing"], parts["by"], written["needed"],  # type: ignore[arg-type]
                           parts.get("reachable"))

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
        when = self.expression(entry, "when", env, BOOL, name)
        evidence = self.expression(entry, "evidence", env, None, f"{name} evidence") if "evidence" in v else None
        documented = self._documented_values(entry, env, name)
        if when is None or documented is None:
            return None
        return Finding(v["id"], v["severity"], when, v["message"], evidence, v.get("citation"), documented)

    def _documented_values(self, entry: Entry, env: Environment, name: str
                           ) -> tuple[tuple[str, CompiledExpression], ...] | None:
        """A finding's `if_documented`: each named definition's value once the record is
        complete, of the definition's own type; None when one is in error."""
        found, failed = [], False
        for definition in entry.value.get("if_documented", {}):
            key = f"if_documented/{pointers.escape(definition)}"
            kind = env.definitions.get(definition)
            if kind is None:
                doc, pointer = entry.origin(key)
                unknown = f"unknown definition '{definition}'{suggestion_suffix(definition, env.definitions)}"
                self.diagnostics.append(Diagnostic(
                    "pack.bad_if_documented", unknown, doc.span(pointer, key=True),
                    hint="if_documented names definitions and gives each its value once the record is complete"))
                failed = True
                continue
            value = self.expression(entry, key, env, kind, f"{name} if_documented {definition}")
            failed = failed or value is None
            if value is not None:
                found.append((definition, value))
        return None if failed else tuple(found)


def compile_pack(ref: str | Path) -> CompiledPack:
    """Load (with everything it extends), validate and compile a pack; raises DiagnosticError."""
    return _Compiler(load_source(ref)).compile()

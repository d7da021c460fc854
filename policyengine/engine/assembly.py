"""A decision's lines from its rules' parts: resolved step by step, or by generated code.

The resolver (`resolve.py`) is the one meaning of an outcome, and `resolved_lines` writes
its outcomes as lines (`lines.py`) and findings (`findings.py`): the reference, used when a
decision is evaluated step by step. A decision run by the pack's program assembles its
lines with `Assembly`: Python written once per pack (on first use, like the program) from
the pack's rules and conflict table, in the resolver's order of precedence:

1. a gate that did not pass: every line is known, and written as constants;
2. each rule's own cause, in the pack's order: blocked, met with no unit, billed
   elsewhere, earned, short of its required, or reached without being met;
3. the earned codes in the conflict table's order: replaced by a code kept over it that
   bills, holding back for a code it requires, or billed (at most its max_units);
4. a rule that reached its required: replaced, or not met;
5. the lines and the outcome findings, in the pack's order, each sentence chosen by its
   cause when the code was written (a template's pieces joined, or a constant).

Sentences, statuses and findings come from the functions the reference uses, so only the
control flow is written twice; tests hold the two to the same decisions over every
bundled pack, facts drawn from the schema and mutated packs (`tests/test_program.py`).
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

from ..lang import DURATION, INT, CompiledExpression
from ..lang.source import Source
from ..packs.model import CompiledPack, Rule, Template
from .evidence import Evidence
from .findings import capped, earned_not_billed, outcome_findings
from .lines import (capped_reason, elsewhere_reason, kept_over_reason, line, needs_reason, no_units_reason,
                    reached_reason, states_threshold)
from .resolve import (STATUSES, BilledWith, KeptOver, Needs, NotMet, NoUnits, Shortfall, billed_elsewhere_by, falls_short,
                      resolve)
from .rates import Rate
from .state import Evaluated, RuleParts
from .values import to_json_value, words_for


class Lines(NamedTuple):
    billable: list[dict]
    not_billable: list[dict]
    #: the engine's findings from the outcomes: an earned code a conflict kept out, a capped code
    findings: list[dict]
    #: the units each rule bills, by rule id (0 when not billable)
    units: dict[str, int]


def resolved_lines(pack: CompiledPack, state: Evaluated, rate: Rate, evidence: Evidence) -> Lines:
    """The lines of the resolver's outcomes: the reference the generated assembly is held to."""
    outcomes = resolve(pack, state.parts, state.failed_gate(pack), state.elsewhere)
    lines = [line(outcome, rate, [] if outcome.billed else evidence.of_line(outcome)) for outcome in outcomes.values()]
    return Lines([item for item in lines if "units" in item], [item for item in lines if "units" not in item],
                 outcome_findings(pack, outcomes.values()), {rule_id: o.units for rule_id, o in outcomes.items()})


class _Writer(Source):
    def __init__(self, pack: CompiledPack) -> None:
        super().__init__()
        self.pack = pack

    def whole(self) -> str:
        pack = self.pack
        for gate in pack.gates:
            self.line(f"if _gates.get({gate.id!r}) is False:")
            self.indent += 1
            lines = ", ".join(self.denied(rule, gate.status, repr(gate.reason)) for rule in pack.rules)
            self.line(f"return _Lines([], [{lines}], [], {{{', '.join(f'{r.id!r}: 0' for r in pack.rules)}}})")
            self.indent -= 1
        for i, rule in enumerate(pack.rules):
            self.line(f"_p{i} = _parts[{rule.id!r}]")
            self.line(f"_n{i} = 0")
            self.own_cause(i, rule)
        self.line("_billed = set()")
        by_code = {rule.code: (i, rule) for i, rule in enumerate(pack.rules)}
        for code in pack.conflicts.order:
            self.bill(*by_code[code])
        for i, rule in enumerate(pack.rules):
            self.line(f'if _c{i} == "reached":')
            self.indent += 1
            self.chain(self.kept_over(i, rule), f'_c{i} = "not_met"')
            self.indent -= 1
        self.line("_billable = []")
        self.line("_not_billable = []")
        self.line("_found = []")
        for i, rule in enumerate(pack.rules):
            self.write_line(i, rule)
        units = ", ".join(f"{rule.id!r}: _n{i}" for i, rule in enumerate(pack.rules))
        self.line(f"return _Lines(_billable, _not_billable, _found, {{{units}}})")
        return self.text

    def chain(self, branches: list[tuple[str, list[str]]], otherwise: str | list[str]) -> None:
        """`if`/`elif`/`else` over (condition, statements) branches; only `otherwise` when none."""
        otherwise = [otherwise] if isinstance(otherwise, str) else otherwise
        for k, (condition, statements) in enumerate(branches):
            self.line(f"{'if' if k == 0 else 'elif'} {condition}:")
            for statement in statements:
                self.line("    " + statement)
        if branches:
            self.line("else:")
            self.indent += 1
        for statement in otherwise:
            self.line(statement)
        if branches:
            self.indent -= 1

    def own_cause(self, i: int, rule: Rule) -> None:
        """Step 2: what the rule's own parts say (`resolve._own_cause`), and a conflicting code
        billed elsewhere (`resolve.billed_elsewhere_by`)."""
        met: list[tuple[str, list[str]]] = []
        if rule.units is not None:
            met.append((f"_p{i}.units <= 0", [f'_c{i} = "no_units"']))
        if self.billed_elsewhere_possible(rule):
            met.append((f"_elsewhere and (_x{i} := _billed_elsewhere(_pack, {rule.code!r}, _elsewhere)) is not None",
                        [f'_c{i} = "elsewhere"']))
        opening = "if"
        if rule.blocked:
            self.line(f"if _p{i}.blocker is not None:")
            self.line(f'    _c{i} = "blocked"')
            opening = "elif"
        self.line(f"{opening} _p{i}.met:")
        self.indent += 1
        self.chain(met, f'_c{i} = "earned"')
        self.indent -= 1
        self.line(f"elif _falls_short(_p{i}):")
        self.line(f'    _c{i} = "short"')
        self.line("else:")
        self.line(f'    _c{i} = "reached"')

    def billed_elsewhere_possible(self, rule: Rule) -> bool:
        return rule.code in self.pack.conflicts.partners or rule.code in self.pack.conflicts.groups

    def kept_over(self, i: int, rule: Rule) -> list[tuple[str, list[str]]]:
        """A branch per code kept over this one, in the table's order: the first that bills replaces it."""
        return [(f"{winner!r} in _billed", [f'_c{i} = "kept"', f"_x{i} = {self.constant(KeptOver(conflict, winner))}"])
                for winner, conflict in self.pack.conflicts.winners.get(rule.code, ())]

    def bill(self, i: int, rule: Rule) -> None:
        """Step 3 for one earned code."""
        self.line(f'if _c{i} == "earned":')
        self.indent += 1
        branches = self.kept_over(i, rule)
        if rule.requires:
            branches.append((f"(_x{i} := tuple(code for code in {rule.requires!r} if code not in _billed))",
                             [f'_c{i} = "needs"']))
        cap = self.pack.codes[rule.code].max_units
        units = f"min(_p{i}.units, {cap})" if cap is not None else f"_p{i}.units"
        self.chain(branches, [f"_n{i} = {units}", f"_billed.add({rule.code!r})", f'_c{i} = "met"'])
        self.indent -= 1

    def json(self, expression: CompiledExpression | None, value: str) -> str:
        """A value as JSON data (`to_json_value`): an integer as it is, without the call."""
        if expression is not None and expression.type in (INT, DURATION):
            return f"({value} if {value}.__class__ is int else _json({value}))"
        return f"_json({value})"

    def said(self, i: int, rule: Rule) -> dict[str, str]:
        """The rule's actual and required in words, as Python expressions."""
        return {"actual": f"{self.constant(words_for(rule.actual))}(_p{i}.actual)",
                "required": f"{self.constant(words_for(rule.required))}(_p{i}.required)"}

    def words(self, i: int, rule: Rule, template: Template) -> str:
        """A template's sentence as a Python expression: its pieces joined with the rule's
        actual and required in words."""
        said = self.said(i, rule)
        return " + ".join(repr(text) + (" + " + said[name] if name is not None else "")
                          for text, name in template.pieces) or "''"

    def denied(self, rule: Rule, status: str, reason: str, values: tuple[str, str] = ("None", "None"),
               evidence: str = "[]") -> str:
        """A not-billable line as a Python expression: `reason`, `values` and `evidence` are code."""
        return (f"{{'code': {rule.code!r}, 'rule': {rule.id!r}, 'status': {status!r}, 'reason': {reason}, "
                f"'actual': {values[0]}, 'required': {values[1]}, 'evidence': {evidence}}}")

    def deny(self, rule: Rule, status: str, reason: str, values: tuple[str, str] = ("None", "None"),
             evidence: str = "[]") -> None:
        self.line(f"    _not_billable.append({self.denied(rule, status, reason, values, evidence)})")

    def write_line(self, i: int, rule: Rule) -> None:
        """Step 5: the rule's line, and its finding when its cause has one."""
        code, p, max_units = rule.code, f"_p{i}", self.pack.codes[rule.code].max_units
        values = (self.json(rule.actual, f"{p}.actual"), self.json(rule.required, f"{p}.required"))
        self.line(f'if _c{i} == "met":')
        self.line(f"    _why = {self.words(i, rule, rule.reason_met)}")
        if max_units is not None:
            self.line(f"    if {p}.units > _n{i}:")
            self.line(f"        _why += _capped_reason({code!r}, {p}.units, _n{i})")
            self.line(f"        _found.append(_capped({code!r}, {p}.units, {max_units}))")
        self.line(f"    _billable.append({{'code': {code!r}, 'units': _n{i}, 'amount': str(_rate({code!r}) * _n{i}), "
                  f"'rule': {rule.id!r}, 'reason': _why, 'actual': {values[0]}, 'required': {values[1]}}})")
        self.line(f'elif _c{i} == "short":')
        self.deny(rule, STATUSES[Shortfall], self.words(i, rule, rule.reason_not_met), values)
        for index, blocker in enumerate(rule.blocked):
            self.line(f"elif _c{i} == 'blocked' and {p}.blocker == {index}:")
            evidence = f"_evidence.of_blocker({self.constant(rule)}, {index})" if blocker.evidence is not None else "[]"
            self.deny(rule, blocker.status, repr(blocker.reason), evidence=evidence)
        if rule.units is not None:
            self.line(f'elif _c{i} == "no_units":')
            self.deny(rule, STATUSES[NoUnits], f"_no_units_reason({self.constant(rule)}, {p}.units)")
        if self.billed_elsewhere_possible(rule):
            self.line(f'elif _c{i} == "elsewhere":')
            self.line(f"    _why = _elsewhere_reason({code!r}, _x{i}[0], _x{i}[1])")
            self.deny(rule, STATUSES[BilledWith], "_why", evidence=f"[_x{i}[1].pointer]")
            self.line(f"    _found.append(_earned_not_billed({code!r}, _why, _x{i}[0], [_x{i}[1].pointer]))")
        if code in self.pack.conflicts.winners:
            self.line(f'elif _c{i} == "kept":')
            self.line(f"    _why = _kept_over_reason({code!r}, _x{i})")
            self.deny(rule, STATUSES[KeptOver], "_why")
            self.line(f"    if {p}.met:")
            self.line(f"        _found.append(_earned_not_billed({code!r}, _why, _x{i}.conflict, []))")
        if rule.requires:
            self.line(f'elif _c{i} == "needs":')
            self.deny(rule, STATUSES[Needs], f"_needs_reason(_x{i})")
        self.line("else:")
        if states_threshold(rule):
            said = self.said(i, rule)
            self.deny(rule, STATUSES[NotMet], f"_reached_reason({self.constant(rule)}, {said['actual']}, {said['required']})")
        else:
            self.deny(rule, STATUSES[NotMet], self.words(i, rule, rule.reason_not_met))


class Assembly:
    """A pack's generated assembly: `run(gates, parts, elsewhere, rate, evidence)` gives the
    decision's `Lines`, the same as `resolved_lines` on the same parts."""

    def __init__(self, pack: CompiledPack) -> None:
        writer = _Writer(pack)
        body = writer.whole()
        self.source = "def _assemble(_gates, _parts, _elsewhere, _rate, _evidence):\n" + body + "\n"
        namespace: dict[str, Any] = dict(writer.constants)
        namespace.update(
            _Lines=Lines, _pack=pack, _billed_elsewhere=billed_elsewhere_by, _falls_short=falls_short, _json=to_json_value,
            _capped=capped, _capped_reason=capped_reason, _earned_not_billed=earned_not_billed,
            _elsewhere_reason=elsewhere_reason, _kept_over_reason=kept_over_reason, _needs_reason=needs_reason,
            _no_units_reason=no_units_reason, _reached_reason=reached_reason)
        exec(compile(self.source, f"<policyengine {pack.id} assembly>", "exec"), namespace)  # noqa: S102
        self.run: Callable[[Mapping[str, bool], Mapping[str, RuleParts], tuple, Rate, Evidence], Lines] = namespace["_assemble"]


def assembly(pack: CompiledPack) -> Assembly:
    """The pack's generated assembly, written once per pack."""
    built = pack.derived.get("assembly")
    if built is None:
        built = pack.derived["assembly"] = Assembly(pack)
    return built

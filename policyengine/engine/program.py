"""The whole pack as one generated function: a decision's evaluations in one call.

Step by step (`evaluation.py`), every expression is a call through the tracer and a
wrapper that locates its errors. A decision needs neither: the program writes every
definition, gate, rule part and finding condition of the pack into one Python function,
in the order `Run.state` follows (definitions; every gate; when all pass, each rule's
parts as `evaluate_rule` orders them; the findings' conditions), each expression inlined
as the code generator writes it. The compact form also stores each value at its place in
the pack's rule table. The full form calls each expression's recording function instead
(`lang/recorder.py`) and keeps every recording, with the number of its site, for the
tracer to render when the decision is assembled.

One path: the program either returns every value, or fails. When it fails, the place it
reached (`_at`) names the expression, and that one expression is evaluated again on the
same inputs to say where it failed (`EvaluationFailed`, located); a failure the expression
does not repeat is not the pack's and is raised as it is. `Run.state` step by step stays
the reference: tests hold the program's values to it for every bundled pack, generated
facts and generated packs.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ..lang import CompiledExpression, EvaluationError, codegen
from ..lang.runtime import GENERATED_GLOBALS
from ..packs.clocks import CALENDAR_MONTH
from ..packs.model import CompiledPack, Rule
from ..packs.slots import Slot
from .failures import EvaluationFailed, checked_units, failure
from .state import RuleParts
from .values import compact

#: what a program returns: gate id -> passed, rule id -> its parts, finding id -> condition held
Outcome = tuple[dict[str, bool], dict[str, RuleParts], dict[str, bool]]


@dataclass(frozen=True)
class Site:
    """One expression of the program: where it is in the pack and on which clock it runs."""

    slot: Slot
    expression: CompiledExpression
    clock: str


class _Writer:
    def __init__(self, pack: CompiledPack, form: str) -> None:
        self.pack = pack
        self.form = form
        self.sites: list[Site] = []
        self.constants: dict[str, Any] = {}
        self.lines: list[str] = []
        self.indent = 2

    def line(self, text: str) -> None:
        self.lines.append("    " * self.indent + text)

    def constant(self, value: Any) -> str:
        name = f"_k{len(self.constants)}"
        self.constants[name] = value
        return name

    def value(self, slot: Slot, expression: CompiledExpression, clock: str) -> str:
        """The inlined expression, after noting the site it is (for locating a failure); in
        the full form, the expression's recording, kept with its site's number."""
        site = len(self.sites)
        self.line(f"_at = {site}")
        self.sites.append(Site(slot, expression, clock))
        if self.form == "full":
            self.line(f"_recording = {self.constant(expression.recording)}({codegen.signature(expression.checked)})")
            self.line(f"_values.append(({site}, _recording))")
            return "_recording.result"
        gen = codegen.expression_writer(expression.checked, prefix=f"{len(self.sites)}_")
        source = gen.emit(expression.checked.root)
        self.constants.update(gen.constants)
        return source

    def assign(self, target: str, slot: Slot, expression: CompiledExpression, clock: str, as_bool: bool = False) -> None:
        """`target = value`, the value recorded as it came (compact form), then made a bool
        where the engine reads it as one (gates, `when`, findings)."""
        self.line(f"{target} = {self.value(slot, expression, clock)}")
        if self.form == "compact":
            self.line(f"_values[{self.pack.slot_text_index[slot.text]}] = _compact({target})")
        if as_bool:
            self.line(f"{target} = _bool({target})")

    def clock(self, clock: str) -> None:
        self.line(f"_ns_params = _params[{clock!r}]")

    def whole_pack(self) -> str:
        pack = self.pack
        self.clock(CALENDAR_MONTH)
        for (name, expression), slot in zip(pack.definitions, pack.definition_slots):
            self.assign(f"_defs[{name!r}]", slot, expression, CALENDAR_MONTH)
        for i, gate in enumerate(pack.gates):
            self.assign(f"_g{i}", gate.slot, gate.when, CALENDAR_MONTH, as_bool=True)
        gates = ", ".join(f"{gate.id!r}: _g{i}" for i, gate in enumerate(pack.gates))
        self.line(f"_gates = {{{gates}}}")
        self.line("_parts = {}")
        self.line(f"if {' and '.join(f'_g{i}' for i in range(len(pack.gates))) or 'True'}:")
        self.indent += 1
        for rule in pack.rules:
            self.clock(pack.codes[rule.code].clock)
            self.rule(rule)
        self.line("pass")
        self.indent -= 1
        self.clock(CALENDAR_MONTH)
        for i, finding in enumerate(pack.findings):
            self.assign(f"_f{i}", finding.slot, finding.when, CALENDAR_MONTH, as_bool=True)
        held = ", ".join(f"{finding.id!r}: _f{i}" for i, finding in enumerate(pack.findings))
        self.line(f"return _gates, _parts, {{{held}}}")
        return "\n".join(self.lines)

    def rule(self, rule: Rule) -> None:
        """`evaluate_rule`'s order: blocked conditions until one holds (then nothing else),
        `when`, `actual`, `required`, and `units` only when met (1 when it states none)."""
        s, clock, opened = rule.slots, self.pack.codes[rule.code].clock, 0
        for i, blocker in enumerate(rule.blocked):
            self.assign("_b", s.blocked[i], blocker.when, clock)
            self.line("if _b:")
            self.line(f"    _parts[{rule.id!r}] = _RuleParts({i}, False, None, None, 0)")
            self.line("else:")
            self.indent += 1
            opened += 1
        self.assign("_m", s.when, rule.when, clock, as_bool=True)
        for name, slot, expression in (("_a", s.actual, rule.actual), ("_r", s.required, rule.required)):
            if expression is None:
                self.line(f"{name} = None")
            else:
                self.assign(name, slot, expression, clock)
        if rule.units is None:
            self.line("_u = 1 if _m else 0")
        else:
            self.line("if _m:")
            self.indent += 1
            self.assign("_u", s.units, rule.units, clock)
            self.line(f"_units({self.constant(rule)}, _u)")
            self.indent -= 1
            self.line("else: _u = 0")
        self.line(f"_parts[{rule.id!r}] = _RuleParts(None, _m, _a, _r, _u)")
        self.indent -= opened


class Program:
    """A pack's program for one trace form: `run(facts, defs, params by clock, options,
    values)` fills `defs` and returns (gates, rule parts, findings held); `values` is None
    (none), the compact values aligned with the rule table, or the list the full form
    appends (site number, recording) to."""

    def __init__(self, pack: CompiledPack, form: str) -> None:
        writer = _Writer(pack, form)
        body = writer.whole_pack()
        self.sites = tuple(writer.sites)
        self.source = ("def _program(_facts, _defs, _params, _ns_options, _values):\n"
                       "    _at = -1\n"
                       "    try:\n" + body + "\n"
                       "    except _Exception as error:\n"
                       "        _failed(error, _at, _facts, _defs, _params, _ns_options)\n"
                       "        raise\n")
        namespace: dict[str, Any] = dict(GENERATED_GLOBALS, **writer.constants)
        namespace.update(_bool=bool, _compact=compact, _RuleParts=RuleParts, _units=checked_units, _Exception=Exception,
                         _failed=self._failed)
        exec(compile(self.source, f"<policyengine {pack.id} program ({form})>", "exec"), namespace)  # noqa: S102
        self.run: Callable[..., Outcome] = namespace["_program"]

    def _failed(self, error: Exception, at: int, facts: Mapping, defs: Mapping, params: Mapping[str, Mapping],
                options: Mapping) -> None:
        """Raise the located failure of the expression the program reached when that
        expression fails again on its own inputs; otherwise return, and the error is raised
        as it is (a located failure already, or not the pack's)."""
        if isinstance(error, EvaluationFailed) or at < 0:
            return
        site = self.sites[at]
        try:
            site.expression.evaluate(facts, defs, params[site.clock], options)
        except EvaluationError as located:
            raise failure(located, site.slot) from None


def program(pack: CompiledPack, form: str) -> Program:
    """The pack's program for a trace form (`tracing.TRACE_FORMS`), generated once per pack."""
    key = f"program:{form}"
    built = pack.derived.get(key)
    if built is None:
        built = pack.derived[key] = Program(pack, form)
    return built

"""The whole pack as one generated function: a decision's evaluations in one call.

Step by step (`evaluation.py`), every expression is a call through the tracer and a
wrapper that locates its errors. A decision needs neither: the program writes the pack's
plan (`packs/plan.py`: definitions; every gate; when all pass, each rule's steps; the
findings' conditions) into one Python function, each step as the code of its role, each
expression inlined as the code generator writes it. The compact form also stores each value at its place in
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
from typing import Any

from ..lang import EvaluationError, codegen
from ..lang.source import Source
from ..lang.runtime import GENERATED_GLOBALS
from ..packs.clocks import CALENDAR_MONTH
from ..packs.model import CompiledPack, Rule
from ..packs.plan import ACTUAL, BLOCKED, REQUIRED, UNITS, WHEN, RulePlan, Site
from .failures import EvaluationFailed, checked_units, failure
from .state import RuleParts
from .values import compact

#: what a program returns: gate id -> passed, rule id -> its parts, finding id -> condition held
Outcome = tuple[dict[str, bool], dict[str, RuleParts], dict[str, bool]]


class _Writer(Source):
    def __init__(self, pack: CompiledPack, form: str) -> None:
        super().__init__(indent=2)
        self.pack = pack
        self.form = form
        #: each site's number in the plan (`Plan.sites`): a failure is located by it
        self.numbers = {id(site): k for k, site in enumerate(pack.plan.sites)}

    def value(self, site: Site) -> str:
        """The inlined expression, after noting the site it is (for locating a failure); in
        the full form, the expression's recording, kept with its site's number."""
        number = self.numbers[id(site)]
        self.line(f"_at = {number}")
        expression = site.expression
        if self.form == "full":
            self.line(f"_recording = {self.constant(expression.recording)}({codegen.signature(expression.checked)})")
            self.line(f"_values.append(({number}, _recording))")
            return "_recording.result"
        gen = codegen.expression_writer(expression.checked, prefix=f"{number + 1}_")
        source = gen.emit(expression.checked.root)
        self.constants.update(gen.constants)
        return source

    def assign(self, target: str, site: Site, as_bool: bool = False) -> None:
        """`target = value`, the value recorded as it came (compact form), then made a bool
        where the engine reads it as one (gates, `when`, findings)."""
        self.line(f"{target} = {self.value(site)}")
        if self.form == "compact":
            self.line(f"_values[{self.pack.slot_text_index[site.slot.text]}] = _compact({target})")
        if as_bool:
            self.line(f"{target} = _bool({target})")

    def clock(self, clock: str) -> None:
        self.line(f"_ns_params = _params[{clock!r}]")

    def whole_pack(self) -> str:
        plan = self.pack.plan
        self.clock(CALENDAR_MONTH)
        for name, site in plan.definitions:
            self.assign(f"_defs[{name!r}]", site)
        for i, (_, site) in enumerate(plan.gates):
            self.assign(f"_g{i}", site, as_bool=True)
        gates = ", ".join(f"{gate_id!r}: _g{i}" for i, (gate_id, _) in enumerate(plan.gates))
        self.line(f"_gates = {{{gates}}}")
        self.line("_parts = {}")
        self.line(f"if {' and '.join(f'_g{i}' for i in range(len(plan.gates))) or 'True'}:")
        self.indent += 1
        for rule, steps in zip(self.pack.rules, plan.rules):
            self.rule(rule, steps)
        self.line("pass")
        self.indent -= 1
        self.clock(CALENDAR_MONTH)
        for i, (_, site) in enumerate(plan.findings):
            self.assign(f"_f{i}", site, as_bool=True)
        held = ", ".join(f"{finding_id!r}: _f{i}" for i, (finding_id, _) in enumerate(plan.findings))
        self.line(f"return _gates, _parts, {{{held}}}")
        return self.text

    def rule(self, rule: Rule, plan: RulePlan) -> None:
        """The rule's steps as code, each as its role reads (`parts.rule_parts` says
        the same in Python): a blocked condition that holds ends the rule; `units` only when
        `when` held (1 when the rule states none)."""
        opened = 0
        self.clock(plan.steps[0].site.clock)  # every step of a rule runs on its code's clock
        self.line("_a = _r = None")
        self.line("_u = 1")
        for step in plan.steps:
            if step.role == BLOCKED:
                self.assign("_b", step.site)
                self.line("if _b:")
                self.line(f"    _parts[{rule.id!r}] = _RuleParts({step.index}, False, None, None, 0)")
                self.line("else:")
                self.indent += 1
                opened += 1
            elif step.role == WHEN:
                self.assign("_m", step.site, as_bool=True)
            elif step.role == UNITS:
                self.line("if _m:")
                self.indent += 1
                self.assign("_u", step.site)
                self.line(f"_units({self.constant(rule)}, _u)")
                self.indent -= 1
            else:
                self.assign({ACTUAL: "_a", REQUIRED: "_r"}[step.role], step.site)
        self.line(f"_parts[{rule.id!r}] = _RuleParts(None, _m, _a, _r, _u if _m else 0)")
        self.indent -= opened


class Program:
    """A pack's program for one trace form: `run(facts, defs, params by clock, options,
    values)` fills `defs` and returns (gates, rule parts, findings held); `values` is None
    (none), the compact values aligned with the rule table, or the list the full form
    appends (site number, recording) to."""

    def __init__(self, pack: CompiledPack, form: str) -> None:
        writer = _Writer(pack, form)
        body = writer.whole_pack()
        self.sites = pack.plan.sites
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

"""`policyengine lint PACK`: what `validate` cannot see, each finding a `Diagnostic` at its
file:line:col with a stable code (`FINDINGS`) and a severity.

`validate` says whether a pack means something; lint says whether it means what its authors
meant. Errors, because a dead rule is a mistake in a billing pack: a condition that can
never be true or never be false, a blocked entry that can never apply, a rule a conflict
always wins over. Warnings: parameters whose dated values leave a gap, hide one another, are
unverified or of low confidence, repeat the parent's value under a new citation, or cite
nothing; codes without a rate on some day; options no expression reads. Only what is
certain is reported (`ranges.py` is sound): what cannot be proven is no finding.

What the words mean here:

- Segments: the pack's effective range cut at each date a parameter takes a new value; in a
  segment every parameter is a constant, and conditions are judged segment by segment. A
  month reads its definitions, gates and findings at its last day; a rule on a 30-day-period
  or episode clock reads its own `params.x` at its period's end, which is from the month's
  first day to 29 days after its last: such a rule is judged with each set of values in force
  in that window, and a finding holds only if it holds for every one.
- In force: a dated value is in force from its date to the day before the next one, and in
  force in the pack when that stretch meets the pack's effective range. Confidence,
  citations, overlaps and repeats are checked for the values in force; a parent's value
  replaced before this pack begins is the parent's concern.
- Gap: no value in force on the pack's first day (`effective.from`). Values are start-dated,
  so after the first one there is no hole: that is the one gap there can be. A value dated
  after `effective.to` is in force for no month of the pack, only for a 30-day period that
  ends after it (`parameter_after_range`).
- Overlap: start-dated values cannot overlap in time; what can is two files of the chain
  dating a value on the same day. The merge keeps the overlay's, and the base's is never in
  force. That is how an overlay corrects its base, and it hides the base's value and
  citation: lint asks for it to be said (a suppression with its reason).
- Unchanged: a value equal to the one in force before it, written in another file of the
  chain, under a different citation: the citation names a newer source, yet the value did
  not change. Carried forward on purpose (suppress it, saying so), or not yet updated.
- Shadowed: a rule whose code a two-code conflict drops whenever the rule is met: the kept
  code's rule is met too (its condition is implied by the loser's, `Ranges.implies`), earns
  a unit, has no blocked entry the loser has not, requires nothing, has nothing kept over
  it, and runs on the same clock. The loser's code then bills only when something outside
  the rules stops the winner: a code billed elsewhere.
- Never read: an option no expression reads (`packs.analysis` says what each one reads).
  The engine reads no option by name, so such an option changes no decision.

A finding the team accepts is suppressed, with its reason, in `lint.yaml` beside
`pack.yaml` (`suppressions.py`):

    suppress:
      - code: lint.parameter_unverified
        at: rvu_99454          # what the finding names: a parameter, rule id, code, option...
        reason: no CMS file row seen (domain reference 13.1); to be read from the RVU file
"""
from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from ..diagnostics import Diagnostic, sort_diagnostics
from ..facts.dates import MAX_PERIOD_DAYS
from ..lang import CompiledExpression
from ..lang import nodes as n
from ..packs.clocks import CALENDAR_MONTH
from ..packs.loader import load_source
from ..packs.model import CompiledPack, Rule
from ..packs.slots import CODE, PACK, RULE, Slot
from ..wording import counted
from .ranges import Ranges
from .lint_written import (CODE_RATE_GAP, OPTION_NEVER_READ, PARAMETER_AFTER_RANGE, PARAMETER_GAP,
                           PARAMETER_LOW_CONFIDENCE, PARAMETER_NO_CITATION, PARAMETER_OVERLAP, PARAMETER_UNCHANGED,
                           PARAMETER_UNVERIFIED, written_findings)
from .suppressions import SUPPRESSIONS_FILE, Finding, accepted, inherited, read_suppressions

NEVER_TRUE = "lint.condition_never_true"
NEVER_FALSE = "lint.condition_never_false"
BLOCKED_NEVER_APPLIES = "lint.blocked_never_applies"
RULE_SHADOWED = "lint.rule_shadowed"

#: every finding lint reports, and what it means (a suppression names one of these)
FINDINGS = {
    NEVER_TRUE: "a condition (or a conjunct of one) no facts can make true, with the parameters in force",
    NEVER_FALSE: "a condition (or a conjunct of one) no facts can make false, with the parameters in force",
    BLOCKED_NEVER_APPLIES: "a rule's blocked entry whose condition can never be true",
    RULE_SHADOWED: "a rule whose code a conflict drops whenever it is met: the kept code's rule is met too",
    PARAMETER_GAP: "a parameter with no value in force on the pack's first day",
    PARAMETER_AFTER_RANGE: "a parameter value dated after the pack's last day",
    PARAMETER_OVERLAP: "a parameter value dated on a day a file the pack extends dates a value too, hiding it",
    PARAMETER_UNVERIFIED: "a parameter value in force marked confidence: unverified",
    PARAMETER_LOW_CONFIDENCE: "a parameter value in force marked confidence: low",
    PARAMETER_UNCHANGED: "a parameter value equal to its parent pack's, under a citation of its own",
    PARAMETER_NO_CITATION: "a parameter value in force that cites nothing",
    CODE_RATE_GAP: "a code whose rate reads a parameter with no value on some day of the pack",
    OPTION_NEVER_READ: "an option no expression reads",
}

#: the days of the longest month: a month ending in a segment begins at most 30 days before it
_LONGEST_MONTH = 31

_HINTS = {
    NEVER_TRUE: "check its thresholds against what the facts can hold: a condition that never holds is dead",
    NEVER_FALSE: "check its thresholds, or leave it out: a condition that always holds decides nothing",
    BLOCKED_NEVER_APPLIES: "check it, or leave it out: a blocked entry that never applies denies nothing",
    RULE_SHADOWED: "narrow one of the two conditions so the rule is met where the kept code's is not, or remove the rule",
}


@dataclass(frozen=True)
class LintReport:
    pack: str
    #: every finding, suppressed ones included, in file order
    findings: tuple[Finding, ...]

    def _counted(self, severity: str) -> int:
        return sum(1 for f in self.findings if f.suppressed is None and f.diagnostic.severity == severity)

    @property
    def errors(self) -> int:
        return self._counted("error")

    @property
    def warnings(self) -> int:
        return self._counted("warning")

    @property
    def suppressed(self) -> int:
        return sum(1 for f in self.findings if f.suppressed is not None)

    @property
    def exit_status(self) -> int:
        """1 when an error stands, else 0 (warnings only)."""
        return 1 if self.errors else 0

    def shown(self, show_suppressed: bool) -> list[Finding]:
        return [f for f in self.findings if show_suppressed or f.suppressed is None]

    def summary(self) -> str:
        return (f"{self.pack}: {counted(self.errors, 'error')}, {counted(self.warnings, 'warning')}, "
                f"{self.suppressed} suppressed")

    def render(self, show_suppressed: bool = False) -> str:
        """Each finding as `validate` shows its errors, then the summary line."""
        return "\n".join([*(_rendered(f) for f in self.shown(show_suppressed)), self.summary()])

    def as_json(self, show_suppressed: bool = False) -> list[dict[str, Any]]:
        return [_as_json(f, show_suppressed) for f in self.shown(show_suppressed)]



def _rendered(finding: Finding) -> str:
    d = finding.diagnostic
    if finding.suppressed is not None:
        note = f"note: suppressed in {SUPPRESSIONS_FILE}: {finding.suppressed}"
    elif finding.at is not None:
        note = f"note: to accept it, add to {SUPPRESSIONS_FILE}: {{code: {d.code}, at: {finding.at}, reason: ...}}"
    else:
        return d.render()
    return replace(d, notes=(*d.notes, note)).render()


def _as_json(finding: Finding, show_suppressed: bool) -> dict[str, Any]:
    d, span = finding.diagnostic, finding.diagnostic.span
    data: dict[str, Any] = {"code": d.code, "severity": d.severity, "message": d.message,
                            "file": span.source.name if span else None, "line": span.line if span else None,
                            "column": span.column if span else None, "at": finding.at}
    if show_suppressed:
        data["suppressed"] = finding.suppressed
    return data


def lint_pack(pack: CompiledPack) -> LintReport:
    """Every finding about a compiled pack, its own lint.yaml's suppressions applied."""
    source = load_source(pack.directory)
    segments = _segments(pack)
    views = {at_month_end: _views(pack, segments, at_month_end) for at_month_end in (True, False)}
    findings = [*(f for site in _sites(pack) for f in _judged(site, views[site.at_month_end])),
                *_shadowed(pack, views), *written_findings(pack, source)]
    own_file = Path(source.meta.doc.source.name)
    suppressions, problems = read_suppressions(own_file.parent / SUPPRESSIONS_FILE, FINDINGS)
    every = inherited(accepted(findings, suppressions), [f for f in source.files if f != own_file], FINDINGS)
    every += [Finding(problem, None) for problem in problems]
    order = {id(d): i for i, d in enumerate(sort_diagnostics(f.diagnostic for f in every))}
    return LintReport(f"{pack.id} {pack.version}", tuple(sorted(every, key=lambda f: order[id(f.diagnostic)])))


# --- segments and the parameters each expression reads -----------------------------------------


@dataclass(frozen=True)
class Segment:
    first: str
    last: str


def _shifted(day: str, days: int) -> str:
    return (date.fromisoformat(day) + timedelta(days=days)).isoformat()


def _change_days(pack: CompiledPack, first: str, last: str) -> list[str]:
    """`first`, and each later day to `last` on which some parameter takes a new value."""
    changes = {day for parameter in pack.parameters.values() for day, *_ in parameter.values if first < day <= last}
    return [first, *sorted(changes)]


def _segments(pack: CompiledPack) -> list[Segment]:
    days = _change_days(pack, pack.effective_from, pack.effective_to)
    lasts = [_shifted(day, -1) for day in days[1:]] + [pack.effective_to]
    return [Segment(first, last) for first, last in zip(days, lasts)]


Views = list[tuple[Segment, tuple[Ranges, ...]]]


def _views(pack: CompiledPack, segments: list[Segment], at_month_end: bool) -> Views:
    """Per segment, the pack read with each set of parameter values an expression can see in
    a month whose last day is in it: the month's own (`at_month_end`), or, for a rule on a
    period clock, each in force from the month's first day to its period's latest end."""
    found: Views = []
    for segment in segments:
        month = pack.params_at(segment.first)
        if at_month_end:
            found.append((segment, (Ranges(pack, month, month),)))
            continue
        first = max(_shifted(segment.first, 1 - _LONGEST_MONTH), _month_start(pack.effective_from))
        days = _change_days(pack, first, _shifted(segment.last, MAX_PERIOD_DAYS - 1))
        found.append((segment, tuple(Ranges(pack, pack.params_at(day), month) for day in days)))
    return found


def _month_start(day: str) -> str:
    """The first day of the month of `day` (YYYY-MM-DD)."""
    return date.fromisoformat(day).replace(day=1).isoformat()


def _at_month_end(pack: CompiledPack, slot: Slot) -> bool:
    """Whether the expression in `slot` reads its parameters at the month's end (a rule's
    parts and a code's RVU read them at the code's date of service; the conversion factor at
    every code's)."""
    if slot.kind == PACK:
        return False
    if slot.kind in (RULE, CODE):
        code = pack.rules_by_id[slot.owner].code if slot.kind == RULE else slot.owner
        return pack.codes[code].clock == CALENDAR_MONTH
    return True


# --- conditions that can never be true, or never be false ----------------------------------------


@dataclass(frozen=True)
class _Site:
    """A condition lint judges, and the filters (`where`) around it."""

    expression: CompiledExpression
    node: n.Node
    scopes: tuple[n.Where, ...]
    what: str
    at: str
    at_month_end: bool
    blocked: bool = False


def _sites(pack: CompiledPack) -> Iterator[_Site]:
    """Gates, findings, each rule's blocked entries, condition and opportunity, and every
    filter's condition, in every expression of the pack."""
    for gate in pack.gates:
        yield _Site(gate.when, gate.when.checked.root, (), f"the condition of gate '{gate.id}'", gate.id, True)
    for finding in pack.findings:
        yield _Site(finding.when, finding.when.checked.root, (), f"the condition of finding '{finding.id}'", finding.id, True)
    for rule in pack.rules:
        yield from _rule_sites(pack, rule)
    for slot, expression in pack.expressions.items():
        for where, scopes in _filters(expression.checked.root, ()):
            yield _Site(expression, where.predicate, (*scopes, where), f"a filter's condition in {slot}", slot.owner,
                        _at_month_end(pack, slot))


def _rule_sites(pack: CompiledPack, rule: Rule) -> Iterator[_Site]:
    month = pack.codes[rule.code].clock == CALENDAR_MONTH
    for blocker in rule.blocked:
        yield _Site(blocker.when, blocker.when.checked.root, (), f"a blocked entry of rule '{rule.id}'", rule.id, month,
                    blocked=True)
    yield _Site(rule.when, rule.when.checked.root, (), f"the condition of rule '{rule.id}'", rule.id, month)
    if rule.opportunity is not None:
        when = rule.opportunity.when
        yield _Site(when, when.checked.root, (), f"the opportunity of rule '{rule.id}'", rule.id, month)


def _filters(node: n.Node, scopes: tuple[n.Where, ...]) -> Iterator[tuple[n.Where, tuple[n.Where, ...]]]:
    """Each `where` of a tree, with the filters around it (outermost first)."""
    if isinstance(node, n.Where):
        yield node, scopes
        yield from _filters(node.items, scopes)
        yield from _filters(node.predicate, (*scopes, node))
        return
    for child in node.children():
        yield from _filters(child, scopes)


def _judged(site: _Site, views: Views) -> Iterator[Finding]:
    """The findings about one condition: each conjunct of an `and` that can never be true or
    never be false, then the whole, never true where no conjunct says why (`x >= 20 min and
    x < 10 min`), or never false (of a condition that is not an `and`)."""
    parts = n.conjuncts(site.node)
    explained: set[Segment] = set()
    for part in parts if len(parts) > 1 else ():
        never_true, never_false = _never(site, part, views)
        explained.update(never_true)
        yield from _reported(site, part, never_true, never_false, views)
    never_true, never_false = _never(site, site.node, views)
    yield from _reported(site, site.node, [s for s in never_true if s not in explained],
                         never_false if len(parts) == 1 else [], views)


def _never(site: _Site, node: n.Node, views: Views) -> tuple[list[Segment], list[Segment]]:
    """The segments in which `node` can never be true, and those in which it can never be false."""
    never_true, never_false = [], []
    for segment, readings in views:
        truths = [ranges.truth(site.expression, node, site.scopes) for ranges in readings]
        if not any(t.can_be_true for t in truths):
            never_true.append(segment)
        if not any(t.can_be_false for t in truths):
            never_false.append(segment)
    return never_true, never_false


def _reported(site: _Site, node: n.Node, never_true: list[Segment], never_false: list[Segment],
              views: Views) -> Iterator[Finding]:
    for value, segments in ((True, never_true), (False, never_false)):
        if not segments:
            continue
        code = (BLOCKED_NEVER_APPLIES if site.blocked else NEVER_TRUE) if value else NEVER_FALSE
        verb = "can never apply" if code == BLOCKED_NEVER_APPLIES else f"can never be {str(value).lower()}"
        subject = site.what if node is site.node else f"this part of {site.what}"
        ranges = dict(views)[segments[0]][0]
        why = ranges.why(site.expression, node, site.scopes)
        message = f"{subject} {verb}{_during(segments, [s for s, _ in views])}" + (f": {why}" if why else "")
        yield Finding(Diagnostic(code, message, node.span, hint=_HINTS[code]), site.at)


def _during(segments: list[Segment], every: list[Segment]) -> str:
    """'' when `segments` are all of them, else ' from A to B' for each run of them."""
    if len(segments) == len(every):
        return ""
    runs: list[list[Segment]] = []
    for i, segment in enumerate(every):
        if segment not in segments:
            continue
        if runs and every[i - 1] is runs[-1][-1]:
            runs[-1].append(segment)
        else:
            runs.append([segment])
    return " from " + ", and from ".join(f"{run[0].first} to {run[-1].last}" for run in runs)


# --- rules a conflict always wins over --------------------------------------------------------


def _shadowed(pack: CompiledPack, views: Mapping[bool, Views]) -> Iterator[Finding]:
    deciding = {rule.code: rule for rule in pack.rules}
    for conflict in pack.conflicts.entries:
        if conflict.keep is None:
            continue
        loser, winner = deciding.get(conflict.other(conflict.keep)), deciding.get(conflict.keep)
        if loser is None or winner is None or not _always_outbilled(pack, loser, winner, views):
            continue
        yield Finding(Diagnostic(
            RULE_SHADOWED, f"rule '{loser.id}' never bills {loser.code}: whenever it is met, rule '{winner.id}' earns "
            f"{winner.code}, which conflict '{conflict.id}' keeps over it", loser.when.checked.root.span,
            hint=_HINTS[RULE_SHADOWED]), loser.id)


def _always_outbilled(pack: CompiledPack, loser: Rule, winner: Rule, views: Mapping[bool, Views]) -> bool:
    """Whether `winner`'s rule is met, and earns a unit, whenever `loser`'s is (in every view)."""
    clock = pack.codes[loser.code].clock
    if pack.codes[winner.code].clock != clock or not _only_its_rule_stops(pack, winner, loser):
        return False
    readings = [ranges for _, segment in views[clock == CALENDAR_MONTH] for ranges in segment]
    if not any(ranges.truth(loser.when).can_be_true for ranges in readings):
        return False  # a rule that is never met is reported as such
    return all(ranges.implies(loser.when, winner.when) and _earns_a_unit(pack, ranges, winner) for ranges in readings)


def _only_its_rule_stops(pack: CompiledPack, winner: Rule, loser: Rule) -> bool:
    """Whether nothing of the decision but its own condition keeps `winner` from billing,
    short of a code billed elsewhere: no code kept over it, none it requires, and no blocked
    entry that `loser` has not (which would block the loser too)."""
    own = [blocker.when.checked.root for blocker in loser.blocked]
    return (not winner.requires and not pack.conflicts.winners.get(winner.code)
            and all(blocker.when.checked.root in own for blocker in winner.blocked))


def _earns_a_unit(pack: CompiledPack, ranges: Ranges, rule: Rule) -> bool:
    cap = pack.codes[rule.code].max_units
    if cap is not None and cap < 1:
        return False
    low = ranges.interval(rule.units).low if rule.units is not None else 1
    return low is not None and low >= 1

"""What an explanation shows, built from a decision, its trace and (where needed) its pack.

Views (text, Markdown, HTML) render an `Explanation`; none of them reads the decision.
Domain knowledge comes from the pack: codes and descriptors, rule citations, parameter
types and dates, option descriptions, and the rules themselves, which this module
evaluates again over the trace's recorded values to find where the running time crossed
each rule's threshold (no code, threshold or modality is named here).

The time ledger needs the full trace: the `filters` of the definitions that select
countable items name each item (a JSON pointer into the facts), whether it was kept and
the condition that dropped it. With a compact trace, or no trace, the explanation says
which sections it cannot show and shows the rest.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from ..engine.decide import service_date
from ..lang import DURATION, INT, CompiledExpression, ListOf, EvaluationError, format_seconds
from ..packs import CompiledPack

FULL_TRACE_SECTIONS = ("time ledger", "days counted", "derivation (values of each part)",
                       "documentation fields that would unlock a code")

_SUM = re.compile(r"sum\((\w+)\.(\w+)\)")
_PRESENT = re.compile(r"present\((\w+)\)")
_NONEMPTY = re.compile(r"count\((\w+)\) > 0")


# --- the model ----------------------------------------------------------------------------------

@dataclass
class PackInfo:
    id: str
    version: str
    sha256: str
    available: bool
    matches: bool
    source: str
    note: str | None


@dataclass
class Gap:
    pointer: str
    fields: list[str]
    seconds: int | None
    condition: str


@dataclass
class CodeLine:
    code: str
    descriptor: str | None
    billable: bool
    units: int | None
    amount: str | None
    rule: str
    citation: str | None
    status: str | None
    reason: str
    actual: str | None
    required: str | None
    short_by: str | None
    unlock_fields: list[str] = field(default_factory=list)
    gaps: list[Gap] = field(default_factory=list)
    gaps_would_unlock: bool = False

    @property
    def status_label(self) -> str:
        """The status in words, as every view shows it: "not met", "documentation missing"."""
        return (self.status or "").replace("_", " ")


@dataclass
class Crossing:
    seconds: int
    clock: str
    earned: list[str]
    replaced: list[str]


@dataclass
class LedgerRow:
    pointer: str
    id: str | None
    date: str | None
    seconds: int | None
    counted: bool
    excluded_by: str | None
    excluded_in: str | None
    documentation_gap: bool
    running: int
    looked_at: list[str] = field(default_factory=list)
    filter: str | None = None
    crossings: list[Crossing] = field(default_factory=list)
    capped: bool = False


@dataclass
class Ledger:
    definition: str
    expression: str
    total: int
    rows: list[LedgerRow]
    cap: str | None
    cap_seconds: int | None
    not_added: list[str]
    #: gates that failed: no time earns anything, so no threshold crossings are shown
    failed_gates: list[str] = field(default_factory=list)


@dataclass
class DayCount:
    definition: str
    expression: str
    count: Any
    days: list[str]
    rules: list[str]


@dataclass
class Part:
    expr: str
    value: str


@dataclass
class Step:
    slot: str
    expression: str
    value: str
    parts: list[Part]
    reads: list[str]


@dataclass
class ParameterUse:
    name: str
    effective: str
    value: str
    citation: str | None
    confidence: str | None
    in_force: bool


@dataclass
class OptionUse:
    name: str
    value: str
    default: str | None
    description: str | None
    citation: str | None


@dataclass
class FindingLine:
    id: str
    severity: str
    message: str
    evidence: list[str]
    citation: str | None


@dataclass
class Explanation:
    patient_id: str
    month: str
    pack: PackInfo
    engine: str
    facts_sha256: str
    total: str
    trace_form: str
    codes: list[CodeLine]
    findings: list[FindingLine]
    options: list[OptionUse]
    ledgers: list[Ledger]
    day_counts: list[DayCount]
    steps: list[Step]
    parameters: list[ParameterUse]
    needs_full_trace: list[str]
    opportunities: list[dict]


# --- small helpers ------------------------------------------------------------------------------

def clock(seconds: int) -> str:
    """A running total as a stopwatch shows it: 600 -> '10:00', 3599 -> '59:59'."""
    minutes, secs = divmod(seconds, 60)
    return f"{minutes}:{secs:02d}"


def short_value(value: Any, duration: bool = False) -> str:
    """A traced value in a line: durations in words, records by their id, long lists cut."""
    if duration and isinstance(value, int) and not isinstance(value, bool):
        return format_seconds(value)
    if isinstance(value, bool):
        return str(value).lower()
    if value is None:
        return "none"
    if isinstance(value, dict):
        return str(value.get("id", "{…}"))
    if isinstance(value, list):
        shown = [short_value(v, duration) for v in value[:8]]
        more = f", … {len(value) - 8} more" if len(value) > 8 else ""
        return "[" + ", ".join(shown) + more + "]"
    if isinstance(value, str):
        return value
    return str(value)


def _slot_expression(pack: CompiledPack | None, slot: str) -> CompiledExpression | None:
    return pack.slot_expressions.get(slot) if pack is not None else None


def _duration_texts(expression: CompiledExpression | None) -> set[str]:
    """The source text of every part of `expression` whose type is a duration."""
    if expression is None:
        return set()
    out = set()
    for node in expression.nodes:
        span = node.span
        if span is None:
            continue
        try:
            typ = expression.checked.type_of(node)
        except KeyError:
            continue
        if typ == DURATION or typ == ListOf(DURATION):
            out.add(" ".join(span.source.text[span.start:span.end].split()))
    if expression.type == DURATION:
        out.add(" ".join(expression.text.split()))
    return out


def _words(value: Any, expression: CompiledExpression | None) -> str | None:
    if value is None:
        return None
    return short_value(value, expression is not None and expression.type == DURATION)


def _rule(pack: CompiledPack | None, rule_id: str):
    if pack is None:
        return None
    return next((r for r in pack.rules if r.id == rule_id), None)


# --- building -----------------------------------------------------------------------------------

def pack_info(decision: dict, pack: CompiledPack | None, source: str) -> PackInfo:
    named = decision.get("pack") or {}
    pid, version, sha = named.get("id", "?"), named.get("version", "?"), named.get("sha256", "?")
    if pack is None:
        return PackInfo(pid, version, sha, False, False, source,
                        f"pack {pid} {version} (sha256 {sha[:12]}) is not available here: citations, "
                        f"descriptors and parameter details are left out; give it with --pack")
    if pack.sha256 != sha or pack.id != pid:
        return PackInfo(pid, version, sha, True, False, source,
                        f"the pack used here ({pack.id} {pack.version}, {source}, sha256 {pack.sha256[:12]}) "
                        f"is NOT the pack this decision was made with ({pid} {version}, sha256 {sha[:12]}): "
                        f"descriptors and citations below come from a different pack content")
    return PackInfo(pid, version, sha, True, True, source, None)


class _Trace:
    """The full trace's entries by slot, and the recorded records of the facts by pointer."""

    def __init__(self, trace: dict) -> None:
        self.entries: dict[str, dict] = {e["slot"]: e for e in trace.get("entries", ())}
        self.collections: dict[str, list] = {}
        for entry in trace.get("entries", ()):
            for part in entry.get("parts", ()):
                if re.fullmatch(r"\w+", part["expr"]) and isinstance(part["value"], list):
                    self.collections.setdefault(part["expr"], part["value"])

    def record(self, pointer: str) -> dict | None:
        match = re.fullmatch(r"/(\w+)/(\d+)", pointer or "")
        if not match:
            return None
        items = self.collections.get(match.group(1))
        index = int(match.group(2))
        if items is None or index >= len(items) or not isinstance(items[index], dict):
            return None
        return items[index]

    def definition_value(self, name: str) -> Any:
        entry = self.entries.get(f"definition:{name}")
        return entry["value"] if entry else None


def _top_filter(entry: dict | None) -> dict | None:
    for flt in (entry or {}).get("filters", ()):
        if any(item["pointer"] for item in flt["items"]):
            return flt
    return None


def _missing_fields(condition: str, record: dict | None) -> list[str]:
    """The fields a documentation condition asks for that this record lacks."""
    wanted = _PRESENT.findall(condition) + _NONEMPTY.findall(condition)
    if record is None:
        return wanted
    return [name for name in wanted if not record.get(name)]


def _is_documentation_condition(condition: str | None) -> bool:
    """A condition that only asks for fields to be present: a documentation requirement."""
    if not condition:
        return False
    rest = _NONEMPTY.sub("", _PRESENT.sub("", condition.removeprefix("not ")))
    return bool(_PRESENT.search(condition) or _NONEMPTY.search(condition)) and not re.sub(r"\band\b|[()\s]", "", rest)


def _looked_at(condition: str | None, record: dict | None, options: dict) -> list[str]:
    """The record's values and the options a dropping condition names: `two_way = false`."""
    if not condition:
        return []
    out = []
    for key, value in (record or {}).items():
        if isinstance(value, dict):
            out += [f"{key}.{sub} = {short_value(v)}" for sub, v in value.items()
                    if re.search(rf"(?<![.\w]){key}\.{sub}\b", condition)]
        elif key not in ("id",) and re.search(rf"(?<![.\w]){key}\b", condition):
            out.append(f"{key} = {short_value(value)}")
    out += [f"options.{name} = {short_value(options[name])}" for name in dict.fromkeys(re.findall(r"options\.(\w+)", condition))
            if name in options]
    return out


class _WhatIf:
    """The time codes billable at a hypothetical running total, by the pack's own rules."""

    def __init__(self, pack: CompiledPack, decision: dict, tr: _Trace, definition: str, rules: list) -> None:
        self.pack, self.definition, self.rules = pack, definition, rules
        self.defs = {name: tr.definition_value(name) for name, _ in pack.definitions}
        self.options = dict(decision.get("options") or {})
        self.params = {rule.id: pack.params_at(service_date(pack.codes[rule.code].clock, {"month": decision["month"]}))
                       for rule in rules}
        self.cache: dict[tuple, dict[str, int]] = {}

    def billed(self, seconds: int, options: dict | None = None) -> dict[str, int]:
        options = options or self.options
        key = (seconds, tuple(sorted(options.items())))
        if key in self.cache:
            return self.cache[key]
        defs = dict(self.defs)
        defs[self.definition] = seconds
        billed: dict[str, int] = {}
        for rule in self.rules:
            args = ({}, defs, self.params[rule.id], options)
            met = rule.when.evaluate(*args)
            units = rule.units.evaluate(*args) if (met and rule.units) else int(bool(met))
            if units > 0 and not any(c in billed for c in rule.excludes) and all(c in billed for c in rule.requires) \
                    and rule.code not in billed:
                billed[rule.code] = units
        self.cache[key] = billed
        return billed

    def first_change(self, low: int, high: int, options: dict | None = None) -> int:
        """The least total in (low, high] billed differently from `low` (one exists)."""
        start = self.billed(low, options)
        while high - low > 1:
            mid = (low + high) // 2
            if self.billed(mid, options) != start:
                high = mid
            else:
                low = mid
        return high


def _crossing(before: dict[str, int], after: dict[str, int], seconds: int) -> Crossing:
    earned = [f"{code} x{units}" for code, units in after.items() if before.get(code) != units]
    replaced = [code for code in before if code not in after]
    return Crossing(seconds, clock(seconds), earned, replaced)


def build_ledger(decision: dict, pack: CompiledPack, tr: _Trace, definition: str) -> Ledger | None:
    entry = tr.entries.get(f"definition:{definition}")
    if entry is None:
        return None
    names = [name for name, _ in pack.definitions]
    # the definitions this one depends on, transitively
    closure, todo = [], [definition]
    while todo:
        name = todo.pop()
        text = tr.entries.get(f"definition:{name}", {}).get("expression", "")
        for other in names:
            if other not in closure and other != definition and re.search(rf"\b{other}\b", text):
                closure.append(other)
                todo.append(other)
    closure.sort(key=names.index)
    expression = entry["expression"]
    evaluated = {p["expr"] for p in entry.get("parts", ())}
    summed = {m.group(1): m.group(2) for m in _SUM.finditer(expression)}
    added = [name for name in summed if f"sum({name}.{summed[name]})" in evaluated]
    not_added = [name for name in summed if name not in added]
    guards = {}
    for name in not_added:
        guard = re.search(rf"if (.+?) then sum\({name}\.", expression)
        guards[name] = guard.group(1) if guard else f"sum({name}.{summed[name]}) was not evaluated"

    first_drop: dict[str, tuple[str, str]] = {}
    filter_text: dict[str, str] = {}
    kept_in: dict[str, set[str]] = {}
    order: list[str] = []
    for name in closure:
        flt = _top_filter(tr.entries.get(f"definition:{name}"))
        if flt is None:
            continue
        for item in flt["items"]:
            pointer = item["pointer"]
            if pointer is None:
                continue
            if pointer not in order:
                order.append(pointer)
            if item["kept"]:
                kept_in.setdefault(pointer, set()).add(name)
            elif pointer not in first_drop:
                first_drop[pointer] = (name, item["dropped_by"])
                filter_text[pointer] = flt["filter"]
    duration_field = next(iter(summed.values()), None)
    rows: list[LedgerRow] = []
    for pointer in order:
        record = tr.record(pointer)
        seconds = record.get(duration_field) if record and duration_field else None
        counted = any(name in kept_in.get(pointer, ()) for name in added) and pointer not in first_drop
        excluded_in = excluded_by = None
        if pointer in first_drop:
            excluded_in, excluded_by = first_drop[pointer]
        elif not counted:
            owner = next((name for name in not_added if name in kept_in.get(pointer, ())), None)
            excluded_in = definition
            excluded_by = f"{guards[owner]} is false" if owner else "not selected"
        rows.append(LedgerRow(pointer, record.get("id") if record else None, record.get("date") if record else None,
                              seconds if isinstance(seconds, int) else None, counted, excluded_by, excluded_in,
                              _is_documentation_condition(excluded_by), 0,
                              _looked_at(excluded_by, record, decision.get("options") or {}),
                              filter_text.get(pointer)))
    rows.sort(key=lambda row: (row.date or "", order.index(row.pointer)))

    rules = [rule for rule in pack.rules if rule.actual is not None and rule.actual.type == DURATION
             and " ".join(rule.actual.text.split()) == definition]
    cap = cap_seconds = None
    failed = [slot.partition(":")[2] for slot, gate in tr.entries.items() if slot.startswith("gate:") and gate["value"] is False]
    whatif = _WhatIf(pack, decision, tr, definition, rules) if rules and not failed else None
    running = 0
    try:
        for row in rows:
            if not row.counted or not row.seconds:
                row.running = running
                continue
            low, high = running, running + row.seconds
            running = high
            row.running = running
            if whatif is None:
                continue
            while whatif.billed(low) != whatif.billed(high):
                at = whatif.first_change(low, high)
                row.crossings.append(_crossing(whatif.billed(low), whatif.billed(at), at))
                low = at
        if whatif is not None and running > 0:
            int_options = [n for n, o in pack.options.items() if o.type == "int" and n in whatif.options]
            for name in int_options:
                unbounded = dict(whatif.options, **{name: 10 ** 6})
                if whatif.billed(running, unbounded) != whatif.billed(running):
                    cap_seconds = whatif.first_change(0, running, unbounded)
                    while whatif.billed(cap_seconds, unbounded) == whatif.billed(cap_seconds):
                        cap_seconds = whatif.first_change(cap_seconds, running, unbounded)
                    cap = f"options.{name} = {whatif.options[name]}"
                    break
    except EvaluationError:
        for row in rows:
            row.crossings = []
    if cap_seconds is not None:
        for row in rows:
            if row.counted and row.running >= cap_seconds:
                row.capped = True
    return Ledger(definition, expression, running if rows else entry["value"], rows, cap, cap_seconds,
                  [f"{name}: {guards[name]}" for name in not_added], failed)


def build_explanation(decision: dict, pack: CompiledPack | None = None, source: str = "bundled") -> Explanation:
    info = pack_info(decision, pack, source)
    usable = pack if (pack is not None and info.matches) else pack  # a differing pack still gives words
    trace = decision.get("trace") if isinstance(decision.get("trace"), dict) else None
    form = trace.get("form", "none") if trace else "none"
    tr = _Trace(trace) if form == "full" and trace else None
    codes_meta = usable.codes if usable is not None else {}

    ledgers: list[Ledger] = []
    day_counts: list[DayCount] = []
    if tr is not None and usable is not None:
        seen: list[str] = []
        for rule in usable.rules:
            if rule.actual is None:
                continue
            name = " ".join(rule.actual.text.split())
            if name not in dict(usable.definitions):
                continue
            if rule.actual.type == DURATION and name not in seen:
                seen.append(name)
                ledger = build_ledger(decision, usable, tr, name)
                if ledger is not None:
                    ledgers.append(ledger)
            elif rule.actual.type == INT and usable.codes[rule.code].clock != "calendar_month":
                existing = next((d for d in day_counts if d.definition == name), None)
                if existing is not None:
                    existing.rules.append(rule.id)
                    continue
                entry = tr.entries.get(f"definition:{name}")
                if entry is None:
                    continue
                days = next((p["value"] for p in entry.get("parts", ()) if isinstance(p["value"], list)), [])
                day_counts.append(DayCount(name, entry["expression"], entry["value"], [str(d) for d in days], [rule.id]))

    gaps_by_rule: dict[str, list[Gap]] = {}
    codes: list[CodeLine] = []
    for line in decision.get("billable", ()):
        rule = _rule(usable, line["rule"])
        codes.append(CodeLine(line["code"], codes_meta[line["code"]].descriptor if line["code"] in codes_meta else None,
                              True, line["units"], line["amount"], line["rule"], rule.citation if rule else None,
                              None, line["reason"], None, None, None))
    for line in decision.get("not_billable", ()):
        rule = _rule(usable, line["rule"])
        actual_expr = rule.actual if rule else None
        required_expr = rule.required if rule else None
        actual, required = line.get("actual"), line.get("required")
        short_by = None
        if isinstance(actual, int) and isinstance(required, int) and not isinstance(actual, bool) and actual < required:
            short_by = _words(required - actual, actual_expr)
        item = CodeLine(line["code"], codes_meta[line["code"]].descriptor if line["code"] in codes_meta else None,
                        False, None, None, line["rule"], rule.citation if rule else None, line.get("status"),
                        line["reason"], _words(actual, actual_expr), _words(required, required_expr), short_by)
        if line.get("status") == "documentation_missing" and usable is not None:
            gate = next((g for g in usable.gates if g.reason == line["reason"]), None)
            if gate is not None:
                item.citation = gate.citation
                reads = tr.entries.get(f"gate:{gate.id}", {}).get("reads", []) if tr else []
                item.unlock_fields = [p for p in reads if p.count("/") > 1] or reads or [gate.when.text]
        codes.append(item)
    # documentation gaps that kept time out of a time ledger, shown apart from "not met"
    for ledger in ledgers:
        gaps = []
        for row in ledger.rows:
            if row.documentation_gap and tr is not None:
                fields = _missing_fields(row.filter or row.excluded_by or "", tr.record(row.pointer))
                gaps.append(Gap(row.pointer, [f"{row.pointer}/{f}" for f in fields], row.seconds, row.excluded_by or ""))
        for item in codes:
            rule = _rule(usable, item.rule)
            if gaps and rule is not None and rule.actual is not None and " ".join(rule.actual.text.split()) == ledger.definition:
                item.gaps = gaps
                if not item.billable:
                    line = next(l for l in decision["not_billable"] if l["rule"] == item.rule)
                    extra = sum(g.seconds or 0 for g in gaps)
                    if isinstance(line.get("actual"), int) and isinstance(line.get("required"), int):
                        item.gaps_would_unlock = line["actual"] + extra >= line["required"]
                    item.unlock_fields = [f for g in gaps for f in g.fields]
        gaps_by_rule[ledger.definition] = gaps

    findings = []
    for finding in decision.get("findings", ()):
        meta = next((f for f in usable.findings if f.id == finding["id"]), None) if usable else None
        findings.append(FindingLine(finding["id"], finding["severity"], finding["message"], list(finding["evidence"]),
                                    meta.citation if meta else None))
    options = []
    for name, value in (decision.get("options") or {}).items():
        meta = usable.options.get(name) if usable else None
        options.append(OptionUse(name, short_value(value), short_value(meta.default) if meta else None,
                                 meta.description if meta else None, meta.citation if meta else None))

    steps: list[Step] = []
    parameters: list[ParameterUse] = []
    if tr is not None:
        for slot, entry in tr.entries.items():
            durations = _duration_texts(_slot_expression(usable, slot))
            whole = " ".join(entry["expression"].split())
            steps.append(Step(slot, whole, short_value(entry["value"], whole in durations),
                              [Part(p["expr"], short_value(p["value"], p["expr"] in durations)) for p in entry["parts"]],
                              list(entry.get("reads", ()))))
        day = service_date("calendar_month", {"month": decision["month"]})
        for p in trace.get("parameters", ()):  # type: ignore[union-attr]
            meta = usable.parameters.get(p["name"]) if usable else None
            in_force = meta.at(day)[0] == p["effective"] if meta is not None and meta.at(day) else False
            parameters.append(ParameterUse(p["name"], p["effective"],
                                           short_value(p["value"], meta is not None and meta.type == DURATION),
                                           p.get("citation"), p.get("confidence"), in_force))
    elif form == "compact" and usable is not None and info.matches and trace:
        for slot, value in zip(usable.trace_slots, trace.get("values", ())):
            expression = _slot_expression(usable, slot)
            if value is None:
                continue
            steps.append(Step(slot, " ".join(expression.text.split()) if expression else "",
                              short_value(value, expression is not None and expression.type == DURATION), [], []))
    needs = [] if form == "full" else list(FULL_TRACE_SECTIONS)
    return Explanation(decision.get("patient_id", "?"), decision.get("month", "?"), info,
                       (decision.get("engine") or {}).get("version", "?"), decision.get("facts_sha256", "?"),
                       decision.get("total", "?"), form, codes, findings, options, ledgers, day_counts, steps,
                       parameters, needs, list(decision.get("opportunities", ())))


__all__ = ["Explanation", "build_explanation", "clock", "short_value"]

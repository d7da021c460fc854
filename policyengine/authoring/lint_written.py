"""Lint's findings about what a pack writes, value by value: a parameter with no value on
the first day or one dated after the last, a value that hides its parent's on the same day,
one marked low or unverified, one that cites nothing or repeats its parent's under a new
citation; a code without a rate for part of the year; an option nothing reads. (`lint.py`
judges what the pack decides: conditions, blocked entries, conflicts.)
"""
from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from ..diagnostics import Diagnostic, Span
from ..packs.loader import Entry, SourcePack, load_source
from ..packs.model import CompiledPack
from .suppressions import Finding

PARAMETER_GAP = "lint.parameter_gap"
PARAMETER_AFTER_RANGE = "lint.parameter_after_range"
PARAMETER_OVERLAP = "lint.parameter_overlap"
PARAMETER_UNVERIFIED = "lint.parameter_unverified"
PARAMETER_LOW_CONFIDENCE = "lint.parameter_low_confidence"
PARAMETER_UNCHANGED = "lint.parameter_unchanged"
PARAMETER_NO_CITATION = "lint.parameter_no_citation"
CODE_RATE_GAP = "lint.code_rate_gap"
OPTION_NEVER_READ = "lint.option_never_read"


def written_findings(pack: CompiledPack, source: SourcePack) -> Iterator[Finding]:
    yield from _parameter_findings(pack, source)
    yield from _rate_gaps(pack)
    yield from _unread_options(pack, source)


# --- parameters -------------------------------------------------------------------------------

#: a dated value of a parameter: (date, value, citation, confidence)
Dated = tuple[str, Any, str | None, str | None]


def _parameter_findings(pack: CompiledPack, source: SourcePack) -> Iterator[Finding]:
    bases = _bases(pack)
    for name, parameter in pack.parameters.items():
        written = source.parameter_values[name]
        dated = tuple(reversed(parameter.values))  # oldest first
        if dated and dated[0][0] > pack.effective_from:
            yield _gap(pack, name, dated[0][0], written[dated[0][0]])
        for i, value in enumerate(dated):
            if value[0] > pack.effective_to:
                yield _after_range(pack, name, value[0], written[value[0]])
            elif _in_force(pack, dated, i):
                yield from _in_force_findings(name, dated[i - 1] if i else None, value, written, bases)


def _in_force(pack: CompiledPack, dated: tuple[Dated, ...], i: int) -> bool:
    """Whether value `i` (oldest first) is in force on some day of the pack: from its date to
    the day before the next one."""
    following = dated[i + 1][0] if i + 1 < len(dated) else None
    return dated[i][0] <= pack.effective_to and (following is None or following > pack.effective_from)


def _in_force_findings(name: str, before: Dated | None, value: Dated, written: Mapping[str, Entry],
                       bases: Mapping[Path, SourcePack]) -> Iterator[Finding]:
    """What a value in force is found wanting in: its confidence, its citation, a value of
    the base it hides, the value before it it repeats."""
    day, _, citation, confidence = value
    entry = written[day]
    if confidence in ("unverified", "low"):
        code = PARAMETER_UNVERIFIED if confidence == "unverified" else PARAMETER_LOW_CONFIDENCE
        yield _warning(code, f"the value of parameter '{name}' from {day} is marked {confidence}",
                       entry.doc.span(f"{entry.pointer}/confidence"), name,
                       "confirm it from the source it cites, and raise its confidence")
    if not str(citation or "").strip():
        yield _warning(PARAMETER_NO_CITATION, f"the value of parameter '{name}' from {day} cites nothing",
                       entry.doc.span(entry.pointer, key=True), name, "add a citation: where the value comes from")
    base = bases.get(_file(entry))
    hidden = base.parameter_values.get(name, {}).get(day) if base is not None else None
    if hidden is not None:
        yield _warning(PARAMETER_OVERLAP, f"the value of parameter '{name}' dated {day} hides the value "
                       f"{_written(hidden)} that {_place(hidden)} gives that day",
                       entry.doc.span(entry.pointer, key=True), name,
                       "date the overlay's value on the day it takes effect, or correct the base")
    if before is not None:
        yield from _unchanged(name, before, value, written)


def _unchanged(name: str, before: Dated, value: Dated, written: Mapping[str, Entry]) -> Iterator[Finding]:
    entry, earlier = written[value[0]], written[before[0]]
    if value[1] == before[1] and value[2] != before[2] and _file(entry) != _file(earlier):
        yield _warning(PARAMETER_UNCHANGED, f"parameter '{name}' from {value[0]} repeats the value {_written(entry)} "
                       f"it has had since {before[0]} ({earlier.doc.source.name}), under a citation of its own: "
                       "carried forward, or not yet updated?", entry.doc.span(f"{entry.pointer}/value"),
                       name, "update it from the source its citation names")


def _gap(pack: CompiledPack, name: str, day: str, first: Entry) -> Finding:
    return _warning(PARAMETER_GAP, f"parameter '{name}' has no value in force {_before(pack, day)}: its first value is "
                    f"dated {day}",
                    first.doc.span(first.pointer, key=True), name,
                    f"date a value on the pack's first day ({pack.effective_from})")


def _after_range(pack: CompiledPack, name: str, day: str, entry: Entry) -> Finding:
    return _warning(PARAMETER_AFTER_RANGE, f"the value of parameter '{name}' dated {day} is after the pack's last day "
                    f"({pack.effective_to}): only a 30-day period ending after it reads it",
                    entry.doc.span(entry.pointer, key=True), name, "put it in the next year's pack")


def _before(pack: CompiledPack, day: str) -> str:
    """The days of the pack before `day`, in words."""
    if day > pack.effective_to:
        return f"on any day of the pack ({pack.effective_from} to {pack.effective_to})"
    return f"from {pack.effective_from} to {(date.fromisoformat(day) - timedelta(days=1)).isoformat()}"


def _bases(pack: CompiledPack) -> dict[Path, SourcePack]:
    """Each pack file of the chain but the first, and the pack it extends, merged."""
    files = pack.pack_files
    return {file: load_source(base.parent) for base, file in zip(files, files[1:])}


def _file(entry: Entry) -> Path:
    return Path(entry.doc.source.name).resolve()


def _place(entry: Entry) -> str:
    """Where an entry is written: file:line:col."""
    span = entry.doc.span(entry.pointer, key=True)
    return span.location if span is not None else entry.doc.source.name


def _written(entry: Entry) -> str:
    """A dated value as its file writes it."""
    span = entry.doc.span(f"{entry.pointer}/value")
    return span.text if span is not None else str(entry.value.get("value"))


def _warning(code: str, message: str, span: Span | None, at: str, hint: str) -> Finding:
    return Finding(Diagnostic(code, message, span, hint=hint, severity="warning"), at)


# --- codes and options ----------------------------------------------------------------------------


def _rate_gaps(pack: CompiledPack) -> Iterator[Finding]:
    """Each code whose rate reads a parameter (an RVU, a conversion factor) with no value on
    the pack's first day: start-dated values leave no other gap."""
    for code in pack.codes.values():
        for name in code.parameters_used:
            parameter = pack.parameters.get(name)
            if parameter is None or not parameter.values or parameter.at(pack.effective_from) is not None:
                continue
            first = parameter.values[-1][0]
            yield _warning(CODE_RATE_GAP, f"code {code.code} has no rate {_before(pack, first)}: parameter '{name}' "
                           f"has no value before {first}", code.rvu.checked.root.span, code.code,
                           f"date a value of '{name}' on the pack's first day ({pack.effective_from})")


def _unread_options(pack: CompiledPack, source: SourcePack) -> Iterator[Finding]:
    read = frozenset().union(*(reads.options for reads in pack.analysis.reads.values()))
    for name in pack.options:
        if name not in read:
            entry = source.options[name]
            yield _warning(OPTION_NEVER_READ, f"option '{name}' is never read: no expression reads options.{name}, so "
                           "setting it changes no decision", entry.doc.span(entry.pointer, key=True), name,
                           "read it where it is meant to apply, or remove it")

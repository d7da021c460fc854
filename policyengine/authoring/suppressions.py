"""lint.yaml: the findings a team accepts, each with its reason, beside pack.yaml (so the
pack's bytes, and the sha256 every decision carries, stay as they are).

A suppression names a finding's code and what it is at. One that matches no finding is
stale (a warning). A reason is taken where its finding is written: the pack's own
lint.yaml for its own lines, a parent pack's for the values the pack carries from it
unrestated (`inherited`).
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from .. import pointers
from ..diagnostics import Diagnostic, DiagnosticError, Span, suggestion_suffix
from ..yamlsource import YamlDocument, load_yaml_file

SUPPRESSION_INVALID = "lint.suppression_invalid"
SUPPRESSION_UNKNOWN_KEY = "lint.suppression_unknown_key"
SUPPRESSION_NO_REASON = "lint.suppression_no_reason"
SUPPRESSION_UNKNOWN_CODE = "lint.suppression_unknown_code"
SUPPRESSION_STALE = "lint.suppression_stale"

#: the file of suppressions, beside pack.yaml
SUPPRESSIONS_FILE = "lint.yaml"
_SUPPRESSION_KEYS = ("code", "at", "reason")


@dataclass(frozen=True)
class Finding:
    """One diagnostic, what a suppression names to accept it (None: a problem of lint.yaml
    itself, which nothing accepts), and the reason given when one does."""

    diagnostic: Diagnostic
    at: str | None
    suppressed: str | None = None


@dataclass(frozen=True)
class Suppression:
    code: str
    at: str
    reason: str
    span: Span | None


def read_suppressions(path: Path, codes: Mapping[str, str]) -> tuple[list[Suppression], list[Diagnostic]]:
    """The suppressions of a lint.yaml (none when there is none), and what is wrong in it;
    `codes` are the findings a suppression may name."""
    if not path.is_file():
        return [], []
    try:
        doc = load_yaml_file(path)
    except DiagnosticError as error:
        return [], list(error.diagnostics)
    data = {} if doc.data is None else doc.data
    if not isinstance(data, dict) or not isinstance(data.get("suppress") or [], list):
        where = "/suppress" if isinstance(data, dict) else ""
        return [], [Diagnostic(SUPPRESSION_INVALID, f"{SUPPRESSIONS_FILE} holds suppress: a list of {{code, at, reason}}",
                               doc.span(where))]
    problems = _unknown_keys(doc, "", data, ("suppress",))
    found = [s for i, item in enumerate(data.get("suppress") or [])
             if (s := _suppression(doc, f"/suppress/{i}", item, problems, codes)) is not None]
    return found, problems


def _suppression(doc: YamlDocument, pointer: str, item: Any, problems: list[Diagnostic],
                 codes: Mapping[str, str]) -> Suppression | None:
    if not isinstance(item, dict):
        problems.append(Diagnostic(SUPPRESSION_INVALID, "a suppression is a mapping: {code: ..., at: ..., reason: ...}",
                                   doc.span(pointer)))
        return None
    problems.extend(_unknown_keys(doc, pointer, item, _SUPPRESSION_KEYS))
    missing = [key for key in _SUPPRESSION_KEYS if not str(item.get(key) or "").strip()]
    if missing:
        problems.append(Diagnostic(
            SUPPRESSION_NO_REASON if "reason" in missing else SUPPRESSION_INVALID,
            f"this suppression gives no {' and no '.join(missing)}", doc.span(pointer),
            hint="a suppression names a finding's code and what it is at, and says why the finding is accepted"))
        return None
    code = str(item["code"])
    if code not in codes:
        problems.append(Diagnostic(SUPPRESSION_UNKNOWN_CODE, f"unknown lint code '{code}'{suggestion_suffix(code, codes)}",
                                   doc.span(f"{pointer}/code"), hint="codes: " + ", ".join(sorted(codes))))
        return None
    return Suppression(code, str(item["at"]), str(item["reason"]).strip(), doc.span(pointer))


def _unknown_keys(doc: YamlDocument, pointer: str, data: dict, known: Iterable[str]) -> list[Diagnostic]:
    known = tuple(known)
    return [Diagnostic(SUPPRESSION_UNKNOWN_KEY, f"unknown key '{key}'{suggestion_suffix(key, known)}",
                       doc.span(pointers.join(pointer, key), key=True), hint="keys: " + ", ".join(known))
            for key in data if key not in known]


def inherited(findings: list[Finding], parent_files: list[Path], codes: Mapping[str, str]) -> list[Finding]:
    """The findings the pack's own lint.yaml left, accepted where they are written in a parent
    pack's file and that pack's lint.yaml names them (its problems and stale entries are
    that pack's to report)."""
    by_file = {str(path): read_suppressions(path.parent / SUPPRESSIONS_FILE, codes)[0] for path in parent_files}
    out = []
    for finding in findings:
        span = finding.diagnostic.span
        file = span.source.name if span is not None and finding.suppressed is None else None
        match = next((s for s in by_file.get(file or "", []) if (s.code, s.at) == (finding.diagnostic.code, finding.at)),
                     None)
        out.append(replace(finding, suppressed=f"{match.reason} ({Path(file or '').parent / SUPPRESSIONS_FILE})")
                   if match else finding)
    return out


def accepted(findings: list[Finding], suppressions: list[Suppression]) -> list[Finding]:
    """The findings, each a suppression names marked with its reason, and a warning for each
    suppression that names none."""
    used: set[int] = set()
    out = []
    for finding in findings:
        match = next((i for i, s in enumerate(suppressions) if (s.code, s.at) == (finding.diagnostic.code, finding.at)), None)
        if match is not None:
            used.add(match)
            finding = replace(finding, suppressed=suppressions[match].reason)
        out.append(finding)
    out.extend(Finding(Diagnostic(SUPPRESSION_STALE, f"this suppression of {s.code} at '{s.at}' matches no finding", s.span,
                                  hint="remove it: what it accepted is no longer there", severity="warning"), None)
               for i, s in enumerate(suppressions) if i not in used)
    return out

"""One line of a batch, and one chunk of lines: each input line decided into one output
line, a decision or an error record, whatever the line holds; a chunk's output, CSV rows
and its share of the summary."""
from __future__ import annotations

import csv
import io
import json
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from ..api import evaluate
from ..diagnostics import Diagnostic, DiagnosticError
from ..engine.decide import TRACE_FORMS
from ..engine.values import compact_json
from ..facts import parse_facts_line
from ..facts.jsondata import is_text
from ..packs import CompiledPack, bundled_ids, load_pack

CSV_COLUMNS = ("line", "patient_id", "month", "code", "units", "amount", "rule", "pack_id", "pack_version")

_ZERO = Decimal("0")


class Evaluator:
    """Decides input lines with one pack (or the bundled pack for each month), options and
    trace form. Building one loads the pack(s), so do it once per process."""

    def __init__(self, pack: CompiledPack | str | Path | None = None, options: dict[str, Any] | None = None,
                 trace: str = "compact") -> None:
        if trace not in TRACE_FORMS:
            raise ValueError(f"trace must be one of {', '.join(TRACE_FORMS)}, not {trace!r}")
        if pack is not None and not isinstance(pack, CompiledPack):
            pack = load_pack(pack)
        elif pack is None:
            for pack_id in bundled_ids():  # compiled now, once, rather than on the first record
                load_pack(pack_id)
        self.pack: CompiledPack | None = pack
        self.options = dict(options or {})
        self.trace = trace

    def decide(self, number: int, raw: bytes | str) -> tuple[str, dict | None, str | None]:
        """For input line `number`: the output line (without newline), the decision (None
        for an error record) and the error code (None for a decision). Whatever the line
        holds, this returns: a fault is an error record, never a lost line or a stopped batch."""
        try:
            data = parse_facts_line(raw)
        except DiagnosticError as error:
            return self._error(number, error.diagnostics)
        return self.decide_read(number, data)

    def decide_read(self, number: int, data: Any) -> tuple[str, dict | None, str | None]:
        """`decide` for the facts of line `number` already read from it."""
        decision, problems = self.decision_of(data)
        if decision is None:
            return self._error(number, problems, data)
        return compact_json(decision), decision, None

    def decision_of(self, data: Any) -> tuple[dict | None, list[Diagnostic]]:
        """The decision for facts already read, or the diagnostics that kept it from being
        made: an engine fault too, which must not lose the line or stop the run."""
        try:
            return evaluate(data, self.pack, self.options, self.trace), []
        except DiagnosticError as error:
            return None, error.diagnostics
        except Exception as error:  # noqa: BLE001 - reported as the record's error
            return None, [Diagnostic("engine.internal_error", f"{type(error).__name__}: {error}")]

    @staticmethod
    def _error(number: int, diagnostics: list[Diagnostic], data: Any = None) -> tuple[str, None, str]:
        return error_line(number, diagnostics, data), None, errors_of(diagnostics)[0].code


def errors_of(diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    """What an error record reports: the errors among the diagnostics (all of them when none is)."""
    return [d for d in diagnostics if d.severity == "error"] or list(diagnostics)


def error_line(number: int, diagnostics: list[Diagnostic], data: Any = None) -> str:
    """The error record for input line `number`, as one JSON line."""
    errors = errors_of(diagnostics)
    record: dict[str, Any] = {"line": number}
    if isinstance(data, dict):
        for key in ("patient_id", "month"):
            if isinstance(data.get(key), str) and is_text(data[key]):  # UTF-8 can write it
                record[key] = data[key]
    record["error"] = errors[0].as_json()
    if len(errors) > 1:
        record["errors"] = [d.as_json() for d in errors]
    return json.dumps(record, ensure_ascii=False, separators=(",", ":"))



@dataclass
class ChunkResult:
    """What a chunk of lines produced: output text, CSV text and its share of the summary."""

    output: str
    csv: str
    records: int
    errors: int
    error_codes: Counter
    units: Counter
    dollars: dict[str, Decimal]
    first_errors: list[tuple[int, str]]


def decide_chunk(evaluator: Evaluator, first: int, lines: list[bytes], with_csv: bool) -> ChunkResult:
    """Decide `lines`, the first of which is input line `first` (1-based)."""
    out: list[str] = []
    rows = io.StringIO()
    writer = csv.writer(rows, lineterminator="\n") if with_csv else None
    errors = 0
    error_codes: Counter = Counter()
    units: Counter = Counter()
    dollars: dict[str, Decimal] = {}
    first_errors: list[tuple[int, str]] = []
    for number, raw in enumerate(lines, first):
        line, decision, error_code = evaluator.decide(number, raw)
        out.append(line)
        if decision is None or error_code is not None:
            errors += 1
            error_codes[error_code] += 1
            if len(first_errors) < 5:
                first_errors.append((number, str(error_code)))
            continue
        for item in decision["billable"]:
            code = item["code"]
            units[code] += item["units"]
            dollars[code] = dollars.get(code, _ZERO) + Decimal(item["amount"])
            if writer is not None:
                pack = decision["pack"]
                writer.writerow((number, decision["patient_id"], decision["month"], code, item["units"],
                                 item["amount"], item["rule"], pack["id"], pack["version"]))
    out.append("")
    return ChunkResult("\n".join(out), rows.getvalue(), len(lines), errors, error_codes, units, dollars, first_errors)

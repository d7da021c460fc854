"""A worklist from facts JSON Lines: every line decided as of one date, by the batch's pool
of workers (`batch.run.decide_chunks`), each line's work or its errors added to the sheet
in input order.

The worklist's date is each record's `as_of`, and what is dated after it is not yet known
(`facts.dates.known_on`): the work still possible is what the facts as they stood that day
leave. A record of another month than the date's is not work and not an error: it is
counted. A record that cannot be decided is reported with its errors, never dropped.
"""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from ..batch.reading import read_chunks
from ..batch.records import Evaluator
from ..batch.run import check_arguments, decide_chunks
from ..diagnostics import Diagnostic, DiagnosticError
from ..facts import parse_facts_line
from ..facts.dates import known_on
from ..lang import EvaluationError
from ..lang.runtime import last_day
from ..packs import CompiledPack, pack_for_month
from .sheet import PatientRow, Sheet, patient_row
from .work import patient_work

#: what a line gives the sheet: its work, its errors (line, facts read, diagnostics), or
#: None for a record of another month
LineWork = PatientRow | tuple[int, Any, list[Diagnostic]] | None


def worklist_of_lines(source: IO[bytes], as_of: str, *, pack: CompiledPack | str | Path | None = None,
                      options: dict[str, Any] | None = None, workers: int = 1,
                      progress: Callable[[int], None] | None = None) -> Sheet:
    """The worklist of the patient-months in `source` (binary facts JSON Lines) as of
    `as_of` (YYYY-MM-DD), decided with `pack` (a compiled pack, a directory or a bundled
    id; by default the bundled pack of each month). Raises DiagnosticError (or ValueError)
    for a pack or options that cannot work, before reading any input."""
    compiled = check_arguments(pack, options, "none")
    sheet = Sheet(as_of)

    def emit(chunk: list[LineWork], size: int) -> None:
        for work in chunk:
            if isinstance(work, PatientRow):
                sheet.add(work)
            elif work is None:
                sheet.other_month()
            else:
                sheet.problem(*work)
        if progress is not None:
            progress(size)

    # one process decides with the pack given; a pool's workers load it again from its folder
    named = compiled if workers <= 1 or compiled is None else str(compiled.directory)
    setup_args = (named, dict(options or {}), as_of)
    decide_chunks(read_chunks(source), emit, _worklist_decider, setup_args, workers=workers)
    return sheet


def _worklist_decider(pack: CompiledPack | str | None, options: dict[str, Any], as_of: str
                      ) -> Callable[[int, list[bytes]], list[LineWork]]:
    """A chunk's lines into their work, in one process: the pack loaded once."""
    evaluator = Evaluator(pack, options, trace="none")
    return lambda first, lines: [line_work(evaluator, number, raw, as_of) for number, raw in enumerate(lines, first)]


def _another_month(month: Any, as_of: str) -> bool:
    """Whether `month` is a month (YYYY-MM), and not the one `as_of` is in."""
    if not isinstance(month, str) or month == as_of[:7]:
        return False
    try:
        last_day(month)
    except EvaluationError:
        return False
    return True


def line_work(evaluator: Evaluator, number: int, raw: bytes | str, as_of: str) -> LineWork:
    """One input line's work as of `as_of`, its errors, or None for another month."""
    try:
        data = parse_facts_line(raw)
    except DiagnosticError as error:
        return number, None, error.diagnostics
    if not isinstance(data, dict):  # the decision's check says what is wrong with it
        return number, data, evaluator.decision_of(data)[1]
    if _another_month(data.get("month"), as_of):
        return None
    facts = known_on(data, as_of)  # a month in error is the decision's to report
    decision, problems = evaluator.decision_of(facts)
    if decision is None:
        return number, data, problems
    return patient_row(patient_work(facts, decision, evaluator.pack or pack_for_month(decision["month"])))

"""A worklist from a FHIR export: every patient's documents of the date's month as the
timeline writes and decides them (`timeline.decide.decide_timeline`), as of the date.

The timeline replays the earlier months of an episode in progress, so a set-up billed in
one of them is known this month, and it reads the record as it stood at the date's end:
events dated after the date are left out (`timeline.months.record_as_of`), so a worklist
run on an export taken later shows the work as it stood on the date. Every patient of the
export has a line, one with nothing to do this month too, as `timeline decide --from M
--to M` writes every patient's month M. Problems reading the export (refused resources)
go to the caller's `report`, as the timeline's commands take them; a month that cannot be
decided is on the sheet's problems (no input line: its patient and month say which).
"""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..batch.run import check_arguments
from ..fhir import Problem, patients
from ..fhir.read import no_progress
from ..packs import CompiledPack, pack_for_month
from ..timeline.decide import decide_timeline
from ..timeline.files import Reading
from .sheet import Sheet
from .work import patient_work


def worklist_of_fhir(reading: Reading, as_of: str, report: Callable[[Problem], None], *,
                     pack: CompiledPack | str | Path | None = None, options: dict[str, Any] | None = None,
                     progress: Callable[[int], None] = no_progress) -> Sheet:
    """The worklist of every patient in the FHIR input `reading` names (its files, time zone
    and validation: the month is `as_of`'s, whatever its first and last say) as of `as_of`
    (YYYY-MM-DD). Every problem with the input goes to `report`; `progress` is told as
    `fhir.patients` tells it. Raises DiagnosticError for a pack or options that cannot
    work, before reading any input."""
    fixed = check_arguments(pack, options, "none")
    sheet = Sheet(as_of)
    month = as_of[:7]
    for record in patients(reading.paths, report, reading.zone, reading.validate, progress):
        for decided in decide_timeline(record, [month], report, fixed, options, "none", as_of):
            if decided.decision is None:
                sheet.problem(None, decided.facts, list(decided.errors))
            else:
                sheet.add(patient_work(decided.facts, decided.decision, fixed or pack_for_month(month)))
    return sheet

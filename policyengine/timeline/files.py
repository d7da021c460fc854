"""The timeline's commands on files: FHIR input -> facts JSON Lines (`ingest fhir`), and
FHIR input -> decisions JSON Lines and a summary per patient (`timeline decide`).

An output file is written beside its final name and renamed into place when complete, so
a run that stops leaves no half-written file under that name (and one that fails, none). Problems with the input
stream to an optional JSON Lines report; the first few and a count by code go to the caller.
How far a run is goes to an optional `progress` callback, as `fhir.patients` tells it.
"""
from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import tzinfo
from typing import IO, Any

import orjson

from ..api import to_json
from ..fhir import PatientRecord, Problem, patients
from ..fhir.grouping import Validator
from ..fhir.read import no_progress
from ..outputs import partial_path
from ..packs import CompiledPack
from .decide import Decided, PatientSummary, decide_timeline
from .months import event_months, month_facts, months_between

#: problems kept in memory to show; the report file has every one
SHOWN_PROBLEMS = 20


@dataclass
class Reporter:
    """Where the input's problems go: counted by severity and code, the first few kept, each
    written to the report file when there is one."""

    out: IO[bytes] | None = None
    counts: Counter = field(default_factory=Counter)
    first: list[Problem] = field(default_factory=list)

    def __call__(self, problem: Problem) -> None:
        self.counts[(problem.severity, problem.code)] += 1
        if len(self.first) < SHOWN_PROBLEMS and problem.severity != "info":
            self.first.append(problem)
        if self.out is not None:
            self.out.write(orjson.dumps(problem.as_json()) + b"\n")

    @property
    def errors(self) -> int:
        return sum(n for (severity, _), n in self.counts.items() if severity == "error")


@dataclass
class Run:
    """What a run read and wrote."""

    reporter: Reporter
    patients: int = 0
    documents: int = 0
    undecided: int = 0


@dataclass(frozen=True)
class Reading:
    """How to read the input: the files, the months, the practice's time zone, validation."""

    paths: tuple[str, ...]
    first: str | None = None
    last: str | None = None
    zone: tzinfo | None = None
    validate: Validator | None = None

    def months(self, record: PatientRecord) -> list[str]:
        """`first` to `last`, or the patient's months with events from the first to the last."""
        if self.first is not None and self.last is not None:
            return months_between(self.first, self.last)
        found = event_months(record)
        return months_between(self.first or found[0], self.last or found[-1]) if found else []


@contextmanager
def written(path: str | None) -> Iterator[IO[bytes] | None]:
    """A file to write at `path` (None: no file), renamed into place only when complete."""
    if path is None:
        yield None
        return
    partial = partial_path(path)
    try:
        with open(partial, "wb") as out:
            yield out
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    os.replace(partial, path)


def ingest(reading: Reading, out_path: str, report_path: str | None = None,
           progress: Callable[[int], None] = no_progress) -> Run:
    """Every patient-month of the input as facts, one JSON document a line, in order."""
    with written(report_path) as report_out, written(out_path) as out:
        assert out is not None
        run = Run(Reporter(report_out))
        for record in patients(reading.paths, run.reporter, reading.zone, reading.validate, progress):
            run.patients += 1
            for document in month_facts(record, reading.months(record), run.reporter):
                out.write(orjson.dumps(document.facts) + b"\n")
                run.documents += 1
    return run


def decide(reading: Reading, out_path: str, on_summary: Callable[[PatientSummary], None], report_path: str | None = None,
           pack: CompiledPack | None = None, options: dict[str, Any] | None = None, trace: str = "compact",
           facts_path: str | None = None, progress: Callable[[int], None] = no_progress) -> Run:
    """Every patient's months decided in order: a decision (or an error record) a line, and
    the facts decided when `facts_path` is given; each patient's summary goes to
    `on_summary` as soon as the patient is decided."""
    with written(report_path) as report_out, written(out_path) as out, written(facts_path) as facts_out:
        assert out is not None
        run = Run(Reporter(report_out))
        for record in patients(reading.paths, run.reporter, reading.zone, reading.validate, progress):
            run.patients += 1
            summary = PatientSummary(record.patient_id)
            for decided in decide_timeline(record, reading.months(record), run.reporter, pack, options, trace):
                out.write(_decision_line(decided))
                if facts_out is not None:
                    facts_out.write(orjson.dumps(decided.facts) + b"\n")
                summary.add(decided)
                run.documents += 1
                run.undecided += decided.decision is None
            on_summary(summary)
    return run


def _decision_line(decided: Decided) -> bytes:
    if decided.decision is not None:
        return to_json(decided.decision, pretty=False).encode()
    errors = [d for d in decided.errors if d.severity == "error"] or list(decided.errors)
    record: dict[str, Any] = {"patient_id": decided.facts["patient_id"], "month": decided.facts["month"],
                              "error": errors[0].as_json()}
    if len(errors) > 1:
        record["errors"] = [d.as_json() for d in errors]
    return orjson.dumps(record) + b"\n"

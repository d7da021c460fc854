"""`policyengine worklist`: the money still to earn this month across a practice."""
from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import IO, TYPE_CHECKING

import click

from ..diagnostics import DiagnosticError
from ..facts.dates import iso_day
from ..outputs import output_problems, partial_path
from .common import EXIT_BAD_INPUT, EXIT_FAILURES, exit_with, option_option, pack_option, pack_options, progress, standard_input
from .fhirinput import fhir_reading, problems_summary, reading_options, writable

if TYPE_CHECKING:
    from ..worklist import Sheet

FORMATS = ("text", "markdown", "csv", "json", "html")
INPUT_KINDS = ("auto", "facts", "fhir")


def _as_of(context: click.Context, parameter: click.Parameter, value: str) -> str:
    """--as-of: a real day, written YYYY-MM-DD."""
    day = iso_day(value)
    if day is None:
        raise click.BadParameter(f"{value!r} is not a real day (YYYY-MM-DD)")
    return day


@click.command("worklist")
@click.argument("inputs", metavar="INPUT...", nargs=-1, required=True)
@click.option("--as-of", "as_of", required=True, callback=_as_of, metavar="DATE",
              help="The day the facts are complete through (YYYY-MM-DD): the worklist is of its month.")
@click.option("--input", "input_kind", type=click.Choice(INPUT_KINDS), default="auto", show_default=True,
              help="What INPUT is: facts JSON Lines (one file, or - for stdin) or a FHIR export; auto: one *.jsonl "
                   "file or - is facts, anything else FHIR.")
@click.option("--format", "output_format", type=click.Choice(FORMATS), default="text", show_default=True)
@click.option("--out", "out_path", metavar="FILE", help="Write the worklist here (default: stdout).")
@click.option("--workers", type=click.IntRange(min=1), default=1, show_default=True,
              help="Worker processes for facts JSON Lines; each loads the pack once (FHIR is read in one).")
@pack_option("effective in each record's month")
@option_option
@reading_options
def worklist(inputs: tuple[str, ...], as_of: str, input_kind: str, output_format: str, out_path: str | None, workers: int,
             pack_ref: str | None, option_pairs: tuple[str, ...], timezone: str | None, validate: bool,
             report_path: str | None) -> None:
    """Money still to earn this month, patient by patient, as of DATE. INPUT is facts JSON
    Lines (one facts document a line; - for stdin) or a FHIR export (Bundles and NDJSON
    files, or folders of them), of which the timeline writes and decides each patient's
    month of DATE.

    For each patient-month of DATE's month: what is earned so far; each task that can
    still add to it (more readings or interactive time in the days left, records to
    complete) with the dollars the decision says it adds; and what is out of reach. Most
    money first, with totals per practitioner and for the practice. Facts of other months
    are counted and left out. From FHIR, every patient of the export is listed, each month
    decided after the earlier months of its episode (set-up billed once) and from what is
    dated up to DATE: later events are left out, so an export taken later gives the work
    as it stood on DATE; problems reading it go to stderr (and every one to --report). A
    record or month that cannot be decided is listed with its error. Exit status 1 when
    any could not be decided or resources were refused, 2 for bad arguments or unreadable
    input.
    """
    from ..worklist.views import VIEWS

    options = pack_options(option_pairs)
    if _input_kind(inputs, input_kind) == "facts":
        given = [name for name, value in (("--timezone", timezone), ("--validate", validate), ("--report", report_path))
                 if value]
        if given:
            raise click.UsageError(f"{given[0]} is for a FHIR export, and the input is facts JSON Lines")
        sheet, refused = _of_facts(inputs[0], as_of, out_path, workers, pack_ref, options), 0
    else:
        if workers != 1:
            raise click.UsageError("--workers is for facts JSON Lines: a FHIR export is read in one process")
        sheet, refused = _of_fhir(inputs, as_of, out_path, pack_ref, options, timezone, validate, report_path)
    _write(lambda out: VIEWS[output_format](sheet, out), out_path)
    sys.exit(EXIT_FAILURES if sheet.problems or refused else 0)


def _input_kind(inputs: tuple[str, ...], asked: str) -> str:
    """'facts' or 'fhir': what --input says, or for auto, facts for one *.jsonl file or -."""
    kind = asked if asked != "auto" else "facts" if len(inputs) == 1 and (
        inputs[0] == "-" or inputs[0].endswith(".jsonl")) else "fhir"
    if kind == "facts" and len(inputs) > 1:
        raise click.UsageError("facts JSON Lines are one file (or -): give a FHIR export as --input fhir")
    if kind == "fhir" and "-" in inputs:
        raise click.UsageError("a FHIR export is read from files and folders, not from standard input (-)")
    return kind


def _of_facts(in_path: str, as_of: str, out_path: str | None, workers: int, pack_ref: str | None,
              options: dict[str, str]) -> Sheet:
    """The worklist of facts JSON Lines."""
    from ..batch import input_size
    from ..worklist import worklist_of_lines

    problems = output_problems("worklist", [] if in_path == "-" else [in_path], [("--out", out_path)])
    if problems:
        exit_with(DiagnosticError(problems), EXIT_BAD_INPUT)
    try:
        source = standard_input() if in_path == "-" else open(in_path, "rb")  # noqa: SIM115 - closed below
    except OSError as error:
        raise click.UsageError(f"cannot read {in_path}: {error.strerror or error}") from None
    try:
        with progress(input_size(in_path), "worklist") as advance:
            return worklist_of_lines(source, as_of, pack=pack_ref, options=options, workers=workers, progress=advance)
    except DiagnosticError as error:
        exit_with(error, EXIT_BAD_INPUT)
    finally:
        if in_path != "-":
            source.close()


def _of_fhir(inputs: tuple[str, ...], as_of: str, out_path: str | None, pack_ref: str | None, options: dict[str, str],
             timezone: str | None, validate: bool, report_path: str | None) -> tuple[Sheet, int]:
    """The worklist of a FHIR export, and how many resources it refused; its problems on
    stderr (the first few and a count by code) and in the report file when there is one."""
    from ..fhir.grouping import progress_length
    from ..timeline.files import Reporter, written
    from ..worklist.fhir import worklist_of_fhir

    reading = fhir_reading(inputs, None, None, timezone, validate)
    writable(inputs, out=out_path, report=report_path)
    try:
        with written(report_path) as report_out:
            reporter = Reporter(report_out)
            with progress(progress_length(inputs), "worklist") as advance:
                sheet = worklist_of_fhir(reading, as_of, reporter, pack=pack_ref, options=options, progress=advance)
    except OSError as error:
        raise click.UsageError(f"cannot read or write {error.filename}: {error.strerror or error}") from None
    except DiagnosticError as error:
        exit_with(error, EXIT_BAD_INPUT)
    problems_summary(reporter)
    return sheet, reporter.errors


def _write(view: Callable[[IO[str]], None], out_path: str | None) -> None:
    """The view written to stdout, or to the file (whole: its partial file renamed into place)."""
    if out_path is None or out_path == "-":
        view(sys.stdout)
        return
    partial = partial_path(out_path)
    try:
        with partial.open("w", encoding="utf-8", newline="") as out:
            view(out)
        partial.replace(Path(out_path))
    except OSError as error:
        raise click.UsageError(f"cannot write {out_path}: {error.strerror or error}") from None

"""The commands that read FHIR: `ingest fhir` (records into patient-month facts) and
`timeline decide` (every month of every patient, in order); how they read FHIR is `fhirinput.py`'s."""
from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import Any

import click

from ..diagnostics import DiagnosticError
from ..wording import counted
from .common import (EXIT_BAD_INPUT, EXIT_FAILURES, exit_with, load_pack_or_exit, option_option, pack_option,
                     pack_options, progress)
from .fhirinput import fhir_reading, problems_summary, reading_options, writable


def _fhir_options(command: Callable) -> Callable:
    for decorate in reversed((
            click.argument("inputs", metavar="INPUT...", nargs=-1, required=True),
            click.option("--from", "first", metavar="YYYY-MM",
                         help="First month (default: each patient's first month with data)."),
            click.option("--to", "last", metavar="YYYY-MM", help="Last month (default: each patient's last month with data)."),
            reading_options)):
        command = decorate(command)
    return command


@click.group()
def ingest() -> None:
    """Read source records into patient-month facts."""


@ingest.command("fhir")
@_fhir_options
@click.option("--out", "out_path", required=True, metavar="FACTS.jsonl", help="Where to write the facts, one month a line.")
def ingest_fhir(inputs: tuple[str, ...], first: str | None, last: str | None, timezone: str | None, validate: bool,
                report_path: str | None, out_path: str) -> None:
    """FHIR R4 Bundles or NDJSON files (bulk data export) -> patient-month facts, each fact with
    the FHIR resources it came from under `provenance` (docs/fhir-mapping.md).

    INPUT is a file or a directory of *.json and *.ndjson files. Whatever the mapping cannot
    place is reported per resource with its location in the input. Whether an episode's
    set-up was billed depends on the pack and on earlier months, so `episode.setup_billed`
    is left out (a decision then treats set-up as billed, and says so): `timeline decide`
    fills it in. Exit
    status 0 when every resource was placed, 1 when some were refused (the facts are still
    written), 2 for bad arguments or unreadable input.
    """
    from ..fhir.grouping import progress_length
    from ..timeline.files import ingest as ingest_files
    reading = fhir_reading(inputs, first, last, timezone, validate)
    writable(inputs, out=out_path, report=report_path)
    try:
        with progress(progress_length(inputs), "ingesting FHIR") as advance:
            run = ingest_files(reading, out_path, report_path, advance)
    except OSError as error:
        raise click.UsageError(f"cannot read or write {error.filename}: {error.strerror or error}") from None
    problems_summary(run.reporter)
    click.echo(f"{counted(run.documents, 'patient-month')} of {counted(run.patients, 'patient')} written to {out_path}",
               err=True)
    sys.exit(EXIT_FAILURES if run.reporter.errors else 0)


@click.group()
def timeline() -> None:
    """Decide patients across months."""


@timeline.command("decide")
@_fhir_options
@click.option("--out", "out_path", required=True, metavar="DECISIONS.jsonl",
              help="Where to write the decisions, one a line, each patient's months in order.")
@click.option("--facts", "facts_path", metavar="FACTS.jsonl", help="Also write the facts each decision was made from.")
@pack_option("effective in each month")
@option_option
@click.option("--trace", type=click.Choice(["none", "compact", "full"]), default="compact", show_default=True)
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="The per-patient summary on stdout: a table, or one JSON object per patient.")
def timeline_decide(inputs: tuple[str, ...], first: str | None, last: str | None, timezone: str | None, validate: bool,
                    report_path: str | None, out_path: str, facts_path: str | None, pack_ref: str | None,
                    option_pairs: tuple[str, ...], trace: str, output_format: str) -> None:
    """Decide every month of every patient in FHIR input, in order: set-up once per episode
    (a month's decision or a claim that bills it makes the episode's later months say so), each device
    period in the month it ends. Writes the decisions and prints codes and money by month
    for each patient. Exit status 0 when all was read and decided, 1 when some resources
    were refused or some months could not be decided, 2 for bad arguments or input.
    """
    from ..fhir.grouping import progress_length
    from ..timeline.decide import summary_text
    from ..timeline.files import decide as decide_files
    from ..batch.run import check_arguments
    reading = fhir_reading(inputs, first, last, timezone, validate)
    writable(inputs, out=out_path, report=report_path, facts=facts_path)
    pack = load_pack_or_exit(pack_ref) if pack_ref else None
    options = pack_options(option_pairs)
    try:
        check_arguments(pack, options, trace)
    except DiagnosticError as error:
        exit_with(error, EXIT_BAD_INPUT)

    def show(summary: Any) -> None:
        if output_format == "text":
            click.echo(summary_text(summary), nl=False)
        else:
            click.echo(json.dumps(summary.as_json(), ensure_ascii=False))

    try:
        with progress(progress_length(inputs), "deciding the timeline") as advance:
            run = decide_files(reading, out_path, show, report_path, pack, options, trace, facts_path, advance)
    except OSError as error:
        raise click.UsageError(f"cannot read or write {error.filename}: {error.strerror or error}") from None
    except DiagnosticError as error:
        exit_with(error, EXIT_BAD_INPUT)
    problems_summary(run.reporter)
    click.echo(f"{counted(run.documents, 'patient-month')} of {counted(run.patients, 'patient')} decided into {out_path}"
               + (f"; {run.undecided:,} could not be decided" if run.undecided else ""), err=True)
    sys.exit(EXIT_FAILURES if run.reporter.errors or run.undecided else 0)

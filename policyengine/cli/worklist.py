"""`policyengine worklist`: the money still to earn this month across a practice."""
from __future__ import annotations

import re
import sys
from datetime import date
from pathlib import Path

import click

from ..diagnostics import DiagnosticError
from ..outputs import output_problems, partial_path
from .common import EXIT_BAD_INPUT, EXIT_FAILURES, exit_with, option_option, pack_option, pack_options, progress, standard_input

FORMATS = ("text", "markdown", "csv", "json", "html")


def _as_of(context: click.Context, parameter: click.Parameter, value: str) -> str:
    """--as-of: a real day, written YYYY-MM-DD."""
    if re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
        try:
            return date.fromisoformat(value).isoformat()
        except ValueError:
            pass
    raise click.BadParameter(f"{value!r} is not a real day (YYYY-MM-DD)")


@click.command("worklist")
@click.argument("in_path", metavar="IN.jsonl")
@click.option("--as-of", "as_of", required=True, callback=_as_of, metavar="DATE",
              help="The day the facts are complete through (YYYY-MM-DD): the worklist is of its month.")
@click.option("--format", "output_format", type=click.Choice(FORMATS), default="text", show_default=True)
@click.option("--out", "out_path", metavar="FILE", help="Write the worklist here (default: stdout).")
@click.option("--workers", type=click.IntRange(min=1), default=1, show_default=True,
              help="Worker processes; each loads the pack once.")
@pack_option("effective in each record's month")
@option_option
def worklist(in_path: str, as_of: str, output_format: str, out_path: str | None, workers: int, pack_ref: str | None,
             option_pairs: tuple[str, ...]) -> None:
    """Money still to earn this month, patient by patient: IN.jsonl holds one facts
    document per line (- for stdin), each decided as of DATE.

    For each patient-month of DATE's month: what is earned so far; each task that can
    still add to it (more readings or interactive time in the days left, records to
    complete) with the dollars the decision says it adds; and what is out of reach. Most
    money first, with totals per practitioner and for the practice. Records of other months
    are counted and left out; a record that cannot be decided is listed with its error.
    Exit status 1 when any record could not be decided, 2 for bad arguments or unreadable
    input.
    """
    from ..batch import input_size
    from ..worklist import worklist_of_lines
    from ..worklist.views import VIEWS

    options = pack_options(option_pairs)
    problems = output_problems("worklist", [] if in_path == "-" else [in_path], [("--out", out_path)])
    if problems:
        exit_with(DiagnosticError(problems), EXIT_BAD_INPUT)
    try:
        source = standard_input() if in_path == "-" else open(in_path, "rb")  # noqa: SIM115 - closed below
    except OSError as error:
        raise click.UsageError(f"cannot read {in_path}: {error.strerror or error}") from None
    try:
        with progress(input_size(in_path), "worklist") as advance:
            sheet = worklist_of_lines(source, as_of, pack=pack_ref, options=options, workers=workers, progress=advance)
    except DiagnosticError as error:
        exit_with(error, EXIT_BAD_INPUT)
    finally:
        if in_path != "-":
            source.close()
    data = sheet.as_json()
    _write(VIEWS[output_format](data), out_path)
    sys.exit(EXIT_FAILURES if data["problems"] else 0)


def _write(text: str, out_path: str | None) -> None:
    """To stdout, or to the file (written whole: its partial file renamed into place)."""
    if out_path is None or out_path == "-":
        click.echo(text, nl=False)
        return
    partial = partial_path(out_path)
    try:
        partial.write_text(text, encoding="utf-8")
        partial.replace(Path(out_path))
    except OSError as error:
        raise click.UsageError(f"cannot write {out_path}: {error.strerror or error}") from None

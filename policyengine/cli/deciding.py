"""The commands that decide: `evaluate` (one patient-month), `batch` (many, from JSON Lines)
and `impact` (what a new pack does to the decisions an old one makes)."""
from __future__ import annotations

import sys

import click

from ..api import evaluate as evaluate_facts
from ..api import to_json
from ..diagnostics import DiagnosticError
from ..engine import EvaluationFailed
from ..facts import parse_facts_text
from ..packs import load_pack
from ..render import render_text
from ..wording import counted
from .common import (EXIT_BAD_INPUT, EXIT_FAILURES, exit_with, option_option, pack_option, pack_options, progress,
                     read_text_input, standard_input)


@click.command()
@click.argument("facts", metavar="FACTS")
@pack_option("effective in the facts' month")
@option_option
@click.option("--format", "output_format", type=click.Choice(["json", "text", "markdown", "html"]), default="json",
              show_default=True)
@click.option("--trace", type=click.Choice(["none", "compact", "full"]), default="full", show_default=True,
              help="How much of the rule trace the decision carries.")
def evaluate(facts: str, pack_ref: str | None, option_pairs: tuple[str, ...], output_format: str, trace: str) -> None:
    """Decide one patient-month. FACTS is a JSON or YAML file, or - for stdin."""
    text, name = read_text_input(facts)
    try:
        data = parse_facts_text(text, name)
        pack = load_pack(pack_ref) if pack_ref else None
        decision = evaluate_facts(data, pack, pack_options(option_pairs), trace)
    except EvaluationFailed as error:  # the pack fails on these facts: a failure found, not bad input
        exit_with(error, EXIT_FAILURES)
    except DiagnosticError as error:
        exit_with(error, EXIT_BAD_INPUT)
    if output_format == "json":
        click.echo(to_json(decision), nl=False)
    elif output_format == "text":
        click.echo(render_text(decision), nl=False)
    else:
        click.echo(_render_explanation(decision, pack, output_format), nl=False)


@click.command()
@click.argument("in_path", metavar="IN.jsonl")
@click.option("--out", "out_path", required=True, metavar="OUT.jsonl",
              help='One line per input line, in order: a decision, or an error record {"line": N, "error": ...}. '
                   "- for stdout.")
@click.option("--csv", "csv_path", metavar="BILLABLE.csv", help="Also write the billable lines as CSV, for billing export.")
@click.option("--workers", type=click.IntRange(min=1), default=1, show_default=True,
              help="Worker processes; each loads the pack once.")
@pack_option("effective in each record's month")
@option_option
@click.option("--trace", type=click.Choice(["none", "compact", "full"]), default="compact", show_default=True,
              help="How much of the rule trace each decision carries.")
@click.option("--resume", is_flag=True,
              help="Go on with a batch that was killed or interrupted, after the last line its OUT.checkpoint "
                   "records (same input, pack, options, trace and CSV); without a checkpoint, start from line 1.")
def batch(in_path: str, out_path: str, csv_path: str | None, workers: int, pack_ref: str | None,
          option_pairs: tuple[str, ...], trace: str, resume: bool) -> None:
    """Decide many patient-months: IN.jsonl holds one facts document per line (- for stdin).

    Streamed: memory stays flat whatever the input size. Every input line gets one output
    line, a decision or an error record, whatever it holds (a line beyond the size limit
    too). OUT and BILLABLE.csv are written as OUT.partial and BILLABLE.csv.partial and
    renamed when complete, so a file named OUT is always whole; an output that is the input
    or the other output is refused. OUT.checkpoint records what is done (at most a second
    behind), so an interrupted batch goes on with --resume and gives the same bytes. A
    summary goes to stderr. Exit status 1 when any record failed, 2 for unreadable input or
    bad arguments.
    """
    from ..batch import WorkerLost, input_size, run_batch_files

    options = pack_options(option_pairs)
    if in_path == "-":
        standard_input()  # closed: a usage error, before any work
    else:
        try:
            open(in_path, "rb").close()  # unreadable input is a usage error, before any work
        except OSError as error:
            raise click.UsageError(f"cannot read {in_path}: {error.strerror or error}") from None
    try:
        with progress(input_size(in_path), "deciding") as advance:
            summary = run_batch_files(in_path, out_path, csv_path, workers=workers, pack=pack_ref,
                                      options=options, trace=trace, resume=resume, progress=advance)
    except DiagnosticError as error:
        exit_with(error, EXIT_BAD_INPUT)
    except OSError as error:
        raise click.UsageError(f"cannot write {error.filename or out_path}: {error.strerror or error}") from None
    except (KeyboardInterrupt, WorkerLost) as error:
        click.echo(f"{error or 'interrupted'}: from a file into a file, the same command with --resume goes on "
                   "after the last checkpoint", err=True)
        if isinstance(error, WorkerLost):
            sys.exit(EXIT_FAILURES)
        raise
    click.echo(summary.render(), err=True)
    sys.exit(summary.exit_status)


def _render_explanation(decision: dict, pack, output_format: str) -> str:
    from ..explain import explain as explain_decision
    from ..explain import render
    return render(explain_decision(decision, pack), output_format)


@click.command()
@click.argument("old_ref", metavar="OLD")
@click.argument("new_ref", metavar="NEW")
@click.argument("facts_path", metavar="FACTS.jsonl")
@click.option("--format", "output_format", type=click.Choice(["text", "markdown", "json"]), default="text",
              show_default=True)
@click.option("--csv", "csv_path", metavar="CHANGES.csv",
              help="Also write one row per code that changed in a record: line, patient, month, code, change, "
                   "units and amounts old and new, difference.")
@click.option("--workers", type=click.IntRange(min=1), default=1, show_default=True,
              help="Worker processes; each loads both packs once.")
def impact(old_ref: str, new_ref: str, facts_path: str, output_format: str, csv_path: str | None, workers: int) -> None:
    """What NEW does to the decisions OLD makes. FACTS.jsonl holds one facts document per line
    (- for stdin); each is decided under both packs, and the report says how many decisions
    changed, each code gained, lost, billed for other units or repriced, the money before and
    after (per code and per billing practitioner), with example months and both reasons.

    Re-dating: when the packs' fee-schedule years differ, each record is decided as it is
    under OLD and, under NEW, with its month and every date moved by the years between them
    (February 29 becomes February 28 in a year without one; the day of the week is not kept,
    so a rule reading weekdays may differ for that alone). A month not in OLD's year is an
    error for its line.

    A line either pack cannot decide is an error counted by code (the first few by line);
    every other line is still decided. Streamed on worker processes: memory stays flat. Exit
    status 0 when done, 2 for a pack that does not load, unreadable input or bad arguments.
    """
    import time

    from ..authoring.impact import impact_of_file
    from ..authoring.impact_render import render as render_impact
    from ..batch import WorkerLost, input_size
    if facts_path == "-":
        standard_input()  # closed: a usage error, before any work
    started = time.perf_counter()
    try:
        with progress(input_size(facts_path), "deciding under both packs") as advance:
            report = impact_of_file(facts_path, old_ref, new_ref, csv_path, workers=workers, progress=advance)
    except DiagnosticError as error:
        exit_with(error, EXIT_BAD_INPUT)
    except OSError as error:
        verb = "read" if error.filename == facts_path else "write"
        raise click.UsageError(f"cannot {verb} {error.filename}: {error.strerror or error}") from None
    except WorkerLost as error:
        click.echo(str(error), err=True)
        sys.exit(EXIT_FAILURES)
    click.echo(render_impact(report, output_format), nl=False)
    click.echo(f"{report.tally.records:,} records read in {time.perf_counter() - started:.1f} s "
               f"({counted(workers, 'worker')})", err=True)

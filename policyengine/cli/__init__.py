"""The `policyengine` command (contract v1, section 3).

Exit status: 0 the command did its job; 1 it ran and found failures (an invalid pack);
2 usage errors and unreadable or invalid input. Errors go to stderr as
`where: message [code]` with a caret under the source line, never a traceback.
"""
from __future__ import annotations

import io
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO, NoReturn

import click

from ..api import evaluate as evaluate_facts
from ..api import to_json
from ..diagnostics import Diagnostic, DiagnosticError, render_all
from ..engine import EvaluationFailed
from ..engine.values import pretty_json
from ..facts import parse_facts_text
from ..optionpairs import parse_option_pairs
from ..outputs import output_problems
from ..packs import CompiledPack, PackNotFound, load_pack
from ..render import render_text
from ..version import __version__
from ..wording import counted

EXIT_FAILURES = 1
EXIT_BAD_INPUT = 2


def _fail(error: DiagnosticError, status: int) -> NoReturn:
    click.echo(render_all(error.diagnostics), err=True)
    sys.exit(status)


def _load(pack_ref: str) -> CompiledPack:
    """A pack for validate and test: exit 2 when there is none at PACK (a usage error),
    1 when it is invalid (the command found failures); its warnings go to stderr."""
    try:
        pack = load_pack(pack_ref)
    except PackNotFound as error:
        _fail(error, EXIT_BAD_INPUT)
    except DiagnosticError as error:
        _fail(error, EXIT_FAILURES)
    for warning in pack.warnings:
        click.echo(warning.render(), err=True)
    return pack


def _stdin() -> BinaryIO:
    """Standard input as bytes; a usage error when it is closed (`0<&-`), not a traceback."""
    if sys.stdin is None:
        raise click.UsageError("standard input is closed: give a file instead of -, or send the input to it")
    return sys.stdin.buffer


def _read_text(path: str) -> tuple[str, str]:
    """The UTF-8 text of a file, or of standard input for `-`, and its name for messages."""
    name = "<stdin>" if path == "-" else path
    try:
        if path == "-":  # read as a file is: strict UTF-8, universal newlines
            text = io.TextIOWrapper(_stdin(), encoding="utf-8")
            try:
                return text.read(), name
            finally:
                text.detach()  # sys.stdin stays open
        return Path(path).read_text(encoding="utf-8"), name
    except (OSError, UnicodeDecodeError) as error:
        reason = getattr(error, "strerror", None) or str(error)
        raise click.UsageError(f"cannot read {name}: {reason}") from None


def _options(pairs: tuple[str, ...]) -> dict[str, str]:
    try:
        return parse_option_pairs(pairs)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--option") from None


def _pack_option(default: str) -> Callable:
    """--pack, as every command takes it; `default` says which pack is used without it."""
    return click.option("--pack", "pack_ref", metavar="PACK",
                        help=f"A pack directory or bundled pack id (default: the bundled pack {default}).")


_option_option = click.option("--option", "option_pairs", multiple=True, metavar="NAME=VALUE",
                              help="Set one of the pack's options (see the pack's options:). Repeatable.")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="policyengine")
def main() -> None:
    """Explainable Medicare RPM billing decisions from versioned YAML rule packs."""


@main.command()
@click.argument("facts", metavar="FACTS")
@_pack_option("effective in the facts' month")
@_option_option
@click.option("--format", "output_format", type=click.Choice(["json", "text", "markdown", "html"]), default="json",
              show_default=True)
@click.option("--trace", type=click.Choice(["none", "compact", "full"]), default="full", show_default=True,
              help="How much of the rule trace the decision carries.")
def evaluate(facts: str, pack_ref: str | None, option_pairs: tuple[str, ...], output_format: str, trace: str) -> None:
    """Decide one patient-month. FACTS is a JSON or YAML file, or - for stdin."""
    text, name = _read_text(facts)
    try:
        data = parse_facts_text(text, name)
        pack = load_pack(pack_ref) if pack_ref else None
        decision = evaluate_facts(data, pack, _options(option_pairs), trace)
    except EvaluationFailed as error:  # the pack fails on these facts: a failure found, not bad input
        _fail(error, EXIT_FAILURES)
    except DiagnosticError as error:
        _fail(error, EXIT_BAD_INPUT)
    if output_format == "json":
        click.echo(to_json(decision), nl=False)
    elif output_format == "text":
        click.echo(render_text(decision), nl=False)
    else:
        click.echo(_render_explanation(decision, pack, output_format), nl=False)


@main.command()
@click.argument("pack_ref", metavar="PACK")
def validate(pack_ref: str) -> None:
    """Check a pack: schema, expressions, types, references and conflicts."""
    pack = _load(pack_ref)
    warned = f", {len(pack.warnings)} warning{'s' if len(pack.warnings) != 1 else ''}" if pack.warnings else ""
    click.echo(f"{pack.id} {pack.version} is valid: {len(pack.rules)} rules, {len(pack.conflicts.entries)} conflicts, "
               f"{len(pack.findings)} findings, {len(pack.parameters)} parameters, {len(pack.options)} options "
               f"(sha256 {pack.sha256[:12]}){warned}")


@main.command()
@click.argument("in_path", metavar="IN.jsonl")
@click.option("--out", "out_path", required=True, metavar="OUT.jsonl",
              help='One line per input line, in order: a decision, or an error record {"line": N, "error": ...}. '
                   "- for stdout.")
@click.option("--csv", "csv_path", metavar="BILLABLE.csv", help="Also write the billable lines as CSV, for billing export.")
@click.option("--workers", type=click.IntRange(min=1), default=1, show_default=True,
              help="Worker processes; each loads the pack once.")
@_pack_option("effective in each record's month")
@_option_option
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

    options = _options(option_pairs)
    if in_path == "-":
        _stdin()  # closed: a usage error, before any work
    else:
        try:
            open(in_path, "rb").close()  # unreadable input is a usage error, before any work
        except OSError as error:
            raise click.UsageError(f"cannot read {in_path}: {error.strerror or error}") from None
    size = input_size(in_path)
    stderr = sys.stderr
    show_bar = size is not None and size > 0 and stderr.isatty()
    try:
        if show_bar:
            bar: Any
            with click.progressbar(length=size, label="deciding", file=stderr) as bar:
                summary = run_batch_files(in_path, out_path, csv_path, workers=workers, pack=pack_ref,
                                          options=options, trace=trace, resume=resume, progress=bar.update)
        else:
            summary = run_batch_files(in_path, out_path, csv_path, workers=workers, pack=pack_ref,
                                      options=options, trace=trace, resume=resume)
    except DiagnosticError as error:
        _fail(error, EXIT_BAD_INPUT)
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


def _read_decision(path: str) -> tuple[dict, str]:
    import json
    text, name = _read_text(path)
    try:
        decision = json.loads(text)
    except ValueError as error:
        raise click.UsageError(f"{name} is not JSON: {error}") from None
    if not isinstance(decision, dict) or "pack" not in decision or "facts_sha256" not in decision:
        raise click.UsageError(f"{name} is not a decision (no /pack or /facts_sha256)")
    return decision, text


@main.command()
@click.argument("decision_path", metavar="DECISION.json")
@_pack_option("the decision names")
@click.option("--format", "output_format", type=click.Choice(["text", "markdown", "html"]), default="text", show_default=True)
def explain(decision_path: str, pack_ref: str | None, output_format: str) -> None:
    """Explain a decision: why each code is or is not billable, the time ledger, the derivation.

    Made for a decision evaluated with --trace full; with a compact trace, the parts that
    need the full trace are named and the rest is shown."""
    from ..explain import explain as explain_decision
    from ..explain import render
    decision, _ = _read_decision(decision_path)
    try:
        ex = explain_decision(decision, pack_ref)
    except DiagnosticError as error:
        _fail(error, EXIT_BAD_INPUT)
    except (KeyError, TypeError, ValueError) as error:
        raise click.UsageError(f"{decision_path} is not a decision this engine can explain: {error!r}") from None
    click.echo(render(ex, output_format), nl=False)


@main.command()
@click.argument("decision_path", metavar="DECISION.json")
@click.argument("facts", metavar="FACTS")
@_pack_option("the decision names")
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text", show_default=True)
def verify(decision_path: str, facts: str, pack_ref: str | None, output_format: str) -> None:
    """Re-derive a decision from FACTS and confirm it byte for byte, or list what differs.

    Exit 0 verified, 1 differs (facts, pack, engine or result changed), 2 bad input."""
    from ..explain.verify import VerifyInputError, pack_for_decision, render_verification, verify_decision
    decision, recorded_text = _read_decision(decision_path)
    text, name = _read_text(facts)
    try:
        data = parse_facts_text(text, name)
        pack = pack_for_decision(decision, pack_ref)
        result = verify_decision(decision, data, pack, recorded_text)
    except DiagnosticError as error:
        _fail(error, EXIT_BAD_INPUT)
    except VerifyInputError as error:
        click.echo(f"{decision_path}: {error}", err=True)
        sys.exit(EXIT_BAD_INPUT)
    if output_format == "json":
        click.echo(pretty_json(result.as_json()))
    else:
        click.echo(render_verification(result), nl=False)
    sys.exit(0 if result.verified else EXIT_FAILURES)


@main.command()
@click.argument("decisions_path", metavar="DECISIONS.jsonl")
@click.option("--out", "out_dir", required=True, metavar="DIR", help="Directory for one HTML report per decision and index.html.")
@_pack_option("each decision names")
def report(decisions_path: str, out_dir: str, pack_ref: str | None) -> None:
    """HTML reports for a batch: one self-contained page per decision, and an index page.

    Lines that are error records (or not decisions) are counted and skipped (exit 1)."""
    import json
    from ..explain import explain as explain_decision
    from ..explain import render
    from ..explain.html import render_index
    text, name = _read_text(decisions_path)
    target = Path(out_dir)
    pack = None
    try:
        pack = load_pack(pack_ref) if pack_ref else None
        target.mkdir(parents=True, exist_ok=True)
    except DiagnosticError as error:
        _fail(error, EXIT_BAD_INPUT)
    except OSError as error:
        raise click.UsageError(f"cannot write {out_dir}: {error.strerror or error}") from None
    rows, skipped = [], 0
    for number, line in enumerate(text.splitlines(), 1):
        try:
            decision = json.loads(line)
        except ValueError:
            decision = None
        if not isinstance(decision, dict) or "pack" not in decision:
            skipped += 1
            continue
        ex = explain_decision(decision, pack)
        href = f"{number:06d}-{''.join(ch if ch.isalnum() or ch in '-_' else '_' for ch in str(ex.patient_id))}-{ex.month}.html"
        (target / href).write_text(render(ex, "html"), encoding="utf-8")
        rows.append((ex, href))
    (target / "index.html").write_text(render_index(rows, f"Decisions from {name}"), encoding="utf-8")
    skipped_note = f"; {skipped} line(s) skipped" if skipped else ""
    click.echo(f"{len(rows)} report(s) and index.html in {target}{skipped_note}", err=True)
    sys.exit(EXIT_FAILURES if skipped else 0)


@main.command()
@click.argument("pack_ref", metavar="PACK")
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--show-suppressed", is_flag=True, help="Also list the findings lint.yaml accepts, with its reasons.")
def lint(pack_ref: str, output_format: str, show_suppressed: bool) -> None:
    """Find what validate cannot: conditions that can never be true or never be false, blocked
    entries that never apply, rules a conflict always wins over (errors); parameter gaps,
    overlaps, unverified or uncited values, codes without a rate, options never read (warnings).

    A lint.yaml beside pack.yaml accepts a finding with a reason. Exit 0 with warnings only,
    1 on errors (or an invalid pack), 2 when there is no pack at PACK."""
    from ..authoring.lint import lint_pack
    report = lint_pack(_load(pack_ref))
    if output_format == "json":
        click.echo(pretty_json(report.as_json(show_suppressed)))
    else:
        click.echo(report.render(show_suppressed))
    sys.exit(report.exit_status)


@main.command()
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
    from contextlib import nullcontext

    from ..authoring.impact import impact_of_file
    from ..authoring.impact_render import render as render_impact
    from ..batch import WorkerLost, input_size
    if facts_path == "-":
        _stdin()  # closed: a usage error, before any work
    size = input_size(facts_path)
    started = time.perf_counter()
    try:
        with click.progressbar(length=size, label="deciding under both packs", file=sys.stderr) \
                if size and sys.stderr.isatty() else nullcontext() as bar:
            report = impact_of_file(facts_path, old_ref, new_ref, csv_path, workers=workers,
                                    progress=bar.update if bar is not None else None)
    except DiagnosticError as error:
        _fail(error, EXIT_BAD_INPUT)
    except OSError as error:
        verb = "read" if error.filename == facts_path else "write"
        raise click.UsageError(f"cannot {verb} {error.filename}: {error.strerror or error}") from None
    except WorkerLost as error:
        click.echo(str(error), err=True)
        sys.exit(EXIT_FAILURES)
    click.echo(render_impact(report, output_format), nl=False)
    click.echo(f"{report.tally.records:,} records read in {time.perf_counter() - started:.1f} s "
               f"({counted(workers, 'worker')})", err=True)


def _fhir_reading(inputs: tuple[str, ...], first: str | None, last: str | None, timezone: str | None,
                  validate: bool) -> Any:
    """How `ingest fhir` and `timeline decide` read their input, from their shared options."""
    import re
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    from ..timeline.files import Reading
    for name, value in (("--from", first), ("--to", last)):
        if value is not None and not re.fullmatch(r"[0-9]{4}-(0[1-9]|1[0-2])", value):
            raise click.BadParameter(f"{value!r} is not a month YYYY-MM", param_hint=name)
    if first and last and first > last:
        raise click.BadParameter(f"{first} is after --to {last}", param_hint="--from")
    missing = [path for path in inputs if not Path(path).exists()]
    if missing:
        raise click.UsageError(f"cannot read {missing[0]}: no such file or directory")
    try:
        zone = ZoneInfo(timezone) if timezone else None
    except (ZoneInfoNotFoundError, ValueError):
        raise click.BadParameter(f"{timezone!r} is not an IANA time zone such as America/New_York",
                                 param_hint="--timezone") from None
    validator = None
    if validate:
        from ..fhir.validation import fhir_validator
        try:
            validator = fhir_validator()
        except ImportError:
            raise click.UsageError("--validate needs the fhir extra: pip install 'rpm-policyengine[fhir]'") from None
    return Reading(inputs, first, last, zone, validator)


def _writable(inputs: tuple[str, ...], **outputs: str | None) -> None:
    """Exit 2 before reading any input when an output cannot be written, would overwrite an
    input or another output, or would be read as FHIR input by the next run."""
    from ..fhir.read import NDJSON_SUFFIXES, input_files
    given = [(f"--{name}", path) for name, path in outputs.items()]
    problems = output_problems("fhir", input_files(inputs), given)
    folders = [Path(path).resolve() for path in inputs if Path(path).is_dir()]
    problems += [Diagnostic("fhir.output_in_input", f"{path} is in the input folder {folder}: the next run would read it "
                            "as FHIR", where=flag, hint="write it outside the folders read")
                 for flag, path in given if path is not None and Path(path).suffix in (".json", *NDJSON_SUFFIXES)
                 for folder in folders if folder in Path(path).resolve().parents]
    if problems:
        _fail(DiagnosticError(problems), EXIT_BAD_INPUT)


def _fhir_options(command: Callable) -> Callable:
    for decorate in reversed((
            click.argument("inputs", metavar="INPUT...", nargs=-1, required=True),
            click.option("--from", "first", metavar="YYYY-MM",
                         help="First month (default: each patient's first month with data)."),
            click.option("--to", "last", metavar="YYYY-MM", help="Last month (default: each patient's last month with data)."),
            click.option("--timezone", metavar="ZONE",
                         help="The practice's time zone (IANA, e.g. America/Chicago): each timestamp's day is taken "
                              "there (default: the offset written in the timestamp)."),
            click.option("--validate", is_flag=True, help="Also validate every resource against FHIR (the fhir extra)."),
            click.option("--report", "report_path", metavar="PROBLEMS.jsonl",
                         help="Write every problem found in the input, one JSON object a line."))):
        command = decorate(command)
    return command


def _problems_summary(run: Any) -> None:
    """The first problems and the count of each kind, on stderr."""
    for problem in run.reporter.first:
        click.echo(problem.line(), err=True)
    for (severity, code), n in sorted(run.reporter.counts.items()):
        click.echo(f"{n:,} {severity} {code}", err=True)


@main.group()
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
    from ..timeline.files import ingest as ingest_files
    reading = _fhir_reading(inputs, first, last, timezone, validate)
    _writable(inputs, out=out_path, report=report_path)
    try:
        run = ingest_files(reading, out_path, report_path)
    except OSError as error:
        raise click.UsageError(f"cannot read or write {error.filename}: {error.strerror or error}") from None
    _problems_summary(run)
    click.echo(f"{counted(run.documents, 'patient-month')} of {counted(run.patients, 'patient')} written to {out_path}",
               err=True)
    sys.exit(EXIT_FAILURES if run.reporter.errors else 0)


@main.group()
def timeline() -> None:
    """Decide patients across months."""


@timeline.command("decide")
@_fhir_options
@click.option("--out", "out_path", required=True, metavar="DECISIONS.jsonl",
              help="Where to write the decisions, one a line, each patient's months in order.")
@click.option("--facts", "facts_path", metavar="FACTS.jsonl", help="Also write the facts each decision was made from.")
@_pack_option("effective in each month")
@_option_option
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
    from ..timeline.decide import summary_text
    from ..timeline.files import decide as decide_files
    from ..batch.run import check_arguments
    reading = _fhir_reading(inputs, first, last, timezone, validate)
    _writable(inputs, out=out_path, report=report_path, facts=facts_path)
    pack = _load(pack_ref) if pack_ref else None
    options = _options(option_pairs)
    try:
        check_arguments(pack, options, trace)
    except DiagnosticError as error:
        _fail(error, EXIT_BAD_INPUT)

    def show(summary: Any) -> None:
        if output_format == "text":
            click.echo(summary_text(summary), nl=False)
        else:
            click.echo(json.dumps(summary.as_json(), ensure_ascii=False))

    try:
        run = decide_files(reading, out_path, show, report_path, pack, options, trace, facts_path)
    except OSError as error:
        raise click.UsageError(f"cannot read or write {error.filename}: {error.strerror or error}") from None
    except DiagnosticError as error:
        _fail(error, EXIT_BAD_INPUT)
    _problems_summary(run)
    click.echo(f"{counted(run.documents, 'patient-month')} of {counted(run.patients, 'patient')} decided into {out_path}"
               + (f"; {run.undecided:,} could not be decided" if run.undecided else ""), err=True)
    sys.exit(EXIT_FAILURES if run.reporter.errors or run.undecided else 0)


@main.command("new-pack")
@click.argument("directory", metavar="DIR", type=click.Path(file_okay=False, path_type=Path))
@click.option("--extends", "parent_ref", required=True, metavar="PACK",
              help="The pack it builds on: a bundled id or a directory.")
@click.option("--year", type=click.IntRange(2000, 2100), required=True, help="The fee-schedule year of the new pack.")
@click.option("--id", "pack_id", help="The new pack's id (default: the parent's with its year replaced).")
def new_pack_command(directory: Path, parent_ref: str, year: int, pack_id: str | None) -> None:
    """Start next year's pack in DIR (new or empty): an overlay of PACK for YEAR that decides as
    PACK does until it is edited, with its header, effective dates, a README to say what
    changed, and tests/ holding one of PACK's cases moved into YEAR (it passes)."""
    from ..authoring.scaffold import new_pack
    _load(parent_ref)  # a missing or invalid parent reads as it does for every command
    try:
        made = new_pack(parent_ref, year, directory, pack_id)
    except DiagnosticError as error:
        _fail(error, EXIT_BAD_INPUT)
    click.echo(f"{made.pack_id} in {made.directory}: pack.yaml, README.md, tests/ (from {made.case_from})")
    click.echo(f"next: policyengine validate {made.directory} && policyengine test {made.directory}")


@main.command()
@click.argument("old_ref", metavar="OLD")
@click.argument("new_ref", metavar="NEW")
@click.option("--format", "output_format", type=click.Choice(["text", "markdown", "json"]), default="text",
              show_default=True, help="text for a terminal, markdown for a change request, json for tools.")
def diff(old_ref: str, new_ref: str, output_format: str) -> None:
    """What changed from pack OLD to pack NEW (bundled ids or directories), each resolved through
    extends: what changes money and billability first (codes, rates per unit, thresholds,
    conflicts, rules), then every parameter, code, rule, conflict, gate, finding, definition
    and option in detail. Exit 0 whether or not they differ."""
    from ..authoring.diff import diff_packs
    from ..authoring.diff_render import render_diff
    click.echo(render_diff(diff_packs(_load(old_ref), _load(new_ref)), output_format), nl=False)


@main.command("test")
@click.argument("pack_ref", metavar="PACK")
@click.option("--whole-pack", is_flag=True,
              help="Count the coverage of every condition, the packs' it extends too (by default an overlay's "
                   "cases answer for the conditions it writes and those reading the parameters it sets).")
def test_command(pack_ref: str, whole_pack: bool) -> None:
    """Run the pack's own test cases (PACK/tests/*.yaml) and report condition coverage.

    Exit 1 when a case fails or coverage is below the pack's coverage_threshold."""
    from ..testing import test_pack
    pack = _load(pack_ref)
    try:
        report = test_pack(pack, pack_ref, whole_pack)
    except DiagnosticError as error:  # a case file that cannot be read
        _fail(error, EXIT_FAILURES)
    click.echo(report.render(), nl=False)
    sys.exit(0 if report.ok else EXIT_FAILURES)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(0, 65535), default=8080, show_default=True)
@click.option("--workers", type=click.IntRange(min=1), default=1, show_default=True,
              help="Worker processes on one socket; each compiles the packs once.")
@click.option("--pack", "pack_refs", multiple=True, metavar="PACK",
              help="A pack directory (or bundled id) to serve besides the bundled packs, as ?pack=ID; one whose id is "
                   "a bundled pack's takes its place. Repeatable.")
@click.option("--log", "log_path", metavar="FILE.sqlite", help="Append every decision to this SQLite decision log.")
@click.option("--tokens", "tokens_path", metavar="FILE",
              help="Bearer tokens, one a line: NAME ROLE[,ROLE] TOKEN (roles decide, audit). Default: the variable "
                   "POLICYENGINE_SERVICE_TOKENS; with neither, no token is asked and only loopback is served.")
@click.option("--max-body-bytes", type=click.IntRange(min=1), default=None, help="Largest decision or verify body.")
@click.option("--max-batch-bytes", type=click.IntRange(min=1), default=None, help="Largest batch body.")
@click.option("--time-limit", type=click.FloatRange(min=0.001), default=None,
              help="Seconds a request may take, reading its body included (default 10).")
def serve(host: str, port: int, workers: int, pack_refs: tuple[str, ...], log_path: str | None, tokens_path: str | None,
          max_body_bytes: int | None, max_batch_bytes: int | None, time_limit: float | None) -> None:
    """Serve decisions over HTTP (the /v1 API; GET /openapi.json describes it) until Ctrl-C.

    The packs are compiled once at start; SIGHUP (or POST /v1/packs:reload) compiles them
    again, and a pack that then fails leaves the ones before it serving."""
    try:
        from ..service.auth import TokenFileError, load_tokens
        from ..service.config import ServiceConfig, is_loopback
        from ..service.packs import compile_packs
        from ..service.run import serve as run_service
    except ImportError as error:  # the core install: the service is an extra
        raise click.UsageError(f"serve needs the service extra ({error.name} is not installed): "
                               "pip install 'rpm-policyengine[service]'") from None
    try:
        tokens = load_tokens(tokens_path)
    except TokenFileError as error:
        raise click.UsageError(str(error)) from None
    if tokens is None and not is_loopback(host):
        raise click.UsageError(f"no tokens configured, so the service listens on loopback only, not {host}: give "
                               "--tokens FILE or POLICYENGINE_SERVICE_TOKENS to listen there")
    try:
        packs = compile_packs(pack_refs, 1)
    except PackNotFound as error:
        _fail(error, EXIT_BAD_INPUT)
    except DiagnosticError as error:
        _fail(error, EXIT_FAILURES)
    if log_path is not None:
        _open_log(log_path).close()  # created, and writable, before any worker starts
    given = {"max_body_bytes": max_body_bytes, "max_batch_bytes": max_batch_bytes, "time_limit": time_limit}
    limits: dict[str, Any] = {name: value for name, value in given.items() if value is not None}
    config = ServiceConfig(host=host, port=port, workers=workers, packs=pack_refs, log=log_path, tokens_file=tokens_path,
                           **limits)
    served = ", ".join(f"{p.pack.id} {p.pack.version}" for p in packs.by_id.values())
    click.echo(f"serving {served} on http://{host}:{port} ({counted(workers, 'worker')}); decision log: "
               f"{log_path or 'off'}", err=True)
    if tokens is None:
        click.echo("no tokens configured: every local caller may decide and audit; listening on loopback only", err=True)
    else:
        click.echo(f"{len(tokens)} token(s) configured", err=True)
    run_service(config)


def _open_log(path: str) -> Any:
    import sqlite3
    from ..decisionlog import SqliteDecisionStore
    try:
        return SqliteDecisionStore(path)
    except (sqlite3.Error, OSError) as error:
        raise click.UsageError(f"cannot open the decision log {path}: {error}") from None


@main.group("log")
def log_group() -> None:
    """Read the decision log a service wrote (serve --log FILE)."""


@log_group.command("list")
@click.argument("log_path", metavar="FILE.sqlite")
@click.option("--patient", help="Only this patient's decisions.")
@click.option("--month", help="Only this month's (YYYY-MM).")
@click.option("--pack", "pack_id", help="Only those made with this pack id.")
@click.option("--limit", type=click.IntRange(min=1), default=100, show_default=True)
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text", show_default=True)
def log_list(log_path: str, patient: str | None, month: str | None, pack_id: str | None, limit: int,
             output_format: str) -> None:
    """The logged decisions, newest first: id, time, caller, patient, month, pack."""
    import json
    from ..decisionlog import Query
    rows = _open_existing_log(log_path).list(Query(patient, month, pack_id, limit))
    if output_format == "json":
        for row in rows:
            click.echo(json.dumps(row.summary(), ensure_ascii=False))
        return
    for row in rows:
        click.echo(f"{row.id}  {row.time}  {row.caller}  {row.patient_id}  {row.month}  {row.pack_id} {row.pack_version} "
                   f"({row.pack_sha256[:12]})")


@log_group.command("show")
@click.argument("log_path", metavar="FILE.sqlite")
@click.argument("decision_id", metavar="ID")
@click.option("--facts", "show_facts", is_flag=True, help="Print the facts the decision was made from instead.")
def log_show(log_path: str, decision_id: str, show_facts: bool) -> None:
    """One logged decision, exactly as it was served (or its facts, with --facts)."""
    row = _open_existing_log(log_path).get(decision_id)
    if row is None:
        click.echo(f"{log_path}: no decision {decision_id}", err=True)
        sys.exit(EXIT_BAD_INPUT)
    text = row.facts if show_facts else row.decision
    click.echo(text, nl=not text.endswith("\n"))


@log_group.command("replay")
@click.argument("log_path", metavar="FILE.sqlite")
@click.option("--id", "decision_ids", multiple=True, metavar="ID", help="Only this decision. Repeatable.")
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text", show_default=True)
def log_replay(log_path: str, decision_ids: tuple[str, ...], output_format: str) -> None:
    """Decide every logged decision again with the pack it records, and report each that no
    longer reproduces byte for byte (and why). Exit 0 all reproduce, 1 some do not."""
    import json
    from ..decisionlog import replay
    store = _open_existing_log(log_path)
    chosen = [store.get(decision_id) for decision_id in decision_ids]
    missing = [decision_id for decision_id, row in zip(decision_ids, chosen) if row is None]
    if missing:
        raise click.UsageError(f"{log_path}: no decision {', '.join(missing)}")
    rows = chosen if decision_ids else store.scan()
    total = differing = 0
    for result in replay(rows):
        total += 1
        differing += not result.reproduced
        if output_format == "json":
            click.echo(json.dumps(result.as_json(), ensure_ascii=False))
        elif not result.reproduced:
            click.echo(result.render())
    click.echo(f"{total} decision(s) replayed, {total - differing} reproduced, {differing} did not", err=True)
    sys.exit(EXIT_FAILURES if differing else 0)


def _open_existing_log(path: str) -> Any:
    if not Path(path).is_file():
        raise click.UsageError(f"no decision log at {path}")
    return _open_log(path)

"""How the commands that read FHIR take it (`ingest fhir`, `timeline decide`, `worklist`):
the reading options, the checks before any input is read, and the problems found, on stderr."""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from ..diagnostics import Diagnostic, DiagnosticError
from ..outputs import output_problems
from .common import EXIT_BAD_INPUT, exit_with


def fhir_reading(inputs: tuple[str, ...], first: str | None, last: str | None, timezone: str | None,
                 validate: bool) -> Any:
    """How the input is read, from the shared options; a usage error (exit 2) for a bad one."""
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


def writable(inputs: tuple[str, ...], **outputs: str | None) -> None:
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
        exit_with(DiagnosticError(problems), EXIT_BAD_INPUT)


def reading_options(command: Callable) -> Callable:
    """--timezone, --validate and --report: how the FHIR input is read, and where its problems go."""
    for decorate in reversed((
            click.option("--timezone", metavar="ZONE",
                         help="The practice's time zone (IANA, e.g. America/Chicago): each timestamp's day is taken "
                              "there (default: the offset written in the timestamp)."),
            click.option("--validate", is_flag=True, help="Also validate every resource against FHIR (the fhir extra)."),
            click.option("--report", "report_path", metavar="PROBLEMS.jsonl",
                         help="Write every problem found in the input, one JSON object a line."))):
        command = decorate(command)
    return command


def problems_summary(reporter: Any) -> None:
    """The first problems the input's `Reporter` kept and the count of each kind, on stderr."""
    for problem in reporter.first:
        click.echo(problem.line(), err=True)
    for (severity, code), n in sorted(reporter.counts.items()):
        click.echo(f"{n:,} {severity} {code}", err=True)

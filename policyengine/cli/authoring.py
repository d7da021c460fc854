"""The commands for writing packs: `validate`, `test` (the pack's own cases), `lint`,
`diff` (two packs) and `new-pack` (next year's overlay)."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import NoReturn

import click

from ..diagnostics import DiagnosticError
from ..packs import CompiledPack
from ..engine.values import pretty_json
from .common import EXIT_BAD_INPUT, EXIT_FAILURES, exit_with, load_pack_or_exit


@click.command()
@click.argument("pack_ref", metavar="PACK")
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="json: whether the pack is valid, its errors and warnings, on stdout (for CI).")
def validate(pack_ref: str, output_format: str) -> None:
    """Check a pack: schema, expressions, types, references and conflicts."""
    if output_format == "json":
        _validate_json(pack_ref)
        return
    pack = load_pack_or_exit(pack_ref)
    warned = f", {len(pack.warnings)} warning{'s' if len(pack.warnings) != 1 else ''}" if pack.warnings else ""
    counted = ", ".join(f"{number} {what}" for what, number in _counts(pack).items())
    click.echo(f"{pack.id} {pack.version} is valid: {counted} (sha256 {pack.sha256[:12]}){warned}")


def _counts(pack: CompiledPack) -> dict[str, int]:
    """What a valid pack holds, as validate reports it."""
    return {"rules": len(pack.rules), "conflicts": len(pack.conflicts.entries), "findings": len(pack.findings),
            "parameters": len(pack.parameters), "options": len(pack.options)}


def _validate_json(pack_ref: str) -> None:
    """validate --format json: the pack valid with its counts, or exit 1 with its errors; a
    missing pack stays a usage error on stderr (exit 2)."""
    pack = load_pack_or_exit(pack_ref, _invalid_json)
    click.echo(pretty_json({"valid": True, "pack": {"id": pack.id, "version": pack.version, "sha256": pack.sha256},
                            **_counts(pack), "errors": [], "warnings": [w.as_json() for w in pack.warnings]}))


def _invalid_json(error: DiagnosticError) -> NoReturn:
    click.echo(pretty_json({"valid": False, "errors": [d.as_json() for d in error.diagnostics], "warnings": []}))
    sys.exit(EXIT_FAILURES)


@click.command("test")
@click.argument("pack_ref", metavar="PACK")
@click.option("--whole-pack", is_flag=True,
              help="Count the coverage of every condition, the packs' it extends too (by default an overlay's "
                   "cases answer for the conditions it writes and those reading the parameters it sets).")
@click.option("--format", "output_format", type=click.Choice(["text", "json", "junit"]), default="text",
              show_default=True, help="json for tools; junit: JUnit XML, which CI systems show as test results.")
def test_command(pack_ref: str, whole_pack: bool, output_format: str) -> None:
    """Run the pack's own test cases (PACK/tests/*.yaml) and report condition coverage.

    Exit 1 when a case fails or coverage is below the pack's coverage_threshold."""
    from ..testing import test_pack
    from ..testing.formats import report_json, report_junit
    pack = load_pack_or_exit(pack_ref)
    try:
        report = test_pack(pack, pack_ref, whole_pack)
    except DiagnosticError as error:  # a case file that cannot be read
        exit_with(error, EXIT_FAILURES)
    if output_format == "json":
        click.echo(pretty_json(report_json(report)))
    elif output_format == "junit":
        click.echo(report_junit(report), nl=False)
    else:
        click.echo(report.render(), nl=False)
    sys.exit(0 if report.ok else EXIT_FAILURES)


@click.command()
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
    report = lint_pack(load_pack_or_exit(pack_ref))
    if output_format == "json":
        click.echo(pretty_json(report.as_json(show_suppressed)))
    else:
        click.echo(report.render(show_suppressed))
    sys.exit(report.exit_status)


@click.command()
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
    click.echo(render_diff(diff_packs(load_pack_or_exit(old_ref), load_pack_or_exit(new_ref)), output_format), nl=False)


@click.command("new-pack")
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
    load_pack_or_exit(parent_ref)  # a missing or invalid parent reads as it does for every command
    try:
        made = new_pack(parent_ref, year, directory, pack_id)
    except DiagnosticError as error:
        exit_with(error, EXIT_BAD_INPUT)
    click.echo(f"{made.pack_id} in {made.directory}: pack.yaml, README.md, tests/ (from {made.case_from}); "
               f"schema: {made.schema}")
    click.echo(f"next: policyengine validate {made.directory} && policyengine test {made.directory}")

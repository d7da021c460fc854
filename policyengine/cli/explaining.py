"""The commands that explain decisions already made: `explain` (one decision, why),
`verify` (re-derive one from its facts, byte for byte) and `report` (HTML pages for a batch)."""
from __future__ import annotations

import sys
from pathlib import Path

import click

from ..diagnostics import DiagnosticError
from ..engine.values import pretty_json
from ..facts import parse_facts_text
from ..packs import load_pack
from .common import EXIT_BAD_INPUT, EXIT_FAILURES, exit_with, pack_option, progress, read_text_input


def _read_decision(path: str) -> tuple[dict, str]:
    import json
    text, name = read_text_input(path)
    try:
        decision = json.loads(text)
    except ValueError as error:
        raise click.UsageError(f"{name} is not JSON: {error}") from None
    if not isinstance(decision, dict) or "pack" not in decision or "facts_sha256" not in decision:
        raise click.UsageError(f"{name} is not a decision (no /pack or /facts_sha256)")
    return decision, text


@click.command()
@click.argument("decision_path", metavar="DECISION.json")
@pack_option("the decision names")
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
        exit_with(error, EXIT_BAD_INPUT)
    except (KeyError, TypeError, ValueError) as error:
        raise click.UsageError(f"{decision_path} is not a decision this engine can explain: {error!r}") from None
    click.echo(render(ex, output_format), nl=False)


@click.command()
@click.argument("decision_path", metavar="DECISION.json")
@click.argument("facts", metavar="FACTS")
@pack_option("the decision names")
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text", show_default=True)
def verify(decision_path: str, facts: str, pack_ref: str | None, output_format: str) -> None:
    """Re-derive a decision from FACTS and confirm it byte for byte, or list what differs.

    Exit 0 verified, 1 differs (facts, pack, engine or result changed), 2 bad input."""
    from ..explain.verify import VerifyInputError, pack_for_decision, render_verification, verify_decision
    decision, recorded_text = _read_decision(decision_path)
    text, name = read_text_input(facts)
    try:
        data = parse_facts_text(text, name)
        pack = pack_for_decision(decision, pack_ref)
        result = verify_decision(decision, data, pack, recorded_text)
    except DiagnosticError as error:
        exit_with(error, EXIT_BAD_INPUT)
    except VerifyInputError as error:
        click.echo(f"{decision_path}: {error}", err=True)
        sys.exit(EXIT_BAD_INPUT)
    if output_format == "json":
        click.echo(pretty_json(result.as_json()))
    else:
        click.echo(render_verification(result), nl=False)
    sys.exit(0 if result.verified else EXIT_FAILURES)


@click.command()
@click.argument("decisions_path", metavar="DECISIONS.jsonl")
@click.option("--out", "out_dir", required=True, metavar="DIR", help="Directory for one HTML report per decision and index.html.")
@pack_option("each decision names")
def report(decisions_path: str, out_dir: str, pack_ref: str | None) -> None:
    """HTML reports for a batch: one self-contained page per decision, and an index page.

    Lines that are error records (or not decisions) are counted and skipped (exit 1)."""
    import json
    from ..explain import explain as explain_decision
    from ..explain import render
    from ..explain.html import render_index
    text, name = read_text_input(decisions_path)
    target = Path(out_dir)
    pack = None
    try:
        pack = load_pack(pack_ref) if pack_ref else None
        target.mkdir(parents=True, exist_ok=True)
    except DiagnosticError as error:
        exit_with(error, EXIT_BAD_INPUT)
    except OSError as error:
        raise click.UsageError(f"cannot write {out_dir}: {error.strerror or error}") from None
    rows, skipped = [], 0
    lines = text.splitlines()
    with progress(len(lines), "reporting") as advance:
        for number, line in enumerate(lines, 1):
            advance(1)
            try:
                decision = json.loads(line)
            except ValueError:
                decision = None
            if not isinstance(decision, dict) or "pack" not in decision:
                skipped += 1
                continue
            ex = explain_decision(decision, pack)
            safe = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in str(ex.patient_id))
            href = f"{number:06d}-{safe}-{ex.month}.html"
            (target / href).write_text(render(ex, "html"), encoding="utf-8")
            rows.append((ex, href))
    (target / "index.html").write_text(render_index(rows, f"Decisions from {name}"), encoding="utf-8")
    skipped_note = f"; {skipped} line(s) skipped" if skipped else ""
    click.echo(f"{len(rows)} report(s) and index.html in {target}{skipped_note}", err=True)
    sys.exit(EXIT_FAILURES if skipped else 0)

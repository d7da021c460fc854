"""The decision service and its log: `serve` (decisions over HTTP) and `log list`, `log show`
and `log replay` (reading the decision log a service wrote)."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from ..diagnostics import DiagnosticError
from ..packs import PackNotFound
from ..wording import counted
from .common import EXIT_BAD_INPUT, EXIT_FAILURES, exit_with


@click.command()
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
        exit_with(error, EXIT_BAD_INPUT)
    except DiagnosticError as error:
        exit_with(error, EXIT_FAILURES)
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


@click.group("log")
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

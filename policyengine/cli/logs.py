"""The decision log, for auditors: `log verify` (the hash chain), `log list`, `log show`,
`log replay`, `log export`, and for its keepers `log purge` and `log migrate`.

Every reading command opens the log read-only and checks each row it shows against the
chain: a damaged row is named with what is wrong with it (exit 1), never a traceback.
Exit 2: no log there, a log of a newer schema, or the wrong key.
"""
from __future__ import annotations

import getpass
import json
import sys
from collections.abc import Callable, Iterator
from functools import partial
from typing import Any, NoReturn

import click

from ..decisionlog import (ChainKey, ChainWalk, DamagedRow, Finding, KeyError_, LogDamaged, LogError, LoggedDecision,
                           Query, SqlStore, check_row, find_key, open_store, usable_key, walk_log)
from ..decisionlog.store import Head, parse_cursor, time_bound
from .common import EXIT_BAD_INPUT, EXIT_FAILURES, progress

LOG_ARGUMENT = click.argument("location", metavar="LOG")  # an SQLite file or a postgresql:// URL
KEY_OPTION = click.option("--key-file", metavar="FILE",
                          help="The chain's HMAC key, for a keyed log (default: $POLICYENGINE_LOG_KEY).")
FORMAT_OPTION = click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text",
                             show_default=True)


def _fail(message: str, status: int) -> NoReturn:
    click.echo(message, err=True)
    sys.exit(status)


class Opened:
    """A log opened for a command, with the key its rows are checked with."""

    def __init__(self, location: str, key_file: str | None, writable: bool = False) -> None:
        try:
            self.key = find_key(key_file)
            self.store: SqlStore = open_store(location, self.key, writable=writable)
            click.get_current_context().call_on_close(self.store.close)
            self.info = self.store.chain_info()
            self.key, self.key_findings = usable_key(self.info, self.key, self.store.location)
        except KeyError_ as error:
            raise click.UsageError(str(error)) from None
        except LogDamaged as error:
            _fail(str(error), EXIT_FAILURES)
        except LogError as error:
            _fail(str(error), EXIT_BAD_INPUT)
        self.keyed = self.info.chain != "sha256"

    def damage(self, row: LoggedDecision | DamagedRow) -> list[Finding]:
        return check_row(row, self.key, self.keyed)


def _guarded(action: Callable[[], Any]) -> Any:
    """Run a reading action; a log damaged past what row checks catch (a malformed file) ends
    the command with its message."""
    try:
        return action()
    except LogDamaged as error:
        _fail(str(error), EXIT_FAILURES)


@click.group("log")
def log_group() -> None:
    """Check, read and keep the decision log a service wrote (serve --log LOG)."""


@log_group.command("verify")
@LOG_ARGUMENT
@KEY_OPTION
@click.option("--from-head", metavar="SEQ:HASH", help="A head printed by an earlier verify: check the log grew from it.")
@FORMAT_OPTION
def log_verify(location: str, key_file: str | None, from_head: str | None, output_format: str) -> None:
    """Walk the hash chain: every edited column, deleted row, reordering, truncation and
    foreign row. Prints the head to keep elsewhere. Exit 0 intact, 1 not."""
    kept = None
    if from_head is not None:
        seq, _, hash_ = from_head.partition(":")
        if not seq.isdigit() or len(hash_) != 64:
            raise click.BadParameter("give the head as SEQ:HASH, as verify prints it", param_hint="--from-head")
        kept = Head(int(seq), hash_)
    log = Opened(location, key_file)
    walk: ChainWalk = _guarded(partial(walk_log, log.store, log.key, log.keyed, kept))
    head = walk.head_after
    findings = log.key_findings + walk.findings
    if output_format == "json":
        click.echo(json.dumps({"log": log.store.location, "rows": walk.count, "chain": log.info.chain,
                               "head": str(head) if head else None, "migrated_through": log.info.migrated_through,
                               "intact": not findings, "findings": [f.as_json() for f in findings]}, ensure_ascii=False))
    else:
        for finding in findings:
            click.echo(finding.render())
        chained = f"{walk.count} row(s), chain {log.info.chain}"
        if log.info.migrated_through:
            chained += f"; rows up to {log.info.migrated_through} were chained when the log was migrated"
        verdict = "intact" if not findings else f"{len(findings)} problem(s)"
        click.echo(f"{log.store.location}: {chained}: {verdict}")
        click.echo(f"head: {head if head else 'none (empty log)'}")
    sys.exit(EXIT_FAILURES if findings else 0)


def _query_options(function: Callable) -> Callable:
    for option in reversed((
            click.option("--patient", help="Only this patient's decisions."),
            click.option("--month", help="Only this month's (YYYY-MM)."),
            click.option("--practitioner", help="Only this billing practitioner's (id or NPI)."),
            click.option("--code", help="Only decisions with a line for this code."),
            click.option("--status", help="Only decisions with a line of this status (billable, not_met, ...); "
                                          "with --code, that code's."),
            click.option("--since", help="Logged at or after this date or ISO date-time (UTC)."),
            click.option("--until", help="Logged on or before this date (the whole day) or ISO date-time."),
            click.option("--pack", "pack_id", help="Only those made with this pack id."))):
        function = option(function)
    return function


def _query(patient: str | None, month: str | None, practitioner: str | None, code: str | None, status: str | None,
           since: str | None, until: str | None, pack_id: str | None, limit: int | None, cursor: str | None) -> Query:
    try:
        bounds = (time_bound(since) if since else None, time_bound(until, upper=True) if until else None)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--since/--until") from None
    try:
        before_seq = parse_cursor(cursor) if cursor is not None else None
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--cursor") from None
    return Query(patient_id=patient, month=month, pack_id=pack_id, practitioner=practitioner, code=code, status=status,
                 since=bounds[0], until=bounds[1], before_seq=before_seq, limit=limit)


@log_group.command("list")
@LOG_ARGUMENT
@_query_options
@click.option("--limit", type=click.IntRange(min=1), default=100, show_default=True)
@click.option("--cursor", help="Continue after the listing that printed this cursor.")
@KEY_OPTION
@FORMAT_OPTION
def log_list(location: str, limit: int, cursor: str | None, key_file: str | None, output_format: str,
             **filters: Any) -> None:
    """The logged decisions, newest first: id, time, caller, patient, month, pack."""
    log = Opened(location, key_file)
    page = _guarded(lambda: log.store.list(_query(**filters, limit=limit, cursor=cursor)))
    damaged = 0
    for row in page.rows:
        findings = log.damage(row)
        if findings:
            damaged += 1
            for finding in findings:
                click.echo(f"{log.store.location}: {finding.render()}", err=True)
            continue
        if output_format == "json":
            click.echo(json.dumps(row.summary(), ensure_ascii=False))
        else:
            click.echo(f"{row.id}  {row.time}  {row.caller}  {row.patient_id}  {row.month}  {row.pack_id} "
                       f"{row.pack_version} ({row.pack_sha256[:12]})")
    if page.next_cursor is not None:
        click.echo(f"more: --cursor {page.next_cursor}", err=True)
    sys.exit(EXIT_FAILURES if damaged else 0)


@log_group.command("show")
@LOG_ARGUMENT
@click.argument("decision_id", metavar="ID")
@click.option("--facts", "show_facts", is_flag=True, help="Print the facts the decision was made from instead.")
@KEY_OPTION
def log_show(location: str, decision_id: str, show_facts: bool, key_file: str | None) -> None:
    """One logged decision, exactly as it was served (or its facts, with --facts), once its
    row is checked against the chain."""
    log = Opened(location, key_file)
    row = _guarded(lambda: log.store.get(decision_id))
    if row is None:
        _fail(f"{log.store.location}: no decision {decision_id}", EXIT_BAD_INPUT)
    findings = log.damage(row)
    if findings or not isinstance(row, LoggedDecision):
        _fail("\n".join(f"{log.store.location}: {f.render()}" for f in findings) + "\nthe row is damaged: not shown",
              EXIT_FAILURES)
    text = row.facts if show_facts else row.decision
    click.echo(text, nl=not text.endswith("\n"))


@log_group.command("replay")
@LOG_ARGUMENT
@click.option("--id", "decision_ids", multiple=True, metavar="ID", help="Only this decision. Repeatable.")
@KEY_OPTION
@FORMAT_OPTION
def log_replay(location: str, decision_ids: tuple[str, ...], key_file: str | None, output_format: str) -> None:
    """Decide every logged decision again with the pack it records, and report each that no
    longer reproduces byte for byte (and why), and any damage to the log. Exit 0 all
    reproduce and the chain is intact, 1 otherwise."""
    log = Opened(location, key_file)
    missing = [i for i in decision_ids if _guarded(partial(log.store.get, i)) is None]
    if missing:
        raise click.UsageError(f"{log.store.location}: no decision {', '.join(missing)}")
    counts = {"total": 0, "differ": 0, "damaged": 0}

    from ..decisionlog.replay import replay  # decides again: the engine and explain, loaded only for this

    def replayed() -> ChainWalk:
        with log.store.snapshot(), progress(len(decision_ids) or log.store.count(), "replaying") as advance:
            walk = ChainWalk(log.key, log.keyed, log.store.chain_info().head)  # one moment, however long the replay
            for result in replay(log.store, walk, decision_ids):
                advance(1)
                counts["total"] += 1
                counts["damaged" if result.damage or isinstance(result.row, DamagedRow) else "differ"] += not result.reproduced
                if output_format == "json":
                    click.echo(json.dumps(result.as_json(), ensure_ascii=False))
                elif not result.reproduced:
                    click.echo(result.render())
            walk.finish(log.store.chain_info().head)
        return walk
    walk: ChainWalk = _guarded(replayed)
    chain = log.key_findings + [f for f in walk.findings if f.about_the_chain]
    for finding in chain:
        click.echo(f"LOG DAMAGED     {finding.render()}")
    total, differ, damaged = counts["total"], counts["differ"], counts["damaged"]
    click.echo(f"{total} decision(s) replayed, {total - differ - damaged} reproduced, {differ} did not, "
               f"{damaged} damaged; chain: {'intact' if not chain and not damaged else 'damaged'}", err=True)
    sys.exit(EXIT_FAILURES if differ or damaged or chain else 0)


@log_group.command("export")
@LOG_ARGUMENT
@_query_options
@click.option("--format", "output_format", type=click.Choice(["jsonl", "csv"]), default="jsonl", show_default=True)
@click.option("--mask", is_flag=True, help="Replace patient identifiers with a keyed hash (the key from --mask-key-file "
                                           "or $POLICYENGINE_MASK_KEY).")
@click.option("--mask-key-file", metavar="FILE", help="The masking key.")
@KEY_OPTION
def log_export(location: str, output_format: str, mask: bool, mask_key_file: str | None, key_file: str | None,
               **filters: Any) -> None:
    """Every decision the filters choose, oldest first, checked against the chain: JSON
    Lines (summary, decision, facts) or CSV (summary, total, codes). A damaged row is
    reported on stderr and left out (exit 1)."""
    from ..decisionlog.export import MASK_KEY_VARIABLE, Mask, as_csv, as_json_lines
    masking = None
    if mask:
        try:
            secret = ChainKey.from_file(mask_key_file) if mask_key_file else ChainKey.from_environment(MASK_KEY_VARIABLE)
        except KeyError_ as error:
            raise click.UsageError(str(error)) from None
        if secret is None:
            raise click.UsageError(f"--mask needs a key: --mask-key-file FILE or ${MASK_KEY_VARIABLE}")
        masking = Mask(secret.secret)
    log = Opened(location, key_file)
    query = _query(**filters, limit=None, cursor=None)
    damaged = 0

    def checked() -> Iterator[LoggedDecision]:
        nonlocal damaged
        for row in reversed(log.store.list(query).rows):
            findings = log.damage(row)
            if findings or not isinstance(row, LoggedDecision):
                damaged += 1
                for finding in findings:
                    click.echo(f"{log.store.location}: {finding.render()} (not exported)", err=True)
                continue
            yield row

    render = as_csv if output_format == "csv" else as_json_lines

    def exported() -> None:
        for item in render(checked(), masking):
            click.echo(item, nl=output_format == "jsonl")
    _guarded(exported)
    sys.exit(EXIT_FAILURES if damaged else 0)


@log_group.command("purge")
@LOG_ARGUMENT
@click.option("--before", required=True, help="Remove the decisions logged before this date (YYYY-MM-DD, UTC).")
@KEY_OPTION
def log_purge(location: str, before: str, key_file: str | None) -> None:
    """Remove the oldest decisions, those logged before a date (a retention period ended),
    and record the purge in the chain, so the log still verifies and says what went."""
    try:
        bound = time_bound(before)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--before") from None
    log = Opened(location, key_file, writable=True)
    purged = _guarded(lambda: log.store.purge(bound, f"cli:{getpass.getuser()}"))
    if purged is None:
        click.echo(f"{log.store.location}: no decision logged before {before}; nothing purged", err=True)
        return
    record = purged.purge_record()
    click.echo(f"{log.store.location}: purged {record['removed']} decision(s) logged before {before} (rows up to "
               f"{record['through_seq']}); recorded in row {purged.seq}", err=True)


@log_group.command("migrate")
@LOG_ARGUMENT
@KEY_OPTION
def log_migrate(location: str, key_file: str | None) -> None:
    """Bring a log written by an older policyengine to the current schema (the hash chain)."""
    log = Opened(location, key_file, writable=True)
    click.echo(f"{log.store.location}: current schema; chain {log.info.chain}, "
               f"head {log.info.head or 'none (empty log)'}", err=True)

"""Migrating a version 1 decision log (one `decisions` table, before the hash chain) to the
current schema, in one transaction: the rows are copied in their order, numbered from 1
and chained, and `migrated_through` records the last of them, since their hashes were
made when the log was migrated, not when they were written (an edit made before the
migration cannot show). A row the migration cannot read stops it, naming the row, and
leaves the log as it was.
"""
from __future__ import annotations

import json
from typing import TYPE_CHECKING

from .chain import GENESIS
from .sql import LogDamaged, Writing, head_of, link
from .store import DECISION, Head, LoggedDecision, line_statuses, practitioner_of

if TYPE_CHECKING:
    from .sqlite import SqliteDecisionStore

V1_COLUMNS = ("seq", "id", "time", "caller", "patient_id", "month", "pack_id", "pack_version", "pack_sha256",
              "pack_ref", "facts_sha256", "decision_sha256", "trace", "compact", "facts", "decision")


def migrate_v1(store: SqliteDecisionStore, writing: Writing) -> None:
    writing.query("DROP INDEX IF EXISTS decisions_patient_month")
    writing.query("ALTER TABLE decisions RENAME TO decisions_v1")
    store.create(writing)
    head = Head(0, GENESIS)
    for values in writing.query(f"SELECT {', '.join(V1_COLUMNS)} FROM decisions_v1 ORDER BY seq"):
        row = _upgraded(store.location, dict(zip(V1_COLUMNS, values)))
        linked = link([row], head, store.key)[0]
        store.insert(writing, [linked])
        head = head_of(linked)
    writing.query("DROP TABLE decisions_v1")
    writing.query("UPDATE log_meta SET value = ? WHERE name = 'head'", (str(head),))
    writing.query("UPDATE log_meta SET value = ? WHERE name = 'migrated_through'", (str(head.seq),))


def _upgraded(location: str, old: dict) -> LoggedDecision:
    try:
        decision = json.loads(old["decision"])
        try:
            facts = json.loads(old["facts"])
        except ValueError:
            facts = None  # YAML facts name their practitioner only to a full parse; search finds them by the rest
        return LoggedDecision(
            seq=0, kind=DECISION, id=old["id"], time=old["time"], caller=old["caller"], patient_id=old["patient_id"],
            month=old["month"], practitioner=practitioner_of(facts), lines=line_statuses(decision),
            pack_id=old["pack_id"], pack_version=old["pack_version"], pack_sha256=old["pack_sha256"],
            pack_ref=old["pack_ref"], facts_sha256=old["facts_sha256"], decision_sha256=old["decision_sha256"],
            trace=old["trace"], compact=bool(old["compact"]), idempotency_key=None, request_sha256=None, facts=old["facts"],
            decision=old["decision"])
    except (ValueError, TypeError, KeyError, AttributeError) as error:
        raise LogDamaged(f"{location}: version 1 row {old.get('seq')} (id {old.get('id')}) cannot be migrated: "
                         f"{error}") from None

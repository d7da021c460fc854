"""The decision log tried as an attacker would: every kind of tampering the log issue
found (edits to each column, bytes that are not text, a renamed column, deleted rows, a
dropped table, random bytes in the file, truncation) is reported by `log verify`,
`log replay`, `log show` and `log list`, naming the row and column, with exit 1 — never
a traceback, never "all reproduced". Reading a log never writes to it. The SQL tamperings
run against SQLite and a real PostgreSQL server alike."""
from __future__ import annotations

import hashlib
import json
import random
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

import policyengine
from policyengine.cli import main
from policyengine.decisionlog import new_row, open_store

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((ROOT / "examples").glob("2026-03-*.json"))[:5]


def cli(*args: object, env: dict | None = None):
    return CliRunner().invoke(main, [str(a) for a in args], env=env)


@dataclass
class Log:
    """A log of five decisions (rows 1 to 5), and a way to tamper with it behind its back."""

    location: str
    ids: list[str]
    execute: Callable[[str], None]

    def file_digest(self) -> str | None:
        if self.location.startswith("postgresql://"):
            return None
        files = [Path(self.location), Path(f"{self.location}-wal")]
        return hashlib.sha256(b"".join(p.read_bytes() for p in files if p.exists())).hexdigest()


def _fill(location: str) -> list[str]:
    store = open_store(location)
    rows = []
    for path in EXAMPLES:
        text = path.read_text()
        decision = policyengine.evaluate(json.loads(text), trace="none")
        rows.append(new_row(decision, policyengine.to_json(decision), text, caller="billing", pack_ref=decision["pack"]["id"],
                            trace="none", compact=False, practitioner="DR-1"))
    store.append(rows)
    store.close()
    return [row.id for row in rows]


@pytest.fixture
def sqlite_log(tmp_path) -> Log:
    location = str(tmp_path / "log.sqlite")
    ids = _fill(location)

    def execute(sql: str) -> None:
        with sqlite3.connect(location) as db:
            db.execute(sql)

    return Log(location, ids, execute)


@pytest.fixture(params=["sqlite", "postgresql"])
def any_log(request, tmp_path) -> Log:
    if request.param == "sqlite":
        return request.getfixturevalue("sqlite_log")
    import psycopg
    location = request.getfixturevalue("postgres_url")
    ids = _fill(location)

    def execute(sql: str) -> None:
        with psycopg.connect(location, autocommit=True) as db:
            db.execute(sql)

    return Log(location, ids, execute)


def _all_commands(log: Log, shown_id: str) -> dict:
    return {"verify": cli("log", "verify", log.location), "replay": cli("log", "replay", log.location),
            "show": cli("log", "show", log.location, shown_id), "list": cli("log", "list", log.location)}


def assert_reported(result, *needles: str, status: int = 1) -> None:
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    assert result.exit_code == status, result.output
    for needle in needles:
        assert needle in result.output, (needle, result.output)


COLUMN_EDITS = {  # column: the SQL value it is set to in row 2
    "pack_sha256": "'0000'", "caller": "'someone-else'", "time": "'2020-01-01T00:00:00+00:00'",
    "patient_id": "'PT-OTHER'", "trace": "'full'", "compact": "1", "decision": "'{x'", "facts": "'{}'",
    "practitioner": "'DR-2'", "lines": "' 99457=billable '", "pack_ref": "'elsewhere'",
}


@pytest.mark.parametrize("column", sorted(COLUMN_EDITS))
def test_an_edited_column_is_named_by_every_command(any_log, column):
    any_log.execute(f"UPDATE decisions SET {column} = {COLUMN_EDITS[column]} WHERE seq = 2")
    out = _all_commands(any_log, any_log.ids[1])
    for result in out.values():
        assert_reported(result, "row 2", f"'{column}'")
    assert "1 damaged" in out["replay"].output and "not shown" in out["show"].output


def test_bytes_that_are_not_text_are_an_unreadable_column(sqlite_log):
    sqlite_log.execute("UPDATE decisions SET decision = x'fffe00' WHERE seq = 3")
    for result in _all_commands(sqlite_log, sqlite_log.ids[2]).values():
        assert_reported(result, "row 3", "'decision'", "not UTF-8")


def test_a_deleted_middle_row_is_a_gap(any_log):
    any_log.execute("DELETE FROM decisions WHERE seq = 3")
    assert_reported(cli("log", "verify", any_log.location), "row 3 missing (deleted)")
    replayed = cli("log", "replay", any_log.location)
    assert_reported(replayed, "row 3 missing", "4 decision(s) replayed, 4 reproduced")


def test_rows_deleted_from_the_end_are_truncation(any_log):
    any_log.execute("DELETE FROM decisions WHERE seq >= 4")
    assert_reported(cli("log", "verify", any_log.location), "rows 4 to 5 missing at the end")
    assert_reported(cli("log", "replay", any_log.location), "rows 4 to 5 missing at the end")


def test_every_row_deleted_is_truncation(any_log):
    any_log.execute("DELETE FROM decisions")
    assert_reported(cli("log", "verify", any_log.location), "every row deleted")
    assert_reported(cli("log", "replay", any_log.location), "every row deleted", "0 decision(s) replayed")


def test_swapped_rows_are_reordering(any_log):
    any_log.execute("UPDATE decisions SET seq = 100 WHERE seq = 2")
    any_log.execute("UPDATE decisions SET seq = 2 WHERE seq = 3")
    any_log.execute("UPDATE decisions SET seq = 3 WHERE seq = 100")
    verified = cli("log", "verify", any_log.location)
    assert_reported(verified, "row 2", "'seq' edited", "row 3", "does not follow row")


def test_a_foreign_row_is_reported(any_log):
    any_log.execute("INSERT INTO decisions SELECT 6, kind, 'forged', time, caller, patient_id, month, practitioner, lines, "
                    "pack_id, pack_version, pack_sha256, pack_ref, facts_sha256, decision_sha256, trace, compact, "
                    "idempotency_key || 'x', request_sha256, facts, decision, row_hash, row_hash, digests "
                    "FROM decisions WHERE seq = 5")
    assert_reported(cli("log", "verify", any_log.location), "row 6", "follow the log's head")


def test_a_renamed_column_or_dropped_table_is_named(any_log):
    any_log.execute("ALTER TABLE decisions RENAME COLUMN caller TO calle")
    for result in _all_commands(any_log, any_log.ids[0]).values():
        assert_reported(result, "no column 'caller'", "'calle'")
    any_log.execute("DROP TABLE decisions")
    for result in _all_commands(any_log, any_log.ids[0]).values():
        assert_reported(result, "no decisions table")


def test_a_file_truncated_to_nothing_is_reported_and_left_empty(sqlite_log):
    Path(sqlite_log.location).write_bytes(b"")
    for result in _all_commands(sqlite_log, sqlite_log.ids[0]).values():
        assert_reported(result, "empty (0 bytes)")
    assert Path(sqlite_log.location).stat().st_size == 0  # no schema written into it


@pytest.mark.parametrize("where", ["middle", "end"])
def test_random_bytes_in_the_file_are_reported_not_a_traceback(sqlite_log, where):
    with sqlite3.connect(sqlite_log.location) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    path = Path(sqlite_log.location)
    data = bytearray(path.read_bytes())
    size, at = (512, len(data) // 2) if where == "middle" else (100, len(data) - 150)
    data[at:at + size] = random.Random(size).randbytes(size)  # the same bytes every run
    path.write_bytes(bytes(data))
    for name, result in _all_commands(sqlite_log, sqlite_log.ids[0]).items():  # a row the bytes missed still shows
        assert "Traceback" not in result.output, (name, result.output)
        assert result.exception is None or isinstance(result.exception, SystemExit), (name, result.exception)
    assert_reported(cli("log", "verify", sqlite_log.location))
    assert_reported(cli("log", "replay", sqlite_log.location))


def test_reading_never_writes_to_the_log(any_log):
    before = any_log.file_digest()
    for result in _all_commands(any_log, any_log.ids[0]).values():
        assert result.exit_code == 0, result.output
    assert cli("log", "export", any_log.location).exit_code == 0
    assert any_log.file_digest() == before


def test_an_intact_log_verifies_and_prints_its_head_and_a_kept_head_catches_rewriting(any_log):
    verified = cli("log", "verify", any_log.location)
    assert verified.exit_code == 0 and "5 row(s), chain sha256: intact" in verified.output
    head = verified.output.split("head: ")[1].strip()
    assert head.startswith("5:")
    assert cli("log", "verify", any_log.location, "--from-head", head).exit_code == 0
    any_log.execute("DELETE FROM decisions WHERE seq = 5")
    any_log.execute("UPDATE log_meta SET value = (SELECT '4:' || row_hash FROM decisions WHERE seq = 4) WHERE name = 'head'")
    assert cli("log", "verify", any_log.location).exit_code == 0  # a consistent rollback: only a kept head shows it
    assert_reported(cli("log", "verify", any_log.location, "--from-head", head), "past the log's last row")

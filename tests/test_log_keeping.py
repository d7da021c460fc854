"""Keeping the decision log: a purge recorded in the chain, a version 1 log migrated, a
newer one refused, a keyed chain that whoever writes the file cannot forge, search by
practitioner, code, status and time, and an export whose masked form names no patient."""
from __future__ import annotations

import csv
import io
import json
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

import policyengine
from policyengine.cli import main
from policyengine.decisionlog import ChainKey, LogError, Query, SqliteDecisionStore, new_row, open_store
from policyengine.decisionlog.chain import DIGESTED, digests_of, row_hash, short_digests
from policyengine.decisionlog.store import COLUMNS, time_bound

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((ROOT / "examples").glob("*.json"))
KEY = "a-long-enough-secret-for-hmac-0123456789"


def cli(*args: object, env: dict | None = None):
    return CliRunner().invoke(main, [str(a) for a in args], env=env)


def rows_for(paths, caller="billing", practitioner="DR-1"):
    out = []
    for path in paths:
        text = path.read_text()
        decision = policyengine.evaluate(json.loads(text), trace="none")
        out.append(new_row(decision, policyengine.to_json(decision), text, caller=caller, trace="none", compact=False,
                           pack_ref=decision["pack"]["id"], practitioner=practitioner))
    return out


def test_every_column_is_digested_and_the_chain_columns_come_last():
    from policyengine.decisionlog.chain import CHAIN_COLUMNS
    assert (*DIGESTED, *CHAIN_COLUMNS) == COLUMNS


def test_a_purge_removes_the_oldest_and_the_log_still_verifies(tmp_path):
    log = tmp_path / "log.sqlite"
    store = SqliteDecisionStore(log)
    old = rows_for(EXAMPLES[:3])
    store.append(old)
    kept = rows_for(EXAMPLES[3:5])
    store.append(kept)
    cut = store.get(kept[0].id).time
    store.close()
    purged = cli("log", "purge", log, "--before", cut)
    assert purged.exit_code == 0 and "purged 3 decision(s)" in purged.output and "recorded in row 6" in purged.output
    verified = cli("log", "verify", log)
    assert verified.exit_code == 0 and "3 row(s)" in verified.output, verified.output
    listed = cli("log", "list", log, "--format", "json")
    assert [json.loads(line)["id"] for line in listed.output.splitlines()] == [r.id for r in reversed(kept)]
    again = cli("log", "purge", log, "--before", "2000-01-01")
    assert again.exit_code == 0 and "nothing purged" in again.output
    with sqlite3.connect(log) as db:  # the purge row itself removed: the chain no longer vouches for the start
        db.execute("DELETE FROM decisions WHERE kind = 'purge'")
    assert "rows 1 to 3 missing at the start" in cli("log", "verify", log).output


def test_a_version_1_log_is_migrated_by_serve_or_migrate_and_a_newer_one_refused(tmp_path):
    log = tmp_path / "v1.sqlite"
    v1 = rows_for(EXAMPLES[:2])
    with sqlite3.connect(log) as db:  # the layout policyengine 0.7 wrote
        db.execute("CREATE TABLE decisions (seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, time TEXT NOT NULL, "
                   "caller TEXT NOT NULL, patient_id TEXT NOT NULL, month TEXT NOT NULL, pack_id TEXT NOT NULL, "
                   "pack_version TEXT NOT NULL, pack_sha256 TEXT NOT NULL, pack_ref TEXT NOT NULL, facts_sha256 TEXT "
                   "NOT NULL, decision_sha256 TEXT NOT NULL, trace TEXT NOT NULL, compact INTEGER NOT NULL, facts TEXT "
                   "NOT NULL, decision TEXT NOT NULL)")
        names = ("id", "time", "caller", "patient_id", "month", "pack_id", "pack_version", "pack_sha256", "pack_ref",
                 "facts_sha256", "decision_sha256", "trace", "compact", "facts", "decision")
        db.executemany(f"INSERT INTO decisions ({', '.join(names)}) VALUES ({', '.join('?' for _ in names)})",
                       [tuple(getattr(row, n) for n in names) for row in v1])
    refused = cli("log", "verify", log)
    assert refused.exit_code == 2 and "version 1 decision log" in refused.output and "log migrate" in refused.output
    migrated = cli("log", "migrate", log)
    assert migrated.exit_code == 0, migrated.output
    verified = cli("log", "verify", log)
    assert verified.exit_code == 0 and "rows up to 2 were chained when the log was migrated" in verified.output
    store = SqliteDecisionStore.open_for_reading(log)
    practitioner = json.loads(v1[0].facts)["billing_practitioner"]["id"]  # read from the facts by the migration
    assert v1[0].id in [r.id for r in store.list(Query(practitioner=practitioner)).rows]
    store.close()
    with sqlite3.connect(log) as db:
        db.execute("UPDATE log_meta SET value = '3' WHERE name = 'schema_version'")
    newer = cli("log", "list", log)
    assert newer.exit_code == 2 and "schema version 3 is newer" in newer.output
    with pytest.raises(LogError, match="newer"):
        SqliteDecisionStore(log)


def test_a_keyed_chain_cannot_be_forged_without_its_key(tmp_path):
    log = tmp_path / "keyed.sqlite"
    key_file = tmp_path / "log.key"
    key_file.write_text(KEY + "\n")
    store = SqliteDecisionStore(log, ChainKey.from_file(key_file))
    rows = rows_for(EXAMPLES[:3])
    store.append(rows)
    store.close()
    assert cli("log", "verify", log, "--key-file", key_file).exit_code == 0
    assert cli("log", "verify", log, env={"POLICYENGINE_LOG_KEY": KEY}).exit_code == 0
    no_key = cli("log", "verify", log)
    assert no_key.exit_code == 2 and "keyed" in no_key.output
    other = tmp_path / "other.key"
    other.write_text("another-secret-of-enough-length")
    assert cli("log", "verify", log, "--key-file", other).exit_code == 2
    # Someone who can write the file edits a row and recomputes its digests and hash, without the key:
    with sqlite3.connect(log) as db:
        names = ", ".join(COLUMNS)
        values = dict(zip(COLUMNS, db.execute(f"SELECT {names} FROM decisions WHERE seq = 2").fetchone()))
        values["caller"] = "forger"
        full = digests_of([values[column] for column in DIGESTED])
        db.execute("UPDATE decisions SET caller = 'forger', digests = ?, row_hash = ? WHERE seq = 2",
                   (short_digests(full), row_hash(None, 2, values["prev_hash"], full)))
    forged = cli("log", "verify", log, "--key-file", key_file)
    assert forged.exit_code == 1 and "row 2" in forged.output and "does not verify" in forged.output
    with pytest.raises(LogError, match="give its key"):
        SqliteDecisionStore(log)  # serve without the key refuses to continue the chain


def test_search_by_practitioner_code_status_and_time_pages_newest_first(tmp_path):
    log = tmp_path / "log.sqlite"
    store = SqliteDecisionStore(log)
    store.append(rows_for(EXAMPLES, practitioner="DR-1"))
    store.append(rows_for(EXAMPLES[:2], practitioner="DR-2"))
    everything = store.list(Query(limit=None)).rows
    assert [r.seq for r in everything] == list(range(len(EXAMPLES) + 2, 0, -1))
    billed_99457 = store.list(Query(code="99457", status="billable", limit=None)).rows
    assert billed_99457 and all(" 99457=billable " in r.lines for r in billed_99457)
    assert all(json.loads(r.decision)["billable"] for r in billed_99457)
    not_met = store.list(Query(status="not_met", limit=None)).rows
    assert {r.id for r in not_met} == {r.id for r in everything if "=not_met " in r.lines}
    assert [r.practitioner for r in store.list(Query(practitioner="DR-2", limit=None)).rows] == ["DR-2", "DR-2"]
    first = store.list(Query(limit=4))
    second = store.list(Query(limit=4, before_seq=int(first.next_cursor)))
    assert [r.seq for r in first.rows + second.rows] == [r.seq for r in everything][:8]
    assert store.list(Query(since=time_bound("2999-01-01"), limit=None)).rows == []
    assert len(store.list(Query(until=time_bound(everything[0].time[:10], upper=True), limit=None)).rows) == len(everything)
    store.close()
    listed = cli("log", "list", log, "--code", "99457", "--status", "billable", "--format", "json")
    assert [json.loads(line)["id"] for line in listed.output.splitlines()] == [r.id for r in billed_99457]
    assert cli("log", "list", log, "--since", "yesterday").exit_code == 2
    made_up = cli("log", "list", log, "--cursor", "9" * 30)  # more than any seq: a usage error, not an overflow
    assert made_up.exit_code == 2 and "a cursor is the next_cursor" in made_up.output


def test_a_masked_export_names_no_patient_and_masks_each_the_same_way(tmp_path):
    log = tmp_path / "log.sqlite"
    store = SqliteDecisionStore(log)
    rows = rows_for(EXAMPLES)
    store.append(rows)
    store.close()
    patients = {row.patient_id for row in rows}
    plain = cli("log", "export", log)
    assert plain.exit_code == 0 and {json.loads(line)["patient_id"] for line in plain.output.splitlines()} == patients
    env = {"POLICYENGINE_MASK_KEY": "mask-secret-of-enough-length"}
    for output_format in ("jsonl", "csv"):
        masked = cli("log", "export", log, "--format", output_format, "--mask", env=env)
        assert masked.exit_code == 0, masked.output
        assert not [p for p in patients if p in masked.output]
    masked = [json.loads(line) for line in cli("log", "export", log, "--mask", env=env).output.splitlines()]
    again = [json.loads(line) for line in cli("log", "export", log, "--mask", env=env).output.splitlines()]
    assert [m["patient_id"] for m in masked] == [a["patient_id"] for a in again]
    assert len({m["patient_id"] for m in masked}) == len(patients)
    assert all(m["decision"]["patient_id"] == m["patient_id"] for m in masked)
    table = list(csv.DictReader(io.StringIO(cli("log", "export", log, "--format", "csv").output)))
    assert [t["id"] for t in table] == [r.id for r in rows] and table[0]["total"] == json.loads(rows[0].decision)["total"]
    assert cli("log", "export", log, "--mask").exit_code == 2  # a mask needs a key


def test_open_store_names_a_missing_log_and_never_creates_one_to_read(tmp_path):
    with pytest.raises(LogError, match="no decision log"):
        open_store(str(tmp_path / "none.sqlite"), writable=False)
    assert not (tmp_path / "none.sqlite").exists()
    assert cli("log", "list", tmp_path / "none.sqlite").exit_code == 2

"""The one contract both decision log stores keep: every test here runs on an SQLite file and
on a PostgreSQL database (the `location` fixture: a path in a fresh folder, or the
postgres_url fixture's fresh database on a real server), opened by `open_store` as the
service and the commands open it. Rows appended and read back, searched and paged; the
chain walked, and edits, gaps and truncation found in it; purge; read-only opening that
creates nothing; dropped tables, a renamed column, a newer schema, another key; retries
logged once; two store objects (as two service instances) appending at once.

A test branches on the store only where the stores differ by nature (what an empty log
is, which driver error a read-only connection raises), and says why. What is PostgreSQL's
own (reconnecting, passwords, roles, the creation lock, PostgreSQL-only SQL) is in
test_log_postgres_store.py."""
from __future__ import annotations

import sqlite3
import threading
from contextlib import closing
from pathlib import Path

import psycopg
import pytest

import policyengine
from logrows import DECISION, SEED, row, walk
from policyengine.decisionlog import ChainKey, Head, LogDamaged, LogError, Query, open_store
from policyengine.decisionlog.opening import is_database_url
from policyengine.decisionlog.store import LoggedDecision

def tamper(location: str, text: str) -> None:
    """Run `text` on the log's database behind the store's back, committed at once."""
    if is_database_url(location):
        with psycopg.connect(location, autocommit=True) as conn:
            conn.execute(text)
    else:
        with closing(sqlite3.connect(location, isolation_level=None)) as db:
            db.execute(text)


@pytest.fixture(params=["sqlite", "postgresql"])
def location(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return str(tmp_path / "log.sqlite") if request.param == "sqlite" else request.getfixturevalue("postgres_url")


@pytest.fixture
def store(location: str):
    opened = open_store(location)
    yield opened
    opened.close()


def test_rows_appended_are_read_back_by_get_list_and_scan(store) -> None:
    rows = [row(f"caller-{i}") for i in range(3)]
    assert store.append(rows) == rows
    got = store.get(rows[1].id)
    assert isinstance(got, LoggedDecision) and got.seq == 2 and got.caller == "caller-1"
    assert got.facts == SEED.read_text() and got.decision == policyengine.to_json(DECISION) and got.compact is False
    assert [r.id for r in store.list(Query()).rows] == [r.id for r in reversed(rows)]
    assert [(r.seq, r.id) for r in store.scan(batch=2)] == [(i + 1, r.id) for i, r in enumerate(rows)]
    assert store.get("no-such-id") is None
    info = store.chain_info()
    assert info.chain == "sha256" and info.head == Head(3, store.get(rows[2].id).row_hash)
    assert walk(store) == []


def test_search_filters_and_cursor_pagination(store) -> None:
    a = row(time="2026-03-01T10:00:00.000000+00:00", practitioner="NPI-1")
    b = row(time="2026-03-02T10:00:00.000000+00:00", practitioner="NPI-2", lines=" 99457=not_met 99454=billable ")
    c = row(time="2026-03-03T10:00:00.000000+00:00", practitioner="NPI-1", lines=" 99_57=billable ")
    store.append([a, b, c])
    ids = lambda query: [r.id for r in store.list(query).rows]
    assert ids(Query(code="99457")) == [b.id, a.id]
    assert ids(Query(code="99457", status="billable")) == [a.id]
    assert ids(Query(status="not_met")) == [b.id, a.id]
    assert ids(Query(code="99_57")) == [c.id]  # "_" is a character, not a LIKE wildcard
    assert ids(Query(code="%")) == []
    assert ids(Query(status="BILLABLE")) == [] and ids(Query(status="billable")) != []  # exact, case and all
    assert ids(Query(practitioner="NPI-1")) == [c.id, a.id]
    assert ids(Query(since="2026-03-02T00:00:00.000000+00:00")) == [c.id, b.id]
    assert ids(Query(until="2026-03-02T10:00:00.000000+00:00")) == [a.id]
    assert ids(Query(patient_id=a.patient_id, month="2026-03", pack_id=a.pack_id)) == [c.id, b.id, a.id]
    first = store.list(Query(limit=2))
    assert [r.id for r in first.rows] == [c.id, b.id] and first.next_cursor == "2"
    second = store.list(Query(limit=2, before_seq=int(first.next_cursor)))
    assert [r.id for r in second.rows] == [a.id] and second.next_cursor is None
    assert store.count() == 3 and store.count(Query(code="99457")) == 2 and store.count(Query(code="%")) == 0
    assert store.count(Query(practitioner="NPI-1", limit=1, before_seq=2)) == 2  # every page, whatever the cursor


def test_the_chain_verifies_and_shows_an_edited_column(store, location: str) -> None:
    store.append([row() for _ in range(3)])
    assert walk(store) == []
    tamper(location, "UPDATE decisions SET caller = 'x' WHERE seq = 2")
    findings = walk(store)
    assert [(f.kind, f.seq, f.column) for f in findings] == [("edited", 2, "caller")]


def test_a_deleted_middle_row_is_a_gap_and_deleted_last_rows_a_truncation(store, location: str) -> None:
    store.append([row() for _ in range(5)])
    tamper(location, "DELETE FROM decisions WHERE seq = 2")
    assert [(f.kind, f.seq) for f in walk(store)] == [("gap", 3)]
    tamper(location, "DELETE FROM decisions WHERE seq >= 4")
    assert [f.kind for f in walk(store)] == ["gap", "truncated"]


def test_a_purge_removes_a_prefix_and_the_chain_still_verifies(store) -> None:
    old = [row(time=f"2026-01-0{i}T00:00:00.000000+00:00") for i in range(1, 4)]
    new = [row(time="2026-03-01T00:00:00.000000+00:00")]
    store.append(old + new)
    purge = store.purge("2026-02-01T00:00:00.000000+00:00", "auditor")
    assert purge is not None and purge.purge_record()["removed"] == 3 and purge.seq == 5
    assert [r.seq for r in store.scan()] == [4, 5]
    assert walk(store) == []
    assert store.purge("2026-02-01T00:00:00.000000+00:00", "auditor") is None


def test_opening_an_empty_log_for_reading_fails_and_creates_nothing(location: str) -> None:
    if is_database_url(location):  # a database exists before its log: empty is one with no tables
        with pytest.raises(LogError, match="no decision log") as raised:
            open_store(location, writable=False)
        assert raised.type is LogError
        with psycopg.connect(location) as conn:
            assert conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'").fetchall() == []
        return
    # An SQLite log is its file: empty is no file (not there, and not created), or a file of 0 bytes (damage:
    # truncated, or never a log), which stays as it was
    path = Path(location)
    with pytest.raises(LogError, match="no decision log") as raised:
        open_store(location, writable=False)
    assert raised.type is LogError
    assert list(path.parent.iterdir()) == []
    path.touch()
    with pytest.raises(LogDamaged, match="empty"):
        open_store(location, writable=False)
    assert list(path.parent.iterdir()) == [path] and path.stat().st_size == 0


@pytest.mark.parametrize(("dropped", "said"), [("decisions", "no decisions table"), ("log_meta", "no log_meta table")])
def test_a_dropped_table_is_damage(location: str, dropped: str, said: str) -> None:
    open_store(location).close()
    tamper(location, f"DROP TABLE {dropped}")
    for writable in (False, True):
        with pytest.raises(LogDamaged, match=said):
            open_store(location, writable=writable)


def test_a_renamed_column_and_a_newer_schema_are_refused(location: str) -> None:
    open_store(location).close()
    tamper(location, "UPDATE log_meta SET value = '99' WHERE name = 'schema_version'")
    with pytest.raises(LogError, match="newer"):
        open_store(location)
    tamper(location, "UPDATE log_meta SET value = '2' WHERE name = 'schema_version'")
    tamper(location, "ALTER TABLE decisions RENAME COLUMN trace TO traced")
    with pytest.raises(LogDamaged, match="has no column 'trace'"):
        open_store(location, writable=False)


def test_a_reader_writes_nothing_and_reads_what_a_writer_logged(store, location: str) -> None:
    kept = row()
    store.append([kept])
    # each store's connection is read-only, so the driver refuses the write: its own error, not the log's
    refused = psycopg.errors.ReadOnlySqlTransaction if is_database_url(location) else sqlite3.OperationalError
    with closing(open_store(location, writable=False)) as reader:
        assert reader.get(kept.id) == store.get(kept.id)
        with pytest.raises(refused, match="read-only|readonly"):
            reader.append([row()])
        assert walk(reader) == []
    assert [r.id for r in store.scan()] == [kept.id]
    store.check_writable()


def test_a_reader_says_it_takes_no_writes(location: str) -> None:
    open_store(location).close()
    with closing(open_store(location, writable=False)) as reader, pytest.raises(LogError, match="takes no writes"):
        reader.check_writable()


def test_a_keyed_log_refuses_another_key(location: str) -> None:
    key = ChainKey(b"k" * 32)
    with closing(open_store(location, key)) as keyed:
        keyed.append([row()])
        assert keyed.chain_info().chain == f"hmac-sha256:{key.id}" and walk(keyed) == []
    with pytest.raises(LogError, match="not the key"):
        open_store(location, ChainKey(b"o" * 32))
    with pytest.raises(LogError, match="is keyed"):
        open_store(location)


def test_a_retry_is_logged_once_in_one_call_and_in_two(store) -> None:
    first, again = row(idempotency_key="k1"), row(idempotency_key="k1")
    other_caller = row("someone-else", idempotency_key="k1")
    kept = store.append([first, again, other_caller])
    assert [r.id for r in kept] == [first.id, first.id, other_caller.id]
    assert kept[1].seq == 1 and kept[1].row_hash  # the retry gets the first as stored, chain columns and all
    kept = store.append([row(idempotency_key="k1")])
    assert [r.id for r in kept] == [first.id]
    assert store.find_retry("billing", "k1").id == first.id
    assert len(list(store.scan())) == 2


def test_a_snapshot_sees_the_log_as_one_moment(location: str) -> None:
    """What another writer commits during a walk is not seen by it: the head and the rows agree."""
    with closing(open_store(location)) as writer:
        writer.append([row(), row()])
        with closing(open_store(location, writable=False)) as reader:
            with reader.snapshot():
                head = reader.chain_info().head
                writer.append([row()])
                assert [r.seq for r in reader.scan()] == [1, 2] and reader.chain_info().head == head
            assert [r.seq for r in reader.scan()] == [1, 2, 3]
            assert walk(reader) == []


def test_two_instances_appending_at_once_make_one_chain(location: str) -> None:
    """Two store objects, each with its own connection, as two service instances (on SQLite: two workers of one
    host, which take turns through the file's write lock)."""
    stores = [open_store(location) for _ in range(2)]
    start = threading.Barrier(2)

    def append(store) -> None:
        start.wait()
        for _ in range(50):
            store.append([row()])

    threads = [threading.Thread(target=append, args=(store,)) for store in stores]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    try:
        assert [r.seq for r in stores[0].scan()] == list(range(1, 101))
        assert walk(stores[1]) == []
    finally:
        for store in stores:
            store.close()


def test_two_instances_retrying_the_same_requests_at_once_log_each_once(location: str) -> None:
    """Each round, both instances append the same request at once; one row is kept, and both get it back.
    (test_log_postgres_store.py makes PostgreSQL's appenders wait on the head row, so the two certainly meet.)"""
    stores = [open_store(location) for _ in range(2)]
    start = threading.Barrier(2)
    kept: list[list] = [[], []]

    def append(i: int) -> None:
        for round_ in range(20):
            retried = row(idempotency_key=f"same-{round_}")
            start.wait()
            kept[i].append(stores[i].append([retried])[0].id)

    threads = [threading.Thread(target=append, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    try:
        assert len(kept[0]) == 20 and kept[0] == kept[1]
        assert [r.id for r in stores[0].scan()] == kept[0] and walk(stores[1]) == []
    finally:
        for store in stores:
            store.close()


def test_a_closed_store_says_so(store) -> None:
    store.close()
    with pytest.raises(LogError, match="closed"):
        store.get("x")

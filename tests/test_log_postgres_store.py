"""The decision log in PostgreSQL, on a real server (the postgres_url fixture: a fresh, empty
database per test): rows appended and read back, searched, chained and verified, purged;
read-only opening that creates nothing; retries logged once; several store objects (as
several service instances) appending at once, and a connection the server dropped."""
from __future__ import annotations

import dataclasses
import json
import threading
import time
from pathlib import Path

import psycopg
import pytest

import policyengine
from policyengine.decisionlog import ChainKey, ChainWalk, Head, LogDamaged, LogError, Query, new_row, open_store
from policyengine.decisionlog.postgres import PostgresDecisionStore, hide_password
from policyengine.decisionlog.store import LoggedDecision

SEED = Path(__file__).resolve().parents[1] / "examples" / "2026-03-seed-22-minutes.json"
DECISION = policyengine.evaluate(json.loads(SEED.read_text()), trace="none")


def row(caller: str = "billing", **changes) -> LoggedDecision:
    made = new_row(DECISION, policyengine.to_json(DECISION), SEED.read_text(), caller=caller, pack_ref="cms-rpm-2026",
                   trace="none", compact=False, idempotency_key=changes.pop("idempotency_key", None))
    return dataclasses.replace(made, **changes)


def sql(url: str, text: str, params: tuple = ()) -> list[tuple]:
    with psycopg.connect(url, autocommit=True) as conn:
        cursor = conn.execute(text, params or None)
        return cursor.fetchall() if cursor.description else []


def tables(url: str) -> set[str]:
    return {name for (name,) in sql(url, "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}


def walk(store) -> list:
    chain = ChainWalk(store.key, keyed=store.key is not None)
    for _ in chain.rows(store.scan()):
        pass
    chain.finish(store.chain_info())
    return chain.findings


@pytest.fixture
def store(postgres_url: str):
    opened = PostgresDecisionStore(postgres_url)
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
    assert ids(Query(practitioner="NPI-1")) == [c.id, a.id]
    assert ids(Query(since="2026-03-02T00:00:00.000000+00:00")) == [c.id, b.id]
    assert ids(Query(until="2026-03-02T10:00:00.000000+00:00")) == [a.id]
    assert ids(Query(patient_id=a.patient_id, month="2026-03", pack_id=a.pack_id)) == [c.id, b.id, a.id]
    first = store.list(Query(limit=2))
    assert [r.id for r in first.rows] == [c.id, b.id] and first.next_cursor == "2"
    second = store.list(Query(limit=2, before_seq=int(first.next_cursor)))
    assert [r.id for r in second.rows] == [a.id] and second.next_cursor is None


def test_the_chain_verifies_and_shows_an_edited_column(store, postgres_url: str) -> None:
    store.append([row() for _ in range(3)])
    assert walk(store) == []
    sql(postgres_url, "UPDATE decisions SET caller = 'x' WHERE seq = 2")
    findings = walk(store)
    assert [(f.kind, f.seq, f.column) for f in findings] == [("edited", 2, "caller")]


def test_a_deleted_middle_row_is_a_gap_and_deleted_last_rows_a_truncation(store, postgres_url: str) -> None:
    store.append([row() for _ in range(5)])
    sql(postgres_url, "DELETE FROM decisions WHERE seq = 2")
    assert [(f.kind, f.seq) for f in walk(store)] == [("gap", 3)]
    sql(postgres_url, "DELETE FROM decisions WHERE seq >= 4")
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


def test_opening_an_empty_database_for_reading_fails_and_creates_nothing(postgres_url: str) -> None:
    with pytest.raises(LogError, match="no decision log"):
        open_store(postgres_url, writable=False)
    assert tables(postgres_url) == set()


@pytest.mark.parametrize(("dropped", "said"), [("decisions", "no decisions table"), ("log_meta", "no log_meta table")])
def test_a_dropped_table_is_damage(postgres_url: str, dropped: str, said: str) -> None:
    PostgresDecisionStore(postgres_url).close()
    sql(postgres_url, f"DROP TABLE {dropped}")
    for writable in (False, True):
        with pytest.raises(LogDamaged, match=said):
            open_store(postgres_url, writable=writable)


def test_a_renamed_column_and_a_newer_schema_are_refused(postgres_url: str) -> None:
    PostgresDecisionStore(postgres_url).close()
    sql(postgres_url, "UPDATE log_meta SET value = '99' WHERE name = 'schema_version'")
    with pytest.raises(LogError, match="newer"):
        PostgresDecisionStore(postgres_url)
    sql(postgres_url, "UPDATE log_meta SET value = '2' WHERE name = 'schema_version'")
    sql(postgres_url, "ALTER TABLE decisions RENAME COLUMN trace TO traced")
    with pytest.raises(LogDamaged, match="has no column 'trace'"):
        PostgresDecisionStore(postgres_url, writable=False)


def test_a_reader_writes_nothing_and_reads_what_a_writer_logged(store, postgres_url: str) -> None:
    kept = row()
    store.append([kept])
    reader = open_store(postgres_url, writable=False)
    try:
        assert reader.get(kept.id) == store.get(kept.id)
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
            reader.append([row()])
        with pytest.raises(LogError, match="takes no writes"):
            reader.check_writable()
        assert walk(reader) == []
    finally:
        reader.close()
    store.check_writable()


def test_a_role_without_rights_gets_a_message_not_a_traceback(postgres_url: str) -> None:
    role = f"nobody_{postgres_url.rpartition('/')[2]}"
    sql(postgres_url, f'CREATE ROLE "{role}" LOGIN')
    sql(postgres_url, "REVOKE CREATE ON SCHEMA public FROM PUBLIC")  # PostgreSQL 15's default, for older servers too
    as_role = postgres_url.replace("://policyengine@", f"://{role}@")
    try:
        with pytest.raises(LogError, match="permission denied"):
            PostgresDecisionStore(as_role)
        assert tables(postgres_url) == set()
        PostgresDecisionStore(postgres_url).close()
        sql(postgres_url, f'GRANT SELECT ON log_meta TO "{role}"')  # the decisions table stays out of reach
        reader = PostgresDecisionStore(as_role, writable=False)
        try:
            with pytest.raises(LogError, match="permission denied"):
                reader.get("x")
        finally:
            reader.close()
    finally:
        sql(postgres_url, f'DROP OWNED BY "{role}"')
        sql(postgres_url, f'DROP ROLE "{role}"')

def test_a_keyed_log_refuses_another_key(postgres_url: str) -> None:
    key = ChainKey(b"k" * 32)
    with PostgresDecisionStoreClosing(postgres_url, key) as keyed:
        keyed.append([row()])
        assert keyed.chain_info().chain == f"hmac-sha256:{key.id}" and walk(keyed) == []
    with pytest.raises(LogError, match="not the key"):
        PostgresDecisionStore(postgres_url, ChainKey(b"o" * 32))
    with pytest.raises(LogError, match="is keyed"):
        PostgresDecisionStore(postgres_url)


class PostgresDecisionStoreClosing(PostgresDecisionStore):
    def __enter__(self):
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def test_a_retry_is_logged_once_in_one_call_and_in_two(store) -> None:
    first, again = row(idempotency_key="k1"), row(idempotency_key="k1")
    other_caller = row("someone-else", idempotency_key="k1")
    assert store.append([first, again, other_caller]) == [first, first, other_caller]
    kept = store.append([row(idempotency_key="k1")])
    assert [r.id for r in kept] == [first.id]
    assert store.find_retry("billing", "k1").id == first.id
    assert len(list(store.scan())) == 2


def test_two_instances_appending_at_once_make_one_chain(postgres_url: str) -> None:
    stores = [PostgresDecisionStore(postgres_url) for _ in range(2)]
    start = threading.Barrier(2)

    def append(store: PostgresDecisionStore) -> None:
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


def test_two_instances_retrying_the_same_request_at_once_log_it_once(postgres_url: str) -> None:
    """Each appender waits for the head row before it looks for the retry; looking first, both would find none
    and the second would fail on the unique index."""
    stores = [PostgresDecisionStore(postgres_url) for _ in range(2)]
    rows = [row(idempotency_key="same") for _ in stores]
    kept: list = [None, None]
    with psycopg.connect(postgres_url) as holder:  # holds the head row, so both appenders wait on it
        holder.execute("SELECT value FROM log_meta WHERE name = 'head' FOR UPDATE")
        threads = [threading.Thread(target=lambda i=i: kept.__setitem__(i, stores[i].append([rows[i]])))
                   for i in range(2)]
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 10
        while sql(postgres_url, "SELECT count(*) FROM pg_locks WHERE NOT granted")[0][0] < 2:
            assert time.monotonic() < deadline, "the appenders never waited on the head row"
            time.sleep(0.01)
    for thread in threads:
        thread.join(30)
    try:
        assert kept[0] is not None and kept[1] is not None and kept[0][0].id == kept[1][0].id
        assert len(list(stores[0].scan())) == 1
    finally:
        for store in stores:
            store.close()


def test_two_instances_opening_a_new_database_at_once_create_it_once(postgres_url: str) -> None:
    start, opened, failed = threading.Barrier(4), [], []

    def open_it() -> None:
        start.wait()
        try:
            opened.append(PostgresDecisionStore(postgres_url))
        except Exception as error:  # the test reports it
            failed.append(error)

    threads = [threading.Thread(target=open_it) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    for store in opened:
        store.close()
    assert failed == [] and len(opened) == 4
    assert sql(postgres_url, "SELECT count(*) FROM log_meta")[0][0] == 4


def test_a_dropped_connection_is_opened_again(store, postgres_url: str) -> None:
    def drop() -> None:
        sql(postgres_url, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                          "WHERE datname = current_database() AND pid <> pg_backend_pid()")

    kept = row()
    store.append([kept])
    first = store._conn
    drop()
    assert store.get(kept.id).id == kept.id  # a read is tried again on a new connection
    assert store._conn is not first
    drop()
    with pytest.raises(psycopg.OperationalError):
        store.append([row()])  # a write raises; its caller retries
    store.append([row()])
    store.check_writable()
    assert [r.seq for r in store.scan()] == [1, 2] and walk(store) == []


def test_a_closed_store_says_so(store) -> None:
    store.close()
    with pytest.raises(LogError, match="closed"):
        store.get("x")


def test_time_compares_byte_by_byte_whatever_the_locale(store, postgres_url: str) -> None:
    assert sql(postgres_url, "SELECT collation_name FROM information_schema.columns "
                             "WHERE table_name = 'decisions' AND column_name = 'time'") == [("C",)]


def test_the_location_shown_has_no_password(postgres_url: str) -> None:
    assert hide_password("postgresql://app:s3cret@db.example:5432/log?sslmode=require&password=p%232") == \
        ("postgresql://app@db.example:5432/log?sslmode=require", {"s3cret", "p%232", "p#2"})
    for shown in ("postgres://db.example:5432/log", "postgresql://app@db.example/l@g?x=1", "postgresql://h"):
        assert hide_password(shown) == (shown, set())
    name = postgres_url.rpartition("/")[2]
    for url in (f"postgresql://nobody:hunter2-secret@127.0.0.1:1/{name}",  # nothing listens on port 1
                "postgresql://nobody:hunter2-secret@[::1/log",  # libpq quotes a URL it cannot parse
                "postgresql://nobody:hunter2%-secret@127.0.0.1/log"):  # or the password it cannot decode
        with pytest.raises(LogError) as raised:
            PostgresDecisionStore(url)
        assert "hunter2" not in str(raised.value) and "postgresql://nobody@" in str(raised.value), raised.value

"""What the decision log's PostgreSQL store does that the SQLite store has no part in, on a real
server (the postgres_url fixture: a fresh, empty database per test): a role without rights,
appenders made to wait on the head row, several instances creating one database through the
advisory lock, a connection the server dropped, the "C" collation of `time`, and URLs shown
without their password. What both stores do alike is test_log_store_contract.py's."""
from __future__ import annotations

import threading
import time

import psycopg
import pytest

from logrows import row, walk
from policyengine.decisionlog import LogError
from policyengine.decisionlog.postgres import PostgresDecisionStore, hide_password

def sql(url: str, text: str, params: tuple = ()) -> list[tuple]:
    with psycopg.connect(url, autocommit=True) as conn:
        cursor = conn.execute(text, params or None)
        return cursor.fetchall() if cursor.description else []


def tables(url: str) -> set[str]:
    return {name for (name,) in sql(url, "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}


@pytest.fixture
def store(postgres_url: str):
    opened = PostgresDecisionStore(postgres_url)
    yield opened
    opened.close()


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

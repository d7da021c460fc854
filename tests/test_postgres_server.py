"""The PostgreSQL server the tests start (tests/postgres_server.py, the postgres_url fixture): it answers,
and each test has a database of its own."""
from __future__ import annotations

import psycopg

_seen: dict[str, str] = {}


def test_the_server_answers(postgres_url: str) -> None:
    assert postgres_url.startswith("postgresql://policyengine@127.0.0.1:")
    with psycopg.connect(postgres_url) as conn:
        assert conn.execute("select 1").fetchone() == (1,)
        version = conn.execute("show server_version").fetchone()
        assert version is not None and int(version[0].split(".")[0]) >= 13


def test_a_table_made_in_one_test_database(postgres_url: str) -> None:
    with psycopg.connect(postgres_url) as conn:
        conn.execute("create table decisions (id int primary key, outcome text not null)")
        conn.execute("insert into decisions values (1, 'billable')")
    with psycopg.connect(postgres_url) as conn:
        assert conn.execute("select outcome from decisions").fetchall() == [("billable",)]
    _seen["made in"] = postgres_url


def test_is_not_seen_from_the_next(postgres_url: str) -> None:
    assert postgres_url != _seen.get("made in")
    with psycopg.connect(postgres_url) as conn:
        tables = conn.execute("select table_name from information_schema.tables where table_schema = 'public'")
        assert tables.fetchall() == []

"""The decision log in a PostgreSQL database, for several service instances, on several
hosts, writing one log (an SQLite file serves the processes of one host).

The chain stays one line however many writers there are: each write transaction first
reads the head row of `log_meta` `FOR UPDATE` (`SqlStore._head`), so the next appender,
in any process on any host, waits on that row until the one before commits, then reads
the head it left. Instances opening a new database at once take turns through an
advisory lock, so one creates the tables. `time` is collated "C": compared byte by byte,
as in SQLite, whatever the database's locale.

One connection (autocommit, writes in explicit transactions) serves a process's threads
behind a lock. When the server drops it (a restart), the next call reconnects: a read is
tried again once, a write raises and its caller retries. Opened for reading, the session
is read-only and creates nothing. Messages show the URL without its password.
"""
from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar
from urllib.parse import unquote

import psycopg
from psycopg import errors

from .chain import ChainKey
from .sql import Dialect, LogDamaged, LogError, SqlStore, Writing, check_columns, check_key, schema_version

_CREATING = 0x706F6C6963790001  # the advisory lock taken to create the tables ("policy" 1)
# from the catalog, not information_schema, which leaves out what the role may not read
_TABLES = ("SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
           "WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p')")
_COLUMNS = ("SELECT a.attname FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n "
            "ON n.oid = c.relnamespace WHERE n.nspname = current_schema() AND c.relname = 'decisions' "
            "AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum")
_USER_PASSWORD = re.compile(r"^(\w+://[^:@/?]*):([^/?]*)@")  # user:PASSWORD@, to the authority's last @
T = TypeVar("T")


def hide_password(url: str) -> tuple[str, set[str]]:
    """`url` as it may be shown (no password in its user part or query), and the passwords,
    as written and decoded, to mask in libpq's errors (it quotes URLs `urlsplit` rejects)."""
    base, _, query = url.partition("?")
    found = _USER_PASSWORD.match(base)
    params = [item for item in query.split("&") if item]
    secrets = [found.group(2)] if found else []
    secrets += [item.partition("=")[2] for item in params if item.startswith("password=")]
    kept = "&".join(item for item in params if not item.startswith("password="))
    shown = _USER_PASSWORD.sub(r"\1@", base, count=1) + (f"?{kept}" if kept else "")
    return shown, {text for secret in secrets for text in (secret, unquote(secret)) if text}


class _Writing:
    def __init__(self, conn: psycopg.Connection) -> None:
        self.conn = conn

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
        cursor = self.conn.execute(sql, params or None)
        return cursor.fetchall() if cursor.description is not None else []

    def execute_many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        with self.conn.cursor() as cursor:
            cursor.executemany(sql, rows)


class PostgresDecisionStore(SqlStore):
    """A `DecisionStore` in the PostgreSQL database at `url`: its tables created if absent
    (`writable`), or only read."""

    dialect = Dialect(param="%s", seq_type="BIGINT PRIMARY KEY", lock_head=" FOR UPDATE",
                      contains="strpos({column}, %s) > 0")

    def __init__(self, url: str, key: ChainKey | None = None, writable: bool = True) -> None:
        super().__init__(key)
        self._url, self.writable = url, writable
        self.location, self._passwords = hide_password(url)
        self._lock = threading.Lock()
        self._closed = False
        self._conn = self._connect()
        try:
            if writable:
                self._prepare()
            elif self._retrying(lambda conn: self._version(_Writing(conn))) == 0:
                raise LogError(f"no decision log in {self.location} (no decisions table)")
        except BaseException as error:
            self._conn.close()
            if isinstance(error, psycopg.Error):  # not allowed to create the tables, a standby, ...
                raise LogError(f"{self.location}: {self._said(error)}") from None
            raise

    def _connect(self) -> psycopg.Connection:
        try:
            conn = psycopg.connect(self._url, autocommit=True)
        except psycopg.Error as error:
            raise LogError(f"{self.location}: cannot connect: {self._said(error)}") from None
        if not self.writable:
            conn.execute("SET default_transaction_read_only = on")
        return conn

    def _said(self, error: Exception) -> str:
        text = str(error).strip()
        for secret in self._passwords:
            text = text.replace(secret, "***")
        return text

    def _connection(self) -> psycopg.Connection:
        if self._closed:
            raise LogError(f"{self.location}: the decision log is closed")
        if self._conn.closed or self._conn.broken:
            self._conn = self._connect()
        return self._conn

    def _version(self, writing: Writing) -> int:
        """The schema version in the database (0: no tables yet), after checking its tables."""
        tables = {name for (name,) in writing.query(_TABLES)}
        if "decisions" not in tables:
            if "log_meta" not in tables:
                return 0
            raise LogDamaged(f"{self.location}: no decisions table (dropped?): not a decision log")
        if "log_meta" not in tables:
            raise LogDamaged(f"{self.location}: no log_meta table (dropped?): the chain's head and key are gone")
        meta = dict(writing.query("SELECT name, value FROM log_meta"))
        version = schema_version(self.location, meta)
        check_columns(self.location, [name for (name,) in writing.query(_COLUMNS)])
        return version

    def _prepare(self) -> None:
        """Create the tables in a new database (one opener at a time) and check the key."""
        with self._writing() as writing:
            writing.query("SELECT pg_advisory_xact_lock(%s)", (_CREATING,))
            if self._version(writing) == 0:
                self.create(writing)
            check_key(self.location, dict(writing.query("SELECT name, value FROM log_meta")), self.key, writing,
                      self.dialect.param)

    def create(self, writing: Writing) -> None:
        super().create(writing)
        writing.query('ALTER TABLE decisions ALTER COLUMN time TYPE TEXT COLLATE "C"')

    def _retrying(self, work: Callable[[psycopg.Connection], T]) -> T:
        """`work`, once more on a new connection if the server dropped the one it had; what
        fails is a `LogError` (reading commands show a message, not a traceback)."""
        with self._lock:
            try:
                try:
                    return work(self._connection())
                except psycopg.OperationalError:
                    if not self._conn.broken:
                        raise
                return work(self._connection())
            except (psycopg.OperationalError, errors.UndefinedTable, errors.UndefinedColumn) as error:
                raise LogDamaged(f"{self.location}: {self._said(error)}") from None
            except psycopg.Error as error:  # not allowed to read, ...
                raise LogError(f"{self.location}: {self._said(error)}") from None

    def _read(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
        return self._retrying(lambda conn: conn.execute(sql, params or None).fetchall())

    @contextmanager
    def _writing(self) -> Iterator[Writing]:
        with self._lock:
            conn = self._connection()
            with conn.transaction():
                yield _Writing(conn)

    @contextmanager
    def snapshot(self) -> Iterator[None]:
        """A REPEATABLE READ transaction: every read inside sees the database as its first did."""
        with self._lock:
            conn = self._connection()
        with conn.transaction():
            with self._lock:
                conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            yield

    def check_writable(self) -> None:
        """A transaction that can write, now: fails on a lost server, a read-only store or
        session, or a standby (after a failover)."""
        def check(conn: psycopg.Connection) -> tuple | None:
            with conn.transaction():
                return conn.execute("SELECT current_setting('transaction_read_only'), pg_is_in_recovery()").fetchone()
        if self._retrying(check) != ("off", False):
            raise LogError(f"{self.location}: the database takes no writes here (read-only, or a standby)")

    def close(self) -> None:
        with self._lock:
            self._closed = True
            self._conn.close()

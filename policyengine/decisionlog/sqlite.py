"""The decision log in one SQLite file: the embedded default, for one service host.

WAL journal: readers (an auditor's `policyengine log list`) never block the writer, and
several worker processes of one service append to the same file, one transaction at a
time (`busy_timeout` waits for the lock instead of failing). `synchronous=NORMAL` makes a
commit durable against a crash of the process without an fsync per decision (a power cut
may lose the last commits; FULL would fsync each one). The connection is shared by the
threads of one process behind a lock; writers of all processes take turns through a
`WriterLock`.

`open_for_reading` opens the file read-only (an auditor's command never writes to the
log it examines, not even a schema into an empty file) and reads text as bytes, so a
column that is no longer UTF-8 is one damaged row, not a failed query. Opening for
writing (`serve`) creates the schema in a new file and migrates a version 1 log.
"""
from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .chain import ChainKey
from .migrate import V1_COLUMNS, migrate_v1
from .sql import Dialect, LogDamaged, LogError, SqlStore, Writing, check_columns, check_key, schema_version

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None  # type: ignore[assignment]


class WriterLock:
    """Writers of one log file, in any process, take turns through an flock on a file
    beside it (FILE.sqlite.lock), opened on the first write. The kernel wakes the next
    writer the moment the lock is free; SQLite's own busy handler, which the lock leaves
    for writers that do not take it, polls with sleeps of 1 ms growing to 100 ms, and two
    service workers writing in turn put those sleeps in the slowest answers (p99 40 to 60
    ms under load, 16 ms with this lock). Where there is no flock (Windows), only SQLite's
    handler serves."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def __enter__(self) -> None:
        if fcntl is None:
            return
        if self._fd is None:
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        fcntl.flock(self._fd, fcntl.LOCK_EX)

    def __exit__(self, *exc: object) -> None:
        if self._fd is not None and fcntl is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


class Checkpointer:
    """Copies the WAL back into the database file from a thread of its own, every
    `interval` seconds, so no append pays for it. SQLite's automatic checkpoint runs in the
    commit that crosses 1,000 pages: that commit then copies the pages and fsyncs the file,
    a 15 to 100 ms answer every few hundred decisions, and 40 to 90 us more per row on
    average. A PASSIVE checkpoint takes no lock a writer waits for; the writers of every
    worker process leave it to their checkpointers (one of them wins each round)."""

    def __init__(self, path: Path, interval: float = 1.0) -> None:
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._stop = threading.Event()
        self._interval = interval
        self._thread = threading.Thread(target=self._run, name="policyengine-log-checkpoint", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                self._db.execute("PRAGMA wal_checkpoint(PASSIVE)")
            except sqlite3.Error:  # busy or gone: the next round tries again; appends are not affected
                continue

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self._db.execute("PRAGMA wal_checkpoint(PASSIVE)")
        self._db.close()


class _Writing:
    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
        return self.db.execute(sql, params).fetchall()

    def execute_many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        self.db.executemany(sql, rows)


class SqliteDecisionStore(SqlStore):
    """A `DecisionStore` in the SQLite file at `path`: created with its tables if absent,
    migrated if older (`writable`), or only read (`SqliteDecisionStore.open_for_reading`)."""

    dialect = Dialect(param="?", seq_type="INTEGER PRIMARY KEY", lock_head="", contains="instr({column}, ?) > 0")

    def __init__(self, path: str | Path, key: ChainKey | None = None, busy_timeout_ms: int = 10_000,
                 writable: bool = True) -> None:
        super().__init__(key)
        self.path = Path(path)
        self.location = str(path)
        self.writable = writable
        self._lock = threading.Lock()
        self._writer_lock = WriterLock(Path(f"{self.path}.lock"))
        self._checkpointer: Checkpointer | None = None
        if not writable:
            self._db = self._connect_read_only()
        else:
            self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            try:
                self._db.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
                with self._writer_lock:  # several processes opening a new file at once: one sets WAL
                    self._db.execute("PRAGMA journal_mode = WAL")
                self._db.execute("PRAGMA synchronous = NORMAL")
                self._db.execute("PRAGMA wal_autocheckpoint = 0")  # the Checkpointer's work
                self._prepare()
                self._checkpointer = Checkpointer(self.path)
            except BaseException:
                self.close()
                raise
        self._db.text_factory = bytes

    @classmethod
    def open_for_reading(cls, path: str | Path, key: ChainKey | None = None) -> SqliteDecisionStore:
        """The log at `path`, read-only; `LogError` when it is missing, `LogDamaged` when the
        file or its tables are not a decision log (any more)."""
        return cls(path, key, writable=False)

    def _connect_read_only(self) -> sqlite3.Connection:
        if not self.path.is_file():
            raise LogError(f"no decision log at {self.path}")
        if self.path.stat().st_size == 0:
            raise LogDamaged(f"{self.path}: the file is empty (0 bytes): truncated, or not a decision log")
        db = sqlite3.connect(f"{self.path.resolve().as_uri()}?mode=ro", uri=True, check_same_thread=False,
                             isolation_level=None)
        try:
            version = self._version(db)
            if version == 0:
                raise LogError(f"no decision log in {self.path}: an SQLite file with no tables")
            if version == 1:
                raise LogError(f"{self.path} is a version 1 decision log, kept before the hash chain: "
                               f"`policyengine log migrate {self.path}` chains it (or `serve --log` does on start)")
        except sqlite3.DatabaseError as error:
            db.close()
            raise LogDamaged(f"{self.path}: not a readable SQLite database ({error})") from None
        except BaseException:
            db.close()
            raise
        return db

    def _version(self, db: sqlite3.Connection) -> int:
        """The schema version of the open file (0: no tables yet), after checking its tables."""
        tables = {name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if not tables:
            return 0
        if "decisions" not in tables:
            raise LogDamaged(f"{self.path}: no decisions table (dropped?): not a decision log")
        columns = [row[1] for row in db.execute("PRAGMA table_info(decisions)")]
        if "log_meta" not in tables:
            if tuple(columns) == V1_COLUMNS:
                return 1
            raise LogDamaged(f"{self.path}: no log_meta table (dropped?): the chain's head and key are gone")
        meta = dict(db.execute("SELECT name, value FROM log_meta"))
        version = schema_version(self.location, meta)
        check_columns(self.location, columns)
        return version

    def _prepare(self) -> None:
        """Create the tables in a new file, migrate a version 1 log, and check the key."""
        with self._writing() as writing:
            version = self._version(self._db)
            if version == 0:
                self.create(writing)
            elif version == 1:
                migrate_v1(self, writing)
            info = dict(writing.query("SELECT name, value FROM log_meta"))
            check_key(self.location, info, self.key, writing, self.dialect.param)

    def _read(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
        with self._lock:
            try:
                return self._db.execute(sql, params).fetchall()
            except sqlite3.DatabaseError as error:
                raise LogDamaged(f"{self.path}: {error}") from None

    @contextmanager
    def _writing(self) -> Iterator[Writing]:
        with self._lock, self._writer_lock:
            self._db.text_factory = str
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield _Writing(self._db)
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            else:
                self._db.execute("COMMIT")
            finally:
                self._db.text_factory = bytes

    @contextmanager
    def snapshot(self) -> Iterator[None]:
        """A read transaction: in WAL mode its first read fixes what every later read sees."""
        self._read("BEGIN")
        try:
            yield
        finally:
            self._read("COMMIT")

    def check_writable(self) -> None:
        """Take the write lock and let it go: fails when the file or its folder became
        read-only, the disk is gone, or another process holds the lock past the timeout."""
        if not self.writable:
            raise LogError(f"{self.path} is opened for reading: it takes no writes")
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.execute("ROLLBACK")

    def close(self) -> None:
        if self._checkpointer is not None:
            self._checkpointer.close()
            self._checkpointer = None
        with self._lock:
            self._db.close()
            self._writer_lock.close()

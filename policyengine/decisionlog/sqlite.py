"""The decision log in one SQLite file: the embedded default, for one service host.

WAL journal: readers (an auditor's `policyengine log list`) never block the writer, and
several worker processes of one service append to the same file, one transaction at a
time (`busy_timeout` waits for the lock instead of failing). `synchronous=NORMAL` makes a
commit durable against a crash of the process without an fsync per decision (a power cut
may lose the last commits; FULL would fsync each one). The connection is shared by the
threads of one process behind a lock; writers of all processes take turns through a
`WriterLock`.
"""
from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from dataclasses import fields
from pathlib import Path

from .store import LoggedDecision, Query

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None  # type: ignore[assignment]

COLUMNS = tuple(f.name for f in fields(LoggedDecision))
_INSERT = f"INSERT INTO decisions ({', '.join(COLUMNS)}) VALUES ({', '.join('?' for _ in COLUMNS)})"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS decisions (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    time TEXT NOT NULL,
    caller TEXT NOT NULL,
    patient_id TEXT NOT NULL,
    month TEXT NOT NULL,
    pack_id TEXT NOT NULL,
    pack_version TEXT NOT NULL,
    pack_sha256 TEXT NOT NULL,
    pack_ref TEXT NOT NULL,
    facts_sha256 TEXT NOT NULL,
    decision_sha256 TEXT NOT NULL,
    trace TEXT NOT NULL,
    compact INTEGER NOT NULL,
    facts TEXT NOT NULL,
    decision TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS decisions_patient_month ON decisions (patient_id, month);
"""


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


class SqliteDecisionStore:
    """A `DecisionStore` in the SQLite file at `path` (created with its table if absent)."""

    def __init__(self, path: str | Path, busy_timeout_ms: int = 10_000) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._db.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        self._db.execute("PRAGMA journal_mode = WAL")
        self._db.execute("PRAGMA synchronous = NORMAL")
        self._writer_lock = WriterLock(Path(f"{self.path}.lock"))
        with self._lock:
            self._db.executescript(_SCHEMA)

    def append(self, rows: Sequence[LoggedDecision]) -> None:
        if not rows:
            return
        with self._lock, self._writer_lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.executemany(_INSERT, [tuple(getattr(row, column) for column in COLUMNS) for row in rows])
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def get(self, decision_id: str) -> LoggedDecision | None:
        with self._lock:
            found = self._db.execute(f"SELECT {', '.join(COLUMNS)} FROM decisions WHERE id = ?", (decision_id,)).fetchone()
        return _row(found) if found is not None else None

    def list(self, query: Query) -> list[LoggedDecision]:
        where: list[str] = []
        values: list[str | int] = []
        for column, value in (("patient_id", query.patient_id), ("month", query.month), ("pack_id", query.pack_id)):
            if value is not None:
                where.append(f"{column} = ?")
                values.append(value)
        sql = f"SELECT {', '.join(COLUMNS)} FROM decisions"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY seq DESC"
        if query.limit is not None:
            sql += " LIMIT ?"
            values.append(query.limit)
        with self._lock:
            return [_row(found) for found in self._db.execute(sql, values).fetchall()]

    def scan(self, batch: int = 500) -> Iterator[LoggedDecision]:
        last = 0
        while True:
            with self._lock:
                found = self._db.execute(f"SELECT seq, {', '.join(COLUMNS)} FROM decisions WHERE seq > ? ORDER BY seq "
                                         "LIMIT ?", (last, batch)).fetchall()
            if not found:
                return
            last = found[-1][0]
            yield from (_row(row[1:]) for row in found)

    def check_writable(self) -> None:
        """Take the write lock and let it go: fails when the file or its folder became
        read-only, the disk is gone, or another process holds the lock past the timeout."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.execute("ROLLBACK")

    def close(self) -> None:
        with self._lock:
            self._db.close()
            self._writer_lock.close()


def _row(values: tuple) -> LoggedDecision:
    row = dict(zip(COLUMNS, values))
    row["compact"] = bool(row["compact"])
    return LoggedDecision(**row)

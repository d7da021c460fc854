"""The decision log in an SQL database: the schema, the chained append, search, purge and
reading rows back, written once for SQLite and PostgreSQL. Each store supplies its
connection, its parameter style and how a writer takes the log's one write lock (only
one append at a time may extend the chain, in every process and on every host).

Reading never trusts a row: `read_row` checks each column's type and text, and a row
that cannot be read comes back as a `DamagedRow` naming the column, never as an exception
in the middle of a listing or a replay.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, replace
from operator import attrgetter
from typing import Any, Protocol

from .chain import DIGESTED, GENESIS, ChainKey, chain_name, digests_of, row_hash, short_digests
from .store import COLUMNS, DECISION, ChainInfo, DamagedRow, Head, LoggedDecision, Page, Query, purge_row

SCHEMA_VERSION = 2
#: rows in one INSERT: 24 parameters each, within SQLite's 32,766 and PostgreSQL's 65,535
ROWS_PER_INSERT = 500
_INTEGER_COLUMNS = ("seq", "compact")
_NULLABLE = ("idempotency_key", "request_sha256")
_SEQ, _ROW_HASH, _COMPACT = COLUMNS.index("seq"), COLUMNS.index("row_hash"), COLUMNS.index("compact")
_DIGESTED_AFTER_SEQ = attrgetter(*DIGESTED[1:])


class LogError(Exception):
    """The log cannot be used as asked: not there, a newer schema, another key."""


class LogDamaged(LogError):
    """What the log's file or tables hold is not a decision log any more (damaged, dropped,
    renamed); the message says where."""


@dataclass(frozen=True)
class Dialect:
    """What differs between the SQL databases the log runs on."""

    param: str
    seq_type: str
    lock_head: str  # appended to the head's SELECT in a write transaction
    contains: str  # a condition on {column}: true when it holds the text given, exactly (case and all)


class Writing(Protocol):
    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]: ...

    def execute_many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None: ...


def schema(dialect: Dialect) -> list[str]:
    text_columns = ",\n    ".join(
        f"{column} {'INTEGER NOT NULL' if column in _INTEGER_COLUMNS else 'TEXT' if column in _NULLABLE else 'TEXT NOT NULL'}"
        for column in COLUMNS if column != "seq")
    return [
        f"CREATE TABLE decisions (\n    seq {dialect.seq_type},\n    {text_columns},\n    UNIQUE (id)\n)",
        "CREATE INDEX decisions_patient_month ON decisions (patient_id, month)",
        "CREATE INDEX decisions_time ON decisions (time)",
        "CREATE UNIQUE INDEX decisions_retry ON decisions (caller, idempotency_key) WHERE idempotency_key IS NOT NULL",
        "CREATE TABLE log_meta (name TEXT PRIMARY KEY, value TEXT NOT NULL)",
    ]


def schema_version(location: str, meta: dict) -> int:
    """The schema version log_meta records, refused (`LogError`) when newer than this code reads."""
    recorded = str(meta.get("schema_version", ""))
    version = int(recorded) if recorded.isdigit() else 0
    if version > SCHEMA_VERSION:
        raise LogError(f"{location}: decision log schema version {version} is newer than this policyengine reads "
                       f"({SCHEMA_VERSION}); read it with a newer policyengine")
    return version


def initial_meta(key: ChainKey | None) -> list[tuple[str, str]]:
    return [("schema_version", str(SCHEMA_VERSION)), ("chain", chain_name(key)), ("head", f"0:{GENESIS}"),
            ("migrated_through", "0")]


def read_row(values: Sequence[Any]) -> LoggedDecision | DamagedRow:
    """A row as selected (`COLUMNS` in order), checked column by column."""
    raw = dict(zip(COLUMNS, values))
    seq = raw["seq"] if isinstance(raw["seq"], int) else None
    row_id = raw["id"] if isinstance(raw["id"], str) else None
    for column, value in raw.items():
        if isinstance(value, bytes | memoryview):
            try:
                raw[column] = value = bytes(value).decode("utf-8")
            except UnicodeDecodeError as error:
                return DamagedRow(seq, row_id, column, f"not UTF-8 text ({error.reason} at byte {error.start})")
        if column in _INTEGER_COLUMNS:
            if not isinstance(value, int) or isinstance(value, bool):
                return DamagedRow(seq, row_id, column, f"holds {type(value).__name__} {value!r:.40}, not a whole number")
        elif not isinstance(value, str) and not (value is None and column in _NULLABLE):
            return DamagedRow(seq, row_id, column, f"holds {type(value).__name__} {value!r:.40}, not text")
        if column == "id" and isinstance(value, str):
            row_id = value
    raw["compact"] = bool(raw["compact"])
    return LoggedDecision(**raw)


def link(rows: Sequence[LoggedDecision], head: Head, key: ChainKey | None) -> list[tuple]:
    """The rows as inserted after `head` (`COLUMNS` in order: the digested columns, then the
    chain's): numbered, and each hashed over the one before."""
    seq, prev, out = head.seq, head.row_hash, []
    for row in rows:
        seq += 1
        values = (seq, *_DIGESTED_AFTER_SEQ(row))
        full = digests_of(values)
        hashed = row_hash(key, seq, prev, full)
        out.append((*values[:_COMPACT], int(row.compact), *values[_COMPACT + 1:], prev, hashed, short_digests(full)))
        prev = hashed
    return out


def _stored(linked: tuple) -> LoggedDecision:
    row = read_row(linked)
    assert isinstance(row, LoggedDecision)  # what `link` made of a LoggedDecision
    return row


def head_of(linked: tuple) -> Head:
    """The head after a row as `link` returns it."""
    return Head(linked[_SEQ], linked[_ROW_HASH])


def parse_head(text: str) -> Head:
    seq, _, hash_ = text.partition(":")
    return Head(int(seq), hash_)


class SqlStore(ABC):
    """The `DecisionStore` both databases share. Subclasses open the connection and supply
    `_read` (a query outside any write) and `_writing` (a write transaction holding the
    log's write lock)."""

    dialect: Dialect
    location: str

    def __init__(self, key: ChainKey | None) -> None:
        self.key = key

    # -- what a subclass supplies
    @abstractmethod
    def _read(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]: ...

    @abstractmethod
    def _writing(self) -> AbstractContextManager[Writing]: ...

    @abstractmethod
    def snapshot(self) -> AbstractContextManager[None]:
        """Reads inside see the log as one moment: what is committed meanwhile is not seen
        (a walk of the chain during a purge must not see half of it)."""

    @abstractmethod
    def check_writable(self) -> None: ...

    @abstractmethod
    def close(self) -> None: ...

    # -- SQL in the store's parameter style
    def _sql(self, text: str) -> str:
        return text.replace("?", self.dialect.param)

    def _select(self, where: str = "", order: str = "") -> str:
        return self._sql(f"SELECT {', '.join(COLUMNS)} FROM decisions{' WHERE ' + where if where else ''}{order}")

    def insert(self, writing: Writing, linked: Sequence[tuple]) -> None:
        """Insert rows as `link` made them, many to a statement. One statement for a group,
        not one execution per row: the database call that ends each lets go of the GIL, and
        a thread that must take it back from busy deciding threads waits and switches
        (appending groups of 8 beside one busy thread: 260 us of CPU a row this way, 400
        with a statement run per row, and 6,800 context switches for 2,000 rows, not 14,500)."""
        row_marks = f"({', '.join(self.dialect.param for _ in COLUMNS)})"
        for start in range(0, len(linked), ROWS_PER_INSERT):
            chunk = linked[start:start + ROWS_PER_INSERT]
            writing.query(f"INSERT INTO decisions ({', '.join(COLUMNS)}) VALUES {', '.join(row_marks for _ in chunk)}",
                          [value for values in chunk for value in values])

    def _set_head(self, writing: Writing, last: tuple) -> None:
        writing.query(self._sql("UPDATE log_meta SET value = ? WHERE name = 'head'"), (str(head_of(last)),))

    # -- writing
    def create(self, writing: Writing) -> None:
        for statement in schema(self.dialect):
            writing.query(statement)
        writing.execute_many(self._sql("INSERT INTO log_meta (name, value) VALUES (?, ?)"), initial_meta(self.key))

    def append(self, rows: Sequence[LoggedDecision]) -> list[LoggedDecision]:
        """Chain and insert `rows`; returns the row kept for each: itself, or the row logged
        before under the same caller and Idempotency-Key (a retry is logged once; one sent
        twice in the same group gets the first as stored, chain columns and all)."""
        if not rows:
            return []
        with self._writing() as writing:
            head = self._head(writing)  # first: in PostgreSQL, its row lock is what orders appenders
            kept = self._retries(writing, rows)
            new = [row for row, keep in zip(rows, kept) if keep is row]
            linked = link(new, head, self.key)
            if new:
                self.insert(writing, linked)
                self._set_head(writing, linked[-1])
        if len(new) == len(rows):
            return kept
        stored = {row.id: values for row, values in zip(new, linked)}
        return [keep if keep is row or keep.id not in stored else _stored(stored[keep.id])
                for row, keep in zip(rows, kept)]

    def _retries(self, writing: Writing, rows: Sequence[LoggedDecision]) -> list[LoggedDecision]:
        kept: list[LoggedDecision] = []
        seen: dict[tuple[str, str], LoggedDecision] = {}
        for row in rows:
            if row.idempotency_key is None:
                kept.append(row)
                continue
            named = (row.caller, row.idempotency_key)
            if named not in seen:
                found = writing.query(self._select("caller = ? AND idempotency_key = ?"), named)
                before = read_row(found[0]) if found else None
                seen[named] = before if isinstance(before, LoggedDecision) else row
            kept.append(seen[named])
        return kept

    def _head(self, writing: Writing) -> Head:
        found = writing.query(self._sql(f"SELECT value FROM log_meta WHERE name = 'head'{self.dialect.lock_head}"))
        if not found:
            raise LogDamaged(f"{self.location}: the log's head is missing from log_meta; `policyengine log verify`")
        return parse_head(found[0][0])

    def purge(self, before: str, caller: str) -> LoggedDecision | None:
        with self._writing() as writing:
            head = self._head(writing)
            first_kept = writing.query(self._sql("SELECT MIN(seq) FROM decisions WHERE time >= ? AND kind = ?"),
                                       (before, DECISION))[0][0]
            through_seq = head.seq if first_kept is None else first_kept - 1
            found = writing.query(self._sql("SELECT row_hash FROM decisions WHERE seq = ?"), (through_seq,))
            if not found:
                return None
            removed = writing.query(self._sql("SELECT COUNT(*) FROM decisions WHERE seq <= ? AND kind = ?"),
                                    (through_seq, DECISION))[0][0]
            if removed == 0:
                return None
            writing.query(self._sql("DELETE FROM decisions WHERE seq <= ?"), (through_seq,))
            row = purge_row(before, caller, removed, Head(through_seq, found[0][0]))
            linked = link([row], head, self.key)
            self.insert(writing, linked)
            self._set_head(writing, linked[0])
        return _stored(linked[0])

    # -- reading
    def get(self, decision_id: str) -> LoggedDecision | DamagedRow | None:
        found = self._read(self._select("id = ?"), (decision_id,))
        return read_row(found[0]) if found else None

    def find_retry(self, caller: str, idempotency_key: str) -> LoggedDecision | DamagedRow | None:
        found = self._read(self._select("caller = ? AND idempotency_key = ?"), (caller, idempotency_key))
        return read_row(found[0]) if found else None

    def list(self, query: Query) -> Page:
        where, params = search_filter(query, self.dialect.contains)
        sql = self._select(" AND ".join(where), " ORDER BY seq DESC")
        if query.limit is not None:
            sql += f" LIMIT {int(query.limit) + 1}"
        found = [read_row(values) for values in self._read(sql, params)]
        more = query.limit is not None and len(found) > query.limit
        rows = found[:query.limit] if query.limit is not None else found
        last_seq = rows[-1].seq if rows else None
        return Page(rows, str(last_seq) if more and last_seq is not None else None)  # type: ignore[arg-type]

    def count(self, query: Query | None = None) -> int:
        """How many decisions the log holds (purge rows aside) that `query`'s filters match,
        on every page (its cursor and limit aside)."""
        where, params = search_filter(replace(query or Query(), before_seq=None), self.dialect.contains)
        found = self._read(self._sql("SELECT COUNT(*) FROM decisions WHERE " + " AND ".join(where)), params)
        return int(found[0][0])

    def scan(self, batch: int = 500) -> Iterator[LoggedDecision | DamagedRow]:
        last = -1
        while True:
            found = self._read(self._select("seq > ?", f" ORDER BY seq LIMIT {int(batch)}"), (last,))
            if not found:
                return
            last = found[-1][0]
            yield from (read_row(values) for values in found)

    def chain_info(self) -> ChainInfo:
        try:
            meta = {_text(name): _text(value) for name, value in self._read("SELECT name, value FROM log_meta")}
            head = parse_head(meta["head"])
            return ChainInfo(meta["chain"], head if head.seq else None, int(meta["migrated_through"]))
        except (KeyError, ValueError, TypeError) as error:  # UnicodeDecodeError is a ValueError
            raise LogDamaged(f"{self.location}: log_meta is damaged ({error!r}); the chain cannot be read") from None


def check_columns(location: str, columns: Sequence[str]) -> None:
    """A decisions table with the columns of this schema, or `LogDamaged` naming the difference."""
    missing = [c for c in COLUMNS if c not in columns]
    extra = [c for c in columns if c not in COLUMNS]
    if missing or extra:
        said = []
        if missing:
            said.append(f"has no column {', '.join(repr(c) for c in missing)} (renamed or dropped?)")
        if extra:
            said.append(f"has unexpected column {', '.join(repr(c) for c in extra)}")
        raise LogDamaged(f"{location}: the decisions table {' and '.join(said)}")


def check_key(location: str, meta: dict, key: ChainKey | None, writing: Writing, param: str) -> None:
    """A writer's key must be the one the log's chain was started with; a log with no rows
    yet takes the writer's."""
    recorded, wanted = meta.get("chain"), chain_name(key)
    if recorded == wanted:
        return
    if str(meta.get("head", "")).startswith("0:"):
        writing.query(f"UPDATE log_meta SET value = {param} WHERE name = 'chain'", (wanted,))
        return
    if recorded == "sha256":
        raise LogError(f"{location}: this log's chain has no key; it cannot be continued with one "
                       "(start a new log to key its chain)")
    if key is None:
        raise LogError(f"{location}: this log's chain is keyed ({recorded}); give its key "
                       "(--log-key-file, or $POLICYENGINE_LOG_KEY)")
    raise LogError(f"{location}: the key given is not the key this log's chain was written with ({recorded})")


def _text(value: object) -> str:
    return bytes(value).decode("utf-8") if isinstance(value, bytes | memoryview) else str(value)


def search_filter(query: Query, contains: str) -> tuple[list[str], list[Any]]:
    """The WHERE clauses and their parameters for a search (decisions only, not purges);
    `contains` is the dialect's exact substring test."""
    where: list[str] = ["kind = ?"]
    params: list[Any] = [DECISION]
    for column, value in (("patient_id", query.patient_id), ("month", query.month), ("pack_id", query.pack_id),
                          ("practitioner", query.practitioner)):
        if value is not None:
            where.append(f"{column} = ?")
            params.append(value)
    if query.code is not None or query.status is not None:  # lines reads " CODE=STATUS CODE=STATUS "
        code = f" {query.code}=" if query.code is not None else "="
        where.append(contains.format(column="lines"))
        params.append(code + (f"{query.status} " if query.status is not None else ""))
    bounds: tuple[tuple[str, str | int | None], ...] = (
        ("time >= ?", query.since), ("time < ?", query.until), ("seq < ?", query.before_seq))
    for clause, bound in bounds:
        if bound is not None:
            where.append(clause)
            params.append(bound)
    return where, params


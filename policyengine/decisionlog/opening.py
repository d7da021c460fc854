"""Which store a log location names: a `postgresql://` URL is a PostgreSQL database (with
the `postgres` extra installed), anything else an SQLite file."""
from __future__ import annotations

from .chain import ChainKey
from .sql import LogError, SqlStore
from .sqlite import SqliteDecisionStore

URL_SCHEMES = ("postgresql://", "postgres://")


def is_database_url(location: str) -> bool:
    return location.startswith(URL_SCHEMES)


def open_store(location: str, key: ChainKey | None = None, writable: bool = True) -> SqlStore:
    """The log at `location`, opened for appending (created or migrated as needed) or only
    for reading (never written to)."""
    if is_database_url(location):
        try:
            from .postgres import PostgresDecisionStore
        except ImportError as error:
            raise LogError(f"a PostgreSQL decision log needs psycopg: pip install 'rpm-policyengine[postgres]' "
                           f"({error})") from None
        return PostgresDecisionStore(location, key, writable=writable)
    if writable:
        return SqliteDecisionStore(location, key)
    return SqliteDecisionStore.open_for_reading(location, key)

"""The decision log: every decision the service makes, kept so an auditor can pull it up,
check that it is what the service wrote, and replay it months later.

    store = SqliteDecisionStore("decisions.sqlite", key)      # or open_store("postgresql://...")
    store.append([new_row(decision, served_text, facts_text, caller=..., pack_ref=..., ...)])
    GroupCommitter(store).submit(rows).result()      # many threads' appends, one transaction
    store.get(decision_id); store.list(Query(patient_id="PT-1"))
    walk_log(store, key, keyed).findings                  # the hash chain, row by row and at its ends
    for result in replay.replay(store, walk): ...     # decisionlog.replay: re-decided with the recorded pack

`DecisionStore` is the interface; `SqlStore` holds the schema, the chained append and
search once, for SQLite (one host) and PostgreSQL (several instances).
"""
from __future__ import annotations

from .chain import ChainKey, KeyError_, find_key
from .committer import GroupCommitter, LogClosed
from .opening import open_store
from .sql import LogDamaged, LogError, SqlStore
from .sqlite import SqliteDecisionStore
from .store import DamagedRow, DecisionStore, Head, LoggedDecision, Page, Query, new_row, text_sha256
from .verify import ChainWalk, Finding, check_row, usable_key, walk_log

__all__ = ["ChainKey", "ChainWalk", "DamagedRow", "DecisionStore", "Finding", "GroupCommitter", "Head", "KeyError_",
           "LogClosed", "LogDamaged", "LogError", "LoggedDecision", "Page", "Query", "SqlStore",
           "SqliteDecisionStore", "check_row", "find_key", "new_row", "open_store",
           "text_sha256", "usable_key", "walk_log"]

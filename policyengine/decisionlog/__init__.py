"""The decision log: every decision the service makes, kept so an auditor can pull it up
and replay it months later.

    store = SqliteDecisionStore("decisions.sqlite")
    store.append([new_row(decision, served_text, facts_text, caller=..., pack_ref=..., ...)])
    GroupCommitter(store).submit(rows).result()      # many threads' appends, one transaction
    store.get(decision_id); store.list(Query(patient_id="PT-1"))
    for result in replay(store.scan()): ...      # re-decided with the recorded pack

`DecisionStore` is the interface; SQLite is the embedded implementation (one host). A
server database for several hosts implements the same six methods.
"""
from __future__ import annotations

from .committer import GroupCommitter, LogClosed
from .replay import Replayed, replay, replay_one
from .sqlite import SqliteDecisionStore
from .store import DecisionStore, LoggedDecision, Query, new_row, text_sha256

__all__ = ["DecisionStore", "GroupCommitter", "LogClosed", "LoggedDecision", "Query", "Replayed",
           "SqliteDecisionStore", "new_row", "replay", "replay_one", "text_sha256"]

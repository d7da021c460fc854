"""What the decision log holds and the interface every store keeps: append, get, list.

A `LoggedDecision` is one row: who asked for which patient-month, the pack that decided
(its id, version, sha256 and the reference it was loaded from, so `replay` can load it
again), hashes of the facts and of the decision, and the facts and the decision's bytes
themselves, exactly as served. The SQLite store (`sqlite.py`) is the embedded default; a
server database for several service instances implements the same `DecisionStore`.
"""
from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol


@dataclass(frozen=True)
class LoggedDecision:
    """One decision as the log keeps it. `decision` is the text served (a pretty JSON
    document, or one JSON line from a batch: `compact`); `facts` is the facts text as the
    caller sent it (JSON or YAML), read again the same way to replay; `pack_ref` is the
    bundled id or the pack directory the pack was loaded from."""

    id: str
    time: str
    caller: str
    patient_id: str
    month: str
    pack_id: str
    pack_version: str
    pack_sha256: str
    pack_ref: str
    facts_sha256: str
    decision_sha256: str
    trace: str
    compact: bool
    facts: str
    decision: str

    def summary(self) -> dict:
        """The row without the facts and the decision: what a listing shows."""
        return {"id": self.id, "time": self.time, "caller": self.caller, "patient_id": self.patient_id,
                "month": self.month, "pack": {"id": self.pack_id, "version": self.pack_version,
                                              "sha256": self.pack_sha256, "ref": self.pack_ref},
                "facts_sha256": self.facts_sha256, "decision_sha256": self.decision_sha256, "trace": self.trace}


def text_sha256(text: str) -> str:
    """sha256 of text as UTF-8: the decision hash a row records of the bytes served."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Query:
    """Which rows `DecisionStore.list` returns: newest first, after the filters."""

    patient_id: str | None = None
    month: str | None = None
    pack_id: str | None = None
    limit: int | None = 100


class DecisionStore(Protocol):
    """Where decisions are logged. `append` returns once the rows are durable enough to be
    read back by another process (the service calls it before it answers)."""

    def append(self, rows: Sequence[LoggedDecision]) -> None: ...

    def get(self, decision_id: str) -> LoggedDecision | None: ...

    def list(self, query: Query) -> list[LoggedDecision]: ...

    def scan(self) -> Iterator[LoggedDecision]:
        """Every row, oldest first, read lazily (for replay)."""
        ...

    def check_writable(self) -> None:
        """Raise OSError (or the store's own error) when an append would fail now."""
        ...

    def close(self) -> None: ...


def new_row(decision: dict, served: str, facts_text: str, *, caller: str, pack_ref: str, trace: str,
            compact: bool) -> LoggedDecision:
    """The row for a decision just made: `served` is its text as sent, `facts_text` the facts
    as the caller sent them, `pack_ref` where the deciding pack was loaded from."""
    pack = decision["pack"]
    return LoggedDecision(
        id=uuid.uuid4().hex, time=datetime.now(UTC).isoformat(timespec="microseconds"), caller=caller,
        patient_id=decision["patient_id"], month=decision["month"], pack_id=pack["id"], pack_version=pack["version"],
        pack_sha256=pack["sha256"], pack_ref=pack_ref, facts_sha256=decision["facts_sha256"],
        decision_sha256=text_sha256(served), trace=trace, compact=compact, facts=facts_text, decision=served)

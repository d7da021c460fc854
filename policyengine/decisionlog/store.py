"""What the decision log holds and the interface every store keeps.

A `LoggedDecision` is one row: who asked for which patient-month, the pack that decided
(its id, version, sha256 and the reference it was loaded from, so `replay` can load it
again), hashes of the facts and of the decision, the facts and the decision's bytes
themselves, exactly as served, and the row's place in the hash chain (`chain.py`). A
purge is a row too (`kind` "purge"), so the chain records it. The SQLite store
(`sqlite.py`) is the embedded default; PostgreSQL (`postgres.py`) serves several instances.
"""
from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, fields
from datetime import UTC, date, datetime, timedelta
from typing import Any, Protocol

DECISION = "decision"
PURGE = "purge"


@dataclass(frozen=True)
class LoggedDecision:
    """One row of the log. `decision` is the text served (a pretty JSON document, or one
    JSON line from a batch: `compact`); `facts` is the facts text as the caller sent it
    (JSON or YAML), read again the same way to replay; `pack_ref` is the bundled id or the
    pack directory the pack was loaded from; `lines` lists the decision's codes with their
    status (" CODE=billable CODE=not_met ", for search); `practitioner` is the billing
    practitioner's id (or NPI); `idempotency_key` is the caller's Idempotency-Key and
    `request_sha256` a hash of what was asked under it (to tell a retry from a reuse).
    `seq`, `prev_hash`, `row_hash` and `digests` are the chain's, set by the store when it
    appends the row."""

    seq: int
    kind: str
    id: str
    time: str
    caller: str
    patient_id: str
    month: str
    practitioner: str
    lines: str
    pack_id: str
    pack_version: str
    pack_sha256: str
    pack_ref: str
    facts_sha256: str
    decision_sha256: str
    trace: str
    compact: bool
    idempotency_key: str | None
    request_sha256: str | None
    facts: str
    decision: str
    prev_hash: str = ""
    row_hash: str = ""
    digests: str = ""

    def summary(self) -> dict:
        """The row without the facts and the decision: what a listing shows."""
        return {"seq": self.seq, "id": self.id, "time": self.time, "caller": self.caller,
                "patient_id": self.patient_id, "month": self.month, "practitioner": self.practitioner,
                "pack": {"id": self.pack_id, "version": self.pack_version, "sha256": self.pack_sha256,
                         "ref": self.pack_ref},
                "facts_sha256": self.facts_sha256, "decision_sha256": self.decision_sha256, "trace": self.trace,
                "row_hash": self.row_hash}

    def purge_record(self) -> dict:
        """What a purge row says it removed (its `decision` column)."""
        record: dict = json.loads(self.decision)
        return record


COLUMNS = tuple(f.name for f in fields(LoggedDecision))


@dataclass(frozen=True)
class DamagedRow:
    """A row whose `column` cannot be read (`problem` says why): what a store returns in
    place of a `LoggedDecision` it cannot read, so one damaged row never stops a listing."""

    seq: int | None
    id: str | None
    column: str
    problem: str


def text_sha256(text: str) -> str:
    """sha256 of text as UTF-8: the decision hash a row records of the bytes served."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Query:
    """Which decisions `DecisionStore.list` returns: newest first, after the filters.
    `code` and `status` match one line of the decision (`status` "billable" or a not-billable
    status); `since` and `until` bound the logged time (ISO text, compared as text: both
    normalized by `search.time_bounds`); `before_seq` is the cursor of the page before."""

    patient_id: str | None = None
    month: str | None = None
    pack_id: str | None = None
    practitioner: str | None = None
    code: str | None = None
    status: str | None = None
    since: str | None = None
    until: str | None = None
    before_seq: int | None = None
    limit: int | None = 100


def time_bound(text: str, upper: bool = False) -> str:
    """`since` or `until` as the `time` column compares (UTC ISO text): a date (YYYY-MM-DD)
    or an ISO date-time (without a zone: UTC). `since` includes its instant; `until` of a
    date includes that whole day, of a date-time that instant. ValueError names the form."""
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            instant = datetime(day.year, day.month, day.day, tzinfo=UTC) + (timedelta(days=1) if upper else timedelta())
        else:
            instant = datetime.fromisoformat(text.replace("Z", "+00:00"))
            instant = (instant if instant.tzinfo else instant.replace(tzinfo=UTC)).astimezone(UTC)
            instant += timedelta(microseconds=1) if upper else timedelta()
    except ValueError:
        raise ValueError(f"{text!r} is not a date (YYYY-MM-DD) or an ISO date-time") from None
    return instant.isoformat(timespec="microseconds")


#: the largest sequence number a log holds (both databases keep it as a signed 64-bit integer)
MAX_SEQ = 2**63 - 1


def parse_cursor(text: str) -> int:
    """The `before_seq` of a page's `next_cursor` (the seq of its last row, in decimal);
    ValueError for anything else, so a made-up cursor is the caller's mistake, not an
    integer the database cannot hold."""
    if not (text.isascii() and text.isdigit()) or int(text) > MAX_SEQ:
        raise ValueError("a cursor is the next_cursor (or the 'more:' line) a page before gave")
    return int(text)


@dataclass(frozen=True)
class Page:
    """One page of a search: the rows, and the cursor of the next page (None: the last)."""

    rows: list[LoggedDecision]
    next_cursor: str | None


@dataclass(frozen=True)
class Head:
    """The last row of the chain as the log records it: what an auditor keeps elsewhere."""

    seq: int
    row_hash: str

    def __str__(self) -> str:
        return f"{self.seq}:{self.row_hash}"


@dataclass(frozen=True)
class ChainInfo:
    """How a log's chain is made: `chain` ("sha256" or "hmac-sha256:KEYID"), its head, and
    the last row chained by a migration (rows up to it were hashed when the log was
    migrated, not when they were written)."""

    chain: str
    head: Head | None
    migrated_through: int


class DecisionStore(Protocol):
    """Where decisions are logged. `append` returns once the rows are durable enough to be
    read back by another process (the service calls it before it answers), chained after
    the rows before them."""

    location: str

    def append(self, rows: Sequence[LoggedDecision]) -> list[LoggedDecision]:
        """Chain and commit `rows`; the row kept for each (a retry's: the one logged first)."""
        ...

    def get(self, decision_id: str) -> LoggedDecision | DamagedRow | None: ...

    def find_retry(self, caller: str, idempotency_key: str) -> LoggedDecision | DamagedRow | None:
        """The decision logged for `caller` under this Idempotency-Key, if any."""
        ...

    def list(self, query: Query) -> Page: ...

    def count(self, query: Query | None = None) -> int:
        """How many decisions match `query` (every decision without one), on every page."""
        ...

    def scan(self) -> Iterator[LoggedDecision | DamagedRow]:
        """Every row, oldest first, read lazily (a `DamagedRow` for a row that cannot be read)."""
        ...

    def chain_info(self) -> ChainInfo: ...

    def purge(self, before: str, caller: str) -> LoggedDecision | None:
        """Remove the decisions logged before `before` (a prefix of the chain) and append the
        purge row that records it; None when there is nothing to remove."""
        ...

    def check_writable(self) -> None:
        """Raise OSError (or the store's own error) when an append would fail now."""
        ...

    def close(self) -> None: ...


def line_statuses(decision: dict) -> str:
    """The decision's codes and statuses as the `lines` column keeps them."""
    tokens = [f"{line['code']}=billable" for line in decision.get("billable", ())]
    tokens += [f"{line['code']}={line['status']}" for line in decision.get("not_billable", ())]
    return f" {' '.join(tokens)} "


def practitioner_of(facts: Any) -> str:
    """The billing practitioner's id (or NPI) in parsed facts, "" when the facts name none."""
    practitioner = facts.get("billing_practitioner") if isinstance(facts, dict) else None
    if not isinstance(practitioner, dict):
        return ""
    found = practitioner.get("id") or practitioner.get("npi") or ""
    return found if isinstance(found, str) else str(found)


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


def new_row(decision: dict, served: str, facts_text: str, *, caller: str, pack_ref: str, trace: str,
            compact: bool, practitioner: str = "", idempotency_key: str | None = None,
            request_sha256: str | None = None) -> LoggedDecision:
    """The row for a decision just made: `served` is its text as sent, `facts_text` the facts
    as the caller sent them, `pack_ref` where the deciding pack was loaded from. Its chain
    columns are the store's to fill."""
    pack = decision["pack"]
    return LoggedDecision(
        seq=0, kind=DECISION, id=uuid.uuid4().hex, time=now(), caller=caller, patient_id=decision["patient_id"],
        month=decision["month"], practitioner=practitioner, lines=line_statuses(decision), pack_id=pack["id"],
        pack_version=pack["version"], pack_sha256=pack["sha256"], pack_ref=pack_ref,
        facts_sha256=decision["facts_sha256"], decision_sha256=text_sha256(served), trace=trace, compact=compact,
        idempotency_key=idempotency_key, request_sha256=request_sha256, facts=facts_text, decision=served)


def purge_row(before: str, caller: str, removed: int, through: Head) -> LoggedDecision:
    """The row that records a purge: the rows through `through` (`removed` decisions logged
    before `before`) are gone; the first row kept links to `through.row_hash`."""
    record = {"purged_before": before, "removed": removed, "through_seq": through.seq,
              "through_hash": through.row_hash}
    text = json.dumps(record, sort_keys=True)
    return LoggedDecision(
        seq=0, kind=PURGE, id=uuid.uuid4().hex, time=now(), caller=caller, patient_id="", month="", practitioner="",
        lines="", pack_id="", pack_version="", pack_sha256="", pack_ref="", facts_sha256="",
        decision_sha256=text_sha256(text), trace="", compact=False, idempotency_key=None, request_sha256=None,
        facts="", decision=text)

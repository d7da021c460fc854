"""Walking the hash chain: every edit, deleted row, reordering, truncation and foreign row,
by row and column.

A row is checked on its own (`check_row`: its columns against the digests it was written
with, its hash against its place) and against the row before it (`ChainWalk`: numbered
one more, linked to its hash). The log's head is read before the rows and again after:
the row at the first must be the row it records, the log must reach it (else it was
truncated), and no row may lie past the second (else something other than the log added
it) — rows appended while the walk reads are neither. A head the auditor kept
(`--from-head`) must be in the log, and a log that starts after row 1 must carry the
purge that removed the rows before.
"""
from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator
from contextlib import suppress
from dataclasses import asdict, dataclass, field
from operator import attrgetter

from .chain import DIGESTED, GENESIS, ChainKey, changed_columns, chain_name, digests_of, row_hash
from .sql import LogError, SqlStore
from .store import PURGE, ChainInfo, DamagedRow, Head, LoggedDecision


_DIGESTED_VALUES = attrgetter(*DIGESTED)


@dataclass(frozen=True)
class Finding:
    """One thing wrong with the log: `kind` is edited, unreadable, foreign, gap, reordered,
    start, truncated, head or key; `seq`, `id` and `column` say where, when known."""

    kind: str
    message: str
    seq: int | None = None
    id: str | None = None
    column: str | None = None

    @property
    def about_the_chain(self) -> bool:
        """Whether this is about how rows link (a gap, an end, the key), not one row's columns."""
        return self.kind in ("gap", "reordered", "start", "truncated", "head", "key") or (
            self.kind == "foreign" and self.column is None)

    def render(self) -> str:
        where = "" if self.seq is None else f"row {self.seq}" + (f" (id {self.id})" if self.id else "") + ": "
        return f"{where}{self.message}"

    def as_json(self) -> dict:
        return {k: v for k, v in asdict(self).items() if v is not None}


def usable_key(info: ChainInfo, key: ChainKey | None, location: str) -> tuple[ChainKey | None, list[Finding]]:
    """The key to check row hashes with: refused when it is not the log's; a key given for
    an unkeyed log is a finding (the chain may have been rewritten without it)."""
    if info.chain == chain_name(key) or (key is None and info.chain == "sha256"):
        return key, []
    if info.chain == "sha256":
        return None, [Finding("key", "a key was given, but this log's chain has none: the chain was rehashed "
                                     "without its key, or the key belongs to another log")]
    if key is None:
        raise LogError(f"{location}: this log's chain is keyed ({info.chain}); give its key "
                       "(--key-file, or $POLICYENGINE_LOG_KEY)")
    raise LogError(f"{location}: the key given is not the key this log's chain was written with ({info.chain})")


def check_row(row: LoggedDecision | DamagedRow, key: ChainKey | None, keyed: bool = False) -> list[Finding]:
    """What is wrong with one row on its own. With a keyed chain and no key, only the
    digests can be checked."""
    if isinstance(row, DamagedRow):
        return [Finding("unreadable", f"column {row.column!r} {row.problem}", row.seq, row.id, row.column)]
    full = digests_of(_DIGESTED_VALUES(row))
    if not (keyed and key is None) and row_hash(key, row.seq, row.prev_hash, full) == row.row_hash:
        return []
    changed = changed_columns(row.digests, full)
    if changed is None:
        return [Finding("edited", "column 'digests' edited: not the digests the chain writes", row.seq, row.id,
                        "digests")]
    if changed:
        return [Finding("edited", f"column {column!r} edited: not the value the row was written with", row.seq, row.id,
                        column) for column in changed]
    if keyed and key is None:
        return []
    return [Finding("foreign", "the row's hash does not verify: a row not written by this log (or its row_hash "
                               "edited)", row.seq, row.id, "row_hash")]


@dataclass
class ChainWalk:
    """The chain walked row by row (`rows`), then closed (`finish`). `head` is the log's
    head as read before the rows."""

    key: ChainKey | None
    keyed: bool
    head: Head | None = None
    kept_head: Head | None = None
    findings: list[Finding] = field(default_factory=list)
    count: int = 0
    first: LoggedDecision | None = None
    last: LoggedDecision | None = None
    purges: list[dict] = field(default_factory=list)
    head_after: Head | None = None
    _expected: int | None = None

    def rows(self, scanned: Iterable[LoggedDecision | DamagedRow]) -> Iterator[tuple[LoggedDecision | DamagedRow, list[Finding]]]:
        """Each row with what is wrong with it (on its own and as a link); the link findings
        are also kept in `findings`."""
        for row in scanned:
            self.count += 1
            own = check_row(row, self.key, self.keyed)
            own += self._link(row)
            self.findings += own
            yield row, own

    def _link(self, row: LoggedDecision | DamagedRow) -> list[Finding]:
        found: list[Finding] = []
        seq = row.seq
        if seq is not None and self._expected is not None and seq > self._expected:
            missing = f"row {self._expected}" if seq == self._expected + 1 else f"rows {self._expected} to {seq - 1}"
            found.append(Finding("gap", f"{missing} missing (deleted): the chain goes from row {self._expected - 1} "
                                        f"to row {seq}", seq, row.id))
        elif isinstance(row, LoggedDecision) and self.last is not None and row.prev_hash != self.last.row_hash:
            found.append(Finding("reordered", f"does not follow row {self.last.seq}: rows reordered, or a row "
                                              "replaced or inserted", row.seq, row.id, "prev_hash"))
        for head, whose in ((self.head, "the log's head records"), (self.kept_head, "the head you kept names")):
            if head is not None and seq == head.seq and isinstance(row, LoggedDecision) and row.row_hash != head.row_hash:
                found.append(Finding("head", f"this row is not the row {whose}: the log was rewritten from here", seq,
                                     row.id, "row_hash"))
        if isinstance(row, LoggedDecision):
            if self.first is None and self.last is None:
                self.first = row
            if row.kind == PURGE:
                with suppress(ValueError):  # a purge record that cannot be read vouches for nothing
                    self.purges.append(row.purge_record())
            self.last = row
        else:
            self.last = None  # what follows an unreadable row cannot be linked to it
        self._expected = None if seq is None else seq + 1
        return found

    def finish(self, head_after: Head | None) -> list[Finding]:
        """The findings about the chain's ends, added to `findings`; `head_after` is the
        log's head read again once the rows are read."""
        self.head_after = head_after
        end = self._start() + self._end(head_after) + self._kept_head()
        self.findings += end
        return end

    def _start(self) -> list[Finding]:
        first = self.first
        if first is None or (first.seq == 1 and first.prev_hash == GENESIS):
            return []
        if first.seq == 1:
            return [Finding("start", "the first row does not start the chain", first.seq, first.id, "prev_hash")]
        for purge in self.purges:
            if purge.get("through_seq") == first.seq - 1 and purge.get("through_hash") == first.prev_hash:
                return []
        return [Finding("start", f"rows 1 to {first.seq - 1} missing at the start (deleted; no purge records it)",
                        first.seq, first.id)]

    def _end(self, after: Head | None) -> list[Finding]:
        last, before = self.last, self.head
        if before is None and after is None:
            if self.count:
                return [Finding("head", f"the log records no head, yet holds {self.count} row(s): its head was reset")]
            return []
        if last is None:
            recorded = before if before is not None else after
            return [Finding("truncated", f"the log records a head at row {recorded.seq if recorded else 0}, but no "
                                         "row can be read: every row deleted")] if self.count == 0 else []
        if before is not None and last.seq < before.seq:
            return [Finding("truncated", f"rows {last.seq + 1} to {before.seq} missing at the end (the log was "
                                         f"truncated; its head is row {before.seq})")]
        if after is None or last.seq > after.seq:
            head_seq = after.seq if after is not None else 0
            return [Finding("foreign", f"rows {head_seq + 1} to {last.seq} follow the log's head (row {head_seq}): "
                                       "added by something other than this log", last.seq, last.id)]
        return []

    def _kept_head(self) -> list[Finding]:
        kept = self.kept_head
        if kept is None:
            return []
        if self.last is None or kept.seq > self.last.seq:
            return [Finding("truncated", f"the head you kept (row {kept.seq}) is past the log's last row: "
                                         "rows were removed from the end")]
        if self.first is not None and kept.seq < self.first.seq:
            if any(p.get("through_seq") == kept.seq and p.get("through_hash") == kept.row_hash for p in self.purges):
                return []
            if any(isinstance(p.get("through_seq"), int) and p["through_seq"] >= kept.seq for p in self.purges):
                return []  # purged since it was kept; the purge's own row is in the chain
            return [Finding("truncated", f"the head you kept (row {kept.seq}) is no longer in the log and no purge "
                                         "removed it")]
        return []


def walk_log(store: SqlStore, key: ChainKey | None, keyed: bool, kept_head: Head | None = None) -> ChainWalk:
    """The whole chain walked in one snapshot: the head read, every row checked, the head
    read again (the same head, unless the store cannot hold a snapshot)."""
    with store.snapshot():
        walk = ChainWalk(key, keyed, store.chain_info().head, kept_head)
        deque(walk.rows(store.scan()), maxlen=0)
        walk.finish(store.chain_info().head)
    return walk


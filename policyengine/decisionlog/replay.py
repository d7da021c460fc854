"""Replaying the log: each logged decision decided again with the pack it records (loaded
again from the same reference, so a pack file changed since is the changed pack) and its
options and trace form, then compared with the bytes that were served.

The comparison is `policyengine.explain.verify`'s: a decision that does not reproduce
comes with the causes verify finds (pack, facts or engine changed, or the logged decision
was edited) and the JSON pointers that differ. The chain is walked as the rows are read:
a row the chain says was tampered with is reported damaged and not decided again (its
facts and pack cannot be trusted to be what was decided), and gaps and truncation are
findings of the replay too.
"""
from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from ..diagnostics import DiagnosticError
from ..explain.verify import VerifyInputError, verify_decision
from ..facts import parse_facts_text
from ..packs import load_pack
from .sql import SqlStore
from .store import DECISION, DamagedRow, LoggedDecision
from .verify import ChainWalk, Finding


@dataclass(frozen=True)
class Replayed:
    """One logged decision decided again: `reproduced` when the bytes are the same."""

    row: LoggedDecision | DamagedRow
    reproduced: bool
    causes: list[dict] = field(default_factory=list)
    differences: list[str] = field(default_factory=list)
    error: str | None = None
    damage: list[Finding] = field(default_factory=list)

    def as_json(self) -> dict:
        if isinstance(self.row, DamagedRow) or self.damage:
            return {"seq": self.row.seq, "id": self.row.id, "reproduced": False, "damaged": True,
                    "findings": [finding.as_json() for finding in self.damage]}
        out = {"id": self.row.id, "patient_id": self.row.patient_id, "month": self.row.month,
               "pack": {"id": self.row.pack_id, "ref": self.row.pack_ref}, "reproduced": self.reproduced}
        if not self.reproduced:
            out.update(causes=self.causes, differences=self.differences)
            if self.error is not None:
                out["error"] = self.error
        return out

    def render(self) -> str:
        if isinstance(self.row, DamagedRow) or self.damage:
            return "\n".join([f"LOG DAMAGED     row {self.row.seq} (id {self.row.id})",
                              *(f"  {finding.message}" for finding in self.damage)])
        head = f"{self.row.id}  {self.row.patient_id}  {self.row.month}  {self.row.pack_id} ({self.row.pack_ref})"
        if self.reproduced:
            return f"reproduced      {head}"
        lines = [f"DOES NOT REPRODUCE  {head}"]
        if self.error is not None:
            lines.append(f"  cannot decide again: {self.error}")
        lines += [f"  {cause['cause']}: {cause['message']}" for cause in self.causes]
        if self.differences:
            more = len(self.differences) - 8
            shown = ", ".join(self.differences[:8]) + (f" and {more} more" if more > 0 else "")
            lines.append(f"  differs at {shown}")
        return "\n".join(lines)


def replay_one(row: LoggedDecision) -> Replayed:
    """Decide `row` again and compare. A pack that no longer loads, or facts or options it
    now refuses, is a decision that does not reproduce (with the error), not a failure."""
    try:
        pack = load_pack(row.pack_ref)
        facts = parse_facts_text(row.facts, f"log:{row.id}/facts")
        result = verify_decision(json.loads(row.decision), facts, pack, None if row.compact else row.decision)
    except (DiagnosticError, VerifyInputError) as error:
        return Replayed(row, False, error=str(error).splitlines()[0])
    reproduced = result.verified and result.byte_identical
    return Replayed(row, reproduced, result.causes, [d["pointer"] for d in result.differences])


def replay_checked(row: LoggedDecision | DamagedRow, damage: list[Finding]) -> Replayed:
    """`replay_one` for a row the chain vouches for; a damaged row is reported as such."""
    if isinstance(row, DamagedRow) or damage:
        return Replayed(row, False, damage=damage)
    return replay_one(row)


def replay(store: SqlStore, walk: ChainWalk, ids: Iterable[str] = ()) -> Iterator[Replayed]:
    """Every logged decision (or only those in `ids`) replayed, lazily, oldest first, while
    `walk` checks the chain over every row (call `walk.finish` after)."""
    wanted = set(ids)
    for row, damage in walk.rows(store.scan()):
        if isinstance(row, LoggedDecision) and (row.kind != DECISION or (wanted and row.id not in wanted)):
            continue
        if isinstance(row, DamagedRow) and wanted and row.id not in wanted:
            continue
        yield replay_checked(row, [finding for finding in damage if not finding.about_the_chain])

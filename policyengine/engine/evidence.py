"""Evidence: the facts records behind a finding or a denied line, as JSON pointers.

A pack's evidence expression gives records of the facts (a record, or a list of them); a
decision names each by its pointer. A finding whose evidence the pack's analysis traces to
one facts list is pointed at by index in that list; any other record is found by identity
among the records of the facts' lists and the facts' own objects (`/device`).
"""
from __future__ import annotations

from typing import Any

from .. import pointers
from ..packs.model import Rule
from .evaluation import Run
from .resolve import BilledWith, Blocked, Outcome
from .state import Evaluated


class Evidence:
    """The pointers of one decision's evidence (each facts list indexed once, when asked)."""

    def __init__(self, run: Run, state: Evaluated) -> None:
        self.run, self.state = run, state
        self._indexes: dict[str, dict[int, int]] = {}
        self._objects: dict[int, str] | None = None

    def pointers(self, records: Any, listed: str | None = None) -> list[str]:
        """The JSON pointers of facts records: by their index in the facts list `listed`
        they come from, when the pack's analysis knows it; else by identity (the facts' own
        objects first, then every record of their lists)."""
        records = records if isinstance(records, list) else [records]
        if listed is None:
            objects = self._top_level_objects()
            found = [pointers.join("", key) if (key := objects.get(id(r))) is not None
                     else self.state.fact_pointers.get(id(r)) for r in records]  # every record indexed only if asked
            return [at for at in found if at is not None]
        index = self._indexes.get(listed)
        if index is None:
            facts_list = (self.state.facts or {}).get(listed) or ()
            index = self._indexes[listed] = {id(item): i for i, item in enumerate(facts_list)}
        at = pointers.join("", listed)
        return [pointers.join(at, index[id(r)]) for r in records if id(r) in index]

    def _top_level_objects(self) -> dict[int, str]:
        """The facts' own objects (`/device`), by id: their keys."""
        if self._objects is None:
            facts = self.state.facts or {}
            self._objects = {id(value): key for key, value in facts.items() if isinstance(value, dict)}
        return self._objects

    def of_line(self, outcome: Outcome) -> list[str]:
        """What shows the cause of a denied line: the code billed elsewhere, or the records
        of a blocked condition's evidence."""
        cause = outcome.cause
        if isinstance(cause, BilledWith):
            return [cause.other.pointer]
        if isinstance(cause, Blocked):
            return self.of_blocker(outcome.rule, cause.index)
        return []

    def of_blocker(self, rule: Rule, index: int) -> list[str]:
        """The records of a rule's blocked condition's evidence (none when it names none)."""
        blocker = rule.blocked[index]
        if blocker.evidence is None:
            return []
        slot = rule.slots.blocked_evidence[index]
        records = self.run.compute(slot, blocker.evidence, rule.code)
        return self.pointers(records, self.run.pack.analysis.evidence_lists.get(slot))

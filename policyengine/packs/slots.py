"""Slots: the name of each expression of a pack, as traces and explanations refer to it.

A slot says what an expression is for: `definition:countable_time`, `gate:consent.documented`,
`rule:<rule id>:when`, `rule:<rule id>:blocked:1`,
`finding:time.em_visit`. The compact trace is a list of values aligned with the pack's
traced slots, a full trace names each entry by its slot, and explanations find an entry by
its slot (`CompiledPack.slot_named`): the text of a slot is written here, nowhere else.
"""
from __future__ import annotations

from dataclasses import dataclass, field

DEFINITION = "definition"
GATE = "gate"
RULE = "rule"
FINDING = "finding"
CODE = "code"
PACK = "pack"

#: values a decision needs but does not trace: rates, an opportunity's figures, evidence,
#: what a finding's definitions would be once the record is complete
UNTRACED_PARTS = ("rvu", "missing", "by", "evidence", "conversion_factor", "if_documented")


@dataclass(frozen=True, slots=True, eq=False)
class Slot:
    kind: str
    owner: str
    part: str | None = None
    index: int | None = None
    text: str = field(default="", repr=False)

    def __post_init__(self) -> None:
        pieces = [self.kind, self.owner] if self.kind != PACK else [self.owner]
        if self.part is not None:
            pieces.append(self.part)
        if self.index is not None:
            pieces.append(str(self.index))
        object.__setattr__(self, "text", ":".join(pieces))

    def __str__(self) -> str:
        return self.text

    # A slot is its text (one text per slot): equal and hashed by it, which costs one
    # cached string hash where the engine records a value against a slot.
    def __eq__(self, other: object) -> bool:
        return isinstance(other, Slot) and other.text == self.text

    def __hash__(self) -> int:
        return hash(self.text)

    @property
    def traced(self) -> bool:
        """Whether traces record this slot's value (rates, evidence and an opportunity's
        figures are computed, not traced)."""
        return self.kind in (DEFINITION, GATE, RULE, FINDING) and self.part not in UNTRACED_PARTS


def definition_slot(name: str) -> Slot:
    return Slot(DEFINITION, name)


def gate_slot(gate_id: str) -> Slot:
    return Slot(GATE, gate_id)


def rule_slot(rule_id: str, part: str, index: int | None = None) -> Slot:
    return Slot(RULE, rule_id, part, index)


def finding_slot(finding_id: str, part: str | None = None, index: int | None = None) -> Slot:
    return Slot(FINDING, finding_id, part, index)


def code_slot(code: str) -> Slot:
    return Slot(CODE, code, "rvu")


CONVERSION_FACTOR = Slot(PACK, "conversion_factor")

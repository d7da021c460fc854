"""Where facts came from (`provenance`: a JSON pointer into the facts -> source records).

No rule reads provenance; a decision's trace repeats it for the auditor. So the one thing to
check is that every pointer names a value the facts hold: a source pinned to nothing would
send an auditor to records behind a fact that is not there.
"""
from __future__ import annotations

from ..diagnostics import Diagnostic
from ..pointers import join, resolves


def provenance_errors(facts: dict) -> list[Diagnostic]:
    """One error per provenance pointer that names no value in the facts."""
    return [Diagnostic("facts.provenance_dangling", f"{at} names no value in these facts",
                       where=join("/provenance", at), hint="a provenance key is the JSON pointer of the fact it explains")
            for at in facts.get("provenance") or {} if at.split("/")[1:2] == ["provenance"] or not resolves(facts, at)]

"""Where facts came from (`provenance`: a JSON pointer into the facts -> source records).

No rule reads provenance; a decision's trace repeats it for the auditor. So the one thing to
check is that every pointer names a value the facts hold: a source pinned to nothing would
send an auditor to records behind a fact that is not there.
"""
from __future__ import annotations

from typing import Any

from ..diagnostics import Diagnostic
from ..pointers import join, tokens


def provenance_errors(facts: dict) -> list[Diagnostic]:
    """One error per provenance pointer that names no value in the facts."""
    return [Diagnostic("facts.provenance_dangling", f"{at} names no value in these facts",
                       where=join("/provenance", at), hint="a provenance key is the JSON pointer of the fact it explains")
            for at in facts.get("provenance") or {} if not _names_value(facts, at)]


def _names_value(facts: dict, at: str) -> bool:
    node: Any = facts
    parts = tokens(at)
    if parts[:1] == ["provenance"]:
        return False
    for part in parts:
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and (part == "0" or not part.startswith("0")) and int(part) < len(node):
            node = node[int(part)]
        else:
            return False
    return True

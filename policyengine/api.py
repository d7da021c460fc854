"""The Python API billing systems call: one function per job."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from .engine.decide import decide
from .engine.tracing import Tracer
from .engine.values import compact_json, pretty_json
from .diagnostics import Diagnostic, DiagnosticError
from .facts import check_facts, check_with_schema
from .lang.runtime import last_day
from .packs import CompiledPack, load_pack, pack_for_month


def evaluate(facts: dict, pack: CompiledPack | str | Path | None = None, options: dict[str, Any] | None = None,
             trace: str = "compact", tracer: Tracer | None = None) -> dict:
    """The decision for one patient-month.

    `pack`: a compiled pack, a pack directory or a bundled id; by default the bundled pack
    effective in the facts' month. Raises DiagnosticError for invalid facts, an unknown
    option or a month no pack covers. Unknown keys in the facts become warning findings.
    """
    if pack is None:
        checked = check_facts(facts)
        compiled = pack_for_month(checked.data["month"])
    else:
        compiled = pack if isinstance(pack, CompiledPack) else load_pack(pack)
        checked = check_facts(facts) if compiled.facts_schema is None else check_with_schema(facts, compiled.facts_schema)
        if not compiled.covers(last_day(checked.data["month"])):
            raise DiagnosticError([Diagnostic(
                "facts.pack_not_effective", f"pack {compiled.id} is effective {compiled.effective_from} to "
                f"{compiled.effective_to}, not in {checked.data['month']}", where="/month",
                hint="name the pack for that year, or leave --pack out to use the bundled one")])
    decision = decide(compiled, checked.data, options, trace, tracer)
    for warning in checked.warnings:
        decision["findings"].append({"id": "facts.unknown_field", "severity": "warning",
                                     "message": warning.message, "evidence": [warning.where]})
    return decision


def to_json(decision: dict, pretty: bool = True) -> str:
    """The canonical serialization: same decision, same bytes. `pretty=False` gives one
    line (JSON Lines), several times faster to write."""
    if pretty:
        return pretty_json(decision) + "\n"
    return compact_json(decision) + "\n"

"""Our engine in the peer harness: the harness's workload as a YAML pack (../pack), loaded
and evaluated through the public API. The engine filters and sums; nothing is precomputed.

`evaluate(record)` is `policyengine.evaluate(record, pack, trace=...)`: the record is checked
against the pack's facts schema, decided, and the whole decision returned (billable and
not-billable lines with reasons, findings, sha256 of the facts, and the trace when asked).
`normalize` reads the workload's five outputs back out of that decision.
"""
from __future__ import annotations

import os
from decimal import Decimal
from pathlib import Path

from workload import canonical

#: The pack directory; run_peers.py sets it (the adapter runs from a copy of the harness).
PACK_DIR = os.environ.get("POLICYENGINE_PEERS_PACK", str(Path(__file__).resolve().parent.parent / "pack"))

def make_setup(trace: str, serialised: bool = False):
    """`serialised`: each decision is also written as its JSON line, the cost an auditor
    who keeps full traces pays (the decision is returned for the output check)."""
    def setup():
        import policyengine

        pack = policyengine.load_pack(PACK_DIR)
        evaluate, to_json = policyengine.evaluate, policyengine.to_json

        def run(record):
            return evaluate(record, pack, None, trace)

        def run_serialised(record):
            decision = evaluate(record, pack, None, trace)
            to_json(decision, pretty=False)
            return decision

        return run_serialised if serialised else run

    return setup


def outputs(decision: dict) -> tuple:
    """(rpm_seconds, bill_99454, bill_99457, units_99458, amount) from a decision without a
    trace: the line of 0001T, which never bills, states rpm_seconds as its `actual`."""
    billed = {line["code"]: line for line in decision["billable"]}
    rpm_seconds = next(line["actual"] for line in decision["not_billable"] if line["code"] == "0001T")
    units = billed["99458"]["units"] if "99458" in billed else 0
    return canonical(rpm_seconds, "99454" in billed, "99457" in billed, units, Decimal(decision["total"]))


_SLOTS: dict[str, int] = {}


def traced_outputs(decision: dict) -> tuple:
    """The five outputs, with the trace checked against the decision (as the harness does
    for every traced peer): compact values or full entries by slot."""
    trace = decision["trace"]
    if trace["form"] == "compact":
        if not _SLOTS:
            import policyengine

            _SLOTS.update({str(slot): k for k, slot in enumerate(policyengine.load_pack(PACK_DIR).trace_slots)})
        values = {slot: trace["values"][k] for slot, k in _SLOTS.items()}
    else:
        values = {entry["slot"]: entry["value"] for entry in trace["entries"]}
    result = outputs(decision)
    billed = {line["code"]: line for line in decision["billable"]}
    units = values.get("rule:units_99458:units") if values["rule:units_99458:when"] and "99457" in billed else 0
    traced = canonical(values["definition:rpm_seconds"], bool(values["rule:bill_99454:when"]),
                       bool(values["rule:bill_99457:when"]), units or 0, result[4])
    if traced != result:
        raise AssertionError(f"trace does not match decision: {traced!r} vs {result!r}")
    return result

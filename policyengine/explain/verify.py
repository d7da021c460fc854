"""Re-deriving a decision from its facts and pack, and saying exactly what differs.

`verify_decision` evaluates the facts again with the pack the decision names (the bundled
pack with that id, or the one given), the options the decision records and the decision's
trace form, then compares the two decisions as canonical JSON. Each difference is a JSON
pointer into the decision; the causes say why: the facts changed (their sha256), the pack
changed (its sha256, and where the trace allows it, which parameter value or rule
expression), the engine version changed, or none of these did and the result itself
differs (the decision file was edited after it was made).
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from .. import pointers
from ..api import evaluate, to_json
from ..engine.recorded import full_trace, traced_entries
from ..packs import CompiledPack, bundled_ids, load_pack


class VerifyInputError(Exception):
    """The decision cannot be verified at all (not a decision, no such pack)."""


@dataclass
class Verification:
    verified: bool
    byte_identical: bool
    differences: list[dict] = field(default_factory=list)
    causes: list[dict] = field(default_factory=list)
    pack: dict = field(default_factory=dict)

    def as_json(self) -> dict:
        return {"verified": self.verified, "byte_identical": self.byte_identical, "pack": self.pack,
                "causes": self.causes, "differences": self.differences}


def json_diff(old: Any, new: Any, pointer: str = "") -> list[dict]:
    """Every JSON pointer at which `old` and `new` differ, deepest first found, in document order."""
    if isinstance(old, dict) and isinstance(new, dict):
        out: list[dict] = []
        for key in list(old) + [k for k in new if k not in old]:
            where = pointers.join(pointer, key)
            if key not in new:
                out.append({"pointer": where, "change": "removed", "recorded": old[key]})
            elif key not in old:
                out.append({"pointer": where, "change": "added", "rederived": new[key]})
            else:
                out.extend(json_diff(old[key], new[key], where))
        return out
    if isinstance(old, list) and isinstance(new, list):
        out = []
        for i in range(max(len(old), len(new))):
            where = f"{pointer}/{i}"
            if i >= len(new):
                out.append({"pointer": where, "change": "removed", "recorded": old[i]})
            elif i >= len(old):
                out.append({"pointer": where, "change": "added", "rederived": new[i]})
            else:
                out.extend(json_diff(old[i], new[i], where))
        return out
    if type(old) is not type(new) or old != new:
        return [{"pointer": pointer or "/", "change": "changed", "recorded": old, "rederived": new}]
    return []


def check_decision_shape(decision: Any) -> None:
    if not isinstance(decision, dict):
        raise VerifyInputError("the decision is not a JSON object")
    for key in ("patient_id", "month", "pack", "engine", "facts_sha256", "options"):
        if key not in decision:
            raise VerifyInputError(f"the decision has no '{key}' (is it a decision made by policyengine evaluate?)")
    pack = decision["pack"]
    if not isinstance(pack, dict) or not isinstance(pack.get("id"), str) or not isinstance(pack.get("sha256"), str):
        raise VerifyInputError("the decision's /pack names no id and sha256")
    if not isinstance(decision["options"], dict):
        raise VerifyInputError("the decision's /options is not an object")


def pack_for_decision(decision: dict, pack_ref: str | None = None) -> CompiledPack:
    """The pack a decision names: `pack_ref` if given, else the bundled pack with its id."""
    if pack_ref is not None:
        return load_pack(pack_ref)
    pack_id = decision["pack"]["id"]
    if pack_id not in bundled_ids():
        raise VerifyInputError(f"pack '{pack_id}' is not bundled; give it with --pack "
                               f"(bundled: {', '.join(bundled_ids())})")
    return load_pack(pack_id)


def trace_form(decision: dict) -> str:
    trace = decision.get("trace")
    return trace.get("form", "none") if isinstance(trace, dict) else "none"


def _recorded_parameters(decision: dict) -> dict[str, dict] | None:
    """Each parameter a full trace read, by name (the dated value in force where read)."""
    trace = full_trace(decision)
    return {p["name"]: p for p in trace.get("parameters", ())} if trace is not None else None


def _recorded_expressions(decision: dict) -> dict[str, str] | None:
    trace = full_trace(decision)
    return {slot: e.expression for slot, e in traced_entries(trace, None).items()} if trace is not None else None


def _pack_changes(decision: dict, rederived: dict, pack: CompiledPack) -> list[dict]:
    """What changed in the pack, as far as the recorded trace shows it: a parameter both
    decisions read with another value (or another dated value), an expression rewritten."""
    changes: list[dict] = []
    old_params, new_params = _recorded_parameters(decision), _recorded_parameters(rederived)
    if old_params is not None and new_params is not None:
        for name in sorted(set(old_params) & set(new_params)):
            old, new = old_params[name], new_params[name]
            if (old["effective"], old["value"]) != (new["effective"], new["value"]):
                changes.append({"parameter": name, "effective": new["effective"], "recorded": old["value"],
                                "now": new["value"]})
    old_expr, new_expr = _recorded_expressions(decision), _recorded_expressions(rederived)
    if old_expr is not None and new_expr is not None:
        for slot in list(old_expr) + [s for s in new_expr if s not in old_expr]:
            if old_expr.get(slot) != new_expr.get(slot):
                changes.append({"slot": slot, "recorded": old_expr.get(slot), "now": new_expr.get(slot)})
    trace = decision.get("trace")
    if isinstance(trace, dict) and trace.get("form") == "compact":
        recorded_slots = len(trace.get("values", ()))
        if recorded_slots != len(pack.trace_slots):
            changes.append({"slots": "rule table", "recorded": recorded_slots, "now": len(pack.trace_slots)})
    return changes


def verify_decision(decision: Any, facts: dict, pack: CompiledPack | None = None,
                    recorded_text: str | None = None) -> Verification:
    """Re-derive `decision` from `facts` and confirm it, or say what differs and why.

    Raises VerifyInputError for something that is not a decision, and DiagnosticError
    (from the engine) for invalid facts or options the pack does not declare."""
    check_decision_shape(decision)
    if pack is None:
        pack = pack_for_decision(decision)
    form = trace_form(decision)
    if form not in ("none", "compact", "full"):
        raise VerifyInputError(f"the decision's trace form '{form}' is not none, compact or full")
    rederived = evaluate(facts, pack, dict(decision["options"]), form)
    rederived_text = to_json(rederived)
    recorded = json.loads(json.dumps(decision))
    differences = json_diff(recorded, rederived)
    byte_identical = recorded_text == rederived_text if recorded_text is not None else to_json(recorded) == rederived_text
    causes: list[dict] = []
    if decision["facts_sha256"] != rederived["facts_sha256"]:
        causes.append({"cause": "facts_changed", "message": "the facts are not the ones this decision was made from",
                       "recorded": decision["facts_sha256"], "now": rederived["facts_sha256"]})
    if decision["pack"].get("sha256") != pack.sha256:
        recorded_pack = decision["pack"]
        causes.append({"cause": "pack_changed",
                       "message": f"pack {pack.id} {pack.version} (sha256 {pack.sha256[:12]}) is not the content this "
                                  f"decision was made with: {recorded_pack.get('id')} {recorded_pack.get('version')} "
                                  f"(sha256 {str(recorded_pack.get('sha256'))[:12]})",
                       "recorded": decision["pack"].get("sha256"), "now": pack.sha256,
                       "changes": _pack_changes(decision, rederived, pack)})
    recorded_engine = decision["engine"].get("version") if isinstance(decision["engine"], dict) else decision["engine"]
    if recorded_engine != rederived["engine"]["version"]:
        causes.append({"cause": "engine_changed", "message": "a different engine version made this decision",
                       "recorded": recorded_engine, "now": rederived["engine"]["version"]})
    if differences and not causes:
        causes.append({"cause": "result_changed",
                       "message": "same facts, pack and engine, yet the recorded decision differs from the "
                                  "re-derived one: the decision was edited after it was made",
                       "pointers": [d["pointer"] for d in differences]})
    identity = {"id": pack.id, "version": pack.version, "sha256": pack.sha256}
    return Verification(not differences, byte_identical, differences, causes, identity)


def render_verification(result: Verification, limit: int = 40) -> str:
    """The verification for a person: verdict, causes, then the differing pointers."""
    if result.verified:
        how = "byte for byte" if result.byte_identical else "same content (the file's layout differs)"
        return (f"verified: the decision re-derives {how} with pack {result.pack['id']} "
                f"{result.pack['version']} (sha256 {result.pack['sha256'][:12]})\n")
    lines = [f"DOES NOT VERIFY: {len(result.differences)} difference(s)"]
    for cause in result.causes:
        lines.append(f"  {cause['cause']}: {cause['message']}")
        if "recorded" in cause:
            lines.append(f"    recorded {cause['recorded']}, now {cause['now']}")
        for change in cause.get("changes", ()):
            what = (f"parameter {change['parameter']} from {change['effective']}" if "parameter" in change
                    else change.get("slot") or change.get("slots"))
            lines.append(f"    changed {what}: {json.dumps(change['recorded'])} -> {json.dumps(change['now'])}")
    lines.append("differences (JSON pointers into the decision):")
    for diff in result.differences[:limit]:
        if diff["change"] == "changed":
            lines.append(f"  {diff['pointer']}: recorded {_short(diff['recorded'])}, re-derived {_short(diff['rederived'])}")
        else:
            lines.append(f"  {diff['pointer']}: {diff['change']}")
    if len(result.differences) > limit:
        lines.append(f"  ... and {len(result.differences) - limit} more (--format json lists all)")
    return "\n".join(lines) + "\n"


def _short(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 60 else text[:57] + "..."


__all__ = ["Verification", "VerifyInputError", "json_diff", "pack_for_decision", "render_verification",
           "verify_decision"]

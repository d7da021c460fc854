"""Recording what a decision used: the compact and full trace forms.

The tracer is chosen once per decision, so the untraced path is a plain evaluate call.
- compact: one value per slot of the pack's rule table (`CompiledPack.trace_slots`),
  None where nothing was evaluated; the pack's sha256 identifies the table.
- full: per evaluated slot, the expression, its value, the value of each of its parts
  and the facts it read (JSON pointers), plus every parameter in force with its date,
  citation and confidence.
"""
from __future__ import annotations

from typing import Any

from ..lang import NOT_EVALUATED, CompiledExpression
from ..packs.compiler import CompiledPack
from .ledger import filters, pointers_by_identity
from .values import compact, to_json_value


def _source_text(node) -> str:
    span = node.span
    return " ".join(span.source.text[span.start:span.end].split())


class Tracer:
    def __init__(self, pack: CompiledPack, form: str) -> None:
        self.pack = pack
        self.form = form
        self.values: list[Any] = [None] * len(pack.trace_slots) if form == "compact" else []
        self.entries: list[dict] = []
        self.known_pointers: dict[int, str] | None = None

    @property
    def watches_each_evaluation(self) -> bool:
        """Whether every expression must go through `eval` (else definitions may run at once)."""
        return self.form == "full"

    def note(self, slot: str, value: Any) -> None:
        """Record a value computed elsewhere (definitions run together)."""
        if self.form == "compact":
            self.values[self.pack.slot_index[slot]] = compact(value)

    def compute(self, expression: CompiledExpression, args: tuple) -> Any:
        """A value the decision needs but does not trace (a rate, evidence, an opportunity's
        figures); a hook for tools that watch every evaluation, such as test coverage."""
        return expression.evaluate(*args)

    def eval(self, slot: str, expression: CompiledExpression, args: tuple) -> Any:
        if self.form != "full":
            result = expression.evaluate(*args)
            if self.form == "compact":  # the slot's value only: the fast path suffices
                self.values[self.pack.slot_index[slot]] = compact(result)
            return result
        traced = expression.trace(*args)
        parts = [{"expr": _source_text(node), "value": to_json_value(value)}
                 for node, value in zip(expression.nodes[1:], traced.values[1:])
                 if value is not NOT_EVALUATED and node.span is not None]
        entry = {"slot": slot, "expression": " ".join(expression.text.split()),
                 "value": to_json_value(traced.result), "parts": parts, "reads": traced.reads}
        if self.known_pointers is None:
            self.known_pointers = pointers_by_identity(args[0])
        kept_and_dropped = filters(expression, traced, self.known_pointers)
        if kept_and_dropped:
            entry["filters"] = kept_and_dropped
        self.entries.append(entry)
        return traced.result

    def output(self) -> dict:
        if self.form == "none":
            return {"form": "none"}
        if self.form == "compact":
            return {"form": "compact", "pack_sha256": self.pack.sha256, "values": self.values}
        return {"form": "full", "entries": self.entries, "parameters": self._parameters()}

    def _parameters(self) -> list[dict]:
        used = []
        for name, parameter in self.pack.parameters.items():
            for day, value, citation, confidence in parameter.values:
                used.append({"name": name, "effective": day, "value": to_json_value(value),
                             "citation": citation, "confidence": confidence})
        return used

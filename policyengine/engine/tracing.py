"""Recording what a decision used: no trace, the compact form and the full form.

The tracer is chosen once per decision. Without a full trace, the pack's program
(`program.py`) evaluates definitions, gates, rules and finding conditions in one call;
step by step, every expression goes through `evaluate(slot, expression, args, day)`.
Values the decision needs but does not trace (rates, an opportunity's figures, evidence)
go through `compute`.
- none: nothing recorded.
- compact: one value per slot of the pack's rule table (`CompiledPack.trace_slots`),
  None where nothing was evaluated, stored by the compact program; the pack's sha256
  identifies the table.
- full (step by step): per evaluated slot, the expression, its value, the value of each of its parts (by
  node number), the facts it read (JSON pointers) and, per filter, each item kept or
  dropped and the condition that dropped it; the parameters actually read, each with the
  dated value in force; the dates of service; the codes billed elsewhere.
Both traces carry the facts' provenance, when they have any, under `sources`.
"""
from __future__ import annotations

from typing import Any

from ..lang import NOT_EVALUATED, CompiledExpression, Recording
from ..packs.model import CompiledPack
from ..packs.slots import Slot
from ..pointers import document_order
from .filters import filters, pointers_by_identity
from .state import Evaluated
from .values import SharedJson, compact, to_json_value

TRACE_FORMS = ("none", "compact", "full")


class Tracer:
    """No trace: expressions are evaluated and nothing is kept."""

    form = "none"
    #: the pack's program that evaluates for this tracer in one call (`program.py`: none or
    #: compact), or None to evaluate step by step through `evaluate`
    program: str | None = "none"
    #: where the compact program stores the values, aligned with `pack.trace_slots`
    values: list[Any] | None = None

    def __init__(self, pack: CompiledPack) -> None:
        self.pack = pack

    def evaluate(self, slot: Slot, expression: CompiledExpression, args: tuple, day: str) -> Any:
        return expression.evaluate(*args)

    def compute(self, expression: CompiledExpression, args: tuple, day: str) -> Any:
        """A value the decision needs but does not trace; a hook for tools that watch
        every evaluation, such as test coverage."""
        return expression.evaluate(*args)

    def output(self, state: Evaluated) -> dict:
        return {"form": "none"}


class CompactTracer(Tracer):
    form = "compact"
    program = "compact"

    def __init__(self, pack: CompiledPack) -> None:
        super().__init__(pack)
        self.values: list[Any] = [None] * len(pack.trace_slots)

    def evaluate(self, slot: Slot, expression: CompiledExpression, args: tuple, day: str) -> Any:
        """A traced value evaluated after the program (an opportunity's condition)."""
        result = expression.evaluate(*args)
        self.values[self.pack.slot_text_index[slot.text]] = compact(result)
        return result

    def output(self, state: Evaluated) -> dict:
        return with_sources({"form": "compact", "pack_sha256": self.pack.sha256, "values": self.values}, state)


class FullTracer(Tracer):
    """Records each evaluation's full reading (the compiled recording function: no second
    evaluation) and renders the entries only when the decision is assembled."""

    form = "full"
    program = None

    def __init__(self, pack: CompiledPack) -> None:
        super().__init__(pack)
        #: (slot, expression, recording) per evaluation, in order
        self.recorded: list[tuple[Slot, CompiledExpression, Recording]] = []
        #: (parameter, date of service) of every parameter read, in first-read order
        self.read: dict[tuple[str, str], None] = {}
        self.facts: dict | None = None

    def evaluate(self, slot: Slot, expression: CompiledExpression, args: tuple, day: str) -> Any:
        recording = expression.record(*args)  # its errors come located
        self._parameters_read(expression, recording, day)
        self.recorded.append((slot, expression, recording))
        self.facts = args[0]
        return recording.result

    def compute(self, expression: CompiledExpression, args: tuple, day: str) -> Any:
        recording = expression.record(*args)
        self._parameters_read(expression, recording, day)
        return recording.result

    def _parameters_read(self, expression: CompiledExpression, recording: Recording, day: str) -> None:
        for k, name in expression.parameter_nodes:
            if recording.values[k] is not NOT_EVALUATED:
                self.read[(name, day)] = None

    def output(self, state: Evaluated) -> dict:
        return with_sources({"form": "full", "entries": self._entries(), "parameters": self._parameters(),
                             "service_dates": dict(state.service_dates),
                             "billed_elsewhere": [item.as_json() for item in state.elsewhere]}, state)

    def _entries(self) -> list[dict]:
        """Per evaluation: the expression, its value, every part's value outside filter
        predicates (by node number), the facts read and each filter's items."""
        known_pointers: dict[int, str] | None = None
        as_json = SharedJson()
        entries = []
        for slot, expression, recording in self.recorded:
            values = recording.values
            entry = {"slot": str(slot), "expression": expression.line, "value": as_json(recording.result),
                     "parts": [{"node": k, "expr": text, "value": as_json(values[k])}
                               for k, text in expression.part_nodes if values[k] is not NOT_EVALUATED],
                     "reads": recording.reads}
            if expression.filter_nodes:
                if known_pointers is None:
                    known_pointers = pointers_by_identity(self.facts or {})
                kept_and_dropped = filters(expression, recording, known_pointers)
                if kept_and_dropped:
                    entry["filters"] = kept_and_dropped
            entries.append(entry)
        return entries

    def _parameters(self) -> list[dict]:
        """Each parameter read, with the dated value in force where it was read."""
        used: dict[tuple[str, str], dict] = {}
        for name, day in self.read:
            dated = self.pack.parameters[name].at(day)
            if dated is not None and (name, dated[0]) not in used:
                used[(name, dated[0])] = {"name": name, "effective": dated[0], "value": to_json_value(dated[1]),
                                          "citation": dated[2], "confidence": dated[3]}
        return [used[key] for key in sorted(used)]


def with_sources(trace: dict, state: Evaluated) -> dict:
    """The trace with the facts' provenance (pointer -> source records, in pointer order)
    under `sources`, when the facts carry any: what an auditor follows from a fact to the
    records it was derived from."""
    provenance = (state.facts or {}).get("provenance")
    if provenance:
        trace["sources"] = {at: list(provenance[at]) for at in sorted(provenance, key=document_order)}
    return trace


def tracer_for(pack: CompiledPack, form: str) -> Tracer:
    if form not in TRACE_FORMS:
        raise ValueError(f"trace must be one of {', '.join(TRACE_FORMS)}, not {form!r}")
    return {"none": Tracer, "compact": CompactTracer, "full": FullTracer}[form](pack)

"""Recording what a decision used: no trace, the compact form and the full form.

The tracer is chosen once per decision, and with it the pack's program (`program.py`),
which evaluates definitions, gates, rules and finding conditions in one call. Later
traced expressions (an opportunity's condition) go through `evaluate(slot, expression,
args, day)`, and so does everything when a tracer has no program (step by step, the
reference the programs are tested against). Values the decision needs but does not
trace (rates, an opportunity's figures, evidence) go through `compute`.
- none: nothing recorded.
- compact: one value per slot of the pack's rule table (`CompiledPack.trace_slots`),
  None where nothing was evaluated, stored by the compact program; the pack's sha256
  identifies the table.
- full: per evaluated slot, the expression, its value, the values of its parts as one
  array aligned with the expression's part table (a record of the facts' lists by
  reference, each record once under `records`: `recorded.py`), the facts it read (JSON pointers) and, per filter, each item
  kept or dropped and the condition that dropped it; the parameters actually read, each with the
  dated value in force; the dates of service; the codes billed elsewhere. Evaluation only
  keeps each expression's recording; all of this is rendered from the recordings and the
  compiled expressions when the decision is assembled.
Both traces carry the facts' provenance, when they have any, under `sources`.
"""
from __future__ import annotations

from typing import Any

from ..lang import NOT_EVALUATED, CompiledExpression, Recording
from ..packs.model import CompiledPack
from ..packs.slots import Slot
from ..pointers import document_order
from .filters import filters
from .program import program
from .recorded import REF, UNEVALUATED
from .state import Evaluated
from .values import PLAIN, SharedJson, compact, to_json_value

TRACE_FORMS = ("none", "compact", "full")


class Tracer:
    """No trace: expressions are evaluated and nothing is kept."""

    form = "none"
    #: the pack's program that evaluates for this tracer in one call (`program.py`: none,
    #: compact or full), or None to evaluate step by step through `evaluate`
    program: str | None = "none"
    #: where the program stores what it records: the compact values, aligned with
    #: `pack.trace_slots`, or the full program's (site number, recording) pairs
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
    """Keeps each evaluation's recording (the expression's recording function: no second
    evaluation) and renders the entries and parameters only when the decision is assembled."""

    form = "full"
    program = "full"

    def __init__(self, pack: CompiledPack) -> None:
        super().__init__(pack)
        #: the program's evaluations, (site number, recording), in order (`program.py`)
        self.values: list[tuple[int, Recording]] = []
        #: evaluations through `evaluate` (after the program, or all of them step by step)
        self.evaluated: list[tuple[Slot, CompiledExpression, str, Recording]] = []
        #: values computed and not traced (rates, evidence); their parameters are listed
        self.computed: list[tuple[CompiledExpression, str, Recording]] = []

    def evaluate(self, slot: Slot, expression: CompiledExpression, args: tuple, day: str) -> Any:
        recording = expression.record(*args)  # its errors come located
        self.evaluated.append((slot, expression, day, recording))
        return recording.result

    def compute(self, expression: CompiledExpression, args: tuple, day: str) -> Any:
        recording = expression.record(*args)
        self.computed.append((expression, day, recording))
        return recording.result

    def recorded(self, state: Evaluated) -> list[tuple[Slot, CompiledExpression, str, Recording]]:
        """Every traced evaluation, in order: (slot, expression, date of service, recording)."""
        sites = program(self.pack, "full").sites if self.values else ()
        days = state.service_dates
        return [(sites[k].slot, sites[k].expression, days[sites[k].clock], recording)
                for k, recording in self.values] + self.evaluated

    def output(self, state: Evaluated) -> dict:
        recorded = self.recorded(state)
        entries, records = self._entries(recorded, state.fact_pointers)
        return with_sources({"form": "full", "entries": entries, "records": records,
                             "parameters": self._parameters(recorded),
                             "service_dates": dict(state.service_dates),
                             "billed_elsewhere": [item.as_json() for item in state.elsewhere]}, state)

    @staticmethod
    def _entries(recorded: list[tuple[Slot, CompiledExpression, str, Recording]], known_pointers: dict[int, str]
                 ) -> tuple[list[dict], dict[str, Any]]:
        """Per evaluation: the expression, its value, its parts' values as one array
        aligned with the expression's part table (`CompiledExpression.part_nodes`: every
        part outside filter predicates; `{"$unevaluated": true}` where a part was not
        evaluated), the facts read and each filter's items; and each
        record of the facts' lists those values hold, once, by pointer (in document order),
        the values naming it by reference (`recorded.REF`)."""
        as_json = SharedJson(known_pointers, REF)
        entries = []
        for slot, expression, _, recording in recorded:
            values = recording.values
            parts = [v if (v := values[k]).__class__ in PLAIN else {UNEVALUATED: True} if v is NOT_EVALUATED
                     else as_json(v) for k, _ in expression.part_nodes]
            entry = {"slot": slot.text, "expression": expression.line, "value": as_json(recording.result),
                     "parts": parts, "reads": recording.reads}
            if expression.filters:
                kept_and_dropped = filters(expression, recording, known_pointers)
                if kept_and_dropped:
                    entry["filters"] = kept_and_dropped
            entries.append(entry)
        return entries, {at: as_json.records[at] for at in sorted(as_json.records, key=document_order)}

    def _parameters(self, recorded: list[tuple[Slot, CompiledExpression, str, Recording]]) -> list[dict]:
        """Each parameter read (traced or computed), with the dated value in force where it
        was read."""
        read = {(name, day): None
                for expression, day, recording in [(e, d, r) for _, e, d, r in recorded] + self.computed
                for k, name in expression.parameter_nodes if recording.values[k] is not NOT_EVALUATED}
        used: dict[tuple[str, str], dict] = {}
        for name, day in read:
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

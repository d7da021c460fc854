"""Property: the fast path, the tracing path and the recording interpreter agree.

Hypothesis writes random well-typed expressions (nesting depth 4 to 6) over random
patient-months; all three must give the same value, or fail with the same error code,
and every part the tracer recorded must equal what the interpreter saw.
"""
from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import FACTS, OPTIONS, PARAMS, OPTION_VALUES, PARAM_VALUES
from policyengine.lang import NOT_EVALUATED, ByItem, Environment, EvaluationError, compile_expression
from reference_interpreter import interpret

ENV = Environment(FACTS, {}, {"params": PARAMS, "options": OPTIONS})

LEAVES = {
    "bool": ["true", "false", "(consent.obtained ?? false)", "present(consent)", "options.messaging_counts"],
    "int": ["0", "1", "2", "3", "count(transmission_days)", "params.addon_cap"],
    "dur": ["20 min", "1 s", "19 min 59 s", "params.threshold"],
    "list": ["interactions"],
}
ITEM_LEAVES = {
    "bool": ["two_way", "during_em_visit", "modality in params.interactive_modalities", 'program == "rpm"',
             "present(performer)"],
    "int": ["count(clinical_topics)"],
    "dur": ["duration_seconds"],
    "list": [],
}
COMPOSITES = {
    "bool": ["({bool} and {bool})", "({bool} or {bool})", "(not {bool})", "({int} < {int})", "({dur} >= {dur})",
             "any(({list}).two_way)", "(if {bool} then {bool} else {bool})", "({int} == {int})"],
    "int": ["({int} + {int})", "({int} - {int})", "({int} * {int})", "({int} // {int})", "count({list})",
            "({dur} // {dur})", "min({int}, {int})", "(if {bool} then {int} else {int})", "count(({list}).two_way)"],
    "dur": ["sum(({list}).duration_seconds)", "({dur} + {dur})", "({dur} - {dur})", "({dur} * {int})",
            "max({dur}, {dur})"],
    "list": ["({list} where {item_bool})"],
}


@st.composite
def expression(draw, kind: str, depth: int, in_item: bool = False):
    if depth <= 0 or (depth < 3 and draw(st.booleans())):
        leaves = LEAVES[kind] + (ITEM_LEAVES[kind] if in_item else [])
        return draw(st.sampled_from(leaves))
    template = draw(st.sampled_from(COMPOSITES[kind]))
    for slot in ("bool", "int", "dur", "list"):
        marker = "{" + slot + "}"
        while marker in template:
            template = template.replace(marker, draw(expression(slot, depth - 1, in_item)), 1)
    if "{item_bool}" in template:
        template = template.replace("{item_bool}", draw(expression("bool", depth - 1, True)), 1)
    return template


interaction = st.fixed_dictionaries({
    "id": st.text("abc", min_size=1, max_size=3),
    "date": st.sampled_from(["2026-03-01", "2026-03-15", "2026-03-31"]),
    "duration_seconds": st.integers(0, 2400),
    "modality": st.sampled_from(["phone", "video", "secure_message", "voicemail"]),
    "two_way": st.booleans(),
    "program": st.sampled_from(["rpm", "ccm"]),
}, optional={
    "during_em_visit": st.booleans(),
    "clinical_topics": st.lists(st.sampled_from(["symptoms", "scheduling"]), max_size=2),
    "performer": st.fixed_dictionaries({"id": st.just("rn"), "role": st.sampled_from(["clinical_staff", "ai_system"])}),
})
facts = st.fixed_dictionaries({
    "patient_id": st.just("PT-1"), "month": st.just("2026-03"),
    "transmission_days": st.lists(st.sampled_from([f"2026-03-{d:02d}" for d in range(1, 31)]), unique=True, max_size=20),
}, optional={
    "consent": st.one_of(st.none(), st.fixed_dictionaries({"obtained": st.booleans()})),
    "interactions": st.lists(interaction, max_size=5),
})


def outcome(call):
    try:
        value = call()
    except EvaluationError as error:
        return ("error", error.code)
    value = value[0] if isinstance(value, tuple) else getattr(value, "result", value)
    return ("ok", type(value).__name__, value)


@settings(max_examples=300, deadline=None)
@given(text=st.integers(4, 6).flatmap(lambda d: st.sampled_from(["bool", "int", "dur"]).flatmap(
    lambda kind: expression(kind, d))), facts=facts)
def test_fast_tracing_and_interpreter_agree(text, facts):
    expr = compile_expression(text, ENV)
    args = (facts, {}, PARAM_VALUES, OPTION_VALUES)
    fast = outcome(lambda: expr.evaluate(*args))
    traced = outcome(lambda: expr.trace(*args))
    reference = outcome(lambda: interpret(expr.checked, facts, {}, (PARAM_VALUES, OPTION_VALUES)))
    assert fast == traced == reference, text
    if fast[0] == "ok":
        trace = expr.trace(*args)
        recording = trace.details()
        for k, value in enumerate(trace.values):
            if value is not NOT_EVALUATED:
                assert recording.values[k] == value, (text, k, expr.nodes[k])


def as_pairs(value):
    """A node's recorded value, values by item written as the interpreter writes every
    value inside a predicate: (item path, value) pairs, in item order."""
    if isinstance(value, ByItem):
        return [((i,), v) for i, v in enumerate(value) if v is not NOT_EVALUATED]
    return value


def reading(call):
    """A recording's result, node values and reads, or its error located."""
    try:
        recording = call()
    except EvaluationError as error:
        return ("error", error.code, error.message, error.span, error.pointer)
    return ("ok", type(recording.result).__name__, recording.result, [as_pairs(v) for v in recording.values],
            recording.reads)


@settings(max_examples=300, deadline=None)
@given(text=st.integers(4, 6).flatmap(lambda d: st.sampled_from(["bool", "int", "dur"]).flatmap(
    lambda kind: expression(kind, d))), facts=facts)
def test_recording_function_reads_as_the_interpreter_does(text, facts):
    """The compiled full reading (what a full trace records) is the interpreter's, value
    for value, item by item, pointer for pointer, and fails at the same node."""
    expr = compile_expression(text, ENV)
    compiled = reading(lambda: expr.record(facts, {}, PARAM_VALUES, OPTION_VALUES))
    reference = reading(lambda: interpret(expr.checked, facts, {}, (PARAM_VALUES, OPTION_VALUES)))
    assert compiled == reference, text

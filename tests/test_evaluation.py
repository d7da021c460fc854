"""Evaluation semantics users rely on: thresholds to the second, short-circuit, empty
collections, missing optional facts, exact decimals, and the trace of every part."""
from __future__ import annotations

from decimal import Decimal

import pytest

from conftest import OPTION_VALUES, PARAM_VALUES, interaction
from policyengine.lang import BOOL, NOT_EVALUATED, ByItem, EvaluationError, compile_expression

COUNTABLE = "interactions where two_way and program == \"rpm\" and modality in params.interactive_modalities"


def run(text, env, facts, expect=None, defs=None):
    expr = compile_expression(text, env, expect)
    return expr.evaluate(facts, defs or {}, PARAM_VALUES, OPTION_VALUES)


def month(*seconds):
    return {"patient_id": "PT-1", "month": "2026-03", "consent": {"obtained": True},
            "interactions": [interaction(i, s) for i, s in enumerate(seconds)]}


@pytest.mark.parametrize("seconds,billable", [((1199,), False), ((1200,), True), ((600, 599), False), ((600, 600), True)])
def test_twenty_minute_threshold_to_the_second(seconds, billable, env):
    assert run(f"sum(({COUNTABLE}).duration_seconds) >= 20 min", env, month(*seconds), BOOL) is billable


@pytest.mark.parametrize("total,units", [(2399, 0), (2400, 1), (3599, 1), (3600, 2), (5999, 2), (6000, 2)])
def test_addon_units_count_full_blocks_up_to_the_cap(total, units, env):
    text = ("min(params.addon_cap, (sum(interactions.duration_seconds) - params.threshold) // params.addon_block)")
    assert run(text, env, month(total)) == units


def test_and_or_if_short_circuit(env, facts):
    # Each right-hand side would fail (division by zero, min of an empty list) if it ran.
    assert run("false and 1 // 0 == 1", env, facts) is False
    assert run("true or min(transmission_days where false) > 2026-01-01", env, facts) is True
    assert run("if true then 1 else 1 // 0", env, facts) == 1
    assert run("consent.obtained ?? (1 // 0 == 1)", env, facts) is True


def test_short_circuit_shows_in_the_trace(env, facts):
    expr = compile_expression("false and count(interactions) > 0", env, BOOL)
    trace = expr.trace(facts, {}, PARAM_VALUES, OPTION_VALUES)
    assert trace.result is False
    assert trace.values[1] is False and trace.values[2] is NOT_EVALUATED


def test_empty_collections(env):
    empty = month()
    assert run("sum(interactions.duration_seconds)", env, empty) == 0
    assert run("count(interactions where two_way)", env, empty) == 0
    assert run("any(interactions.two_way)", env, empty) is False
    assert run("all(interactions.two_way)", env, empty) is True
    assert run("distinct(transmission_days)", env, empty) == []
    with pytest.raises(EvaluationError) as info:
        run("max(interactions.duration_seconds)", env, empty)
    assert info.value.code == "eval.empty_list"


def test_missing_optional_facts(env):
    no_consent = {"patient_id": "PT-1", "month": "2026-03"}
    assert run("consent.obtained ?? false", env, no_consent) is False
    assert run("present(consent)", env, no_consent) is False
    assert run("consent.date ?? 2026-03-31", env, no_consent) == "2026-03-31"
    # defaults declared by the environment: no interactions, not during an E/M visit
    assert run("count(interactions)", env, no_consent) == 0
    facts = month(60)
    del facts["interactions"][0]["performer"]
    assert run('count(interactions where performer.role == "clinical_staff")', env, facts) == 0
    assert run("interactions.performer.role", env, facts) == [None]
    assert run("count(interactions where not during_em_visit)", env, facts) == 1


def test_money_is_exact_and_rounds_half_up(env, facts):
    rate = run("round(params.rvu * params.conversion_factor, 2)", env, facts)
    assert rate == Decimal("51.77") and isinstance(rate, Decimal)
    assert run("round(2.675, 2)", env, facts) == Decimal("2.68")  # a float would give 2.67
    assert run("round(0.125, 2)", env, facts) == Decimal("0.13")  # half-up, not half-even
    assert run("10 / 4", env, facts) == Decimal("2.5")
    assert run("10 // 4", env, facts) == 2


def test_duration_arithmetic(env, facts):
    assert run("20 min + 30 s", env, facts) == 1230
    assert run("3 * 20 min - 1 s", env, facts) == 3599
    assert run("(45 min) // (20 min)", env, facts) == 2
    assert run("minutes(19 min 59 s)", env, facts) == 19
    assert run("45 min / 20 min", env, facts) == Decimal("2.25")


def test_dates(env, facts):
    assert run("days_between(first_day(month), last_day(month))", env, facts) == 30
    assert run("add_days(2026-02-27, 2)", env, facts) == "2026-03-01"
    assert run("count(transmission_days where item >= 2026-03-10)", env, facts) == 7
    assert run("last_day(\"2024-02\")", env, facts) == "2024-02-29"


def test_division_by_zero_is_a_coded_error_on_every_path(env, facts):
    expr = compile_expression("10 // (count(interactions) - 4)", env)
    for path in (expr.evaluate, expr.trace):
        with pytest.raises(EvaluationError) as info:
            path(facts, {}, PARAM_VALUES, OPTION_VALUES)
        assert info.value.code == "eval.division_by_zero"


def test_definitions_are_read_by_name(env, facts):
    defs = {"rpm_interactions": [i for i in facts["interactions"] if i["program"] == "rpm"]}
    assert run("count(rpm_interactions)", env, facts, defs=defs) == 3


def test_trace_reads_are_json_pointers_of_the_facts_actually_read(env, facts):
    expr = compile_expression(f"sum(({COUNTABLE}).duration_seconds) >= 20 min", env, BOOL)
    trace = expr.trace(facts, {}, PARAM_VALUES, OPTION_VALUES)
    reads = trace.reads
    assert "/interactions/0/duration_seconds" in reads and "/interactions/1/duration_seconds" in reads
    assert "/interactions/2/duration_seconds" not in reads  # the CCM call is filtered out
    assert "/interactions/3/program" not in reads  # two_way is false: 'and' stopped there
    predicate_values = trace.details().values[expr.nodes.index(expr.checked.root.left.args[0].base.predicate)]
    assert isinstance(predicate_values, ByItem) and predicate_values == [True, True, False, False]  # one per item


def test_no_python_escape_hatches(env, facts):
    from policyengine.diagnostics import DiagnosticError
    for text in ["__import__", "interactions.__class__", "params.__dict__", "eval(\"1\")", "().__class__"]:
        with pytest.raises(DiagnosticError):
            compile_expression(text, env)


def test_coalesce_binds_tighter_than_and_or_and_comparisons(env):
    no_consent = {"patient_id": "PT-1", "month": "2026-03"}
    # (consent.obtained ?? false) and ..., not consent.obtained ?? (false and ...)
    assert run("consent.obtained ?? false and count(interactions) == 0", env, no_consent) is False
    assert run("consent.date ?? 2026-01-01 < 2026-02-01", env, no_consent) is True


def test_an_empty_total_has_its_list_type_on_every_path(env):
    from reference_interpreter import interpret
    expr = compile_expression("sum((interactions where false).duration_seconds)", env)
    money = compile_expression("sum([params.conversion_factor, params.conversion_factor]) - "
                               "sum([params.conversion_factor, params.conversion_factor])", env)
    facts = month(60)
    assert type(expr.evaluate(facts, {}, PARAM_VALUES, OPTION_VALUES)) is int
    assert type(interpret(expr.checked, facts, {}, (PARAM_VALUES, OPTION_VALUES)).result) is int
    assert isinstance(money.evaluate(facts, {}, PARAM_VALUES, OPTION_VALUES), Decimal)

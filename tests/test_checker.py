"""Checking: every name resolved, every type and unit checked, before anything runs.

One case per error code; the rendered text (message, caret, hint) is pinned by snapshot.
"""
from __future__ import annotations

import pytest

from policyengine.diagnostics import DiagnosticError
from policyengine.lang import BOOL, DATE, DECIMAL, DURATION, INT, MONEY, STRING, ListOf, Optional, compile_expression

ERROR_CASES = {
    "expr.unknown_name": "sum(interactions.duration_seconds) >= threshhold",
    "expr.unknown_field": "sum(interactions.duraton_seconds) >= 20 min",
    "expr.unit_mismatch": "sum(interactions.duration_seconds) >= 1200",
    "expr.type_mismatch": 'params.min_days == "16"',
    "expr.maybe_missing": "consent.obtained and count(transmission_days) >= params.min_days",
    "expr.not_boolean": "count(interactions where program) > 0",
    "expr.not_a_list": '"phone" in params.min_days',
    "expr.unknown_function": "total(interactions.duration_seconds)",
    "expr.bad_arguments": "sum(interactions.modality)",
    "expr.branch_mismatch": 'if count(interactions) > 0 then 1 else "none"',
    "expr.namespace_value": "params",
    "expr.function_value": "count",
    "expr.empty_list": '"phone" in []',
    "expr.wrong_result": "count(transmission_days)",
}


def diagnostics_of(text, env, expect=BOOL):
    with pytest.raises(DiagnosticError) as info:
        compile_expression(text, env, expect)
    return info.value


@pytest.mark.parametrize("code", sorted(ERROR_CASES))
def test_each_error_code_renders_clearly(code, env, snapshot):
    error = diagnostics_of(ERROR_CASES[code], env)
    assert code in [d.code for d in error.diagnostics]
    assert str(error) == snapshot


def test_did_you_mean_for_names_fields_and_members(env):
    assert "did you mean 'duration_seconds'?" in str(diagnostics_of("sum(interactions.duraton_seconds) >= 20 min", env))
    assert "did you mean 'addon_cap'?" in str(diagnostics_of("params.addon_cpa > 1", env))
    assert "did you mean 'interactions'?" in str(diagnostics_of("count(interaction) > 1", env))


def test_all_errors_are_collected_and_sorted(env):
    error = diagnostics_of("foo > 1 and bar > 2 and params.nope", env)
    assert [d.code for d in error.diagnostics] == ["expr.unknown_name", "expr.unknown_name", "expr.unknown_field"]
    assert [d.span.column for d in error.diagnostics] == sorted(d.span.column for d in error.diagnostics)


def test_a_failed_part_is_reported_once(env):
    error = diagnostics_of("sum(interactions.nope) + 1 >= 20 min", env)
    assert [d.code for d in error.diagnostics] == ["expr.unknown_field"]


@pytest.mark.parametrize("text,expected", [
    ("sum(interactions.duration_seconds)", DURATION),
    ("(sum(interactions.duration_seconds) - params.threshold) // params.addon_block", INT),
    ("count(transmission_days)", INT),
    ("params.rvu * params.conversion_factor", MONEY),
    ("round(params.rvu * params.conversion_factor, 2)", MONEY),
    ("consent.date", Optional(DATE)),
    ("consent.obtained ?? false", BOOL),
    ("present(consent)", BOOL),
    ("transmission_days where item >= 2026-03-10", ListOf(DATE)),
    ("interactions.performer.role", ListOf(Optional(STRING))),
    ("count(interactions where two_way) + 0.5", DECIMAL),
])
def test_result_types(text, expected, env):
    assert compile_expression(text, env).type == expected


def test_item_fields_shadow_outer_names_inside_where(env):
    expr = compile_expression('count(interactions where modality in params.interactive_modalities) >= 1', env, BOOL)
    assert expr.evaluate({"patient_id": "p", "month": "2026-03",
                          "interactions": [{"id": "a", "date": "2026-03-01", "duration_seconds": 1, "modality": "phone",
                                            "two_way": True, "program": "rpm"}]},
                         {}, {"interactive_modalities": ["phone"]}, {}) is True


def test_distinct_takes_plain_values_only(env):
    compile_expression("count(distinct(transmission_days))", env)
    with pytest.raises(DiagnosticError) as info:
        compile_expression("count(distinct(interactions))", env)
    assert info.value.diagnostics[0].code == "expr.bad_arguments"


def test_durations_compare_with_durations_only(env):
    compile_expression("sum(interactions.duration_seconds) >= 19 min 59 s", env, BOOL)
    compile_expression("seconds(sum(interactions.duration_seconds)) >= 1199", env, BOOL)
    with pytest.raises(DiagnosticError):
        compile_expression("sum(interactions.duration_seconds) * 1.5 >= 20 min", env, BOOL)

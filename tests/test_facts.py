"""Reading and checking patient-month facts (contract v1, section 1)."""
from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from policyengine import facts
from policyengine.facts.schema import validators
from policyengine.diagnostics import Diagnostic, DiagnosticError
from policyengine.facts import check_facts, facts_schema, parse_facts_text
from policyengine.limits import SECONDS_PER_DAY

EXAMPLES = sorted((Path(__file__).parent.parent / "examples").glob("*.json"))
SEED = Path(__file__).parent.parent / "examples" / "2026-03-seed-22-minutes.json"


@pytest.fixture
def seed() -> dict:
    """The seed guide's month: a 10-minute call on the 5th and a 12-minute call on the 22nd."""
    return json.loads(SEED.read_text())


def errors_of(data: Any) -> list[Diagnostic]:
    with pytest.raises(DiagnosticError) as excinfo:
        check_facts(data)
    return excinfo.value.diagnostics


def only_error(data: Any) -> Diagnostic:
    (error,) = errors_of(data)
    assert error.severity == "error"
    return error


# --- the examples ---------------------------------------------------------------------------


def test_there_are_examples_of_each_kind() -> None:
    assert len(EXAMPLES) >= 8


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_every_example_is_valid_without_warnings(path: Path) -> None:
    data = json.loads(path.read_text())
    checked = check_facts(data)
    assert checked.warnings == ()
    assert checked.data is data


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_every_example_is_pretty_json(path: Path) -> None:
    text = path.read_text()
    assert text == json.dumps(json.loads(text), indent=2, ensure_ascii=False) + "\n"


def test_check_facts_leaves_the_data_as_given(seed: dict) -> None:
    before = copy.deepcopy(seed)
    assert check_facts(seed).data == before


# --- structure: what the schema rejects ------------------------------------------------------


def test_not_an_object() -> None:
    error = only_error(["PT-104233", "2026-03"])
    assert (error.where, error.code) == ("/", "facts.wrong_type")
    assert "expected a mapping, found a list" in error.message


@pytest.mark.parametrize("field", ["patient_id", "month"])
def test_missing_required_field(seed: dict, field: str) -> None:
    del seed[field]
    error = only_error(seed)
    assert (error.where, error.code) == ("/", "facts.missing_field")
    assert f"missing required field '{field}'" in error.message


def test_missing_required_field_of_an_interaction(seed: dict) -> None:
    del seed["interactions"][1]["two_way"]
    error = only_error(seed)
    assert (error.where, error.code) == ("/interactions/1", "facts.missing_field")
    assert "'two_way'" in error.message


def test_empty_patient_id(seed: dict) -> None:
    seed["patient_id"] = ""
    error = only_error(seed)
    assert (error.where, error.code) == ("/patient_id", "facts.bad_size")


def test_wrong_type(seed: dict) -> None:
    seed["interactions"][0]["two_way"] = "yes"
    error = only_error(seed)
    assert (error.where, error.code) == ("/interactions/0/two_way", "facts.wrong_type")
    assert "expected true or false, found the string 'yes'" in error.message


def test_duration_must_be_whole_seconds(seed: dict) -> None:
    seed["interactions"][0]["duration_seconds"] = 599.5
    error = only_error(seed)
    assert (error.where, error.code) == ("/interactions/0/duration_seconds", "facts.wrong_type")
    assert "whole number" in error.message


def test_negative_duration(seed: dict) -> None:
    seed["interactions"][1]["duration_seconds"] = -60
    error = only_error(seed)
    assert (error.where, error.code) == ("/interactions/1/duration_seconds", "facts.out_of_range")
    assert "-60" in error.message and "at least 0" in error.message


@pytest.mark.parametrize("month", ["2026-3", "2026-13", "2026-00", "March 2026", "2026-03-01"])
def test_month_not_yyyy_mm(seed: dict, month: str) -> None:
    seed["month"] = month
    error = only_error(seed)
    assert (error.where, error.code) == ("/month", "facts.bad_format")
    assert "expected form" in error.message
    assert error.hint == "for example '2026-03'"


def test_date_not_yyyy_mm_dd(seed: dict) -> None:
    seed["consent"]["date"] = "11/03/2025"
    error = only_error(seed)
    assert (error.where, error.code) == ("/consent/date", "facts.bad_format")
    assert error.hint == "for example '2026-03-05'"


def test_enum_value_with_a_suggestion(seed: dict) -> None:
    seed["interactions"][0]["modality"] = "phon"
    error = only_error(seed)
    assert (error.where, error.code) == ("/interactions/0/modality", "facts.not_allowed")
    assert "'secure_message'" in error.message
    assert error.hint == "did you mean 'phone'?"


@pytest.mark.parametrize("program", ["RPM", "r pm", "rpm\n", ""])
def test_program_is_a_lowercase_word(seed: dict, program: str) -> None:
    seed["interactions"][0]["program"] = program
    error = only_error(seed)
    assert (error.where, error.code) == ("/interactions/0/program", "facts.bad_format")


@pytest.mark.parametrize("code", ["99457", "0001F", "G0556", "99091"])
def test_well_formed_codes(seed: dict, code: str) -> None:
    seed["other_services"] = [{"code": code, "practitioner": "PR-9001"}]
    seed["claims"] = [{"code": code, "units": 1}]
    assert check_facts(seed).warnings == ()


@pytest.mark.parametrize("code", ["9945", "994570", "g0556", "99457 ", "G05566", "0001f", "ABCDE"])
def test_malformed_code(seed: dict, code: str) -> None:
    seed["other_services"] = [{"code": "99490", "practitioner": "PR-9001", "duration_seconds": 1200}]
    seed["claims"] = [{"code": "99457", "units": 1}, {"code": code, "units": 1}]
    error = only_error(seed)
    assert (error.where, error.code) == ("/claims/1/code", "facts.bad_format")
    assert error.hint == "for example '99457'"


def test_claim_units_at_least_one(seed: dict) -> None:
    seed["claims"] = [{"code": "99457", "units": 0}]
    error = only_error(seed)
    assert (error.where, error.code) == ("/claims/0/units", "facts.out_of_range")


def test_transmission_day_listed_twice(seed: dict) -> None:
    seed["transmission_days"].append(seed["transmission_days"][3])
    error = only_error(seed)
    assert (error.where, error.code) == ("/transmission_days", "facts.bad_size")
    assert error.message == "the string '2026-03-05' is listed twice: /transmission_days/3 and /transmission_days/18"


def test_consent_may_be_null(seed: dict) -> None:
    seed["consent"] = None
    assert check_facts(seed).warnings == ()


def test_every_structural_error_at_once(seed: dict) -> None:
    seed["interactions"][0]["two_way"] = "yes"
    seed["interactions"][1]["duration_seconds"] = -1
    del seed["month"]
    assert [(d.where, d.code) for d in errors_of(seed)] == [
        ("/", "facts.missing_field"),
        ("/interactions/0/two_way", "facts.wrong_type"),
        ("/interactions/1/duration_seconds", "facts.out_of_range"),
    ]


# --- unknown keys are warnings ------------------------------------------------------------


def test_misspelt_optional_key_is_a_warning_with_did_you_mean(seed: dict) -> None:
    seed["interactions"][0]["during_em_vist"] = True
    (warning,) = check_facts(seed).warnings
    assert (warning.where, warning.code, warning.severity) == (
        "/interactions/0/during_em_vist", "facts.unknown_field", "warning")
    assert warning.message == "unknown field 'during_em_vist' (did you mean 'during_em_visit'?)"


def test_unknown_key_without_a_close_match(seed: dict) -> None:
    seed["insurance_plan"] = "Medicare Part B"
    (warning,) = check_facts(seed).warnings
    assert (warning.where, warning.message) == ("/insurance_plan", "unknown field 'insurance_plan'")


def test_unknown_keys_do_not_hide_errors(seed: dict) -> None:
    seed["monitoring_period"]["ned"] = "2026-03-30"
    seed["interactions"][0]["duration_seconds"] = -1
    error = only_error(seed)
    assert error.where == "/interactions/0/duration_seconds"


# --- the calendar: what only code can check -------------------------------------------------


def test_impossible_date(seed: dict) -> None:
    seed["interactions"][1]["date"] = "2026-02-30"
    error = only_error(seed)
    assert (error.where, error.code) == ("/interactions/1/date", "facts.not_a_date")
    assert error.headline() == "/interactions/1/date: 2026-02-30 is not a real date [facts.not_a_date]"
    assert error.hint == "2026-02 has 28 days"


def test_as_of_must_be_a_real_date(seed: dict) -> None:
    seed["as_of"] = "2026-03-32"
    error = only_error(seed)
    assert (error.where, error.code) == ("/as_of", "facts.not_a_date")
    assert "2026-03-32 is not a real date" in error.message


def test_month_of_year_zero(seed: dict) -> None:
    seed["month"] = "0000-03"
    seed["interactions"] = []
    error = only_error(seed)
    assert (error.where, error.code) == ("/month", "facts.not_a_date")
    assert "0000-03 is not a real month" in error.message


def test_interaction_outside_the_month(seed: dict) -> None:
    seed["interactions"].append(dict(seed["interactions"][0], id="IX-20260401-01", date="2026-04-01"))
    error = only_error(seed)
    assert (error.where, error.code) == ("/interactions/2/date", "facts.outside_month")
    assert error.headline() == "/interactions/2/date: 2026-04-01 is outside the month 2026-03 [facts.outside_month]"


def test_activity_outside_the_month(seed: dict) -> None:
    seed["activities"] = [{"id": "AC-1", "date": "2026-02-28", "kind": "data_review",
                           "duration_seconds": 300, "program": "rpm"}]
    error = only_error(seed)
    assert (error.where, error.code) == ("/activities/0/date", "facts.outside_month")
    assert "2026-02-28 is outside the month 2026-03" in error.message


def test_transmission_day_outside_the_monitoring_period(seed: dict) -> None:
    seed["transmission_days"].append("2026-03-31")
    error = only_error(seed)
    assert (error.where, error.code) == ("/transmission_days/18", "facts.outside_period")
    assert "2026-03-31 is outside the monitoring period 2026-03-01 to 2026-03-30" in error.message


def test_transmission_day_outside_the_month_when_there_is_no_period(seed: dict) -> None:
    del seed["monitoring_period"]
    seed["transmission_days"] = ["2026-03-31", "2026-04-01"]
    error = only_error(seed)
    assert (error.where, error.code) == ("/transmission_days/1", "facts.outside_period")
    assert "2026-04-01 is outside the month 2026-03" in error.message


def test_transmission_days_may_precede_the_month_inside_the_period(seed: dict) -> None:
    seed["monitoring_period"] = {"start": "2026-02-15", "end": "2026-03-16"}
    seed["transmission_days"] = ["2026-02-15", "2026-02-28", "2026-03-16"]
    assert check_facts(seed).warnings == ()


def test_monitoring_period_ending_before_it_starts(seed: dict) -> None:
    seed["monitoring_period"] = {"start": "2026-03-10", "end": "2026-03-01"}
    error = only_error(seed)
    assert (error.where, error.code) == ("/monitoring_period/end", "facts.period_reversed")
    assert "ends on 2026-03-01, before it starts on 2026-03-10" in error.message


def test_monitoring_period_longer_than_30_days(seed: dict) -> None:
    seed["monitoring_period"] = {"start": "2026-03-01", "end": "2026-03-31"}
    error = only_error(seed)
    assert (error.where, error.code) == ("/monitoring_period", "facts.period_too_long")
    assert "is 31 days; at most 30" in error.message
    assert error.hint == "a period that starts on 2026-03-01 ends by 2026-03-30"


@pytest.mark.parametrize("period", [("2026-02-01", "2026-02-28"), ("2026-04-01", "2026-04-30")])
def test_a_monitoring_period_with_no_day_in_the_month_is_refused(seed: dict, period: tuple[str, str]) -> None:
    """Its device lines would be dated in another month (in January, another fee-schedule
    year, whose pack this decision does not use)."""
    seed["monitoring_period"] = {"start": period[0], "end": period[1]}
    seed["transmission_days"] = [period[0]]
    error = only_error(seed)
    assert (error.where, error.code) == ("/monitoring_period", "facts.period_outside_month")
    assert f"{period[0]} to {period[1]} has no day in the month 2026-03" in error.message


@pytest.mark.parametrize("period", [("2026-02-01", "2026-03-01"), ("2026-03-31", "2026-04-29")])
def test_a_monitoring_period_touching_the_month_by_one_day_is_accepted(seed: dict, period: tuple[str, str]) -> None:
    seed["monitoring_period"] = {"start": period[0], "end": period[1]}
    seed["transmission_days"] = [period[0], period[1]]
    assert check_facts(seed).warnings == ()


def test_monitoring_period_of_exactly_30_days(seed: dict) -> None:
    seed["monitoring_period"] = {"start": "2026-03-02", "end": "2026-03-31"}
    seed["transmission_days"] = ["2026-03-02", "2026-03-31"]
    assert check_facts(seed).warnings == ()


def test_duplicate_interaction_id(seed: dict) -> None:
    seed["interactions"][1]["id"] = seed["interactions"][0]["id"]
    error = only_error(seed)
    assert (error.where, error.code) == ("/interactions/1/id", "facts.duplicate_id")
    assert "'IX-20260305-01' is already used by /interactions/0" in error.message


def test_every_calendar_error_at_once(seed: dict) -> None:
    seed["as_of"] = "2026-02-29"
    seed["interactions"][0]["date"] = "2026-04-01"
    seed["interactions"][1]["id"] = seed["interactions"][0]["id"]
    seed["transmission_days"][0] = "2026-02-28"
    assert [(d.where, d.code) for d in errors_of(seed)] == [
        ("/as_of", "facts.not_a_date"),
        ("/interactions/0/date", "facts.outside_month"),
        ("/interactions/1/id", "facts.duplicate_id"),
        ("/transmission_days/0", "facts.outside_period"),
    ]


# --- rendering ----------------------------------------------------------------------------


def test_rendered_calendar_errors(seed: dict, snapshot: Any) -> None:
    seed["interactions"][0]["date"] = "2026-02-30"
    seed["interactions"][1]["date"] = "2026-04-01"
    seed["interactions"].append(dict(seed["interactions"][1], date="2026-03-23"))
    seed["monitoring_period"] = {"start": "2026-03-01", "end": "2026-04-15"}
    with pytest.raises(DiagnosticError) as excinfo:
        check_facts(seed)
    assert str(excinfo.value) == snapshot


def test_rendered_structural_errors(seed: dict, snapshot: Any) -> None:
    del seed["patient_id"]
    seed["consent"]["method"] = "verbl"
    seed["interactions"][0]["duration_seconds"] = "10 min"
    seed["claims"] = [{"code": "99457x", "units": 1}]
    with pytest.raises(DiagnosticError) as excinfo:
        check_facts(seed)
    assert str(excinfo.value) == snapshot


# --- reading text -------------------------------------------------------------------------


def test_parse_json(seed: dict) -> None:
    assert parse_facts_text(SEED.read_text(), "seed.json") == seed


def test_parse_yaml_keeps_dates_as_text() -> None:
    text = "patient_id: PT-104233\nmonth: 2026-03\nas_of: 2026-03-15\ntransmission_days:\n  - 2026-03-01\n"
    data = parse_facts_text(text, "facts.yaml")
    assert data == {"patient_id": "PT-104233", "month": "2026-03", "as_of": "2026-03-15",
                    "transmission_days": ["2026-03-01"]}
    assert check_facts(data).warnings == ()


def test_malformed_json_names_line_and_column() -> None:
    text = '{\n  "patient_id": "PT-104233",\n  "month": "2026-03"\n  "as_of": "2026-03-15"\n}\n'
    with pytest.raises(DiagnosticError) as excinfo:
        parse_facts_text(text, "facts.json")
    (error,) = excinfo.value.diagnostics
    assert (error.code, error.location) == ("facts.malformed", "facts.json:4:3")
    assert "not valid JSON: Expecting ',' delimiter" in error.message


def test_malformed_yaml_names_line_and_column() -> None:
    text = "patient_id: PT-104233\nmonth: 2026-03\ninteractions:\n  - id: IX-1\n   date: 2026-03-05\n"
    with pytest.raises(DiagnosticError) as excinfo:
        parse_facts_text(text, "facts.yaml")
    (error,) = excinfo.value.diagnostics
    assert error.code == "facts.malformed"
    assert error.location.startswith("facts.yaml:5:")
    assert error.message.startswith("not valid YAML:")


def test_a_character_yaml_does_not_allow_is_malformed_yaml_not_a_traceback() -> None:
    """PyYAML's reader refuses it before parsing starts (the fuzzing found a lone surrogate)."""
    with pytest.raises(DiagnosticError) as excinfo:
        parse_facts_text("patient_id: PT-1\nmonth: \udcff\n", "facts.yaml")
    (error,) = excinfo.value.diagnostics
    assert error.code == "facts.malformed" and error.message.startswith("not valid YAML:")


def test_yaml_key_that_is_not_text() -> None:
    with pytest.raises(DiagnosticError) as excinfo:
        parse_facts_text("patient_id: PT-1\nmonth: 2026-03\n2026: true\n", "facts.yaml")
    (error,) = excinfo.value.diagnostics
    assert (error.code, error.location) == ("facts.malformed", "facts.yaml:3:1")
    assert "a key must be text" in error.message


# --- the fast path and the reference validator agree -------------------------------------------


@pytest.fixture
def reference_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """check_facts as it runs without jsonschema_rs installed."""
    monkeypatch.setattr(validators(facts.facts_schema()), "fast", None)


@pytest.mark.usefixtures("reference_only")
@pytest.mark.parametrize("path", EXAMPLES[:3], ids=lambda p: p.stem)
def test_examples_are_valid_without_the_fast_path(path: Path) -> None:
    assert check_facts(json.loads(path.read_text())).warnings == ()


@pytest.mark.usefixtures("reference_only")
def test_errors_without_the_fast_path(seed: dict) -> None:
    seed["interactions"][0]["program"] = "rpm\n"
    seed["interactions"][1]["duration_seconds"] = -1
    assert [(d.where, d.code) for d in errors_of(seed)] == [
        ("/interactions/0/program", "facts.bad_format"),
        ("/interactions/1/duration_seconds", "facts.out_of_range"),
    ]


def _schema_enum(*path: str) -> list[str]:
    node: Any = facts_schema()
    for step in path:
        node = node[step]
    return list(node["enum"])


_DATES = st.dates().map(str)
#: Strings on the edges of the schema's patterns and enums, where regex dialects differ.
TRICKY_TEXT = [
    "", "rpm", "rpm\n", "RPM", "ccm", "99457", "0001F", "G0556", "g0556", "99457\n", "2026-03",
    "2026-13", "2026-03\n", "2026-03-05", "2026-02-30", "2026-3-5", "2026-03-05\n", "２０２６-03-05",
    "1588667638", "158866763", "1588667638\n", "phone", "voicemail", "ai_system", "verbal", "data_review",
]
_TRICKY_TEXT = st.sampled_from(TRICKY_TEXT)
_SCALARS = (st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_nan=False, allow_infinity=False)
            | st.text(max_size=12) | _TRICKY_TEXT)
_JSON = st.recursive(_SCALARS, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
                     max_leaves=6)
_PERFORMER = st.fixed_dictionaries({}, optional={
    "id": st.text(max_size=10), "role": st.sampled_from(_schema_enum("$defs", "performer", "properties", "role"))})
_PROGRAM = st.from_regex(r"\A[a-z][a-z0-9_]{0,6}\Z")
_INTERACTION = st.fixed_dictionaries({
    "id": st.text(max_size=10), "date": _DATES, "duration_seconds": st.integers(0, SECONDS_PER_DAY),
    "modality": st.sampled_from(_schema_enum("$defs", "interaction", "properties", "modality")),
    "two_way": st.booleans(), "program": _PROGRAM,
}, optional={
    "clinical_topics": st.lists(st.text(max_size=10), max_size=3), "performer": _PERFORMER,
    "summary": st.text(max_size=20), "during_em_visit": st.booleans(), "escalated": st.booleans(),
})
_ACTIVITY = st.fixed_dictionaries({
    "id": st.text(max_size=10), "date": _DATES,
    "kind": st.sampled_from(_schema_enum("$defs", "activity", "properties", "kind")),
    "duration_seconds": st.integers(0, SECONDS_PER_DAY), "program": _PROGRAM,
}, optional={"performer": _PERFORMER})
_CODE = st.from_regex(r"\A([0-9]{5}|[A-Z][0-9]{4}|[0-9]{4}[A-Z])\Z")
_FACTS = st.fixed_dictionaries({
    "patient_id": st.text(min_size=1, max_size=10),
    "month": st.from_regex(r"\A[0-9]{4}-(0[1-9]|1[0-2])\Z"),
}, optional={
    "as_of": _DATES,
    "billing_practitioner": st.fixed_dictionaries({}, optional={
        "id": st.text(max_size=8), "npi": st.from_regex(r"\A[0-9]{10}\Z"), "qualifying_apm_participant": st.booleans()}),
    "established_patient": st.booleans(),
    "consent": st.none() | st.fixed_dictionaries({}, optional={
        "obtained": st.booleans(), "date": _DATES, "recorded_by": st.text(max_size=8),
        "method": st.sampled_from(_schema_enum("properties", "consent", "properties", "method"))}),
    "device": st.fixed_dictionaries({}, optional={
        "type": st.text(max_size=10), "meets_fda_definition": st.booleans(), "data_types": st.lists(st.text(max_size=8))}),
    "monitoring_period": st.fixed_dictionaries({"start": _DATES, "end": _DATES}),
    "transmission_days": st.lists(_DATES, max_size=5, unique=True),
    "episode": st.fixed_dictionaries({}, optional={"start": _DATES, "setup_billed": st.booleans()}),
    "interactions": st.lists(_INTERACTION, max_size=3),
    "activities": st.lists(_ACTIVITY, max_size=2),
    "care_plan_changes": st.lists(st.fixed_dictionaries({}, optional={
        "date": _DATES, "description": st.text(max_size=8), "by": st.text(max_size=8)}), max_size=2),
    "escalations": st.lists(st.fixed_dictionaries({}, optional={
        "date": _DATES, "reason": st.text(max_size=8), "to": st.text(max_size=8)}), max_size=2),
    "other_services": st.lists(st.fixed_dictionaries({"code": _CODE}, optional={
        "practitioner": st.text(max_size=8), "duration_seconds": st.integers(0, 10**5)}), max_size=2),
    "claims": st.lists(st.fixed_dictionaries({"code": _CODE, "units": st.integers(1, 5)}), max_size=2),
})


def _locations(node: Any, at: tuple = ()) -> list[tuple]:
    """Every location in a document, the root included."""
    found = [at]
    children = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, child in children:
        found.extend(_locations(child, at + (key,)))
    return found


@st.composite
def _mutated_facts(draw: st.DrawFn) -> Any:
    """Good facts with one to three things changed: a value replaced, a key dropped or added."""
    doc = draw(_FACTS)
    for _ in range(draw(st.integers(1, 3))):
        at = draw(st.sampled_from(_locations(doc)))
        if not at:
            doc = draw(_JSON)
            continue
        parent = doc
        for step in at[:-1]:
            parent = parent[step]
        action = draw(st.sampled_from(["replace", "drop", "add"]))
        if action == "replace":
            parent[at[-1]] = draw(_TRICKY_TEXT | _JSON)
        elif action == "drop" and isinstance(parent, dict):
            del parent[at[-1]]
        elif isinstance(parent, dict):
            parent[draw(st.text(max_size=8))] = draw(_JSON)
    return doc


def _validators() -> tuple[Any, Any]:
    pytest.importorskip("jsonschema_rs")
    both = validators(facts.facts_schema())
    return both.fast, both.reference


@pytest.mark.parametrize("at", [
    ("month",), ("as_of",), ("billing_practitioner", "npi"), ("consent", "method"), ("transmission_days", 0),
    ("interactions", 0, "date"), ("interactions", 0, "modality"), ("interactions", 0, "program"), ("claims", 0, "code"),
])
def test_both_validators_agree_on_tricky_text(seed: dict, at: tuple) -> None:
    fast, reference = _validators()
    seed["claims"] = [{"code": "99457", "units": 1}]
    parent = seed
    for step in at[:-1]:
        parent = parent[step]
    for text in TRICKY_TEXT:
        parent[at[-1]] = text
        assert fast.is_valid(seed) == reference.is_valid(seed), text


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(doc=_FACTS)
def test_both_validators_accept_generated_good_facts(doc: dict) -> None:
    fast, reference = _validators()
    assert fast.is_valid(doc) and reference.is_valid(doc)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(doc=_mutated_facts())
def test_both_validators_agree_on_generated_changed_facts(doc: Any) -> None:
    fast, reference = _validators()
    assert fast.is_valid(doc) == reference.is_valid(doc)

"""The one-walk verdict says yes to facts exactly when the checks that explain facts (the
reference schema validator, the calendar, provenance) find nothing to report: a yes they
would contradict lets bad facts through, a no they would not sends every good record down
the slow path."""
from __future__ import annotations

import copy
import json
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from facts_strategies import SCHEMA, broken_facts, valid_facts
from policyengine.diagnostics import DiagnosticError
from policyengine.facts import check_facts
from policyengine.facts.dates import ANY_DAY, _values_at, calendar_errors, date_rule
from policyengine.facts.jsondata import check_json_data
from policyengine.facts.provenance import provenance_errors
from policyengine.facts.schema import schema_date_paths, validators
from policyengine.facts.verdict import verdict

pytest.importorskip("jsonschema_rs")

#: The example months: interactions, activities, transmission days and monitoring periods
#: drawn facts often leave out.
EXAMPLES = [json.loads(path.read_text()) for path in sorted((Path(__file__).parent.parent / "examples").glob("*.json"))]

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def explained(data: Any, calendar: bool = True) -> list:
    """Everything the explaining checks report about `data`: errors and warnings."""
    diagnostics = validators(SCHEMA).diagnostics(data)
    if calendar and not any(d.severity == "error" for d in diagnostics):
        diagnostics += calendar_errors(data) + provenance_errors(data)
    return diagnostics


def json_data(data: Any) -> bool:
    """Whether `data` gets past the JSON-data check that runs before either."""
    try:
        check_json_data(data)
    except DiagnosticError:
        return False
    return True


def _date_locations(facts: dict) -> list[tuple]:
    return [at for path in schema_date_paths() for at, _ in _values_at(facts, path)]


def _set(facts: dict, at: tuple, value: Any) -> None:
    node: Any = facts
    for step in at[:-1]:
        node = node[step]
    node[at[-1]] = value


@st.composite
def off_calendar(draw: st.DrawFn) -> dict:
    """Valid facts with one thing changed that only the calendar, ids, whole numbers or
    provenance checks see: a date moved to another day near the month (in it or not, in the
    monitoring period or not) or to no day at all, a monitoring period moved, an id used
    twice, a whole number given as 600.0, a pointer to no fact."""
    facts = copy.deepcopy(draw(st.sampled_from(EXAMPLES) | valid_facts()))
    first = date.fromisoformat(facts["month"] + "-01")
    near = st.integers(-40, 70).map(lambda days: str(first + timedelta(days=days)))
    no_day = st.tuples(st.sampled_from([0, first.year - 1, first.year, first.year + 1]), st.integers(0, 13),
                       st.integers(0, 32)).map(lambda ymd: "{:04d}-{:02d}-{:02d}".format(*ymd))
    change = draw(st.sampled_from(["date", "any day", "as_of", "period", "id", "fraction", "provenance"]))
    if change == "date" and _date_locations(facts):
        _set(facts, draw(st.sampled_from(_date_locations(facts))), draw(near | no_day))
    elif change == "any day":  # a date no rule places: consent, episode start, care-plan changes, escalations
        anywhere = [at for at in _date_locations(facts) if date_rule(at[0]) == ANY_DAY and at[0] != "monitoring_period"]
        if anywhere:
            _set(facts, draw(st.sampled_from(anywhere)), draw(no_day))
        else:
            facts["consent"] = {"obtained": True, "date": draw(no_day)}
    elif change == "as_of":
        facts["as_of"] = draw(near)
    elif change == "period":
        start = first + timedelta(days=draw(st.integers(-45, 45)))
        facts["monitoring_period"] = {"start": str(start), "end": str(start + timedelta(days=draw(st.integers(-3, 33))))}
    elif change == "id" and len(facts.get("interactions", ())) >= 2:
        facts["interactions"][-1]["id"] = facts["interactions"][0]["id"]
    elif change == "fraction" and facts.get("interactions"):
        item = draw(st.sampled_from(facts["interactions"]))
        item["duration_seconds"] = draw(st.sampled_from([float, Decimal]))(item["duration_seconds"])
    elif change == "provenance":
        at = draw(st.sampled_from(["/month", "/interactions/0", "/transmission_days/40", "/provenance", "/nothing"]))
        facts["provenance"] = {at: ["Observation/obs-1"]}
    return facts


@SETTINGS
@given(valid_facts())
def test_valid_facts_pass_in_one_walk(facts: dict) -> None:
    assert explained(facts) == []
    assert verdict(SCHEMA, calendar=True)(facts)


@SETTINGS
@given(off_calendar())
def test_off_calendar_facts_are_sent_to_the_explaining_checks(facts: dict) -> None:
    assert verdict(SCHEMA, calendar=True)(facts) == (explained(facts) == [])


@SETTINGS
@given(broken_facts())
def test_broken_facts_are_sent_to_the_explaining_checks(facts: Any) -> None:
    assume(json_data(facts))
    assert verdict(SCHEMA, calendar=True)(facts) == (explained(facts) == [])
    assert verdict(SCHEMA, calendar=False)(facts) == (explained(facts, calendar=False) == [])


def test_a_no_is_explained(facts: dict) -> None:
    facts["interactions"][1]["id"] = facts["interactions"][0]["id"]
    facts["interactions"][0]["duration_seconds"] = 600.0
    assert not verdict(SCHEMA, calendar=True)(facts)
    with pytest.raises(DiagnosticError) as raised:
        check_facts(facts)
    assert [(d.where, d.code) for d in raised.value.diagnostics] == [
        ("/interactions/0/duration_seconds", "facts.wrong_type")]


def test_without_the_fast_validator_every_record_is_explained(facts: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    assert verdict(SCHEMA, calendar=True)(facts)
    monkeypatch.setattr(validators(SCHEMA), "fast", None)
    assert not verdict(SCHEMA, calendar=True)(facts)
    assert check_facts(facts).warnings == ()


#: A pack's own facts schema may nest lists: each depth is walked.
NESTED = {
    "$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object", "additionalProperties": False,
    "properties": {
        "grid": {"type": "array", "items": {"type": "array", "items": {"type": "integer"}}},
        "visits": {"type": ["array", "null"], "items": {"type": "object", "properties": {
            "spans": {"type": "array", "items": {"type": "object", "properties": {"seconds": {"type": "integer"}}}}}}},
    },
}


@pytest.mark.parametrize("data, whole", [
    ({"grid": [[1, 2], [3]], "visits": [{"spans": [{"seconds": 60}]}]}, True),
    ({"grid": [[1, 2], [3.0]]}, False),
    ({"visits": [{"spans": [{"seconds": 60}, {"seconds": 60.0}]}]}, False),
    ({"visits": None, "grid": []}, True),
])
def test_whole_numbers_are_checked_at_every_depth_of_a_packs_own_schema(data, whole):
    assert verdict(NESTED, calendar=False)(data) is whole
    assert (validators(NESTED).diagnostics(data) == []) is whole

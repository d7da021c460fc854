"""The resource limits are stated once, in policyengine.limits: the facts schema's maxima
and the README's "Limits" section say the same numbers."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from policyengine import limits
from policyengine.facts import facts_schema

README = Path(__file__).resolve().parent.parent / "README.md"


def _maxima(node: Any, at: tuple = ()) -> dict[tuple, int]:
    """Every maximum and maxItems in the schema, by where."""
    found = {}
    if isinstance(node, dict):
        for keyword in ("maximum", "maxItems"):
            if keyword in node:
                found[at + (keyword,)] = node[keyword]
        for key, child in node.items():
            found.update(_maxima(child, at + (key,)))
    return found


def test_the_schema_maxima_are_the_limits_in_code():
    assert _maxima(facts_schema()) == {
        ("properties", "transmission_days", "maxItems"): limits.MAX_TRANSMISSION_DAYS,
        ("properties", "other_services", "items", "properties", "duration_seconds", "maximum"):
            limits.SECONDS_PER_LONGEST_MONTH,
        ("properties", "claims", "items", "properties", "units", "maximum"): limits.MAX_UNITS,
        ("$defs", "interaction", "properties", "duration_seconds", "maximum"): limits.SECONDS_PER_DAY,
        ("$defs", "activity", "properties", "duration_seconds", "maximum"): limits.SECONDS_PER_DAY,
    }


def test_each_maximum_says_why_in_its_description():
    for at, maximum in _maxima(facts_schema()).items():
        at = at[:-1]
        node: Any = facts_schema()
        for step in at:
            node = node[step]
        assert f"at most {maximum}" in node["description"], at


def test_the_readme_states_every_limit():
    section = README.read_text(encoding="utf-8").split("\n## Limits\n", 1)[1].split("\n## ", 1)[0]
    constants = {name: value for name, value in vars(limits).items() if name.isupper()}
    assert len(constants) == 22
    for name, value in constants.items():
        assert f"{value:,}" in section, name

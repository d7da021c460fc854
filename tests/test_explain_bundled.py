"""Explanations of decisions made with the bundled packs as they are today (the snapshot
tests in test_explain.py use a frozen copy of a pack, so they cannot see a pack feature
the renderers do not know yet: blocked rules, opportunities, ...)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

import policyengine
from policyengine.explain import explain, render

EXAMPLES = sorted((Path(__file__).parent.parent / "examples").glob("*.json"))


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
@pytest.mark.parametrize("output_format", ["text", "markdown", "html"])
def test_every_example_explains_in_every_format(path, output_format):
    facts = json.loads(path.read_text())
    facts["as_of"] = facts["month"] + "-10"  # mid-month: opportunities are offered too
    facts["other_services"] = [{"code": "99454", "practitioner": "DR-OTHER"}]  # a blocked rule
    decision = policyengine.evaluate(facts, trace="full")
    pack = policyengine.load_pack(decision["pack"]["id"])
    text = render(explain(decision, pack), output_format)
    for line in decision["billable"] + decision["not_billable"]:
        assert line["code"] in text

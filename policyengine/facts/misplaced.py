"""A decision given where facts are expected.

A decision holds the facts' `patient_id` and `month`, so read as facts it passes with a
warning per other key and is decided as a month with nothing in it: $0.00, exit 0 (an
`impact` over a batch's output reported "0 changed"). A document with most of the keys
only a decision has (`schemas/decision.schema.json` requires them; the facts schema names
none of them) is refused as what it is.
"""
from __future__ import annotations

import functools
from typing import Any

from .. import schemacheck
from ..diagnostics import Diagnostic
from .schema import facts_schema


@functools.cache
def _decision_keys() -> frozenset[str]:
    """The keys every decision has and no facts do."""
    decision = schemacheck.bundled_schema("decision.schema.json")
    return frozenset(decision["required"]) - set(facts_schema()["properties"])


def decision_given(data: Any) -> Diagnostic | None:
    """An error when `data` is a decision rather than facts, else None."""
    if not isinstance(data, dict):
        return None
    found = sorted(_decision_keys() & data.keys())
    if 2 * len(found) <= len(_decision_keys()):
        return None
    return Diagnostic("facts.is_a_decision", f"this is a decision (it has {', '.join(found)}), not a patient-month's "
                      "facts", hint="give the facts the decision was made from; `policyengine verify "
                      "DECISION FACTS` checks a decision against them")

"""Fuzzing packs: the bundled 2024 pack with one to three of its values replaced by hostile
ones (wrong types, magnitudes, impossible dates, broken templates and expressions). The
property: compiling gives a pack or a clean `DiagnosticError` with a location; a pack that
compiles decides the example months or fails with a located `EvaluationFailed`; never any
other exception. `HYPOTHESIS_PROFILE=long` runs many more examples (tests/conftest.py)."""
from __future__ import annotations

import json
import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import policyengine
from packcopy import ROOT
from policyengine import DiagnosticError, compile_pack
from policyengine.engine import EvaluationFailed

BASE = (ROOT / "rulepacks" / "cms-rpm-2024" / "pack.yaml").read_text()
LINES = BASE.split("\n")
#: lines holding `key: value` with a scalar value, and where the value starts
SCALARS = [(i, m.start(2)) for i, line in enumerate(LINES)
           if (m := re.match(r"^(\s*(?:- )?[\w.]+: )(\S.*)$", line)) and not m.group(2).startswith(("|", ">"))]
HOSTILE = ["-1", "0", "1e400", "99999999999999999999999999", "-1.55", "$-1", "$0", "$1e9", "2026-02-30", "2024-13-01",
           "'{'", "'{foo}'", "'{actual.__class__}'", "'{actual:>300000000}'", "'{0}'", "[]", "{}", "null", "true",
           "'\\ud800'", "'x' ", "countable_time >= 1200", "add_days(as_of_date, 999999999)", "1 // 0 == 1",
           "'(((((((((('", "supply_days + 1 min", "min(transmission_days where false) > 2024-01-01",
           "\"99475\"", "interactions", "'a' * 40"]
FACTS = [json.loads(path.read_text()) for path in sorted((ROOT / "examples").glob("2024-*.json"))]
FACTS = [dict(facts, month="2024-03") if not facts["month"].startswith("2024") else facts for facts in FACTS]


@st.composite
def mutated(draw) -> str:
    lines = list(LINES)
    for _ in range(draw(st.integers(1, 3))):
        index, start = draw(st.sampled_from(SCALARS))
        lines[index] = lines[index][:start] + draw(st.sampled_from(HOSTILE))
    return "\n".join(lines)


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])  # examples: the profile's (tests/conftest.py)
@given(text=mutated())
def test_a_mutated_pack_compiles_or_says_where_it_is_wrong(tmp_path_factory, text):
    directory = tmp_path_factory.mktemp("pack")
    (directory / "pack.yaml").write_text(text)
    try:
        pack = compile_pack(directory)
    except DiagnosticError as error:
        assert error.diagnostics and all(d.location for d in error.diagnostics), error
        return
    for facts in FACTS:
        try:
            policyengine.evaluate(facts, pack, trace="full")
        except EvaluationFailed as error:
            assert all(d.location for d in error.diagnostics), error
        except DiagnosticError as error:  # a mutated pack may cover other months, or none
            assert all(d.code.startswith(("facts.", "option.")) for d in error.diagnostics), error

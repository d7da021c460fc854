"""Hostile YAML in packs and pack test cases (issue 11): aliases may share data, but an alias
bomb, an alias inside its own anchor or nesting through aliases is refused fast, at a line
and column, by `policyengine validate` and `policyengine test` alike."""
from __future__ import annotations

import time

import pytest
from click.testing import CliRunner

from policyengine.cli import main
from policyengine.diagnostics import DiagnosticError
from policyengine.limits import MAX_YAML_ALIAS_EXPANSION, MAX_YAML_DEPTH
from policyengine.yamlsource import load_yaml

HEADER = ("pack: {id: overlay, version: 1.0.0, fee_schedule_year: 2026, "
          "effective: {from: 2026-01-01, to: 2026-12-31}%s}\nextends: cms-rpm-2026\n")


def nested_laughs(levels: int) -> str:
    """A flow list repeating the one before it nine times, `levels` deep: 9**levels strings."""
    text = '&l0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'
    for n in range(1, levels):
        text = f"&l{n} [{text}," + ",".join([f"*l{n - 1}"] * 8) + "]"
    return text


def load_error(text: str) -> tuple[str, str]:
    with pytest.raises(DiagnosticError) as caught:
        load_yaml(text, "pack.yaml")
    (diagnostic,) = caught.value.diagnostics
    return diagnostic.location, diagnostic.code


def test_an_alias_bomb_is_refused_at_once():
    started = time.process_time()
    assert load_error("laughs: " + nested_laughs(9) + "\n") == ("pack.yaml:1:29", "yaml.alias_expansion")
    assert time.process_time() - started < 0.5


def test_a_repeated_long_string_counts_its_characters():
    text = 'a: &s "' + "x" * 1000 + '"\nb: [' + ", ".join(["*s"] * (MAX_YAML_ALIAS_EXPANSION // 1000)) + "]\n"
    assert load_error(text) == ("pack.yaml:1:4", "yaml.alias_expansion")


def test_what_a_pack_test_needs_of_aliases_stays_allowed():
    days = "[" + ", ".join(f"2026-03-{d:02d}" for d in range(1, 31)) + "]"
    doc = load_yaml(f"days: &d30 {days}\ncases:\n" + "".join("  - {facts: {transmission_days: *d30}}\n"
                                                          for _ in range(200)), "cases.yaml")
    assert doc.data["cases"][199]["facts"]["transmission_days"] is doc.data["days"]


def test_an_alias_inside_its_own_anchor_is_refused():
    assert load_error("a: &a [1, *a]\n") == ("pack.yaml:1:4", "yaml.alias_cycle")
    assert load_error("a: &a {b: {c: *a}}\n") == ("pack.yaml:1:4", "yaml.alias_cycle")


def test_nesting_through_aliases_is_bounded_like_nesting_written_out():
    half = MAX_YAML_DEPTH // 2 + 1
    deep = "[" * half + "]" * half
    text = f"a: &a {deep}\nb: {'[' * half}*a{']' * half}\n"
    assert load_error(text) == ("pack.yaml:1:4", "yaml.too_deep")


def test_validate_refuses_an_alias_bomb_in_a_pack(tmp_path):
    pack = tmp_path / "pack"
    pack.mkdir()
    citations = ', citations: [&s "' + "x" * 100_000 + '", ' + ", ".join(["*s"] * 20_000) + "]"
    (pack / "pack.yaml").write_text(HEADER % citations)
    started = time.process_time()
    result = CliRunner().invoke(main, ["validate", str(pack)])
    assert time.process_time() - started < 5
    assert result.exit_code == 1
    assert "[yaml.alias_expansion]" in result.stderr and "Traceback" not in result.output


def test_pack_tests_refuse_an_alias_bomb_in_facts(tmp_path):
    pack = tmp_path / "pack"
    (pack / "tests").mkdir(parents=True)
    (pack / "pack.yaml").write_text(HEADER % "")
    (pack / "tests" / "bomb.yaml").write_text(
        "cases:\n  - name: bomb\n    facts: {patient_id: PT-1, month: 2026-03, x_extra: " + nested_laughs(9)
        + "}\n    expect: {billable: []}\n")
    result = CliRunner().invoke(main, ["test", str(pack)])
    assert result.exit_code == 1
    assert "bomb.yaml:3:" in result.stderr and "[yaml.alias_expansion]" in result.stderr

"""`policyengine diff`: what changed between two packs, as a compliance officer reads it (a
snapshot of the 2025 -> 2026 summary) and as tools read it (the data, the JSON bytes)."""
from __future__ import annotations

import json
from decimal import Decimal

import pytest
from click.testing import CliRunner

from policyengine.authoring.diff import ADDED, CHANGED, diff_packs
from policyengine.authoring.diff_render import render_diff
from policyengine.cli import main
from policyengine.packs import load_pack

#: a 2026 overlay that changes one rate (99457's RVU), one rule condition (99457 at 21 min),
#: and rewrites 99454's condition with other spacing and line breaks (no change)
OVERLAY = """\
pack: {id: practice-2026, version: 1.0.0, fee_schedule_year: 2026, effective: {from: 2026-01-01, to: 2026-12-31}}
extends: cms-rpm-2026
parameters:
  rvu_99457:
    values:
      2026-01-01: {value: 1.60, citation: domain reference 13.1, confidence: medium}
rules:
  - id: rpm.99457.first_20_minutes
    when: countable_time >= params.time_threshold + 1 min
  - id: rpm.99454.device_supply_16_days
    when: >-
      device_ok   and
      supply_days>=params.full_supply_days
"""


def run(*args: str):
    result = CliRunner().invoke(main, ["diff", *args])
    assert "Traceback" not in result.output and "Traceback" not in (result.stderr or "")
    return result


def between(text: str, start: str, end: str) -> str:
    return text[text.index(start):text.index(end)]


@pytest.fixture(scope="module")
def year_2026():
    return diff_packs(load_pack("cms-rpm-2025"), load_pack("cms-rpm-2026"))


@pytest.fixture
def overlay(tmp_path):
    (tmp_path / "pack.yaml").write_text(OVERLAY)
    return tmp_path


def test_the_2026_summary_reads_as_a_compliance_officer_would_write_it(year_2026, snapshot):
    markdown = render_diff(year_2026, "markdown")
    assert between(markdown, "## What changes money and billability", "## In detail") == snapshot


def test_99445_and_99470_are_new_codes(year_2026):
    added = [entry.key for entry in year_2026.of_kind("code") if entry.status == ADDED]
    assert added == ["99445", "99470"]


def test_the_99453_day_threshold_falls_from_16_to_2(year_2026):
    setup = next(p for p in year_2026.parameters if p.name == "setup_min_days")
    assert [v.value for v in setup.old_in_force] == [16] and [v.value for v in setup.new_in_force] == [2]
    assert setup.reach.codes == ("99453",)
    assert "setup_min_days: 16 → 2 (decides 99453)" in render_diff(year_2026, "text")
    assert "`setup_min_days`: 16 → 2 (decides 99453)" in render_diff(year_2026, "markdown")


def test_rates_are_decimal_at_each_conversion_factor_on_the_first_day(year_2026):
    by_basis = {table.basis: {rate.code: (rate.old, rate.new) for rate in table.rates} for table in year_2026.rates}
    assert by_basis["conversion_factor"]["99454"] == (Decimal("43.02"), Decimal("52.11"))
    assert by_basis["conversion_factor_qp"]["99454"] == (None, Decimal("52.37"))
    assert all(isinstance(rate.new, Decimal) for table in year_2026.rates for rate in table.rates)
    assert "99454  $43.02      $52.11      +$9.09 (+21.1%)" in render_diff(year_2026, "text")


@pytest.mark.parametrize("output_format", ["text", "markdown", "json"])
def test_a_pack_against_itself_is_empty_and_says_so(output_format):
    same = diff_packs(load_pack("cms-rpm-2026"), load_pack("cms-rpm-2026"))
    assert same.empty and not same.parameters and not same.entries
    result = run("cms-rpm-2026", "cms-rpm-2026", "--format", output_format)
    assert result.exit_code == 0
    if output_format == "json":
        assert json.loads(result.stdout)["empty"] is True
    else:
        assert "no differences" in result.stdout.lower()


def test_an_overlay_shows_exactly_its_rate_and_its_rule_condition(overlay):
    changed = diff_packs(load_pack("cms-rpm-2026"), load_pack(overlay))
    assert [(p.name, p.status) for p in changed.parameters] == [("rvu_99457", CHANGED)]
    assert [(e.kind, e.key, e.changed) for e in changed.entries] == [("rule", "rpm.99457.first_20_minutes", ("condition",))]
    rule = changed.entries[0]
    assert (rule.old or {})["condition"] == "countable_time >= params.time_threshold"
    assert (rule.new or {})["condition"] == "countable_time >= params.time_threshold + 1 min"
    moved = [(t.basis, r.code, r.old, r.new) for t in changed.rates for r in t.rates if r.old != r.new]
    assert moved == [("conversion_factor", "99457", Decimal("51.77"), Decimal("53.44")),
                     ("conversion_factor_qp", "99457", Decimal("52.03"), Decimal("53.71"))]
    text = run("cms-rpm-2026", str(overlay)).stdout
    assert "condition countable_time >= params.time_threshold → countable_time >= params.time_threshold + 1 min" in text
    assert "99457  $51.77      $53.44      +$1.67 (+3.2%)" in text
    assert "rpm.99454" not in text


def test_json_parses_and_is_the_same_bytes_every_run():
    first = run("cms-rpm-2025", "cms-rpm-2026", "--format", "json")
    second = run("cms-rpm-2025", "cms-rpm-2026", "--format", "json")
    assert first.exit_code == 0 and first.stdout_bytes == second.stdout_bytes
    data = json.loads(first.stdout)
    assert data["empty"] is False and data["new"]["id"] == "cms-rpm-2026"


def test_a_bad_pack_ref_exits_2_with_a_clear_message():
    result = run("cms-rpm-2025", "no-such-pack")
    assert result.exit_code == 2
    assert "no rule pack at 'no-such-pack'" in result.stderr and result.stdout == ""

"""policyengine diff: what changed between two packs, resolved through extends:, money and
billability first."""
from __future__ import annotations

import json

from click.testing import CliRunner

from policyengine.authoring.diff import diff_packs
from policyengine.authoring.diff_render import render_diff
from policyengine.cli import main
from policyengine.packs import load_pack

OVERLAY = """\
pack:
  id: acme-rpm-2026
  version: 1.0.0
  fee_schedule_year: 2026
  effective: {from: 2026-01-01, to: 2026-12-31}
extends: cms-rpm-2026
parameters:
  rvu_99457:
    values:
      2026-01-01: {value: 1.60, citation: a practice's contract, confidence: high}
rules:
  - id: rpm.99470.first_10_minutes
    when: countable_time >= params.short_time_threshold  and   countable_time < params.time_threshold
  - id: rpm.99445.device_supply_2_to_15_days
    when: device_ok and supply_days >= params.short_supply_days and supply_days <= params.full_supply_days
"""


def run(*args):
    result = CliRunner().invoke(main, [str(a) for a in args])
    assert "Traceback" not in result.output
    return result


def summary(markdown: str) -> str:
    """The part a compliance officer reads first: up to the detail."""
    return markdown.split("\n## In detail")[0]


def test_2025_to_2026_reads_as_the_cy2026_summary(snapshot):
    markdown = run("diff", "cms-rpm-2025", "cms-rpm-2026", "--format", "markdown").output
    assert summary(markdown) == snapshot


def test_2025_to_2026_names_the_new_codes_the_setup_threshold_and_the_rates():
    diff = diff_packs(load_pack("cms-rpm-2025"), load_pack("cms-rpm-2026"))
    codes = {entry.key: entry.status for entry in diff.of_kind("code")}
    assert codes["99445"] == codes["99470"] == "added"
    setup = next(p for p in diff.parameters if p.name == "setup_min_days")
    assert [v.words for v in setup.old_in_force] == ["16"] and [v.words for v in setup.new_in_force] == ["2"]
    text = render_diff(diff, "text")
    assert "setup_min_days: 16 → 2 (decides 99453)" in text
    assert "99454  $43.02      $52.11      +$9.09 (+21.1%)" in text
    assert "99445 is new" in text and "99470 is new" in text


def test_a_pack_against_itself_has_no_differences_and_says_so():
    diff = diff_packs(load_pack("cms-rpm-2026"), load_pack("cms-rpm-2026"))
    assert diff.empty
    assert "NO DIFFERENCES" in render_diff(diff, "text")


def test_an_overlay_shows_exactly_the_rate_and_the_condition_it_changed(tmp_path):
    (tmp_path / "pack.yaml").write_text(OVERLAY)
    diff = diff_packs(load_pack("cms-rpm-2026"), load_pack(tmp_path))
    assert [p.name for p in diff.parameters] == ["rvu_99457"]
    changed = [(e.kind, e.key, e.changed) for e in diff.entries if e.status != "unchanged"]
    # spacing alone is no change: the 99470 rule's condition is the same tree
    assert changed == [("rule", "rpm.99445.device_supply_2_to_15_days", ("condition",))]
    text = render_diff(diff, "text")
    assert "99457  $51.77      $53.44      +$1.67 (+3.2%)" in text
    assert "supply_days < params.full_supply_days → " in text


def test_json_is_data_and_the_same_bytes_each_run():
    first = run("diff", "cms-rpm-2024", "cms-rpm-2026", "--format", "json").output
    assert first == run("diff", "cms-rpm-2024", "cms-rpm-2026", "--format", "json").output
    data = json.loads(first)
    assert data["empty"] is False and data["old"]["id"] == "cms-rpm-2024"


def test_an_unknown_pack_exits_2_with_a_message():
    result = run("diff", "cms-rpm-2025", "cms-rpm-2099")
    assert result.exit_code == 2
    assert "no rule pack at 'cms-rpm-2099'" in result.output

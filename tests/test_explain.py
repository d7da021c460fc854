"""Explanations of decisions made by the bundled 2026 pack: a few focused snapshots of the
sections an auditor reads (a time ledger, the codes' why and why not), and assertions on
what each section must say."""
from __future__ import annotations

import copy
import json
import re

import pytest
from click.testing import CliRunner

from explain_cases import PACK_ID, decision, pack
from policyengine.api import to_json
from policyengine.cli import main
from policyengine.explain import explain, render
from policyengine.explain.html import render_index
from policyengine.explain.text import ledger_lines


def between(text: str, start: str, end: str) -> str:
    """The part of a rendering from the line `start` up to the line `end`."""
    return text[text.index(start):text.index(end, text.index(start))]


@pytest.mark.parametrize("name", ["long_month_addon_cap", "excluded_time_every_kind", "billed_elsewhere"])
def test_time_ledger(name, snapshot):
    made, _ = decision(name)
    ledger = explain(made, pack()).ledgers[0]
    assert "\n".join(ledger_lines(ledger)) == snapshot


def test_codes_with_a_documentation_gap(snapshot):
    made, _ = decision("documentation_gap")
    text = render(explain(made, pack()), "text")
    assert between(text, "Codes", "Findings") == snapshot(name="text")
    markdown = render(explain(made, pack()), "markdown")
    assert between(markdown, "## Codes", "## Findings") == snapshot(name="markdown")


def test_codes_stopped_by_a_gate_in_html(snapshot):
    made, _ = decision("no_consent")
    page = render(explain(made, pack()), "html")
    assert between(page, "<h2>Codes</h2>", "<h2>Findings</h2>") == snapshot


def test_ledger_crossings_and_cap():
    made, _ = decision("long_month_addon_cap")
    ledger = explain(made, pack()).ledgers[0]
    crossings = [(c.clock, c.earned, c.replaced) for row in ledger.rows for c in row.crossings]
    assert [c[0] for c in crossings] == ["10:00", "20:00", "40:00", "60:00"]
    assert crossings[1] == ("20:00", ["99457 x1"], ["99470"])
    assert ledger.cap_seconds == 80 * 60 and "addon_max_units" in (ledger.cap or "")
    assert [row.capped for row in ledger.rows] == [False, False, False, True]


def test_a_code_billed_elsewhere_is_never_earned_in_the_ledger():
    """The seed's 22 minutes with 99457 billed elsewhere: 99457 is blocked, so no running
    total earns it, and 99470 is reached at 10:00 but not billed (R-28)."""
    made, _ = decision("billed_elsewhere")
    ex = explain(made, pack())
    crossings = [c for row in ex.ledgers[0].rows for c in row.crossings]
    assert all(c.earned == [] for c in crossings)
    assert crossings[0].clock == "10:00" and crossings[0].reached[0].startswith("99470 is met but not billed: 99457")
    assert not any(c.billable and c.code == "99457" for c in ex.codes) and ex.disagreements == []


def test_every_kind_of_excluded_time_is_named():
    made, _ = decision("excluded_time_every_kind")
    ledger = explain(made, pack()).ledgers[0]
    why = {row.id: (row.excluded_by, row.documentation_gap) for row in ledger.rows if not row.counted}
    assert why["IX-20260302-02"][0] == "two_way"                              # voicemail: one-way
    assert "item != \"scheduling\"" in why["IX-T-20"][0]                    # scheduling only
    assert why["IX-20260316-02"][0] == 'program == "rpm"'                   # CCM time
    assert "during_em_visit" in why["IX-20260312-01"][0]                    # E/M visit
    assert why["IX-T-21"] == ("present(performer)", True)                   # documentation missing
    assert why["IX-20260318-01"][0] == "modality in counted_modalities"     # an option decides the list
    looked = {row.id: row.looked_at for row in ledger.rows}
    assert looked["IX-20260310-03"] == ["performer.role = ai_system"]
    assert "options.countable_time" in why["AC-20260309-01"][0]             # an option (not added)


def test_documentation_gap_is_shown_apart_with_the_fields_that_unlock():
    made, _ = decision("documentation_gap")
    line = next(c for c in explain(made, pack()).codes if c.code == "99457")
    assert line.status == "not_met" and line.gaps_would_unlock is True
    assert line.unlock_fields == ["/interactions/1/performer"]
    addon = next(c for c in explain(made, pack()).codes if c.code == "99458")
    assert addon.gaps_would_unlock is False


def test_why_not_by_seconds():
    made, _ = decision("not_billable_19min59s")
    line = next(c for c in explain(made, pack()).codes if c.code == "99457")
    assert (line.actual, line.required, line.short_by) == ("19 min 59 s", "20 min", "1 s")
    assert line.reason.startswith("19 min 59 s of the required 20 min of RPM treatment-management time")


def test_a_different_pack_is_said_plainly():
    made, _ = decision("billable_20_minutes")
    made["pack"]["sha256"] = "0" * 64
    ex = explain(made, pack())
    assert "is NOT the pack this decision was made with" in render(ex, "text")
    assert ex.ledgers == []  # values read with another pack's slots would be guesses


def test_an_edited_decision_does_not_follow_from_its_trace():
    made, _ = decision("billable_20_minutes")
    edited = copy.deepcopy(made)
    edited["billable"][0]["units"] = 2
    ex = explain(edited, pack())
    assert len(ex.disagreements) == 1 and "rule rpm.99457.first_20_minutes" in ex.disagreements[0]
    assert "does not follow from its own trace" in render(ex, "text")


def test_compact_trace_names_what_needs_the_full_trace():
    made, _ = decision("compact_trace")
    ex = explain(made, pack())
    assert ex.ledgers == [] and "time ledger" in ex.needs_full_trace
    assert "need the full trace" in render(ex, "text")
    assert any(step.slot == "definition:countable_time" and step.value == "22 min" for step in ex.steps)


def test_parameters_are_those_read():
    made, _ = decision("not_billable_19min59s")
    names = [p.name for p in explain(made, pack()).parameters]
    assert "time_threshold" in names and "rvu_99470" in names
    assert "rvu_99457" not in names and "conversion_factor_qp" not in names  # 99457 is not billed; not a QP


def test_html_is_self_contained():
    made, _ = decision("long_month_addon_cap")
    page = render(explain(made, pack()), "html")
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page) and "@media print" in page
    index = render_index([(explain(made, pack()), "PT-1.html")])
    assert 'href="PT-1.html"' in index


def test_cli_explain_and_evaluate_formats(tmp_path):
    made, facts = decision("documentation_gap")
    (tmp_path / "d.json").write_text(to_json(made))
    (tmp_path / "f.json").write_text(json.dumps(facts))
    runner = CliRunner()
    result = runner.invoke(main, ["explain", str(tmp_path / "d.json"), "--format", "markdown"])
    assert result.exit_code == 0 and "**Documentation missing**" in result.output
    for output_format in ("markdown", "html", "text"):
        result = runner.invoke(main, ["evaluate", str(tmp_path / "f.json"), "--pack", PACK_ID, "--format", output_format])
        assert result.exit_code == 0, result.output
    (tmp_path / "bad.json").write_text("[1, 2]")
    result = runner.invoke(main, ["explain", str(tmp_path / "bad.json")])
    assert result.exit_code == 2 and "Traceback" not in result.output


def test_cli_report_writes_pages_and_an_index(tmp_path):
    lines = [json.dumps(decision(name)[0]) for name in ("billable_20_minutes", "code_99470_2026")]
    (tmp_path / "out.jsonl").write_text("\n".join(lines + ['{"line": 3, "error": {}}']) + "\n")
    result = CliRunner().invoke(main, ["report", str(tmp_path / "out.jsonl"), "--out", str(tmp_path / "html")])
    assert result.exit_code == 1 and "1 line(s) skipped" in result.output
    index = (tmp_path / "html" / "index.html").read_text()
    pages = sorted(p.name for p in (tmp_path / "html").glob("0*.html"))
    assert len(pages) == 2 and all(f'href="{p}"' in index for p in pages)


def as_engine_0_5_trace(made: dict) -> dict:
    """The decision with its full trace's parts as engines up to 0.5.0 wrote them: an
    object {node, expr, value} per evaluated part, in place of one array aligned with the
    expression's part table."""
    old = copy.deepcopy(made)
    for entry in old["trace"]["entries"]:
        table = pack().expressions[pack().slot_named[entry["slot"]]].part_nodes
        entry["parts"] = [{"node": k, "expr": text, "value": value} for (k, text), value in zip(table, entry["parts"])
                          if value != {"$unevaluated": True}]
    return old


@pytest.mark.parametrize("name", ["long_month_addon_cap", "documentation_gap", "excluded_time_every_kind"])
def test_a_decision_traced_by_an_older_engine_explains_as_it_did(name):
    """An auditor keeps decisions for years: the one trace reader reads the parts of a
    trace written before engine 0.6.0 (an object per part) as it reads today's array."""
    made, _ = decision(name)
    old = as_engine_0_5_trace(made)
    assert old["trace"]["entries"] != made["trace"]["entries"]
    for output in ("text", "markdown"):
        assert render(explain(old, pack()), output) == render(explain(made, pack()), output)


def test_an_unevaluated_part_is_marked_where_it_stands_in_the_part_table():
    made, _ = decision("no_consent")
    marked = [(entry["slot"], i) for entry in made["trace"]["entries"] for i, value in enumerate(entry["parts"])
              if value == {"$unevaluated": True}]
    assert marked, "a gate that fails leaves the parts after it unevaluated"
    for entry in made["trace"]["entries"]:
        assert len(entry["parts"]) == len(pack().expressions[pack().slot_named[entry["slot"]]].part_nodes)

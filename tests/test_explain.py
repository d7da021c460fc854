"""Renderings of one decision (text, Markdown, HTML), pinned by snapshots over a set of
decisions: billable, not billable by seconds, excluded time of each kind, an option that
relaxes, a documentation gap, a 2026 short-time case, the add-on cap, a failed gate and a
compact trace."""
from __future__ import annotations

import json
import re

import pytest
from click.testing import CliRunner

from explain_cases import CASES, decision, pack
from policyengine.api import to_json
from policyengine.cli import main
from policyengine.explain import explain, render
from policyengine.explain.html import render_index


@pytest.mark.parametrize("name", list(CASES))
@pytest.mark.parametrize("output_format", ["text", "markdown", "html"])
def test_rendering(name, output_format, snapshot):
    made, _ = decision(name)
    assert render(explain(made, pack()), output_format) == snapshot


def test_ledger_crossings_and_cap():
    made, _ = decision("long_month_addon_cap")
    (ledger,) = explain(made, pack()).ledgers
    crossings = [(c.clock, c.earned, c.replaced) for row in ledger.rows for c in row.crossings]
    assert [c[0] for c in crossings] == ["10:00", "20:00", "40:00", "60:00"]
    assert crossings[1][2] == ["99470"]
    assert ledger.cap_seconds == 80 * 60 and "addon_max_units" in ledger.cap


def test_every_kind_of_excluded_time_is_named():
    made, _ = decision("excluded_time_every_kind")
    (ledger,) = explain(made, pack()).ledgers
    why = {row.id: (row.excluded_by, row.documentation_gap) for row in ledger.rows if not row.counted}
    assert why["IX-20260302-02"][0] == "two_way"                              # voicemail: one-way
    assert "item != \"scheduling\"" in why["IX-T-20"][0]                    # scheduling only
    assert why["IX-20260316-02"][0] == 'program == "rpm"'                   # CCM time
    assert "during_em_visit" in why["IX-20260312-01"][0]                    # E/M visit
    assert why["IX-T-21"] == ("present(performer)", True)                   # documentation missing
    assert "options.messaging_counts" in why["IX-20260318-01"][0]           # an option
    assert "options.ai_system_counts" in why["IX-20260310-03"][0]           # an option
    assert "options.countable_time" in why["AC-20260309-01"][0]             # an option (not added)


def test_documentation_gap_is_shown_apart_with_the_fields_that_unlock():
    made, _ = decision("documentation_gap")
    line = next(c for c in explain(made, pack()).codes if c.code == "99457")
    assert line.status == "not_met" and line.gaps_would_unlock
    assert line.unlock_fields == ["/interactions/1/performer"]


def test_why_not_by_seconds():
    made, _ = decision("not_billable_19min59s")
    line = next(c for c in explain(made, pack()).codes if c.code == "99457")
    assert (line.actual, line.required, line.short_by) == ("19 min 59 s", "20 min", "1 s")
    assert line.reason == "19 min 59 s of the required 20 min of RPM interactive time"


def test_a_different_pack_is_said_plainly():
    made, _ = decision("billable_20_minutes")
    made["pack"]["sha256"] = "0" * 64
    text = render(explain(made, pack()), "text")
    assert "is NOT the pack this decision was made with" in text


def test_compact_trace_names_what_needs_the_full_trace():
    made, _ = decision("compact_trace")
    ex = explain(made, pack())
    assert ex.ledgers == [] and "time ledger" in ex.needs_full_trace
    assert "need the full trace" in render(ex, "text")


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
    result = runner.invoke(main, ["explain", str(tmp_path / "d.json"), "--pack", str(pack_dir()), "--format", "markdown"])
    assert result.exit_code == 0 and "**Documentation missing**" in result.output
    for output_format in ("markdown", "html", "text"):
        result = runner.invoke(main, ["evaluate", str(tmp_path / "f.json"), "--pack", str(pack_dir()), "--format", output_format])
        assert result.exit_code == 0, result.output
    (tmp_path / "bad.json").write_text("[1, 2]")
    result = runner.invoke(main, ["explain", str(tmp_path / "bad.json")])
    assert result.exit_code == 2 and "Traceback" not in result.output


def pack_dir():
    from explain_cases import PACK_DIR
    return PACK_DIR


def test_cli_report_writes_pages_and_an_index(tmp_path):
    lines = [json.dumps(decision(name)[0]) for name in ("billable_20_minutes", "code_99470_2026")]
    (tmp_path / "out.jsonl").write_text("\n".join(lines + ['{"line": 3, "error": {}}']) + "\n")
    result = CliRunner().invoke(main, ["report", str(tmp_path / "out.jsonl"), "--out", str(tmp_path / "html"),
                                       "--pack", str(pack_dir())])
    assert result.exit_code == 1 and "1 line(s) skipped" in result.output
    index = (tmp_path / "html" / "index.html").read_text()
    pages = sorted(p.name for p in (tmp_path / "html").glob("0*.html"))
    assert len(pages) == 2 and all(f'href="{p}"' in index for p in pages)

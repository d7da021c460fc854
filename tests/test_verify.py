"""verify: a decision re-derives byte for byte, or every differing JSON pointer is listed
with its cause (facts, pack, engine, or an edited decision)."""
from __future__ import annotations

import copy
import json
import re
import shutil

from click.testing import CliRunner

from explain_cases import PACK_ID, ROOT, decision, pack
from policyengine.api import evaluate, to_json
from policyengine.cli import main
from policyengine.explain import verify_decision
from policyengine.explain.verify import json_diff
from policyengine.packs import load_pack


def _summary(result):
    return {"verified": result.verified, "causes": [
        {k: v for k, v in cause.items() if k not in ("recorded", "now")} for cause in result.causes],
        "pointers": [d["pointer"] for d in result.differences if not d["pointer"].startswith("/trace/")],
        "trace_pointers": sum(d["pointer"].startswith("/trace/") for d in result.differences)}


def test_an_untouched_decision_verifies_byte_for_byte():
    made, facts = decision("long_month_addon_cap")
    result = verify_decision(json.loads(to_json(made)), facts, pack(), to_json(made))
    assert result.verified and result.byte_identical and result.differences == [] and result.causes == []


def test_a_one_value_change_in_the_facts(snapshot):
    made, facts = decision("not_billable_19min59s")
    changed = copy.deepcopy(facts)
    changed["interactions"][1]["duration_seconds"] += 1          # 19:59 -> 20:00
    result = verify_decision(made, changed, pack())
    assert not result.verified and [c["cause"] for c in result.causes] == ["facts_changed"]
    assert "/facts_sha256" in [d["pointer"] for d in result.differences]
    assert _summary(result) == snapshot


def test_a_changed_parameter_value_in_the_pack(tmp_path, snapshot):
    """The bundled 2026 chain copied, and one threshold edited in its base year."""
    for year in ("2024", "2025", "2026"):
        shutil.copytree(ROOT / "rulepacks" / f"cms-rpm-{year}", tmp_path / f"cms-rpm-{year}")
    for year in ("2025", "2026"):
        path = tmp_path / f"cms-rpm-{year}" / "pack.yaml"
        path.write_text(re.sub(r"extends: (cms-rpm-\d+)", r"extends: ../\1", path.read_text()))
    made, facts = decision("not_billable_19min59s")
    base = tmp_path / "cms-rpm-2024" / "pack.yaml"
    text = base.read_text()
    edited = text.replace("{value: 20 min, citation: CPT 99457", "{value: 19 min, citation: CPT 99457")
    assert edited != text
    base.write_text(edited)
    result = verify_decision(made, facts, load_pack(tmp_path / "cms-rpm-2026"))
    (cause,) = result.causes
    assert cause["cause"] == "pack_changed"
    assert {"parameter": "time_threshold", "effective": "2024-01-01", "recorded": 1200, "now": 1140} in cause["changes"]
    assert "/pack/sha256" in [d["pointer"] for d in result.differences]
    assert _summary(result) == snapshot


def test_an_edited_decision(snapshot):
    made, facts = decision("billable_20_minutes")
    edited = copy.deepcopy(made)
    edited["billable"][0]["units"] = 2
    result = verify_decision(edited, facts, pack())
    assert [c["cause"] for c in result.causes] == ["result_changed"]
    assert [d["pointer"] for d in result.differences] == ["/billable/0/units"]
    assert _summary(result) == snapshot


def test_the_same_options_and_trace_form_are_used():
    made, facts = decision("messaging_counts_option")
    assert verify_decision(made, facts, pack()).verified
    compact, facts = decision("compact_trace")
    assert verify_decision(compact, facts, pack()).verified


def test_json_diff_pointers():
    assert json_diff({"a": [1, {"b/c": 2}]}, {"a": [1, {"b/c": 3}], "d": 1}) == [
        {"pointer": "/a/1/b~1c", "change": "changed", "recorded": 2, "rederived": 3},
        {"pointer": "/d", "change": "added", "rederived": 1}]


def test_cli_exit_status(tmp_path):
    made, facts = decision("documentation_gap")
    (tmp_path / "d.json").write_text(to_json(made))
    (tmp_path / "f.json").write_text(json.dumps(facts))
    runner = CliRunner()
    args = ["verify", str(tmp_path / "d.json"), str(tmp_path / "f.json"), "--pack", PACK_ID]
    result = runner.invoke(main, args)
    assert result.exit_code == 0 and result.output.startswith("verified")
    facts["interactions"][0]["duration_seconds"] = 601
    (tmp_path / "f.json").write_text(json.dumps(facts))
    result = runner.invoke(main, args + ["--format", "json"])
    assert result.exit_code == 1
    report = json.loads(result.output)
    assert report["causes"][0]["cause"] == "facts_changed" and not report["verified"]
    (tmp_path / "x.json").write_text('{"not": "a decision"}')
    result = runner.invoke(main, ["verify", str(tmp_path / "x.json"), str(tmp_path / "f.json")])
    assert result.exit_code == 2 and "Traceback" not in result.output
    other = evaluate(facts, pack(), {}, "full")
    other["pack"]["id"] = "no-such-pack"
    (tmp_path / "o.json").write_text(to_json(other))
    result = runner.invoke(main, ["verify", str(tmp_path / "o.json"), str(tmp_path / "f.json")])
    assert result.exit_code == 2 and "not bundled" in result.output

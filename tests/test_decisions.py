"""Decisions from the bundled packs: the contract's shape, determinism, and pinned output."""
from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

import policyengine
from policyengine.render import render_text

ROOT = Path(__file__).parent.parent
EXAMPLES = sorted((ROOT / "examples").glob("*.json"))
DECISION_SCHEMA = json.loads((ROOT / "schemas" / "decision.schema.json").read_text())


def example(name: str) -> dict:
    return json.loads((ROOT / "examples" / name).read_text())


def codes(decision) -> list[tuple[str, int]]:
    return [(line["code"], line["units"]) for line in decision["billable"]]


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
@pytest.mark.parametrize("trace", ["none", "compact", "full"])
def test_every_example_decision_matches_the_decision_schema(path, trace):
    facts = json.loads(path.read_text())
    try:
        decision = policyengine.evaluate(facts, trace=trace)
    except policyengine.DiagnosticError as error:  # a month no bundled pack covers yet
        assert error.diagnostics[0].code == "facts.no_pack"
        return
    jsonschema.Draft202012Validator(DECISION_SCHEMA).validate(json.loads(policyengine.to_json(decision)))


def test_same_facts_and_pack_give_byte_identical_json():
    facts = example("2026-03-voicemail-and-messages.json")
    first = policyengine.to_json(policyengine.evaluate(facts, trace="full"))
    shuffled = json.loads(json.dumps(facts), object_pairs_hook=lambda pairs: dict(reversed(pairs)))
    assert policyengine.to_json(policyengine.evaluate(shuffled, trace="full")) == first


def test_money_is_decimal_strings_and_total_adds_up():
    decision = policyengine.evaluate(example("2026-03-seed-22-minutes.json"))
    assert [line["amount"] for line in decision["billable"]] == ["51.77", "52.11"]
    assert decision["total"] == "103.88"


def test_the_seed_examples():
    assert codes(policyengine.evaluate(example("2026-03-seed-22-minutes.json")))[0] == ("99457", 1)
    assert codes(policyengine.evaluate(example("2026-03-seed-three-7-minute-calls.json")))[0] == ("99457", 1)


def test_19_min_59_s_is_not_99457_but_is_99470_in_2026():
    decision = policyengine.evaluate(example("2026-03-19min59s.json"))
    assert ("99457", 1) not in codes(decision) and ("99470", 1) in codes(decision)
    denied = next(line for line in decision["not_billable"] if line["code"] == "99457")
    assert denied["reason"].startswith("19 min 59 s of the required 20 min of RPM treatment-management time")
    assert (denied["actual"], denied["required"]) == (1199, 1200)


def test_no_consent_bills_nothing_and_says_documentation_missing():
    facts = example("2026-03-seed-22-minutes.json")
    facts["consent"] = None
    decision = policyengine.evaluate(facts)
    assert decision["billable"] == [] and decision["total"] == "0.00"
    assert {line["status"] for line in decision["not_billable"]} == {"documentation_missing"}


def test_an_option_relaxes_the_strict_reading():
    facts = example("2026-03-voicemail-and-messages.json")
    strict = policyengine.evaluate(facts)
    relaxed = policyengine.evaluate(facts, options={"messaging_counts": True, "ai_system_counts": True})
    assert "option.messaging_excluded" in [f["id"] for f in strict["findings"]]
    assert relaxed["options"]["messaging_counts"] is True
    assert ("99457", 1) in codes(relaxed) and ("99457", 1) not in codes(strict)


def test_compact_trace_is_aligned_with_the_pack_rule_table():
    decision = policyengine.evaluate(example("2026-03-seed-22-minutes.json"), trace="compact")
    pack = policyengine.load_pack("cms-rpm-2026")
    assert decision["trace"]["pack_sha256"] == pack.sha256
    assert len(decision["trace"]["values"]) == len(pack.trace_slots)


def test_decision_json_and_text_view(snapshot):
    decision = policyengine.evaluate(example("2026-03-19min59s.json"), trace="none")
    assert policyengine.to_json(decision) == snapshot(name="json")
    assert render_text(decision) == snapshot(name="text")


def test_the_full_trace_records_what_was_read():
    facts = example("2026-03-19min59s.json")
    facts["other_services"] = [{"code": "99490", "practitioner": "DR-7"}]
    trace = policyengine.evaluate(facts, trace="full")["trace"]
    entry = next(e for e in trace["entries"] if e["slot"] == "rule:rpm.99457.first_20_minutes:when")
    assert entry["value"] is False and entry["expression"] == "countable_time >= params.time_threshold"
    pack = policyengine.load_pack("cms-rpm-2026")
    table = pack.expressions[pack.slot_named[entry["slot"]]]
    assert dict(zip((text for _, text in table.part_nodes), entry["parts"])) == {
        "countable_time": 1199, "params.time_threshold": 1200}  # one value per part of the part table
    read = {p["name"]: p["effective"] for p in trace["parameters"]}
    assert read["time_threshold"] == "2024-01-01" and read["conversion_factor"] == "2026-01-01"
    assert "conversion_factor_qp" not in read and "rvu_99457" not in read  # not a QP; 99457 is not billed
    assert trace["service_dates"] == {"calendar_month": "2026-03-31", "episode": "2026-03-30",
                                      "period_30_day": "2026-03-30"}
    assert trace["billed_elsewhere"] == [{"code": "99490", "practitioner": "DR-7", "other_practitioner": True,
                                          "pointer": "/other_services/0"}]
    filtered = next(e for e in trace["entries"] if e["slot"] == "definition:documented_interactions")["filters"][0]
    assert [item["pointer"] for item in filtered["items"]] == [f"/interactions/{i}" for i in range(len(facts["interactions"]))]


def test_the_full_trace_writes_each_record_once_and_names_it_by_pointer_in_values():
    """A record of the facts' lists is under `records` once, by pointer, and every value
    that holds it says {"$ref": pointer}; read back (`resolved_trace`), the values hold the
    records as the facts gave them."""
    from policyengine.engine.recorded import resolved_trace
    facts = example("2026-03-seed-22-minutes.json")
    decision = policyengine.evaluate(facts, trace="full")
    trace = decision["trace"]
    listed = [f"/interactions/{i}" for i in range(len(facts["interactions"]))]
    assert list(trace["records"]) == listed
    assert trace["records"]["/interactions/0"] == dict(sorted(facts["interactions"][0].items()))
    documented = next(e for e in trace["entries"] if e["slot"] == "definition:documented_interactions")
    assert documented["value"] == [{"$ref": at} for at in listed]
    pack = policyengine.load_pack("cms-rpm-2026")
    table = pack.expressions[pack.slot_named[documented["slot"]]].part_nodes
    assert documented["parts"][[text for _, text in table].index("interactions")] == [{"$ref": at} for at in listed]
    assert json.dumps(trace["entries"]).count('"duration_seconds"') == 0  # no record written inside a value
    read_back = next(e for e in resolved_trace(decision)["entries"] if e["slot"] == "definition:documented_interactions")
    assert read_back["value"] == [dict(sorted(item.items())) for item in facts["interactions"]]


def test_the_same_facts_in_2025_and_2026_show_the_2026_changes():
    """10 minutes earn 99470 and 10 transmission days earn 99445 in 2026; neither in 2025."""
    facts = example("2026-03-10-transmission-days.json")
    facts["interactions"] = [dict(facts["interactions"][0], duration_seconds=600)]

    def in_year(year: str) -> dict:
        text = json.dumps(facts).replace("2026-", f"{year}-")
        return policyengine.evaluate(json.loads(text), trace="none")

    # the example's episode has not billed set-up yet: 2026 bills it from 2 days of data
    assert sorted(codes(in_year("2026"))) == [("99445", 1), ("99453", 1), ("99470", 1)]
    assert codes(in_year("2025")) == []


def test_a_device_period_ending_in_the_next_year_is_decided_and_says_so():
    """December's facts with a period ending in January: the 2025 pack decides (its values
    in force at the period's end), and a warning names the year the period ends in (R-50)."""
    facts = json.loads(json.dumps(example("2026-03-10-transmission-days.json")).replace("2026-03", "2025-12"))
    facts["monitoring_period"] = {"start": "2025-12-20", "end": "2026-01-18"}
    facts["transmission_days"] = [f"2025-12-{day}" for day in range(20, 32)] + [f"2026-01-0{day}" for day in range(1, 5)]
    decision = policyengine.evaluate(facts, trace="none")
    assert decision["pack"]["id"] == "cms-rpm-2025" and ("99454", 1) in codes(decision)
    warning = next(f for f in decision["findings"] if f["id"] == "period.beyond_pack")
    assert warning["severity"] == "warning" and warning["evidence"] == ["/monitoring_period/end"]
    assert warning["message"].startswith("the monitoring period ends on 2026-01-18, after cms-rpm-2025 ends on "
                                         "2025-12-31; 99091, 99453, 99454 were decided with this pack's values")
    facts["monitoring_period"]["end"] = "2025-12-31"
    facts["transmission_days"] = facts["transmission_days"][:12]
    assert not any(f["id"] == "period.beyond_pack" for f in policyengine.evaluate(facts, trace="none")["findings"])


def test_an_expression_failing_at_run_time_is_an_error_naming_its_place(tmp_path):
    """No decision is made from a pack that fails on the facts: the error names the part of
    the expression that failed (file:line:col) and the fact it was reading; the command
    exits 1 (a failure found), and a batch writes an error record for that line."""
    from click.testing import CliRunner

    from policyengine.batch import Evaluator
    from policyengine.cli import main
    from policyengine.engine import EvaluationFailed

    overlay = tmp_path / "overlay"
    overlay.mkdir()
    (overlay / "pack.yaml").write_text(
        "pack: {id: overlay, version: 1.0.0, fee_schedule_year: 2026, effective: {from: 2026-01-01, to: 2026-12-31}}\n"
        "extends: cms-rpm-2026\n"
        "definitions:\n"
        "  supply_days: count(transmission_days) // (count(interactions) - count(interactions))\n")
    facts = example("2026-03-seed-22-minutes.json")
    with pytest.raises(EvaluationFailed) as info:
        policyengine.evaluate(facts, overlay, trace="none")
    (diagnostic,) = info.value.diagnostics
    assert diagnostic.code == "eval.division_by_zero"
    assert diagnostic.location.endswith("overlay/pack.yaml:4:16") and diagnostic.where == "/interactions"
    assert "definition:supply_days could not be evaluated" in diagnostic.message
    (tmp_path / "f.json").write_text(json.dumps(facts))
    result = CliRunner().invoke(main, ["evaluate", str(tmp_path / "f.json"), "--pack", str(overlay)])
    assert result.exit_code == 1 and "pack.yaml:4:16" in result.output and "Traceback" not in result.output
    line, made, code = Evaluator(overlay, trace="none").decide(1, json.dumps(facts))
    assert made is None and code == "eval.division_by_zero" and json.loads(line)["line"] == 1


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_fast_json_writes_the_same_bytes_as_the_standard_library(path):
    """Hashes and decisions (one-line and pretty) are written with orjson; they must stay
    what json.dumps writes, or every stored facts_sha256 and decision hash would change."""
    from policyengine.engine.values import canonical_json, compact_json

    facts = json.loads(path.read_text())
    assert canonical_json(facts).decode() == json.dumps(facts, sort_keys=True, separators=(",", ":"),
                                                        ensure_ascii=False, default=str)
    try:
        decision = policyengine.evaluate(facts, trace="full")
    except policyengine.DiagnosticError:
        return
    assert compact_json(decision) == json.dumps(decision, ensure_ascii=False, separators=(",", ":"))
    assert policyengine.to_json(decision) == json.dumps(decision, ensure_ascii=False, indent=2) + "\n"

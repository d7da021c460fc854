"""`policyengine lint`: each lint rule on a small pack that trips it and one that does not,
the bundled packs clean (or carrying an explained suppression), lint.yaml's own problems,
the command's exit codes and its JSON, and one rendered report reviewed as a snapshot."""
from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import pytest
from click.testing import CliRunner

from policyengine.authoring.lint import FINDINGS, lint_pack
from policyengine.authoring.ranges import Interval, Ranges, covers
from policyengine.cli import main
from policyengine.packs import bundled_ids, load_pack

HEADER = "pack: {id: mini, version: 1.0.0, fee_schedule_year: 2026, effective: {from: 2026-01-01, to: 2026-12-31}}\n"
#: a small standalone pack that lints clean; a test replaces or adds sections
SECTIONS = {
    "conversion_factor": " params.conversion_factor\n",
    "options": "\n  cap: {type: int, default: 2, minimum: 0, description: most 99458 units}\n",
    "parameters": (
        "\n  conversion_factor:\n    type: money\n    values:\n"
        "      2026-01-01: {value: $33.4009, citation: CY2026 PFS final rule, confidence: high}\n"
        "  threshold:\n    type: duration\n    values:\n"
        "      2026-01-01: {value: 20 min, citation: CPT 99457, confidence: high}\n"
        "  rvu_a:\n    type: decimal\n    values:\n      2026-01-01: {value: 1.55, citation: RVU26A, confidence: high}\n"
        "  rvu_b:\n    type: decimal\n    values:\n      2026-01-01: {value: 1.24, citation: RVU26A, confidence: high}\n"),
    "codes": (
        "\n  \"99457\": {descriptor: first 20 minutes, clock: calendar_month, rvu: params.rvu_a, max_units: 1}\n"
        "  \"99458\": {descriptor: each further 20 minutes, clock: calendar_month, rvu: params.rvu_b}\n"),
    "definitions": "\n  minutes: sum(interactions.duration_seconds)\n",
    "rules": (
        "\n  - id: first\n    code: \"99457\"\n    when: minutes >= params.threshold\n    reason: {met: met, not_met: short}\n"
        "  - id: more\n    code: \"99458\"\n    when: minutes >= params.threshold * 2\n    requires: [\"99457\"]\n"
        "    units: min(options.cap, minutes // params.threshold - 1)\n    reason: {met: met, not_met: short}\n"),
}
RULE = "  - id: {id}\n    code: \"{code}\"\n    when: {when}\n    reason: {{met: met, not_met: short}}\n"
CODE_99470 = "  \"99470\": {descriptor: first 10 minutes, clock: calendar_month, rvu: params.rvu_a, max_units: 1}\n"


def write(directory: Path, text: str, lint: str | None = None) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "pack.yaml").write_text(text)
    if lint is not None:
        (directory / "lint.yaml").write_text(lint)
    return directory


def mini(tmp_path, lint: str | None = None, name: str = "mini", **sections: str) -> Path:
    """The small pack, with sections replaced (a value starting with '+' is added to the base's)."""
    merged = {key: SECTIONS.get(key, "\n") + value[1:] if value.startswith("+") else value for key, value in sections.items()}
    body = "".join(f"{key}:{text}" for key, text in {**SECTIONS, **merged}.items())
    return write(tmp_path / name, HEADER + body, lint)


def overlay(tmp_path, text: str, lint: str | None = None) -> Path:
    """An overlay of the small pack (written first, beside it)."""
    mini(tmp_path)
    return write(tmp_path / "overlay", HEADER.replace("id: mini", "id: overlay") + "extends: ../mini\n" + text, lint)


def findings(directory: Path) -> list[tuple[str, str | None, str]]:
    """(code, at, message) of each finding not suppressed."""
    return [(f.diagnostic.code, f.at, f.diagnostic.message) for f in lint_pack(load_pack(directory)).findings
            if f.suppressed is None]


def codes(directory: Path) -> list[str]:
    return [code for code, _, _ in findings(directory)]


def test_the_small_pack_lints_clean(tmp_path):
    assert findings(mini(tmp_path)) == []


@pytest.mark.parametrize("pack_id", bundled_ids())
def test_bundled_packs_lint_clean_or_say_why(pack_id):
    report = lint_pack(load_pack(pack_id))
    assert (report.errors, report.warnings) == (0, 0), report.render()
    assert all(f.suppressed for f in report.findings)


# --- conditions -----------------------------------------------------------------------------


@pytest.mark.parametrize(("when", "code"), [
    ("minutes >= 20 min and minutes < 10 min", "lint.condition_never_true"),
    ("count(distinct(transmission_days)) >= 32", "lint.condition_never_true"),  # a month has at most 31 days
    ("count(interactions) < 0", "lint.condition_never_true"),
    ("count(interactions) >= -1", "lint.condition_never_false"),
    ("minutes < params.threshold or minutes >= 20 min", "lint.condition_never_false"),
    ("minutes >= params.threshold * 4 and minutes < 80 min", "lint.condition_never_true"),
])
def test_a_condition_that_can_never_be_one_way_is_an_error(tmp_path, when, code):
    found = findings(mini(tmp_path, rules="+" + RULE.format(id="extra", code="99470", when=when), codes="+" + CODE_99470))
    assert [(c, at) for c, at, _ in found] == [(code, "extra")]


@pytest.mark.parametrize("when", [
    "minutes >= 10 min and minutes < 20 min",
    "count(distinct(transmission_days)) >= 31",
    "count(interactions) > 0",
    "minutes < params.threshold or minutes >= 30 min",
])
def test_a_condition_that_can_go_either_way_is_no_finding(tmp_path, when):
    assert findings(mini(tmp_path, rules="+" + RULE.format(id="extra", code="99470", when=when), codes="+" + CODE_99470)) == []


def test_the_message_says_why(tmp_path):
    (found,) = findings(mini(tmp_path, rules="+" + RULE.format(id="extra", code="99470", when="count(transmission_days) > 40"),
                             codes="+" + CODE_99470))
    assert found[2] == ("the condition of rule 'extra' can never be true: count(transmission_days) is from 0 to 31")


def test_a_conjunct_never_false_is_named_alone(tmp_path):
    when = "minutes >= 10 min and count(interactions) >= 0"
    found = findings(mini(tmp_path, rules="+" + RULE.format(id="extra", code="99470", when=when), codes="+" + CODE_99470))
    assert [(c, m.split(":")[0]) for c, _, m in found] == [
        ("lint.condition_never_false", "this part of the condition of rule 'extra' can never be false")]


def test_gates_findings_and_filters_are_judged_too(tmp_path):
    directory = mini(tmp_path, gates="\n  - id: always\n    when: count(interactions) >= 0\n    status: not_met\n    reason: r\n",
                     findings="\n  - id: never\n    severity: info\n    when: minutes < 0 s\n    message: m\n",
                     definitions="+  long: interactions where duration_seconds > 24 h and two_way\n")
    assert sorted((c, at) for c, at, _ in findings(directory)) == [
        ("lint.condition_never_false", "always"), ("lint.condition_never_true", "long"),
        ("lint.condition_never_true", "never")]


def test_a_filter_that_can_keep_items_is_no_finding(tmp_path):
    assert findings(mini(tmp_path, definitions="+  long: interactions where duration_seconds > 1 h and two_way\n")) == []


def test_a_blocked_entry_that_can_never_apply(tmp_path):
    blocked = "    blocked:\n      - when: {when}\n        reason: blocked\n"
    rule = RULE.format(id="extra", code="99470", when="minutes >= 10 min")
    dead = mini(tmp_path, rules="+" + rule + blocked.format(when="count(transmission_days) > 31"), codes="+" + CODE_99470)
    assert codes(dead) == ["lint.blocked_never_applies"]
    live = mini(tmp_path, name="live", rules="+" + rule + blocked.format(when="count(transmission_days) > 30"),
                codes="+" + CODE_99470)
    assert codes(live) == []


def test_a_condition_judged_per_segment_of_the_year(tmp_path):
    """A threshold no month can reach until it changes on 2026-07-01: never true in the first
    half for a calendar-month rule; a 30-day period ending in July reads the new value, so a
    rule on a period clock may be met in any segment."""
    days = ("  days:\n    type: int\n    values:\n      2026-01-01: {value: 40, citation: c, confidence: high}\n"
            "      2026-07-01: {value: 10, citation: c, confidence: high}\n")
    month = mini(tmp_path, parameters="+" + days, codes="+" + CODE_99470,
                 rules="+" + RULE.format(id="extra", code="99470", when="count(transmission_days) >= params.days"))
    assert [m for _, _, m in findings(month)] == [
        "the condition of rule 'extra' can never be true from 2026-01-01 to 2026-06-30: count(transmission_days) is "
        "from 0 to 31 and params.days is 40"]
    period = mini(tmp_path, name="period", parameters="+" + days,
                  codes="+" + CODE_99470.replace("calendar_month", "period_30_day"),
                  rules="+" + RULE.format(id="extra", code="99470", when="count(transmission_days) >= params.days"))
    assert findings(period) == []


# --- rules a conflict always wins over ----------------------------------------------------------


def conflict_pack(tmp_path, keep: str, name: str = "mini") -> Path:
    return mini(tmp_path, name=name, codes="+" + CODE_99470,
                rules="+" + RULE.format(id="short", code="99470", when="minutes >= 10 min"),
                conflicts=f"\n  - id: first_10_or_20\n    codes: [\"99470\", \"99457\"]\n    keep: \"{keep}\"\n"
                          "    citation: R-28\n")


def test_a_rule_shadowed_by_the_code_a_conflict_keeps(tmp_path):
    """99457 needs 20 min, and 99470's rule (10 min, no upper bound) is met whenever it is:
    a conflict that keeps 99470 means 99457 never bills."""
    assert findings(conflict_pack(tmp_path, "99470")) == [
        ("lint.rule_shadowed", "first", "rule 'first' never bills 99457: whenever it is met, rule 'short' earns 99470, "
         "which conflict 'first_10_or_20' keeps over it")]


def test_a_conflict_kept_the_other_way_shadows_nothing(tmp_path):
    assert findings(conflict_pack(tmp_path, "99457")) == []


def test_a_winner_that_can_be_blocked_shadows_nothing(tmp_path):
    blocked = "    blocked:\n      - when: count(other_services) > 0\n        reason: billed elsewhere\n"
    directory = mini(tmp_path, codes="+" + CODE_99470,
                     rules="+" + RULE.format(id="short", code="99470", when="minutes >= 10 min") + blocked,
                     conflicts="\n  - id: c\n    codes: [\"99470\", \"99457\"]\n    keep: \"99470\"\n    citation: R-28\n")
    assert findings(directory) == []


# --- parameters, rates and options ------------------------------------------------------------


def dated(name: str, *values: str) -> str:
    return f"  {name}:\n    type: int\n    values:\n" + "".join(f"      {v}\n" for v in values)


@pytest.mark.parametrize(("values", "code"), [
    (("2026-03-01: {value: 1, citation: c, confidence: high}",), "lint.parameter_gap"),
    (("2026-01-01: {value: 1, citation: c, confidence: high}", "2027-01-01: {value: 2, citation: c, confidence: high}"),
     "lint.parameter_after_range"),
    (("2026-01-01: {value: 1, citation: c, confidence: unverified}",), "lint.parameter_unverified"),
    (("2026-01-01: {value: 1, citation: c, confidence: low}",), "lint.parameter_low_confidence"),
    (("2026-01-01: {value: 1, confidence: high}",), "lint.parameter_no_citation"),
])
def test_a_parameter_warning(tmp_path, values, code):
    assert [(c, at) for c, at, _ in findings(mini(tmp_path, parameters="+" + dated("extra", *values)))] == [(code, "extra")]


@pytest.mark.parametrize("values", [
    ("2026-01-01: {value: 1, citation: c, confidence: medium}", "2026-07-01: {value: 2, citation: c, confidence: high}"),
    ("2025-01-01: {value: 0, citation: c, confidence: unverified}", "2026-01-01: {value: 1, citation: c, confidence: high}"),
])
def test_a_parameter_with_values_in_force_all_year_and_cited(tmp_path, values):
    """A value replaced before the pack begins is not in force: its confidence is not this pack's concern."""
    assert findings(mini(tmp_path, parameters="+" + dated("extra", *values))) == []


def test_a_value_replacing_the_bases_on_the_same_day_is_an_overlap(tmp_path):
    directory = overlay(tmp_path, "parameters:\n  threshold:\n    values:\n"
                                  "      2026-01-01: {value: 25 min, citation: practice policy, confidence: high}\n")
    ((code, at, message),) = findings(directory)
    assert (code, at) == ("lint.parameter_overlap", "threshold")
    assert "hides the value 20 min that" in message and "mini/pack.yaml:" in message


def test_a_value_dated_on_a_day_of_its_own_overlaps_nothing(tmp_path):
    assert findings(overlay(tmp_path, "parameters:\n  threshold:\n    values:\n"
                                      "      2026-07-01: {value: 25 min, citation: practice policy, confidence: high}\n")) == []


def test_a_value_repeated_from_the_parent_under_a_new_citation(tmp_path):
    repeated = overlay(tmp_path, "parameters:\n  rvu_a:\n    values:\n"
                                 "      2026-07-01: {value: 1.550, citation: RVU26C, confidence: high}\n")
    assert [(c, at) for c, at, _ in findings(repeated)] == [("lint.parameter_unchanged", "rvu_a")]


def test_a_value_changed_from_the_parent_is_no_finding(tmp_path):
    assert findings(overlay(tmp_path, "parameters:\n  rvu_a:\n    values:\n"
                                      "      2026-07-01: {value: 1.60, citation: RVU26C, confidence: high}\n")) == []


def test_a_code_without_a_rate_for_part_of_the_year(tmp_path):
    late = SECTIONS["parameters"].replace("2026-01-01: {value: 1.24", "2026-04-01: {value: 1.24")
    assert sorted((c, at) for c, at, _ in findings(mini(tmp_path, parameters=late))) == [
        ("lint.code_rate_gap", "99458"), ("lint.parameter_gap", "rvu_b")]


def test_an_option_never_read(tmp_path):
    unread = "+  spare: {type: bool, default: false, description: read by nothing}\n"
    assert [(c, at) for c, at, _ in findings(mini(tmp_path, options=unread))] == [("lint.option_never_read", "spare")]
    read = mini(tmp_path, name="read", options=unread, definitions="+  spare_on: options.spare\n")
    assert findings(read) == []


# --- suppressions -------------------------------------------------------------------------------


UNREAD = "+  spare: {type: bool, default: false, description: read by nothing}\n"


def report(directory: Path):
    return lint_pack(load_pack(directory))


def test_a_suppression_accepts_a_finding_with_its_reason(tmp_path):
    directory = mini(tmp_path, options=UNREAD, lint="suppress:\n  - code: lint.option_never_read\n    at: spare\n"
                                                     "    reason: kept for next year's rule\n")
    result = report(directory)
    assert (result.errors, result.warnings, result.suppressed) == (0, 0, 1)
    assert [f.suppressed for f in result.findings] == ["kept for next year's rule"]


@pytest.mark.parametrize(("lint", "code", "where", "message"), [
    ("suppress:\n  - code: lint.option_never_read\n    at: spare\n", "lint.suppression_no_reason", "lint.yaml:2:5",
     "this suppression gives no reason"),
    ("suppress:\n  - code: lint.option_never_read\n    at: spare\n    reason: '  '\n", "lint.suppression_no_reason",
     "lint.yaml:2:5", "this suppression gives no reason"),
    ("suppress:\n  - code: lint.option_never_read\n    at: spare\n    resaon: kept\n", "lint.suppression_unknown_key",
     "lint.yaml:4:5", "unknown key 'resaon' (did you mean 'reason'?)"),
    ("supress: []\n", "lint.suppression_unknown_key", "lint.yaml:1:1", "unknown key 'supress' (did you mean 'suppress'?)"),
    ("suppress:\n  - code: lint.option_unread\n    at: spare\n    reason: kept\n", "lint.suppression_unknown_code",
     "lint.yaml:2:11", "unknown lint code 'lint.option_unread' (did you mean 'lint.option_never_read'?)"),
    ("suppress: {code: lint.option_never_read}\n", "lint.suppression_invalid", "lint.yaml:1:11", "lint.yaml holds suppress"),
])
def test_a_bad_suppression_is_an_error_where_it_is_written(tmp_path, lint, code, where, message):
    result = report(mini(tmp_path, lint=lint))
    problem = next(f.diagnostic for f in result.findings if f.diagnostic.code == code)
    assert problem.severity == "error"
    assert problem.location.endswith(where) and problem.message.startswith(message)
    assert result.exit_status == 1


def test_an_overlay_takes_a_parents_reason_for_a_value_the_parent_wrote(tmp_path):
    low = SECTIONS["parameters"].replace("citation: RVU26A, confidence: high}\n  rvu_b", "citation: RVU26A, confidence: low}\n  rvu_b")
    mini(tmp_path, parameters=low, lint="suppress:\n  - code: lint.parameter_low_confidence\n    at: rvu_a\n"
                                        "    reason: read from the draft file\n")
    carried = write(tmp_path / "carried", HEADER.replace("id: mini", "id: carried") + "extends: ../mini\n")
    result = report(carried)
    assert (result.warnings, result.suppressed) == (0, 1)
    (accepted,) = result.findings
    assert accepted.diagnostic.location.startswith(str(tmp_path / "mini" / "pack.yaml"))
    assert accepted.suppressed == f"read from the draft file ({tmp_path / 'mini' / 'lint.yaml'})"
    restated = write(tmp_path / "restated", HEADER.replace("id: mini", "id: restated") + "extends: ../mini\nparameters:\n"
                     "  rvu_a:\n    values:\n      2026-01-01: {value: 1.56, citation: RVU26B, confidence: low}\n")
    assert "lint.parameter_low_confidence" in codes(restated)  # its own line: the parent's reason is not its


def test_a_suppression_that_matches_nothing_is_stale(tmp_path):
    result = report(mini(tmp_path, lint="suppress:\n  - code: lint.option_never_read\n    at: spare\n    reason: gone\n"))
    (finding,) = result.findings
    assert (finding.diagnostic.code, finding.diagnostic.severity, finding.diagnostic.location[-13:]) == (
        "lint.suppression_stale", "warning", "lint.yaml:2:5")
    assert result.exit_status == 0


def test_a_suppression_file_that_is_not_yaml_is_an_error_at_its_place(tmp_path):
    (finding,) = report(mini(tmp_path, lint="suppress: [\n")).findings
    assert finding.diagnostic.code == "yaml.syntax" and "lint.yaml:2:1" in finding.diagnostic.location


def test_every_finding_code_is_documented():
    assert all(code.startswith("lint.") and meaning for code, meaning in FINDINGS.items())


# --- ranges ------------------------------------------------------------------------------------


def test_ranges_of_whole_numbers_close_their_open_ends():
    assert Interval.of(None, Fraction(10), True, high_open=True) == Interval.of(None, Fraction(9), True)
    assert Interval.of(Fraction(5, 2), None, True).low == 3


def test_parts_cover_a_range_only_without_a_hole():
    below_ten, from_ten, from_eleven = (Interval.of(None, Fraction(10), True, high_open=True),
                                        Interval.of(Fraction(10), None, True), Interval.of(Fraction(11), None, True))
    assert covers([from_ten, below_ten], Interval(whole=True))
    assert not covers([below_ten, from_eleven], Interval(whole=True))
    money_below, money_from = Interval.of(None, Fraction(10), high_open=True), Interval.of(Fraction(10), None)
    assert covers([money_below, money_from], Interval()) and not covers([money_below], Interval())


def test_one_condition_implies_another_only_when_certain(tmp_path):
    band_rule = RULE.format(id="band", code="99470", when="minutes >= 25 min and minutes < 30 min")
    pack = load_pack(mini(tmp_path, rules="+" + band_rule, codes="+" + CODE_99470))
    params = pack.params_at("2026-01-01")
    ranges = Ranges(pack, params, params)
    band, first, more = pack.rules_by_id["band"].when, pack.rules_by_id["first"].when, pack.rules_by_id["more"].when
    assert ranges.implies(band, first) and ranges.implies(more, first)
    assert not ranges.implies(first, band) and not ranges.implies(band, more)


# --- the command --------------------------------------------------------------------------------


def run(*args):
    result = CliRunner().invoke(main, ["lint", *map(str, args)])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


def several(tmp_path) -> Path:
    """A pack with an error of each kind of condition and a few warnings."""
    return mini(tmp_path, options=UNREAD, codes="+" + CODE_99470,
                parameters="+" + dated("extra", "2026-02-01: {value: 1, confidence: unverified}"),
                rules="+" + RULE.format(id="short", code="99470", when="minutes >= 10 min and minutes < 5 min")
                + "    blocked:\n      - when: count(transmission_days) >= 32\n        reason: never\n",
                findings="\n  - id: always\n    severity: info\n    when: minutes >= 0 s\n    message: m\n",
                lint="suppress:\n  - code: lint.parameter_no_citation\n    at: extra\n    reason: a test value\n")


def test_lint_exit_codes(tmp_path):
    assert run(mini(tmp_path)).exit_code == 0
    assert run(mini(tmp_path, name="warned", options=UNREAD)).exit_code == 0
    assert run(several(tmp_path)).exit_code == 1
    missing = run(tmp_path / "nowhere")
    assert missing.exit_code == 2 and "pack.not_found" in missing.output
    invalid = write(tmp_path / "invalid", HEADER + "definitions:\n  x: count(interactionz)\n")
    assert run(invalid).exit_code == 1


def test_lint_json_is_a_list_of_findings(tmp_path):
    directory = several(tmp_path)
    first, second = run(directory, "--format", "json"), run(directory, "--format", "json")
    assert first.output == second.output
    data = json.loads(first.output)
    assert {tuple(d) for d in data} == {("code", "severity", "message", "file", "line", "column", "at")}
    assert [(d["code"], d["line"]) for d in data][:2] == [("lint.option_never_read", 5), ("lint.parameter_gap", 26)]
    shown = json.loads(run(directory, "--format", "json", "--show-suppressed").output)
    assert [d["suppressed"] for d in shown if d["suppressed"]] == ["a test value"]


def test_lint_text_report(tmp_path, monkeypatch, snapshot):
    monkeypatch.chdir(tmp_path)
    several(tmp_path)
    result = run("mini", "--show-suppressed")
    assert result.output == snapshot

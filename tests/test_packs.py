"""Rule packs: loading, extending, overlays, canonical hashing, and every bad pack
reported at its file:line:col with a code."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

import policyengine
from policyengine import DiagnosticError, compile_pack
from policyengine.packs import bundled_ids

ROOT = Path(__file__).parent.parent
HEADER = ("pack: {id: overlay, version: 1.0.0, fee_schedule_year: 2026, "
          "effective: {from: 2026-01-01, to: 2026-12-31}}\nextends: cms-rpm-2026\n")
SEED = json.loads((ROOT / "examples" / "2026-03-seed-22-minutes.json").read_text())


def pack_dir(tmp_path, text: str, name: str = "overlay") -> Path:
    directory = tmp_path / name
    directory.mkdir()
    (directory / "pack.yaml").write_text(text)
    return directory


def errors_of(directory) -> list:
    with pytest.raises(DiagnosticError) as info:
        compile_pack(directory)
    return info.value.diagnostics


@pytest.mark.parametrize("pack_id", bundled_ids())
def test_bundled_packs_compile(pack_id):
    pack = compile_pack(pack_id)
    assert pack.id == pack_id and pack.rules


def test_bundled_packs_work_from_any_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert policyengine.evaluate(SEED)["pack"]["id"] == "cms-rpm-2026"


def test_an_overlay_changes_an_option_default_and_nothing_else(tmp_path):
    overlay = pack_dir(tmp_path, HEADER + "options:\n  addon_max_units: {default: 3}\n")
    pack = compile_pack(overlay)
    assert pack.options["addon_max_units"].default == 3
    assert pack.options["addon_max_units"].description  # kept from the base pack
    assert pack.chain == ("overlay", "cms-rpm-2026") or pack.chain[0] == "overlay"


def test_an_overlay_adds_a_dated_parameter_value(tmp_path):
    overlay = pack_dir(tmp_path, HEADER + "parameters:\n  conversion_factor:\n    values:\n"
                       "      2026-07-01: {value: $34.0000, citation: test}\n")
    pack = compile_pack(overlay)
    assert [d for d, *_ in pack.parameters["conversion_factor"].values][:2] == ["2026-07-01", "2026-01-01"]
    assert str(pack.params_at("2026-03-31")["conversion_factor"]) == "33.4009"
    assert str(pack.params_at("2026-07-31")["conversion_factor"]) == "34.0000"


def test_sha256_ignores_comments_and_layout(tmp_path):
    a = pack_dir(tmp_path, HEADER + "options:\n  addon_max_units: {default: 3}\n", "a")
    b = pack_dir(tmp_path, "# a comment\n" + HEADER + "options:\n  addon_max_units:\n    default: 3  # MUE\n", "b")
    c = pack_dir(tmp_path, HEADER + "options:\n  addon_max_units: {default: 2}\n", "c")
    assert compile_pack(a).sha256 == compile_pack(b).sha256 != compile_pack(c).sha256


BAD_PACKS = {
    "pack.unknown_field": (HEADER + "rules:\n  - id: x\n    code: \"99457\"\n    when: true\n    reason: {met: a, not_met: b}\n"
                           "    citaton: R-1\n", "pack.yaml:8:5", "unknown field 'citaton' (did you mean 'citation'?)"),
    "yaml.duplicate_key": (HEADER + "options:\n  messaging_counts: {default: true}\n  messaging_counts: {default: false}\n",
                           "pack.yaml:5:3", "duplicate key 'messaging_counts'"),
    "yaml.syntax": (HEADER + "rules: [\n", "pack.yaml:", "expected"),
    "expr.unknown_name": (HEADER + "definitions:\n  extra: count(interactionz)\n", "pack.yaml:4:16",
                          "unknown name 'interactionz' (did you mean 'interactions'?)"),
    "expr.single_equals": (HEADER + "definitions:\n  extra: >-\n    count(interactions where program = \"rpm\")\n",
                           "pack.yaml:5:38", "'=' is not an operator here"),
    "pack.unknown_code": (HEADER + "rules:\n  - id: x\n    code: \"99475\"\n    when: true\n    reason: {met: a, not_met: b}\n",
                          "pack.yaml:5:11", "unknown code '99475'"),
    "pack.bad_value": (HEADER + "parameters:\n  time_threshold:\n    values:\n      2026-06-01: {value: 20}\n",
                       "pack.yaml:6:27", "this value is not a duration"),
    "pack.missing_field": (HEADER + "options:\n  brand_new: {default: true}\n", "pack.yaml:4:3",
                           "option 'brand_new' needs type, description"),
    "pack.not_found": ("pack: {id: x, version: 1.0.0, fee_schedule_year: 2026, effective: {from: 2026-01-01, to: 2026-12-31}}\n"
                       "extends: cms-rpm-2099\n", "pack.yaml:2:10", "extends an unknown pack 'cms-rpm-2099'"),
    "expr.unit_mismatch": (HEADER + "rules:\n  - id: x\n    code: \"99457\"\n    when: countable_time >= 1200\n"
                           "    reason: {met: a, not_met: b}\n", "pack.yaml:6:11", "mixes a duration with a bare number"),
}


@pytest.mark.parametrize("code", sorted(BAD_PACKS))
def test_each_bad_pack_is_reported_at_its_file_line_col(tmp_path, code):
    text, location, words = BAD_PACKS[code]
    diagnostics = errors_of(pack_dir(tmp_path, text))
    match = [d for d in diagnostics if d.code == code]
    assert match, [d.render() for d in diagnostics]
    assert location in match[0].headline() and words in match[0].headline(), match[0].render()


def test_extends_cycle(tmp_path):
    pack_dir(tmp_path, HEADER.replace("extends: cms-rpm-2026", "extends: ../b").replace("id: overlay", "id: a"), "a")
    pack_dir(tmp_path, HEADER.replace("extends: cms-rpm-2026", "extends: ../a").replace("id: overlay", "id: b"), "b")
    (diagnostic,) = errors_of(tmp_path / "a")
    assert diagnostic.code == "pack.extends_cycle"


def test_the_engine_holds_no_domain_knowledge():
    """Codes, thresholds, modalities and option names live in the packs, not in Python."""
    forbidden = re.compile(r"\b(99\d{3}|G05\d\d|interactive_only|treatment_management|messaging_counts|"
                           r"addon_max_units|ai_system_counts)\b|"
                           r"[\"'](rpm|ccm|pcm|tcm|phone|video|secure_message|voicemail|in_person|automated_message)[\"']")
    offenders = []
    for path in (ROOT / "policyengine").rglob("*.py"):
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if forbidden.search(line):
                offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert offenders == []


def test_a_pack_directory_is_compiled_once_and_again_when_a_file_changes(tmp_path):
    import os

    from policyengine import load_pack
    overlay = pack_dir(tmp_path, HEADER + "options:\n  addon_max_units: {default: 3}\n")
    first = load_pack(overlay)
    assert load_pack(str(overlay)) is first
    (overlay / "pack.yaml").write_text(HEADER + "options:\n  addon_max_units: {default: 2}\n")
    stat = (overlay / "pack.yaml").stat()
    os.utime(overlay / "pack.yaml", ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    second = load_pack(overlay)
    assert second is not first and second.options["addon_max_units"].default == 2


def test_a_misspelt_overlay_of_a_parameter_says_which_one_was_meant(tmp_path):
    text = HEADER + "parameters:\n  time_treshold:\n    values:\n      2026-06-01: {value: 21 min}\n"
    (diagnostic,) = errors_of(pack_dir(tmp_path, text))
    assert diagnostic.code == "pack.missing_field"
    assert "pack.yaml:4:3: parameter 'time_treshold' needs type (did you mean 'time_threshold'?)" in diagnostic.headline()


def _fields(node, where=""):
    """(pointer, field schema) of every named field a schema declares."""
    if isinstance(node, dict):
        for name, field in node.get("properties", {}).items():
            yield f"{where}/{name}", field
        for key, child in node.items():
            yield from _fields(child, f"{where}/{key}")
    elif isinstance(node, list):
        for i, child in enumerate(node):
            yield from _fields(child, f"{where}/{i}")


def test_every_field_of_a_pack_has_a_description_an_editor_shows():
    schema = json.loads((ROOT / "schemas" / "rulepack.schema.json").read_text())
    bare = [where for where, field in _fields(schema)
            if isinstance(field, dict) and "$ref" not in field and not field.get("description")]
    assert bare == []

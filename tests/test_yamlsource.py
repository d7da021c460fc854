"""YAML loading: the data rule packs are read as, and the file locations errors point at."""
from __future__ import annotations

import textwrap
from decimal import Decimal

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from policyengine.diagnostics import DiagnosticError
from policyengine.yamlsource import load_yaml, load_yaml_file

EXPR = "sum(interactions.duration_seconds) >= 20 min"


def dedent(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


def load_error(text: str, name: str = "pack.yaml") -> DiagnosticError:
    with pytest.raises(DiagnosticError) as caught:
        load_yaml(text, name)
    return caught.value


def walk(value):
    yield value
    if isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from walk(item)
    elif isinstance(value, list):
        for item in value:
            yield from walk(item)


# --- data ---------------------------------------------------------------------------------


def test_decimals_not_floats():
    doc = load_yaml("rate: 0.65\nlat: 33.4009\nbig: 1e3\nneg: -2.50\nn: [1.5, {x: .5}]\n", "p.yaml")
    assert doc.data["rate"] == Decimal("0.65")
    assert str(doc.data["lat"]) == "33.4009"
    assert str(doc.data["neg"]) == "-2.50"  # the written precision is kept
    assert doc.data["big"] == Decimal("1e3")
    assert not any(isinstance(v, float) for v in walk(doc.data))
    assert all(isinstance(v, Decimal) for v in (doc.data["n"][0], doc.data["n"][1]["x"]))


def test_dates_and_timestamps_stay_strings():
    doc = load_yaml("effective: 2026-03-01\nat: 2026-03-01T09:30:00Z\n", "p.yaml")
    assert doc.data == {"effective": "2026-03-01", "at": "2026-03-01T09:30:00Z"}


def test_only_true_and_false_are_booleans():
    doc = load_yaml("a: on\nb: off\nc: yes\nd: no\ne: y\nf: true\ng: FALSE\nh: True\n", "p.yaml")
    assert doc.data == {"a": "on", "b": "off", "c": "yes", "d": "no", "e": "y",
                        "f": True, "g": False, "h": True}


def test_integers_nulls_and_strings():
    doc = load_yaml("a: 010\nb: -7\nc: ~\nd:\ne: null\nf: '12'\ng: 12 minutes\n", "p.yaml")
    assert doc.data == {"a": 10, "b": -7, "c": None, "d": None, "e": None, "f": "12", "g": "12 minutes"}
    assert type(doc.data["a"]) is int


def test_keys_become_strings_and_keep_their_order():
    doc = load_yaml("z: 1\n99214: 2\ntrue: 3\na: 4\n", "p.yaml")
    assert list(doc.data) == ["z", "99214", "True", "a"]


def test_anchors_and_aliases_share_data():
    doc = load_yaml("base: &b {unit: min}\nuse: *b\n", "p.yaml")
    assert doc.data["use"] == {"unit": "min"}


@pytest.mark.parametrize("text", ["", "# only a comment\n", "---\n"])
def test_empty_document_is_none(text):
    doc = load_yaml(text, "p.yaml")
    assert doc.data is None
    assert doc.span("/rules").location.startswith("p.yaml:")


@pytest.mark.parametrize("number", [".inf", "-.inf", ".nan", ".NaN"])
def test_infinite_numbers_are_refused(number):
    err = load_error(f"rules:\n  threshold: {number}\n")
    [diag] = err.diagnostics
    assert diag.code == "yaml.bad_number"
    assert diag.location == "pack.yaml:2:14"
    assert number in diag.message


def test_merge_keys_and_unknown_tags_are_unsupported():
    err = load_error("base: &b {x: 1}\nrule:\n  <<: *b\n  y: !custom 2\n")
    assert [(d.code, d.location) for d in err.diagnostics] == [
        ("yaml.unsupported", "pack.yaml:3:3"),
        ("yaml.unsupported", "pack.yaml:4:6"),
    ]
    assert "merge keys" in err.diagnostics[0].message
    assert "'!custom'" in err.diagnostics[1].message


def test_collection_and_null_keys_are_refused():
    err = load_error("? [a, b]\n: 1\n~: 2\n")
    assert [(d.code, d.location) for d in err.diagnostics] == [
        ("yaml.bad_key", "pack.yaml:1:3"),
        ("yaml.bad_key", "pack.yaml:3:1"),
    ]


# --- duplicate keys -----------------------------------------------------------------------

DUPLICATES = dedent("""
    id: rpm-99457
    rules:
      - id: minutes
        when: a
        when: b
      - id: days
    id: rpm-99458
""")


def test_every_duplicate_key_is_reported_at_the_second_key():
    err = load_error(DUPLICATES)
    assert [(d.code, d.location, d.message) for d in err.diagnostics] == [
        ("yaml.duplicate_key", "pack.yaml:5:5", "duplicate key 'when' (first defined at line 4)"),
        ("yaml.duplicate_key", "pack.yaml:7:1", "duplicate key 'id' (first defined at line 1)"),
    ]


def test_keys_that_only_look_different_are_duplicates():
    err = load_error("1: a\n'1': b\n")
    assert [d.message for d in err.diagnostics] == ["duplicate key '1' (first defined at line 1)"]


def test_duplicate_keys_render(snapshot):
    assert str(load_error(DUPLICATES)) == snapshot


# --- syntax errors ------------------------------------------------------------------------


def test_syntax_error_points_at_the_problem():
    err = load_error("id: rpm\nwhen: a: b\n")
    [diag] = err.diagnostics
    assert (diag.code, diag.location, diag.message) == (
        "yaml.syntax", "pack.yaml:2:8", "mapping values are not allowed here")


def test_unclosed_flow_list_reports_where_parsing_started():
    [diag] = load_error("codes: [99453, 99454\nnext: 1\n").diagnostics
    assert diag.code == "yaml.syntax"
    assert diag.notes and "line 1, column 8" in diag.notes[0]


def test_tab_indentation_has_a_clear_message():
    [diag] = load_error("rules:\n\t- id: a\n").diagnostics
    assert (diag.code, diag.location) == ("yaml.syntax", "pack.yaml:2:1")
    assert diag.message == "tab characters are not allowed for indentation; use spaces"


def test_control_characters_are_located():
    [diag] = load_error("id: a\nnote: b\x07c\n").diagnostics
    assert (diag.code, diag.location) == ("yaml.syntax", "pack.yaml:2:8")
    assert "U+0007" in diag.message


def test_undefined_alias_is_a_syntax_error():
    [diag] = load_error("a: *nowhere\n").diagnostics
    assert (diag.code, diag.location) == ("yaml.syntax", "pack.yaml:1:4")
    assert "nowhere" in diag.message


def test_two_documents_are_refused():
    [diag] = load_error("a: 1\n---\nb: 2\n").diagnostics
    assert (diag.code, diag.location) == ("yaml.syntax", "pack.yaml:2:1")


def test_deep_nesting_is_reported_not_crashed():
    [diag] = load_error("[" * 300 + "]" * 300).diagnostics
    assert diag.code == "yaml.too_deep"


def test_syntax_error_renders(snapshot):
    assert str(load_error("id: rpm-99457\nrules:\n  - id: minutes\n    when: a: b\n")) == snapshot


# --- spans --------------------------------------------------------------------------------

PACK = dedent("""
    id: rpm-99457
    rules:
      - id: minutes
        when: sum(x) >= 20
        tags: [time, "billing/claims"]
      - id: days
        params:
          "a/b": 1
          "c~d": {deep: 2}
""")


@pytest.mark.parametrize("pointer, key, location, text", [
    ("", False, "pack.yaml:1:1", "id"),
    ("/id", False, "pack.yaml:1:5", "rpm-99457"),
    ("/id", True, "pack.yaml:1:1", "id"),
    ("/rules/0/when", False, "pack.yaml:4:11", "sum(x) >= 20"),
    ("/rules/0/when", True, "pack.yaml:4:5", "when"),
    ("/rules/0/tags/1", False, "pack.yaml:5:18", '"billing/claims"'),
    ("/rules/0/tags/1", True, "pack.yaml:5:18", '"billing/claims"'),  # list item: its value
    ("/rules/1", True, "pack.yaml:6:5", "id: days"),
    ("/rules/1/params/a~1b", True, "pack.yaml:8:7", '"a/b"'),
    ("/rules/1/params/a~1b", False, "pack.yaml:8:14", "1"),
    ("/rules/1/params/c~0d/deep", False, "pack.yaml:9:21", "2"),
    ("/rules/1/params/c~0d/deep", True, "pack.yaml:9:15", "deep"),
])
def test_span_of_values_and_keys(pointer, key, location, text):
    doc = load_yaml(PACK, "pack.yaml")
    span = doc.span(pointer, key=key)
    assert span.location == location
    assert PACK[span.start:span.end].startswith(text)
    assert doc.locate(pointer, key) == span


@pytest.mark.parametrize("pointer, location", [
    ("/rules/0/missing", "pack.yaml:3:5"),       # the mapping that lacks the field
    ("/rules/0/missing/deeper", "pack.yaml:3:5"),
    ("/rules/7/id", "pack.yaml:3:3"),            # the list with no such item
    ("/rules/01", "pack.yaml:3:3"),              # not an RFC 6901 index
    ("/id/0", "pack.yaml:1:5"),                  # a scalar has no children
    ("/nothing", "pack.yaml:1:1"),
])
def test_missing_pointer_falls_back_to_deepest_ancestor(pointer, location):
    doc = load_yaml(PACK, "pack.yaml")
    assert doc.span(pointer).location == location
    assert doc.span(pointer, key=True).location == location


def test_span_of_a_block_value_excludes_trailing_blank_lines():
    text = "a:\n  b: 1\n\n\nc: 2\n"
    span = load_yaml(text, "p.yaml").span("/a")
    assert text[span.start:span.end] == "b: 1"


# --- embedded expressions -----------------------------------------------------------------

STYLES = {
    "plain": f"when: {EXPR}\n",
    "plain multi-line": "when: sum(interactions.duration_seconds)\n  >= 20\n    min\n",
    "literal": f"when: |\n  {EXPR}\n",
    "literal strip": f"when: |-\n    {EXPR}\n\nnext: 1\n",
    "literal keep, comment": f"when: |+ # minutes\n  {EXPR}\n\n",
    "literal explicit indent": "when: |2\n     sum(interactions.duration_seconds)\n   >= 20 min\n",
    "folded": "when: >\n  sum(interactions.duration_seconds)\n  >= 20 min\n",
    "folded strip": "when: >-\n  sum(interactions.duration_seconds)\n  >= 20\n\n  min\n",
    "folded more indented": "when: >\n  sum(interactions.duration_seconds)\n    >= 20\n  min\n",
    "single-quoted": f"when: '{EXPR}'\n",
    "single-quoted multi-line": "when: 'it''s sum(interactions.duration_seconds)\n    >= 20 min'\n",
    "double-quoted": f'when: "{EXPR}"\n',
    "double-quoted multi-line": 'when: "sum(interactions.duration_seconds)\n\n   >= 20 min"\n',
}


def nested(text: str) -> tuple[str, str]:
    """The same entry one list item and one mapping deeper, to vary the indentation."""
    body = "".join(f"      {line}\n" if line else "\n" for line in text.splitlines())
    return f"pack: x\nrules:\n  - id: a\n    def:\n{body}", "/rules/0/def/when"


@pytest.mark.parametrize("depth", ["top", "nested"])
@pytest.mark.parametrize("style", list(STYLES))
def test_embedded_maps_every_character_to_the_file(style, depth):
    text, pointer = (STYLES[style], "/when") if depth == "top" else nested(STYLES[style])
    doc = load_yaml(text, "pack.yaml")
    emb = doc.embedded(pointer)
    value = doc.data["when"] if depth == "top" else doc.data["rules"][0]["def"]["when"]
    assert emb.text == value
    assert len(emb.offsets) == len(value) + 1
    for i, char in enumerate(value):
        found = text[emb.offsets[i]]
        if char == " " and found == "\n":
            continue  # a line break YAML folded into a space maps to that line break
        assert found == char, (i, char, found)
    for i in range(len(value) - 1):  # a word's characters sit side by side in the file
        if not (value[i].isspace() or value[i + 1].isspace() or value[i] == "'"):
            assert emb.offsets[i + 1] == emb.offsets[i] + 1, i

    start = value.index("duration_seconds")
    span = emb.span(start, start + len("duration_seconds"))
    assert text[span.start:span.end] == "duration_seconds"
    line_text = text.splitlines()[span.line - 1]
    assert line_text[span.column - 1:].startswith("duration_seconds")
    assert span.location == f"pack.yaml:{span.line}:{span.column}"
    shown, carets = span.snippet().splitlines()
    assert shown[carets.index("^"):].startswith("duration_seconds")


def test_embedded_span_renders_at_the_file_column():
    text = "rules:\n  - id: a\n    when: >-\n      count(days)\n      >= 16 and sum(interactions.duration_seconds) >= 20\n"
    emb = load_yaml(text, "pack.yaml").embedded("/rules/0/when")
    start = emb.text.index("duration_seconds")
    span = emb.span(start, start + len("duration_seconds"))
    assert span.location == "pack.yaml:5:34"
    assert span.snippet() == (
        "    5 |       >= 16 and sum(interactions.duration_seconds) >= 20\n"
        "      |                                  ^^^^^^^^^^^^^^^^"
    )


def test_folded_line_break_maps_to_the_line_break():
    text = "when: a   \n  b\n"
    emb = load_yaml(text, "p.yaml").embedded("/when")
    assert emb.text == "a b"
    assert emb.offsets[1] == text.index("\n")


def test_block_indentation_is_not_part_of_the_value():
    text = "rules:\n  - when: |\n      a\n        b\n"
    emb = load_yaml(text, "p.yaml").embedded("/rules/0/when")
    assert emb.text == "a\n  b\n"
    assert emb.span(2, 5).location == "p.yaml:4:7"  # the two kept spaces, then b


def test_embedded_end_offset_follows_the_last_character():
    text = "when: 'ab'\n"
    emb = load_yaml(text, "p.yaml").embedded("/when")
    assert emb.offsets == [7, 8, 9]
    assert emb.span(0, 2).end == 9


def test_embedded_double_quoted_escapes():
    text = 'when: "say \\"hi\\" \\x41\\t\\\n    then\\\\ \\u00e9nd"\n'
    emb = load_yaml(text, "p.yaml").embedded("/when")
    assert emb.text == 'say "hi" A\tthen\\ énd'
    assert text[emb.offsets[emb.text.index('"')]] == '"'
    assert text[emb.offsets[emb.text.index("then")]:].startswith("then")
    assert text[emb.offsets[emb.text.index("nd")]:].startswith("nd")
    assert all(0 <= offset <= len(text) for offset in emb.offsets)


def test_embedded_of_a_non_string_scalar_is_its_text():
    emb = load_yaml("limit: 20\n", "p.yaml").embedded("/limit")
    assert (emb.text, emb.span(0, 2).location) == ("20", "p.yaml:1:8")


@pytest.mark.parametrize("pointer", ["/rules", "/missing", "/rules/0/id/x"])
def test_embedded_needs_a_scalar(pointer):
    with pytest.raises(LookupError):
        load_yaml(PACK, "pack.yaml").embedded(pointer)


PRINTABLE = st.characters(min_codepoint=32, max_codepoint=126) | st.sampled_from(" \n\té→")


@settings(max_examples=300, deadline=None)
@given(value=st.text(PRINTABLE, max_size=60), style=st.sampled_from([None, "'", '"', "|", ">"]),
       width=st.integers(10, 60))
def test_embedded_matches_whatever_pyyaml_writes(value, style, width):
    text = yaml.safe_dump({"rules": [{"when": value}]}, default_style=style, allow_unicode=True, width=width)
    # PyYAML's emitter does not always round-trip its own output (a folded scalar with a
    # more-indented first line keeps a line break); the value is what YAML reads back.
    value = yaml.safe_load(text)["rules"][0]["when"]
    doc = load_yaml(text, "p.yaml")
    emb = doc.embedded("/rules/0/when")
    assert emb.text == value
    quoted = text[doc.span("/rules/0/when").start] == '"'
    for i, char in enumerate(value):
        found = text[emb.offsets[i]]
        assert found == char or (char == " " and found == "\n") or (quoted and found == "\\"), (i, char)
    assert 0 <= emb.offsets[-1] <= len(text)


# --- files --------------------------------------------------------------------------------


def test_load_file_names_the_source_by_the_path_given(tmp_path):
    path = tmp_path / "pack.yaml"
    path.write_bytes(b"\xef\xbb\xbfid: a\r\nwhen: " + EXPR.encode() + b"\r\n")
    doc = load_yaml_file(path)
    assert doc.source.name == str(path)
    assert doc.data == {"id": "a", "when": EXPR}
    assert doc.span("/when").location == f"{path}:2:7"


def test_missing_file_is_unreadable(tmp_path):
    path = tmp_path / "absent.yaml"
    with pytest.raises(DiagnosticError) as caught:
        load_yaml_file(path)
    [diag] = caught.value.diagnostics
    assert diag.code == "yaml.unreadable"
    assert str(path) in diag.message


def test_bad_utf8_is_unreadable(tmp_path):
    path = tmp_path / "latin1.yaml"
    path.write_bytes("note: café\n".encode("latin-1"))
    with pytest.raises(DiagnosticError) as caught:
        load_yaml_file(str(path))
    [diag] = caught.value.diagnostics
    assert diag.code == "yaml.unreadable"
    assert str(path) in diag.message and "UTF-8" in diag.message

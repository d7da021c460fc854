"""Parsing: the AST users' text turns into, and the syntax errors they get instead."""
from __future__ import annotations

from decimal import Decimal

import pytest

from policyengine.diagnostics import DiagnosticError, SourceText, EmbeddedSource
from policyengine.lang import nodes as n
from policyengine.lang.parser import MAX_DEPTH, MAX_LENGTH, parse


def test_precedence_and_associativity():
    assert parse("a + b * c - d") == n.Binary("-", n.Binary("+", n.Name("a"), n.Binary("*", n.Name("b"), n.Name("c"))),
                                              n.Name("d"))
    assert parse("a or b and not c") == n.Logical("or", (n.Name("a"), n.Logical("and", (n.Name("b"),
                                                                                         n.Unary("not", n.Name("c"))))))


def test_where_binds_looser_than_or_so_the_predicate_is_whole():
    tree = parse('interactions where two_way and program == "rpm"')
    assert isinstance(tree, n.Where)
    assert tree.predicate == n.Logical("and", (n.Name("two_way"), n.Binary("==", n.Name("program"), n.Literal("string", "rpm"))))


@pytest.mark.parametrize("text,kind,value", [
    ("20 min", "duration", 1200),
    ("19 min 59 s", "duration", 1199),
    ("1 h 5 min", "duration", 3900),
    ("45s", "duration", 45),
    ("2026-03-01", "date", "2026-03-01"),
    ("$52.00", "money", Decimal("52.00")),
    ("33.4009", "decimal", Decimal("33.4009")),
    ("16", "int", 16),
    ('"rpm"', "string", "rpm"),
    ('"say \\"hi\\""', "string", 'say "hi"'),
    ("true", "bool", True),
])
def test_literals(text, kind, value):
    assert parse(text) == n.Literal(kind, value)


def test_min_the_unit_does_not_clash_with_min_the_function():
    assert parse("min(20 min, x)") == n.Call("min", (n.Literal("duration", 1200), n.Name("x")))


def test_keywords_are_whole_words():
    assert parse("android or notable") == n.Logical("or", (n.Name("android"), n.Name("notable")))


def test_spans_are_left_out_of_equality_but_point_at_the_source():
    spaced, tight = parse("a  +  b"), parse("a+b")
    assert spaced == tight
    assert (spaced.right.span.start, spaced.right.span.end) == (6, 7)


def test_spans_inside_an_embedded_expression_point_into_the_file():
    file = SourceText("pack.yaml", "rules:\n  when: a and bee\n")
    start = file.text.index("a and")
    text = "a and bee"
    embedded = EmbeddedSource(file, text, [start + i for i in range(len(text) + 1)])
    tree = parse(embedded)
    assert tree.operands[1].span.location == "pack.yaml:2:15"


def errors(text):
    with pytest.raises(DiagnosticError) as info:
        parse(text)
    return info.value.diagnostics


@pytest.mark.parametrize("text,code,column", [
    ("a = b", "expr.single_equals", 3),
    ("a && b", "expr.c_operator", 3),
    ("a || b", "expr.c_operator", 3),
    ("!a", "expr.c_operator", 1),
    ("a +", "expr.trailing_operator", 3),
    ("sum(a", "expr.unclosed", 4),
    ("[1, 2", "expr.unclosed", 1),
    ("a)", "expr.unmatched_close", 2),
    ("a < b < c", "expr.chained_comparison", 7),
    ('"abc', "expr.unterminated_string", 1),
    ("2026-02-30", "expr.bad_literal", 1),
    ("18 min 119 s", "expr.bad_literal", 1),
    ("5 s 2 min", "expr.bad_literal", 1),
    ("a b", "expr.syntax", 3),
    ("1 +* 2", "expr.syntax", 4),
    ("a # b", "expr.syntax", 3),
    ("   ", "expr.empty", 1),
])
def test_syntax_errors_have_a_code_and_the_right_column(text, code, column):
    (diagnostic,) = errors(text)
    assert (diagnostic.code, diagnostic.span.column) == (code, column)


def test_syntax_error_lists_expected_tokens_in_words():
    (diagnostic,) = errors("a +")
    assert "a duration (20 min)" in diagnostic.notes[0] and "a name" in diagnostic.notes[0]


def test_length_limit():
    (diagnostic,) = errors("a or " * (MAX_LENGTH // 5) + "a")
    assert diagnostic.code == "expr.too_long"


@pytest.mark.parametrize("text", ["not " * 200 + "a", "(" * 300 + "a" + " + 1)" * 300, "- " * 500 + "1", "a" + ".b" * 200,
                                  " + ".join(["a"] * 120), " ?? ".join(["a"] * 70), " * ".join(["2"] * 600)])
def test_deep_nesting_is_an_error_not_a_crash(text):
    (diagnostic,) = errors(text)
    assert diagnostic.code in ("expr.too_deep", "expr.too_long")


def test_nesting_just_under_the_limit_parses():
    depth = MAX_DEPTH // 3
    assert parse("(" * depth + "a" + ")" * depth) == n.Name("a")


def test_the_grammar_cache_is_the_users_own_and_a_damaged_one_is_rebuilt(tmp_path):
    """Lark's parser is kept in the user's cache folder (0700), never unpickled from the shared
    temporary folder; a damaged file is rebuilt, and parsing works all along."""
    import os
    import stat
    import subprocess
    import sys
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path)}
    script = "from policyengine.lang.parser import parse; print(type(parse('1 + 2')).__name__)"

    def parsed() -> str:
        done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0 and done.stderr == "", done.stderr  # a damaged cache is no traceback either
        return done.stdout.strip()

    first = parsed()
    folder = tmp_path / "policyengine"
    (cache,) = folder.glob("grammar-lark-*.cache")
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    cache.write_bytes(b"not a parser\n")
    assert parsed() == first
    assert cache.read_bytes() != b"not a parser\n"  # rebuilt and written again

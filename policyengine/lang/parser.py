"""Text to AST. The Lark LALR parser is built once; its tree never leaves this module.

Syntax errors become diagnostics with the expected tokens in words, and the slips
analysts make most (`=` for `==`, `&&`, a trailing operator, an unclosed parenthesis,
chained comparisons) get messages of their own.
"""
from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from importlib import resources

import lark
from lark import Lark, Token, Transformer, Tree, v_args
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, VisitError

from ..diagnostics import Diagnostic, DiagnosticError, SourceText, Span
from ..limits import MAX_EXPRESSION_DEPTH as MAX_DEPTH
from ..limits import MAX_EXPRESSION_LENGTH as MAX_LENGTH
from ..usercache import cache_folder
from . import nodes as n


def _cache_file() -> str | bool:
    """Where Lark keeps the parser it builds from the grammar (73 ms to build, 11 ms to load):
    the user's private cache folder (`usercache.py`). Lark checks the grammar's hash in the
    file and rebuilds (and rewrites) a stale or damaged one. No cache without the folder."""
    folder = cache_folder()
    return str(folder / f"grammar-lark-{lark.__version__}.cache") if folder is not None else False


_PARSER = Lark(
    (resources.files("policyengine.lang") / "grammar.lark").read_text(encoding="utf-8"),
    parser="lalr", propagate_positions=True, maybe_placeholders=True, cache=_cache_file(),
)

_FRIENDLY = {
    "NAME": "a name", "INT": "a number", "DECIMAL": "a number", "MONEY": "an amount ($)",
    "DURATION": "a duration (20 min)", "DATE": "a date", "STRING": "a string",
    "LPAR": "'('", "RPAR": "')'", "LSQB": "'['", "RSQB": "']'", "COMMA": "','", "DOT": "'.'",
    "COMPARE": "a comparison", "ADD_OP": "'+' or '-'", "MUL_OP": "'*', '/' or '//'",
    "MINUS": "'-'", "$END": "the end of the expression", "QMARK": "'??'",
}
_OPERAND_START = {"NAME", "INT", "DECIMAL", "MONEY", "DURATION", "DATE", "STRING", "LPAR", "LSQB", "MINUS",
                  "NOT", "TRUE", "FALSE", "IF"}
_UNIT_SECONDS = {"h": 3600, "min": 60, "s": 1}


def _friendly(terminal: str) -> str:
    if terminal in _FRIENDLY:
        return _FRIENDLY[terminal]
    pattern = _PARSER.get_terminal(terminal).pattern if terminal in _terminal_names() else None
    if pattern is not None and pattern.type == "str":
        return f"'{pattern.value}'"
    return terminal.lower()


def _terminal_names() -> set[str]:
    return {t.name for t in _PARSER.terminals}


def _expected(terminals: set[str]) -> str:
    words = sorted({_friendly(t) for t in terminals})
    return "expected " + (words[0] if len(words) == 1 else "one of: " + ", ".join(words))


class _Builder(Transformer):
    """Lark tree -> AST nodes, with spans in the caller's source."""

    def __init__(self, source: SourceText) -> None:
        super().__init__()
        self.source = source

    def _span(self, meta_or_token) -> Span | None:
        start = getattr(meta_or_token, "start_pos", None)
        if start is None:
            return None
        return self.source.span(start, meta_or_token.end_pos)

    @v_args(meta=True, inline=True)
    def conditional(self, meta, cond, then, otherwise):
        return n.Conditional(cond, then, otherwise, span=self._span(meta))

    @v_args(meta=True, inline=True)
    def where(self, meta, items, predicate):
        return n.Where(items, predicate, span=self._span(meta))

    @v_args(meta=True)
    def coalesce(self, meta, children):
        node = children[0]
        for right in children[1:]:
            node = n.Coalesce(node, right, span=_joined(node, right))
        return node

    def _logical(self, op, meta, children):
        return children[0] if len(children) == 1 else n.Logical(op, tuple(children), span=self._span(meta))

    @v_args(meta=True)
    def or_(self, meta, children):
        return self._logical("or", meta, children)

    @v_args(meta=True)
    def and_(self, meta, children):
        return self._logical("and", meta, children)

    @v_args(meta=True, inline=True)
    def not_(self, meta, operand):
        return n.Unary("not", operand, span=self._span(meta))

    @v_args(meta=True, inline=True)
    def neg(self, meta, operand):
        return n.Unary("-", operand, span=self._span(meta))

    @v_args(meta=True, inline=True)
    def compare(self, meta, left, op, right):
        return n.Binary(str(op), left, right, span=self._span(meta))

    @v_args(meta=True, inline=True)
    def in_(self, meta, left, right):
        return n.Binary("in", left, right, span=self._span(meta))

    @v_args(meta=True, inline=True)
    def not_in(self, meta, left, right):
        return n.Binary("not in", left, right, span=self._span(meta))

    @v_args(meta=True)
    def arith(self, meta, children):
        node = children[0]
        for op, right in zip(children[1::2], children[2::2]):
            node = n.Binary(str(op), node, right, span=_joined(node, right))
        return node

    @v_args(meta=True, inline=True)
    def field(self, meta, base, name):
        return n.Field(base, str(name), span=self._span(meta))

    @v_args(meta=True)
    def call(self, meta, children):
        name, *args = children
        args = tuple(a for a in args if a is not None)
        return n.Call(str(name), args, span=self._span(meta))

    @v_args(meta=True)
    def list_lit(self, meta, children):
        return n.ListLiteral(tuple(c for c in children if c is not None), span=self._span(meta))

    def name(self, children):
        (token,) = children
        return n.Name(str(token), span=self._span(token))

    def _literal(self, kind, value, token):
        return n.Literal(kind, value, span=self._span(token))

    def int_lit(self, children):
        return self._literal("int", int(children[0]), children[0])

    def decimal_lit(self, children):
        return self._literal("decimal", Decimal(str(children[0])), children[0])

    def money_lit(self, children):
        return self._literal("money", Decimal(str(children[0])[1:]), children[0])

    def string_lit(self, children):
        raw = str(children[0])[1:-1]
        value = re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t"}.get(m.group(1), m.group(1)), raw)
        return self._literal("string", value, children[0])

    @v_args(meta=True)
    def true_lit(self, meta, children):
        return n.Literal("bool", True, span=self._span(meta))

    @v_args(meta=True)
    def false_lit(self, meta, children):
        return n.Literal("bool", False, span=self._span(meta))

    def date_lit(self, children):
        token = children[0]
        try:
            date.fromisoformat(str(token))
        except ValueError:
            raise _LiteralError(Diagnostic(
                "expr.bad_literal", f"{token} is not a real date", self._span(token),
                hint="dates are written YYYY-MM-DD, e.g. 2026-03-01")) from None
        return self._literal("date", str(token), token)

    def duration_lit(self, children):
        token = children[0]
        parts = re.findall(r"(\d+)\s*(h|min|s)\b", str(token))
        units = [u for _, u in parts]
        order = ["h", "min", "s"]
        if len(set(units)) != len(units) or units != sorted(units, key=order.index):
            raise _LiteralError(Diagnostic(
                "expr.bad_literal", f"'{token}' repeats or reorders its units", self._span(token),
                hint="write units largest first, each once: 1 h 5 min 30 s"))
        if len(parts) > 1 and any(int(v) >= (60 if u in ("min", "s") else 10**9) for v, u in parts[1:]):
            raise _LiteralError(Diagnostic(
                "expr.bad_literal", f"'{token}' has a part of 60 or more after a larger unit",
                self._span(token), hint="write 19 min 59 s, not 18 min 119 s"))
        seconds = sum(int(v) * _UNIT_SECONDS[u] for v, u in parts)
        return self._literal("duration", seconds, token)


def _joined(left: n.Node, right: n.Node) -> Span | None:
    """The span from the start of one node to the end of another (in display coordinates)."""
    if left.span is None or right.span is None:
        return None
    return Span(left.span.source, left.span.start, right.span.end)


class _LiteralError(Exception):
    def __init__(self, diagnostic: Diagnostic) -> None:
        super().__init__(diagnostic.message)
        self.diagnostic = diagnostic


def _tree_depth(tree: Tree) -> int:
    """Nesting depth of a parse tree, computed without recursion."""
    deepest, stack = 0, [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in node.children if isinstance(child, Tree))
    return deepest


def _open_bracket(text: str, upto: int) -> tuple[str, int] | None:
    """The innermost bracket still open at `upto`, ignoring strings."""
    stack: list[tuple[str, int]] = []
    in_string = False
    i = 0
    while i < upto:
        ch = text[i]
        if in_string:
            if ch == "\\":
                i += 1
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "([":
            stack.append((ch, i))
        elif ch in ")]" and stack:
            stack.pop()
        i += 1
    return stack[-1] if stack else None


def _syntax_diagnostic(error: UnexpectedInput, source: SourceText) -> Diagnostic:
    text = source.text
    pos = error.pos_in_stream if error.pos_in_stream is not None else len(text)
    span = source.span(pos, pos + 1 if pos < len(text) else pos)
    if isinstance(error, UnexpectedCharacters):
        ch = text[pos]
        two = text[pos:pos + 2]
        if ch == "=":
            return Diagnostic("expr.single_equals", "'=' is not an operator here", source.span(pos, pos + 1),
                              hint="compare with '==', e.g. program == \"rpm\"")
        if two in ("&&", "||") or ch == "!":
            word = {"&&": "and", "||": "or"}.get(two, "not")
            width = 2 if two in ("&&", "||") else 1
            return Diagnostic("expr.c_operator", f"'{text[pos:pos + width]}' is not an operator in this language",
                              source.span(pos, pos + width), hint=f"write '{word}'")
        if ch == '"':
            return Diagnostic("expr.unterminated_string", "this string is never closed", source.span(pos, len(text)),
                              hint='close it with a double quote: "text"')
        return Diagnostic("expr.syntax", f"unexpected character {ch!r}", span,
                          notes=(_expected(set(error.allowed or ())),) if error.allowed else ())
    token = getattr(error, "token", None)
    expected = set(getattr(error, "expected", ()) or ())
    at_end = isinstance(error, UnexpectedEOF) or (token is not None and token.type == "$END")
    if at_end:
        opened = _open_bracket(text, len(text))
        if opened is not None:
            closer = ")" if opened[0] == "(" else "]"
            return Diagnostic("expr.unclosed", f"'{opened[0]}' is never closed", source.span(opened[1], opened[1] + 1),
                              hint=f"add '{closer}' where the group ends")
        last = text.rstrip()
        end = len(last)
        return Diagnostic("expr.trailing_operator", "the expression ends where an operand is expected",
                          source.span(max(end - 1, 0), end), notes=(_expected(expected),),
                          hint="finish the expression or remove the last operator")
    assert isinstance(token, Token) and token.start_pos is not None and token.end_pos is not None
    start: int = token.start_pos
    tok_span = source.span(start, token.end_pos)
    if token.type == "COMPARE" and "COMPARE" not in expected:
        return Diagnostic("expr.chained_comparison", "comparisons do not chain", tok_span,
                          hint="write 'a < b and b < c'")
    if token.type in ("RPAR", "RSQB") and _open_bracket(text, start) is None:
        return Diagnostic("expr.unmatched_close", f"'{token}' closes nothing", tok_span,
                          hint="remove it, or add the opening bracket it belongs to")
    if _open_bracket(text, start) is None:
        expected -= {"RPAR", "RSQB", "COMMA"}
    if expected and expected <= _OPERAND_START | {"$END"} and token.type not in _OPERAND_START:
        return Diagnostic("expr.syntax", f"unexpected '{token}' where an operand is expected",
                          tok_span, notes=(_expected(expected),))
    return Diagnostic("expr.syntax", f"unexpected '{token}'", tok_span,
                      notes=(_expected(expected),) if expected else ())


def parse(text: str | SourceText) -> n.Node:
    """Parse one expression; raises DiagnosticError (code, span, expected tokens, hint)."""
    source = text if isinstance(text, SourceText) else SourceText("<expression>", text)
    if len(source.text) > MAX_LENGTH:
        raise DiagnosticError([Diagnostic(
            "expr.too_long", f"expression is {len(source.text)} characters long; the limit is {MAX_LENGTH}",
            source.span(0, 1), hint="split it into named definitions")])
    if not source.text.strip():
        raise DiagnosticError([Diagnostic("expr.empty", "the expression is empty", source.span(0, 0))])
    try:
        tree = _PARSER.parse(source.text)
    except UnexpectedInput as error:
        raise DiagnosticError([_syntax_diagnostic(error, source)]) from None
    if isinstance(tree, Tree) and _tree_depth(tree) > MAX_DEPTH:
        raise DiagnosticError([Diagnostic(
            "expr.too_deep", f"expression is nested more than {MAX_DEPTH} levels deep",
            source.span(0, len(source.text)), hint="split it into named definitions")])
    try:
        root = _Builder(source).transform(tree)
    except VisitError as error:  # lark wraps what the transformer raises
        if isinstance(error.orig_exc, _LiteralError):
            raise DiagnosticError([error.orig_exc.diagnostic]) from None
        raise
    if _ast_depth(root) > MAX_DEPTH:  # a long flat chain (a + b + ... ) nests in the AST
        raise DiagnosticError([Diagnostic(
            "expr.too_deep", f"expression is nested more than {MAX_DEPTH} levels deep (counting each operator)",
            source.span(0, len(source.text)), hint="split it into named definitions")])
    return root


def _ast_depth(root: n.Node) -> int:
    deepest, stack = 0, [(root, 1)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in node.children())
    return deepest

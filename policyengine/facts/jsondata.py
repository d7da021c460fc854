"""JSON data fit to be facts: read strictly from text, checked when given as data.

Facts come from systems the project does not control. Before the schema sees them, this
module refuses what would otherwise pass silently or crash far from its cause, each as a
`facts.*` diagnostic at the JSON pointer of the problem:

- a key named twice in one object (`facts.duplicate_key`; JSON readers disagree on which
  one counts, Python's keeps the last) - only text shows it;
- an integer beyond 64 bits (`facts.integer_too_large`), including one too long to read;
- a lone surrogate in a string or a key (`facts.bad_unicode`): it is not Unicode text;
- nesting beyond `MAX_DEPTH` (`facts.too_deep`);
- NaN or an infinity (`facts.not_a_number`; Python's parser reads them, JSON has no such
  numbers) and a number beyond a double (`facts.number_too_large`);
- a key that is not a plain string (`facts.bad_key`): data given to the Python API.

It runs on every record of a batch, so the common case is cheap: `read_json` lets the C
parser find repeated keys and long integers through its hooks and only reads a text twice
when one is found; `check_json_data` lets orjson (which writes the canonical facts hash and
refuses exactly such integers, strings and keys) say yes, and bounds the depth by the
brackets it wrote; only data either doubts is walked.
"""
from __future__ import annotations

import json
import re
import math
import sys
from decimal import Decimal
from typing import Any

import orjson

from ..diagnostics import Diagnostic, DiagnosticError, Span
from ..limits import MAX_DEPTH, MAX_DIAGNOSTICS, MAX_INT, MIN_INT
from ..pointers import pointer
from ..repeatedkeys import marked_object
from ..schemacheck import capped

#: A location in the data as path parts: ("interactions", 2, "date").
Location = tuple[str | int, ...]

#: Characters in the longest integer the range allows ("-9223372036854775808" is 20).
_INT_CHARS = max(len(str(MIN_INT)), len(str(MAX_INT)))

_SURROGATE = re.compile("[\ud800-\udfff]")


# --- reading text -----------------------------------------------------------------------------


class _Refused(Exception):
    """Raised by the strict hooks: the text names a key twice or holds an integer too long
    to read; `read_json` reads it again, marking each, to say where."""


def _strict_object(pairs: list[tuple[str, Any]]) -> dict:
    found = dict(pairs)
    if len(found) != len(pairs):
        raise _Refused
    return found


def _strict_int(digits: str) -> int:
    if len(digits) > _INT_CHARS:  # int() of thousands of digits raises, or takes long
        raise _Refused
    return int(digits)


class _LongInteger(str):
    """The digits of an integer too long to read."""


def _marked_int(digits: str) -> int | _LongInteger:
    return int(digits) if len(digits) <= _INT_CHARS else _LongInteger(digits)


# NaN, Infinity and -Infinity are not JSON, though Python's parser reads them (as floats,
# which orjson would write as null): read as Decimals, `check_json_data` refuses them.
_STRICT = json.JSONDecoder(parse_float=Decimal, parse_int=_strict_int, parse_constant=Decimal,
                           object_pairs_hook=_strict_object)
_MARKING = json.JSONDecoder(parse_float=Decimal, parse_int=_marked_int, parse_constant=Decimal,
                            object_pairs_hook=marked_object)


def read_json(text: str) -> Any:
    """JSON text as data (fractions as Decimal), refusing what only the text shows: a key
    named twice in one object, an integer too long to read, nesting too deep to read.

    Raises `json.JSONDecodeError` for text that is not JSON, and a `DiagnosticError` naming
    the JSON pointer of each such problem. The rest (an integer beyond 64 bits, a lone
    surrogate, nesting beyond `MAX_DEPTH`) is `check_json_data`'s to find, in data read
    from text as in data given to the Python API.
    """
    try:
        return _decode(_STRICT, text)
    except _Refused:
        problems = json_data_problems(_decode(_MARKING, text))
    raise DiagnosticError(problems)


def _decode(decoder: json.JSONDecoder, text: str) -> Any:
    try:
        return decoder.decode(text)
    except RecursionError:  # deeper than the parser can go, so far beyond MAX_DEPTH
        raise DiagnosticError([too_deep(_where(_too_deep_in_text(text)))]) from None


#: A JSON string (escapes included, in linear time) or a structural character.
_TOKEN = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{},:]')


def _too_deep_in_text(text: str) -> Location:
    """The location of the first container nested deeper than MAX_DEPTH in JSON text that
    is too deep to parse (the text reads as JSON that far)."""
    path: list[str | int] = []  # where the next value goes, in each open container
    in_object: list[bool] = []
    last_string = ""
    for match in _TOKEN.finditer(text):
        token = match.group()
        if token in "[{":
            if len(path) == MAX_DEPTH:
                break
            path.append(0 if token == "[" else "")
            in_object.append(token == "{")
        elif token in "]}":
            path.pop()
            in_object.pop()
        elif token == "," and not in_object[-1]:
            path[-1] = int(path[-1]) + 1
        elif token == ":":
            key = json.loads(last_string)
            path[-1] = key if is_text(key) else key.encode("utf-8", "backslashreplace").decode()
        elif token[0] == '"':
            last_string = token
    return tuple(path)


# --- checking data ----------------------------------------------------------------------------


def check_json_data(data: Any) -> None:
    """Raise a `DiagnosticError` naming every place where `data` is not what JSON facts
    can hold (see the module docstring); return when it is.

    orjson refuses integers beyond 64 bits, lone surrogates and keys that are not strings,
    and writes at least one bracket per container: data it writes with at most MAX_DEPTH
    brackets is fine, and other data it writes only needs its depth measured (a month of
    30 interactions has about 100 brackets). Only data with a problem is walked for where.
    """
    failure: TypeError | None = None
    try:
        written = orjson.dumps(data, default=_written)
    except TypeError as error:
        failure, written = error, b""
    if failure is None and (written.count(b"[") + written.count(b"{") <= MAX_DEPTH or _within_depth(data)) and \
            (b"null" not in written or not _has_float_outside_json(data)):
        return
    problems = json_data_problems(data)
    if problems:
        raise DiagnosticError(problems)
    if failure is not None:  # a value whose str() fails: nothing to point at
        raise DiagnosticError([Diagnostic("facts.not_json", f"the facts cannot be written as JSON: {failure}",
                                          where="/")])


def _written(value: Any) -> str:
    """What orjson writes for a value it does not know, as the canonical hash does: its
    text. A Decimal that is not a finite number is refused: JSON has no such number, and
    comparing a NaN raises (so it would stop the schema check); so is one beyond a double,
    which most systems that read the facts or the decision cannot hold."""
    if isinstance(value, Decimal) and _number_problem(value) is not None:
        raise TypeError(f"{value} is not a number facts hold")
    return str(value)


def _has_float_outside_json(data: Any) -> bool:
    """Whether a float NaN or infinity is in `data` (which orjson writes as null, so a
    written null is the only sign of one: facts handed to the Python API as floats)."""
    stack = [data]
    while stack:
        node = stack.pop()
        if type(node) is float and not math.isfinite(node):
            return True
        if type(node) is dict:
            stack.extend(node.values())
        elif type(node) is list or type(node) is tuple:
            stack.extend(node)
    return False


def _number_problem(value: Decimal) -> tuple[str, str, str] | None:
    """(code, what is wrong, hint) for a Decimal facts cannot hold, else None."""
    if not value.is_finite():
        return "facts.not_a_number", f"{value} is not a number JSON can hold", "a number in facts is finite"
    if abs(value) > _LARGEST_DOUBLE:
        return ("facts.number_too_large", f"{value} is beyond what a double holds (about 1.8E+308)",
                "a number in facts is one a double holds")
    return None


#: the largest finite double: what JSON readers that parse numbers as doubles can hold
_LARGEST_DOUBLE = Decimal(sys.float_info.max)


def _within_depth(data: Any) -> bool:
    """Whether no container in `data` is nested deeper than MAX_DEPTH (the document is 1)."""
    stack = [(data, 1)]
    while stack:
        node, depth = stack.pop()
        for value in node.values() if type(node) is dict else node:
            kind = type(value)
            if kind is dict or kind is list or kind is tuple:
                if depth == MAX_DEPTH:
                    return False
                stack.append((value, depth + 1))
    return True


def json_data_problems(data: Any) -> list[Diagnostic]:
    """Every place where `data` is not what JSON facts can hold, as diagnostics (none when
    it is), up to MAX_DIAGNOSTICS. Nothing deeper than MAX_DEPTH is looked at, and nothing
    under a bad key."""
    problems: list[Diagnostic] = []
    stack: list[tuple[Location, Any]] = [((), data)]
    while stack and len(problems) <= MAX_DIAGNOSTICS:
        at, node = stack.pop()
        if not isinstance(node, (dict, list, tuple)):
            problem = _value_problem(at, node)
            if problem is not None:
                problems.append(problem)
        elif len(at) >= MAX_DEPTH:
            problems.append(too_deep(_where(at)))
        else:
            items = _good_entries(at, node, problems) if isinstance(node, dict) else enumerate(node)
            stack.extend((at + (key,), value) for key, value in items)
    return capped(problems)


def _value_problem(at: Location, value: Any) -> Diagnostic | None:
    if isinstance(value, _LongInteger) or isinstance(value, int) and not MIN_INT <= value <= MAX_INT:
        return integer_too_large(_shown_integer(value), _where(at))
    if isinstance(value, str) and not is_text(value):
        return _bad_unicode(at, "the string", value)
    if isinstance(value, Decimal) and (problem := _number_problem(value)) is not None:
        code, message, hint = problem
        return Diagnostic(code, message, where=_where(at), hint=hint)
    if isinstance(value, float) and not math.isfinite(value):
        return Diagnostic("facts.not_a_number", f"{value} is not a number JSON can hold", where=_where(at),
                          hint="a number in facts is finite")
    return None


def _good_entries(at: Location, node: dict, problems: list[Diagnostic]) -> list[tuple[str, Any]]:
    """The entries of an object whose keys are text; a problem for each other key, and
    for each key its text named twice."""
    where = _where(at)
    for key in getattr(node, "repeated", ()):
        problems.append(Diagnostic("facts.duplicate_key", f"the key {key!r} is given more than once in this object",
                                   where=where, hint="name each field once: JSON readers disagree on which one counts"))
    good = []
    for key, value in node.items():
        if type(key) is not str:
            problems.append(Diagnostic("facts.bad_key", f"a key must be a string, not {type(key).__name__}", where=where))
        elif not is_text(key):
            problems.append(_bad_unicode(at, "the key", key))
        else:
            good.append((key, value))
    return good


def _where(at: Location) -> str:
    """The JSON pointer of a location, "/" for the document itself (as schemacheck says it)."""
    return pointer(at) or "/"


def is_text(value: str) -> bool:
    """Whether a string is Unicode text (holds no lone surrogate), so UTF-8 can write it."""
    return value.isascii() or _SURROGATE.search(value) is None


def _shown_integer(value: int | _LongInteger) -> str:
    """An integer as a message shows it: its digits, or how long it is."""
    if isinstance(value, _LongInteger):
        return f"the integer {value}" if len(value) <= 40 else f"an integer of {len(value.lstrip('-')):,} digits"
    return f"the integer {value}" if value.bit_length() <= 128 else f"an integer of {value.bit_length():,} bits"


def too_deep(where: str | None = None, span: Span | None = None) -> Diagnostic:
    """The diagnostic of a container nested deeper than MAX_DEPTH, at a pointer or a span."""
    return Diagnostic("facts.too_deep", f"lists and objects are nested more than {MAX_DEPTH} levels deep here",
                      span, "facts nest 4 levels deep; this is not a patient-month", where=where)


def integer_too_large(shown: str, where: str | None = None, span: Span | None = None) -> Diagnostic:
    """The diagnostic of an integer beyond 64 bits (`shown` says which), at a pointer or a span."""
    return Diagnostic("facts.integer_too_large", f"{shown} does not fit in 64 bits", span,
                      f"integers in facts are from {MIN_INT} to {MAX_INT}", where=where)


def _bad_unicode(at: Location, what: str, value: str) -> Diagnostic:
    surrogate = ord(_SURROGATE.search(value).group())  # type: ignore[union-attr]
    return Diagnostic("facts.bad_unicode", f"{what} {value[:40]!r} holds a lone surrogate (U+{surrogate:04X}), "
                      "which is not Unicode text", where=_where(at),
                      hint="a \\ud800-\\udbff escape is text only with a \\udc00-\\udfff one after it")

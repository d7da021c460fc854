"""Hypothesis strategies for patient-month facts: valid ones drawn from
`schemas/facts.schema.json`, then broken the ways data from other systems breaks.

The generator is written here rather than taken from hypothesis-jsonschema: that package
knows drafts 4, 6 and 7 (the facts schema is 2020-12) and draws pattern strings with
Python's `$`, which admits a trailing newline the schema's ECMA-262 patterns refuse.

`valid_facts` walks the schema (types, enums, patterns, minima and maxima, required and
optional properties, unique items), then fits the calendar, which the schema cannot say:
a month some bundled pack covers, interactions and activities in it, a monitoring period
of at most 30 days holding the transmission days, an as_of from the month's first day on,
ids used once. `broken_facts` changes such data (types, magnitudes, nesting, lone
surrogates, keys that are not strings, deleted fields, huge strings); `broken_lines`
changes its JSON text (keys given twice, bytes that are not UTF-8, surrogate escapes,
integers of thousands of digits, nesting, truncation).
"""
from __future__ import annotations

import calendar
import json
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, Callable

from hypothesis import strategies as st

from policyengine.facts import MAX_PERIOD_DAYS, facts_schema
from policyengine.limits import (MAX_UNITS, MAX_DEPTH, MAX_FACTS_BYTES, MAX_INT, MIN_INT, SECONDS_PER_DAY,
                                 SECONDS_PER_LONGEST_MONTH)
from policyengine.packs import bundled_ids

SCHEMA = facts_schema()
#: Years some bundled pack covers (cms-rpm-2026 covers 2026, ...).
YEARS = sorted(int(pack_id.rsplit("-", 1)[1]) for pack_id in bundled_ids())


# --- from the schema --------------------------------------------------------------------------


def _resolved(node: dict) -> dict:
    """A schema node with its `$ref` (to `#/$defs/...`) replaced by what it names."""
    if "$ref" not in node:
        return node
    target = SCHEMA["$defs"][node["$ref"].removeprefix("#/$defs/")]
    return {**target, **{key: value for key, value in node.items() if key != "$ref"}}


def from_schema(node: dict) -> st.SearchStrategy:
    """JSON data the schema node accepts."""
    node = _resolved(node)
    if "enum" in node:
        return st.sampled_from(node["enum"])
    kinds = node["type"] if isinstance(node["type"], list) else [node["type"]]
    return st.one_of([_of_kind(kind, node) for kind in kinds])


def _of_kind(kind: str, node: dict) -> st.SearchStrategy:
    if kind == "null":
        return st.none()
    if kind == "boolean":
        return st.booleans()
    if kind == "integer":
        return st.integers(node.get("minimum"), node.get("maximum"))
    if kind == "string":
        if "pattern" in node:  # ECMA-262 anchors; fullmatch leaves no trailing newline
            return st.from_regex(node["pattern"], fullmatch=True)
        return st.text(min_size=node.get("minLength", 0), max_size=12)
    if kind == "array":
        return st.lists(from_schema(node["items"]), max_size=4, unique=node.get("uniqueItems", False))
    required = set(node.get("required", ()))
    properties = {key: from_schema(child) for key, child in node.get("properties", {}).items()}
    return st.fixed_dictionaries({key: s for key, s in properties.items() if key in required},
                                 optional={key: s for key, s in properties.items() if key not in required})


# --- the calendar ------------------------------------------------------------------------------


def _days(draw: st.DrawFn, first: date, last: date, count: int) -> list[str]:
    return [str(day) for day in draw(st.lists(st.dates(first, last), min_size=count, max_size=count, unique=True))]


def _fit_calendar(draw: st.DrawFn, facts: dict) -> dict:
    year, number = draw(st.sampled_from(YEARS)), draw(st.integers(1, 12))
    first = date(year, number, 1)
    last = date(year, number, calendar.monthrange(year, number)[1])
    facts["month"] = f"{year}-{number:02d}"
    for key in ("interactions", "activities"):
        for index, item in enumerate(facts.get(key, ())):
            item["id"] = f"{item['id']}-{index}"
            item["date"] = str(draw(st.dates(first, last)))
    window = (first, last)
    if "monitoring_period" in facts:
        start = draw(st.dates(first - timedelta(days=MAX_PERIOD_DAYS - 1), last))
        # at least one day in the month: a period that reaches it
        end = start + timedelta(days=draw(st.integers(max(0, (first - start).days), MAX_PERIOD_DAYS - 1)))
        facts["monitoring_period"] = {"start": str(start), "end": str(end)}
        window = (start, end)
    if "transmission_days" in facts:
        days_in_window = (window[1] - window[0]).days + 1
        facts["transmission_days"] = _days(draw, *window, min(len(facts["transmission_days"]), days_in_window))
    if "as_of" in facts:
        facts["as_of"] = str(draw(st.dates(first, last + timedelta(days=60))))
    for item in (facts.get("consent") or {}, facts.get("episode", {}), *facts.get("care_plan_changes", ()),
                 *facts.get("escalations", ())):
        for key in ("date", "start"):
            if key in item:
                item[key] = str(draw(st.dates()))
    return facts


@st.composite
def valid_facts(draw: st.DrawFn) -> dict:
    """Facts that pass every check: the schema's and the calendar's."""
    return _fit_calendar(draw, draw(from_schema(SCHEMA)))


# --- broken data ---------------------------------------------------------------------------------


def _nested(levels: int) -> list:
    value: list = []
    for _ in range(levels - 1):
        value = [value]
    return value


class _Unprintable:
    def __str__(self) -> str:
        raise TypeError("no text")


_EDGES = [SECONDS_PER_DAY, SECONDS_PER_DAY + 1, SECONDS_PER_LONGEST_MONTH + 1, MAX_UNITS + 1, MAX_INT,
          MAX_INT + 1, MIN_INT, MIN_INT - 1, 10**18, 2**200, -(10**5000), -1, 0]
HOSTILE_VALUES = st.one_of(
    st.sampled_from(_EDGES), st.integers(), st.floats(), st.decimals(),
    st.sampled_from([Decimal("1E+999999"), Decimal("NaN"), float("inf"), 600.0]),
    st.text(max_size=8).map(lambda text: text + "\ud800"),
    st.sampled_from(["\udfff", "\ud83d", "ok\udc80", "\ud83d\ude00", "", "x" * 300_000, "2026-02-30", "9999-99-99"]),
    st.integers(MAX_DEPTH - 2, MAX_DEPTH + 40).map(_nested), st.just(5000).map(_nested),
    # containers are built for each example: a later change must not reach into a shared one
    st.sampled_from([None, True, (1, 2), b"bytes", frozenset({1, 2})]), st.builds(list), st.builds(dict),
    st.builds(set, st.just([1, 2])), st.builds(_Unprintable),
)
HOSTILE_KEYS = st.one_of(st.text(max_size=8), st.sampled_from(["\ud800", "a\udfffb", 7, None, ("a",), "patient_id"]))


def _locations(node: Any, at: tuple = ()) -> list[tuple]:
    """Every location in the data, to the depth facts have (not into a hostile nesting)."""
    found = [at]
    children = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, child in children if len(at) < 6 else ():
        found.extend(_locations(child, at + (key,)))
    return found


def _replace(draw: st.DrawFn, facts: Any, at: tuple) -> Any:
    if not at:
        return draw(HOSTILE_VALUES)
    _parent(facts, at)[at[-1]] = draw(HOSTILE_VALUES)
    return facts


def _delete(draw: st.DrawFn, facts: Any, at: tuple) -> Any:
    parent = _parent(facts, at) if at else None
    if isinstance(parent, (dict, list)):
        del parent[at[-1]]
    return facts


def _add_key(draw: st.DrawFn, facts: Any, at: tuple) -> Any:
    target = _parent(facts, at + (None,))
    if isinstance(target, dict):
        target[draw(HOSTILE_KEYS)] = draw(HOSTILE_VALUES)
    return facts


def _parent(facts: Any, at: tuple) -> Any:
    node = facts
    for step in at[:-1]:
        node = node[step]
    return node


_CHANGES: list[Callable[[st.DrawFn, Any, tuple], Any]] = [_replace, _delete, _add_key]


@st.composite
def broken_facts(draw: st.DrawFn) -> Any:
    """Valid facts with one to three things changed: a value replaced by a hostile one, a
    field (required or not) deleted, a hostile key added."""
    facts: Any = draw(valid_facts())
    for _ in range(draw(st.integers(1, 3))):
        at = draw(st.sampled_from(_locations(facts)))
        facts = draw(st.sampled_from(_CHANGES))(draw, facts, at)
    return facts


# --- broken text ---------------------------------------------------------------------------------

_INSERTS = [b"\xff", b"\xc3", b"\xed\xa0\x80", b"\x00", b"\\ud800", b"\\udc00", b'"', b",", b"{", b"]", b"\r", b"\n"]


def _insert(draw: st.DrawFn, text: bytes) -> bytes:
    at = draw(st.integers(0, len(text)))
    return text[:at] + draw(st.sampled_from(_INSERTS)) + text[at:]


def _repeat_key(draw: st.DrawFn, text: bytes) -> bytes:
    """The first object names one of its keys twice (JSON readers keep the last)."""
    key = draw(st.sampled_from([b'"patient_id": "PT-X", ', b'"month": "2026-03", ', b'"x": 1, "x": 2, ']))
    return text.replace(b"{", b"{" + key, 1) if text.startswith(b"{") else text


def _long_integer(draw: st.DrawFn, text: bytes) -> bytes:
    digits = draw(st.sampled_from([b"18446744073709551616", b"-9223372036854775809", b"7" * 5000]))
    return text.replace(b"}", b', "x_count": ' + digits + b"}", 1)


def _nest(draw: st.DrawFn, text: bytes) -> bytes:
    levels = draw(st.sampled_from([MAX_DEPTH - 1, MAX_DEPTH, 1000, 100_000]))
    return text.replace(b"}", b', "x_deep": ' + b"[" * levels + b"]" * levels + b"}", 1)


def _truncate(draw: st.DrawFn, text: bytes) -> bytes:
    return text[:draw(st.integers(0, len(text)))]


def _oversize(draw: st.DrawFn, text: bytes) -> bytes:
    return text.replace(b"}", b', "x_note": "' + b"x" * (MAX_FACTS_BYTES + draw(st.integers(-60, 60))) + b'"}', 1)


_TEXT_CHANGES = [_insert, _repeat_key, _long_integer, _nest, _truncate, _oversize]


@st.composite
def broken_lines(draw: st.DrawFn) -> bytes:
    """The JSON text (one line) of valid or broken facts, with up to two things done to the
    text itself. A lone surrogate is written as its escape, or (ensure_ascii off) as the
    three bytes UTF-8 refuses."""
    facts = draw(st.one_of(valid_facts(), broken_facts()))
    try:
        text = json.dumps(facts, ensure_ascii=draw(st.booleans())).encode("utf-8", "surrogatepass")
    except (TypeError, ValueError, RecursionError):  # not JSON data: a set, bytes, 5,000 digits, ...
        text = json.dumps(draw(valid_facts())).encode("utf-8")
    for _ in range(draw(st.integers(0, 2))):
        text = draw(st.sampled_from(_TEXT_CHANGES))(draw, text)
    return text

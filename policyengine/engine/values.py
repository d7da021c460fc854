"""Values as the decision shows them: JSON data, words, and canonical hashes."""
from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import orjson

from ..lang import DECIMAL, DURATION, MONEY, CompiledExpression, ListOf, Optional, Record, Type, format_seconds


def to_json_value(value: Any) -> Any:
    """JSON data for a value: durations and counts stay integers, decimals and money
    become strings ("51.77"), so no float ever appears; records' keys are sorted, so the
    order keys had in the input never shows in a decision."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (list, tuple)):
        return [to_json_value(v) for v in value]
    if isinstance(value, dict):
        return {k: to_json_value(value[k]) for k in sorted(value)}
    return value


#: the classes of values that are JSON data as they are
PLAIN = frozenset({bool, int, str, type(None)})


class SharedJson:
    """`to_json_value` for many values that share lists and records (one decision's full
    trace shows the same interactions in many parts): each list or record is converted
    once and the JSON data shared. Valid while the values it has seen are not changed.

    A record whose id is in `by_reference` (a record of the facts' lists, by its pointer)
    is written as a reference, the one-key object `{reference_key: pointer}`, and its data
    kept once in `records` by pointer."""

    __slots__ = ("_seen", "_by_reference", "_reference_key", "records")

    def __init__(self, by_reference: dict[int, str] | None = None, reference_key: str = "") -> None:
        #: id -> (the value, its JSON data); the value is kept so its id stays its own
        self._seen: dict[int, tuple[Any, Any]] = {}
        self._by_reference = by_reference or {}
        self._reference_key = reference_key
        #: pointer -> the JSON data of each record written by reference
        self.records: dict[str, Any] = {}

    def __call__(self, value: Any) -> Any:
        kind = value.__class__
        if kind in PLAIN:
            return value
        if kind is not list and kind is not dict and kind is not tuple:
            return to_json_value(value)
        known = self._seen.get(id(value))
        if known is None:
            if kind is dict:
                data: Any = {k: v if (v := value[k]).__class__ in PLAIN else self(v) for k in sorted(value)}
                pointer = self._by_reference.get(id(value))
                if pointer is not None:
                    self.records[pointer] = data
                    data = {self._reference_key: pointer}
            else:
                data = [v if v.__class__ in PLAIN else self(v) for v in value]
            known = self._seen[id(value)] = (value, data)
        return known[1]


def compact(value: Any) -> Any:
    """A value for a compact trace: records are named by their id (or left out as "{…}")."""
    kind = type(value)
    if kind is bool or kind is int or kind is str or value is None:
        return value
    if isinstance(value, dict):
        return value.get("id", "{…}")
    if isinstance(value, (list, tuple)):
        return [compact(v) for v in value]
    return to_json_value(value)


def in_words(value: Any, expression: CompiledExpression | None) -> str:
    """A value in a reason sentence: '19 min 59 s', '16', '51.77'."""
    return words_for(expression)(value)


def words_for(expression: CompiledExpression | None) -> Callable[[Any], str]:
    """How the values of an expression read in a sentence, chosen once by its type: a
    duration's seconds as '19 min 59 s', anything else as its JSON data."""
    if expression is not None and expression.type == DURATION:
        return _duration_in_words
    return _in_words


def _duration_in_words(value: Any) -> str:
    return format_seconds(value) if isinstance(value, int) else str(to_json_value(value))


def _in_words(value: Any) -> str:
    return str(to_json_value(value))


# The writers of JSON below use orjson, and the standard library where orjson refuses: an
# integer beyond 64 bits, which facts cannot hold but a pack can compute (a literal, a
# product of large values) and a decision shows (a line's actual, a trace's parts). The
# standard library writes the same bytes for everything else, and such an integer as the
# number it is (a JSON number has no size limit).


def canonical_json(data: Any) -> bytes:
    """The canonical JSON of some data: sorted keys, no spaces, UTF-8, decimals as text.
    The same bytes as `json.dumps(data, sort_keys=True, separators=(",", ":"),
    ensure_ascii=False, default=str)`, written by orjson in a fifth of the time."""
    try:
        return orjson.dumps(data, option=orjson.OPT_SORT_KEYS, default=str)
    except TypeError:  # an integer beyond 64 bits: see above
        return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str).encode()


def compact_json(data: Any) -> str:
    """One line of JSON in the data's own key order (a decision in a batch), no spaces."""
    try:
        return orjson.dumps(data, default=str).decode()
    except TypeError:  # an integer beyond 64 bits: see above
        return json.dumps(data, separators=(",", ":"), ensure_ascii=False, default=str)


def pretty_json(data: Any) -> str:
    """JSON indented by two spaces in the data's own key order: `json.dumps(data,
    ensure_ascii=False, indent=2)`'s bytes (a test holds them), twenty times faster, since
    the standard library's C encoder does not indent."""
    try:
        return orjson.dumps(data, default=str, option=orjson.OPT_INDENT_2).decode()
    except TypeError:  # an integer beyond 64 bits: see above
        return json.dumps(data, indent=2, ensure_ascii=False, default=str)


def canonical_sha256(data: Any) -> str:
    """sha256 of the canonical JSON of some data."""
    return hashlib.sha256(canonical_json(data)).hexdigest()


def from_json_value(value: Any, kind: Type) -> Any:
    """A value of type `kind` from its JSON form (`to_json_value` read back): decimals and
    money from their strings, lists and records item by item by their declared types."""
    if value is None:
        return None
    if isinstance(kind, Optional):
        return from_json_value(value, kind.inner)
    if kind in (DECIMAL, MONEY):
        return Decimal(value)
    if isinstance(kind, ListOf) and isinstance(value, list):
        return [from_json_value(item, kind.item) for item in value]
    if isinstance(kind, Record) and isinstance(value, dict):
        return {key: from_json_value(item, spec.type) if (spec := kind.spec(key)) is not None else item
                for key, item in value.items()}
    return value

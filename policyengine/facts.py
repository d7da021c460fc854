"""Patient-month facts: reading one document and checking it (contract v1, section 1).

This module owns the input side of a decision. `parse_facts_text` turns JSON or YAML text
into JSON data (dates stay strings), and `parse_facts_line` one line of a batch; both refuse
a document beyond the limits of `policyengine.limits` and what only its text shows (a key
given twice, a YAML alias). `check_facts` makes sure the data is JSON data facts can hold
(`policyengine.jsondata`: integers in 64 bits, Unicode text, bounded nesting), checks it
against `schemas/facts.schema.json`, then checks the calendar, which a schema cannot: real dates,
interactions and activities inside the month, transmission days inside the monitoring
period, ids used once. Every error is reported at once, each located by its JSON pointer;
an unknown key is only a warning, with "did you mean" where a known key is close.

It runs on every record of a batch, so validators are compiled once, on first use, and a
valid record takes the fast path: when `jsonschema_rs` is installed it says valid or not,
and only a record it rejects goes through the reference validator, whose errors become
diagnostics. The schema is the single source of truth for both.
"""
from __future__ import annotations

import calendar
import functools
import json
import re
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from importlib.resources import files
from typing import Any, Callable, Iterator

import jsonschema
import yaml

from . import schemacheck
from .diagnostics import Diagnostic, DiagnosticError, SourceText, Span
from .jsondata import check_json_data, integer_too_large, read_json, too_deep
from .limits import MAX_DEPTH, MAX_FACTS_BYTES

try:
    import jsonschema_rs
except ImportError:  # optional: the reference validator alone gives the same answers
    jsonschema_rs = None

#: A location in the facts as path parts: ("interactions", 2, "date").
Location = tuple[str | int, ...]

#: The longest monitoring (device-supply) period, in days, both ends included.
MAX_PERIOD_DAYS = 30

#: Lists whose items must be dated inside `month`.
_DATED_IN_MONTH = ("interactions", "activities")

#: Lists whose items carry an `id` that must be unique within the list.
_IDENTIFIED = ("interactions", "activities")


@dataclass(frozen=True)
class CheckedFacts:
    """Facts that passed `check_facts`: the data as given, and the warnings about it."""

    data: dict
    warnings: tuple[Diagnostic, ...]


def parse_facts_text(text: str, name: str) -> Any:
    """The document in `text` (JSON, or YAML when it is not JSON), named `name` in errors.

    Raises a `DiagnosticError`: `facts.too_large` beyond `MAX_FACTS_BYTES`; `facts.malformed`
    at the line and column of the problem (JSON's when the text looks like JSON, YAML's
    otherwise); what `read_json` refuses in JSON; aliases, repeated keys and nesting beyond
    `MAX_DEPTH` in YAML, at their line and column.
    """
    size = _size_beyond_limit(text)
    if size is not None:
        raise DiagnosticError([Diagnostic(
            "facts.too_large", f"the facts are {size:,} bytes; at most {MAX_FACTS_BYTES:,} are read",
            where=name, hint="one document holds one patient-month")])
    try:
        return read_json(text)
    except json.JSONDecodeError as json_error:
        try:
            return _load_yaml(text, name)
        except (yaml.YAMLError, DiagnosticError) as yaml_error:
            if _looks_like_json(text):
                raise DiagnosticError([_malformed_json(text, name, json_error)]) from None
            if isinstance(yaml_error, DiagnosticError):
                raise
            raise DiagnosticError([_malformed_yaml(text, name, yaml_error)]) from None


def parse_facts_line(raw: bytes | str) -> Any:
    """One line of JSON Lines (its line end may be included) as data.

    Raises a `DiagnosticError`: `facts.too_large` beyond `MAX_FACTS_BYTES`, `facts.malformed`
    for text that is not UTF-8, blank or not JSON, and what `read_json` refuses.
    """
    line = raw.rstrip(b"\r\n") if isinstance(raw, bytes) else raw.rstrip("\r\n")
    too_large = len(line) > MAX_FACTS_BYTES if isinstance(line, bytes) else _size_beyond_limit(line) is not None
    if too_large:
        raise DiagnosticError([Diagnostic(
            "facts.too_large", f"the line is longer than {MAX_FACTS_BYTES:,} bytes, the most one facts document may be",
            hint="one line holds one patient-month")])
    try:
        text = line.decode("utf-8") if isinstance(line, bytes) else line
    except UnicodeDecodeError as error:
        raise DiagnosticError([Diagnostic("facts.malformed", f"not valid UTF-8: {error.reason} at byte {error.start}")]) from None
    if not text.strip():
        raise DiagnosticError([Diagnostic("facts.malformed", "empty line: expected one JSON object")])
    try:
        return read_json(text)
    except json.JSONDecodeError as error:
        raise DiagnosticError([Diagnostic("facts.malformed", f"not valid JSON: {error.msg} (column {error.colno})")]) from None


def check_facts(data: Any) -> CheckedFacts:
    """`data` as checked facts, or a `DiagnosticError` carrying every error in it.

    The calendar is checked once the schema finds no error, so a document with a wrong
    type reports its schema errors first, all of them.
    """
    check_json_data(data)
    diagnostics = _validators(facts_schema()).diagnostics(data)
    errors = [d for d in diagnostics if d.severity == "error"]
    if not errors:
        errors = schemacheck.capped(_calendar_errors(data))
    if errors:
        raise DiagnosticError(errors)
    return CheckedFacts(data=data, warnings=tuple(diagnostics))


def check_with_schema(data: Any, schema: dict) -> CheckedFacts:
    """Facts for a pack that declares its own facts schema: that schema's errors (all of
    them) and unknown-key warnings; the contract's calendar checks do not apply."""
    check_json_data(data)
    diagnostics = _validators(schema).diagnostics(data)
    errors = [d for d in diagnostics if d.severity == "error"]
    if errors:
        raise DiagnosticError(errors)
    return CheckedFacts(data=data, warnings=tuple(diagnostics))


@functools.cache
def facts_schema() -> dict:
    """The facts schema, parsed once (shared: do not mutate it)."""
    resource = files("policyengine.bundled.schemas") / "facts.schema.json"
    schema: dict = json.loads(resource.read_text(encoding="utf-8"))
    return schema


# --- reading ------------------------------------------------------------------------------


def _size_beyond_limit(text: str) -> int | None:
    """The bytes of `text` in UTF-8 when they exceed MAX_FACTS_BYTES, else None (a short
    text is not encoded to know)."""
    if len(text) * 4 <= MAX_FACTS_BYTES:
        return None
    size = len(text.encode("utf-8", "surrogatepass"))
    return size if size > MAX_FACTS_BYTES else None


class _FactsLoader(yaml.SafeLoader):
    """YAML read as JSON would be: dates stay strings, every key is a string and is given
    once. Facts have no use for aliases, which can repeat a value until memory runs out
    (a few hundred bytes of "billion laughs"), so each one is refused where it stands; so
    is nesting beyond MAX_DEPTH, before the composer's recursion gets there."""

    def __init__(self, text: str, name: str) -> None:
        super().__init__(text)
        self.source = SourceText(name, text)
        self.depth = 0

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node:
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent):
            raise DiagnosticError([Diagnostic("facts.yaml_alias", f"an alias (*{event.anchor}) repeats a value; "
                                              "facts have none", self.span(event.start_mark),
                                              hint="write the value out where it is used")])
        nests = isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent))
        if nests:
            self.depth += 1
            if self.depth > MAX_DEPTH:
                raise DiagnosticError([too_deep(span=self.span(event.start_mark))])
        try:
            return super().compose_node(parent, index)
        finally:
            if nests:
                self.depth -= 1

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        self.flatten_mapping(node)
        first_of: dict[str, yaml.Node] = {}
        for key_node, _ in node.value:
            if key_node.tag != "tag:yaml.org,2002:str":
                raise yaml.constructor.ConstructorError(
                    None, None, f"a key must be text; quote {key_node.value!r}", key_node.start_mark)
            first = first_of.setdefault(key_node.value, key_node)
            if first is not key_node:
                mark = first.start_mark
                raise DiagnosticError([Diagnostic(
                    "facts.duplicate_key", f"the key {key_node.value!r} is given twice in this mapping (first at "
                    f"line {mark.line + 1}, column {mark.column + 1})", self.span(key_node.start_mark),
                    hint="name each field once")])
        return super().construct_mapping(node, deep)

    def construct_yaml_int(self, node: yaml.ScalarNode) -> int:
        try:
            return super().construct_yaml_int(node)
        except ValueError:  # int() refuses thousands of digits
            raise DiagnosticError([integer_too_large(f"an integer of {len(node.value):,} characters",
                                                     span=self.span(node.start_mark))]) from None

    def span(self, mark: yaml.Mark) -> Span:
        return self.source.span(mark.index, mark.index + 1)


_FactsLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_FactsLoader.add_constructor("tag:yaml.org,2002:int", _FactsLoader.construct_yaml_int)


def _load_yaml(text: str, name: str) -> Any:
    loader = _FactsLoader(text, name)
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()


def _looks_like_json(text: str) -> bool:
    return text.lstrip().startswith(("{", "["))


def _malformed_json(text: str, name: str, error: json.JSONDecodeError) -> Diagnostic:
    return Diagnostic(code="facts.malformed", message=f"not valid JSON: {error.msg}",
                      span=SourceText(name, text).span(error.pos, error.pos + 1))


def _malformed_yaml(text: str, name: str, error: yaml.YAMLError) -> Diagnostic:
    mark = getattr(error, "problem_mark", None)
    parts = [getattr(error, attribute, None) for attribute in ("context", "problem")]
    problem = ", ".join(part for part in parts if part) or str(error)
    offset = mark.index if mark else 0
    return Diagnostic(code="facts.malformed", message=f"not valid YAML: {problem}",
                      span=SourceText(name, text).span(offset, offset + 1))


# --- the schema -----------------------------------------------------------------------------


@functools.cache
def _ecma_regex(pattern: str) -> re.Pattern[str]:
    """An ECMA-262 pattern compiled for Python: each `$` outside a class becomes `\\Z`.

    In Python `$` also matches before a final newline, so "rpm\\n" would pass "^[a-z]+$";
    JSON Schema patterns are ECMA-262, where `$` is the end of the string.
    """
    out, escaped, in_class = [], False, False
    for ch in pattern:
        if escaped:
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch == "[":
            in_class = True
        elif ch == "]":
            in_class = False
        elif ch == "$" and not in_class:
            ch = r"\Z"
        out.append(ch)
    return re.compile("".join(out))


def _ecma_pattern(validator: Any, pattern: str, instance: Any, schema: dict) -> Iterator[jsonschema.ValidationError]:
    if validator.is_type(instance, "string") and not _ecma_regex(pattern).search(instance):
        yield jsonschema.ValidationError(f"{instance!r} does not match {pattern!r}")


def _items(validator: Any, items: dict, instance: Any, schema: dict) -> Iterator[jsonschema.ValidationError]:
    """Each item of a list against its schema, unless the list is longer than its maxItems:
    then that is the error (its items are not explained one by one)."""
    if validator.is_type(instance, "array") and len(instance) > schema.get("maxItems", len(instance)):
        return
    yield from jsonschema.Draft202012Validator.VALIDATORS["items"](validator, items, instance, schema)


def _unique_items(validator: Any, unique: bool, instance: Any, schema: dict) -> Iterator[jsonschema.ValidationError]:
    """uniqueItems in one pass (jsonschema compares every pair when items do not sort, e.g.
    numbers and strings mixed: minutes for a list of 100,000)."""
    if unique and validator.is_type(instance, "array") and schemacheck.first_repeat(instance) is not None:
        yield jsonschema.ValidationError("has non-unique elements")


def _is_whole_number(checker: Any, instance: Any) -> bool:
    """Facts hold no fractions: 600.0 is not a duration in whole seconds (JSON Schema would
    accept it as an integer; the engine would then compute with a float)."""
    return isinstance(instance, int) and not isinstance(instance, bool)


_ReferenceValidator = jsonschema.validators.extend(
    jsonschema.Draft202012Validator, {"pattern": _ecma_pattern, "items": _items, "uniqueItems": _unique_items},
    type_checker=jsonschema.Draft202012Validator.TYPE_CHECKER.redefine("integer", _is_whole_number),
)


class _Validators:
    """The validators of one facts schema, built once: the fast one says valid or not, the
    reference one explains a record the fast one rejects (or one it would misjudge)."""

    def __init__(self, schema: dict) -> None:
        self.schema = schema
        self.fast = jsonschema_rs.validator_for(schema) if jsonschema_rs is not None else None
        self.reference = _ReferenceValidator(schema)
        self.integer_paths = tuple(_paths_where(schema, schema, lambda node: node.get("type") == "integer"))

    def has_fraction(self, data: Any) -> bool:
        """Whether a whole-number field holds a float or Decimal (the fast validator would
        accept 600.0 as an integer, so such a document takes the reference path)."""
        for path in self.integer_paths:
            nodes = [data]
            for step in path:
                if step == "*":
                    nodes = [item for node in nodes if isinstance(node, list) for item in node]
                else:
                    nodes = [node[step] for node in nodes if isinstance(node, dict) and step in node]
            if any(type(value) is float or type(value) is Decimal for value in nodes):
                return True
        return False

    def diagnostics(self, data: Any) -> list[Diagnostic]:
        """Errors and warnings (unknown keys) against the schema; none for a valid record."""
        if self.fast is not None and not self.has_fraction(data):
            try:
                if self.fast.is_valid(data):
                    return []
            except ValueError:  # a value jsonschema_rs cannot convert: the reference judges it
                pass
        return schemacheck.check(data, self.reference, kind="facts", severity_of=_severity)


#: validators by id() of their schema; each entry keeps its schema, so the id stays its own
_VALIDATORS: dict[int, _Validators] = {}


def _validators(schema: dict) -> _Validators:
    found = _VALIDATORS.get(id(schema))
    if found is None or found.schema is not schema:
        found = _VALIDATORS[id(schema)] = _Validators(schema)
    return found


def _severity(code: str) -> str:
    return "warning" if code == "facts.unknown_field" else "error"


def _paths_where(schema: dict, node: dict, wanted: Callable[[dict], bool],
                 path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    """The path of every schema node `wanted` accepts; "*" stands for each item of a list."""
    if wanted(node):
        yield path
        return
    if "$ref" in node:
        node = schema["$defs"][node["$ref"].removeprefix("#/$defs/")]
        if wanted(node):
            yield path
            return
    for key, child in node.get("properties", {}).items():
        yield from _paths_where(schema, child, wanted, path + (key,))
    if "items" in node:
        yield from _paths_where(schema, node["items"], wanted, path + ("*",))


@functools.cache
def _schema_date_paths() -> tuple[tuple[str, ...], ...]:
    return tuple(_paths_where(facts_schema(), facts_schema(), lambda node: node.get("$ref") == "#/$defs/date"))


# --- the calendar ---------------------------------------------------------------------------


def _calendar_errors(facts: dict) -> list[Diagnostic]:
    """Errors the schema cannot see, in facts the schema accepts."""
    errors: list[Diagnostic] = []
    days = _real_dates(facts, errors)
    month_days = _month_bounds(facts["month"], errors)
    if month_days is not None:
        first, last = month_days
        for at, day in days.items():
            if at[0] in _DATED_IN_MONTH and not first <= day <= last:
                errors.append(_error("facts.outside_month", at, f"{day} is outside the month {facts['month']}"))
        as_of = days.get(("as_of",))
        if as_of is not None and as_of < first:
            errors.append(_error("facts.as_of_before_month", ("as_of",),
                                 f"as_of {as_of} is before the month {facts['month']} begins: facts about "
                                 "a month cannot be complete through a day before it",
                                 f"as_of is a day from {first} on; leave it out when the month is complete"))
    window = _transmission_window(facts, days, month_days, errors)
    if window is not None:
        start, end, name = window
        for at, day in days.items():
            if at[0] == "transmission_days" and not start <= day <= end:
                errors.append(_error("facts.outside_period", at, f"{day} is outside {name}"))
    errors.extend(_repeated_ids(facts))
    return errors


def _real_dates(facts: dict, errors: list[Diagnostic]) -> dict[Location, date]:
    """Every date in the facts by location; an impossible one is an error instead."""
    days: dict[Location, date] = {}
    for path in _schema_date_paths():
        for at, text in _values_at(facts, path):
            try:
                days[at] = date.fromisoformat(text)
            except ValueError:
                errors.append(_error("facts.not_a_date", at, f"{text} is not a real date", _date_hint(text)))
    return days


def _values_at(node: Any, path: tuple[str, ...]) -> list[tuple[Location, Any]]:
    """(location, value) of every value at `path` in `node`; "*" is each list item."""
    found: list[tuple[Location, Any]] = [((), node)]
    for step in path:
        if step == "*":
            found = [(at + (i,), item) for at, items in found for i, item in enumerate(items)]
        else:
            found = [(at + (step,), value[step]) for at, value in found
                     if isinstance(value, dict) and step in value]
    return found


def _date_hint(text: str) -> str:
    year, month = int(text[:4]), int(text[5:7])
    if 1 <= month <= 12 and year >= 1:
        return f"{text[:7]} has {calendar.monthrange(year, month)[1]} days"
    return "a date is YYYY-MM-DD, with a month from 01 to 12 and a year from 0001"


def _month_bounds(month: str, errors: list[Diagnostic]) -> tuple[date, date] | None:
    """The first and last day of `month` (YYYY-MM); year 0000 is an error."""
    year, number = int(month[:4]), int(month[5:])
    if year < 1:
        errors.append(_error("facts.not_a_date", ("month",), f"{month} is not a real month"))
        return None
    return date(year, number, 1), date(year, number, calendar.monthrange(year, number)[1])


def _transmission_window(
    facts: dict, days: dict[Location, date], month_days: tuple[date, date] | None, errors: list[Diagnostic],
) -> tuple[date, date, str] | None:
    """The days transmission days must fall in, and their name; None when unknown."""
    if "monitoring_period" not in facts:
        if month_days is None:
            return None
        return month_days[0], month_days[1], f"the month {facts['month']} (there is no monitoring_period)"
    start, end = days.get(("monitoring_period", "start")), days.get(("monitoring_period", "end"))
    if start is None or end is None:
        return None
    length = (end - start).days + 1
    if end < start:
        errors.append(_error("facts.period_reversed", ("monitoring_period", "end"),
                             f"the monitoring period ends on {end}, before it starts on {start}"))
    elif length > MAX_PERIOD_DAYS:
        last = start + timedelta(days=MAX_PERIOD_DAYS - 1)
        errors.append(_error("facts.period_too_long", ("monitoring_period",),
                             f"the monitoring period {start} to {end} is {length} days; at most {MAX_PERIOD_DAYS} are allowed",
                             f"a period that starts on {start} ends by {last}"))
    else:
        return start, end, f"the monitoring period {start} to {end}"
    return None


def _repeated_ids(facts: dict) -> Iterator[Diagnostic]:
    for key in _IDENTIFIED:
        first_index: dict[str, int] = {}
        for index, item in enumerate(facts.get(key, ())):
            first = first_index.setdefault(item["id"], index)
            if first != index:
                yield _error("facts.duplicate_id", (key, index, "id"),
                             f"the id {item['id']!r} is already used by /{key}/{first}")


def _error(code: str, at: Location, message: str, hint: str | None = None) -> Diagnostic:
    return Diagnostic(code=code, message=message, hint=hint, where=schemacheck.pointer(at))

"""A yes for the common record in one walk: facts that the checks of `check_facts` would
find nothing to say about.

The checks that explain a record (the reference JSON Schema validator, then
`dates.calendar_errors` and `provenance.provenance_errors`) build a location for every
value they visit, to say where a problem is. Nearly every record of a batch has none. So
when a schema is first used, a walk is generated from it: the fast validator
(jsonschema_rs) says the record has the schema's shape, then the walk visits each facts
list once and checks, value by value, what those checks would: a whole number is an
`int` (the fast validator takes 600.0 for an integer), a date is a real day that keeps its
`dates.date_rule`, ids are used once, provenance names facts. A no sends the record to
the explaining checks, which say what and where; the walk never explains.

`tests/test_facts_verdict.py` holds it to them: a yes exactly when they find nothing.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from .dates import (
    ANY_DAY,
    IDENTIFIED,
    IN_MONTH,
    IN_PERIOD,
    NOT_BEFORE_MONTH,
    Location,
    date_rule,
    month_bounds,
    transmission_window,
)
from .provenance import provenance_errors
from .schema import paths_where, validators

#: A check of facts: True when the explaining checks would find nothing.
Verdict = Callable[[Any], bool]

#: What a value at a schema path must be: a whole number, or a day under a `date_rule`.
WHOLE = "whole number"

#: The statement checking the value in `value`, by what it must be. The window (first and
#: last day of the month, start and end of the transmission window) is found before the walk.
_CHECKS = {
    WHOLE: "if type(value) is not int: return False",
    ANY_DAY: "_day(value)",
    IN_MONTH: "if not first <= _day(value) <= last: return False",
    IN_PERIOD: "if not start <= _day(value) <= end: return False",
    NOT_BEFORE_MONTH: "if _day(value) < first: return False",
}


def verdict(schema: dict, calendar: bool) -> Verdict:
    """The one-walk check of facts against `schema`, generated on first use; `calendar`
    adds the contract's calendar, id and provenance checks (a pack's own facts schema has
    none). Always no without jsonschema_rs: the explaining checks then judge every record."""
    checks = validators(schema)
    if checks.fast is None:
        return _no
    found = checks.verdicts.get(calendar)
    if found is None:
        found = checks.verdicts[calendar] = _generate(checks.fast, schema, calendar)
    return found


def _no(data: Any) -> bool:
    return False


def _generate(fast: Any, schema: dict, calendar: bool) -> Verdict:
    kinds: dict[tuple[str, ...], str] = {path: WHOLE for path in
                                         paths_where(schema, schema, lambda node: node.get("type") == "integer")}
    if calendar:
        kinds.update((path, date_rule(path[0])) for path in
                     paths_where(schema, schema, lambda node: node.get("$ref") == "#/$defs/date"))
    lines = ["def walk(data):"]
    if calendar:
        lines += ["    window = _window(data)", "    if window is None: return False",
                  "    first, last, start, end = window"]
    lines += _walk(_tree(kinds, calendar), "data", 1)
    if calendar:
        lines.append("    if data.get('provenance') and provenance_errors(data): return False")
    lines.append("    return True")
    namespace: dict[str, Any] = {"_day": date.fromisoformat, "_window": _window, "provenance_errors": provenance_errors}
    exec(compile("\n".join(lines), f"<facts verdict: {schema.get('$id', 'a facts schema')}>", "exec"), namespace)
    walk = namespace["walk"]

    def check(data: Any) -> bool:
        try:
            return bool(fast.is_valid(data)) and walk(data)
        except (ValueError, LookupError, TypeError, AttributeError):
            # not a real day, a value jsonschema_rs cannot convert, a shape the walk cannot
            # read: the explaining checks say what is wrong, if anything is
            return False

    return check


def _tree(kinds: dict[tuple[str, ...], str], calendar: bool) -> dict:
    """The paths as nested keys ("*": each item of a list); a leaf is what its value must be.
    A list whose ids must be unique is marked under the key "#id"."""
    tree: dict = {}
    for path, kind in kinds.items():
        node = tree
        for step in path[:-1]:
            node = node.setdefault(step, {})
        node[path[-1]] = kind
    if calendar:
        for key in IDENTIFIED:
            tree.setdefault(key, {}).setdefault("*", {})["#id"] = True
    return tree


def _walk(tree: dict, at: str, depth: int) -> list[str]:
    """Statements checking what `tree` names inside the value of the expression `at`, which
    has the schema's shape: a dict (an optional key may be absent, a nullable one None), or
    a list when `tree` holds "*"."""
    pad, lines = "    " * depth, []
    for key, below in tree.items():
        if key == "#id":
            lines.append(f"{pad}if len({{item['id'] for item in {at}}}) != len({at}): return False")
        elif key == "*" and isinstance(below, str):
            lines += [f"{pad}for value in {at}:", f"{pad}    {_CHECKS[below]}"]
        elif key == "*":
            item = f"item{depth}"
            lines += _walk({"#id": True} if below.get("#id") else {}, at, depth)
            body = _walk({k: v for k, v in below.items() if k != "#id"}, item, depth + 1)
            if body:
                lines += [f"{pad}for {item} in {at}:", *body]
        elif isinstance(below, str):
            lines += [f"{pad}if {key!r} in {at}:", f"{pad}    value = {at}[{key!r}]", f"{pad}    {_CHECKS[below]}"]
        else:
            here = f"v{depth}"
            body = _walk(below, here, depth + 1)
            if body:
                lines += [f"{pad}{here} = {at}.get({key!r})", f"{pad}if {here}:", *body]
    return lines


def _window(data: dict) -> tuple[date, date, date, date] | None:
    """(first, last) day of the month and (start, end) of the transmission window, or None
    when the calendar checks would find an error in them."""
    errors: list = []
    month = month_bounds(data["month"], errors)
    if month is None:
        return None
    days: dict[Location, date] = {}
    period = data.get("monitoring_period")
    if period is not None:
        days = {("monitoring_period", "start"): date.fromisoformat(period["start"]),
                ("monitoring_period", "end"): date.fromisoformat(period["end"])}
    window = transmission_window(data, days, month, errors)
    if window is None:
        return None
    return month[0], month[1], window[0], window[1]

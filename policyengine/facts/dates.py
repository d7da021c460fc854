"""What a schema cannot check in facts it accepts: real dates, interactions and
activities inside the month, a monitoring period that overlaps the month, transmission
days inside that period, ids used once."""
from __future__ import annotations

import calendar
import re
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

from ..diagnostics import Diagnostic
from .. import pointers
from ..pointers import pointer
from .schema import schema_date_paths

#: A location in the facts as path parts: ("interactions", 2, "date").
Location = tuple[str | int, ...]

#: The longest monitoring (device-supply) period, in days, both ends included.
MAX_PERIOD_DAYS = 30

#: A day as facts and commands write it.
_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")

#: Lists whose items must be dated inside `month`.
_DATED_IN_MONTH = ("interactions", "activities")

#: Lists whose items carry an `id` that must be unique within the list.
IDENTIFIED = ("interactions", "activities")

#: What a date must be beyond a real day, by the top-level key it stands under (`date_rule`).
IN_MONTH, IN_PERIOD, NOT_BEFORE_MONTH, ANY_DAY = "in the month", "in the period", "not before the month", "any day"


def date_rule(key: object) -> str:
    """What a date under the top-level key `key` must be: a day of the month (interactions,
    activities), of the transmission window (transmission days), not before the month
    (as_of), or any real day."""
    if key in _DATED_IN_MONTH:
        return IN_MONTH
    if key == "transmission_days":
        return IN_PERIOD
    if key == "as_of":
        return NOT_BEFORE_MONTH
    return ANY_DAY


def calendar_errors(facts: dict) -> list[Diagnostic]:
    """Errors the schema cannot see, in facts the schema accepts."""
    errors: list[Diagnostic] = []
    days = _real_dates(facts, errors)
    month_days = month_bounds(facts["month"], errors)
    if month_days is not None:
        first, last = month_days
        for at, day in days.items():
            if date_rule(at[0]) == IN_MONTH and not first <= day <= last:
                errors.append(_error("facts.outside_month", at, f"{day} is outside the month {facts['month']}"))
        as_of = days.get(("as_of",))
        if as_of is not None and as_of < first:
            errors.append(_error("facts.as_of_before_month", ("as_of",),
                                 f"as_of {as_of} is before the month {facts['month']} begins: facts about "
                                 "a month cannot be complete through a day before it",
                                 f"as_of is a day from {first} on; leave it out when the month is complete"))
    window = transmission_window(facts, days, month_days, errors)
    if window is not None:
        start, end, name = window
        for at, day in days.items():
            if date_rule(at[0]) == IN_PERIOD and not start <= day <= end:
                errors.append(_error("facts.outside_period", at, f"{day} is outside {name}"))
    errors.extend(_repeated_ids(facts))
    return errors


def _real_dates(facts: dict, errors: list[Diagnostic]) -> dict[Location, date]:
    """Every date in the facts by location; an impossible one is an error instead."""
    days: dict[Location, date] = {}
    for path in schema_date_paths():
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


def month_bounds(month: str, errors: list[Diagnostic]) -> tuple[date, date] | None:
    """The first and last day of `month` (YYYY-MM); year 0000 is an error."""
    year, number = int(month[:4]), int(month[5:])
    if year < 1:
        errors.append(_error("facts.not_a_date", ("month",), f"{month} is not a real month"))
        return None
    return date(year, number, 1), date(year, number, calendar.monthrange(year, number)[1])


def transmission_window(
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
    elif month_days is not None and (end < month_days[0] or start > month_days[1]):
        # Its device lines would be dated outside the month's fee-schedule pack (contract v1
        # section 2, R-50): a period belongs to the decisions of the months it touches.
        errors.append(_error("facts.period_outside_month", ("monitoring_period",),
                             f"the monitoring period {start} to {end} has no day in the month {facts['month']}",
                             "send the device-supply period that overlaps this month, or decide that "
                             "period with the facts of a month it touches"))
    else:
        return start, end, f"the monitoring period {start} to {end}"
    return None


def _repeated_ids(facts: dict) -> Iterator[Diagnostic]:
    for key in IDENTIFIED:
        first_index: dict[str, int] = {}
        for index, item in enumerate(facts.get(key, ())):
            first = first_index.setdefault(item["id"], index)
            if first != index:
                yield _error("facts.duplicate_id", (key, index, "id"),
                             f"the id {item['id']!r} is already used by /{key}/{first}")


def _error(code: str, at: Location, message: str, hint: str | None = None) -> Diagnostic:
    return Diagnostic(code=code, message=message, hint=hint, where=pointer(at))


def known_on(facts: dict, day: str) -> dict:
    """The facts as they stood on `day` (YYYY-MM-DD): complete through it (`as_of`); the
    items of every dated list (interactions, transmission days, ...) dated after it, and a
    consent dated after it, left out, and the provenance of what is left out with them (the
    rest renumbered). A date that is not text stays, for the checks to report."""
    def known(item: Any) -> bool:
        dated = item.get("date") if isinstance(item, dict) else item
        return not isinstance(dated, str) or dated <= day

    stood = {**facts, "as_of": day}
    moved: dict[str, dict[int, int | None] | None] = {}  # list -> old index -> new (None: left out); None: key gone
    for key in dict.fromkeys(path[0] for path in schema_date_paths() if path[1:2] == ("*",)):
        if isinstance(facts.get(key), list):
            kept = [i for i, item in enumerate(facts[key]) if known(item)]
            stood[key] = [facts[key][i] for i in kept]
            renumbered: dict[int, int | None] = dict.fromkeys(range(len(facts[key])))
            renumbered.update((old, new) for new, old in enumerate(kept))
            moved[key] = renumbered
    if isinstance(facts.get("consent"), dict) and not known(facts["consent"]):
        del stood["consent"]
        moved["consent"] = None
    if isinstance(facts.get("provenance"), dict):
        stood["provenance"] = {at: sources for given, sources in facts["provenance"].items()
                               if (at := _pointer_moved(given, moved)) is not None}
    return stood


def _pointer_moved(at: str, moved: dict[str, dict[int, int | None] | None]) -> str | None:
    """Where the fact a provenance pointer names is after `known_on` (None: left out)."""
    try:
        tokens = pointers.tokens(at)
    except ValueError:
        return at  # not a pointer: the provenance check says so
    if not tokens or tokens[0] not in moved:
        return at
    renumbered = moved[tokens[0]]
    if renumbered is None:
        return None
    index = pointers.array_index(tokens[1]) if len(tokens) > 1 else None
    if index is None or index not in renumbered:
        return at  # a pointer to no item stays, for the provenance check to report
    new = renumbered[index]
    return None if new is None else pointers.pointer([tokens[0], new, *tokens[2:]])


def iso_day(text: str) -> str | None:
    """`text` when it is a real day written YYYY-MM-DD, else None (Python alone would also
    read 20260320 or a week date)."""
    if not _DAY.fullmatch(text):
        return None
    try:
        return date.fromisoformat(text).isoformat()
    except ValueError:
        return None


"""Last year's patient-months moved into next year, so that next year's pack can decide them.

A pack decides only the months of its own fee-schedule year (`facts.pack_not_effective`
otherwise), so to see what a new year's pack does to last year's decisions each month is
re-dated: its `month` and every date the facts schema knows (`schema_date_paths`: the
consent, the monitoring period, each transmission day, interaction, activity, ...) move by
the same number of years. A February 29 becomes February 28 in a year that has none (two
transmission days may then be one day: each is kept once). The day of the week is not kept:
2025-03-03 is a Monday, 2026-03-03 a Tuesday, so a rule that reads weekdays may decide a
re-dated month differently for that reason alone.
"""
from __future__ import annotations

import calendar
from datetime import date
from typing import Any

from ..diagnostics import Diagnostic, DiagnosticError
from ..facts.schema import schema_date_paths
from ..pointers import pointer


def redate(facts: dict, from_year: int, to_year: int) -> dict:
    """A copy of `facts`, a month of `from_year`, with its month and dates moved to `to_year`.

    Raises a DiagnosticError: `redate.month_not_in_year` when the month is not in
    `from_year`, `redate.not_a_date` for a date that cannot be moved (not a real date).
    """
    month = facts.get("month")
    if not isinstance(month, str) or month[:4] != f"{from_year:04d}":
        raise DiagnosticError([Diagnostic(
            "redate.month_not_in_year", f"the month {month} is not in {from_year}, the fee-schedule year of the old pack",
            where="/month", hint=f"only months of {from_year} are re-dated into {to_year}")])
    years = to_year - from_year
    moved = {**facts, "month": f"{to_year:04d}{month[4:]}"}
    for path in schema_date_paths():
        moved = _moved_at(moved, path, years, ())
    return moved


def _moved_at(node: Any, path: tuple[str, ...], years: int, at: tuple[str | int, ...]) -> Any:
    """`node` with the dates at `path` in it moved `years` years ("*" is each item of a list)."""
    if not path:
        return _moved_date(node, years, at)
    step, rest = path[0], path[1:]
    if step == "*":
        if not isinstance(node, list):
            return node
        items = [_moved_at(item, rest, years, at + (index,)) for index, item in enumerate(node)]
        return items if rest else list(dict.fromkeys(items))  # a list of days: Feb 28 and 29 are one day now
    if not isinstance(node, dict) or step not in node:
        return node
    return {**node, step: _moved_at(node[step], rest, years, at + (step,))}


def _moved_date(text: Any, years: int, at: tuple[str | int, ...]) -> str:
    try:
        day = date.fromisoformat(text)
        year = day.year + years
        if day.month == 2 and day.day == 29 and not calendar.isleap(year):
            day = day.replace(day=28)
        return day.replace(year=year).isoformat()
    except (TypeError, ValueError):
        raise DiagnosticError([Diagnostic("redate.not_a_date", f"{text!r} is not a date that can be moved {years:+} years",
                                          where=pointer(at))]) from None

"""FHIR dates and times as the facts' local days and whole seconds.

A day is the local date of the timestamp: the offset written in it, or the practice's
time zone (`--timezone`) when one is set, from FIRST_FHIR_DAY to LAST_FHIR_DAY. A duration
is whole seconds, cut down (19 min 59.9 s is 19 min 59 s: never round up toward a threshold).
"""
from __future__ import annotations

import math
import re
from datetime import date, datetime, tzinfo
from decimal import Decimal

from ..limits import FIRST_FHIR_DAY, LAST_FHIR_DAY
from .problems import Refused

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def local_day(value: object, zone: tzinfo | None, at: str) -> date | None:
    """The day of a FHIR date or dateTime, or None when it names no single day. Raises
    Refused (`fhir.out_of_range` at `at`, the value's JSON pointer) for a day before
    FIRST_FHIR_DAY or after LAST_FHIR_DAY, as written or where it falls in `zone`."""
    if not isinstance(value, str):
        return None
    if _DATE.match(value):
        try:
            return _in_range(date.fromisoformat(value), value, at)
        except ValueError:
            return None
    moment = moment_of(value)
    if moment is None:
        return None
    _in_range(moment.date(), value, at)  # before a time zone moves it: 9999-12-31T23:00-05:00 is in no UTC year
    return _in_range((moment.astimezone(zone) if zone is not None else moment).date(), value, at)


def _in_range(day: date, value: str, at: str) -> date:
    if not FIRST_FHIR_DAY <= day <= LAST_FHIR_DAY:
        raise Refused(at, "fhir.out_of_range", f"{value} is not a day from {FIRST_FHIR_DAY} to {LAST_FHIR_DAY}, "
                      "the days a record is placed on")
    return day


def moment_of(value: object) -> datetime | None:
    """A FHIR dateTime with a time (and so, by FHIR's rules, an offset) as an aware datetime."""
    if not isinstance(value, str) or "T" not in value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def seconds_between(start: object, end: object) -> int | None:
    """Whole seconds from `start` to `end` (both dateTimes with times), or None."""
    first, last = moment_of(start), moment_of(end)
    if first is None or last is None:
        return None
    return int((last - first).total_seconds() // 1)


_UNIT_SECONDS = {"s": 1, "sec": 1, "min": 60, "h": 3600}


def duration_seconds(quantity: object) -> int | None:
    """A FHIR Duration ({value, code: s|min|h}) in whole seconds, or None."""
    if not isinstance(quantity, dict):
        return None
    value, unit = quantity.get("value"), quantity.get("code") or quantity.get("unit")
    if isinstance(value, bool) or not isinstance(value, (int, float)) or unit not in _UNIT_SECONDS:
        return None
    amount = Decimal(str(value))  # the decimal as written, not its float
    return math.floor(amount * _UNIT_SECONDS[unit]) if amount.is_finite() else None

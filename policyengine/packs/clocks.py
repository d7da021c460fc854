"""The clocks codes run on, and the date of service each gives a line (contract v1,
section 2): the last day of the line's period, which is the monitoring period for device
codes and the calendar month for time codes. Dated parameters are read at that date."""
from __future__ import annotations

from collections.abc import Iterable, Mapping

from ..lang.runtime import last_day

#: the clock of time codes; every other clock (30-day period, episode) dates a line by the monitoring period
CALENDAR_MONTH = "calendar_month"
#: the clock of codes billed once per episode of care (set-up)
EPISODE = "episode"


def service_date(clock: str, facts: Mapping) -> str:
    """The date of service of a line on `clock` for these facts."""
    period = facts.get("monitoring_period")
    if clock != CALENDAR_MONTH and period:
        return str(period["end"])
    return last_day(facts["month"])


def service_dates(clocks: Iterable[str], facts: Mapping) -> dict[str, str]:
    """The date of service of each of `clocks` (and of the calendar month) for these facts."""
    return {clock: service_date(clock, facts) for clock in sorted({CALENDAR_MONTH, *clocks})}

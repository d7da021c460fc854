"""Episodes of care and their 30-day device periods (R-16, R-34).

A device's use runs from its assignment start (or, without one, its first reading) to its
assignment end (or on). Devices whose uses meet or overlap, a day apart at most, are one
episode: a swapped device does not start a new one (R-16). A new episode starts with a
device assigned after every earlier one had ended. An episode's periods are consecutive 30
days from its start, whatever the calendar: a period may cross a month or a year.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from ..facts import MAX_PERIOD_DAYS
from ..limits import LAST_FHIR_DAY

Event = dict[str, Any]


@dataclass(frozen=True)
class Episode:
    number: int
    start: date
    end: date | None
    devices: tuple[Event, ...]
    #: each device's use, (first day, last day or None), in the order of `devices`
    uses: tuple[tuple[date, date | None], ...]


@dataclass(frozen=True)
class Period:
    episode: Episode
    start: date
    end: date


def device_use(device: Event, first_reading: dict[str, str]) -> tuple[date, date | None] | None:
    """(first day, last day or None while in use) of a device; None when it was never used."""
    start = device["start"] or first_reading.get(device["ref"])
    if start is None:
        return None
    return date.fromisoformat(start), date.fromisoformat(device["end"]) if device["end"] else None


def episodes(devices: list[Event], readings: list[Event]) -> list[Episode]:
    first_reading: dict[str, str] = {}
    for reading in readings:
        if reading["day"] < first_reading.get(reading["device"], "9999"):
            first_reading[reading["device"]] = reading["day"]
    uses = sorted(((use, device) for device in devices if (use := device_use(device, first_reading)) is not None),
                  key=lambda pair: (pair[0][0], pair[1]["ref"]))
    found: list[Episode] = []
    for (start, end), device in uses:
        last = found[-1] if found else None
        if last is not None and (last.end is None or start <= last.end + timedelta(days=1)):
            merged_end = None if last.end is None or end is None else max(last.end, end)
            found[-1] = Episode(last.number, last.start, merged_end, (*last.devices, device), (*last.uses, (start, end)))
        else:
            found.append(Episode(len(found) + 1, start, end, (device,), ((start, end),)))
    return found


def periods(episode: Episode, until: date) -> list[Period]:
    """The episode's periods that start on or before `until` and before the episode ended;
    a device in use runs on to LAST_FHIR_DAY at most, the last day a record is placed on (a
    period after it would end beyond the calendar: --to 9999-12)."""
    found = []
    start = episode.start
    last = min(until, episode.end or LAST_FHIR_DAY)
    while start <= last:
        found.append(Period(episode, start, start + timedelta(days=MAX_PERIOD_DAYS - 1)))
        start += timedelta(days=MAX_PERIOD_DAYS)
    return found


def devices_in(period: Period) -> list[Event]:
    """The episode's devices in use during the period."""
    return [device for device, (start, end) in zip(period.episode.devices, period.episode.uses)
            if start <= period.end and (end is None or end >= period.start)]

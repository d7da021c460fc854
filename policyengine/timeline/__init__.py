"""A patient's events across months as patient-month facts, and those months decided in order.

`periods.py` finds the episodes of care (devices assigned without a break) and their 30-day
device periods; `months.py` writes each patient-month's facts, with the source records of
every fact under `provenance`; `decide.py` decides a patient's months in order, carrying
forward what the timeline itself billed (set-up once per episode), and sums codes and money
by month.
"""
from __future__ import annotations

from .months import MonthFacts, month_facts, months_between

__all__ = ["MonthFacts", "month_facts", "months_between"]

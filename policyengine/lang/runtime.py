"""Run-time helpers shared by the generated functions (fast, tracing, recording).

Anything with semantics beyond one Python operator lives here once, so the fast path,
the tracing path and the recording function cannot drift apart.
"""
from __future__ import annotations

import calendar
import functools
from collections.abc import Iterable
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal, DivisionByZero, InvalidOperation
from typing import Any

from ..diagnostics import Span


class EvaluationError(Exception):
    """An expression failed at run time (division by zero, min of an empty list, a date
    out of range). `span` is where in the pack (the node that failed), `pointer` the fact
    it read last, when known."""

    def __init__(self, code: str, message: str, span: Span | None = None, pointer: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.span = span
        self.pointer = pointer

    def at(self, span: Span | None, pointer: str | None) -> EvaluationError:
        """The same error, located (a location found earlier is kept)."""
        if self.span is not None:
            return self
        return EvaluationError(self.code, self.message, span, pointer)


def as_evaluation_error(error: Exception) -> EvaluationError:
    """Map a Python error raised inside an expression to a coded EvaluationError."""
    if isinstance(error, EvaluationError):
        return error
    if isinstance(error, (ZeroDivisionError, DivisionByZero)):
        return EvaluationError("eval.division_by_zero", "division by zero")
    if isinstance(error, InvalidOperation):
        return EvaluationError("eval.invalid_operation", "invalid decimal operation (e.g. 0 / 0)")
    if isinstance(error, (KeyError, TypeError, AttributeError)):
        return EvaluationError("eval.bad_fact", f"a fact does not have the declared shape ({error!r})")
    if isinstance(error, ValueError):
        return EvaluationError("eval.bad_value", str(error))
    if isinstance(error, RecursionError):
        return EvaluationError("eval.too_deep", "the expression is nested too deeply to evaluate")
    if isinstance(error, (OverflowError, ArithmeticError)):
        return EvaluationError("eval.out_of_range", f"a value is out of range ({error})")
    raise error


def divide(a: Any, b: Any) -> Decimal:
    """`/`: exact decimal division (28 significant digits); never a float."""
    return Decimal(a) / Decimal(b)


def round_half_up(value: Decimal, places: int) -> Decimal:
    """Round to `places` decimals, halves away from zero (money: 0.005 -> 0.01)."""
    return Decimal(value).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def list_min(values: list) -> Any:
    if not values:
        raise EvaluationError("eval.empty_list", "min of an empty list")
    return min(values)


def list_max(values: list) -> Any:
    if not values:
        raise EvaluationError("eval.empty_list", "max of an empty list")
    return max(values)


def distinct(values: Iterable) -> list:
    """Unique values, in order of first appearance."""
    return list(dict.fromkeys(values))


def days_between(start: str, end: str) -> int:
    """Whole days from start to end (end - start); negative when end is earlier."""
    return (date.fromisoformat(end) - date.fromisoformat(start)).days


def add_days(day: str, days: int) -> str:
    return (date.fromisoformat(day) + timedelta(days=days)).isoformat()


def _month(month: str) -> tuple[int, int]:
    try:
        year, mon = int(month[:4]), int(month[5:7])
        if len(month) != 7 or month[4] != "-" or not 1 <= mon <= 12:
            raise ValueError
    except ValueError:
        raise EvaluationError("eval.bad_value", f"{month!r} is not a month (YYYY-MM)") from None
    return year, mon


@functools.lru_cache(maxsize=1024)
def first_day(month: str) -> str:
    year, mon = _month(month)
    return date(year, mon, 1).isoformat()


@functools.lru_cache(maxsize=1024)
def last_day(month: str) -> str:
    year, mon = _month(month)
    return date(year, mon, calendar.monthrange(year, mon)[1]).isoformat()


def optional_field(record: dict | None, name: str) -> Any:
    """`record.name` where the record itself may be missing."""
    return None if record is None else record.get(name)


#: Names the generated code may use; nothing else is in its globals (no builtins).
GENERATED_GLOBALS: dict[str, Any] = {
    "__builtins__": {},
    "_len": len, "_sum": sum, "_any": any, "_all": all, "_min": min, "_max": max,
    "_D0": Decimal(0), "_divide": divide, "_round": round_half_up,
    "_list_min": list_min, "_list_max": list_max, "_distinct": distinct,
    "_days_between": days_between, "_add_days": add_days,
    "_first_day": first_day, "_last_day": last_day,
    "_optional_field": optional_field,
}

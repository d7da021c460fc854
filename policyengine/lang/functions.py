"""The built-in functions: their signatures (for the checker), the Python they compile
to (`emit`, for the code generator, fast and recording alike) and a plain implementation
(`impl`: the reference interpreter in the tests calls it, so the property tests hold what
`emit` writes to a reading written apart from it)."""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from . import runtime as rt
from .types import (BOOL, DATE, DECIMAL, DURATION, INT, MONEY, ORDERED, STRING, SUMMABLE, ListOf, Scalar, Type, unify,
                    unwrap)

#: a signature check returns the result type, or a message saying what is wrong
Check = Callable[[Sequence[Type]], "Type | str"]


@dataclass(frozen=True)
class Function:
    name: str
    usage: str
    check: Check
    emit: Callable[[Sequence[str], Sequence[Type]], str]
    impl: Callable[..., Any]


def _list_arg(args: Sequence[Type], allowed: Sequence[Type] | None, what: str) -> Type | str:
    if len(args) != 1:
        return f"takes one list, got {len(args)} arguments"
    arg = args[0]
    if not isinstance(arg, ListOf):
        return f"takes a list, got {arg}"
    if allowed is not None and arg.item not in allowed:
        return f"takes a list of {what}, got {arg}"
    return arg.item


def _check_sum(args):
    return _list_arg(args, SUMMABLE, "numbers, amounts or durations")


def _check_count(args):
    item = _list_arg(args, None, "")
    return item if isinstance(item, str) else INT


def _check_bools(args):
    item = _list_arg(args, (BOOL,), "true/false values")
    return item if isinstance(item, str) else BOOL


def _check_distinct(args):
    item = _list_arg(args, None, "")
    if isinstance(item, str):
        return item
    if not isinstance(unwrap(item), Scalar):
        return f"takes a list of plain values (numbers, dates, strings), got a list of {item}"
    return ListOf(item)


def _check_extreme(args):
    if len(args) == 1:
        return _list_arg(args, ORDERED, "numbers, amounts, durations or dates")
    if not args:
        return "takes a list, or two or more values"
    common: Type | None = args[0]
    for arg in args[1:]:
        common = unify(common, arg) if common is not None else None
    if common is None or common not in ORDERED:
        return "takes values of one ordered type (numbers, amounts, durations or dates), got " + ", ".join(map(str, args))
    return common


def _fixed(params: Sequence[Sequence[Type]], result: Callable[[Sequence[Type]], Type]) -> Check:
    def check(args: Sequence[Type]) -> Type | str:
        if len(args) != len(params):
            return f"takes {len(params)} argument{'s' if len(params) != 1 else ''}, got {len(args)}"
        for i, (arg, allowed) in enumerate(zip(args, params), 1):
            if arg not in allowed:
                return f"argument {i} must be {' or '.join(map(str, allowed))}, got {arg}"
        return result(args)
    return check


def _check_present(args):
    return BOOL if len(args) == 1 else f"takes one value, got {len(args)} arguments"


def _sum_start(item: Type) -> str:
    return "_D0" if item in (DECIMAL, MONEY) else "0"


FUNCTIONS: dict[str, Function] = {f.name: f for f in [
    Function("sum", "sum(list): the total of numbers, amounts or durations; 0 for an empty list", _check_sum,
             lambda a, t: f"_sum({a[0]}, {_sum_start(t[0].item)})",  # type: ignore[attr-defined]
             lambda xs, item_type: sum(xs, Decimal(0) if item_type in (DECIMAL, MONEY) else 0)),
    Function("count", "count(list): how many items", _check_count, lambda a, t: f"_len({a[0]})", len),
    Function("any", "any(list of true/false): true if one is true; false for an empty list", _check_bools,
             lambda a, t: f"_any({a[0]})", any),
    Function("all", "all(list of true/false): true if none is false; true for an empty list", _check_bools,
             lambda a, t: f"_all({a[0]})", all),
    Function("min", "min(list) or min(a, b, ...): the smallest; an empty list is an error", _check_extreme,
             lambda a, t: f"_list_min({a[0]})" if len(a) == 1 else f"_min({', '.join(a)})",
             lambda *xs: rt.list_min(xs[0]) if len(xs) == 1 else min(xs)),
    Function("max", "max(list) or max(a, b, ...): the largest; an empty list is an error", _check_extreme,
             lambda a, t: f"_list_max({a[0]})" if len(a) == 1 else f"_max({', '.join(a)})",
             lambda *xs: rt.list_max(xs[0]) if len(xs) == 1 else max(xs)),
    Function("distinct", "distinct(list): the list without repeats, in first-seen order", _check_distinct,
             lambda a, t: f"_distinct({a[0]})", rt.distinct),
    Function("present", "present(x): true unless the optional value x is missing", _check_present,
             lambda a, t: f"({a[0]} is not None)", lambda x: x is not None),
    Function("round", "round(x, places): decimals or money rounded half-up", _fixed([(DECIMAL, MONEY, INT), (INT,)],
             lambda t: MONEY if t[0] == MONEY else DECIMAL), lambda a, t: f"_round({a[0]}, {a[1]})", rt.round_half_up),
    Function("days_between", "days_between(start, end): whole days from start to end", _fixed([(DATE,), (DATE,)],
             lambda t: INT), lambda a, t: f"_days_between({a[0]}, {a[1]})", rt.days_between),
    Function("add_days", "add_days(date, n): the date n days later", _fixed([(DATE,), (INT,)], lambda t: DATE),
             lambda a, t: f"_add_days({a[0]}, {a[1]})", rt.add_days),
    Function("first_day", "first_day(month): the first date of a YYYY-MM month", _fixed([(STRING,)], lambda t: DATE),
             lambda a, t: f"_first_day({a[0]})", rt.first_day),
    Function("last_day", "last_day(month): the last date of a YYYY-MM month", _fixed([(STRING,)], lambda t: DATE),
             lambda a, t: f"_last_day({a[0]})", rt.last_day),
    Function("seconds", "seconds(duration): the duration as a whole number of seconds", _fixed([(DURATION,)],
             lambda t: INT), lambda a, t: f"({a[0]})", lambda d: d),
    Function("minutes", "minutes(duration): whole minutes, rounded down", _fixed([(DURATION,)], lambda t: INT),
             lambda a, t: f"({a[0]} // 60)", lambda d: d // 60),
]}


def accepts_optional(name: str) -> bool:
    """Functions that take a possibly-missing value without complaint."""
    return name == "present"


"""The query language's functions: scalar ones (abs, strlen, bin, ...), arithmetic, and the stats aggregates."""

from __future__ import annotations

import math
import operator
import statistics as stats_lib
from collections.abc import Callable
from typing import Any, cast

from localcloud.cloudwatch.statistics import nearest_rank
from localcloud.logs.insights.values import Record, Stamp, to_number, to_text, truthy

Expr = Callable[[Record], Any]  # an expression: its value for one record

# The binary arithmetic operators over numbers.
ARITHMETIC: dict[str, Callable[[float, float], float]] = {
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
    "/": operator.truediv,
    "%": math.fmod,
    "^": operator.pow,
}


class GroupView(dict[str, Any]):
    """What a stats expression sees: aggregates read the group's rows, names read earlier results."""

    def __init__(self, result: Record, rows: list[Record]) -> None:
        super().__init__(result)
        self.rows = rows


def bin_of(period_ms: int) -> Expr:
    """bin(period): the record's @timestamp rounded down to the period."""
    return lambda rec: (
        None if rec.get("@timestamp") is None else Stamp(int(rec["@timestamp"]) // period_ms * period_ms)
    )


def _num_fn(fn: Callable[[float], float]) -> Callable[..., Any]:
    """fn over a value read as a number; None when it is not one or fn refuses it."""

    def apply(value: Any) -> Any:
        number = to_number(value)
        if number is None:
            return None
        try:
            return fn(number)
        except (ValueError, OverflowError):
            return None

    return apply


def _text_fn(fn: Callable[..., Any]) -> Callable[..., Any]:
    """fn over a value read as text; None when it is missing."""

    def apply(value: Any, *rest: Any) -> Any:
        return None if value is None else fn(to_text(value), *rest)

    return apply


def _trim(side: str) -> Callable[..., Any]:
    """ltrim, rtrim or trim: whitespace (or the given characters) off the left, right or both sides."""

    def apply(value: Any, chars: Any = None) -> Any:
        if value is None:
            return None
        text, strip = to_text(value), (None if chars is None else to_text(chars))
        return {"l": text.lstrip, "r": text.rstrip, "b": text.strip}[side](strip)

    return apply


def _substr(value: Any, start: Any, length: Any = None) -> Any:
    """substr(value, start[, length]) of the value as text."""
    if value is None or (first := to_number(start)) is None:
        return None
    text, begin = to_text(value), int(first)
    if length is None:
        return text[begin:]
    return text[begin : begin + int(to_number(length) or 0)]


SCALAR_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "abs": _num_fn(abs),
    "ceil": _num_fn(math.ceil),
    "floor": _num_fn(math.floor),
    "log": _num_fn(math.log),
    "sqrt": _num_fn(math.sqrt),
    "greatest": lambda *v: max((n for n in map(to_number, v) if n is not None), default=None),
    "least": lambda *v: min((n for n in map(to_number, v) if n is not None), default=None),
    "strlen": _text_fn(len),
    "tolower": _text_fn(str.lower),
    "toupper": _text_fn(str.upper),
    "ltrim": _trim("l"),
    "rtrim": _trim("r"),
    "trim": _trim("b"),
    "substr": _substr,
    "replace": lambda s, a, b: None if s is None else to_text(s).replace(to_text(a), to_text(b)),
    "strcontains": lambda s, t: None if s is None else int(to_text(t) in to_text(s)),
    "concat": lambda *v: "".join(to_text(x) for x in v if x is not None),
    "coalesce": lambda *v: next((x for x in v if x is not None), None),
}
PRESENCE_FUNCTIONS = {"ispresent", "isempty", "isblank"}
AGGREGATES = {
    "count",
    "count_distinct",
    "sum",
    "avg",
    "min",
    "max",
    "pct",
    "percentile",
    "stddev",
    "earliest",
    "latest",
}


def negate(value: Any) -> float | None:
    """Unary minus: the value as a negated number, or None."""
    number = to_number(value)
    return None if number is None else -number


def arithmetic(left: Expr, op: str, right: Expr) -> Expr:
    """left op right over numbers; None when a side is not a number or a division is by zero."""
    operation = ARITHMETIC[op]

    def apply(rec: Record) -> Any:
        a, b = to_number(left(rec)), to_number(right(rec))
        if a is None or b is None or (b == 0 and op in ("/", "%")):
            return None
        return operation(a, b)

    return apply


def logical(left: Expr, word: str, right: Expr) -> Expr:
    """left and/or right (word), each side read as true or false."""
    if word == "and":
        return lambda rec: truthy(left(rec)) and truthy(right(rec))
    return lambda rec: truthy(left(rec)) or truthy(right(rec))


def group_rows(view: Record) -> list[Record]:
    """The rows of the stats group an aggregate reads: aggregates are evaluated over a GroupView."""
    return cast(GroupView, view).rows


def percentile(values: list[float | None], rank: float) -> float | None:
    """pct(field, rank): the nearest-rank percentile of the numeric values, None without any."""
    # The same nearest rank as CloudWatch's metric percentiles (one rule, rounding included).
    present = [v for v in values if v is not None]
    return nearest_rank(present, rank) if present else None


def _numbers(rows: list[Record], arg: Expr) -> list[float]:
    """The argument's numeric values over the rows."""
    return [n for n in (to_number(arg(r)) for r in rows) if n is not None]


def _extreme(rows: list[Record], arg: Expr, pick: Callable[..., Any]) -> Any:
    """min or max of the argument: by number when every value is one, else by text."""
    values = [v for v in (arg(r) for r in rows) if v is not None]
    if not values:
        return None
    if all(to_number(v) is not None for v in values):
        return pick(values, key=to_number)
    return pick(values, key=to_text)


def _by_time(rows: list[Record], arg: Expr, pick: Callable[..., Any]) -> Any:
    """earliest or latest: the argument in the row with the least or greatest @timestamp."""
    present = [r for r in rows if arg(r) is not None]
    return arg(pick(present, key=lambda r: r.get("@timestamp") or 0)) if present else None


def _stddev(rows: list[Record], arg: Expr) -> float | None:
    """The sample standard deviation of the argument (0 for one value, None for none)."""
    numbers = _numbers(rows, arg)
    if len(numbers) > 1:
        return stats_lib.stdev(numbers)
    return 0.0 if numbers else None


AGGREGATE_FUNCTIONS: dict[str, Callable[[list[Record], Expr], Any]] = {
    "count": lambda rows, arg: sum(1 for r in rows if arg(r) is not None),
    "count_distinct": lambda rows, arg: len({to_text(v) for v in (arg(r) for r in rows) if v is not None}),
    "sum": lambda rows, arg: sum(_numbers(rows, arg)) if _numbers(rows, arg) else None,
    "avg": lambda rows, arg: stats_lib.fmean(_numbers(rows, arg)) if _numbers(rows, arg) else None,
    "stddev": _stddev,
    "min": lambda rows, arg: _extreme(rows, arg, min),
    "max": lambda rows, arg: _extreme(rows, arg, max),
    "earliest": lambda rows, arg: _by_time(rows, arg, min),
    "latest": lambda rows, arg: _by_time(rows, arg, max),
}

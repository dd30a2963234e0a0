"""What Logs Insights values mean: numbers from text, values as shown, comparisons, times and regexes."""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime
from typing import Any, TypeVar

from localcloud.logs.insights.errors import QuerySyntaxError
from localcloud.logs.insights.lexer import Token

Record = dict[str, Any]  # one event's (or one stats group's) fields by name


class Stamp(int):
    """A time in ms since the epoch: compares and computes as a number, shows as AWS shows times."""

    def __str__(self) -> str:
        return format_time(int(self))


def format_time(ms: int) -> str:
    """A time as Logs Insights shows it: `2026-11-27 12:00:00.123` (UTC)."""
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]


def to_number(value: Any) -> float | None:
    """A value as a number (numeric strings included), or None."""
    if value is None:
        return None
    if isinstance(value, bool | int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            return None
    return None


def to_text(value: Any) -> str:
    """A value as GetQueryResults shows it."""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, Stamp):
        return str(value)
    if isinstance(value, float):
        if math.isfinite(value) and value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    return str(value)


def truthy(value: Any) -> bool:
    """Whether a value passes a filter: present, and neither zero nor empty."""
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    number = to_number(value)
    if number is not None:
        return number != 0
    return bool(value != "")


def compare(left: Any, op: str, right: Any) -> bool:
    """A comparison: numerically when both sides are numbers, else as text; false if a side is missing."""
    if left is None or right is None:
        return False
    a, b = to_number(left), to_number(right)
    if a is None or b is None:
        return _compare(to_text(left), op, to_text(right))
    return _compare(a, op, b)


_Ordered = TypeVar("_Ordered", float, str)


def _compare(a: _Ordered, op: str, b: _Ordered) -> bool:
    """a op b for one of the comparison operators."""
    if op in ("=", "=="):
        return a == b
    if op == "!=":
        return a != b
    if op == "<":
        return a < b
    if op == "<=":
        return a <= b
    if op == ">":
        return a > b
    return a >= b


def compile_regex(pattern: str, query: str = "", token: Token | None = None) -> re.Pattern[str]:
    """A Logs Insights regex as a Python one: inline flags may stand anywhere, (?<name>) groups."""
    flags = "".join(re.findall(r"\(\?([aiLmsux]+)\)", pattern))
    body = re.sub(r"\(\?[aiLmsux]+\)", "", pattern)
    body = re.sub(r"\(\?<([A-Za-z_][A-Za-z0-9_]*)>", r"(?P<\1>", body)
    try:
        return re.compile((f"(?{''.join(sorted(set(flags)))})" if flags else "") + body)
    except re.error as exc:
        start, end = (token.start, token.end) if token else (0, 0)
        raise QuerySyntaxError(f"invalid regular expression /{pattern}/: {exc}", query, start, end) from exc

"""GetMetricData's queries answered as time series: MetricStat queries and metric math over them.

Expressions: ``+ - * /``, parentheses, numbers, unary minus and ``FILL(m, value)`` over query ids.
Series are aligned by timestamp; a timestamp missing from one operand is missing from the result,
and a division by zero drops that datapoint.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from datetime import datetime, timedelta
from operator import add, mul, sub, truediv
from typing import Any

from localcloud.cloudwatch.statistics.aggregation import MetricStore, bucket_origin, datapoints, naive_utc

Series = dict[datetime, float]
OPERATORS: dict[str, Callable[[float, float], float]] = {"+": add, "-": sub, "*": mul, "/": truediv}
_TOKEN_RE = re.compile(
    r"\s*(?:(?P<num>\d+(?:\.\d*)?(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)|(?P<name>[A-Za-z_][A-Za-z0-9_]*)|(?P<op>[-+*/(),]))"
)


class ExpressionError(ValueError):
    """A metric math expression this local cloud cannot parse or evaluate."""


def _tokens(expression: str) -> list[tuple[str, str]]:
    """The expression split into (kind, text) tokens."""
    tokens, position = [], 0
    text = expression.rstrip()
    while position < len(text):
        match = _TOKEN_RE.match(text, position)
        if not match:
            raise ExpressionError(f"Unexpected character at position {position} in {expression!r}")
        kind = match.lastgroup
        assert kind is not None  # every alternative of _TOKEN_RE is a named group
        tokens.append((kind, match.group(kind)))
        position = match.end()
    return tokens


class _Parser:
    """Recursive-descent evaluator for arithmetic over time series and numbers."""

    def __init__(self, expression: str, lookup: Callable[[str], Series], grid: list[datetime]) -> None:
        self.expression = expression
        self.tokens = _tokens(expression)
        self.position = 0
        self.lookup = lookup
        self.grid = grid

    def parse(self) -> Series | float:
        """The value of the whole expression."""
        value = self.sum()
        if self.position != len(self.tokens):
            raise ExpressionError(f"Unexpected {self.tokens[self.position][1]!r} in {self.expression!r}")
        return value

    def peek(self) -> str | None:
        """The next token's text, None at the end."""
        return self.tokens[self.position][1] if self.position < len(self.tokens) else None

    def take(self, expected: str | None = None) -> tuple[str, str]:
        """The next token, which must be expected when given."""
        if self.position >= len(self.tokens):
            raise ExpressionError(f"Unexpected end of {self.expression!r}")
        token = self.tokens[self.position]
        if expected is not None and token[1] != expected:
            raise ExpressionError(f"Expected {expected!r}, found {token[1]!r} in {self.expression!r}")
        self.position += 1
        return token

    def joined(self, operand: Callable[[], Series | float], operators: tuple[str, ...]) -> Series | float:
        """operand (operator operand)*, combined left to right."""
        value = operand()
        while self.peek() in operators:
            operator = self.take()[1]
            value = combine(value, operand(), operator)
        return value

    def sum(self) -> Series | float:
        """Terms joined by + and -."""
        return self.joined(self.product, ("+", "-"))

    def product(self) -> Series | float:
        """Factors joined by * and /."""
        return self.joined(self.unary, ("*", "/"))

    def unary(self) -> Series | float:
        """A factor with an optional sign."""
        if self.peek() == "-":
            self.take()
            return combine(-1.0, self.unary(), "*")
        if self.peek() == "+":
            self.take()
        return self.primary()

    def primary(self) -> Series | float:
        """A number, a query id, a function call or a parenthesized expression."""
        kind, text = self.take()
        if kind == "num":
            return float(text)
        if text == "(":
            value = self.sum()
            self.take(")")
            return value
        if kind == "name" and self.peek() == "(":
            return self.function(text)
        if kind == "name":
            return self.lookup(text)
        raise ExpressionError(f"Unexpected {text!r} in {self.expression!r}")

    def function(self, name: str) -> Series | float:
        """A function call's value (FILL only)."""
        self.take("(")
        if name.upper() != "FILL":
            raise ExpressionError(f"Function {name} is not supported by the local cloud (supported: FILL)")
        series = self.sum()
        self.take(",")
        fill = self.sum()
        self.take(")")
        if not isinstance(fill, float):
            raise ExpressionError("FILL takes a number as its second argument in the local cloud")
        if not isinstance(series, dict):
            return series
        return {moment: series.get(moment, fill) for moment in sorted({*self.grid, *series})}


def combine(left: Series | float, right: Series | float, operator: str) -> Series | float:
    """Apply + - * / to numbers or timestamp-aligned series; undefined results are dropped."""

    def apply(a: float, b: float) -> float | None:
        return None if operator == "/" and b == 0 else OPERATORS[operator](a, b)

    if not isinstance(left, dict):
        if not isinstance(right, dict):
            result = apply(left, right)
            if result is None:
                raise ExpressionError("Division by zero")
            return result
        pairs = {moment: (left, value) for moment, value in right.items()}
    elif not isinstance(right, dict):
        pairs = {moment: (value, right) for moment, value in left.items()}
    else:
        pairs = {moment: (left[moment], right[moment]) for moment in left if moment in right}
    out = {}
    for moment in sorted(pairs):
        value = apply(*pairs[moment])
        if value is not None and math.isfinite(value):
            out[moment] = value
    return out


def evaluate_expression(expression: str, lookup: Callable[[str], Series], grid: list[datetime]) -> Series:
    """The time series an arithmetic expression over query ids gives (a number spans the grid)."""
    value = _Parser(expression, lookup, grid).parse()
    if isinstance(value, dict):
        return value
    return {moment: value for moment in grid}


def metric_series(
    backend: MetricStore, queries: list[dict[str, Any]], start: datetime, end: datetime
) -> dict[str, Series]:
    """Every query's time series by id: MetricStat queries and math expressions over them."""
    start, end = naive_utc(start), naive_utc(end)
    stat_queries = [q for q in queries if q.get("MetricStat")]
    default_period = int(stat_queries[0]["MetricStat"]["Period"]) if stat_queries else 60
    origin = bucket_origin(start, default_period)
    series: dict[str, Series] = {}
    for query in stat_queries:
        stat = query["MetricStat"]
        metric = stat["Metric"]
        period = int(stat["Period"])
        points = datapoints(
            backend,
            metric.get("Namespace"),
            metric.get("MetricName"),
            metric.get("Dimensions", []),
            stat["Stat"],
            period,
            bucket_origin(start, period),
            end,
            unit=stat.get("Unit"),
        )
        series[query["Id"]] = {moment: value for moment, value, _ in points}
    expressions = {q["Id"]: q for q in queries if q.get("Expression") and not q.get("MetricStat")}
    in_progress: set[str] = set()

    def lookup(query_id: str) -> Series:
        if query_id in series:
            return series[query_id]
        if query_id not in expressions or query_id in in_progress:
            raise ExpressionError(f"Unknown or circular metric id {query_id!r}")
        in_progress.add(query_id)
        query = expressions[query_id]
        period = int(query.get("Period") or default_period)
        grid = _grid(origin, end, period)
        series[query_id] = evaluate_expression(query["Expression"], lookup, grid)
        return series[query_id]

    for query_id in expressions:
        lookup(query_id)
    return series


def _grid(origin: datetime, end: datetime, period: int) -> list[datetime]:
    """Every period start from origin up to end."""
    count = max(0, math.ceil((end - origin).total_seconds() / period))
    return [origin + timedelta(seconds=i * period) for i in range(count)]

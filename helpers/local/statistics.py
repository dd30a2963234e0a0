"""CloudWatch statistics moto lacks: percentiles, exact-dimension queries and metric math.

What changes in moto 5.2.5 when install() runs:

- `GetMetricStatistics` answers `ExtendedStatistics` (p50, p99.9, ...) next to the plain
  statistics, and matches dimensions exactly (AWS: a metric is namespace + name + its exact
  set of dimensions; moto matched subsets and queries without dimensions saw everything).
- `GetMetricData` answers `MetricStat.Stat` percentiles (moto: HTTP 500), filters by namespace
  when dimensions are given (moto did not), and evaluates metric math expressions over query
  ids: `+ - * /`, parentheses, numbers, unary minus and `FILL(m, value)`. Time series are
  aligned by timestamp; a timestamp missing from one operand is missing from the result, and
  a division by zero drops that datapoint.
- Every backend call that reads or writes `metric_data` runs under `cloudwatch_lock`.
- Publication (aws profile): a datapoint, whoever puts it (PutMetricData, metric filters, the
  Lambda and SageMaker runtimes), is visible to GetMetricStatistics, GetMetricData, ListMetrics
  and alarm evaluation only `profile.delay("metric_publication", "<namespace>/<metric>")` after it
  was put; it keeps its own timestamp, so it lands in a past period, as in AWS. (AWS lists a new
  metric in ListMetrics up to 15 minutes late; here it appears with its first datapoint.)

Percentiles are computed only from individually published values (`Value`/`Values`), never
from statistic sets, by the nearest-rank method: the value at rank ceil(p/100 * n) of the
sorted samples. A period holding a statistic set has no percentile.

Periods: `GetMetricStatistics`/`GetMetricData` buckets start at StartTime rounded down to the
minute (to the period for high-resolution periods under 60 s) and step by Period.
"""

from __future__ import annotations

import inspect
import math
import re
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from helpers.local import hooks, profile
from helpers.local.hooks import MOTO_VERSION
from helpers.local.locks import cloudwatch_lock, locked

_PERCENTILE_RE = re.compile(r"^p(\d{1,2}(?:\.\d{1,10})?|100(?:\.0{1,10})?)$")
_installed = False
_originals: dict[str, Callable] = {}

Dimensions = Iterable[Any]  # dicts {"Name", "Value"} or moto Dimension objects


def percentile_of(statistic: str) -> float | None:
    """The percentile a statistic names, as a number between 0 and 100 ('p99.9' -> 99.9), or None."""
    match = _PERCENTILE_RE.match(statistic or "")
    return float(match.group(1)) if match else None


def nearest_rank(values: Sequence[float], percentile: float) -> float:
    """The nearest-rank percentile of values: the sorted value at rank ceil(p/100 * n), at least 1."""
    ordered = sorted(values)
    rank = max(1, math.ceil(round(percentile * len(ordered) / 100.0, 9)))  # round: 99.9% of 1000 is 999
    return ordered[min(rank, len(ordered)) - 1]


def naive_utc(moment: datetime) -> datetime:
    """The same instant as a naive UTC datetime (moto keeps naive UTC timestamps)."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment


def dimension_key(dimensions: Dimensions | None) -> frozenset[tuple[str | None, str | None]]:
    """A metric's dimensions as a comparable set of (name, value) pairs."""
    pairs: set[tuple[str | None, str | None]] = set()
    for dim in dimensions or ():
        if isinstance(dim, dict):
            pairs.add((dim.get("Name"), dim.get("Value")))
        else:
            pairs.add((dim.name, dim.value))
    return frozenset(pairs)


def bucket_origin(start: datetime, period: int) -> datetime:
    """Where the first period of a query starts: StartTime rounded down to the minute (or period)."""
    start = naive_utc(start).replace(microsecond=0)
    step = 60 if period >= 60 else period
    epoch = int((start - datetime(1970, 1, 1)).total_seconds())
    return datetime(1970, 1, 1) + timedelta(seconds=epoch - epoch % step)


@dataclass
class Bucket:
    """The raw datapoints of one period of one metric."""

    start: datetime
    values: list[float] = field(default_factory=list)
    sets: list[Any] = field(default_factory=list)  # moto MetricAggregatedDatum (statistic sets)
    unit: str | None = None
    data: list[Any] = field(default_factory=list)  # the raw moto datum objects

    @property
    def sample_count(self) -> float:
        """How many samples the period holds, statistic sets included."""
        return float(len(self.values)) + sum(float(s.sample_count) for s in self.sets)

    def statistic(self, statistic: str) -> float | None:
        """The value of a statistic (or percentile) over this period, None when not computable."""
        count = self.sample_count
        if count == 0:
            return None
        if statistic == "SampleCount":
            return count
        if statistic == "Sum":
            return sum(self.values) + sum(float(s.sum) for s in self.sets)
        if statistic == "Average":
            return (sum(self.values) + sum(float(s.sum) for s in self.sets)) / count
        if statistic == "Minimum":
            return min([*self.values, *(float(s.min) for s in self.sets)])
        if statistic == "Maximum":
            return max([*self.values, *(float(s.max) for s in self.sets)])
        percentile = percentile_of(statistic)
        if percentile is None or self.sets or not self.values:
            return None
        return nearest_rank(self.values, percentile)


def buckets(
    backend: Any,
    namespace: str,
    metric_name: str,
    dimensions: Dimensions | None,
    period: int,
    start: datetime,
    end: datetime,
    unit: str | None = None,
    origin: datetime | None = None,
) -> list[Bucket]:
    """The periods of [start, end) holding datapoints of exactly this metric, oldest first."""
    from moto.cloudwatch.models import MetricAggregatedDatum, MetricDatum

    start, end = naive_utc(start), naive_utc(end)
    origin = naive_utc(origin) if origin is not None else bucket_origin(start, period)
    wanted = dimension_key(dimensions)
    by_start: dict[datetime, Bucket] = {}
    with cloudwatch_lock:
        data = list(backend.get_all_metrics())
    for datum in data:
        if datum.namespace != namespace or datum.name != metric_name:
            continue
        if unit and datum.unit != unit:
            continue
        moment = naive_utc(datum.timestamp)
        if not (start <= moment < end) or dimension_key(datum.dimensions) != wanted:
            continue
        index = int((moment - origin).total_seconds() // period)
        bucket_start = origin + timedelta(seconds=index * period)
        bucket = by_start.setdefault(bucket_start, Bucket(bucket_start))
        if isinstance(datum, MetricDatum):
            bucket.values.append(float(datum.value))
        elif isinstance(datum, MetricAggregatedDatum):
            bucket.sets.append(datum)
        bucket.unit = datum.unit
        bucket.data.append(datum)
    return [by_start[key] for key in sorted(by_start)]


def datapoints(
    backend: Any,
    namespace: str,
    metric_name: str,
    dimensions: Dimensions | None,
    statistic_or_percentile: str,
    period: int,
    start: datetime,
    end: datetime,
    unit: str | None = None,
) -> list[tuple[datetime, float, float]]:
    """(period start naive UTC, value, sample count) per period of [start, end) with data.

    Periods start at `start` itself and step by `period` (pass an aligned start). Dimensions
    match exactly; a percentile is absent for periods holding statistic sets.
    """
    result = []
    for bucket in buckets(
        backend, namespace, metric_name, dimensions, period, start, end, unit, origin=start
    ):
        value = bucket.statistic(statistic_or_percentile)
        if value is not None:
            result.append((bucket.start, value, bucket.sample_count))
    return result


# --- metric math -------------------------------------------------------------------------

Series = dict  # datetime -> float
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
        value = self.sum()
        if self.position != len(self.tokens):
            raise ExpressionError(f"Unexpected {self.tokens[self.position][1]!r} in {self.expression!r}")
        return value

    def peek(self) -> str | None:
        return self.tokens[self.position][1] if self.position < len(self.tokens) else None

    def take(self, expected: str | None = None) -> tuple[str, str]:
        if self.position >= len(self.tokens):
            raise ExpressionError(f"Unexpected end of {self.expression!r}")
        token = self.tokens[self.position]
        if expected is not None and token[1] != expected:
            raise ExpressionError(f"Expected {expected!r}, found {token[1]!r} in {self.expression!r}")
        self.position += 1
        return token

    def sum(self) -> Series | float:
        value = self.product()
        while self.peek() in ("+", "-"):
            operator = self.take()[1]
            value = combine(value, self.product(), operator)
        return value

    def product(self) -> Series | float:
        value = self.unary()
        while self.peek() in ("*", "/"):
            operator = self.take()[1]
            value = combine(value, self.unary(), operator)
        return value

    def unary(self) -> Series | float:
        if self.peek() == "-":
            self.take()
            return combine(-1.0, self.unary(), "*")
        if self.peek() == "+":
            self.take()
        return self.primary()

    def primary(self) -> Series | float:
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
        if operator == "+":
            return a + b
        if operator == "-":
            return a - b
        if operator == "*":
            return a * b
        return a / b if b != 0 else None

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


def metric_series(backend: Any, queries: list[dict], start: datetime, end: datetime) -> dict[str, Series]:
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


# --- moto hooks ----------------------------------------------------------------------------


def _get_statistics_for_type(self: Any, stat: str) -> Any:
    """Moto's Statistics.get_statistics_for_type, extended with percentiles."""
    if (percentile := percentile_of(stat)) is not None:
        if stat not in self.stats:
            return None
        aggregated = self.metric_aggregated_list
        values = self.metric_single_values_list
        if aggregated or not values:
            return None
        return nearest_rank(values, percentile)
    return _originals["get_statistics_for_type"](self, stat)


def _extended_statistics(self: Any) -> dict[str, float] | None:
    """The requested percentiles of a Statistics datapoint, for the response serializer."""
    values = {s: self.get_statistics_for_type(s) for s in self.stats if percentile_of(s) is not None}
    values = {s: v for s, v in values.items() if v is not None}
    return values or None


def _backend_get_metric_statistics(
    self: Any,
    namespace: str,
    metric_name: str,
    start_time: datetime,
    end_time: datetime,
    period: int,
    stats: list[str],
    dimensions: list[dict[str, str]],
    unit: str | None = None,
) -> list[Any]:
    """GetMetricStatistics with exact dimensions, percentiles and periods aligned to StartTime."""
    from moto.cloudwatch.exceptions import InvalidParameterValue
    from moto.cloudwatch.models import Statistics

    start_time = naive_utc(start_time).replace(microsecond=0)
    end_time = naive_utc(end_time).replace(microsecond=0)
    if start_time >= end_time:
        raise InvalidParameterValue("The parameter StartTime must be less than the parameter EndTime.")
    result = []
    for bucket in buckets(self, namespace, metric_name, dimensions, int(period), start_time, end_time, unit):
        statistics = Statistics(list(stats), bucket.start, unit=bucket.unit)
        statistics.metric_data = bucket.data
        result.append(statistics)
    return result


def _backend_get_metric_data(
    self: Any,
    queries: list[dict[str, Any]],
    start_time: datetime,
    end_time: datetime,
    scan_by: str = "TimestampAscending",
) -> list[dict[str, Any]]:
    """GetMetricData with percentiles, exact dimensions, namespaces and metric math."""
    from moto.cloudwatch.exceptions import ValidationError

    if any(str(q.get("Expression", "")).lstrip().upper().startswith("SELECT") for q in queries):
        return _originals["get_metric_data"](self, queries, start_time, end_time, scan_by)
    start_time = naive_utc(start_time).replace(microsecond=0)
    end_time = naive_utc(end_time).replace(microsecond=0)
    if start_time > end_time:
        raise ValidationError("The parameter EndTime must be greater than StartTime.")
    if start_time == end_time:
        raise ValidationError("The parameter StartTime must not equal parameter EndTime.")
    try:
        series = metric_series(self, queries, start_time, end_time)
    except ExpressionError as exc:
        raise ValidationError(f"Error in metric math expression: {exc}") from exc
    results = []
    for query in queries:
        if not query.get("ReturnData", True):
            continue
        points = sorted(series.get(query["Id"], {}).items(), reverse=scan_by == "TimestampDescending")
        if query.get("MetricStat"):
            default_label = query["MetricStat"]["Metric"].get("MetricName")
        else:
            default_label = query["Id"]
        results.append(
            {
                "id": query["Id"],
                "label": query.get("Label") or default_label,
                "values": [value for _, value in points],
                "timestamps": [moment for moment, _ in points],
                "status_code": "Complete",
            }
        )
    return results


def _response_get_metric_statistics(self: Any) -> Any:
    """GetMetricStatistics request handler that passes ExtendedStatistics through."""
    from moto.cloudwatch.exceptions import InvalidParameterCombination, InvalidParameterValue
    from moto.core.responses import ActionResult

    statistics = self._get_param("Statistics", []) or []
    extended = self._get_param("ExtendedStatistics", []) or []
    if not statistics and not extended:
        raise InvalidParameterCombination("Must specify either Statistics or ExtendedStatistics")
    for name in extended:
        if percentile_of(name) is None:
            raise InvalidParameterValue(
                f"The value {name} for parameter ExtendedStatistics is not supported."
            )
    metric_name = self._get_param("MetricName")
    datapoints_found = self.cloudwatch_backend.get_metric_statistics(
        self._get_param("Namespace"),
        metric_name,
        self._get_param("StartTime"),
        self._get_param("EndTime"),
        self._get_int_param("Period"),
        [*statistics, *extended],
        unit=self._get_param("Unit"),
        dimensions=self._get_param("Dimensions", []),
    )
    return ActionResult({"Label": metric_name, "Datapoints": datapoints_found})


PUBLISHED_AT = "_workshop_published_at"  # epoch seconds from which a datapoint is visible


def _publishing(original: Callable) -> Callable:
    """CloudWatchBackend.put_metric_data that schedules when the new datapoints are published."""

    def put_metric_data(self: Any, namespace: str, metric_data: list[dict[str, Any]]) -> None:
        with cloudwatch_lock:  # readers list datapoints under it: none sees one before its stamp
            before = len(self.metric_data)
            original(self, namespace, metric_data)
            current = profile.current()
            if not current.aws:
                return
            now, ready = time.time(), {}
            for datum in self.metric_data[before:]:
                if datum.name not in ready:  # one delay per metric per call: a batch is published together
                    ready[datum.name] = now + current.delay("metric_publication", f"{namespace}/{datum.name}")
                setattr(datum, PUBLISHED_AT, ready[datum.name])

    return put_metric_data


def _published_only(original: Callable) -> Callable:
    """CloudWatchBackend.get_all_metrics without the datapoints not yet published."""

    def get_all_metrics(self: Any) -> list[Any]:
        data = original(self)
        if not profile.current().aws:
            return data
        now = time.time()
        return [datum for datum in data if getattr(datum, PUBLISHED_AT, 0.0) <= now]

    return get_all_metrics


def _check_signature(target: Callable, expected: Sequence[str]) -> None:
    """Fail loudly when moto's method no longer takes the parameters this hook relies on."""
    names = list(inspect.signature(target).parameters)
    if names[: len(expected)] != list(expected):
        raise RuntimeError(
            f"moto changed {target.__qualname__}{inspect.signature(target)}; "
            f"helpers/local/statistics.py was written against moto {MOTO_VERSION}"
        )


def install() -> None:
    """Teach moto's CloudWatch percentiles, exact dimensions and metric math (idempotent)."""
    global _installed
    if _installed:
        return
    from moto.cloudwatch.models import CloudWatchBackend, Statistics
    from moto.cloudwatch.responses import CloudWatchResponse

    _check_signature(Statistics.get_statistics_for_type, ["self", "stat"])
    _check_signature(
        CloudWatchBackend.get_metric_statistics,
        [
            "self",
            "namespace",
            "metric_name",
            "start_time",
            "end_time",
            "period",
            "stats",
            "dimensions",
            "unit",
        ],
    )
    _check_signature(
        CloudWatchBackend.get_metric_data, ["self", "queries", "start_time", "end_time", "scan_by"]
    )
    _check_signature(CloudWatchBackend.put_metric_data, ["self", "namespace", "metric_data"])
    _check_signature(
        CloudWatchBackend.list_metrics, ["self", "next_token", "namespace", "metric_name", "dimensions"]
    )
    _check_signature(CloudWatchResponse.get_metric_statistics, ["self"])

    _originals["get_statistics_for_type"] = Statistics.get_statistics_for_type
    _originals["get_metric_data"] = CloudWatchBackend.get_metric_data
    # The hooks: patching moto's classes by assignment, which mypy cannot type.
    Statistics.get_statistics_for_type = _get_statistics_for_type  # type: ignore[method-assign]
    Statistics.extended_statistics = property(_extended_statistics)  # type: ignore[attr-defined]
    CloudWatchBackend.get_metric_statistics = locked(_backend_get_metric_statistics)  # type: ignore[method-assign]
    CloudWatchBackend.get_metric_data = locked(_backend_get_metric_data)  # type: ignore[method-assign]
    hooks.patch(CloudWatchBackend, "put_metric_data", ["self", "namespace", "metric_data"], _publishing)
    hooks.patch(CloudWatchBackend, "get_all_metrics", ["self"], _published_only)
    CloudWatchBackend.list_metrics = locked(CloudWatchBackend.list_metrics)  # type: ignore[method-assign]
    CloudWatchResponse.get_metric_statistics = _response_get_metric_statistics  # type: ignore[method-assign]
    _installed = True

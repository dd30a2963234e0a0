"""A metric's datapoints grouped into periods, and each period's statistics (percentiles included).

The backend is read duck-typed (``get_all_metrics()``; a datum has ``namespace``, ``name``,
``timestamp``, ``dimensions``, ``unit`` and either ``value`` or a statistic set's
``sample_count``/``sum``/``min``/``max``), so this module needs no moto.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from localcloud.cloudwatch.statistics.percentiles import nearest_rank, percentile_of
from localcloud.locks import cloudwatch_lock

Dimensions = Iterable[Any]  # dicts {"Name", "Value"} or moto Dimension objects


class MetricStore(Protocol):
    """What the engine reads of moto's CloudWatchBackend."""

    def get_all_metrics(self) -> Iterable[Any]:
        """Every datapoint put so far (moto MetricDatum and MetricAggregatedDatum objects)."""
        ...


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
    backend: MetricStore,
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
        if hasattr(datum, "value"):  # one published value (moto MetricDatum)
            bucket.values.append(float(datum.value))
        elif hasattr(datum, "sample_count"):  # a statistic set (moto MetricAggregatedDatum)
            bucket.sets.append(datum)
        bucket.unit = datum.unit
        bucket.data.append(datum)
    return [by_start[key] for key in sorted(by_start)]


def datapoints(
    backend: MetricStore,
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

"""Where moto's CloudWatch gets the metric statistics engine: the only module here that imports moto.

GetMetricStatistics and GetMetricData are answered by the engine (localcloud.cloudwatch.statistics),
backend reads of ``metric_data`` run under ``cloudwatch_lock``, and the aws profile delays
publication of every datapoint.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from moto.cloudwatch.exceptions import InvalidParameterCombination, InvalidParameterValue, ValidationError
from moto.cloudwatch.models import CloudWatchBackend, Statistics
from moto.cloudwatch.responses import CloudWatchResponse
from moto.core.responses import ActionResult

from localcloud import patching, profile
from localcloud.cloudwatch.statistics.aggregation import Bucket, buckets, naive_utc
from localcloud.cloudwatch.statistics.metric_math import ExpressionError, metric_series
from localcloud.cloudwatch.statistics.percentiles import percentile_of
from localcloud.locks import cloudwatch_lock, locked

PUBLISHED_AT = "_workshop_published_at"  # epoch seconds from which a datapoint is visible


class PercentileStatistics(Statistics):
    """A GetMetricStatistics datapoint that also answers its requested percentiles (ExtendedStatistics)."""

    def __init__(self, stats: list[str], bucket: Bucket) -> None:
        super().__init__(stats, bucket.start, unit=bucket.unit)
        self.metric_data = bucket.data
        found = {name: bucket.statistic(name) for name in stats if percentile_of(name) is not None}
        # The response serializer reads this attribute for the Datapoint's ExtendedStatistics member.
        self.extended_statistics = {name: value for name, value in found.items() if value is not None} or None


def get_metric_statistics(
    self: CloudWatchBackend,
    namespace: str,
    metric_name: str,
    start_time: datetime,
    end_time: datetime,
    period: int,
    stats: list[str],
    dimensions: list[dict[str, str]],
    unit: str | None = None,
) -> list[PercentileStatistics]:
    """GetMetricStatistics with exact dimensions, percentiles and periods aligned to StartTime."""
    start_time = naive_utc(start_time).replace(microsecond=0)
    end_time = naive_utc(end_time).replace(microsecond=0)
    if start_time >= end_time:
        raise InvalidParameterValue("The parameter StartTime must be less than the parameter EndTime.")
    found = buckets(self, namespace, metric_name, dimensions, int(period), start_time, end_time, unit)
    return [PercentileStatistics(list(stats), bucket) for bucket in found]


def _metric_data(original: Callable[..., list[dict[str, Any]]]) -> Callable[..., list[dict[str, Any]]]:
    """CloudWatchBackend.get_metric_data with percentiles, exact dimensions, namespaces and metric math."""

    def get_metric_data(
        self: CloudWatchBackend,
        queries: list[dict[str, Any]],
        start_time: datetime,
        end_time: datetime,
        scan_by: str = "TimestampAscending",
    ) -> list[dict[str, Any]]:
        if any(str(q.get("Expression", "")).lstrip().upper().startswith("SELECT") for q in queries):
            return original(self, queries, start_time, end_time, scan_by)  # Metrics Insights: moto's own
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

    return locked(get_metric_data)


def get_metric_statistics_action(self: CloudWatchResponse) -> ActionResult:
    """GetMetricStatistics request handler that passes ExtendedStatistics through."""
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


def _publishing(original: Callable[..., None]) -> Callable[..., None]:
    """CloudWatchBackend.put_metric_data that schedules when the new datapoints are published."""

    def put_metric_data(self: CloudWatchBackend, namespace: str, metric_data: list[dict[str, Any]]) -> None:
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


def _published_only(original: Callable[..., list[Any]]) -> Callable[..., list[Any]]:
    """CloudWatchBackend.get_all_metrics without the datapoints not yet published."""

    def get_all_metrics(self: CloudWatchBackend) -> list[Any]:
        data = original(self)
        if not profile.current().aws:
            return data
        now = time.time()
        return [datum for datum in data if getattr(datum, PUBLISHED_AT, 0.0) <= now]

    return get_all_metrics


def install() -> None:
    """Teach moto's CloudWatch percentiles, exact dimensions, metric math and publication delays (idempotent)."""
    patching.patch(
        CloudWatchBackend,
        "get_metric_statistics",
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
        lambda original: locked(get_metric_statistics),
    )
    patching.patch(
        CloudWatchBackend,
        "get_metric_data",
        ["self", "queries", "start_time", "end_time", "scan_by"],
        _metric_data,
    )
    patching.patch(CloudWatchBackend, "put_metric_data", ["self", "namespace", "metric_data"], _publishing)
    patching.patch(CloudWatchBackend, "get_all_metrics", ["self"], _published_only)
    patching.patch(
        CloudWatchBackend,
        "list_metrics",
        ["self", "next_token", "namespace", "metric_name", "dimensions"],
        locked,
    )
    patching.patch(
        CloudWatchResponse, "get_metric_statistics", ["self"], lambda original: get_metric_statistics_action
    )

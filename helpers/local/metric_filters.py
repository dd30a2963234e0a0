"""Metric filters: log events ingested into a group become CloudWatch datapoints, as in AWS.

moto stores metric filters but never applies them. This hook wraps the one place every
ingestion passes through (LogStream.put_log_events: the PutLogEvents API, the kit's Lambda and
SageMaker runtimes, subscriptions), so matching events publish datapoints whoever wrote them.

Fidelity notes:
- Each matching event is published as its own datapoint at the event's timestamp (AWS
  aggregates per minute; the statistics come out the same, and percentiles stay available).
- defaultValue is published per minute of event timestamps within one ingestion batch in which
  no event matched; a minute split across batches can get a default beside real matches.
- Filters apply to the events ingested after they exist: a batch is evaluated against the
  filters present when it is put.
- Filters see a batch at ingestion, before it is searchable (helpers.local.logs_ingestion); under
  the aws profile their datapoints become visible after the publication delay
  (helpers.local.statistics), at the events' own timestamps.
"""

from __future__ import annotations

import inspect
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from moto.logs.exceptions import InvalidParameterException, LimitExceededException

from helpers.local.filter_patterns import compile_pattern
from helpers.local.locks import cloudwatch_lock

MAX_FILTERS_PER_GROUP = 100
MAX_DIMENSIONS = 3
_installed = False


def _number(value: Any) -> float | None:
    """A metric value as a float, or None when it is not a number."""
    if type(value) is bool or value is None:
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def _naive_utc(timestamp_ms: int) -> datetime:
    """An event timestamp (ms since the epoch) as the naive UTC datetime moto keeps."""
    return datetime.fromtimestamp(timestamp_ms / 1000, tz=UTC).replace(tzinfo=None)


def validate_transformation(transformation: dict[str, Any]) -> None:
    """Refuse what AWS refuses in a metric transformation (InvalidParameterException)."""
    value = str(transformation.get("metricValue", ""))
    if not value.startswith("$") and _number(value) is None:
        raise InvalidParameterException(
            msg=f"Invalid metric value {value!r}: use a number, $.field (JSON) or $name (space-delimited)."
        )
    dimensions = transformation.get("dimensions") or {}
    if len(dimensions) > MAX_DIMENSIONS:
        raise InvalidParameterException(
            msg=f"A metric transformation can have at most {MAX_DIMENSIONS} dimensions."
        )
    if dimensions and transformation.get("defaultValue") is not None:
        raise InvalidParameterException(
            msg="A metric transformation cannot have both dimensions and a defaultValue."
        )
    for name, selector in dimensions.items():
        if not str(selector).startswith("$"):
            raise InvalidParameterException(
                msg=f"Invalid dimension {name!r}: its value must be a field selector such as $.field or $name."
            )


def _wrap_put_metric_filter(original: Callable[..., None]) -> Callable[..., None]:
    """PutMetricFilter that validates, replaces a filter of the same name and enforces the limit."""

    def put_metric_filter(
        self, filter_name: str, filter_pattern: str, log_group_name: str, metric_transformations: Any
    ) -> None:
        compile_pattern(filter_pattern or "")
        for transformation in metric_transformations or []:
            validate_transformation(transformation)
        existing = self.filters.metric_filters
        in_group = [f for f in existing if f["logGroupName"] == log_group_name]
        replaced = [f for f in in_group if f["filterName"] == filter_name]
        if not replaced and len(in_group) >= MAX_FILTERS_PER_GROUP:
            raise LimitExceededException()
        for old in replaced:
            existing.remove(old)
        original(self, filter_name, filter_pattern, log_group_name, metric_transformations)
        for stored in existing:
            if stored["logGroupName"] == log_group_name and stored["filterName"] == filter_name:
                stored.setdefault("creationTime", int(time.time() * 1000))

    return put_metric_filter


def datapoints_for(
    filter_pattern: str, transformation: dict[str, Any], events: list[Any]
) -> list[dict[str, Any]]:
    """The metric datapoints one transformation makes of a batch of events (timestamp, message)."""
    pattern = compile_pattern(filter_pattern or "")
    selector = str(transformation["metricValue"])
    constant = None if selector.startswith("$") else float(selector)
    dimensions = transformation.get("dimensions") or {}
    unit = transformation.get("unit") or "None"
    default = transformation.get("defaultValue")
    data: list[dict[str, Any]] = []
    matched_minutes: set[int] = set()
    seen_minutes: list[int] = []
    for event in events:
        minute = event.timestamp // 60000
        if not seen_minutes or seen_minutes[-1] != minute:
            seen_minutes.append(minute)
        extracted = pattern.extract(event.message)
        if extracted is None:
            continue
        matched_minutes.add(minute)
        value = constant if constant is not None else _number(extracted.lookup(selector))
        if value is None:
            continue  # a value that does not resolve to a number contributes nothing
        resolved = []
        for name, dim_selector in dimensions.items():
            dim_value = extracted.lookup(str(dim_selector))
            if dim_value is None or isinstance(dim_value, (dict, list)):
                break
            resolved.append(
                {"Name": name, "Value": dim_value if isinstance(dim_value, str) else str(dim_value)}
            )
        else:
            datum = {
                "MetricName": transformation["metricName"],
                "Value": value,
                "Unit": unit,
                "Timestamp": _naive_utc(event.timestamp),
            }
            if resolved:
                datum["Dimensions"] = resolved
            data.append(datum)
    if default is not None:
        for minute in dict.fromkeys(seen_minutes):
            if minute not in matched_minutes:
                data.append(
                    {
                        "MetricName": transformation["metricName"],
                        "Value": float(default),
                        "Unit": unit,
                        "Timestamp": _naive_utc(minute * 60000),
                    }
                )
    return data


def publish_for_stream(stream: Any, events: list[Any]) -> None:
    """Apply the log group's metric filters to newly ingested events and publish the datapoints."""
    from moto.cloudwatch.models import cloudwatch_backends
    from moto.logs.models import logs_backends

    backend = logs_backends[stream.account_id][stream.region]
    group = stream.log_group.name
    filters = [f for f in list(backend.filters.metric_filters) if f["logGroupName"] == group]
    if not filters:
        return
    by_namespace: dict[str, list[dict[str, Any]]] = {}
    for metric_filter in filters:
        for transformation in metric_filter["metricTransformations"]:
            data = datapoints_for(metric_filter.get("filterPattern", ""), transformation, events)
            by_namespace.setdefault(transformation["metricNamespace"], []).extend(data)
    with cloudwatch_lock:
        cloudwatch = cloudwatch_backends[stream.account_id][stream.region]
        for namespace, data in by_namespace.items():
            if data:
                cloudwatch.put_metric_data(namespace, data)


def _wrap_put_log_events(original: Callable[..., str]) -> Callable[..., str]:
    """LogStream.put_log_events that also feeds the group's metric filters."""

    def put_log_events(self, log_events: list[dict[str, Any]]) -> str:
        before = len(self.events)
        token = original(self, log_events)
        new_events = self.events[before:]
        if new_events:
            publish_for_stream(self, new_events)
        return token

    put_log_events.__wrapped__ = original  # type: ignore[attr-defined]  # inspect.unwrap finds moto's own
    return put_log_events


def install() -> None:
    """Hook metric filters into moto's log ingestion and PutMetricFilter (idempotent)."""
    global _installed
    if _installed:
        return
    from moto.cloudwatch.models import CloudWatchBackend
    from moto.logs.models import LogsBackend, LogStream

    expected: dict[Callable[..., Any], list[str]] = {
        LogStream.put_log_events: ["self", "log_events"],
        LogsBackend.put_metric_filter: [
            "self",
            "filter_name",
            "filter_pattern",
            "log_group_name",
            "metric_transformations",
        ],
        CloudWatchBackend.put_metric_data: ["self", "namespace", "metric_data"],
    }
    for target, params in expected.items():
        if list(inspect.signature(target).parameters) != params:
            raise RuntimeError(
                f"moto changed {target.__qualname__}; helpers.local.metric_filters needs updating"
            )
    # The hooks: patching moto's classes by assignment, which mypy cannot type.
    LogStream.put_log_events = _wrap_put_log_events(LogStream.put_log_events)  # type: ignore[method-assign]
    LogsBackend.put_metric_filter = _wrap_put_metric_filter(LogsBackend.put_metric_filter)  # type: ignore[method-assign]
    _installed = True

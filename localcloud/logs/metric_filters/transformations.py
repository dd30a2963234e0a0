"""Metric transformations: what AWS refuses in one, and the datapoints one makes of a batch of events."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Protocol

from localcloud.logs.filter_patterns import compile_pattern

MAX_DIMENSIONS = 3  # per metric transformation


class MetricTransformationError(ValueError):
    """A metric transformation AWS refuses (InvalidParameterException with this message)."""


class Event(Protocol):
    """An ingested log event: when it happened (ms since the epoch) and its message."""

    timestamp: int
    message: str


def metric_number(value: Any) -> float | None:
    """A metric value as a float, or None when it is not a number."""
    if type(value) is bool or value is None:
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def _naive_utc(timestamp_ms: int) -> datetime:
    """An event timestamp (ms since the epoch) as the naive UTC datetime CloudWatch's store keeps."""
    return datetime.fromtimestamp(timestamp_ms / 1000, tz=UTC).replace(tzinfo=None)


def validate_transformation(transformation: dict[str, Any]) -> None:
    """Refuse what AWS refuses in a metric transformation (MetricTransformationError)."""
    value = str(transformation.get("metricValue", ""))
    if not value.startswith("$") and metric_number(value) is None:
        raise MetricTransformationError(
            f"Invalid metric value {value!r}: use a number, $.field (JSON) or $name (space-delimited)."
        )
    dimensions = transformation.get("dimensions") or {}
    if len(dimensions) > MAX_DIMENSIONS:
        raise MetricTransformationError(
            f"A metric transformation can have at most {MAX_DIMENSIONS} dimensions."
        )
    if dimensions and transformation.get("defaultValue") is not None:
        raise MetricTransformationError(
            "A metric transformation cannot have both dimensions and a defaultValue."
        )
    for name, selector in dimensions.items():
        if not str(selector).startswith("$"):
            raise MetricTransformationError(
                f"Invalid dimension {name!r}: its value must be a field selector such as $.field or $name."
            )


def datapoints_for(
    filter_pattern: str, transformation: dict[str, Any], events: list[Event]
) -> list[dict[str, Any]]:
    """The metric datapoints (PutMetricData's MetricData) one transformation makes of a batch of events."""
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
        value = constant if constant is not None else metric_number(extracted.lookup(selector))
        if value is None:
            continue  # a value that does not resolve to a number contributes nothing
        resolved = []
        for name, dim_selector in dimensions.items():
            dim_value = extracted.lookup(str(dim_selector))
            if dim_value is None or isinstance(dim_value, dict | list):
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

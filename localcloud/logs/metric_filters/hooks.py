"""Where moto gets metric filters: PutMetricFilter refuses what AWS refuses, ingestion publishes datapoints.

Hooked in moto 5.2.5 (localcloud.patching):

- `LogsBackend.put_metric_filter` validates the pattern and transformations, replaces a filter of
  the same name, enforces the per-group quota and stamps `creationTime`;
- `LogStream.put_log_events`, which every ingestion ends in, applies the group's metric filters to
  the new events and puts their datapoints into CloudWatch (`CloudWatchBackend.put_metric_data`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from moto.cloudwatch.models import CloudWatchBackend, cloudwatch_backends
from moto.logs.exceptions import InvalidParameterException, LimitExceededException
from moto.logs.models import LogsBackend, LogStream, logs_backends

from localcloud import patching
from localcloud.locks import cloudwatch_lock
from localcloud.logs.filter_patterns.hooks import compile_or_refuse
from localcloud.logs.metric_filters import MetricTransformationError, datapoints_for, validate_transformation

MAX_FILTERS_PER_GROUP = 100  # AWS's quota of metric filters per log group


def _validating_put_metric_filter(original: Callable[..., None]) -> Callable[..., None]:
    """PutMetricFilter that validates, replaces a filter of the same name and enforces the limit."""

    def put_metric_filter(
        self: LogsBackend,
        filter_name: str,
        filter_pattern: str,
        log_group_name: str,
        metric_transformations: Any,
    ) -> None:
        compile_or_refuse(filter_pattern)
        for transformation in metric_transformations or []:
            try:
                validate_transformation(transformation)
            except MetricTransformationError as error:
                raise InvalidParameterException(msg=str(error)) from None
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


def publish_for_stream(stream: LogStream, events: list[Any]) -> None:
    """Apply the log group's metric filters to newly ingested events and publish the datapoints."""
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


def _publishing_put_log_events(original: Callable[..., str]) -> Callable[..., str]:
    """LogStream.put_log_events that also feeds the group's metric filters."""

    def put_log_events(self: LogStream, log_events: list[dict[str, Any]]) -> str:
        before = len(self.events)
        token = original(self, log_events)
        new_events = self.events[before:]
        if new_events:
            publish_for_stream(self, new_events)
        return token

    return put_log_events


def install() -> None:
    """Hook metric filters into moto's log ingestion and PutMetricFilter (idempotent)."""
    # Called, not patched: publish_for_stream relies on its parameters.
    patching.check_signature(CloudWatchBackend.put_metric_data, ["self", "namespace", "metric_data"])
    patching.patch(LogStream, "put_log_events", ["self", "log_events"], _publishing_put_log_events)
    patching.patch(
        LogsBackend,
        "put_metric_filter",
        ["self", "filter_name", "filter_pattern", "log_group_name", "metric_transformations"],
        _validating_put_metric_filter,
    )

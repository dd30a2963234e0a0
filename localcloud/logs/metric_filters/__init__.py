"""Metric filters: log events ingested into a group become CloudWatch datapoints, as in AWS.

moto stores metric filters but never applies them. The hooks (``hooks.py``, the only module here
that imports moto) wrap the one place every ingestion passes through (LogStream.put_log_events:
the PutLogEvents API, the kit's Lambda and SageMaker runtimes, subscriptions), so matching events
publish datapoints whoever wrote them; and PutMetricFilter, which refuses what AWS refuses.
Reference: "Creating metrics from log events using filters" (CloudWatch Logs User Guide,
MonitoringLogData) and PutMetricFilter's MetricTransformation (CloudWatch Logs API Reference).

Contract of the engine (``transformations``, pure Python, no moto): ``datapoints_for(pattern,
transformation, events)`` answers the PutMetricData datapoints a transformation makes of a batch;
``validate_transformation`` raises ``MetricTransformationError`` (a ValueError carrying AWS's
InvalidParameterException message) for what AWS refuses.

Fidelity notes:
- Each matching event is published as its own datapoint at the event's timestamp (AWS
  aggregates per minute; the statistics come out the same, and percentiles stay available).
- defaultValue is published per minute of event timestamps within one ingestion batch in which
  no event matched; a minute split across batches can get a default beside real matches.
- Filters apply to the events ingested after they exist: a batch is evaluated against the
  filters present when it is put.
- Filters see a batch at ingestion, before it is searchable (localcloud.logs.ingestion); under
  the aws profile their datapoints become visible after the publication delay
  (localcloud.cloudwatch.statistics), at the events' own timestamps.
"""

from __future__ import annotations

from localcloud.logs.metric_filters.transformations import (
    MAX_DIMENSIONS,
    Event,
    MetricTransformationError,
    datapoints_for,
    validate_transformation,
)

__all__ = [
    "MAX_DIMENSIONS",
    "Event",
    "MetricTransformationError",
    "datapoints_for",
    "validate_transformation",
]

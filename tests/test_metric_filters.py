"""Metric filters turn ingested log events into CloudWatch datapoints, as AWS does."""

from __future__ import annotations

import json
import time
import uuid
from datetime import UTC, datetime, timedelta

import boto3
import pytest
from botocore.exceptions import ClientError


@pytest.fixture()
def clients(local_cloud):
    """Logs and CloudWatch clients for the local cloud."""
    return (
        boto3.client("logs", endpoint_url=local_cloud, region_name="us-east-1"),
        boto3.client("cloudwatch", endpoint_url=local_cloud, region_name="us-east-1"),
    )


@pytest.fixture()
def group(clients):
    """A fresh log group with one stream, and a fresh metric namespace."""
    logs, _ = clients
    name = f"/test/metric-filters/{uuid.uuid4().hex}"
    logs.create_log_group(logGroupName=name)
    logs.create_log_stream(logGroupName=name, logStreamName="s")
    return name, f"Test/{uuid.uuid4().hex[:12]}"


def put(logs, group_name: str, messages: list, at_ms: int | None = None) -> None:
    """Ingest messages (dicts become JSON lines) at one timestamp."""
    at_ms = at_ms or int(time.time() * 1000)
    events = [{"timestamp": at_ms, "message": m if isinstance(m, str) else json.dumps(m)} for m in messages]
    logs.put_log_events(logGroupName=group_name, logStreamName="s", logEvents=events)


def stats(
    cloudwatch, namespace: str, metric: str, dimensions: list | None = None, statistics=("Sum", "SampleCount")
):
    """All datapoints of the metric over the last ten minutes, one-minute periods, oldest first."""
    now = datetime.now(UTC)
    answer = cloudwatch.get_metric_statistics(
        Namespace=namespace,
        MetricName=metric,
        Dimensions=dimensions or [],
        StartTime=now - timedelta(minutes=10),
        EndTime=now + timedelta(minutes=1),
        Period=60,
        Statistics=list(statistics),
    )
    return sorted(answer["Datapoints"], key=lambda d: d["Timestamp"])


def transformation(namespace: str, **extra) -> list[dict]:
    return [{"metricName": "M", "metricNamespace": namespace, "metricValue": "1", **extra}]


def test_constant_value_counts_matching_events(clients, group):
    logs, cloudwatch = clients
    name, namespace = group
    logs.put_metric_filter(
        logGroupName=name,
        filterName="count",
        filterPattern='{ $.event = "inference" }',
        metricTransformations=transformation(namespace),
    )
    put(logs, name, [{"event": "inference"}, {"event": "inference"}, {"event": "other"}, "not json"])
    assert [(d["Sum"], d["SampleCount"]) for d in stats(cloudwatch, namespace, "M")] == [(2.0, 2.0)]


def test_value_from_a_json_field(clients, group):
    logs, cloudwatch = clients
    name, namespace = group
    logs.put_metric_filter(
        logGroupName=name,
        filterName="latency",
        filterPattern='{ $.event = "inference" }',
        metricTransformations=transformation(namespace, metricValue="$.latencyMs"),
    )
    put(logs, name, [{"event": "inference", "latencyMs": 12.5}, {"event": "inference", "latencyMs": 7.5}])
    [point] = stats(cloudwatch, namespace, "M", statistics=("Sum", "Maximum", "SampleCount"))
    assert (point["Sum"], point["Maximum"], point["SampleCount"]) == (20.0, 12.5, 2.0)


def test_value_from_a_space_delimited_field(clients, group):
    logs, cloudwatch = clients
    name, namespace = group
    logs.put_metric_filter(
        logGroupName=name,
        filterName="bytes",
        filterPattern="[ip, user, status = 200, bytes]",
        metricTransformations=transformation(namespace, metricValue="$bytes"),
    )
    put(logs, name, ["1.2.3.4 - 200 100", "1.2.3.4 - 500 999", "1.2.3.4 - 200 50"])
    assert [d["Sum"] for d in stats(cloudwatch, namespace, "M")] == [150.0]


def test_non_numeric_value_contributes_nothing(clients, group):
    logs, cloudwatch = clients
    name, namespace = group
    logs.put_metric_filter(
        logGroupName=name,
        filterName="latency",
        filterPattern="{ $.latencyMs = * }",
        metricTransformations=transformation(namespace, metricValue="$.latencyMs"),
    )
    put(logs, name, [{"latencyMs": "slow"}, {"latencyMs": True}, {"latencyMs": 4}])
    assert [(d["Sum"], d["SampleCount"]) for d in stats(cloudwatch, namespace, "M")] == [(4.0, 1.0)]


def test_default_value_is_reported_for_a_minute_with_events_but_no_match(clients, group):
    logs, cloudwatch = clients
    name, namespace = group
    logs.put_metric_filter(
        logGroupName=name,
        filterName="errors",
        filterPattern="ERROR",
        metricTransformations=transformation(namespace, defaultValue=0),
    )
    put(logs, name, ["all fine", "still fine"])
    assert [(d["Sum"], d["SampleCount"]) for d in stats(cloudwatch, namespace, "M")] == [(0.0, 1.0)]


def test_default_value_is_not_reported_without_events(clients, group):
    logs, cloudwatch = clients
    name, namespace = group
    logs.put_metric_filter(
        logGroupName=name,
        filterName="errors",
        filterPattern="ERROR",
        metricTransformations=transformation(namespace, defaultValue=0),
    )
    assert stats(cloudwatch, namespace, "M") == []


def test_default_value_is_not_added_to_a_minute_with_a_match(clients, group):
    logs, cloudwatch = clients
    name, namespace = group
    logs.put_metric_filter(
        logGroupName=name,
        filterName="errors",
        filterPattern="ERROR",
        metricTransformations=transformation(namespace, defaultValue=0),
    )
    put(logs, name, ["ERROR one", "fine"])
    assert [(d["Sum"], d["SampleCount"]) for d in stats(cloudwatch, namespace, "M")] == [(1.0, 1.0)]


def test_dimensions_come_from_json_fields(clients, group):
    logs, cloudwatch = clients
    name, namespace = group
    logs.put_metric_filter(
        logGroupName=name,
        filterName="by-status",
        filterPattern="{ $.status = * }",
        metricTransformations=transformation(namespace, dimensions={"Status": "$.status"}),
    )
    put(logs, name, [{"status": "ok"}, {"status": "ok"}, {"status": "model_error"}])
    assert [d["Sum"] for d in stats(cloudwatch, namespace, "M", [{"Name": "Status", "Value": "ok"}])] == [2.0]
    assert [
        d["Sum"] for d in stats(cloudwatch, namespace, "M", [{"Name": "Status", "Value": "model_error"}])
    ] == [1.0]


def test_dimensions_together_with_default_value_are_refused(clients, group):
    logs, _ = clients
    name, namespace = group
    with pytest.raises(ClientError) as raised:
        logs.put_metric_filter(
            logGroupName=name,
            filterName="bad",
            filterPattern="{ $.status = * }",
            metricTransformations=transformation(
                namespace, defaultValue=0, dimensions={"Status": "$.status"}
            ),
        )
    assert raised.value.response["Error"] == {
        "Code": "InvalidParameterException",
        "Message": "A metric transformation cannot have both dimensions and a defaultValue.",
    }


def test_malformed_pattern_is_refused(clients, group):
    logs, _ = clients
    name, namespace = group
    with pytest.raises(ClientError) as raised:
        logs.put_metric_filter(
            logGroupName=name,
            filterName="bad",
            filterPattern="{ $.status = }",
            metricTransformations=transformation(namespace),
        )
    assert raised.value.response["Error"]["Code"] == "InvalidParameterException"


def test_unit_is_carried_to_the_metric(clients, group):
    logs, cloudwatch = clients
    name, namespace = group
    logs.put_metric_filter(
        logGroupName=name,
        filterName="latency",
        filterPattern="{ $.latencyMs > 0 }",
        metricTransformations=transformation(namespace, metricValue="$.latencyMs", unit="Milliseconds"),
    )
    put(logs, name, [{"latencyMs": 3}])
    assert [d["Unit"] for d in stats(cloudwatch, namespace, "M")] == ["Milliseconds"]


def test_putting_a_filter_with_an_existing_name_replaces_it(clients, group):
    logs, cloudwatch = clients
    name, namespace = group
    logs.put_metric_filter(
        logGroupName=name,
        filterName="f",
        filterPattern="ERROR",
        metricTransformations=transformation(namespace),
    )
    logs.put_metric_filter(
        logGroupName=name,
        filterName="f",
        filterPattern="WARN",
        metricTransformations=transformation(namespace, metricValue="5"),
    )
    described = logs.describe_metric_filters(logGroupName=name)["metricFilters"]
    assert [(f["filterName"], f["filterPattern"]) for f in described] == [("f", "WARN")]
    put(logs, name, ["ERROR x", "WARN y"])
    assert [(d["Sum"], d["SampleCount"]) for d in stats(cloudwatch, namespace, "M")] == [(5.0, 1.0)]


def test_filters_apply_only_to_events_ingested_after_they_exist(clients, group):
    logs, cloudwatch = clients
    name, namespace = group
    put(logs, name, ["ERROR before"])
    logs.put_metric_filter(
        logGroupName=name,
        filterName="errors",
        filterPattern="ERROR",
        metricTransformations=transformation(namespace),
    )
    put(logs, name, ["ERROR after"])
    assert [d["Sum"] for d in stats(cloudwatch, namespace, "M")] == [1.0]


def test_datapoint_carries_the_event_timestamp(clients, group):
    logs, cloudwatch = clients
    name, namespace = group
    logs.put_metric_filter(
        logGroupName=name,
        filterName="errors",
        filterPattern="ERROR",
        metricTransformations=transformation(namespace),
    )
    five_minutes_ago = int((time.time() - 300) * 1000)
    put(logs, name, ["ERROR old"], at_ms=five_minutes_ago)
    [point] = stats(cloudwatch, namespace, "M")
    expected_minute = datetime.fromtimestamp(five_minutes_ago / 1000, UTC).replace(second=0, microsecond=0)
    assert point["Timestamp"] == expected_minute


def test_at_most_100_filters_per_group(clients, group):
    logs, _ = clients
    name, namespace = group
    for i in range(100):
        logs.put_metric_filter(
            logGroupName=name,
            filterName=f"f{i}",
            filterPattern="x",
            metricTransformations=transformation(namespace),
        )
    with pytest.raises(ClientError) as raised:
        logs.put_metric_filter(
            logGroupName=name,
            filterName="f100",
            filterPattern="x",
            metricTransformations=transformation(namespace),
        )
    assert raised.value.response["Error"]["Code"] == "LimitExceededException"
    logs.put_metric_filter(
        logGroupName=name, filterName="f0", filterPattern="y", metricTransformations=transformation(namespace)
    )  # replacing is still allowed

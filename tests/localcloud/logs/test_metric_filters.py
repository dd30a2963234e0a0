"""Metric filters turn ingested log events into CloudWatch datapoints, as AWS does."""

from __future__ import annotations

import json
import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from botocore.exceptions import ClientError


@pytest.fixture()
def group(log_group):
    """A fresh log group (with stream s) and a fresh metric namespace."""
    return log_group, f"Test/{uuid.uuid4().hex[:12]}"


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


def add(logs, group: tuple[str, str], pattern: str, name: str = "f", **extra) -> None:
    """PutMetricFilter on the group: the pattern, one transformation to metric M (extra: its other fields)."""
    log_group, namespace = group
    logs.put_metric_filter(
        logGroupName=log_group,
        filterName=name,
        filterPattern=pattern,
        metricTransformations=transformation(namespace, **extra),
    )


def sums_and_counts(cloudwatch, namespace: str) -> list[tuple[float, float]]:
    """(Sum, SampleCount) of metric M per minute, oldest first."""
    return [(d["Sum"], d["SampleCount"]) for d in stats(cloudwatch, namespace, "M")]


def test_constant_value_counts_matching_events(log_clients, group):
    logs, cloudwatch = log_clients
    name, namespace = group
    add(logs, group, '{ $.event = "inference" }', "count")
    put(logs, name, [{"event": "inference"}, {"event": "inference"}, {"event": "other"}, "not json"])
    assert sums_and_counts(cloudwatch, namespace) == [(2.0, 2.0)]


def test_value_from_a_json_field(log_clients, group):
    logs, cloudwatch = log_clients
    name, namespace = group
    add(logs, group, '{ $.event = "inference" }', "latency", metricValue="$.latencyMs")
    put(logs, name, [{"event": "inference", "latencyMs": 12.5}, {"event": "inference", "latencyMs": 7.5}])
    [point] = stats(cloudwatch, namespace, "M", statistics=("Sum", "Maximum", "SampleCount"))
    assert (point["Sum"], point["Maximum"], point["SampleCount"]) == (20.0, 12.5, 2.0)


def test_value_from_a_space_delimited_field(log_clients, group):
    logs, cloudwatch = log_clients
    name, namespace = group
    add(logs, group, "[ip, user, status = 200, bytes]", "bytes", metricValue="$bytes")
    put(logs, name, ["1.2.3.4 - 200 100", "1.2.3.4 - 500 999", "1.2.3.4 - 200 50"])
    assert [d["Sum"] for d in stats(cloudwatch, namespace, "M")] == [150.0]


def test_non_numeric_value_contributes_nothing(log_clients, group):
    logs, cloudwatch = log_clients
    name, namespace = group
    add(logs, group, "{ $.latencyMs = * }", "latency", metricValue="$.latencyMs")
    put(logs, name, [{"latencyMs": "slow"}, {"latencyMs": True}, {"latencyMs": 4}])
    assert sums_and_counts(cloudwatch, namespace) == [(4.0, 1.0)]


@pytest.mark.parametrize(
    "messages, expected",
    [(["all fine", "still fine"], [(0.0, 1.0)]), ([], []), (["ERROR one", "fine"], [(1.0, 1.0)])],
    ids=[
        "reported-for-a-minute-with-events-but-no-match",
        "not-reported-without-events",
        "not-added-to-a-match",
    ],
)
def test_default_value(log_clients, group, messages, expected):
    logs, cloudwatch = log_clients
    name, namespace = group
    add(logs, group, "ERROR", "errors", defaultValue=0)
    if messages:
        put(logs, name, messages)
    assert sums_and_counts(cloudwatch, namespace) == expected


def test_dimensions_come_from_json_fields(log_clients, group):
    logs, cloudwatch = log_clients
    name, namespace = group
    add(logs, group, "{ $.status = * }", "by-status", dimensions={"Status": "$.status"})
    put(logs, name, [{"status": "ok"}, {"status": "ok"}, {"status": "model_error"}])
    assert [d["Sum"] for d in stats(cloudwatch, namespace, "M", [{"Name": "Status", "Value": "ok"}])] == [2.0]
    assert [
        d["Sum"] for d in stats(cloudwatch, namespace, "M", [{"Name": "Status", "Value": "model_error"}])
    ] == [1.0]


def test_dimensions_together_with_default_value_are_refused(log_clients, group):
    logs, _ = log_clients
    name, namespace = group
    with pytest.raises(ClientError) as raised:
        add(logs, group, "{ $.status = * }", "bad", defaultValue=0, dimensions={"Status": "$.status"})
    assert raised.value.response["Error"] == {
        "Code": "InvalidParameterException",
        "Message": "A metric transformation cannot have both dimensions and a defaultValue.",
    }


def test_malformed_pattern_is_refused(log_clients, group):
    logs, _ = log_clients
    name, namespace = group
    with pytest.raises(ClientError) as raised:
        add(logs, group, "{ $.status = }", "bad")
    assert raised.value.response["Error"]["Code"] == "InvalidParameterException"


def test_unit_is_carried_to_the_metric(log_clients, group):
    logs, cloudwatch = log_clients
    name, namespace = group
    add(logs, group, "{ $.latencyMs > 0 }", "latency", metricValue="$.latencyMs", unit="Milliseconds")
    put(logs, name, [{"latencyMs": 3}])
    assert [d["Unit"] for d in stats(cloudwatch, namespace, "M")] == ["Milliseconds"]


def test_putting_a_filter_with_an_existing_name_replaces_it(log_clients, group):
    logs, cloudwatch = log_clients
    name, namespace = group
    add(logs, group, "ERROR", "f")
    add(logs, group, "WARN", "f", metricValue="5")
    described = logs.describe_metric_filters(logGroupName=name)["metricFilters"]
    assert [(f["filterName"], f["filterPattern"]) for f in described] == [("f", "WARN")]
    put(logs, name, ["ERROR x", "WARN y"])
    assert sums_and_counts(cloudwatch, namespace) == [(5.0, 1.0)]


def test_filters_apply_only_to_events_ingested_after_they_exist(log_clients, group):
    logs, cloudwatch = log_clients
    name, namespace = group
    put(logs, name, ["ERROR before"])
    add(logs, group, "ERROR", "errors")
    put(logs, name, ["ERROR after"])
    assert [d["Sum"] for d in stats(cloudwatch, namespace, "M")] == [1.0]


def test_datapoint_carries_the_event_timestamp(log_clients, group):
    logs, cloudwatch = log_clients
    name, namespace = group
    add(logs, group, "ERROR", "errors")
    five_minutes_ago = int((time.time() - 300) * 1000)
    put(logs, name, ["ERROR old"], at_ms=five_minutes_ago)
    [point] = stats(cloudwatch, namespace, "M")
    expected_minute = datetime.fromtimestamp(five_minutes_ago / 1000, UTC).replace(second=0, microsecond=0)
    assert point["Timestamp"] == expected_minute


def test_at_most_100_filters_per_group(log_clients, group):
    logs, _ = log_clients
    name, namespace = group
    for i in range(100):
        add(logs, group, "x", f"f{i}")
    with pytest.raises(ClientError) as raised:
        add(logs, group, "x", "f100")
    assert raised.value.response["Error"]["Code"] == "LimitExceededException"
    add(logs, group, "y", "f0")  # replacing is still allowed

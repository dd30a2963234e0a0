"""CloudWatch alarms, statistics and notifications of the local cloud, through boto3.

Datapoints are put a few minutes in the past and alarms evaluated with
`evaluator.evaluate_all(now=...)`, so each test decides exactly which periods have ended. The
background evaluator is slowed down for these tests, except in the one test about it.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import boto3
import pytest
from notebook_source import queue_policy_request

from localcloud.cloudwatch.alarms import evaluator

# A whole minute well in the past: periods [T0, T0+1min), ... have all ended by real time.
T0 = (datetime.now(UTC) - timedelta(minutes=30)).replace(second=0, microsecond=0, tzinfo=None)
NAMESPACE = "Workshop/Test"


@pytest.fixture(autouse=True)
def quiet_evaluator():
    """Keep the background evaluator from evaluating at real time during a test."""
    before = evaluator.interval()
    evaluator.set_interval(3600)
    yield
    evaluator.set_interval(before)


@pytest.fixture()
def cloudwatch(local_cloud):
    return boto3.client("cloudwatch", endpoint_url=local_cloud, region_name="us-east-1")


@pytest.fixture()
def topic_queue(local_cloud):
    """An SNS topic with an SQS queue subscribed to it: (topic ARN, function reading the queue)."""
    sns = boto3.client("sns", endpoint_url=local_cloud, region_name="us-east-1")
    sqs = boto3.client("sqs", endpoint_url=local_cloud, region_name="us-east-1")
    name = unique("alarms")
    topic_arn = sns.create_topic(Name=name)["TopicArn"]
    queue_url = sqs.create_queue(QueueName=name)["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    sqs.set_queue_attributes(**queue_policy_request(queue_url, queue_arn, topic_arn))
    sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn)

    def received() -> list[dict]:
        """Every SNS envelope delivered so far (removed from the queue)."""
        envelopes = []
        while True:
            messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", [])
            if not messages:
                return envelopes
            for message in messages:
                envelopes.append(json.loads(message["Body"]))
                sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])

    return topic_arn, received


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def put_alarm(cloudwatch, topic_arn: str | None = None, **overrides) -> str:
    """An errors alarm (Sum > 0 over one minute) with the given overrides; returns its name."""
    spec = {
        "AlarmName": unique("errors"),
        "Namespace": NAMESPACE,
        "MetricName": unique("Errors"),
        "Statistic": "Sum",
        "Period": 60,
        "EvaluationPeriods": 1,
        "Threshold": 0.0,
        "ComparisonOperator": "GreaterThanThreshold",
        "TreatMissingData": "notBreaching",
    }
    if topic_arn:
        spec.update(AlarmActions=[topic_arn], OKActions=[topic_arn])
    spec.update(overrides)
    cloudwatch.put_metric_alarm(**{key: value for key, value in spec.items() if value is not None})
    return spec["AlarmName"]


def alarm_of(cloudwatch, name: str) -> dict:
    return cloudwatch.describe_alarms(AlarmNames=[name])["MetricAlarms"][0]


def put_value(cloudwatch, metric: str, value: float, when: datetime, dimensions: list | None = None) -> None:
    datum = {"MetricName": metric, "Value": value, "Timestamp": when}
    if dimensions:
        datum["Dimensions"] = dimensions
    cloudwatch.put_metric_data(Namespace=NAMESPACE, MetricData=[datum])


def test_new_alarm_starts_in_insufficient_data(cloudwatch):
    name = put_alarm(cloudwatch)
    alarm = alarm_of(cloudwatch, name)
    assert (alarm["StateValue"], alarm["StateReason"]) == (
        "INSUFFICIENT_DATA",
        "Unchecked: Initial alarm creation",
    )


def test_breaching_datapoint_raises_the_alarm_and_notifies_once(cloudwatch, topic_queue):
    topic_arn, received = topic_queue
    name = put_alarm(cloudwatch, topic_arn)
    metric = alarm_of(cloudwatch, name)["MetricName"]
    put_value(cloudwatch, metric, 5.0, at(0.2))

    evaluator.evaluate_all(now=at(1.1))

    alarm = alarm_of(cloudwatch, name)
    assert alarm["StateValue"] == "ALARM"
    assert alarm["StateReason"] == (
        f"Threshold Crossed: 1 out of the last 1 datapoints [5.0 ({T0:%d/%m/%y %H:%M:%S})] was greater than the "
        "threshold (0.0) (minimum 1 datapoint for OK -> ALARM transition)."
    )
    envelopes = received()
    assert len(envelopes) == 1
    assert envelopes[0]["Subject"] == f'ALARM: "{name}" in US East (N. Virginia)'
    message = json.loads(envelopes[0]["Message"])
    assert {
        k: message[k] for k in ("AlarmName", "NewStateValue", "OldStateValue", "Region", "AWSAccountId")
    } == {
        "AlarmName": name,
        "NewStateValue": "ALARM",
        "OldStateValue": "INSUFFICIENT_DATA",
        "Region": "US East (N. Virginia)",
        "AWSAccountId": "123456789012",
    }
    assert message["NewStateReason"] == alarm["StateReason"]
    assert message["AlarmArn"] == alarm["AlarmArn"]
    assert message["Trigger"] == {
        "MetricName": metric,
        "Namespace": NAMESPACE,
        "StatisticType": "Statistic",
        "Statistic": "SUM",
        "Unit": None,
        "Dimensions": [],
        "Period": 60,
        "EvaluationPeriods": 1,
        "ComparisonOperator": "GreaterThanThreshold",
        "Threshold": 0.0,
        "TreatMissingData": "notBreaching",
        "EvaluateLowSampleCountPercentile": "",
    }


def alarmed_then(cloudwatch, topic_queue, value: float) -> tuple[str, Callable[[], list[dict]]]:
    """An alarm that went to ALARM on 5.0 in its first period (that notification read), with value in the
    next period; its name and the topic's inbox."""
    topic_arn, received = topic_queue
    name = put_alarm(cloudwatch, topic_arn)
    metric = alarm_of(cloudwatch, name)["MetricName"]
    put_value(cloudwatch, metric, 5.0, at(0.2))
    put_value(cloudwatch, metric, value, at(1.2))
    evaluator.evaluate_all(now=at(1.1))
    received()
    return name, received


def test_recovery_returns_the_alarm_to_ok_with_an_ok_notification(cloudwatch, topic_queue):
    name, received = alarmed_then(cloudwatch, topic_queue, 0.0)

    evaluator.evaluate_all(now=at(2.1))

    assert alarm_of(cloudwatch, name)["StateValue"] == "OK"
    envelopes = received()
    assert [e["Subject"] for e in envelopes] == [f'OK: "{name}" in US East (N. Virginia)']
    message = json.loads(envelopes[0]["Message"])
    assert (message["OldStateValue"], message["NewStateValue"]) == ("ALARM", "OK")


def test_no_notification_without_a_state_change(cloudwatch, topic_queue):
    name, received = alarmed_then(cloudwatch, topic_queue, 7.0)

    evaluator.evaluate_all(now=at(1.6))
    evaluator.evaluate_all(now=at(2.1))

    assert alarm_of(cloudwatch, name)["StateValue"] == "ALARM"
    assert received() == []


def test_alarm_without_dimensions_does_not_see_datapoints_with_dimensions(cloudwatch):
    name = put_alarm(cloudwatch, TreatMissingData="missing")
    metric = alarm_of(cloudwatch, name)["MetricName"]
    put_value(cloudwatch, metric, 5.0, at(0.2), dimensions=[{"Name": "FunctionName", "Value": "f"}])

    evaluator.evaluate_all(now=at(1.1))

    assert alarm_of(cloudwatch, name)["StateValue"] == "INSUFFICIENT_DATA"


def test_alarm_with_dimensions_sees_exactly_its_metric(cloudwatch):
    dims = [{"Name": "FunctionName", "Value": "f"}]
    name = put_alarm(cloudwatch, Dimensions=dims, TreatMissingData="missing")
    metric = alarm_of(cloudwatch, name)["MetricName"]
    put_value(cloudwatch, metric, 5.0, at(0.2), dimensions=dims)
    put_value(cloudwatch, metric, 0.0, at(0.3), dimensions=[*dims, {"Name": "Version", "Value": "1"}])

    evaluator.evaluate_all(now=at(1.1))

    assert alarm_of(cloudwatch, name)["StateValue"] == "ALARM"


def test_percentile_alarm_compares_the_percentile(cloudwatch):
    name = put_alarm(cloudwatch, Statistic=None, ExtendedStatistic="p90", Threshold=85.0)
    metric = alarm_of(cloudwatch, name)["MetricName"]
    cloudwatch.put_metric_data(
        Namespace=NAMESPACE,
        MetricData=[
            {"MetricName": metric, "Values": [float(v) for v in range(1, 101)], "Timestamp": at(0.2)}
        ],
    )

    evaluator.evaluate_all(now=at(1.1))

    alarm = alarm_of(cloudwatch, name)
    assert alarm["StateValue"] == "ALARM"
    assert "[90.0 (" in alarm["StateReason"]


def test_set_alarm_state_runs_the_actions(cloudwatch, topic_queue):
    topic_arn, received = topic_queue
    name = put_alarm(cloudwatch, topic_arn)

    cloudwatch.set_alarm_state(
        AlarmName=name, StateValue="ALARM", StateReason="Testing the notification path"
    )

    envelopes = received()
    assert [e["Subject"] for e in envelopes] == [f'ALARM: "{name}" in US East (N. Virginia)']
    assert json.loads(envelopes[0]["Message"])["NewStateReason"] == "Testing the notification path"


def alarmed_and_recovered(cloudwatch) -> str:
    """An alarm that went to ALARM on one datapoint and back to OK when data stopped; its name."""
    name = put_alarm(cloudwatch)
    put_value(cloudwatch, alarm_of(cloudwatch, name)["MetricName"], 5.0, at(0.2))
    evaluator.evaluate_all(now=at(1.1))
    evaluator.evaluate_all(now=at(4.1))
    return name


def test_describe_alarm_history_lists_configuration_and_state_updates(cloudwatch):
    name = alarmed_and_recovered(cloudwatch)

    items = cloudwatch.describe_alarm_history(AlarmName=name)["AlarmHistoryItems"]
    states = cloudwatch.describe_alarm_history(
        AlarmName=name, HistoryItemType="StateUpdate", ScanBy="TimestampAscending"
    )["AlarmHistoryItems"]

    assert f'Alarm "{name}" created' in [item["HistorySummary"] for item in items]
    assert [item["HistorySummary"] for item in states] == [
        "Alarm updated from INSUFFICIENT_DATA to ALARM",
        "Alarm updated from ALARM to OK",
    ]
    data = json.loads(states[0]["HistoryData"])
    assert (data["oldState"]["stateValue"], data["newState"]["stateValue"]) == ("INSUFFICIENT_DATA", "ALARM")


def test_describe_alarm_history_filters_by_date_and_pages(cloudwatch):
    name = alarmed_and_recovered(cloudwatch)

    window = cloudwatch.describe_alarm_history(
        AlarmName=name, HistoryItemType="StateUpdate", StartDate=at(3), EndDate=at(5)
    )["AlarmHistoryItems"]
    first = cloudwatch.describe_alarm_history(AlarmName=name, MaxRecords=1)
    second = cloudwatch.describe_alarm_history(AlarmName=name, MaxRecords=1, NextToken=first["NextToken"])

    assert [item["HistorySummary"] for item in window] == ["Alarm updated from ALARM to OK"]
    assert first["AlarmHistoryItems"] != second["AlarmHistoryItems"]


def test_putting_an_existing_alarm_again_keeps_its_state(cloudwatch):
    name = put_alarm(cloudwatch)
    cloudwatch.set_alarm_state(AlarmName=name, StateValue="ALARM", StateReason="test")

    put_alarm(cloudwatch, AlarmName=name, Threshold=3.0)

    alarm = alarm_of(cloudwatch, name)
    assert (alarm["StateValue"], alarm["Threshold"]) == ("ALARM", 3.0)


def test_putting_an_existing_alarm_again_ignores_its_tags_as_aws_does(cloudwatch):
    name = put_alarm(cloudwatch, Tags=[{"Key": "workshop-created-at", "Value": "first-run"}])

    put_alarm(cloudwatch, AlarmName=name, Tags=[{"Key": "workshop-created-at", "Value": "second-run"}])

    arn = alarm_of(cloudwatch, name)["AlarmArn"]
    assert cloudwatch.list_tags_for_resource(ResourceARN=arn)["Tags"] == [
        {"Key": "workshop-created-at", "Value": "first-run"}
    ]


def test_metric_math_alarm_evaluates_the_expression(cloudwatch):
    errors, invocations = unique("Errors"), unique("Invocations")
    stat = {"Namespace": NAMESPACE, "Dimensions": []}
    name = unique("error-rate")
    cloudwatch.put_metric_alarm(
        AlarmName=name,
        EvaluationPeriods=1,
        Threshold=10.0,
        ComparisonOperator="GreaterThanThreshold",
        Metrics=[
            {"Id": "rate", "Expression": "100 * errors / invocations", "ReturnData": True},
            {
                "Id": "errors",
                "MetricStat": {"Metric": {**stat, "MetricName": errors}, "Period": 60, "Stat": "Sum"},
                "ReturnData": False,
            },
            {
                "Id": "invocations",
                "MetricStat": {"Metric": {**stat, "MetricName": invocations}, "Period": 60, "Stat": "Sum"},
                "ReturnData": False,
            },
        ],
    )
    put_value(cloudwatch, errors, 2.0, at(0.2))
    put_value(cloudwatch, invocations, 10.0, at(0.3))

    evaluator.evaluate_all(now=at(1.1))

    alarm = alarm_of(cloudwatch, name)
    assert alarm["StateValue"] == "ALARM"
    assert "[20.0 (" in alarm["StateReason"]


def test_get_metric_statistics_answers_percentiles(cloudwatch):
    metric = unique("Latency")
    cloudwatch.put_metric_data(
        Namespace=NAMESPACE,
        MetricData=[
            {"MetricName": metric, "Values": [float(v) for v in range(1, 1001)], "Timestamp": at(0.5)}
        ],
    )

    points = cloudwatch.get_metric_statistics(
        Namespace=NAMESPACE,
        MetricName=metric,
        StartTime=at(0),
        EndTime=at(1),
        Period=60,
        Statistics=["SampleCount"],
        ExtendedStatistics=["p90", "p99.9"],
    )["Datapoints"]

    assert [(p["SampleCount"], p["ExtendedStatistics"]) for p in points] == [
        (1000.0, {"p90": 900.0, "p99.9": 999.0})
    ]


def test_get_metric_statistics_matches_dimensions_exactly(cloudwatch):
    metric = unique("Invocations")
    put_value(cloudwatch, metric, 1.0, at(0.5))
    put_value(cloudwatch, metric, 10.0, at(0.5), dimensions=[{"Name": "FunctionName", "Value": "f"}])

    points = cloudwatch.get_metric_statistics(
        Namespace=NAMESPACE, MetricName=metric, StartTime=at(0), EndTime=at(1), Period=60, Statistics=["Sum"]
    )["Datapoints"]

    assert [p["Sum"] for p in points] == [1.0]


def test_get_metric_data_answers_a_percentile_and_a_math_expression(cloudwatch):
    latency, errors, invocations = unique("Latency"), unique("Errors"), unique("Invocations")
    cloudwatch.put_metric_data(
        Namespace=NAMESPACE,
        MetricData=[
            {"MetricName": latency, "Values": [float(v) for v in range(1, 101)], "Timestamp": at(0.5)},
            {"MetricName": errors, "Value": 3.0, "Timestamp": at(0.5)},
            {"MetricName": invocations, "Value": 12.0, "Timestamp": at(0.5)},
            {"MetricName": invocations, "Value": 8.0, "Timestamp": at(1.5)},
        ],
    )

    def stat(metric_id: str, metric: str, statistic: str) -> dict:
        return {
            "Id": metric_id,
            "ReturnData": False,
            "MetricStat": {
                "Metric": {"Namespace": NAMESPACE, "MetricName": metric},
                "Period": 60,
                "Stat": statistic,
            },
        }

    results = cloudwatch.get_metric_data(
        StartTime=at(0),
        EndTime=at(2),
        ScanBy="TimestampAscending",
        MetricDataQueries=[
            {**stat("p95", latency, "p95"), "ReturnData": True},
            stat("errors", errors, "Sum"),
            stat("invocations", invocations, "Sum"),
            {"Id": "rate", "Expression": "100 * errors / invocations"},
            {"Id": "filled", "Expression": "100 * FILL(errors, 0) / invocations"},
        ],
    )["MetricDataResults"]

    by_id = {r["Id"]: r["Values"] for r in results}
    assert by_id == {"p95": [95.0], "rate": [25.0], "filled": [25.0, 0.0]}


def test_get_metric_data_filters_by_namespace_when_dimensions_are_given(cloudwatch):
    metric = unique("Invocations")
    dims = [{"Name": "FunctionName", "Value": "f"}]
    cloudwatch.put_metric_data(
        Namespace="Elsewhere",
        MetricData=[{"MetricName": metric, "Value": 99.0, "Timestamp": at(0.5), "Dimensions": dims}],
    )
    put_value(cloudwatch, metric, 1.0, at(0.5), dimensions=dims)

    results = cloudwatch.get_metric_data(
        StartTime=at(0),
        EndTime=at(1),
        MetricDataQueries=[
            {
                "Id": "m",
                "MetricStat": {
                    "Metric": {"Namespace": NAMESPACE, "MetricName": metric, "Dimensions": dims},
                    "Period": 60,
                    "Stat": "Sum",
                },
            }
        ],
    )["MetricDataResults"]

    assert results[0]["Values"] == [1.0]


def test_background_evaluator_changes_alarm_state(cloudwatch):
    name = put_alarm(cloudwatch)
    metric = alarm_of(cloudwatch, name)["MetricName"]
    put_value(cloudwatch, metric, 5.0, datetime.now(UTC) - timedelta(seconds=90))

    evaluator.set_interval(0.05)
    deadline = time.monotonic() + 10
    while alarm_of(cloudwatch, name)["StateValue"] != "ALARM" and time.monotonic() < deadline:
        time.sleep(0.05)

    assert alarm_of(cloudwatch, name)["StateValue"] == "ALARM"

"""CloudWatch's own timing under the aws profile: log events searchable after an ingestion delay,
datapoints visible after a publication delay, each alarm evaluated on its own schedule.

Each test switches the in-process local cloud to the aws profile (time scale 0.05: ingestion
0.05-0.4 s, publication 1-4.5 s) and back; the default local profile keeps everything visible at once.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import boto3
import pytest
from kit_world import any_error_alarm
from notebook_source import SOURCES

from helpers import cloudwatch, dynamodb, reconciliation
from helpers.dynamodb import records
from helpers.errors import WorkshopError
from localcloud import profile
from localcloud.cloudwatch.alarms import evaluator

ROOT = Path(__file__).resolve().parents[3]
SCALE = 0.2  # the shortest delay (log ingestion, 0.2 s) stays long against a loaded machine's jitter
INGESTED_WITHIN_S = profile.DELAYS["log_ingestion"][1] * SCALE + 0.5
PUBLISHED_WITHIN_S = profile.DELAYS["metric_publication"][1] * SCALE + 0.5


def aws_profile(seed: int = 1) -> profile.Profile:
    """The aws profile, seeded, at the test time scale."""
    return profile.from_env(
        {
            "WORKSHOP_LOCAL_PROFILE": "aws",
            "WORKSHOP_LOCAL_SEED": str(seed),
            "WORKSHOP_LOCAL_TIME_SCALE": str(SCALE),
        }
    )


@pytest.fixture()
def aws_timing(local_cloud):
    """The local cloud under the aws profile for one test."""
    old = profile.use(aws_profile())
    yield profile.current()
    profile.use(old)


def put_line(logs, group_name: str, message: dict, at_ms: int | None = None) -> None:
    """Ingest one JSON line."""
    at_ms = at_ms or int(time.time() * 1000)
    logs.put_log_events(
        logGroupName=group_name,
        logStreamName="s",
        logEvents=[{"timestamp": at_ms, "message": json.dumps(message)}],
    )


def filtered(logs, group_name: str) -> list[dict]:
    """What FilterLogEvents finds in the group."""
    return logs.filter_log_events(logGroupName=group_name)["events"]


def got(logs, group_name: str) -> list[dict]:
    """What GetLogEvents returns for the stream."""
    return logs.get_log_events(logGroupName=group_name, logStreamName="s", startFromHead=True)["events"]


def insights_rows(logs, group_name: str) -> list:
    """The rows of a Logs Insights query over the group's last ten minutes."""
    now = int(time.time())
    query_id = logs.start_query(
        logGroupName=group_name, startTime=now - 600, endTime=now + 60, queryString="fields @message"
    )["queryId"]
    return logs.get_query_results(queryId=query_id)["results"]


def eventually(read, within_s: float):
    """Poll read() until it answers something truthy; fail after within_s."""
    deadline = time.monotonic() + within_s
    while True:
        answer = read()
        if answer or time.monotonic() > deadline:
            return answer
        time.sleep(0.05)


def metric_sums(cloudwatch, namespace: str, metric: str) -> list[dict]:
    """GetMetricStatistics Sum per minute over the last ten minutes."""
    now = datetime.now(UTC)
    return cloudwatch.get_metric_statistics(
        Namespace=namespace,
        MetricName=metric,
        StartTime=now - timedelta(minutes=10),
        EndTime=now + timedelta(minutes=1),
        Period=60,
        Statistics=["Sum"],
    )["Datapoints"]


def metric_data(cloudwatch, namespace: str, metric: str) -> list[float]:
    """GetMetricData Sum per minute over the last ten minutes."""
    now = datetime.now(UTC)
    answer = cloudwatch.get_metric_data(
        StartTime=now - timedelta(minutes=10),
        EndTime=now + timedelta(minutes=1),
        MetricDataQueries=[
            {
                "Id": "m",
                "MetricStat": {
                    "Metric": {"Namespace": namespace, "MetricName": metric},
                    "Period": 60,
                    "Stat": "Sum",
                },
            }
        ],
    )
    return answer["MetricDataResults"][0]["Values"]


# ---------------------------------------------------------------- log ingestion


@pytest.mark.parametrize(
    "reader", ["FilterLogEvents", "GetLogEvents", "Logs Insights"], ids=["filter", "get", "insights"]
)
def test_a_reader_does_not_see_an_event_before_it_is_ingested(aws_timing, log_clients, log_group, reader):
    logs, _ = log_clients
    put_line(logs, log_group, {"event": "inference"})
    assert {"FilterLogEvents": filtered, "GetLogEvents": got, "Logs Insights": insights_rows}[reader](
        logs, log_group
    ) == []


def test_a_runtime_log_write_is_not_searchable_at_once(aws_timing, log_clients, log_group):
    from moto.logs.models import logs_backends

    logs, _ = log_clients
    # The Lambda and SageMaker runtimes write their logs through moto's backend, as this does.
    logs_backends["123456789012"]["us-east-1"].put_log_events(
        log_group,
        "s",
        [{"timestamp": int(time.time() * 1000), "message": "START RequestId: r1 Version: $LATEST"}],
    )
    assert filtered(logs, log_group) == []
    assert len(eventually(lambda: filtered(logs, log_group), INGESTED_WITHIN_S)) == 1


def test_an_ingested_event_becomes_searchable_within_the_ingestion_delay(aws_timing, log_clients, log_group):
    logs, _ = log_clients
    put_line(logs, log_group, {"event": "inference", "requestId": "r1"})
    found = eventually(lambda: filtered(logs, log_group), INGESTED_WITHIN_S)
    assert [json.loads(e["message"])["requestId"] for e in found] == ["r1"]
    assert len(got(logs, log_group)) == 1 and len(insights_rows(logs, log_group)) == 1


def test_the_local_profile_shows_an_event_at_once(local_cloud, log_clients, log_group):
    logs, _ = log_clients
    assert not profile.current().aws
    put_line(logs, log_group, {"event": "inference"})
    assert (
        len(filtered(logs, log_group)) == 1
        and len(got(logs, log_group)) == 1
        and len(insights_rows(logs, log_group)) == 1
    )


# ---------------------------------------------------------------- metric publication


def counting_filter(logs, group_name: str) -> str:
    """A metric filter counting the group's inference lines as metric M of a fresh namespace; the namespace."""
    namespace = f"Test/{uuid.uuid4().hex[:12]}"
    logs.put_metric_filter(
        logGroupName=group_name,
        filterName="count",
        filterPattern='{ $.event = "inference" }',
        metricTransformations=[{"metricName": "M", "metricNamespace": namespace, "metricValue": "1"}],
    )
    return namespace


def test_a_metric_filter_datapoint_is_not_published_at_ingestion(aws_timing, log_clients, log_group):
    logs, cloudwatch = log_clients
    namespace = counting_filter(logs, log_group)
    put_line(logs, log_group, {"event": "inference"})
    assert metric_sums(cloudwatch, namespace, "M") == []


def test_a_metric_filter_datapoint_is_published_within_the_delay_at_its_event_time(
    aws_timing, log_clients, log_group
):
    logs, cloudwatch = log_clients
    namespace = counting_filter(logs, log_group)
    event_time = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=2)
    put_line(logs, log_group, {"event": "inference"}, at_ms=int(event_time.timestamp() * 1000) + 5000)
    points = eventually(lambda: metric_sums(cloudwatch, namespace, "M"), PUBLISHED_WITHIN_S)
    assert [(p["Timestamp"], p["Sum"]) for p in points] == [(event_time, 1.0)]


def test_put_metric_data_is_not_visible_to_get_metric_data_at_once(aws_timing, log_clients):
    _, cloudwatch = log_clients
    namespace = f"Test/{uuid.uuid4().hex[:12]}"
    cloudwatch.put_metric_data(Namespace=namespace, MetricData=[{"MetricName": "M", "Value": 3.0}])
    assert metric_data(cloudwatch, namespace, "M") == []
    assert eventually(lambda: metric_data(cloudwatch, namespace, "M"), PUBLISHED_WITHIN_S) == [3.0]


def test_list_metrics_does_not_list_a_metric_before_its_data_is_published(aws_timing, log_clients):
    _, cloudwatch = log_clients
    namespace = f"Test/{uuid.uuid4().hex[:12]}"
    cloudwatch.put_metric_data(Namespace=namespace, MetricData=[{"MetricName": "M", "Value": 1.0}])
    assert cloudwatch.list_metrics(Namespace=namespace)["Metrics"] == []


def test_the_local_profile_publishes_a_datapoint_at_once(local_cloud, log_clients):
    _, cloudwatch = log_clients
    namespace = f"Test/{uuid.uuid4().hex[:12]}"
    cloudwatch.put_metric_data(Namespace=namespace, MetricData=[{"MetricName": "M", "Value": 3.0}])
    assert metric_data(cloudwatch, namespace, "M") == [3.0]


def breaching_alarm(cloudwatch, namespace: str, name: str | None = None) -> str:
    """An alarm on namespace/M that alarms on any Sum above 0 in one 60 s period."""
    return any_error_alarm(cloudwatch, name or f"timing-{uuid.uuid4().hex[:8]}", namespace, "M")


def state(cloudwatch, name: str) -> str:
    return cloudwatch.describe_alarms(AlarmNames=[name])["MetricAlarms"][0]["StateValue"]


def test_alarm_evaluation_does_not_see_an_unpublished_datapoint(aws_timing, log_clients):
    _, cloudwatch = log_clients
    namespace = f"Test/{uuid.uuid4().hex[:12]}"
    name = breaching_alarm(cloudwatch, namespace)
    last_minute = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=1)
    cloudwatch.put_metric_data(
        Namespace=namespace, MetricData=[{"MetricName": "M", "Value": 1.0, "Timestamp": last_minute}]
    )
    evaluator.evaluate_all()
    assert state(cloudwatch, name) == "INSUFFICIENT_DATA"
    time.sleep(PUBLISHED_WITHIN_S)
    evaluator.evaluate_all(now=last_minute + timedelta(minutes=1, seconds=5))
    assert state(cloudwatch, name) == "ALARM"


# ---------------------------------------------------------------- alarm schedules


def test_each_alarm_is_due_once_per_interval_at_its_own_phase():
    schedule = evaluator.Schedule(offset={"a": 0.25, "b": 0.75}.__getitem__)
    interval = 2.0
    due_at = {"a": [], "b": []}
    for step in range(1, 400):
        now = 1000.0 + step * 0.01
        for arn in due_at:
            if schedule.due(arn, now, interval):
                due_at[arn].append(round(now, 1))
    assert due_at == {"a": [1000.5, 1002.5], "b": [1001.5, 1003.5]}


def test_alarms_change_state_at_their_own_phase_of_the_interval(aws_timing, log_clients):
    _, cloudwatch = log_clients
    namespace = f"Test/{uuid.uuid4().hex[:12]}"
    last_minute = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=1)
    cloudwatch.put_metric_data(
        Namespace=namespace, MetricData=[{"MetricName": "M", "Value": 1.0, "Timestamp": last_minute}]
    )
    time.sleep(PUBLISHED_WITHIN_S)
    interval = 3.0  # the evaluator thread may run late on a loaded machine: 15 % of 3 s is 450 ms
    before = evaluator.interval()
    evaluator.set_interval(interval)
    try:
        names = [breaching_alarm(cloudwatch, namespace) for _ in range(3)]
        alarmed = {}
        deadline = time.monotonic() + 4 * interval + 2
        while len(alarmed) < len(names) and time.monotonic() < deadline:
            for found in cloudwatch.describe_alarms(AlarmNames=names)["MetricAlarms"]:
                if found["StateValue"] == "ALARM":
                    alarmed[found["AlarmArn"]] = found["StateUpdatedTimestamp"].timestamp()
            time.sleep(0.05)
    finally:
        evaluator.set_interval(before)
    assert len(alarmed) == len(names)
    for arn, changed_at in alarmed.items():
        share = aws_profile().delay("alarm_offset", arn)  # the first draw for this alarm, as the evaluator's
        phase = (changed_at % interval) / interval
        assert min(abs(phase - share), 1 - abs(phase - share)) < 0.15, (arn, phase, share)


# ---------------------------------------------------------------- the kit survives it: 8.2's backfill


@pytest.fixture()
def outage(local_cloud, metadata_spec):
    """A metadata table (made under the local profile) and a fresh function log group."""
    ddb = boto3.client("dynamodb", endpoint_url=local_cloud, region_name="us-east-1")
    table = f"t-{uuid.uuid4().hex[:10]}"
    dynamodb.ensure_table(metadata_spec(table), client=ddb)
    logs = boto3.client("logs", endpoint_url=local_cloud, region_name="us-east-1")
    group = f"/aws/lambda/t-{uuid.uuid4().hex[:10]}"
    logs.create_log_group(logGroupName=group)
    logs.create_log_stream(logGroupName=group, logStreamName="s")
    return SimpleNamespace(ddb=ddb, logs=logs, table=table, group=group)


def log_write_failures(logs, group_name: str, request_ids: list[str]) -> None:
    """The handler's metadata_write_failed lines for these requests, as 8.2's outage leaves them."""
    now = int(time.time() * 1000)
    events = []
    for i, request_id in enumerate(request_ids):
        record = {
            "requestId": {"S": request_id},
            "timestamp": {"S": "2026-11-27T12:00:00.123Z"},
            "endpointName": {"S": "e"},
            "status": {"S": "ok"},
        }
        events.append(
            {
                "timestamp": now + i,
                "message": json.dumps(
                    {
                        "event": "metadata_write_failed",
                        "record": record,
                        "error": "ResourceNotFoundException: gone",
                    }
                ),
            }
        )
    logs.put_log_events(logGroupName=group_name, logStreamName="s", logEvents=events)


def test_backfill_right_after_an_outage_restores_every_expected_record(outage, aws_timing):
    ids = [f"outage-{i}" for i in range(3)]
    log_write_failures(outage.logs, outage.group, ids)
    summary = dynamodb.backfill_from_logs(
        outage.group, outage.table, client=outage.ddb, logs_client=outage.logs, expect=ids, poll_s=0.05
    )
    assert (summary["restored"], summary["missing"]) == (3, [])
    assert all(records.get_record(outage.table, i, client=outage.ddb) for i in ids)


def test_backfill_names_the_expected_records_it_never_found(outage, aws_timing):
    log_write_failures(outage.logs, outage.group, ["outage-0"])
    with pytest.raises(WorkshopError, match="no metadata_write_failed line for: never-logged") as raised:
        dynamodb.backfill_from_logs(
            outage.group,
            outage.table,
            client=outage.ddb,
            logs_client=outage.logs,
            expect=["outage-0", "never-logged"],
            timeout_s=INGESTED_WITHIN_S,
            poll_s=0.05,
        )
    assert "1 found were restored" in str(raised.value)
    assert records.get_record(outage.table, "outage-0", client=outage.ddb)


def test_backfill_waits_for_an_expected_count(outage, aws_timing):
    log_write_failures(outage.logs, outage.group, ["a", "b"])
    summary = dynamodb.backfill_from_logs(
        outage.group, outage.table, client=outage.ddb, logs_client=outage.logs, expect=2, poll_s=0.05
    )
    assert summary["restored"] == 2


# ---------------------------------------------------------------- the kit survives it: waits on metrics


def test_reconciliation_allows_for_late_publication_under_the_local_aws_profile(monkeypatch):
    monkeypatch.setenv("WORKSHOP_LOCAL_PROFILE", "aws")
    assert reconciliation.published_within_here() == reconciliation.PUBLISHED_WITHIN["aws"]
    monkeypatch.setenv("WORKSHOP_LOCAL_PROFILE", "local")
    assert reconciliation.published_within_here() == reconciliation.PUBLISHED_WITHIN["local"]


def test_alarm_waits_allow_for_the_longest_publication_delay_and_an_evaluation():
    assert cloudwatch.METRIC_LAG_S >= profile.DELAYS["metric_publication"][1] + 60


def test_8_3_alarm_waits_include_the_publication_lag():
    source = (SOURCES / "8.3_monitor_with_cloudwatch.py").read_text()
    waits = re.findall(r"wait_for_alarm\([^)]*timeout_s=([^,]+),", source)
    assert len(waits) == 3 and all("cloudwatch.METRIC_LAG_S" in w for w in waits), waits

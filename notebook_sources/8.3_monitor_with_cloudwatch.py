# %% [markdown]
# # 8.3 · Watch the pipeline with CloudWatch
#
# Records in DynamoDB tell us what happened; CloudWatch tells us **now** when something goes wrong.
# We keep the logs for a sensible time, turn the handler's one JSON line per inference into metrics
# (no extra API call per request), alarm on errors and latency, get notified through SNS, and draw a
# dashboard. Then we deploy a bad model version, watch the alarms fire from the model container's own
# failures, in the Lambda's logs and the endpoint's, roll back and watch them recover.
#
# **You will learn** how to keep logs for a set time, turn log lines into metrics with metric filters
# (and test a filter pattern first), define alarms that mean something (periods, M of N, missing data,
# percentiles) on your own metrics and on SageMaker's, deliver their notifications through SNS to an SQS
# queue (and the queue policy that allows it), draw a dashboard, query the Lambda's and the endpoint's
# logs together with Logs Insights, and watch an alarm fire on a bad deploy and recover after the roll-back.
#
# **How long:** about 30 minutes. The cells run in about 3 minutes on the local cloud and 10 to 18
# minutes on AWS: rolling the bad model version out and back takes two endpoint updates of a few
# minutes each, an alarm judges a period only after it ends, and CloudWatch publishes metrics a
# minute or two late.
#
# **Contents:** [Before you start](#Before-you-start) ·
# [1 · Log groups with a retention](#Step-1-·-Log-groups-with-a-retention) ·
# [2 · Metric filters](#Step-2-·-Metric-filters:-from-log-lines-to-metrics) ·
# [3 · SNS topic and SQS queue](#Step-3-·-Where-notifications-go:-an-SNS-topic-and-an-SQS-queue) ·
# [4 · Alarms](#Step-4-·-Alarms) · [5 · A dashboard](#Step-5-·-A-dashboard) ·
# [6 · Break it, watch the alarm](#Step-6-·-Break-it,-watch-the-alarm-fire,-fix-it,-watch-it-recover) ·
# [7 · Logs Insights](#Step-7-·-Logs-Insights) · [Check](#Check) · [Recap](#Recap)

# %% tags=["parameters"]
import os

# CloudWatch's standard resolution is one datapoint per minute, so the alarms use 60 s periods.
ALARM_PERIOD = int(os.environ.get("WORKSHOP_ALARM_PERIOD", "60"))
EMAIL = ""  # optional, AWS mode: an address to receive the alarm mails too
LOG_RETENTION_DAYS = 14

# %% [markdown]
# ## Before you start
#
# Chapters 8.1 and 8.2 must have run: the function writes records and prints one `inference` line per request.
# `prerequisites.require` checks that first and, when something is missing, names the notebook to run.

# %%
import json

import boto3

from helpers import (
    charts,
    cloudwatch,
    config,
    inventory,
    logs,
    prerequisites,
    sagemaker,
    session,
    show,
    sns,
    sqs,
    traffic,
)

info = session.prepare()
settings = session.settings()
names = settings.names
prerequisites.require("8.3")  # "Run 8.2 first: ..." when the function does not record yet
function_config = boto3.client("lambda").get_function_configuration(FunctionName=names.function)
v2 = names.version(
    config.BAD_VERSION
)  # 8.2's bad model version: its model and endpoint configuration exist
v1_config_name = sagemaker.rollback_target(
    names.endpoint, v2.endpoint_config, names.endpoint_config
)
records_to = function_config["Environment"]["Variables"]["TABLE_NAME"]
print(
    f"function {names.function} records to {records_to}; "
    f"endpoint {names.endpoint} serves {v1_config_name}; alarm period {ALARM_PERIOD} s"
)

# %% [markdown]
# ## Step 1 · Log groups with a retention
#
# Lambda and SageMaker write to log groups named after the function and the endpoint. By default
# AWS keeps logs **forever**, and you pay for the storage: set a retention.

# %% [markdown]
# Two requests per group: `CreateLogGroup` (with the kit's tags; Lambda and SageMaker may have made the
# group already, then the helper only adds the tags it lacks) and `PutRetentionPolicy`, which is
# idempotent, so the cell sends it as it is.

# %%
groups = (names.function_log_group, names.endpoint_log_group)
log_group_specs = [{"logGroupName": g, "tags": settings.tags()} for g in groups]  # CreateLogGroup
retention_specs = [  # PutRetentionPolicy
    {"logGroupName": g, "retentionInDays": LOG_RETENTION_DAYS} for g in groups
]
logs_client = boto3.client("logs")
for log_group_spec, retention_spec in zip(log_group_specs, retention_specs, strict=True):
    logs.ensure_log_group(log_group_spec)
    logs_client.put_retention_policy(**retention_spec)
    described = logs.describe_log_group(log_group_spec["logGroupName"])
    print(
        f"  retention {described.get('retentionInDays')} days, "
        f"{described.get('storedBytes', 0):,} bytes stored"
    )
show.cli_inputs(
    [("logs", "CreateLogGroup", spec) for spec in log_group_specs]
    + [("logs", "PutRetentionPolicy", spec) for spec in retention_specs]
)
logs.recent_events(names.function_log_group, limit=8)

# %% [markdown]
# ## Step 2 · Metric filters: from log lines to metrics
#
# Each inference prints one JSON line such as
# `{"event": "inference", "status": "ok", "latencyMs": 12.3, ...}`. A **metric filter** matches lines
# with a filter pattern and publishes a datapoint for each match, so metrics cost no extra call in
# the handler. First we try each pattern on sample lines with `TestMetricFilter`.

# %%
samples = [
    '{"event": "inference", "requestId": "a", "status": "ok", "latencyMs": 18.5}',
    '{"event": "inference", "requestId": "b", "status": "client_error", "latencyMs": 0.4}',
    '{"event": "inference", "requestId": "c", "status": "model_error", "latencyMs": 7.9}',
    '{"event": "inference", "requestId": "a", "status": "ok", "record": "duplicate"}',
    '{"event": "metadata_write_failed", "record": {"requestId": {"S": "d"}}, "error": "Throttled"}',
    "START RequestId: 6f1c Version: $LATEST",
]
patterns = {
    "InferenceCount": '{ $.event = "inference" }',
    "InferenceErrors": (
        '{ $.event = "inference" && ($.status = "model_error" || $.status = "server_error") }'
    ),
    "InferenceLatency": '{ $.event = "inference" && $.status = "ok" }',
    "MetadataWriteFailures": '{ $.event = "metadata_write_failed" }',
    "DuplicateRequests": '{ $.event = "inference" && $.record = "duplicate" }',
}
for metric, pattern in patterns.items():
    print(f"{metric}: {pattern}")
    display(logs.try_filter(pattern, samples))

# %% [markdown]
# The filters themselves, one `PutMetricFilter` request each (a filter of the same name is replaced,
# so the request is sent as it is). Errors and write failures report **0** (`defaultValue`) in minutes where
# the function logged something but nothing matched, so "no errors" is a real zero on the charts.
# Latency takes its value from the line itself (`$.latencyMs`), in milliseconds. Duplicates count
# retried requests that found their record already written (8.4 uses them to reconcile counts).

# %%
namespace = names.metric_namespace
metric_filters = [  # PutMetricFilter, one request each
    {
        "logGroupName": names.function_log_group,
        "filterName": "inference-count",
        "filterPattern": patterns["InferenceCount"],
        "metricTransformations": [
            {
                "metricName": "InferenceCount",
                "metricNamespace": namespace,
                "metricValue": "1",
                "defaultValue": 0,
                "unit": "Count",
            }
        ],
    },
    {
        "logGroupName": names.function_log_group,
        "filterName": "inference-errors",
        "filterPattern": patterns["InferenceErrors"],
        "metricTransformations": [
            {
                "metricName": "InferenceErrors",
                "metricNamespace": namespace,
                "metricValue": "1",
                "defaultValue": 0,
                "unit": "Count",
            }
        ],
    },
    {
        "logGroupName": names.function_log_group,
        "filterName": "inference-latency",
        "filterPattern": patterns["InferenceLatency"],
        "metricTransformations": [
            {
                "metricName": "InferenceLatency",
                "metricNamespace": namespace,
                "metricValue": "$.latencyMs",
                "unit": "Milliseconds",
            }
        ],
    },
    {
        "logGroupName": names.function_log_group,
        "filterName": "metadata-write-failures",
        "filterPattern": patterns["MetadataWriteFailures"],
        "metricTransformations": [
            {
                "metricName": "MetadataWriteFailures",
                "metricNamespace": namespace,
                "metricValue": "1",
                "defaultValue": 0,
                "unit": "Count",
            }
        ],
    },
    {
        "logGroupName": names.function_log_group,
        "filterName": "duplicate-requests",
        "filterPattern": patterns["DuplicateRequests"],
        "metricTransformations": [
            {
                "metricName": "DuplicateRequests",
                "metricNamespace": namespace,
                "metricValue": "1",
                "defaultValue": 0,
                "unit": "Count",
            }
        ],
    },
]
show.cli_inputs([("logs", "PutMetricFilter", spec) for spec in metric_filters])
logs.ensure_metric_filters(metric_filters)

# %% [markdown]
# ## Step 3 · Where notifications go: an SNS topic and an SQS queue
#
# Alarms publish to an SNS topic. We subscribe an SQS queue so this notebook can read its own
# notifications; in AWS mode you may add your e-mail (it stays *PendingConfirmation* until you
# click the link AWS mails you: SNS never mails anyone who did not confirm).

# %%
topic_spec = {"Name": names.topic, "Tags": settings.tag_list()}  # CreateTopic
queue_spec = {"QueueName": names.queue, "tags": settings.tags()}  # CreateQueue
topic_arn = sns.ensure_topic(topic_spec)
queue_url, queue_arn = sqs.ensure_queue(queue_spec)
print(topic_arn)
print(queue_arn, end="\n\n")
show.cli_inputs([("sns", "CreateTopic", topic_spec), ("sqs", "CreateQueue", queue_spec)])

# %% [markdown]
# A queue accepts messages only from whom its **queue policy** allows: by default, from its own
# account's users and roles, and SNS is neither. Without this policy the subscription below is
# confirmed and alarms publish, but the topic delivers **nothing** to the queue, and nothing says why.
# The statement lets the service principal `sns.amazonaws.com` call `sqs:SendMessage` on this
# queue only when the message comes from our topic (`aws:SourceArn`): no other topic can write to it.
# `SetQueueAttributes` replaces the policy, so the request is sent as it is.

# %%
queue_policy = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "AlarmTopicMaySend",
            "Effect": "Allow",
            "Principal": {"Service": "sns.amazonaws.com"},
            "Action": "sqs:SendMessage",
            "Resource": queue_arn,
            "Condition": {"ArnEquals": {"aws:SourceArn": topic_arn}},
        }
    ],
}
queue_policy_spec = {  # SetQueueAttributes: the policy travels as JSON text
    "QueueUrl": queue_url,
    "Attributes": {"Policy": json.dumps(queue_policy)},
}
boto3.client("sqs").set_queue_attributes(**queue_policy_spec)

subscription_spec = {  # Subscribe
    "TopicArn": topic_arn,
    "Protocol": "sqs",
    "Endpoint": queue_arn,
    "ReturnSubscriptionArn": True,
}
print(sns.ensure_subscription(subscription_spec)["SubscriptionArn"], end="\n\n")
show.cli_inputs(
    [("sqs", "SetQueueAttributes", queue_policy_spec), ("sns", "Subscribe", subscription_spec)]
)
if EMAIL:
    print(sns.ensure_subscription({"TopicArn": topic_arn, "Protocol": "email", "Endpoint": EMAIL}))

# %% [markdown]
# ## Step 4 · Alarms
#
# Each alarm says what it watches, over which period, how many datapoints must breach, and what
# **missing data** means:
#
# - **Inference errors** — any model or server error in a period. Missing data is *not breaching*: no
#   traffic means no errors.
# - **Latency p90** — the slowest 10 % above 500 ms in 3 of the last 5 periods (one slow minute is noise,
#   three is a trend). Percentiles from very few samples are unreliable, so periods with too few
#   requests are ignored (`EvaluateLowSampleCountPercentile`), and missing data keeps the alarm as it is.
# - **Lambda errors** — the function itself crashed or timed out (AWS/Lambda `Errors`).
# - **Endpoint 4XX** — the model container refused requests (AWS/SageMaker `Invocation4XXErrors`): a model
#   that does not fit what the handler sends, as in 8.2's bad deploy. SageMaker publishes it itself.
# - **Endpoint 5XX** — the model container answered a server error (AWS/SageMaker).
# - **Metadata write failures** — records went to the logs instead of DynamoDB: run the backfill.

# %%
actions = {"AlarmActions": [topic_arn], "OKActions": [topic_arn]}
tags = settings.tag_list()
alarm_specs = [  # PutMetricAlarm, one request each (an alarm of the same name is replaced)
    {
        "AlarmName": names.alarm("inference-errors"),
        "AlarmDescription": "Model or server errors in the inference Lambda (chapter 8.3).",
        "Namespace": namespace,
        "MetricName": "InferenceErrors",
        "Statistic": "Sum",
        "Period": ALARM_PERIOD,
        "EvaluationPeriods": 1,
        "DatapointsToAlarm": 1,
        "ComparisonOperator": "GreaterThanThreshold",
        "Threshold": 0,
        "TreatMissingData": "notBreaching",
        **actions,
        "Tags": tags,
    },
    {
        "AlarmName": names.alarm("inference-latency-p90"),
        "AlarmDescription": "p90 inference latency above 500 ms in 3 of 5 periods.",
        "Namespace": namespace,
        "MetricName": "InferenceLatency",
        "ExtendedStatistic": "p90",
        "Period": ALARM_PERIOD,
        "EvaluationPeriods": 5,
        "DatapointsToAlarm": 3,
        "ComparisonOperator": "GreaterThanThreshold",
        "Threshold": 500,
        "Unit": "Milliseconds",
        "TreatMissingData": "ignore",
        "EvaluateLowSampleCountPercentile": "ignore",
        **actions,
        "Tags": tags,
    },
    {
        "AlarmName": names.alarm("lambda-errors"),
        "AlarmDescription": "The inference function crashed or timed out.",
        "Namespace": "AWS/Lambda",
        "MetricName": "Errors",
        "Statistic": "Sum",
        "Dimensions": [{"Name": "FunctionName", "Value": names.function}],
        "Period": ALARM_PERIOD,
        "EvaluationPeriods": 1,
        "ComparisonOperator": "GreaterThanThreshold",
        "Threshold": 0,
        "TreatMissingData": "notBreaching",
        **actions,
        "Tags": tags,
    },
    {
        "AlarmName": names.alarm("endpoint-4xx"),
        "AlarmDescription": (
            "The model container refused requests (a model that does not fit the handler?)."
        ),
        "Namespace": "AWS/SageMaker",
        "MetricName": "Invocation4XXErrors",
        "Statistic": "Sum",
        "Dimensions": [
            {"Name": "EndpointName", "Value": names.endpoint},
            {"Name": "VariantName", "Value": "AllTraffic"},
        ],
        "Period": ALARM_PERIOD,
        "EvaluationPeriods": 1,
        "ComparisonOperator": "GreaterThanThreshold",
        "Threshold": 0,
        "TreatMissingData": "notBreaching",
        **actions,
        "Tags": tags,
    },
    {
        "AlarmName": names.alarm("endpoint-5xx"),
        "AlarmDescription": "The model container answered server errors.",
        "Namespace": "AWS/SageMaker",
        "MetricName": "Invocation5XXErrors",
        "Statistic": "Sum",
        "Dimensions": [
            {"Name": "EndpointName", "Value": names.endpoint},
            {"Name": "VariantName", "Value": "AllTraffic"},
        ],
        "Period": ALARM_PERIOD,
        "EvaluationPeriods": 1,
        "ComparisonOperator": "GreaterThanThreshold",
        "Threshold": 0,
        "TreatMissingData": "notBreaching",
        **actions,
        "Tags": tags,
    },
    {
        "AlarmName": names.alarm("metadata-write-failures"),
        "AlarmDescription": (
            "Inference records could not be written to DynamoDB: "
            "run helpers.dynamodb.backfill_from_logs."
        ),
        "Namespace": namespace,
        "MetricName": "MetadataWriteFailures",
        "Statistic": "Sum",
        "Period": ALARM_PERIOD,
        "EvaluationPeriods": 1,
        "ComparisonOperator": "GreaterThanThreshold",
        "Threshold": 0,
        "TreatMissingData": "notBreaching",
        **actions,
        "Tags": tags,
    },
]
show.cli_inputs([("cloudwatch", "PutMetricAlarm", spec) for spec in alarm_specs])
cloudwatch.ensure_alarms(alarm_specs)

# %% [markdown]
# ## Step 5 · A dashboard
#
# One page with the pipeline's vital signs: the body is a JSON document of widgets, which
# `PutDashboard` takes as text (`DashboardBody`). In AWS mode open it in the console (link below); the
# cell after draws the same widgets from `GetMetricData`, which works in both clouds.

# %%
lambda_dims = ["FunctionName", names.function]
endpoint_dims = ["EndpointName", names.endpoint, "VariantName", "AllTraffic"]
api_dims = ["ApiName", names.api, "Stage", "prod"]  # API Gateway publishes per API name and stage
alarm_by_metric = {spec["MetricName"]: spec for spec in alarm_specs}


def threshold_line(metric: str) -> dict:
    """A horizontal annotation at the threshold of the alarm on metric (CloudWatch draws alarms so)."""
    alarm = alarm_by_metric[metric]
    return {
        "label": f"{alarm['AlarmName']} alarm above {alarm['Threshold']:g}",
        "value": alarm["Threshold"],
    }


dashboard_body = {
    "widgets": [
        {
            "type": "metric",
            "x": 0,
            "y": 0,
            "width": 12,
            "height": 6,
            "properties": {
                "title": "Inferences and errors (count per period)",
                "region": settings.region,
                "period": ALARM_PERIOD,
                "metrics": [
                    [namespace, "InferenceCount", {"stat": "Sum", "label": "inferences"}],
                    [namespace, "InferenceErrors", {"stat": "Sum", "label": "errors"}],
                    [
                        namespace,
                        "MetadataWriteFailures",
                        {"stat": "Sum", "label": "write failures"},
                    ],
                ],
                "yAxis": {"left": {"label": f"count per {ALARM_PERIOD} s", "showUnits": False}},
                "annotations": {"horizontal": [threshold_line("InferenceErrors")]},
            },
        },
        {
            "type": "metric",
            "x": 12,
            "y": 0,
            "width": 12,
            "height": 6,
            "properties": {
                "title": "Inference latency, whole handler",
                "region": settings.region,
                "period": ALARM_PERIOD,
                "metrics": [
                    [namespace, "InferenceLatency", {"stat": "p50", "label": "p50"}],
                    [namespace, "InferenceLatency", {"stat": "p90", "label": "p90"}],
                    [namespace, "InferenceLatency", {"stat": "p99", "label": "p99"}],
                ],
                "yAxis": {"left": {"label": "ms", "showUnits": False}},
                "annotations": {"horizontal": [threshold_line("InferenceLatency")]},
            },
        },
        {
            "type": "metric",
            "x": 0,
            "y": 6,
            "width": 12,
            "height": 6,
            "properties": {
                # SageMaker reports ModelLatency in microseconds: metric math divides by 1,000.
                "title": "Endpoint model latency (SageMaker's µs ÷ 1,000 = ms)",
                "region": settings.region,
                "period": ALARM_PERIOD,
                "metrics": [
                    [
                        "AWS/SageMaker",
                        "ModelLatency",
                        *endpoint_dims,
                        {"stat": "Average", "id": "average_us", "visible": False},
                    ],
                    [
                        "AWS/SageMaker",
                        "ModelLatency",
                        *endpoint_dims,
                        {"stat": "p90", "id": "p90_us", "visible": False},
                    ],
                    [{"expression": "average_us / 1000", "label": "average", "id": "average_ms"}],
                    [{"expression": "p90_us / 1000", "label": "p90", "id": "p90_ms"}],
                ],  # fmt: skip
                "yAxis": {"left": {"label": "ms", "showUnits": False}},
            },
        },
        {
            "type": "metric",
            "x": 12,
            "y": 6,
            "width": 12,
            "height": 6,
            "properties": {
                "title": "Lambda invocations and errors (count per period)",
                "region": settings.region,
                "period": ALARM_PERIOD,
                "metrics": [
                    [
                        "AWS/Lambda",
                        "Invocations",
                        *lambda_dims,
                        {"stat": "Sum", "label": "invocations"},
                    ],
                    ["AWS/Lambda", "Errors", *lambda_dims, {"stat": "Sum", "label": "errors"}],
                ],
                "yAxis": {"left": {"label": f"count per {ALARM_PERIOD} s", "showUnits": False}},
                "annotations": {"horizontal": [threshold_line("Errors")]},
            },
        },
        {
            "type": "metric",
            "x": 0,
            "y": 12,
            "width": 12,
            "height": 6,
            "properties": {
                "title": "API requests and errors (count per period)",
                "region": settings.region,
                "period": ALARM_PERIOD,
                "metrics": [
                    ["AWS/ApiGateway", "Count", *api_dims, {"stat": "Sum", "label": "requests"}],
                    ["AWS/ApiGateway", "4XXError", *api_dims, {"stat": "Sum", "label": "4XX"}],
                    ["AWS/ApiGateway", "5XXError", *api_dims, {"stat": "Sum", "label": "5XX"}],
                ],
                "yAxis": {"left": {"label": f"count per {ALARM_PERIOD} s", "showUnits": False}},
            },
        },
        {
            "type": "metric",
            "x": 12,
            "y": 12,
            "width": 12,
            "height": 6,
            "properties": {
                "title": "Endpoint invocations and container errors",
                "region": settings.region,
                "period": ALARM_PERIOD,
                "metrics": [
                    [
                        "AWS/SageMaker",
                        "Invocations",
                        *endpoint_dims,
                        {"stat": "Sum", "label": "invocations"},
                    ],
                    [
                        "AWS/SageMaker",
                        "Invocation4XXErrors",
                        *endpoint_dims,
                        {"stat": "Sum", "label": "4XX"},
                    ],
                    [
                        "AWS/SageMaker",
                        "Invocation5XXErrors",
                        *endpoint_dims,
                        {"stat": "Sum", "label": "5XX"},
                    ],
                ],
                "yAxis": {"left": {"label": f"count per {ALARM_PERIOD} s", "showUnits": False}},
            },
        },
        {
            "type": "alarm",
            "x": 0,
            "y": 18,
            "width": 24,
            "height": 6,
            "properties": {
                "title": "Alarms",
                "alarms": [
                    session.arn("cloudwatch", f"alarm:{s['AlarmName']}") for s in alarm_specs
                ],
            },
        },
    ]
}
dashboard_spec = {  # PutDashboard: the body travels as JSON text
    "DashboardName": names.dashboard,
    "DashboardBody": json.dumps(dashboard_body),
}
print(cloudwatch.put_dashboard(dashboard_spec) or "dashboard saved", end="\n\n")
show.cli_inputs([("cloudwatch", "PutDashboard", dashboard_spec)])
print(
    session.console_url(f"cloudwatch/home#dashboards/dashboard/{names.dashboard}")
    or "Local mode: the dashboard is drawn below from GetMetricData."
)

# %% [markdown]
# ## Step 6 · Break it, watch the alarm fire, fix it, watch it recover
#
# First some healthy traffic (with a few bad requests: those are the callers' fault, they are
# `client_error` and do **not** count as inference errors). The errors alarm starts in
# `INSUFFICIENT_DATA` and settles to `OK`. The notifications the new alarms sent until then are set
# aside, so that the ones we read below belong to this experiment.

# %%
errors_alarm = names.alarm("inference-errors")
print(traffic.run(n=40, concurrency=4, bad_share=0.1, seed=1))
with traffic.background(rate_per_s=2):  # healthy requests keep flowing while we wait
    settled = cloudwatch.wait_for_alarm(
        errors_alarm,
        "OK",
        timeout_s=4 * ALARM_PERIOD + cloudwatch.METRIC_LAG_S,
        why="A new alarm needs one evaluation after its first period ends.",
    )
settled_at = settled.get("StateTransitionedTimestamp", settled["StateUpdatedTimestamp"])
print(f"drained {sqs.drain(queue_url, before=settled_at)} earlier notifications")
cloudwatch.alarm_states([s["AlarmName"] for s in alarm_specs])

# %% [markdown]
# Now the bad deploy of 8.2 goes out again: model version 2, which knows three features while the
# handler sends four. `UpdateEndpoint` points the endpoint at version 2's configuration (the helper
# waits until it serves it: minutes in AWS), and every request fails **in the model container**: a
# `400` from XGBoost, `ModelError` for the Lambda, `502` for the client. CloudWatch evaluates a period
# once it has **ended**, and publishes the datapoints a minute or two late (the wait below allows for
# both), so the alarm fires a period and a bit after the errors.

# %%
sagemaker.deploy(names.endpoint, v2.endpoint_config)  # the roll-out: UpdateEndpoint to version 2
failing = traffic.run(n=30, concurrency=4, seed=2)
print(failing)
alarm = cloudwatch.wait_for_alarm(
    errors_alarm,
    "ALARM",
    timeout_s=3 * ALARM_PERIOD + cloudwatch.METRIC_LAG_S,
    why="The errors must land in a period that has ended.",
)
print(alarm["StateReason"])

# %% [markdown]
# The notification, as SNS delivered it to the queue (an e-mail subscriber gets the same text):


# %%
def notes_of(change: dict) -> list[dict]:
    """The notifications of one alarm state change, as wait_for_alarm returned it.

    SNS delivers some time after the change, and the other alarms notify too, whenever their own
    state changes: wait (bounded) for this change's note, leave theirs in the queue, and skip older
    notes about this alarm (a previous run's, say).
    """
    changed_at = change.get("StateTransitionedTimestamp", change["StateUpdatedTimestamp"])
    return sqs.receive_notifications(
        queue_url,
        alarm=change["AlarmName"],
        state=change["StateValue"],
        since=changed_at,
        timeout_s=60 + ALARM_PERIOD,
    )


alarm_notes = notes_of(alarm)
note = alarm_notes[0]
print(note["Subject"])
print(
    json.dumps(
        {
            k: note["Message"][k]
            for k in (
                "AlarmName",
                "NewStateValue",
                "OldStateValue",
                "NewStateReason",
                "StateChangeTime",
            )
        },
        indent=2,
    )
)
print(json.dumps(note["Message"]["Trigger"], indent=2))

# %% [markdown]
# The endpoint's own alarm saw the same failures, from SageMaker's `Invocation4XXErrors`:

# %%
endpoint_alarm = cloudwatch.wait_for_alarm(
    names.alarm("endpoint-4xx"),
    "ALARM",
    timeout_s=3 * ALARM_PERIOD + cloudwatch.METRIC_LAG_S,
    why="SageMaker publishes the endpoint's metrics once a minute.",
)
print(
    f"{endpoint_alarm['Namespace']} {endpoint_alarm['MetricName']}: {endpoint_alarm['StateReason']}"
)

# %% [markdown]
# Fix it: roll back to the version that served before (`UpdateEndpoint` again) and keep healthy traffic
# flowing. Why keep traffic flowing? When some
# datapoints are missing, CloudWatch evaluates the **most recent real datapoints** in its evaluation
# range, and `TreatMissingData` is not used. With no traffic at all, the last real datapoint stays the
# failing period until it drops out of the range (a few periods). With healthy traffic, the errors
# filter reports a real **0** (its `defaultValue`) as soon as the next period ends, and the alarm
# returns to `OK` — which is notified too.

# %%
sagemaker.deploy(names.endpoint, v1_config_name)  # the roll-back
with traffic.background(rate_per_s=2) as healthy:
    recovered = cloudwatch.wait_for_alarm(
        errors_alarm,
        "OK",
        timeout_s=4 * ALARM_PERIOD + cloudwatch.METRIC_LAG_S,
        why="A period after the failures must end with traffic and without errors.",
    )
print(f"healthy requests sent while waiting: {healthy.sent}")
ok_notes = notes_of(recovered)
print(ok_notes[0]["Subject"])
print(ok_notes[0]["Message"]["NewStateReason"])

# %%
cloudwatch.history(errors_alarm, limit=5)

# %% [markdown]
# The dashboard's widgets, drawn from the same metrics:

# %%
figure = cloudwatch.render_dashboard(dashboard_body, alarms=alarm_specs)
print("saved as", show.short_path(charts.save(figure, "8.3_dashboard")))

# %% [markdown]
# ## Step 7 · Logs Insights
#
# For questions the metrics do not answer, query the logs themselves. **Logs Insights** runs a query
# over a log group's events in a time range: commands joined by `|` (`fields`, `filter`, `stats ... by`,
# `sort`, `limit`), on fields it discovers in each line — here the keys of the handler's JSON line,
# plus `@timestamp` and `@message`. Two examples: the ten slowest successful requests, and the
# requests per five minutes (`bin(5m)`) and status; the second shows the failures of Step 6.

# %%
slowest = """fields @timestamp, requestId, latencyMs, modelLatencyMs, variantName
| filter event = "inference" and status = "ok"
| sort latencyMs desc
| limit 10"""
error_mix = """filter event = "inference"
| stats count(*) as requests by bin(5m), status
| sort status"""
for query in (slowest, error_mix):
    display(logs.insights(names.function_log_group, query))

# %% [markdown]
# **Both halves at once.** One query can read several log groups: here the Lambda's and the endpoint's.
# It follows the last failed request from the API to the container: the handler's line for the request
# (`status`, `errorType` `ModelError`) and, at the same moment in `/aws/sagemaker/Endpoints/<endpoint>`, the
# container's own error line (`Unable to evaluate payload provided: ... Number of columns does not match
# number of features in booster`). `@log` names the group of each line. The container writes there because
# 00_setup gave the model's execution role the logs permissions SageMaker documents.

# %%
last_failure = logs.insights(
    names.function_log_group,
    """fields @timestamp, requestId
| filter event = "inference" and errorType = "ModelError"
| sort @timestamp desc
| limit 1""",
)
failed_request = last_failure["requestId"].iloc[0]
follow = f"""fields @timestamp, @log, @message
| filter requestId = "{failed_request}" or @message like "Unable to evaluate payload"
| sort @timestamp desc
| limit 3"""
both_halves = logs.insights([names.function_log_group, names.endpoint_log_group], follow)
for row in both_halves.itertuples():
    print(f"{row[1]}  {row[2].split(':', 1)[1]}\n    {row[3]}")

# %% [markdown]
# ## Check
#
# The errors alarm went OK → ALARM → OK from the model container's own failures, and both notifications
# arrived; the endpoint's log group holds the container's error lines.

# %%
summaries = list(cloudwatch.history(errors_alarm, limit=10)["summary"])
assert (
    "Alarm updated from OK to ALARM" in summaries and "Alarm updated from ALARM to OK" in summaries
), summaries
assert note["Subject"].startswith(f'ALARM: "{errors_alarm}"') and ok_notes[0]["Subject"].startswith(
    f'OK: "{errors_alarm}"'
)
groups = set(both_halves["@log"].str.split(":").str[-1])
assert groups == {names.function_log_group, names.endpoint_log_group}, groups
assert endpoint_alarm["StateValue"] == "ALARM"
print(
    "✔ The errors alarm fired on the model container's failures and recovered; "
    "both notifications arrived through SNS; the endpoint's logs show the container's errors."
)

# %% [markdown]
# ## Recap
#
# Now exists: log retention on the function's and the endpoint's log groups, five metric filters in
# `MLWorkshop/<prefix>`, six alarms notifying `<prefix>-pipeline-alarms`, an SQS inbox subscribed to it,
# and the `<prefix>-inference-pipeline` dashboard. In AWS, the dashboard costs `$3` per month and custom
# metrics `$0.30` per metric-month; the alarms, priced by the kit's inventory (a standard-resolution alarm
# costs the same whatever its statistic, p90 included):

# %%
print(inventory.alarm_prices(alarm_specs))

# %% [markdown]
# **In the AWS console:** CloudWatch → Alarms; CloudWatch → Dashboards; CloudWatch → Log groups → *Metric filters*.

# %% [markdown]
# The requests this notebook made to build the monitoring, in order (each step printed its AWS CLI
# command: the `--cli-input-json` is the spec, as sent):

# %%
requests_made = [
    *[("logs", "CreateLogGroup", spec) for spec in log_group_specs],
    *[("logs", "PutRetentionPolicy", spec) for spec in retention_specs],
    *[("logs", "PutMetricFilter", spec) for spec in metric_filters],
    ("sns", "CreateTopic", topic_spec),
    ("sqs", "CreateQueue", queue_spec),
    ("sqs", "SetQueueAttributes", queue_policy_spec),
    ("sns", "Subscribe", subscription_spec),
    *[("cloudwatch", "PutMetricAlarm", spec) for spec in alarm_specs],
    ("cloudwatch", "PutDashboard", dashboard_spec),
]
print(" → ".join(operation for _, operation, _ in requests_made))

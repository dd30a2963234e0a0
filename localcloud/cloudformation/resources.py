"""The resource types of the chapter's template that moto's CloudFormation skips or only half creates.

Each type says how CloudFormation creates, updates and deletes it, through the service's own backend
(given as an argument, so nothing here imports moto): the calls are the ones the API would make, so the
local cloud's other behaviours (alarm evaluation, metric filters turning log lines into datapoints, the
queue policy SNS delivery checks, IAM that a Lambda runs under) apply to stack resources as well.

Written against the CloudFormation resource reference (docs.aws.amazon.com/AWSCloudFormation/latest/
UserGuide/aws-resource-cloudwatch-alarm.html, aws-resource-logs-metricfilter.html,
aws-resource-sns-subscription.html, aws-resource-sqs-queuepolicy.html, aws-resource-dynamodb-table.html
and aws-resource-iam-role.html).
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from typing import Any

Props = Mapping[str, Any]

# The properties whose change makes CloudFormation replace the resource ("Update requires: Replacement"
# in each type's reference page); any other property is updated in place.
REPLACED_BY = {
    "AWS::CloudWatch::Alarm": frozenset({"AlarmName"}),
    "AWS::Logs::MetricFilter": frozenset({"FilterName", "LogGroupName"}),
    "AWS::SNS::Subscription": frozenset({"Endpoint", "Protocol", "TopicArn"}),
    "AWS::SQS::QueuePolicy": frozenset(),
    "AWS::DynamoDB::Table": frozenset({"TableName", "KeySchema"}),
    "AWS::IAM::Role": frozenset({"RoleName", "Path"}),
    "AWS::Logs::LogGroup": frozenset({"LogGroupName"}),
    "AWS::Lambda::Function": frozenset({"FunctionName"}),
    "AWS::SNS::Topic": frozenset({"TopicName"}),
    "AWS::SQS::Queue": frozenset({"QueueName", "FifoQueue"}),
    "AWS::CloudWatch::Dashboard": frozenset({"DashboardName"}),
    "AWS::ApiGateway::Stage": frozenset({"RestApiId", "StageName"}),
}


def _number(value: Any) -> Any:
    """A template number (parameters arrive as strings) as an int or float."""
    if isinstance(value, str):
        return float(value) if "." in value else int(value)
    return value


def alarm_request(props: Props) -> dict[str, Any]:
    """An AWS::CloudWatch::Alarm's properties as the PutMetricAlarm arguments of moto's backend."""
    return {
        "name": props["AlarmName"],
        "namespace": props.get("Namespace"),
        "metric_name": props.get("MetricName"),
        "comparison_operator": props["ComparisonOperator"],
        "evaluation_periods": _number(props["EvaluationPeriods"]),
        "period": _number(props.get("Period")) if props.get("Period") is not None else None,
        "threshold": float(_number(props.get("Threshold", 0))),
        "statistic": props.get("Statistic"),
        "description": props.get("AlarmDescription", ""),
        "dimensions": [{"Name": d["Name"], "Value": d["Value"]} for d in props.get("Dimensions", [])],
        "alarm_actions": list(props.get("AlarmActions", [])),
        "datapoints_to_alarm": _number(props["DatapointsToAlarm"]) if "DatapointsToAlarm" in props else None,
        "extended_statistic": props.get("ExtendedStatistic"),
        "ok_actions": list(props.get("OKActions", [])),
        "insufficient_data_actions": list(props.get("InsufficientDataActions", [])),
        "unit": props.get("Unit"),
        "actions_enabled": props.get("ActionsEnabled", True) not in (False, "false"),
        "treat_missing_data": props.get("TreatMissingData"),
        "evaluate_low_sample_count_percentile": props.get("EvaluateLowSampleCountPercentile"),
        "tags": [{"Key": t["Key"], "Value": t["Value"]} for t in props.get("Tags", [])],
    }


def put_alarm(cloudwatch: Any, props: Props) -> str:
    """Create or replace the alarm (an existing one keeps its state); return its name, the physical id."""
    request = alarm_request(props)
    cloudwatch.put_metric_alarm(**request)
    name: str = request["name"]
    return name


def delete_alarm(cloudwatch: Any, name: str) -> None:
    """Delete the alarm."""
    cloudwatch.delete_alarms([name])


def metric_transformations(props: Props) -> list[dict[str, Any]]:
    """An AWS::Logs::MetricFilter's MetricTransformations as PutMetricFilter's metricTransformations."""
    return [
        {key[0].lower() + key[1:]: value for key, value in t.items()} for t in props["MetricTransformations"]
    ]


def put_metric_filter(logs: Any, props: Props) -> str:
    """Create or replace the metric filter; return its name, the physical id."""
    name = props.get("FilterName") or f"{props['LogGroupName']}-filter"
    logs.put_metric_filter(name, props["FilterPattern"], props["LogGroupName"], metric_transformations(props))
    found: str = name
    return found


def delete_metric_filter(logs: Any, name: str, group: str) -> None:
    """Delete the metric filter."""
    logs.delete_metric_filter(name, group)


def subscribe(sns: Any, props: Props) -> str:
    """Subscribe the endpoint to the topic, with the subscription attributes given; return its ARN."""
    subscription = sns.subscribe(props["TopicArn"], props["Endpoint"], props["Protocol"])
    for name in ("RawMessageDelivery", "FilterPolicy", "RedrivePolicy", "FilterPolicyScope"):
        if name in props:
            value = props[name]
            text = json.dumps(value) if isinstance(value, Mapping) else str(value).lower()
            sns.set_subscription_attributes(subscription.arn, name, text)
    arn: str = subscription.arn
    return arn


def queue_name(url: str) -> str:
    """The queue's name from its URL (the physical id of an AWS::SQS::Queue)."""
    return url.rstrip("/").rsplit("/", 1)[-1]


def set_queue_policies(sqs: Any, queues: Sequence[str], document: Any) -> None:
    """Set the policy on each queue (QueuePolicy's Queues are URLs)."""
    text = document if isinstance(document, str) else json.dumps(document)
    for url in queues:
        sqs.set_queue_attributes(queue_name(url), {"Policy": text})


def clear_queue_policies(sqs: Any, queues: Sequence[str]) -> None:
    """Remove the policy from each queue still there (deleting a QueuePolicy)."""
    for url in queues:
        try:
            sqs.set_queue_attributes(queue_name(url), {"Policy": ""})
        except Exception as exc:  # the queue went first: nothing left to clear
            if "NonExistentQueue" not in type(exc).__name__ and "does not exist" not in str(exc):
                raise


def table_settings(dynamodb: Any, name: str, props: Props, wait_s: float = 300.0) -> None:
    """Apply a table's TimeToLiveSpecification and PointInTimeRecoverySpecification (separate API calls).

    As CloudFormation does, wait (bounded) while DynamoDB refuses backups for a table it has just created
    (ContinuousBackupsUnavailableException), then enable them.
    """
    ttl = props.get("TimeToLiveSpecification")
    if ttl and ttl.get("Enabled") in (True, "true"):
        dynamodb.update_time_to_live(name, {"AttributeName": ttl.get("AttributeName"), "Enabled": True})
    pitr = props.get("PointInTimeRecoverySpecification")
    if not pitr or pitr.get("PointInTimeRecoveryEnabled") not in (True, "true"):
        return
    deadline = time.monotonic() + wait_s
    while True:
        try:
            dynamodb.update_continuous_backups(name, {"PointInTimeRecoveryEnabled": True})
            return
        except Exception as exc:
            if (
                "ContinuousBackupsUnavailable" not in type(exc).__name__ + str(exc)
                or time.monotonic() > deadline
            ):
                raise
            time.sleep(1.0)


def create_stage(apigateway: Any, props: Props) -> str:
    """An AWS::ApiGateway::Stage: CreateStage on its deployment; the stage's name is its physical id."""
    tags = {t["Key"]: t["Value"] for t in props.get("Tags", [])}
    apigateway.create_stage(
        props["RestApiId"],
        props["StageName"],
        props["DeploymentId"],
        variables=props.get("Variables"),
        description=props.get("Description", ""),
        tags=tags or None,
        tracing_enabled=props.get("TracingEnabled"),
    )
    name: str = props["StageName"]
    return name


def delete_stage(apigateway: Any, api_id: str, name: str) -> None:
    """Delete the stage, unless its API went first."""
    if api_id in apigateway.apis:
        apigateway.delete_stage(api_id, name)


def role_policies(props: Props) -> list[dict[str, Any]]:
    """A role's inline Policies with each document as JSON text, as PutRolePolicy stores it."""
    return [
        {
            **p,
            "PolicyDocument": p["PolicyDocument"]
            if isinstance(p["PolicyDocument"], str)
            else json.dumps(p["PolicyDocument"]),
        }
        for p in props.get("Policies", [])
    ]


def attach_managed(iam: Any, role: str, arns: Sequence[str]) -> None:
    """Attach each managed policy to the role (AWS::IAM::Role's ManagedPolicyArns)."""
    for arn in arns:
        iam.attach_role_policy(arn, role)


def detach_managed(iam: Any, role: str, arns: Sequence[str]) -> None:
    """Detach the managed policies before the role is deleted (DeleteRole refuses a role with any)."""
    for arn in arns:
        iam.detach_role_policy(arn, role)

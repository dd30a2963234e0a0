"""The chapter's resource specs: what 8.1-8.3 create, built in one place for the notebooks and the template.

Each function returns the parameters of the AWS request a notebook shows and makes (a `create_table`
request, an IAM policy document, the metric filters, the alarms, the dashboard body). The notebooks call
these functions and print what they return; `helpers.template` builds the chapter's CloudFormation
template from the very same functions, so the notebooks and the template cannot drift apart.

No boto3 here and no AWS calls: every value that depends on the account, the region or another resource
(a table's ARN, the topic's ARN) is an argument. The template passes CloudFormation expressions
(`${AWS::Region}`, `${AlarmTopic}`) where the notebooks pass what AWS answered.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from helpers.config import METADATA_INDEX, Names

LOG_RETENTION_DAYS = 14  # 8.3: how long the function's and the endpoint's logs are kept
HANDLER_RUNTIME = "python3.13"
FEATURE_COUNT = 4
VARIANT = "AllTraffic"  # the endpoint's one production variant (00_setup)
Tags = list[dict[str, str]]


def metadata_table(names: Names, tags: Tags) -> dict[str, Any]:
    """8.1: the inference metadata table (GSI on endpoint and time, on-demand, TTL, PITR, tags)."""
    return {
        "TableName": names.metadata_table,
        "AttributeDefinitions": [
            {"AttributeName": "requestId", "AttributeType": "S"},
            {"AttributeName": "endpointName", "AttributeType": "S"},
            {"AttributeName": "timestamp", "AttributeType": "S"},
        ],
        "KeySchema": [{"AttributeName": "requestId", "KeyType": "HASH"}],
        "GlobalSecondaryIndexes": [
            {
                "IndexName": METADATA_INDEX,
                "KeySchema": [
                    {"AttributeName": "endpointName", "KeyType": "HASH"},
                    {"AttributeName": "timestamp", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
        "BillingMode": "PAY_PER_REQUEST",
        "Tags": tags,
        # Applied by the helper after creation (they are separate API calls):
        "TimeToLiveSpecification": {"AttributeName": "expiresAt", "Enabled": True},
        "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
    }


def registry_table(names: Names, tags: Tags) -> dict[str, Any]:
    """8.1: the model registry table, keyed by (modelName, modelVersion), with PITR and tags."""
    return {
        "TableName": names.registry_table,
        "AttributeDefinitions": [
            {"AttributeName": "modelName", "AttributeType": "S"},
            {"AttributeName": "modelVersion", "AttributeType": "S"},
        ],
        "KeySchema": [
            {"AttributeName": "modelName", "KeyType": "HASH"},
            {"AttributeName": "modelVersion", "KeyType": "RANGE"},
        ],
        "BillingMode": "PAY_PER_REQUEST",
        "Tags": tags,
        "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
    }


def write_records_policy(table_arn: str) -> dict[str, Any]:
    """8.1: the Lambda role's least privilege on the records: PutItem into the metadata table, nothing else."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "WriteInferenceRecords",
                "Effect": "Allow",
                "Action": "dynamodb:PutItem",
                "Resource": table_arn,
            }
        ],
    }


def invoke_endpoint_policy(endpoint_arn: str) -> dict[str, Any]:
    """Chapter 7: the Lambda role may invoke this one endpoint."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "InvokeTheWorkshopEndpoint",
                "Effect": "Allow",
                "Action": "sagemaker:InvokeEndpoint",
                "Resource": endpoint_arn,  # SageMaker's ARNs spell names in lowercase
            }
        ],
    }


def handler_function(
    names: Names, role_arn: str, model_version: str, record_ttl_days: int | str
) -> dict[str, Any]:
    """8.2: the recording handler's configuration (the code is lambda/app.py, zipped by the deploy helper)."""
    return {
        "FunctionName": names.function,
        "Handler": "app.lambda_handler",
        "Runtime": HANDLER_RUNTIME,
        "Role": role_arn,
        "Timeout": 30,
        "MemorySize": 256,
        "Environment": {
            "Variables": {
                "TABLE_NAME": names.metadata_table,
                "ENDPOINT_NAME": names.endpoint,
                "MODEL_NAME": names.model,
                "MODEL_VERSION": model_version,
                "FEATURE_COUNT": str(FEATURE_COUNT),
                "RECORD_TTL_DAYS": str(record_ttl_days),
            }
        },
    }


# 00_setup: chapter 7's REST API in front of the function (POST /predict, Lambda proxy, stage prod).
API_STAGE = "prod"
API_PATH = "predict"


def rest_api(names: Names, tags: dict[str, str]) -> dict[str, Any]:
    """00_setup: the CreateRestApi request (a regional API; tags as API Gateway takes them, a map)."""
    return {
        "name": names.api,
        "description": f"Chapter 7's inference API: POST /{API_PATH} -> the inference Lambda",
        "endpointConfiguration": {"types": ["REGIONAL"]},
        "tags": tags,
    }


def predict_resource(api_id: str, root_id: str) -> dict[str, Any]:
    """00_setup: the CreateResource request for /predict under the API's root."""
    return {"restApiId": api_id, "parentId": root_id, "pathPart": API_PATH}


def predict_method(api_id: str, resource_id: str) -> dict[str, Any]:
    """00_setup: the PutMethod request: POST on /predict, open to any caller (chapter 7 adds no authorizer)."""
    return {"restApiId": api_id, "resourceId": resource_id, "httpMethod": "POST", "authorizationType": "NONE"}


def lambda_integration_uri(partition: str, region: str, function_arn: str) -> str:
    """The integration URI of a Lambda proxy integration to a function (any qualifier included)."""
    return f"arn:{partition}:apigateway:{region}:lambda:path/2015-03-31/functions/{function_arn}/invocations"


def proxy_integration(api_id: str, resource_id: str, uri: str) -> dict[str, Any]:
    """00_setup: the PutIntegration request: a Lambda proxy integration (Lambda is always invoked with POST)."""
    return {
        "restApiId": api_id,
        "resourceId": resource_id,
        "httpMethod": "POST",
        "type": "AWS_PROXY",
        "integrationHttpMethod": "POST",
        "uri": uri,
    }


def invoke_permission(function: str, statement_id: str, source_arn: str) -> dict[str, Any]:
    """00_setup: the AddPermission request letting API Gateway invoke the function from POST /predict."""
    return {
        "FunctionName": function,
        "StatementId": statement_id,
        "Action": "lambda:InvokeFunction",
        "Principal": "apigateway.amazonaws.com",
        "SourceArn": source_arn,
    }


def deployment(api_id: str) -> dict[str, Any]:
    """00_setup: the CreateDeployment request that publishes the API on stage prod."""
    return {"restApiId": api_id, "stageName": API_STAGE, "description": "chapter 7"}


# 8.3: the filter pattern of each metric, matched against the handler's one JSON line per inference.
PATTERNS = {
    "InferenceCount": '{ $.event = "inference" }',
    "InferenceErrors": '{ $.event = "inference" && ($.status = "model_error" || $.status = "server_error") }',
    "InferenceLatency": '{ $.event = "inference" && $.status = "ok" }',
    "MetadataWriteFailures": '{ $.event = "metadata_write_failed" }',
    "DuplicateRequests": '{ $.event = "inference" && $.record = "duplicate" }',
}


def _count_filter(name: str, metric: str, namespace: str) -> dict[str, Any]:
    """A metric filter counting matching lines: 1 per match, a real 0 in minutes without one."""
    transformation = {
        "metricName": metric,
        "metricNamespace": namespace,
        "metricValue": "1",
        "defaultValue": 0,
        "unit": "Count",
    }
    return {"filterName": name, "filterPattern": PATTERNS[metric], "metricTransformations": [transformation]}


def metric_filters(namespace: str) -> list[dict[str, Any]]:
    """8.3: the five metric filters on the function's log group (PutMetricFilter requests, less the group)."""
    latency = {
        "filterName": "inference-latency",
        "filterPattern": PATTERNS["InferenceLatency"],
        "metricTransformations": [
            {
                "metricName": "InferenceLatency",
                "metricNamespace": namespace,
                "metricValue": "$.latencyMs",
                "unit": "Milliseconds",
            }
        ],
    }
    return [
        _count_filter("inference-count", "InferenceCount", namespace),
        _count_filter("inference-errors", "InferenceErrors", namespace),
        latency,
        _count_filter("metadata-write-failures", "MetadataWriteFailures", namespace),
        _count_filter("duplicate-requests", "DuplicateRequests", namespace),
    ]


def queue_policy(queue_arn: str, topic_arn: str) -> dict[str, Any]:
    """8.3: the alarm inbox's policy: one SNS topic (and nothing else) may send to the queue."""
    return {
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


def _endpoint_alarm(
    names: Names, name: str, metric: str, period: int, actions: dict[str, Any], tags: Tags, description: str
) -> dict[str, Any]:
    """8.3: an alarm on any of the endpoint's errors of one kind in a period (SageMaker publishes them)."""
    return {
        "AlarmName": names.alarm(name),
        "AlarmDescription": description,
        "Namespace": "AWS/SageMaker",
        "MetricName": metric,
        "Statistic": "Sum",
        "Dimensions": [
            {"Name": "EndpointName", "Value": names.endpoint},
            {"Name": "VariantName", "Value": VARIANT},
        ],
        "Period": period,
        "EvaluationPeriods": 1,
        "ComparisonOperator": "GreaterThanThreshold",
        "Threshold": 0,
        "TreatMissingData": "notBreaching",
        **actions,
        "Tags": tags,
    }


def alarms(names: Names, period: int, topic_arn: str, tags: Tags) -> list[dict[str, Any]]:
    """8.3: the six alarms (PutMetricAlarm requests), each notifying the topic on ALARM and on OK."""
    namespace = names.metric_namespace
    actions = {"AlarmActions": [topic_arn], "OKActions": [topic_arn]}
    return [
        {
            "AlarmName": names.alarm("inference-errors"),
            "AlarmDescription": "Model or server errors in the inference Lambda (chapter 8.3).",
            "Namespace": namespace,
            "MetricName": "InferenceErrors",
            "Statistic": "Sum",
            "Period": period,
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
            "Period": period,
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
            "Period": period,
            "EvaluationPeriods": 1,
            "ComparisonOperator": "GreaterThanThreshold",
            "Threshold": 0,
            "TreatMissingData": "notBreaching",
            **actions,
            "Tags": tags,
        },
        _endpoint_alarm(
            names,
            "endpoint-4xx",
            "Invocation4XXErrors",
            period,
            actions,
            tags,
            "The model container refused requests (a model that does not fit the handler?).",
        ),  # fmt: skip
        _endpoint_alarm(
            names,
            "endpoint-5xx",
            "Invocation5XXErrors",
            period,
            actions,
            tags,
            "The model container answered server errors.",
        ),  # fmt: skip
        {
            "AlarmName": names.alarm("metadata-write-failures"),
            "AlarmDescription": (
                "Inference records could not be written to DynamoDB: run helpers.dynamodb.backfill_from_logs."
            ),
            "Namespace": namespace,
            "MetricName": "MetadataWriteFailures",
            "Statistic": "Sum",
            "Period": period,
            "EvaluationPeriods": 1,
            "ComparisonOperator": "GreaterThanThreshold",
            "Threshold": 0,
            "TreatMissingData": "notBreaching",
            **actions,
            "Tags": tags,
        },
    ]


def _metric_widget(
    x: int, y: int, title: str, region: str, period: int, metrics: list[Any], y_label: str | None = None
) -> dict[str, Any]:
    """One half-width metric widget of the dashboard (y_label: the left axis's unit)."""
    properties: dict[str, Any] = {"title": title, "region": region, "period": period, "metrics": metrics}
    if y_label:
        properties["yAxis"] = {"left": {"label": y_label, "showUnits": False}}
    return {"type": "metric", "x": x, "y": y, "width": 12, "height": 6, "properties": properties}


def threshold_line(alarm: dict[str, Any]) -> dict[str, Any]:
    """A horizontal annotation at an alarm's threshold (CloudWatch draws alarms so)."""
    return {"label": f"{alarm['AlarmName']} alarm above {alarm['Threshold']:g}", "value": alarm["Threshold"]}


def _sums(namespace: str, dims: list[str], labels: dict[str, str]) -> list[Any]:
    """Metric lines of one namespace and dimensions, summed per period: {metric name: label}."""
    return [[namespace, metric, *dims, {"stat": "Sum", "label": label}] for metric, label in labels.items()]


def dashboard(
    names: Names, region: str, period: int, alarms: Sequence[dict[str, Any]], alarm_arns: Sequence[str]
) -> dict[str, Any]:
    """8.3: the dashboard body (PutDashboard takes it as a JSON string): the API, the function, the endpoint,
    the pipeline's own metrics, each alarm's threshold on its metric, and the alarms."""
    namespace = names.metric_namespace
    lambda_dims = ["FunctionName", names.function]
    endpoint_dims = ["EndpointName", names.endpoint, "VariantName", VARIANT]
    api_dims = ["ApiName", names.api, "Stage", API_STAGE]
    alarm_of = {spec["MetricName"]: spec for spec in alarms}
    per_period = f"count per {period} s"
    counts = _metric_widget(0, 0, "Inferences and errors (count per period)", region, period, _sums(
        namespace, [], {"InferenceCount": "inferences", "InferenceErrors": "errors",
                        "MetadataWriteFailures": "write failures"}), per_period)  # fmt: skip
    counts["properties"]["annotations"] = {"horizontal": [threshold_line(alarm_of["InferenceErrors"])]}
    latency = _metric_widget(12, 0, "Inference latency, whole handler", region, period, [
        [namespace, "InferenceLatency", {"stat": p, "label": p}] for p in ("p50", "p90", "p99")], "ms")  # fmt: skip
    latency["properties"]["annotations"] = {"horizontal": [threshold_line(alarm_of["InferenceLatency"])]}
    # SageMaker reports ModelLatency in microseconds: metric math divides by 1,000.
    model_latency = _metric_widget(0, 6, "Endpoint model latency (SageMaker's µs ÷ 1,000 = ms)", region, period, [
        ["AWS/SageMaker", "ModelLatency", *endpoint_dims, {"stat": "Average", "id": "average_us", "visible": False}],
        ["AWS/SageMaker", "ModelLatency", *endpoint_dims, {"stat": "p90", "id": "p90_us", "visible": False}],
        [{"expression": "average_us / 1000", "label": "average", "id": "average_ms"}],
        [{"expression": "p90_us / 1000", "label": "p90", "id": "p90_ms"}]], "ms")  # fmt: skip
    function = _metric_widget(12, 6, "Lambda invocations and errors (count per period)", region, period, _sums(
        "AWS/Lambda", lambda_dims, {"Invocations": "invocations", "Errors": "errors"}), per_period)  # fmt: skip
    function["properties"]["annotations"] = {"horizontal": [threshold_line(alarm_of["Errors"])]}
    api = _metric_widget(0, 12, "API requests and errors (count per period)", region, period, _sums(
        "AWS/ApiGateway", api_dims, {"Count": "requests", "4XXError": "4XX", "5XXError": "5XX"}), per_period)  # fmt: skip
    endpoint = _metric_widget(12, 12, "Endpoint invocations and container errors", region, period, _sums(
        "AWS/SageMaker", endpoint_dims, {"Invocations": "invocations", "Invocation4XXErrors": "4XX",
                                         "Invocation5XXErrors": "5XX"}), per_period)  # fmt: skip
    alarm_widget = {"type": "alarm", "x": 0, "y": 18, "width": 24, "height": 6,
                    "properties": {"title": "Alarms", "alarms": list(alarm_arns)}}  # fmt: skip
    return {"widgets": [counts, latency, model_latency, function, api, endpoint, alarm_widget]}

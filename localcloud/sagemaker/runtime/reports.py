"""What an invocation leaves behind, as a real endpoint's does: the container's lines in the
endpoint's log group and the AWS/SageMaker metrics. moto's backends are imported when used.

Documented by SageMaker ("Log groups and streams that Amazon SageMaker AI sends to Amazon CloudWatch
Logs"; "Monitor Amazon SageMaker AI with Amazon CloudWatch"; for serverless endpoints "Alarms and
logs for tracking metrics from serverless endpoints"):

- the container's stdout/stderr go to ``/aws/sagemaker/Endpoints/<EndpointName>``, one stream per
  instance, ``<VariantName>/<instance id>``; SageMaker writes them as the model's execution role, which
  needs ``logs:CreateLogStream`` and ``logs:PutLogEvents`` (and ``logs:CreateLogGroup`` for a new group);
- metrics in ``AWS/SageMaker`` with dimensions ``EndpointName`` and ``VariantName``, one datapoint per
  request: ``Invocations``, ``Invocation4XXErrors``/``Invocation5XXErrors`` (1 for a 4xx/5xx answer of the
  model, else 0), ``ModelLatency`` and ``OverheadLatency`` in microseconds; instance endpoints also
  ``InvocationsPerInstance`` and ``InvocationModelErrors``; serverless endpoints publish only the common
  ones plus ``ModelSetupTime`` (the time to launch new compute: a cold start).
"""

from __future__ import annotations

import datetime as dt
import time

from localcloud.locks import cloudwatch_lock

LOG_GROUP_PREFIX = "/aws/sagemaker/Endpoints/"


def log_group(endpoint: str) -> str:
    """The endpoint's log group."""
    return f"{LOG_GROUP_PREFIX}{endpoint}"


def stream_arn(account: str, region: str, endpoint: str, stream: str) -> str:
    """The ARN of one of the endpoint's log streams (InvokeEndpoint's LogStreamArn)."""
    return f"arn:aws:logs:{region}:{account}:log-group:{log_group(endpoint)}:log-stream:{stream}"


def console_url(region: str, endpoint: str) -> str:
    """The CloudWatch console page of the endpoint's log group, as ModelError's message links it."""
    return (
        f"https://{region}.console.aws.amazon.com/cloudwatch/home?region={region}"
        f"#logEventViewer:group={log_group(endpoint)}"
    )


def log(account: str, region: str, endpoint: str, stream: str, messages: list[str]) -> None:
    """Append container log lines to one of the endpoint's streams (creating group and stream as needed)."""
    from moto.logs.models import logs_backends

    group = log_group(endpoint)
    logs = logs_backends[account][region]
    logs.ensure_log_group(group)
    logs.ensure_log_stream(group, stream)
    now = int(time.time() * 1000)
    logs.put_log_events(group, stream, [{"timestamp": now, "message": m} for m in messages])


def group_exists(account: str, region: str, endpoint: str) -> bool:
    """Whether the endpoint's log group exists (writing into a new one needs logs:CreateLogGroup)."""
    from moto.logs.models import logs_backends

    return log_group(endpoint) in logs_backends[account][region].groups


def invocation_metrics(
    status: int,
    model_us: float,
    overhead_us: float,
    *,
    serverless: bool,
    setup_us: float | None = None,
) -> dict[str, tuple[float, str]]:
    """The AWS/SageMaker metrics (value, unit) of one invocation answered with status."""
    metrics: dict[str, tuple[float, str]] = {
        "Invocations": (1, "None"),
        "Invocation4XXErrors": (1 if 400 <= status < 500 else 0, "None"),
        "Invocation5XXErrors": (1 if status >= 500 else 0, "None"),
        "ModelLatency": (max(model_us, 0.0), "Microseconds"),
        "OverheadLatency": (max(overhead_us, 0.0), "Microseconds"),
    }
    if serverless:
        if setup_us is not None:
            metrics["ModelSetupTime"] = (max(setup_us, 0.0), "Microseconds")
    else:
        metrics["InvocationsPerInstance"] = (1, "None")
        metrics["InvocationModelErrors"] = (0 if status < 400 else 1, "None")
    return metrics


def publish_metrics(
    account: str, region: str, endpoint: str, variant: str, values: dict[str, tuple[float, str]]
) -> None:
    """Publish an invocation's metrics for one variant of endpoint."""
    from moto.cloudwatch.models import cloudwatch_backends

    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    dims = [{"Name": "EndpointName", "Value": endpoint}, {"Name": "VariantName", "Value": variant}]
    data = [
        {"MetricName": name, "Value": float(v), "Unit": unit, "Dimensions": dims, "Timestamp": now}
        for name, (v, unit) in values.items()
    ]
    with cloudwatch_lock:
        cloudwatch_backends[account][region].put_metric_data("AWS/SageMaker", data)

"""What an invocation leaves behind, as a real endpoint's does: the container's lines in the
endpoint's log group (``/aws/sagemaker/Endpoints/<name>``, one stream per variant instance) and
the AWS/SageMaker metrics. moto's backends are imported when used.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import time

from localcloud.locks import cloudwatch_lock


def _stream_for(endpoint: str, variant: str) -> str:
    instance = hashlib.sha1(f"{endpoint}/{variant}".encode()).hexdigest()[:17]
    return f"{variant}/i-{instance}"


def log(account: str, region: str, endpoint: str, variant: str, messages: list[str]) -> str:
    """Append container log lines for one variant; return the stream's ARN."""
    from moto.logs.models import logs_backends

    group = f"/aws/sagemaker/Endpoints/{endpoint}"
    stream = _stream_for(endpoint, variant)
    logs = logs_backends[account][region]
    logs.ensure_log_group(group)
    logs.ensure_log_stream(group, stream)
    now = int(time.time() * 1000)
    logs.put_log_events(group, stream, [{"timestamp": now, "message": m} for m in messages])
    return f"arn:aws:logs:{region}:{account}:log-group:{group}:log-stream:{stream}"


def invocation_metrics(
    status: int, model_us: float, overhead_us: float | None = None
) -> dict[str, tuple[float, str]]:
    """The AWS/SageMaker metrics (value, unit) of one invocation answered with status."""
    metrics: dict[str, tuple[float, str]] = {
        "Invocations": (1, "None"),
        "InvocationsPerInstance": (1, "None"),
        "Invocation4XXErrors": (1 if 400 <= status < 500 else 0, "None"),
        "Invocation5XXErrors": (1 if status >= 500 else 0, "None"),
        "ModelLatency": (model_us, "Microseconds"),
    }
    if overhead_us is not None:
        metrics["OverheadLatency"] = (max(overhead_us, 0.0), "Microseconds")
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

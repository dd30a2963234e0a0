"""What an invocation reports, as AWS's Lambda service does: log events, the REPORT line, AWS/Lambda metrics.

An invocation's log events (START, the handler's output one event per line, END, REPORT) go to
the function's log group ``/aws/lambda/<function>`` in its environment's stream, created on first
use; an event larger than CloudWatch Logs accepts is cut into pieces. The REPORT line has AWS's
fields (``Init Duration`` on a cold start, ``Status`` after a timeout or crash). Metrics go to
the AWS/Lambda namespace per FunctionName: Invocations, Errors, Duration, and Throttles.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from localcloud.locks import cloudwatch_lock

if TYPE_CHECKING:
    from moto.awslambda.models import LambdaFunction

MAX_EVENT_BYTES = 256 * 1024 - 26  # CloudWatch Logs' limit for one event (26 bytes go to its header)


def log_events(output: str) -> list[str]:
    """Split captured output into log events: one per line, none larger than CloudWatch allows."""
    events = []
    for line in output.split("\n"):
        if line:
            events += _chunks(line.replace("\r", "\n"), MAX_EVENT_BYTES)
    return events


def _chunks(text: str, limit: int) -> list[str]:
    """text cut into pieces of at most limit UTF-8 bytes, never inside a character."""
    data = text.encode()
    if len(data) <= limit:
        return [text]
    pieces = []
    while data:
        cut = min(limit, len(data))
        while cut < len(data) and data[cut] & 0xC0 == 0x80:  # a continuation byte: back off
            cut -= 1
        pieces.append(data[:cut].decode())
        data = data[cut:]
    return pieces


def report_line(
    request_id: str,
    duration: float,
    memory_size: int,
    max_memory_used: int,
    init_ms: float | None,
    status: str | None,
) -> str:
    """The REPORT line of one invocation (init_ms on a cold start; status after a timeout or crash)."""
    report = (
        f"REPORT RequestId: {request_id}\tDuration: {duration:.2f} ms\t"
        f"Billed Duration: {max(1, int(-(-duration // 1)))} ms\tMemory Size: {memory_size} MB\t"
        f"Max Memory Used: {max_memory_used} MB"
    )
    if init_ms is not None:
        report += f"\tInit Duration: {init_ms:.2f} ms"
    if status:
        report += f"\tStatus: {status}"
    return report


def ship_logs(fn: LambdaFunction, stream: str, lines: list[tuple[int, str]]) -> None:
    """Write an invocation's log events to /aws/lambda/<function>, creating group and stream."""
    logs = fn.logs_backend
    logs.ensure_log_group(fn.logs_group_name)
    logs.ensure_log_stream(fn.logs_group_name, stream)
    events = [{"timestamp": ts, "message": text} for ts, text in lines]
    logs.put_log_events(fn.logs_group_name, stream, events)


def publish_metrics(
    fn: LambdaFunction, values: dict[str, tuple[float, str]], at_ms: int | None = None
) -> None:
    """Publish AWS/Lambda datapoints for one invocation, per FunctionName (at at_ms, else now)."""
    from moto.cloudwatch.models import cloudwatch_backends

    moment = dt.datetime.now(dt.UTC) if at_ms is None else dt.datetime.fromtimestamp(at_ms / 1000, dt.UTC)
    now = moment.replace(tzinfo=None)  # moto keeps naive UTC
    dims = [{"Name": "FunctionName", "Value": fn.function_name}]
    data = [
        {"MetricName": name, "Value": float(value), "Unit": unit, "Dimensions": dims, "Timestamp": now}
        for name, (value, unit) in values.items()
    ]
    with cloudwatch_lock:
        cloudwatch_backends[fn.account_id][fn.region].put_metric_data("AWS/Lambda", data)

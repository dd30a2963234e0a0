"""The fields Logs Insights discovers in a log event: system fields, JSON fields, Lambda START/END/REPORT fields."""

from __future__ import annotations

import base64
import json
import re
from typing import Any

from localcloud.logs.insights.values import Record, Stamp, to_number

_REPORT_FIELDS = {
    "Duration": ("@duration", float, 1),
    "Billed Duration": ("@billedDuration", int, 1),
    "Memory Size": ("@memorySize", int, 1_000_000),
    "Max Memory Used": ("@maxMemoryUsed", int, 1_000_000),
    "Init Duration": ("@initDuration", float, 1),
}
_LAMBDA_LINE = re.compile(r"^(START|END|REPORT) RequestId: ([0-9A-Za-z-]+)")


def flatten(value: Any, prefix: str, out: Record) -> None:
    """JSON values as Logs Insights fields: nested objects as a.b, arrays as a.0; null is absent."""
    if isinstance(value, dict):
        for key, item in value.items():
            key = f"@{key}" if not prefix and str(key).startswith("@") else str(key)
            flatten(item, f"{prefix}.{key}" if prefix else key, out)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            flatten(item, f"{prefix}.{index}" if prefix else str(index), out)
    elif isinstance(value, bool):
        out[prefix] = "true" if value else "false"
    elif value is not None and prefix:
        out[prefix] = value


def discover(message: str, out: Record) -> None:
    """Add the fields Logs Insights discovers in a message: Lambda platform lines, the first JSON object."""
    lam = _LAMBDA_LINE.match(message)
    if lam:
        out["@type"], out["@requestId"] = lam.group(1), lam.group(2)
        if lam.group(1) == "REPORT":
            for part in message.split("\t")[1:]:
                label, _, amount = part.partition(":")
                spec = _REPORT_FIELDS.get(label.strip())
                number = amount.strip().split(" ")[0]
                if spec and to_number(number) is not None:
                    out[spec[0]] = spec[1](float(number) * spec[2]) if spec[1] is int else float(number)
        return
    brace = message.find("{")
    if brace < 0:
        return
    try:
        document, _ = json.JSONDecoder().raw_decode(message, brace)
    except ValueError:
        return
    if isinstance(document, dict):
        flatten(document, "", out)


def event_record(event: Any, stream_name: str, group_name: str, account_id: str) -> Record:
    """One log event as a record of its system and discovered fields."""
    record: Record = {}
    discover(event.message, record)
    record.update(
        {
            "@timestamp": Stamp(event.timestamp),
            "@message": event.message,
            "@logStream": stream_name,
            "@log": f"{account_id}:{group_name}",
            "@ingestionTime": Stamp(event.ingestion_time),
            "@ptr": base64.b64encode(f"{group_name}\n{stream_name}\n{event.event_id}".encode()).decode(),
        }
    )
    return record

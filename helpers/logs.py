"""CloudWatch Logs: log groups with retention, recent events, metric filters tried before they are put."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd
from botocore.exceptions import ClientError

from helpers import errors
from helpers.session import client


def ensure_log_group(request: Mapping[str, Any]) -> dict[str, Any]:
    """Apply a CreateLogGroup request (logGroupName, tags) unless the group exists, then add the tags it
    lacks; return its description."""
    logs = client("logs")
    name = request["logGroupName"]
    try:
        logs.create_log_group(**request)
        print(f"created log group {name}")
    except ClientError as exc:
        if errors.code(exc) != "ResourceAlreadyExistsException":
            raise
        # Only the missing tags: re-tagging would move workshop-created-at to this run.
        have = logs.list_tags_log_group(logGroupName=name).get("tags", {})
        missing = {k: v for k, v in (request.get("tags") or {}).items() if k not in have}
        if missing:
            logs.tag_log_group(logGroupName=name, tags=missing)
        print(f"log group {name} exists")
    return describe_log_group(name)


def describe_log_group(name: str) -> dict[str, Any]:
    """The log group's description (retentionInDays, storedBytes, ...)."""
    group: dict[str, Any] = next(
        g
        for g in client("logs").describe_log_groups(logGroupNamePrefix=name)["logGroups"]
        if g["logGroupName"] == name
    )
    return group


def recent_events(group: str, minutes: int = 15, limit: int = 10, pattern: str = "") -> pd.DataFrame:
    """The group's latest searchable events (newest last) as a table of time and whole message.

    CloudWatch Logs makes an event searchable seconds after it was written: the last few may be missing.
    """
    start = int((time.time() - minutes * 60) * 1000)
    kwargs = {"logGroupName": group, "startTime": start, "filterPattern": pattern}
    events: list[dict[str, Any]] = []
    paginator = client("logs").get_paginator("filter_log_events")
    for page in paginator.paginate(**kwargs):
        events.extend(page["events"])
    events = sorted(events, key=lambda e: e["timestamp"])[-limit:]
    frame = pd.DataFrame(
        {
            "time (UTC)": [
                dt.datetime.fromtimestamp(e["timestamp"] / 1000, dt.UTC).strftime("%H:%M:%S.%f")[:-3]
                for e in events
            ],
            "message": [e["message"] for e in events],
        }
    )
    return frame


def try_filter(pattern: str, messages: Sequence[str]) -> pd.DataFrame:
    """TestMetricFilter: which sample lines the pattern matches and what it extracts."""
    matches = client("logs").test_metric_filter(filterPattern=pattern, logEventMessages=messages)["matches"]
    by_number = {m["eventNumber"]: m for m in matches}
    return pd.DataFrame(
        {
            "matches": ["yes" if i + 1 in by_number else "" for i in range(len(messages))],
            "extracted": [by_number.get(i + 1, {}).get("extractedValues", "") for i in range(len(messages))],
            "sample line": list(messages),
        }
    )


def ensure_metric_filters(requests: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """Apply each PutMetricFilter request (same group and name replaces); return what the groups now have."""
    logs = client("logs")
    for request in requests:
        logs.put_metric_filter(**request)
    groups = dict.fromkeys(r["logGroupName"] for r in requests)
    return pd.DataFrame(
        [
            {
                "filter": f["filterName"],
                "pattern": f["filterPattern"],
                "metric": f"{t['metricNamespace']}/{t['metricName']}",
                "value": t["metricValue"],
                "default": t.get("defaultValue", ""),
            }
            for group in groups
            for f in logs.describe_metric_filters(logGroupName=group)["metricFilters"]
            for t in f["metricTransformations"]
        ]
    )


def insights(
    group: str | Sequence[str], query: str, minutes: int = 60, timeout_s: float = 120
) -> pd.DataFrame:
    """Run a Logs Insights query over the last minutes of one log group or several; its result rows as a table
    (without @ptr).

    The query sees the events CloudWatch Logs has made searchable (seconds after they were written).
    """
    logs = client("logs")
    now = int(time.time())
    where = {"logGroupName": group} if isinstance(group, str) else {"logGroupNames": list(group)}
    query_id = logs.start_query(**where, startTime=now - minutes * 60, endTime=now, queryString=query)[
        "queryId"
    ]
    started = time.monotonic()
    reported = 0.0
    while (waited := time.monotonic() - started) < timeout_s:
        answer = logs.get_query_results(queryId=query_id)
        if answer["status"] in ("Complete", "Failed", "Cancelled", "Timeout"):
            return pd.DataFrame(
                [{f["field"]: f["value"] for f in row if f["field"] != "@ptr"} for row in answer["results"]]
            )
        if waited - reported >= 10:
            reported = waited
            print(f"Logs Insights query {answer['status']} for {waited:.0f} s (at most {timeout_s:.0f} s)")
        time.sleep(1)
    raise TimeoutError(
        f"Logs Insights query {query_id} did not finish within {timeout_s:.0f} s. Fix: narrow the time range "
        "(minutes=...) or run the cell again; CloudWatch → Logs Insights shows the query's progress."
    )

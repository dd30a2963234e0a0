"""The alarm history each CloudWatch backend keeps, and DescribeAlarmHistory's filters over it.

"CloudWatch retains the history of an alarm even if you delete the alarm" (DescribeAlarmHistory,
CloudWatch API Reference), for two weeks (its earlier wording: "retains the history of an alarm
for two weeks, whether or not you delete the alarm"). The items live on the backend object, so
a moto reset empties them; callers record under cloudwatch_lock.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from localcloud.cloudwatch import statistics as metric_statistics
from localcloud.locks import cloudwatch_lock

RETENTION = timedelta(days=14)
_ATTRIBUTE = "_workshop_alarm_history"


def items(backend: Any) -> list[dict[str, Any]]:
    """The backend's alarm history items, oldest recorded first (the list itself)."""
    if not hasattr(backend, _ATTRIBUTE):
        setattr(backend, _ATTRIBUTE, [])
    found: list[dict[str, Any]] = getattr(backend, _ATTRIBUTE)
    return found


def record(backend: Any, item: dict[str, Any]) -> None:
    """Append one history item (messages.history_item and the like)."""
    items(backend).append(item)


def matching(
    backend: Any,
    *,
    now: datetime,
    alarm_name: str | None,
    alarm_types: Sequence[str] | None,
    item_type: str | None,
    start: datetime | None,
    end: datetime | None,
    scan_by: str | None,
) -> list[dict[str, Any]]:
    """History items matching DescribeAlarmHistory's filters, in the requested order (now naive UTC)."""
    oldest_kept = now - RETENTION
    with cloudwatch_lock:
        found = list(items(backend))
    found = [item for item in found if item["Timestamp"] >= oldest_kept or item["Timestamp"] > now]
    if alarm_name:
        found = [item for item in found if item["AlarmName"] == alarm_name]
    if alarm_types:
        found = [item for item in found if item["AlarmType"] in alarm_types]
    if item_type:
        found = [item for item in found if item["HistoryItemType"] == item_type]
    if start is not None:
        found = [item for item in found if item["Timestamp"] >= metric_statistics.naive_utc(start)]
    if end is not None:
        found = [item for item in found if item["Timestamp"] <= metric_statistics.naive_utc(end)]
    indexed = sorted(
        enumerate(found),
        key=lambda pair: (pair[1]["Timestamp"], pair[0]),
        reverse=scan_by != "TimestampAscending",
    )
    return [item for _, item in indexed]

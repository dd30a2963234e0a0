"""CloudWatch: alarms (put, watch, wait for a state), dashboards, and metric reads for charts."""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd

from helpers import waiters
from helpers.errors import WorkshopError
from helpers.session import client

if TYPE_CHECKING:
    from matplotlib.figure import Figure

# How long after its period ends an alarm may first see the period's datapoints, at most: CloudWatch
# publishes metric-filter and service datapoints up to a minute or two after the events (90 s), then
# evaluates each alarm on its own schedule (up to a minute). Add it to any wait for an alarm state.
METRIC_LAG_S = 150


def ensure_alarms(specs: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """Put each alarm (an existing one keeps its state, its configuration is replaced); return their states."""
    cw = client("cloudwatch")
    for spec in specs:
        cw.put_metric_alarm(**spec)
    return alarm_states([s["AlarmName"] for s in specs])


def alarm_states(names: Sequence[str]) -> pd.DataFrame:
    """Name, state, reason and last change of the alarms, as a table."""
    alarms = client("cloudwatch").describe_alarms(AlarmNames=names)["MetricAlarms"]
    by_name = {a["AlarmName"]: a for a in alarms}
    rows = []
    for name in names:
        a = by_name.get(name)
        rows.append(
            {
                "alarm": name,
                "state": a["StateValue"] if a else "(missing)",
                "since (UTC)": a["StateUpdatedTimestamp"].astimezone(dt.UTC).strftime("%H:%M:%S")
                if a
                else "",
                "reason": (a["StateReason"] if a else ""),
            }
        )
    return pd.DataFrame(rows)


def wait_for_alarm(name: str, state: str, timeout_s: float, why: str = "") -> dict[str, Any]:
    """Wait until the alarm is in state; show progress; explain and fail after timeout_s."""
    cw = client("cloudwatch")
    started = time.monotonic()
    with waiters.elapsed_bar(f"{name} → {state}", "s", total=int(timeout_s)) as bar:
        while True:
            alarm: dict[str, Any] = cw.describe_alarms(AlarmNames=[name])["MetricAlarms"][0]
            bar.set_postfix_str(f"now {alarm['StateValue']}")
            if alarm["StateValue"] == state:
                return alarm
            waited = time.monotonic() - started
            if waited > timeout_s:
                raise WorkshopError(
                    f"Alarm {name} did not reach {state} within {timeout_s:.0f} s (it is {alarm['StateValue']}: "
                    f"{alarm['StateReason']}). {why} CloudWatch publishes datapoints up to {METRIC_LAG_S} s late "
                    "(METRIC_LAG_S): allow that on top of the periods. Check that traffic reached the function "
                    "(its log group) and that the metric filter's namespace and name match the alarm's."
                )
            time.sleep(2)
            bar.update(int(time.monotonic() - started) - bar.n)


def history(name: str, limit: int = 10) -> pd.DataFrame:
    """The alarm's recent state changes, newest first."""
    items = client("cloudwatch").describe_alarm_history(
        AlarmName=name, HistoryItemType="StateUpdate", MaxRecords=limit, ScanBy="TimestampDescending"
    )["AlarmHistoryItems"]
    return pd.DataFrame(
        [
            {
                "time (UTC)": i["Timestamp"].astimezone(dt.UTC).strftime("%H:%M:%S"),
                "summary": i["HistorySummary"],
            }
            for i in items
        ]
    )


def put_dashboard(request: Mapping[str, Any]) -> list[dict[str, str]]:
    """Apply a PutDashboard request (DashboardName, DashboardBody as JSON text); return CloudWatch's validation
    messages (empty when all is well)."""
    answer = client("cloudwatch").put_dashboard(**request)
    messages: list[dict[str, str]] = answer.get("DashboardValidationMessages", [])
    return messages


def metric_frame(queries: Sequence[Mapping[str, Any]], start: dt.datetime, end: dt.datetime) -> pd.DataFrame:
    """GetMetricData results as a frame: one column per query label, indexed by UTC time."""
    cw = client("cloudwatch")
    series: dict[str, pd.Series] = {}
    token = None
    while True:
        kwargs = {
            "MetricDataQueries": queries,
            "StartTime": start,
            "EndTime": end,
            "ScanBy": "TimestampAscending",
        }
        if token:
            kwargs["NextToken"] = token
        answer = cw.get_metric_data(**kwargs)
        for result in answer["MetricDataResults"]:
            label = result.get("Label") or result["Id"]
            values = pd.Series(
                result["Values"], index=pd.to_datetime(result["Timestamps"], utc=True), dtype=float
            )
            series[label] = pd.concat([series[label], values]) if label in series else values
        token = answer.get("NextToken")
        if not token:
            break
    return pd.DataFrame(series).sort_index()


def render_dashboard(
    body: Mapping[str, Any], alarms: Sequence[Mapping[str, Any]] = (), minutes: int = 30
) -> Figure:
    """Draw a dashboard's metric widgets with matplotlib from GetMetricData (the local cloud has no console).

    Each widget's y axis takes its unit from the widget's yAxis.left.label, its horizontal annotations
    are drawn as CloudWatch draws alarm thresholds, the time range is fitted to the data of the last
    `minutes`, and a strip below shows each alarm's state over that time (from its history).
    """
    from helpers import charts

    end = dt.datetime.now(dt.UTC)
    start = end - dt.timedelta(minutes=minutes)
    panels = []
    for widget in (w for w in body["widgets"] if w["type"] == "metric"):
        props = widget["properties"]
        queries = _widget_queries(props)
        frame = metric_frame(queries, start, end) if queries else pd.DataFrame()
        panels.append(
            charts.Panel(
                title=props.get("title", ""),
                frame=frame,
                unit=((props.get("yAxis") or {}).get("left") or {}).get("label", ""),
                thresholds=[
                    (h.get("label", ""), float(h["value"]))
                    for h in (props.get("annotations") or {}).get("horizontal", [])
                ],
            )
        )
    names = [str(a["AlarmName"]) for a in alarms]
    first, last = _data_range([p.frame for p in panels], start, end)
    return charts.dashboard(panels, _state_changes(names, first), first, last)


def _data_range(frames: Sequence[pd.DataFrame], start: dt.datetime, end: dt.datetime) -> tuple[Any, Any]:
    """The time range to draw: from a minute before the first datapoint to a minute after the last."""
    stamps = [
        ts for f in frames if not f.dropna(how="all").empty for ts in (f.dropna(how="all").index[[0, -1]])
    ]
    if not stamps:
        return pd.Timestamp(start), pd.Timestamp(end)
    margin = pd.Timedelta(minutes=1)
    return max(min(stamps) - margin, pd.Timestamp(start)), min(max(stamps) + margin, pd.Timestamp(end))


def _state_changes(names: Sequence[str], since: Any) -> dict[str, list[tuple[pd.Timestamp, str]]]:
    """Each alarm's states over time: the state it had from its creation (or last configuration change) or
    at `since`, then every change from its history."""
    cw = client("cloudwatch")
    described = {a["AlarmName"]: a for a in cw.describe_alarms(AlarmNames=list(names))["MetricAlarms"]}
    found: dict[str, list[tuple[pd.Timestamp, str]]] = {}
    for name in names:
        alarm = described.get(name)
        if alarm is None:
            continue
        items = cw.describe_alarm_history(
            AlarmName=name, HistoryItemType="StateUpdate", MaxRecords=100, ScanBy="TimestampAscending"
        )["AlarmHistoryItems"]
        configured = pd.Timestamp(alarm["AlarmConfigurationUpdatedTimestamp"]).tz_convert("UTC")
        changes: list[tuple[pd.Timestamp, str]] = []
        for item in items:
            data = json.loads(item.get("HistoryData") or "{}")
            old, new = ((data.get(k) or {}).get("stateValue") for k in ("oldState", "newState"))
            when = pd.Timestamp(item["Timestamp"]).tz_convert("UTC")
            if new and when >= configured:
                if not changes and old:
                    changes.append((configured, str(old)))
                changes.append((when, str(new)))
        if not changes:
            changes = [(configured, str(alarm["StateValue"]))]
        before = [c for c in changes if c[0] <= since]
        after = [c for c in changes if c[0] > since]
        found[name] = ([(pd.Timestamp(since), before[-1][1])] if before else []) + after
    return found


def _widget_queries(props: Mapping[str, Any]) -> list[dict[str, Any]]:
    """GetMetricData queries for a dashboard metric widget's 'metrics' array (metrics and math expressions)."""
    queries = []
    previous: list[str] = []
    for i, row in enumerate(props.get("metrics", [])):
        options = row[-1] if row and isinstance(row[-1], dict) else {}
        if "expression" in options:
            queries.append(
                {
                    "Id": options.get("id", f"e{i}"),
                    "Expression": options["expression"],
                    "Label": options.get("label", options["expression"]),
                }  # fmt: skip
            )
            continue
        parts = [p for p in row if not isinstance(p, dict)]
        parts = [previous[j] if p == "." else p for j, p in enumerate(parts)]
        previous = parts
        namespace, metric, dims = parts[0], parts[1], parts[2:]
        dimensions = [{"Name": dims[k], "Value": dims[k + 1]} for k in range(0, len(dims) - 1, 2)]
        stat = options.get("stat", props.get("stat", "Average"))
        queries.append(
            {
                "Id": options.get("id", f"m{i}"),
                "Label": options.get("label", f"{metric} {stat}"),
                "MetricStat": {
                    "Metric": {"Namespace": namespace, "MetricName": metric, "Dimensions": dimensions},
                    "Period": int(options.get("period", props.get("period", 60))),
                    "Stat": stat,
                },
                "ReturnData": options.get("visible", True),
            }
        )
    return queries

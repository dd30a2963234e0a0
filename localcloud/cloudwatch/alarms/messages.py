"""What CloudWatch writes about alarms, in AWS's own formats.

StateReason and StateReasonData (as `aws cloudwatch describe-alarms` shows them), the alarm
notification CloudWatch publishes to SNS ("Using Amazon SNS to notify users": the JSON message
and its subject), and the history items DescribeAlarmHistory lists. Pure: alarms are duck-typed
(any object with moto's Alarm attributes: name, alarm_arn, region_name, state_value, ...).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from localcloud.cloudwatch.alarms.evaluation import Evaluation

INITIAL_REASON = "Unchecked: Initial alarm creation"

REGION_NAMES = {
    "us-east-1": "US East (N. Virginia)",
    "us-east-2": "US East (Ohio)",
    "us-west-1": "US West (N. California)",
    "us-west-2": "US West (Oregon)",
    "ca-central-1": "Canada (Central)",
    "eu-west-1": "EU (Ireland)",
    "eu-west-2": "EU (London)",
    "eu-west-3": "EU (Paris)",
    "eu-central-1": "EU (Frankfurt)",
    "eu-central-2": "EU (Zurich)",
    "eu-north-1": "EU (Stockholm)",
    "eu-south-1": "EU (Milan)",
    "ap-south-1": "Asia Pacific (Mumbai)",
    "ap-northeast-1": "Asia Pacific (Tokyo)",
    "ap-northeast-2": "Asia Pacific (Seoul)",
    "ap-northeast-3": "Asia Pacific (Osaka)",
    "ap-southeast-1": "Asia Pacific (Singapore)",
    "ap-southeast-2": "Asia Pacific (Sydney)",
    "ap-east-1": "Asia Pacific (Hong Kong)",
    "sa-east-1": "South America (Sao Paulo)",
    "me-south-1": "Middle East (Bahrain)",
    "af-south-1": "Africa (Cape Town)",
}

_PHRASES = {
    "GreaterThanThreshold": "greater than",
    "GreaterThanOrEqualToThreshold": "greater than or equal to",
    "LessThanThreshold": "less than",
    "LessThanOrEqualToThreshold": "less than or equal to",
}
_STATISTIC_NAMES = {
    "SampleCount": "SAMPLE_COUNT",
    "Sum": "SUM",
    "Average": "AVERAGE",
    "Minimum": "MINIMUM",
    "Maximum": "MAXIMUM",
}


# --- numbers and times -----------------------------------------------------------------------


def java_double(value: float) -> str:
    """A number written the way CloudWatch (Java's Double.toString) writes it: 5.0, 1.0E7."""
    value = float(value)
    if value == 0 or 1e-3 <= abs(value) < 1e7:
        return repr(value)
    number = Decimal(repr(value))
    digits = "".join(str(d) for d in number.as_tuple().digits).rstrip("0") or "0"
    sign = "-" if value < 0 else ""
    return f"{sign}{digits[0]}.{digits[1:] or '0'}E{number.adjusted()}"


def aws_timestamp(moment: datetime) -> str:
    """A timestamp as CloudWatch writes it in reasons and messages: 2026-11-27T12:00:00.000+0000."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}+0000"


def region_name(region: str) -> str:
    """The long region name CloudWatch notifications use (US East (N. Virginia))."""
    return REGION_NAMES.get(region, region)


def _plural(count: int, word: str) -> str:
    """'1 datapoint', '2 datapoints'."""
    return f"{count} {word}" + ("" if count == 1 else "s")


def _was(count: int) -> str:
    """'was' or 'were', agreeing with count."""
    return "was" if count == 1 else "were"


def _compact(data: dict[str, Any]) -> str:
    """JSON without spaces, as CloudWatch writes it."""
    return json.dumps(data, separators=(",", ":"))


# --- state reasons ---------------------------------------------------------------------------


def state_reason(
    evaluation: Evaluation,
    *,
    comparison_operator: str,
    threshold: float,
    evaluation_periods: int,
    datapoints_to_alarm: int | None,
) -> str:
    """The StateReason CloudWatch writes for an evaluation that changed the state."""
    n = int(evaluation_periods)
    m = int(datapoints_to_alarm or n)
    if evaluation.state == "INSUFFICIENT_DATA":
        return f"Insufficient Data: {_plural(n, 'datapoint')} {_was(n)} unknown."
    if evaluation.filled:
        kind = "Breaching" if evaluation.fill == "breaching" else "NonBreaching"
        received = len(evaluation.evaluated)
        head = "no datapoints were" if not received else f"{_plural(received, 'datapoint')} {_was(received)}"
        return (
            f"Threshold Crossed: {head} received for {_plural(n, 'period')} and "
            f"{_plural(evaluation.filled, 'missing datapoint')} {_was(evaluation.filled)} treated as [{kind}]."
        )
    newest_first = sorted(evaluation.evaluated, key=lambda point: point.timestamp, reverse=True)
    listed = ", ".join(f"{java_double(p.value)} ({p.timestamp:%d/%m/%y %H:%M:%S})" for p in newest_first)
    phrase = _PHRASES[comparison_operator]
    if evaluation.state == "ALARM":
        count, minimum, transition = evaluation.breaching, m, "OK -> ALARM"
    else:
        count, minimum, transition = len(newest_first) - evaluation.breaching, n - m + 1, "ALARM -> OK"
        phrase = f"not {phrase}"
    return (
        f"Threshold Crossed: {count} out of the last {len(newest_first)} datapoints [{listed}] {_was(count)} "
        f"{phrase} the threshold ({java_double(threshold)}) "
        f"(minimum {_plural(minimum, 'datapoint')} for {transition} transition)."
    )


def state_reason_data(
    evaluation: Evaluation,
    *,
    statistic: str | None,
    extended_statistic: str | None,
    period: int,
    threshold: float,
    query_date: datetime,
    range_starts: Sequence[datetime],
) -> str:
    """The StateReasonData JSON CloudWatch writes next to the reason."""
    data: dict[str, Any] = {"version": "1.0", "queryDate": aws_timestamp(query_date)}
    oldest = (
        evaluation.evaluated[0].timestamp
        if evaluation.evaluated
        else (range_starts[-1] if range_starts else None)
    )
    if oldest is not None:
        data["startDate"] = aws_timestamp(oldest)
    if extended_statistic:
        data["extendedStatistic"] = extended_statistic
    elif statistic:
        data["statistic"] = statistic
    data["period"] = int(period)
    data["recentDatapoints"] = [float(point.value) for point in evaluation.evaluated]
    data["threshold"] = float(threshold)
    if evaluation.evaluated:
        data["evaluatedDatapoints"] = [
            {
                "timestamp": aws_timestamp(p.timestamp),
                "sampleCount": float(p.sample_count),
                "value": float(p.value),
            }
            for p in sorted(evaluation.evaluated, key=lambda point: point.timestamp, reverse=True)
        ]
    elif range_starts:
        data["evaluatedDatapoints"] = [{"timestamp": aws_timestamp(range_starts[-1])}]
    return _compact(data)


# --- the SNS notification --------------------------------------------------------------------


def _dimensions_json(dimensions: Sequence[Any]) -> list[dict[str, str]]:
    """Dimensions as the notification's Trigger lists them."""
    return [{"value": d.value, "name": d.name} for d in dimensions]


def _trigger(alarm: Any) -> dict[str, Any]:
    """The Trigger object of an alarm notification."""
    trigger: dict[str, Any] = {}
    if alarm.metric_data_queries:
        trigger["Metrics"] = [_query_json(query) for query in alarm.metric_data_queries]
    else:
        trigger.update({"MetricName": alarm.metric_name, "Namespace": alarm.namespace})
        if alarm.extended_statistic:
            trigger.update(
                {"StatisticType": "ExtendedStatistic", "ExtendedStatistic": alarm.extended_statistic}
            )
        else:
            statistic = _STATISTIC_NAMES.get(alarm.statistic, str(alarm.statistic).upper())
            trigger.update({"StatisticType": "Statistic", "Statistic": statistic})
        trigger["Unit"] = alarm.unit
        trigger["Dimensions"] = _dimensions_json(alarm.dimensions)
        trigger["Period"] = int(alarm.period)
    trigger["EvaluationPeriods"] = int(alarm.evaluation_periods)
    if alarm.datapoints_to_alarm:
        trigger["DatapointsToAlarm"] = int(alarm.datapoints_to_alarm)
    trigger["ComparisonOperator"] = alarm.comparison_operator
    trigger["Threshold"] = float(alarm.threshold) if alarm.threshold is not None else None
    trigger["TreatMissingData"] = alarm.treat_missing_data or ""
    trigger["EvaluateLowSampleCountPercentile"] = alarm.evaluate_low_sample_count_percentile or ""
    return trigger


def _query_json(query: Any) -> dict[str, Any]:
    """One metric-math alarm query as the notification's Trigger.Metrics lists it."""
    out: dict[str, Any] = {"Id": query.id}
    if query.expression:
        out["Expression"] = query.expression
    if query.metric_stat:
        stat = query.metric_stat
        out["MetricStat"] = {
            "Metric": {
                "Dimensions": _dimensions_json(stat.metric.dimensions),
                "MetricName": stat.metric.metric_name,
                "Namespace": stat.metric.namespace,
            },
            "Period": int(stat.period),
            "Stat": stat.stat,
        }
    if query.label:
        out["Label"] = query.label
    out["ReturnData"] = query.return_data not in (False, "false")
    return out


def notification_message(alarm: Any, account_id: str, old_state: str, changed_at: datetime) -> dict[str, Any]:
    """The JSON message CloudWatch publishes to SNS when an alarm changes state."""
    return {
        "AlarmName": alarm.name,
        "AlarmDescription": alarm.description,
        "AWSAccountId": account_id,
        "AlarmConfigurationUpdatedTimestamp": aws_timestamp(alarm.configuration_updated_timestamp),
        "NewStateValue": alarm.state_value,
        "NewStateReason": alarm.state_reason,
        "StateChangeTime": aws_timestamp(changed_at),
        "Region": region_name(alarm.region_name),
        "AlarmArn": alarm.alarm_arn,
        "OldStateValue": old_state,
        "OKActions": list(alarm.ok_actions or []),
        "AlarmActions": list(alarm.alarm_actions or []),
        "InsufficientDataActions": list(alarm.insufficient_data_actions or []),
        "Trigger": _trigger(alarm),
    }


def notification_subject(alarm_name: str, state: str, region: str) -> str:
    """The SNS subject: ALARM: "name" in US East (N. Virginia) (SNS allows 100 characters)."""
    return f'{state}: "{alarm_name}" in {region_name(region)}'[:100]


# --- history items ---------------------------------------------------------------------------


def _alarm_json(alarm: Any) -> dict[str, Any]:
    """An alarm's configuration as history data shows it."""
    out = {
        "alarmName": alarm.name,
        "alarmArn": alarm.alarm_arn,
        "alarmDescription": alarm.description,
        "actionsEnabled": bool(alarm.actions_enabled),
        "okActions": list(alarm.ok_actions or []),
        "alarmActions": list(alarm.alarm_actions or []),
        "insufficientDataActions": list(alarm.insufficient_data_actions or []),
        "namespace": alarm.namespace,
        "metricName": alarm.metric_name,
        "dimensions": [{"name": d.name, "value": d.value} for d in alarm.dimensions],
        "period": alarm.period,
        "evaluationPeriods": alarm.evaluation_periods,
        "datapointsToAlarm": alarm.datapoints_to_alarm,
        "threshold": alarm.threshold,
        "comparisonOperator": alarm.comparison_operator,
        "treatMissingData": alarm.treat_missing_data,
        "timeout": None,
    }
    if alarm.extended_statistic:
        out["extendedStatistic"] = alarm.extended_statistic
    else:
        out["statistic"] = alarm.statistic
    return {key: value for key, value in out.items() if value is not None}


def history_item(
    alarm_name: str, item_type: str, summary: str, data: dict[str, Any], when: datetime
) -> dict[str, Any]:
    """One AlarmHistoryItem as DescribeAlarmHistory lists it (Timestamp naive UTC)."""
    return {
        "AlarmName": alarm_name,
        "AlarmType": "MetricAlarm",
        "Timestamp": when,
        "HistoryItemType": item_type,
        "HistorySummary": summary,
        "HistoryData": _compact(data),
    }


def creation_item(alarm: Any, when: datetime) -> dict[str, Any]:
    """The ConfigurationUpdate item PutMetricAlarm records for a new alarm."""
    data = {"type": "Create", "version": "1.0", "createdAlarm": _alarm_json(alarm)}
    return history_item(alarm.name, "ConfigurationUpdate", f'Alarm "{alarm.name}" created', data, when)


def update_item(original: Any, updated: Any, when: datetime) -> dict[str, Any]:
    """The ConfigurationUpdate item PutMetricAlarm records for an existing alarm."""
    data = {
        "type": "Update",
        "version": "1.0",
        "originalAlarm": _alarm_json(original),
        "updatedAlarm": _alarm_json(updated),
    }
    return history_item(updated.name, "ConfigurationUpdate", f'Alarm "{updated.name}" updated', data, when)


def state_update_item(alarm: Any, old_state: str, old_reason: str, when: datetime) -> dict[str, Any]:
    """The StateUpdate item for an alarm that just moved from old_state to its current state."""
    new_state: dict[str, Any] = {"stateValue": alarm.state_value, "stateReason": alarm.state_reason}
    if alarm.state_reason_data:
        try:
            new_state["stateReasonData"] = json.loads(alarm.state_reason_data)
        except ValueError:
            pass
    data = {
        "version": "1.0",
        "oldState": {"stateValue": old_state, "stateReason": old_reason},
        "newState": new_state,
    }
    summary = f"Alarm updated from {old_state} to {alarm.state_value}"
    return history_item(alarm.name, "StateUpdate", summary, data, when)


def action_item(
    alarm_name: str, topic_arn: str, state_updated: datetime, message: str, error: Exception | None
) -> dict[str, Any]:
    """The Action item for one notification: published (message) or failed (error)."""
    data: dict[str, Any]
    if error is not None:
        summary = f"Failed to execute action {topic_arn}. Received error: {error}"
        data = {"actionState": "Failed", "notificationResource": topic_arn, "error": str(error)}
    else:
        summary = f"Successfully executed action {topic_arn}"
        data = {
            "actionState": "Succeeded",
            "notificationResource": topic_arn,
            "publishedMessage": json.loads(message),
        }
    data["stateUpdateTimestamp"] = int(state_updated.replace(tzinfo=UTC).timestamp() * 1000)
    return history_item(alarm_name, "Action", summary, data, state_updated)

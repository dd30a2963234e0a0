"""CloudWatch alarm evaluation and actions for the local cloud (moto never evaluates alarms).

install() patches moto 5.2.5 so that:

- new alarms start in INSUFFICIENT_DATA ("Unchecked: Initial alarm creation"); putting an
  existing alarm again keeps its state; each put is recorded as a configuration update;
- a daemon thread, started with the first alarm, evaluates every metric alarm of every
  account and region every WORKSHOP_ALARM_INTERVAL seconds (default 10; `set_interval`): under
  the local profile all together, under the aws profile each alarm at its own phase of the
  interval (`profile.delay("alarm_offset", alarm_arn)`, a share of it), as AWS evaluates each
  alarm on its own schedule (`Schedule`);
- a state change writes StateReason / StateReasonData the way CloudWatch words them, records
  a "StateUpdate" history item, and publishes the AWS alarm notification to each SNS topic
  in AlarmActions / OKActions / InsufficientDataActions (once per change);
- SetAlarmState runs the actions too; DescribeAlarmHistory answers from the recorded history.

Evaluation follows "Using Amazon CloudWatch alarms" (Evaluating an alarm; Configuring how
CloudWatch alarms treat missing data):

- the newest period evaluated is the last one that has fully ended (periods are aligned to
  multiples of Period since the epoch);
- the evaluation range is EvaluationPeriods + 2 periods (the documentation's examples
  retrieve 5 for N = 3; AWS does not publish its exact rule);
- with at least N real datapoints in the range the newest N are evaluated; otherwise every
  real datapoint is used and the rest is filled according to TreatMissingData (`missing`,
  `ignore`, `breaching`, `notBreaching`), which reproduces every row of both tables in the
  documentation (see tests/test_alarm_evaluation.py). With `missing`, a lone run of breaching
  datapoints whose oldest is at least DatapointsToAlarm periods old also alarms (the AWS
  knowledge-center note "Why did my CloudWatch alarm send me a notification after a single
  breached data point?");
- EvaluateLowSampleCountPercentile=ignore keeps the state while an evaluated datapoint has
  fewer than 10/(1-p) samples (10/p below p50);
- metrics in AWS/DynamoDB always ignore missing data, as AWS documents.

Not evaluated: anomaly-detection band alarms (LessThanLowerOrGreaterThanUpperThreshold, ...)
and composite alarms. Only SNS topic actions run; other action ARNs are recorded as failed.
"""

from __future__ import annotations

import inspect
import json
import logging
import math
import os
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from helpers.local import profile, statistics
from helpers.local.hooks import MOTO_VERSION
from helpers.local.locks import cloudwatch_lock, locked

DEFAULT_INTERVAL_S = 10.0
EXTRA_RANGE_PERIODS = 2
HISTORY_RETENTION = timedelta(days=14)
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

_BREACHES: dict[str, Callable[[float, float], bool]] = {
    "GreaterThanThreshold": lambda value, threshold: value > threshold,
    "GreaterThanOrEqualToThreshold": lambda value, threshold: value >= threshold,
    "LessThanThreshold": lambda value, threshold: value < threshold,
    "LessThanOrEqualToThreshold": lambda value, threshold: value <= threshold,
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

log = logging.getLogger(__name__)
_installed = False
_originals: dict[str, Callable] = {}


# --- pure evaluation -----------------------------------------------------------------------


@dataclass(frozen=True)
class Point:
    """One period's datapoint: when its period starts, its value, how many samples it holds."""

    timestamp: datetime
    value: float
    sample_count: float = 1.0


@dataclass(frozen=True)
class Evaluation:
    """What one evaluation decided, with what the reason text needs."""

    state: str
    evaluated: tuple[Point, ...] = ()  # real datapoints evaluated, oldest first
    breaching: int = 0  # breaching datapoints among the evaluated ones, filled ones included
    filled: int = 0  # missing datapoints filled by TreatMissingData
    fill: str | None = None  # "breaching" or "notBreaching" when points were filled
    retained: bool = False  # the state was kept (ignore, or too few samples)


def breaches(value: float, comparison_operator: str, threshold: float) -> bool:
    """Whether a value is on the alarming side of the threshold."""
    try:
        return _BREACHES[comparison_operator](value, threshold)
    except KeyError:
        raise ValueError(
            f"Comparison operator {comparison_operator} is not evaluated by the local cloud"
        ) from None


def low_sample_minimum(percentile: float) -> float:
    """Fewest samples a period needs before a pNN statistic is statistically significant."""
    fraction = percentile / 100.0
    if fraction >= 0.5:
        return math.inf if fraction >= 1 else 10.0 / (1.0 - fraction)
    return math.inf if fraction <= 0 else 10.0 / fraction


def evaluate(
    points: Sequence[Point | None],
    *,
    evaluation_periods: int,
    comparison_operator: str,
    threshold: float,
    datapoints_to_alarm: int | None = None,
    treat_missing_data: str | None = None,
    current_state: str = "INSUFFICIENT_DATA",
    min_samples: float | None = None,
) -> Evaluation:
    """Decide an alarm's state from its evaluation range (oldest first; None for a missing period).

    min_samples: with EvaluateLowSampleCountPercentile=ignore, the sample count below which an
    evaluated datapoint makes the alarm keep its state.
    """
    n = int(evaluation_periods)
    m = int(datapoints_to_alarm or n)
    treatment = treat_missing_data or "missing"
    real = [(index, point) for index, point in enumerate(points) if point is not None]
    chosen = real[-n:] if len(real) >= n else real
    evaluated = tuple(point for _, point in chosen)
    if min_samples is not None and any(point.sample_count < min_samples for point in evaluated):
        return Evaluation(current_state, evaluated, retained=True)
    flags = [breaches(point.value, comparison_operator, threshold) for point in evaluated]
    breaching = sum(flags)
    if len(real) >= n:
        return Evaluation("ALARM" if breaching >= m else "OK", evaluated, breaching)
    filled = n - len(real)
    if treatment in ("breaching", "notBreaching"):
        total = breaching + (filled if treatment == "breaching" else 0)
        return Evaluation("ALARM" if total >= m else "OK", evaluated, total, filled, treatment)
    if breaching >= m:
        return Evaluation("ALARM", evaluated, breaching)
    if breaching < len(evaluated):
        return Evaluation("OK", evaluated, breaching)
    if treatment == "missing" and evaluated:
        oldest_age = len(points) - chosen[0][0]
        if oldest_age >= m:
            return Evaluation("ALARM", evaluated, breaching)
    if treatment == "missing":
        return Evaluation("INSUFFICIENT_DATA", evaluated, breaching)
    return Evaluation(current_state, evaluated, breaching, retained=True)


# --- reasons and messages ------------------------------------------------------------------


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


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" + ("" if count == 1 else "s")


def _was(count: int) -> str:
    return "was" if count == 1 else "were"


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
    return json.dumps(data, separators=(",", ":"))


def region_name(region: str) -> str:
    """The long region name CloudWatch notifications use (US East (N. Virginia))."""
    return REGION_NAMES.get(region, region)


def _dimensions_json(dimensions: Sequence[Any]) -> list[dict[str, str]]:
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


# --- state changes, history, actions -------------------------------------------------------


@dataclass
class Notification:
    """One SNS publish an alarm state change asks for (run after cloudwatch_lock is released)."""

    backend: Any
    alarm_name: str
    topic_arn: str
    subject: str
    message: str
    state_updated: datetime = field(default_factory=lambda: datetime.now(UTC).replace(tzinfo=None))


def _history(backend: Any) -> list[dict[str, Any]]:
    """The backend's alarm history (lives on the backend, so a moto reset empties it)."""
    if not hasattr(backend, "_workshop_alarm_history"):
        backend._workshop_alarm_history = []
    return backend._workshop_alarm_history


def _record(
    backend: Any, alarm_name: str, item_type: str, summary: str, data: dict[str, Any], when: datetime
) -> None:
    """Append one history item."""
    _history(backend).append(
        {
            "AlarmName": alarm_name,
            "AlarmType": "MetricAlarm",
            "Timestamp": when,
            "HistoryItemType": item_type,
            "HistorySummary": summary,
            "HistoryData": json.dumps(data, separators=(",", ":")),
        }
    )


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


def change_state(
    backend: Any, alarm: Any, new_state: str, reason: str, reason_data: str | None, when: datetime
) -> list[Notification]:
    """Move an alarm to a new state, record it, and return the notifications its actions ask for.

    Call with cloudwatch_lock held; publish the notifications after releasing it.
    """
    old_state, old_reason = alarm.state_value, alarm.state_reason
    alarm.state_value = new_state
    alarm.state_reason = reason
    alarm.state_reason_data = reason_data
    alarm.state_updated_timestamp = when
    alarm.state_transitioned_timestamp = when
    return _after_state_change(backend, alarm, old_state, old_reason, when)


def _after_state_change(
    backend: Any, alarm: Any, old_state: str, old_reason: str, when: datetime
) -> list[Notification]:
    """Record a state change that happened and collect the notifications for it."""
    new_state = {"stateValue": alarm.state_value, "stateReason": alarm.state_reason}
    if alarm.state_reason_data:
        try:
            new_state["stateReasonData"] = json.loads(alarm.state_reason_data)
        except ValueError:
            pass
    _record(
        backend,
        alarm.name,
        "StateUpdate",
        f"Alarm updated from {old_state} to {alarm.state_value}",
        {
            "version": "1.0",
            "oldState": {"stateValue": old_state, "stateReason": old_reason},
            "newState": new_state,
        },
        when,
    )
    if not alarm.actions_enabled and alarm.actions_enabled is not None:
        return []
    actions = {
        "ALARM": alarm.alarm_actions,
        "OK": alarm.ok_actions,
        "INSUFFICIENT_DATA": alarm.insufficient_data_actions,
    }[alarm.state_value] or []
    message = json.dumps(notification_message(alarm, backend.account_id, old_state, when))
    subject = notification_subject(alarm.name, alarm.state_value, alarm.region_name)
    return [Notification(backend, alarm.name, arn, subject, message, when) for arn in actions]


def publish(notifications: Sequence[Notification]) -> None:
    """Publish alarm notifications to SNS and record each action (never under cloudwatch_lock)."""
    from moto.sns.models import sns_backends

    for note in notifications:
        parts = note.topic_arn.split(":")
        try:
            if len(parts) < 6 or parts[2] != "sns":
                raise ValueError("the local cloud runs SNS topic actions only")
            sns_backends[parts[4]][parts[3]].publish(note.message, note.topic_arn, subject=note.subject)
        except Exception as exc:  # a broken action must not stop the evaluator
            summary = f"Failed to execute action {note.topic_arn}. Received error: {exc}"
            data: dict[str, Any] = {
                "actionState": "Failed",
                "notificationResource": note.topic_arn,
                "error": str(exc),
            }
            log.warning("alarm %s: %s", note.alarm_name, summary)
        else:
            summary = f"Successfully executed action {note.topic_arn}"
            data = {
                "actionState": "Succeeded",
                "notificationResource": note.topic_arn,
                "publishedMessage": json.loads(note.message),
            }
        data["stateUpdateTimestamp"] = int(note.state_updated.replace(tzinfo=UTC).timestamp() * 1000)
        with cloudwatch_lock:
            _record(note.backend, note.alarm_name, "Action", summary, data, note.state_updated)


# --- evaluating moto's alarms --------------------------------------------------------------


def _utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _alarm_period(alarm: Any) -> int:
    """The alarm's period: its own, or its metric queries' for metric-math alarms."""
    if alarm.period:
        return int(alarm.period)
    for query in alarm.metric_data_queries:
        if query.metric_stat and query.metric_stat.period:
            return int(query.metric_stat.period)
        if query.period:
            return int(query.period)
    return 60


def _query_dicts(alarm: Any) -> list[dict[str, Any]]:
    """A metric-math alarm's queries in GetMetricData form."""
    queries = []
    for query in alarm.metric_data_queries:
        item: dict[str, Any] = {"Id": query.id}
        if query.metric_stat:
            stat = query.metric_stat
            item["MetricStat"] = {
                "Metric": {
                    "Namespace": stat.metric.namespace,
                    "MetricName": stat.metric.metric_name,
                    "Dimensions": [{"Name": d.name, "Value": d.value} for d in stat.metric.dimensions],
                },
                "Period": int(stat.period or _alarm_period(alarm)),
                "Stat": stat.stat,
            }
            if stat.unit:
                item["MetricStat"]["Unit"] = stat.unit
        if query.expression:
            item["Expression"] = query.expression
        if query.period:
            item["Period"] = int(query.period)
        item["ReturnData"] = query.return_data not in (False, "false")
        queries.append(item)
    return queries


def _range_points(backend: Any, alarm: Any, starts: list[datetime], period: int) -> list[Point | None]:
    """The alarm's datapoint for each period of its evaluation range (None when missing)."""
    end = starts[-1] + timedelta(seconds=period)
    if alarm.metric_data_queries:
        queries = _query_dicts(alarm)
        series = statistics.metric_series(backend, queries, starts[0], end)
        returned = [q["Id"] for q in queries if q.get("ReturnData")] or [queries[-1]["Id"]]
        values = series.get(returned[0], {})
        found = {moment: Point(moment, value) for moment, value in values.items()}
    else:
        statistic = alarm.extended_statistic or alarm.statistic
        rows = statistics.datapoints(
            backend,
            alarm.namespace,
            alarm.metric_name,
            alarm.dimensions,
            statistic,
            period,
            starts[0],
            end,
            unit=alarm.unit,
        )
        found = {moment: Point(moment, value, count) for moment, value, count in rows}
    return [found.get(moment) for moment in starts]


def _range_starts(now: datetime, period: int, evaluation_periods: int) -> list[datetime]:
    """Period starts of the evaluation range, oldest first, ending with the last period fully ended."""
    epoch = datetime(1970, 1, 1)
    seconds = int((now - epoch).total_seconds())
    last_end = seconds - seconds % period
    count = int(evaluation_periods) + EXTRA_RANGE_PERIODS
    return [epoch + timedelta(seconds=last_end - (count - i) * period) for i in range(count)]


def evaluate_alarm(backend: Any, alarm: Any, now: datetime) -> list[Notification]:
    """Evaluate one metric alarm at `now`, change its state if due; return the notifications."""
    if alarm.comparison_operator not in _BREACHES or getattr(alarm, "rule", None):
        return []
    period = _alarm_period(alarm)
    starts = _range_starts(now, period, alarm.evaluation_periods)
    points = _range_points(backend, alarm, starts, period)
    treatment = "ignore" if alarm.namespace == "AWS/DynamoDB" else alarm.treat_missing_data
    min_samples = None
    percentile = statistics.percentile_of(alarm.extended_statistic or "")
    if percentile is not None and alarm.evaluate_low_sample_count_percentile == "ignore":
        min_samples = low_sample_minimum(percentile)
    result = evaluate(
        points,
        evaluation_periods=alarm.evaluation_periods,
        datapoints_to_alarm=alarm.datapoints_to_alarm,
        comparison_operator=alarm.comparison_operator,
        threshold=float(alarm.threshold),
        treat_missing_data=treatment,
        current_state=alarm.state_value,
        min_samples=min_samples,
    )
    if result.retained or result.state == alarm.state_value:
        return []
    reason = state_reason(
        result,
        comparison_operator=alarm.comparison_operator,
        threshold=float(alarm.threshold),
        evaluation_periods=alarm.evaluation_periods,
        datapoints_to_alarm=alarm.datapoints_to_alarm,
    )
    reason_data = state_reason_data(
        result,
        statistic=alarm.statistic,
        extended_statistic=alarm.extended_statistic,
        period=period,
        threshold=float(alarm.threshold),
        query_date=now,
        range_starts=starts,
    )
    return change_state(backend, alarm, result.state, reason, reason_data, now)


def _backends() -> list[Any]:
    """Every CloudWatch backend moto has created so far."""
    from moto.cloudwatch.models import cloudwatch_backends

    found = []
    for account_backends in list(dict.values(cloudwatch_backends)):
        found.extend(list(dict.values(account_backends)))
    return found


def evaluate_all(now: datetime | None = None, due: Callable[[Any], bool] | None = None) -> int:
    """Evaluate every metric alarm (those `due` accepts) in every account and region at `now`;
    return how many changed."""
    now = statistics.naive_utc(now) if now is not None else _utcnow()
    notifications: list[Notification] = []
    changed = 0
    with cloudwatch_lock:
        for backend in _backends():
            for alarm in list(backend.alarms.values()):
                if due is not None and not due(alarm):
                    continue
                try:
                    before = alarm.state_value
                    notifications.extend(evaluate_alarm(backend, alarm, now))
                    changed += alarm.state_value != before
                except Exception:  # one broken alarm must not stop the others
                    log.exception("evaluating alarm %s failed", getattr(alarm, "name", "?"))
    publish(notifications)
    return changed


# --- the background evaluator --------------------------------------------------------------


class Schedule:
    """When each alarm is due under the aws profile: once per interval, at its own phase.

    An alarm's phase is a share of the interval (`profile.delay("alarm_offset", arn)`, drawn once
    per alarm); it is due whenever the epoch second passes k * interval + share * interval. An
    alarm is first due at the first such moment after it was first seen.
    """

    def __init__(self, shares: dict[str, float] | None = None) -> None:
        self.shares: dict[str, float] = dict(shares or {})
        self.slots: dict[str, int] = {}

    def share(self, arn: str) -> float:
        """The alarm's phase as a share of the interval (drawn on first use)."""
        if arn not in self.shares:
            self.shares[arn] = profile.current().delay("alarm_offset", arn)
        return self.shares[arn]

    def _slot(self, arn: str, now: float, interval: float) -> int:
        return math.floor(now / interval - self.share(arn))

    def due(self, arn: str, now: float, interval: float) -> bool:
        """Whether the alarm's moment passed since it was last asked about (epoch seconds now)."""
        slot = self._slot(arn, now, interval)
        last = self.slots.get(arn)
        self.slots[arn] = slot
        return last is not None and slot > last

    def seconds_to_next(self, now: float, interval: float) -> float:
        """Seconds until the next alarm seen so far is due (an interval when none was seen)."""
        if not self.slots:
            return interval
        return min((slot + 1 + self.share(arn)) * interval - now for arn, slot in self.slots.items())

    def forget_except(self, arns: set[str]) -> None:
        """Drop the alarms that no longer exist."""
        for arn in set(self.slots) - arns:
            self.slots.pop(arn, None)


class _Evaluator:
    """Runs evaluate_all every `interval` seconds on a daemon thread."""

    def __init__(self) -> None:
        self.interval = float(os.environ.get("WORKSHOP_ALARM_INTERVAL") or DEFAULT_INTERVAL_S)
        self.condition = threading.Condition()
        self.running_pass = threading.Lock()
        self.next_due = time.monotonic() + self.interval
        self.thread: threading.Thread | None = None
        self.pid: int | None = None
        self.schedule = Schedule()

    def ensure_started(self) -> None:
        with self.condition:
            if self.thread is not None and self.thread.is_alive() and self.pid == os.getpid():
                return
            self.pid = os.getpid()
            self.next_due = time.monotonic() + self.interval
            self.thread = threading.Thread(target=self.loop, name="workshop-alarm-evaluator", daemon=True)
            self.thread.start()

    def set_interval(self, seconds: float) -> None:
        with self.condition:
            self.interval = float(seconds)
            self.next_due = time.monotonic() + self.interval
            self.condition.notify_all()
        with self.running_pass:  # let a pass already under way finish first
            pass

    def loop(self) -> None:
        while True:
            with self.condition:
                while (remaining := self.next_due - time.monotonic()) > 0:
                    self.condition.wait(remaining)
                interval = self.interval
                self.next_due = time.monotonic() + interval
                self.running_pass.acquire()
            try:
                if profile.current().aws:
                    wait = self.scheduled_pass(interval)
                    with self.condition:
                        self.next_due = min(self.next_due, time.monotonic() + wait)
                else:
                    evaluate_all()
            except Exception:
                log.exception("alarm evaluation pass failed")
            finally:
                self.running_pass.release()

    def scheduled_pass(self, interval: float) -> float:
        """Evaluate the alarms whose moment has come; return the seconds until the next pass."""
        now = time.time()
        seen: set[str] = set()

        def due(alarm: Any) -> bool:
            seen.add(alarm.alarm_arn)
            return self.schedule.due(alarm.alarm_arn, now, interval)

        evaluate_all(due=due)
        self.schedule.forget_except(seen)
        # Wake for the next alarm's moment, and often enough to see new alarms arrive.
        return max(0.005, min(self.schedule.seconds_to_next(time.time(), interval) + 0.005, interval / 10))


_evaluator = _Evaluator()


def set_interval(seconds: float) -> None:
    """Evaluate alarms every `seconds` from now on (returns after any pass under way finished)."""
    _evaluator.set_interval(seconds)


def interval() -> float:
    """Seconds between two evaluation passes of the background evaluator."""
    return _evaluator.interval


# --- moto hooks ----------------------------------------------------------------------------


def _put_metric_alarm(self: Any, *args: Any, **kwargs: Any) -> Any:
    """PutMetricAlarm: new alarms start INSUFFICIENT_DATA, updates keep state; both are recorded."""
    bound = _signatures["put_metric_alarm"].bind(self, *args, **kwargs)
    name = bound.arguments["name"]
    with cloudwatch_lock:
        existing = self.alarms.get(name)
        if existing is not None and "tags" in bound.arguments:
            # AWS ignores Tags when PutMetricAlarm updates an alarm (TagResource changes them); moto replaces them.
            bound.arguments["tags"] = None
        alarm = _originals["put_metric_alarm"](*bound.args, **bound.kwargs)
        when = alarm.configuration_updated_timestamp
        if existing is not None and existing is not alarm:
            for attribute in (
                "state_value",
                "state_reason",
                "state_reason_data",
                "state_updated_timestamp",
                "history",
            ):
                setattr(alarm, attribute, getattr(existing, attribute))
            alarm.state_transitioned_timestamp = getattr(
                existing, "state_transitioned_timestamp", existing.state_updated_timestamp
            )
            _record(
                self,
                name,
                "ConfigurationUpdate",
                f'Alarm "{name}" updated',
                {
                    "type": "Update",
                    "version": "1.0",
                    "originalAlarm": _alarm_json(existing),
                    "updatedAlarm": _alarm_json(alarm),
                },
                when,
            )
        else:
            alarm.state_value = "INSUFFICIENT_DATA"
            alarm.state_reason = INITIAL_REASON
            alarm.state_reason_data = None
            alarm.state_updated_timestamp = when
            alarm.state_transitioned_timestamp = when
            _record(
                self,
                name,
                "ConfigurationUpdate",
                f'Alarm "{name}" created',
                {"type": "Create", "version": "1.0", "createdAlarm": _alarm_json(alarm)},
                when,
            )
    _evaluator.ensure_started()
    return alarm


def _set_alarm_state(self: Any, alarm_name: str, reason: str, reason_data: str, state_value: str) -> None:
    """SetAlarmState: change the state until the next evaluation, and run the actions on a change."""
    with cloudwatch_lock:
        alarm = self.alarms.get(alarm_name)
        old_state = alarm.state_value if alarm else None
        old_reason = alarm.state_reason if alarm else None
        _originals["set_alarm_state"](self, alarm_name, reason, reason_data, state_value)
        alarm = self.alarms[alarm_name]
        alarm.state_updated_timestamp = _utcnow()
        notifications = []
        if old_state != state_value:
            # moto raised ResourceNotFound above for an alarm that did not exist: it had a state and a reason
            assert old_state is not None and old_reason is not None
            alarm.state_transitioned_timestamp = alarm.state_updated_timestamp
            notifications = _after_state_change(
                self, alarm, old_state, old_reason, alarm.state_updated_timestamp
            )
    publish(notifications)


def _alarm_history_items(
    backend: Any,
    *,
    alarm_name: str | None,
    alarm_types: Sequence[str] | None,
    item_type: str | None,
    start: datetime | None,
    end: datetime | None,
    scan_by: str | None,
) -> list[dict[str, Any]]:
    """History items matching DescribeAlarmHistory's filters, in the requested order."""
    oldest_kept = _utcnow() - HISTORY_RETENTION
    with cloudwatch_lock:
        items = list(_history(backend))
    items = [item for item in items if item["Timestamp"] >= oldest_kept or item["Timestamp"] > _utcnow()]
    if alarm_name:
        items = [item for item in items if item["AlarmName"] == alarm_name]
    if alarm_types:
        items = [item for item in items if item["AlarmType"] in alarm_types]
    if item_type:
        items = [item for item in items if item["HistoryItemType"] == item_type]
    if start is not None:
        items = [item for item in items if item["Timestamp"] >= statistics.naive_utc(start)]
    if end is not None:
        items = [item for item in items if item["Timestamp"] <= statistics.naive_utc(end)]
    indexed = sorted(
        enumerate(items),
        key=lambda pair: (pair[1]["Timestamp"], pair[0]),
        reverse=scan_by != "TimestampAscending",
    )
    return [item for _, item in indexed]


def _describe_alarm_history(self: Any) -> Any:
    """DescribeAlarmHistory (moto lacks it): state updates, configuration updates, actions."""
    from moto.core.responses import ActionResult

    items = _alarm_history_items(
        self.cloudwatch_backend,
        alarm_name=self._get_param("AlarmName"),
        alarm_types=self._get_param("AlarmTypes", []),
        item_type=self._get_param("HistoryItemType"),
        start=self._get_param("StartDate"),
        end=self._get_param("EndDate"),
        scan_by=self._get_param("ScanBy"),
    )
    offset = int(self._get_param("NextToken") or 0)
    limit = int(self._get_param("MaxRecords") or 100)
    page = items[offset : offset + limit]
    result: dict[str, Any] = {"AlarmHistoryItems": page}
    if offset + limit < len(items):
        result["NextToken"] = str(offset + limit)
    return ActionResult(result)


def _snapshot(method: Callable) -> Callable:
    """The backend method run under cloudwatch_lock, returning a list snapshot."""

    def run(*args: Any, **kwargs: Any) -> list[Any]:
        with cloudwatch_lock:
            return list(method(*args, **kwargs))

    run.__name__ = method.__name__
    run.__doc__ = method.__doc__
    return run


_signatures: dict[str, inspect.Signature] = {}


def _check(target: Callable, expected: Sequence[str]) -> inspect.Signature:
    """Fail loudly when moto's method no longer takes the parameters this hook relies on."""
    signature = inspect.signature(target)
    names = list(signature.parameters)
    if names[: len(expected)] != list(expected):
        raise RuntimeError(
            f"moto changed {target.__qualname__}{signature}; "
            f"helpers/local/alarms.py was written against moto {MOTO_VERSION}"
        )
    return signature


def install() -> None:
    """Make moto's CloudWatch alarms start, evaluate, notify and keep history like AWS (idempotent)."""
    global _installed
    if _installed:
        return
    from moto.cloudwatch.models import Alarm, CloudWatchBackend
    from moto.cloudwatch.responses import CloudWatchResponse

    _signatures["put_metric_alarm"] = _check(
        CloudWatchBackend.put_metric_alarm,
        [
            "self",
            "name",
            "namespace",
            "metric_name",
            "comparison_operator",
            "evaluation_periods",
            "period",
            "threshold",
            "statistic",
            "description",
            "dimensions",
            "alarm_actions",
        ],
    )
    _check(CloudWatchBackend.set_alarm_state, ["self", "alarm_name", "reason", "reason_data", "state_value"])
    _check(CloudWatchBackend.delete_alarms, ["self", "alarm_names"])
    _check(Alarm.update_state, ["self", "reason", "reason_data", "state_value"])
    for name in (
        "describe_alarms",
        "get_alarms_by_action_prefix",
        "get_alarms_by_alarm_name_prefix",
        "get_alarms_by_alarm_names",
        "get_alarms_by_state_value",
    ):
        _check(getattr(CloudWatchBackend, name), ["self"])
    if hasattr(CloudWatchResponse, "describe_alarm_history"):
        raise RuntimeError("moto now has DescribeAlarmHistory; review helpers/local/alarms.py")

    _originals["put_metric_alarm"] = CloudWatchBackend.put_metric_alarm
    _originals["set_alarm_state"] = CloudWatchBackend.set_alarm_state
    # The hooks: patching moto's classes by assignment, which mypy cannot type.
    CloudWatchBackend.put_metric_alarm = _put_metric_alarm  # type: ignore[method-assign]
    CloudWatchBackend.set_alarm_state = _set_alarm_state  # type: ignore[method-assign]
    CloudWatchBackend.delete_alarms = locked(CloudWatchBackend.delete_alarms)  # type: ignore[method-assign]
    CloudWatchBackend.enable_alarm_actions = locked(CloudWatchBackend.enable_alarm_actions)  # type: ignore[method-assign]
    CloudWatchBackend.disable_alarm_actions = locked(CloudWatchBackend.disable_alarm_actions)  # type: ignore[method-assign]
    for name in (
        "describe_alarms",
        "get_alarms_by_action_prefix",
        "get_alarms_by_alarm_name_prefix",
        "get_alarms_by_alarm_names",
        "get_alarms_by_state_value",
    ):
        setattr(CloudWatchBackend, name, _snapshot(getattr(CloudWatchBackend, name)))
    CloudWatchResponse.describe_alarm_history = _describe_alarm_history  # type: ignore[attr-defined]  # an action moto lacks
    _installed = True

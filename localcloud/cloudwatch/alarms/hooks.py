"""Where moto gets patched for alarms: PutMetricAlarm, SetAlarmState, DescribeAlarmHistory, locking.

install() hooks moto's CloudWatch backend (all through localcloud.patching) so that:

- PutMetricAlarm starts a new alarm in INSUFFICIENT_DATA ("Unchecked: Initial alarm creation"),
  keeps the state of an alarm put again (and, as AWS does, its tags: TagResource changes them),
  records each put as a ConfigurationUpdate history item, and starts the evaluator;
- SetAlarmState runs the actions of a state change and records it;
- DescribeAlarmHistory, an action moto lacks, answers from the recorded history;
- the calls that read or change alarms hold cloudwatch_lock, and the DescribeAlarms look-ups
  answer a snapshot, so the evaluator thread never sees an alarm half-changed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from localcloud import patching, profile
from localcloud.cloudwatch.alarms import evaluator, history, messages
from localcloud.cloudwatch.alarms.actions import Notification, publish, state_changed, utcnow
from localcloud.locks import cloudwatch_lock, locked

PUT_METRIC_ALARM_PARAMS = [
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
    "metric_data_queries",
    "datapoints_to_alarm",
    "extended_statistic",
    "ok_actions",
    "insufficient_data_actions",
    "unit",
    "actions_enabled",
    "treat_missing_data",
    "evaluate_low_sample_count_percentile",
    "threshold_metric_id",
    "rule",
    "tags",
]
# The alarm state that survives PutMetricAlarm on an existing alarm.
KEPT_ON_UPDATE = ("state_value", "state_reason", "state_reason_data", "state_updated_timestamp", "history")
SNAPSHOT_LOOKUPS = {
    "describe_alarms": ["self"],
    "get_alarms_by_action_prefix": ["self", "action_prefix"],
    "get_alarms_by_alarm_name_prefix": ["self", "name_prefix"],
    "get_alarms_by_alarm_names": ["self", "alarm_names"],
    "get_alarms_by_state_value": ["self", "target_state"],
}
LOCKED_CHANGES = ("delete_alarms", "enable_alarm_actions", "disable_alarm_actions")


def _put_metric_alarm(original: Callable[..., Any]) -> Callable[..., Any]:
    """PutMetricAlarm: new alarms start INSUFFICIENT_DATA, updates keep state; both are recorded."""

    # moto's CloudWatchResponse passes every parameter by name.
    def put_metric_alarm(self: Any, *, name: str, **params: Any) -> Any:
        with cloudwatch_lock:
            existing = self.alarms.get(name)
            if existing is not None and "tags" in params:
                # AWS ignores Tags when PutMetricAlarm updates an alarm (TagResource changes them); moto replaces them.
                params["tags"] = None
            alarm = original(self, name=name, **params)
            when = alarm.configuration_updated_timestamp
            if existing is not None and existing is not alarm:
                for attribute in KEPT_ON_UPDATE:
                    setattr(alarm, attribute, getattr(existing, attribute))
                alarm.state_transitioned_timestamp = getattr(
                    existing, "state_transitioned_timestamp", existing.state_updated_timestamp
                )
                history.record(self, messages.update_item(existing, alarm, when))
            else:
                alarm.state_value = "INSUFFICIENT_DATA"
                alarm.state_reason = messages.INITIAL_REASON
                alarm.state_reason_data = None
                alarm.state_updated_timestamp = when
                alarm.state_transitioned_timestamp = when
                history.record(self, messages.creation_item(alarm, when))
        evaluator.ensure_started(profile.current)
        return alarm

    return put_metric_alarm


def _set_alarm_state(original: Callable[..., Any]) -> Callable[..., Any]:
    """SetAlarmState: change the state until the next evaluation, and run the actions on a change."""

    def set_alarm_state(self: Any, alarm_name: str, reason: str, reason_data: str, state_value: str) -> None:
        with cloudwatch_lock:
            alarm = self.alarms.get(alarm_name)
            old_state = alarm.state_value if alarm else None
            old_reason = alarm.state_reason if alarm else None
            original(self, alarm_name, reason, reason_data, state_value)
            alarm = self.alarms[alarm_name]
            alarm.state_updated_timestamp = utcnow()
            notifications: list[Notification] = []
            if old_state != state_value:
                # moto raised ResourceNotFound above for an alarm that did not exist: it had a state and a reason
                assert old_state is not None and old_reason is not None
                alarm.state_transitioned_timestamp = alarm.state_updated_timestamp
                notifications = state_changed(
                    self, alarm, old_state, old_reason, alarm.state_updated_timestamp
                )
        publish(notifications)

    return set_alarm_state


def _describe_alarm_history(self: Any) -> Any:
    """DescribeAlarmHistory (moto lacks it): state updates, configuration updates, actions."""
    from moto.core.responses import ActionResult

    items = history.matching(
        self.cloudwatch_backend,
        now=utcnow(),
        alarm_name=self._get_param("AlarmName"),
        alarm_types=self._get_param("AlarmTypes", []),
        item_type=self._get_param("HistoryItemType"),
        start=self._get_param("StartDate"),
        end=self._get_param("EndDate"),
        scan_by=self._get_param("ScanBy"),
    )
    offset = int(self._get_param("NextToken") or 0)
    limit = int(self._get_param("MaxRecords") or 100)
    result: dict[str, Any] = {"AlarmHistoryItems": items[offset : offset + limit]}
    if offset + limit < len(items):
        result["NextToken"] = str(offset + limit)
    return ActionResult(result)


def _snapshot(method: Callable[..., Any]) -> Callable[..., list[Any]]:
    """The backend look-up run under cloudwatch_lock, answering a list snapshot."""

    def run(*args: Any, **kwargs: Any) -> list[Any]:
        with cloudwatch_lock:
            return list(method(*args, **kwargs))

    run.__name__ = method.__name__
    run.__doc__ = method.__doc__
    return run


def install() -> None:
    """Make moto's CloudWatch alarms start, evaluate, notify and keep history like AWS (idempotent)."""
    from moto.cloudwatch.models import CloudWatchBackend
    from moto.cloudwatch.responses import CloudWatchResponse

    patching.patch(CloudWatchBackend, "put_metric_alarm", PUT_METRIC_ALARM_PARAMS, _put_metric_alarm)
    patching.patch(
        CloudWatchBackend,
        "set_alarm_state",
        ["self", "alarm_name", "reason", "reason_data", "state_value"],
        _set_alarm_state,
    )
    for name in LOCKED_CHANGES:
        patching.patch(CloudWatchBackend, name, ["self", "alarm_names"], locked)
    for name, params in SNAPSHOT_LOOKUPS.items():
        patching.patch(CloudWatchBackend, name, params, _snapshot)
    patching.add_action(CloudWatchResponse, "describe_alarm_history", _describe_alarm_history)

"""What an alarm's state change does: a StateUpdate history item, then its actions' SNS notifications.

"Alarm actions": when an alarm changes state, CloudWatch runs the actions listed for the new
state (AlarmActions, OKActions, InsufficientDataActions) unless ActionsEnabled is false, and
records each as an Action history item, succeeded or failed. Only SNS topic actions run here;
other ARNs are recorded as failed. Notifications are published through moto's SNS backends
(read, never patched), after cloudwatch_lock is released: SNS can invoke a Lambda that calls
CloudWatch back on another thread.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from localcloud.cloudwatch.alarms import history, messages
from localcloud.locks import cloudwatch_lock

log = logging.getLogger(__name__)


def utcnow() -> datetime:
    """Now, naive UTC (moto keeps naive UTC timestamps)."""
    return datetime.now(UTC).replace(tzinfo=None)


@dataclass
class Notification:
    """One SNS publish an alarm state change asks for (run after cloudwatch_lock is released)."""

    backend: Any
    alarm_name: str
    topic_arn: str
    subject: str
    message: str
    state_updated: datetime = field(default_factory=utcnow)


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
    return state_changed(backend, alarm, old_state, old_reason, when)


def state_changed(
    backend: Any, alarm: Any, old_state: str, old_reason: str, when: datetime
) -> list[Notification]:
    """Record a state change that happened and collect the notifications for it (cloudwatch_lock held)."""
    history.record(backend, messages.state_update_item(alarm, old_state, old_reason, when))
    if not alarm.actions_enabled and alarm.actions_enabled is not None:
        return []
    actions = {
        "ALARM": alarm.alarm_actions,
        "OK": alarm.ok_actions,
        "INSUFFICIENT_DATA": alarm.insufficient_data_actions,
    }[alarm.state_value] or []
    message = json.dumps(messages.notification_message(alarm, backend.account_id, old_state, when))
    subject = messages.notification_subject(alarm.name, alarm.state_value, alarm.region_name)
    return [Notification(backend, alarm.name, arn, subject, message, when) for arn in actions]


def publish(notifications: Sequence[Notification]) -> None:
    """Publish alarm notifications to SNS and record each action (never under cloudwatch_lock)."""
    from moto.sns.models import sns_backends

    for note in notifications:
        parts = note.topic_arn.split(":")
        error: Exception | None = None
        try:
            if len(parts) < 6 or parts[2] != "sns":
                raise ValueError("the local cloud runs SNS topic actions only")
            sns_backends[parts[4]][parts[3]].publish(note.message, note.topic_arn, subject=note.subject)
        except Exception as exc:  # a broken action must not stop the evaluator
            error = exc
        item = messages.action_item(note.alarm_name, note.topic_arn, note.state_updated, note.message, error)
        if error is not None:
            log.warning("alarm %s: %s", note.alarm_name, item["HistorySummary"])
        with cloudwatch_lock:
            history.record(note.backend, item)

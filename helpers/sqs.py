"""SQS: the queue that receives the workshop's alarm notifications, so a notebook can read them."""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Mapping
from typing import Any, TypedDict

from botocore.exceptions import ClientError

from helpers import errors, waiters
from helpers.errors import WorkshopError
from helpers.session import client

# boto3 reports SQS errors by their query-protocol codes (SQS's JSON protocol sends both).
MISSING = {"AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist"}
DELETED_RECENTLY = {"AWS.SimpleQueueService.QueueDeletedRecently", "QueueDeletedRecently"}
ALREADY_EXISTS = {"QueueAlreadyExists", "QueueNameExists"}
NAME_REUSE_WAIT_S = 75  # SQS frees a deleted queue's name after 60 s
DRAIN_WAIT_S = 1  # long polling asks every SQS server; an empty answer means the queue is empty now
STATE_TIME_SLACK = dt.timedelta(seconds=1)


class Notification(TypedDict):
    """An SNS envelope as the kit shows it."""

    Subject: str | None
    Timestamp: str | None
    Message: Any  # the alarm's JSON message, parsed (a dict); the text as sent when not JSON


def find_queue(name: str) -> str | None:
    """The URL of the queue called name, or None."""
    try:
        url: str = client("sqs").get_queue_url(QueueName=name)["QueueUrl"]
        return url
    except ClientError as exc:
        if errors.code(exc) in MISSING:
            return None
        raise


def add_missing_tags(queue_url: str, tags: Mapping[str, str]) -> list[str]:
    """Tag the queue with the tags it lacks (values it has, e.g. its creation time, stay); return the keys added."""
    sqs = client("sqs")
    have = sqs.list_queue_tags(QueueUrl=queue_url).get("Tags", {})
    missing = {k: v for k, v in tags.items() if k not in have}
    if missing:
        sqs.tag_queue(QueueUrl=queue_url, Tags=missing)
    return list(missing)


def _create_queue(request: Mapping[str, Any]) -> str:
    """Create the queue; wait (bounded) while its name is still held by a queue deleted under 60 s ago."""
    sqs = client("sqs")
    name = request["QueueName"]

    def create() -> str:
        url: str = sqs.create_queue(**request)["QueueUrl"]
        return url

    try:
        return create()
    except ClientError as exc:
        if errors.code(exc) in ALREADY_EXISTS:  # made meanwhile by someone else: use it
            url: str = sqs.get_queue_url(QueueName=name)["QueueUrl"]
            add_missing_tags(url, request.get("tags") or {})
            return url
        if errors.code(exc) not in DELETED_RECENTLY:
            raise
    print(
        f"Queue {name} was deleted less than 60 s ago (by 99_cleanup?); SQS frees a queue's name 60 s after "
        f"its deletion. Retrying for up to {NAME_REUSE_WAIT_S} s."
    )
    return waiters.retry(
        create,
        what=f"creating queue {name}",
        codes=DELETED_RECENTLY,
        timeout_s=NAME_REUSE_WAIT_S,
        first_delay_s=2,
    )


def ensure_queue(request: Mapping[str, Any]) -> tuple[str, str]:
    """Apply a CreateQueue request (QueueName, tags) unless the queue exists; return its URL and ARN.

    CreateQueue on an existing queue is refused when what it asks for differs (the kit's creation
    time differs on every run), so an existing queue only gets the tags it lacks.
    """
    url = find_queue(request["QueueName"])
    if url is None:
        url = _create_queue(request)
        print(f"created queue {request['QueueName']}")
    else:
        add_missing_tags(url, request.get("tags") or {})
        print(f"queue {request['QueueName']} exists")
    arn: str = client("sqs").get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    return url, arn


def _delete(queue_url: str, handles: list[str]) -> int:
    """Delete the messages received with these receipt handles; return how many were deleted."""
    deleted = 0
    for start in range(0, len(handles), 10):
        batch = [{"Id": str(i), "ReceiptHandle": h} for i, h in enumerate(handles[start : start + 10])]
        answer = client("sqs").delete_message_batch(QueueUrl=queue_url, Entries=batch)
        deleted += len(answer.get("Successful", []))
    return deleted


def _release(queue_url: str, handles: list[str]) -> None:
    """Make messages read but not consumed visible again at once, for whoever reads next."""
    for start in range(0, len(handles), 10):
        batch = [
            {"Id": str(i), "ReceiptHandle": h, "VisibilityTimeout": 0}
            for i, h in enumerate(handles[start : start + 10])
        ]
        client("sqs").change_message_visibility_batch(QueueUrl=queue_url, Entries=batch)


def drain(queue_url: str, before: dt.datetime | None = None) -> int:
    """Delete the notes waiting in the queue (long polling, so none is missed); return how many.

    With before, only notes of alarm state changes before that moment go: a change that happened
    since (an alarm catching up with data CloudWatch published late) stays for whoever awaits it.
    """
    if before is not None and before.tzinfo is None:
        before = before.replace(tzinfo=dt.UTC)
    sqs, count, kept = client("sqs"), 0, []
    try:
        while True:
            messages = sqs.receive_message(
                QueueUrl=queue_url, MaxNumberOfMessages=10, VisibilityTimeout=60, WaitTimeSeconds=DRAIN_WAIT_S
            ).get("Messages", [])
            if not messages:
                return count
            old = [m["ReceiptHandle"] for m in messages if _older(m["Body"], before)]
            kept += [m["ReceiptHandle"] for m in messages if m["ReceiptHandle"] not in old]
            count += _delete(queue_url, old)
    finally:
        _release(queue_url, kept)


def _older(body: str, before: dt.datetime | None) -> bool:
    """Whether a queued note is about a state change before the moment (every note, when there is none)."""
    if before is None:
        return True
    try:
        message = parse_notification(body)["Message"]
    except ValueError:
        return True
    changed = state_change_time(message) if isinstance(message, dict) else None
    return changed is None or changed < before


def parse_notification(body: str) -> Notification:
    """An SNS envelope as the kit shows it: Subject, Timestamp, and the Message (parsed when JSON)."""
    envelope = json.loads(body)
    try:
        message = json.loads(envelope.get("Message", ""))
    except ValueError:
        message = envelope.get("Message")
    return {"Subject": envelope.get("Subject"), "Timestamp": envelope.get("Timestamp"), "Message": message}


def state_change_time(message: Mapping[str, Any]) -> dt.datetime | None:
    """When the alarm changed state, from a notification's StateChangeTime (e.g. 2026-11-27T12:00:00.123+0000)."""
    try:
        return dt.datetime.strptime(message["StateChangeTime"], "%Y-%m-%dT%H:%M:%S.%f%z")
    except (KeyError, TypeError, ValueError):
        return None


def classify(note: Notification, alarm: str, state: str, since: dt.datetime | None) -> str:
    """'wanted' (the awaited note), 'stale' (same alarm, an earlier change) or 'other' (leave it for others)."""
    message = note["Message"]
    if not isinstance(message, dict) or message.get("AlarmName") != alarm:
        return "other"
    changed = state_change_time(message)
    if since is not None and changed is not None and changed < since - STATE_TIME_SLACK:
        return "stale"
    return "wanted" if message.get("NewStateValue") == state else "other"


def receive_notifications(
    queue_url: str, alarm: str, state: str, since: dt.datetime | None = None, timeout_s: float = 60
) -> list[Notification]:
    """Wait (long polling, bounded) for the notification that alarm entered state (at or after since).

    Returns the matching notifications (envelope fields plus the parsed message) and deletes them,
    with any older notes about the same alarm; notes about other alarms, which arrive whenever
    their alarms change, are left in the queue.
    """
    if since is not None and since.tzinfo is None:
        since = since.replace(tzinfo=dt.UTC)
    sqs = client("sqs")
    found: list[Notification] = []
    consumed: list[str] = []
    kept: list[str] = []
    seen: list[str] = []  # what was read instead, for the error message
    started = time.monotonic()
    hide_s = int(min(43200, timeout_s + 30))  # others stay hidden while we look, then are released
    try:
        with waiters.elapsed_bar(f"notification {alarm} → {state}", "receive") as bar:
            while not found:
                left = timeout_s - (time.monotonic() - started)
                if left <= 0:
                    raise WorkshopError(
                        f"No notification that alarm {alarm} entered {state}"
                        f"{f' at or after {since:%H:%M:%S} UTC' if since else ''} reached the queue within "
                        f"{timeout_s:.0f} s ({len(kept)} other notes read and left in the queue"
                        f"{': ' + '; '.join(seen[-4:]) if seen else ''}). Check that the "
                        "alarm's actions name the topic, that the queue is subscribed to the topic, and that the "
                        "queue policy lets the topic send (SetQueueAttributes with a Policy allowing sqs:SendMessage for sns.amazonaws.com on aws:SourceArn the topic)."
                    )
                messages = sqs.receive_message(
                    QueueUrl=queue_url,
                    MaxNumberOfMessages=10,
                    VisibilityTimeout=hide_s,
                    WaitTimeSeconds=int(max(1, min(20, left))),
                ).get("Messages", [])
                for m in messages:
                    note = parse_notification(m["Body"])
                    kind = classify(note, alarm, state, since)
                    if kind == "wanted":
                        found.append(note)
                    else:
                        message = note["Message"] if isinstance(note["Message"], dict) else {}
                        seen.append(
                            f"{kind} {message.get('AlarmName')} → {message.get('NewStateValue')} "
                            f"at {message.get('StateChangeTime')}"
                        )
                    (kept if kind == "other" else consumed).append(m["ReceiptHandle"])
                bar.set_postfix_str(
                    f"{len(consumed) + len(kept)} notes read, {len(kept)} about other changes"
                )
                bar.update(1)
    finally:
        _delete(queue_url, consumed)
        _release(queue_url, kept)
    return sorted(found, key=lambda n: n["Message"].get("StateChangeTime", ""))

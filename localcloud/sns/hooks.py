"""Puts SNS's engine (``delivery.py``) into moto 5.2.5: strict CreateTopic, delivery after Publish returns
(``aws`` profile), and delivery to an SQS queue only when the queue's policy allows the topic."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from moto.core.utils import camelcase_to_underscores
from moto.sns.exceptions import SNSInvalidParameter

from localcloud import patching, profile
from localcloud.sns.delivery import conflict, queue_accepts

log = logging.getLogger(__name__)


def _topic_attributes(topic: Any, names: dict[str, str]) -> dict[str, Any]:
    """The topic's current values of the attributes a request names (moto keeps them as snake_case)."""
    return {name: getattr(topic, camelcase_to_underscores(name), None) for name in names}


def _create_topic(original: Callable[..., Any]) -> Callable[..., Any]:
    """CreateTopic refusing a different definition of an existing topic."""

    def create_topic(
        self: Any, name: str, attributes: dict[str, str] | None = None, tags: dict[str, str] | None = None
    ) -> Any:
        existing = next((t for t in list(self.topics.values()) if t.name == name), None)
        if existing is not None:
            problem = conflict(
                _topic_attributes(existing, attributes or {}), existing._tags, attributes, tags
            )
            if problem:
                raise SNSInvalidParameter(problem)
        return original(self, name, attributes, tags)

    return create_topic


def _deliver(topic: Any, message: str, message_id: str, options: dict[str, Any]) -> None:
    """Hand one published message to each subscriber, as moto's Publish would."""
    subscriptions, _ = topic.sns_backend.list_subscriptions_by_topic(topic_arn=topic.arn)
    for subscription in subscriptions:
        try:
            subscription.publish(message, message_id, **options)
        except Exception:  # one broken subscriber must not stop the others (AWS retries per endpoint)
            log.exception("SNS delivery from %s to %s failed", topic.arn, subscription.endpoint)


def _publish(original: Callable[..., Any]) -> Callable[..., Any]:
    """Publish that delivers after the profile's sns_delivery delay (aws profile) instead of in the request."""

    def publish(
        self: Any,
        message: str,
        subject: str | None = None,
        message_attributes: dict[str, Any] | None = None,
        group_id: str | None = None,
        deduplication_id: str | None = None,
        message_structure: str | None = None,
    ) -> str:
        current = profile.current()
        if not current.aws:
            sent: str = original(
                self, message, subject, message_attributes, group_id, deduplication_id, message_structure
            )
            return sent
        from moto.moto_api._internal import mock_random

        message_id = str(mock_random.uuid4())
        options = {
            "subject": subject,
            "message_attributes": message_attributes,
            "group_id": group_id,
            "deduplication_id": deduplication_id,
            "message_structure": message_structure,
        }
        timer = threading.Timer(
            current.delay("sns_delivery", self.arn), _deliver, (self, message, message_id, options)
        )
        timer.daemon = True
        timer.start()
        self.sent_notifications.append((message_id, message, subject, message_attributes, group_id))
        return message_id

    return publish


def _queue_allows(subscription: Any) -> bool:
    """Whether the subscribed queue's policy lets the topic deliver (True when the queue is unknown: moto decides)."""
    from moto.sqs.models import sqs_backends

    _, _, _, region, account, name = subscription.endpoint.split(":", 5)
    queue = sqs_backends[account][region].queues.get(name)
    if queue is None:
        return True
    return queue_accepts(queue.policy, queue.queue_arn, subscription.topic.arn)


def _subscription_publish(original: Callable[..., Any]) -> Callable[..., Any]:
    """Subscription.publish that drops a message for an SQS queue whose policy does not allow the topic."""

    def publish(self: Any, message: str, message_id: str, *args: Any, **kwargs: Any) -> Any:
        if self.protocol == "sqs" and not _queue_allows(self):
            log.info(
                "SNS: %s's policy does not allow %s to send; message not delivered",
                self.endpoint,
                self.topic.arn,
            )
            return None
        return original(self, message, message_id, *args, **kwargs)

    return publish


def install() -> None:
    """Hook strict CreateTopic, asynchronous delivery and queue-policy checks into moto's SNS (idempotent)."""
    from moto.sns.models import SNSBackend, Subscription, Topic

    patching.patch(SNSBackend, "create_topic", ["self", "name", "attributes", "tags"], _create_topic)
    patching.patch(
        Topic,
        "publish",
        [
            "self",
            "message",
            "subject",
            "message_attributes",
            "group_id",
            "deduplication_id",
            "message_structure",
        ],
        _publish,
    )
    patching.patch(
        Subscription,
        "publish",
        [
            "self",
            "message",
            "message_id",
            "subject",
            "message_attributes",
            "group_id",
            "deduplication_id",
            "message_structure",
        ],
        _subscription_publish,
    )

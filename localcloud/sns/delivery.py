"""SNS as AWS answers it: strict CreateTopic, and delivery to subscribers after Publish returns.

moto 5.2.5 returns the existing topic for any CreateTopic with its name, whatever the tags or
attributes, and delivers to every subscriber inside the Publish request. AWS:

- ``CreateTopic`` is idempotent only for the same attributes and tags. Each attribute the request
  gives must equal the topic's; tags, when the request gives any, must equal the topic's tags
  exactly (even a topic without tags refuses new ones here: TagResource adds tags). Otherwise
  ``InvalidParameter`` "Invalid parameter: Tags Reason: Topic already exists with different tags"
  (or "... Attributes Reason: ... different attributes"). Always on, in both profiles.
- Delivery is asynchronous: under the ``aws`` profile each Publish reaches the subscribers after
  the profile's ``sns_delivery`` delay, on a timer thread, so Publish returns first.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from typing import Any

from moto.core.utils import camelcase_to_underscores
from moto.sns.exceptions import SNSInvalidParameter

from localcloud import patching, profile

DIFFERENT_TAGS = "Invalid parameter: Tags Reason: Topic already exists with different tags"
DIFFERENT_ATTRIBUTES = "Invalid parameter: Attributes Reason: Topic already exists with different attributes"
log = logging.getLogger(__name__)


def _same_value(current: Any, wanted: Any) -> bool:
    """Whether an attribute's stored value equals the requested one (JSON documents by content)."""
    if isinstance(current, bool):
        current = str(current).lower()
    current, wanted = "" if current is None else str(current), str(wanted)
    if current == wanted:
        return True
    try:
        return bool(json.loads(current) == json.loads(wanted))
    except ValueError:
        return False


def conflict(
    current_attributes: dict[str, Any],
    current_tags: dict[str, str],
    attributes: dict[str, str] | None,
    tags: dict[str, str] | None,
) -> str | None:
    """AWS's refusal of a CreateTopic for an existing topic, or None when it returns the topic."""
    for name, wanted in (attributes or {}).items():
        if not _same_value(current_attributes.get(name), wanted):
            return DIFFERENT_ATTRIBUTES
    if tags and dict(tags) != dict(current_tags):
        return DIFFERENT_TAGS
    return None


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


def install() -> None:
    """Hook strict CreateTopic and asynchronous delivery into moto's SNS (idempotent)."""
    from moto.sns.models import SNSBackend, Topic

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

"""SNS as AWS answers it (the engine; ``hooks.py`` puts it into moto): strict CreateTopic, delivery to
subscribers after Publish returns, and delivery to an SQS queue only when the queue's policy allows it.

moto 5.2.5 returns the existing topic for any CreateTopic with its name, whatever the tags or
attributes, delivers to every subscriber inside the Publish request, and delivers to any subscribed
SQS queue whatever its policy. AWS:

- ``CreateTopic`` is idempotent only for the same attributes and tags. Each attribute the request
  gives must equal the topic's; tags, when the request gives any, must equal the topic's tags
  exactly (even a topic without tags refuses new ones here: TagResource adds tags). Otherwise
  ``InvalidParameter`` "Invalid parameter: Tags Reason: Topic already exists with different tags"
  (or "... Attributes Reason: ... different attributes"). Always on, in both profiles.
- Delivery is asynchronous: under the ``aws`` profile each Publish reaches the subscribers after
  the profile's ``sns_delivery`` delay, on a timer thread, so Publish returns first.
- SNS delivers to an SQS queue only when the queue's policy allows the principal
  ``sns.amazonaws.com`` to ``sqs:SendMessage`` on the queue for messages from that topic
  (``aws:SourceArn``); without such a policy the subscription exists, Publish succeeds, and
  nothing reaches the queue ("Subscribe a queue to an Amazon SNS topic: ... give the topic
  permission to send messages to the queue",
  https://docs.aws.amazon.com/sns/latest/dg/subscribe-sqs-queue-to-sns-topic.html). Always on.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from localcloud.iam import policy

DIFFERENT_TAGS = "Invalid parameter: Tags Reason: Topic already exists with different tags"
DIFFERENT_ATTRIBUTES = "Invalid parameter: Attributes Reason: Topic already exists with different attributes"
SNS_PRINCIPAL = "sns.amazonaws.com"
SEND = "sqs:SendMessage"


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


def _names_sns(principal: Any) -> bool:
    """Whether a statement's Principal includes SNS: "*", {"AWS": "*"} or {"Service": "sns.amazonaws.com"}."""
    if principal == "*":
        return True
    if not isinstance(principal, Mapping):
        return False
    services = principal.get("Service", [])
    everyone = principal.get("AWS", [])
    services = [services] if isinstance(services, str) else list(services)
    everyone = [everyone] if isinstance(everyone, str) else list(everyone)
    return SNS_PRINCIPAL in services or "*" in everyone


def queue_accepts(queue_policy: str | Mapping[str, Any] | None, queue_arn: str, topic_arn: str) -> bool:
    """Whether the queue's policy lets SNS send it the topic's messages (an explicit Deny wins; no policy: no)."""
    if not queue_policy:
        return False
    try:
        statements = policy.statements([queue_policy])
    except ValueError:
        return False
    about_sns = [s for s in statements if _names_sns(s.get("Principal"))]
    context = {"aws:SourceArn": [topic_arn], "aws:SourceAccount": [topic_arn.split(":")[4]]}
    decision = policy.evaluate([{"Statement": about_sns}], SEND, (queue_arn,), context)
    return decision is policy.Decision.ALLOWED

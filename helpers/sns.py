"""SNS: the topic alarms notify, and its subscriptions."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from botocore.exceptions import ClientError

from helpers.session import client


def find_topic(name: str) -> str | None:
    """The ARN of this account's topic called name in the current region, or None."""
    for page in client("sns").get_paginator("list_topics").paginate():
        for topic in page.get("Topics", []):
            arn: str = topic["TopicArn"]
            if arn.rsplit(":", 1)[-1] == name:
                return arn
    return None


def add_missing_tags(topic_arn: str, tags: Mapping[str, str]) -> list[str]:
    """Tag the topic with the tags it lacks (values it has, e.g. its creation time, stay); return the keys added."""
    sns = client("sns")
    have = {t["Key"] for t in sns.list_tags_for_resource(ResourceArn=topic_arn).get("Tags", [])}
    missing = [{"Key": k, "Value": v} for k, v in tags.items() if k not in have]
    if missing:
        sns.tag_resource(ResourceArn=topic_arn, Tags=missing)
    return [t["Key"] for t in missing]


def ensure_topic(name: str, tags: Mapping[str, str]) -> str:
    """Find the topic, or create it with tags when missing; return its ARN.

    CreateTopic on an existing topic is refused when the tags differ (AWS compares them all, and
    the kit's creation time differs on every run), so an existing topic only gets its missing tags.
    """
    sns = client("sns")
    arn = find_topic(name)
    if arn is None:
        try:
            created: str = sns.create_topic(
                Name=name, Tags=[{"Key": k, "Value": v} for k, v in tags.items()]
            )["TopicArn"]
            return created
        except ClientError as exc:  # made meanwhile (ListTopics is eventually consistent)
            if exc.response["Error"].get("Code") != "InvalidParameter" or "already exists" not in str(exc):
                raise
        arn = sns.create_topic(Name=name)["TopicArn"]  # without tags: returns the existing topic
    add_missing_tags(arn, tags)
    return arn


def ensure_subscription(topic_arn: str, protocol: str, endpoint: str) -> dict[str, Any]:
    """Subscribe the endpoint unless it already is; return the subscription (email stays PendingConfirmation)."""
    sns = client("sns")
    for page in sns.get_paginator("list_subscriptions_by_topic").paginate(TopicArn=topic_arn):
        for sub in page["Subscriptions"]:
            if sub["Protocol"] == protocol and sub["Endpoint"] == endpoint:
                found: dict[str, Any] = sub
                return found
    arn = sns.subscribe(TopicArn=topic_arn, Protocol=protocol, Endpoint=endpoint, ReturnSubscriptionArn=True)[
        "SubscriptionArn"
    ]
    return {"SubscriptionArn": arn, "Protocol": protocol, "Endpoint": endpoint}

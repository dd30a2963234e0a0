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


def ensure_topic(request: Mapping[str, Any]) -> str:
    """Apply a CreateTopic request (Name, Tags) unless the topic exists; return its ARN.

    CreateTopic on an existing topic is refused when the tags differ (AWS compares them all, and
    the kit's creation time differs on every run), so an existing topic only gets its missing tags.
    """
    sns = client("sns")
    name = request["Name"]
    tags = {t["Key"]: t["Value"] for t in request.get("Tags", [])}
    arn = find_topic(name)
    if arn is None:
        try:
            created: str = sns.create_topic(**request)["TopicArn"]
            print(f"created topic {name}")
            return created
        except ClientError as exc:  # made meanwhile (ListTopics is eventually consistent)
            if exc.response["Error"].get("Code") != "InvalidParameter" or "already exists" not in str(exc):
                raise
        arn = sns.create_topic(Name=name)["TopicArn"]  # without tags: returns the existing topic
    add_missing_tags(arn, tags)
    print(f"topic {name} exists")
    return arn


def ensure_subscription(request: Mapping[str, Any]) -> dict[str, Any]:
    """Apply a Subscribe request (TopicArn, Protocol, Endpoint) unless that endpoint already is subscribed;
    return the subscription (an email one stays PendingConfirmation)."""
    sns = client("sns")
    topic_arn, protocol, endpoint = request["TopicArn"], request["Protocol"], request["Endpoint"]
    for page in sns.get_paginator("list_subscriptions_by_topic").paginate(TopicArn=topic_arn):
        for sub in page["Subscriptions"]:
            if sub["Protocol"] == protocol and sub["Endpoint"] == endpoint:
                found: dict[str, Any] = sub
                return found
    arn = sns.subscribe(**request)["SubscriptionArn"]
    return {"SubscriptionArn": arn, "Protocol": protocol, "Endpoint": endpoint}

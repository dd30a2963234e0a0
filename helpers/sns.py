"""SNS: the topic alarms notify, and its subscriptions."""

from __future__ import annotations

from helpers.session import client


def ensure_topic(name: str, tags: dict[str, str]) -> str:
    """Create (or find) the topic; return its ARN."""
    tag_list = [{"Key": k, "Value": v} for k, v in tags.items()]
    return client("sns").create_topic(Name=name, Tags=tag_list)["TopicArn"]  # idempotent


def ensure_subscription(topic_arn: str, protocol: str, endpoint: str) -> dict:
    """Subscribe the endpoint unless it already is; return the subscription (email stays PendingConfirmation)."""
    sns = client("sns")
    for sub in sns.list_subscriptions_by_topic(TopicArn=topic_arn)["Subscriptions"]:
        if sub["Protocol"] == protocol and sub["Endpoint"] == endpoint:
            return sub
    arn = sns.subscribe(TopicArn=topic_arn, Protocol=protocol, Endpoint=endpoint, ReturnSubscriptionArn=True)["SubscriptionArn"]
    return {"SubscriptionArn": arn, "Protocol": protocol, "Endpoint": endpoint}

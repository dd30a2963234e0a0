"""SNS: the kit's topics (tagged) and their subscriptions (untaggable: the kit's by their topic; a
pending one has no ARN yet and goes with its topic). Nothing to pay while idle.
"""

from __future__ import annotations

from helpers import session
from helpers.resources._kind import Kind, Resource, Search, pages, tag_dict


class Subscription(Kind):
    service, kind = "sns", "subscription"

    def find_in(self, search: Search, topic: Resource) -> None:
        """A topic's subscriptions, named protocol:endpoint."""
        for sub in pages(
            session.client("sns"), "list_subscriptions_by_topic", "Subscriptions", TopicArn=topic.arn
        ):
            pending = not sub["SubscriptionArn"].startswith("arn:")
            search.child(
                topic,
                self,
                f"{sub['Protocol']}:{sub['Endpoint']}",
                arn=sub["SubscriptionArn"],
                note="pending confirmation: goes with the topic" if pending else "",
            )

    def exists(self, r: Resource) -> bool:
        if not r.arn.startswith("arn:"):  # a pending subscription has no ARN yet; it goes with its topic
            return False
        session.client("sns").get_subscription_attributes(SubscriptionArn=r.arn)
        return True

    def delete(self, r: Resource) -> None:
        if r.arn.startswith("arn:"):
            session.client("sns").unsubscribe(SubscriptionArn=r.arn)


class Topic(Kind):
    service, kind = "sns", "topic"
    children = (Subscription(),)

    def find(self, search: Search) -> None:
        """The kit's topics and lookalikes (a topic's name is the last part of its ARN)."""
        sns = session.client("sns")
        topics = pages(sns, "list_topics", "Topics")
        for topic, name in search.candidates(topics, lambda t: t["TopicArn"].rsplit(":", 1)[-1]):
            tags = sns.list_tags_for_resource(ResourceArn=topic["TopicArn"]).get("Tags", [])
            search.tagged(self, name, tag_dict(tags), arn=topic["TopicArn"])

    def exists(self, r: Resource) -> bool:
        return bool(session.client("sns").get_topic_attributes(TopicArn=r.arn))

    def delete(self, r: Resource) -> None:
        session.client("sns").delete_topic(TopicArn=r.arn)

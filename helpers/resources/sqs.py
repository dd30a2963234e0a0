"""SQS: the kit's queues (tagged; listed by QueueNamePrefix). Nothing to pay while idle."""

from __future__ import annotations

from helpers import session
from helpers.resources._kind import Kind, Resource, Search, pages


class Queue(Kind):
    service, kind = "sqs", "queue"

    def find(self, search: Search) -> None:
        """The kit's queues and lookalikes."""
        sqs = session.client("sqs")
        kwargs = {"QueueNamePrefix": f"{search.prefix}-"} if search.prefix else {}
        for url in pages(sqs, "list_queues", "QueueUrls", **kwargs):
            tags = sqs.list_queue_tags(QueueUrl=url).get("Tags", {})
            search.tagged(self, url.rsplit("/", 1)[-1], tags, arn=url, ref={"QueueUrl": url})

    def exists(self, r: Resource) -> bool:
        session.client("sqs").get_queue_attributes(QueueUrl=r.ref["QueueUrl"], AttributeNames=["QueueArn"])
        return True

    def delete(self, r: Resource) -> None:
        session.client("sqs").delete_queue(QueueUrl=r.ref["QueueUrl"])

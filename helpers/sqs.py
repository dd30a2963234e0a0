"""SQS: the queue that receives the workshop's alarm notifications, so a notebook can read them."""

from __future__ import annotations

import json
import time

from helpers.session import client


def ensure_queue(name: str, tags: dict[str, str]) -> tuple[str, str]:
    """Create (or find) the queue; return its URL and ARN."""
    sqs = client("sqs")
    url = sqs.create_queue(QueueName=name, tags=tags)["QueueUrl"]  # idempotent for the same attributes
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return url, arn


def allow_topic(queue_url: str, queue_arn: str, topic_arn: str) -> dict:
    """Let one SNS topic (and nothing else) send to the queue; return the policy set."""
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "AlarmTopicMaySend",
                "Effect": "Allow",
                "Principal": {"Service": "sns.amazonaws.com"},
                "Action": "sqs:SendMessage",
                "Resource": queue_arn,
                "Condition": {"ArnEquals": {"aws:SourceArn": topic_arn}},
            }
        ],
    }
    client("sqs").set_queue_attributes(QueueUrl=queue_url, Attributes={"Policy": json.dumps(policy)})
    return policy


def drain(queue_url: str) -> int:
    """Delete every message waiting in the queue; return how many."""
    sqs, count = client("sqs"), 0
    while True:
        messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages", [])
        if not messages:
            return count
        for m in messages:
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=m["ReceiptHandle"])
        count += len(messages)


def receive_notifications(queue_url: str, wait_s: float = 20) -> list[dict]:
    """SNS notifications waiting in the queue (envelope fields plus the parsed message), deleted once read."""
    sqs, found = client("sqs"), []
    deadline = time.monotonic() + wait_s
    while True:
        wait = int(max(0, min(20, deadline - time.monotonic())))
        messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=wait).get("Messages", [])
        for m in messages:
            envelope = json.loads(m["Body"])
            try:
                message = json.loads(envelope.get("Message", ""))
            except ValueError:
                message = envelope.get("Message")
            found.append({"Subject": envelope.get("Subject"), "Timestamp": envelope.get("Timestamp"), "Message": message})
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=m["ReceiptHandle"])
        if found or time.monotonic() >= deadline:
            return found

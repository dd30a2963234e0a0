"""SNS and SQS as AWS answers them in the local cloud, and the kit's topic, queue and inbox surviving it."""

from __future__ import annotations

import json
import time
import uuid
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import boto3
import pytest
from botocore.exceptions import ClientError
from notebook_source import queue_policy_request

from helpers import sns as kit_sns
from helpers import sqs as kit_sqs
from helpers.errors import WorkshopError
from localcloud import profile
from localcloud.sqs import queues as local_sqs


@pytest.fixture()
def sns(local_cloud):
    return boto3.client("sns", region_name="us-east-1")


@pytest.fixture()
def sqs(local_cloud):
    return boto3.client("sqs", region_name="us-east-1")


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


@contextmanager
def aws_profile(scale: float = 1.0, seed: int = 1):
    """The local cloud under AWS's timing for the duration of the block."""
    old = profile.use(profile.Profile(name="aws", seed=seed, scale=scale, quotas=profile.from_env({}).quotas))
    try:
        yield
    finally:
        profile.use(old)


def error_of(call) -> dict:
    with pytest.raises(ClientError) as caught:
        call()
    return caught.value.response["Error"]


def tags(**values: str) -> list[dict]:
    return [{"Key": k, "Value": v} for k, v in values.items()]


def subscribed_queue(sns, sqs) -> tuple[str, str]:
    """A topic with a queue subscribed to it; returns (topic ARN, queue URL)."""
    topic = sns.create_topic(Name=unique("topic"))["TopicArn"]
    url = sqs.create_queue(QueueName=unique("inbox"))["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sqs.set_queue_attributes(**queue_policy_request(url, arn, topic))
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn)
    return topic, url


# --- SNS CreateTopic ----------------------------------------------------------------------------


def test_create_topic_with_the_same_name_and_tags_returns_the_existing_topic(sns):
    name = unique("t")
    first = sns.create_topic(Name=name, Tags=tags(a="1"))["TopicArn"]
    assert sns.create_topic(Name=name, Tags=tags(a="1"))["TopicArn"] == first


def test_create_topic_without_tags_returns_an_existing_tagged_topic(sns):
    name = unique("t")
    first = sns.create_topic(Name=name, Tags=tags(a="1"))["TopicArn"]
    assert sns.create_topic(Name=name)["TopicArn"] == first


def test_create_topic_with_different_tags_is_refused(sns):
    name = unique("t")
    arn = sns.create_topic(Name=name, Tags=tags(created="1"))["TopicArn"]
    error = error_of(lambda: sns.create_topic(Name=name, Tags=tags(created="2")))
    assert (error["Code"], error["Message"]) == (
        "InvalidParameter",
        "Invalid parameter: Tags Reason: Topic already exists with different tags",
    )
    assert sns.list_tags_for_resource(ResourceArn=arn)["Tags"] == tags(created="1")


def test_create_topic_with_tags_for_an_untagged_topic_is_refused(sns):
    name = unique("t")
    sns.create_topic(Name=name)
    assert error_of(lambda: sns.create_topic(Name=name, Tags=tags(a="1")))["Code"] == "InvalidParameter"


def test_create_topic_with_different_attributes_is_refused(sns):
    name = unique("t")
    sns.create_topic(Name=name, Attributes={"DisplayName": "alarms"})
    error = error_of(lambda: sns.create_topic(Name=name, Attributes={"DisplayName": "other"}))
    assert (error["Code"], error["Message"]) == (
        "InvalidParameter",
        "Invalid parameter: Attributes Reason: Topic already exists with different attributes",
    )
    assert sns.create_topic(Name=name, Attributes={"DisplayName": "alarms"})["TopicArn"].endswith(name)


# --- SQS CreateQueue ----------------------------------------------------------------------------


def test_create_queue_with_a_different_attribute_names_that_attribute(sqs):
    name = unique("q")
    sqs.create_queue(QueueName=name, Attributes={"VisibilityTimeout": "30"})
    error = error_of(lambda: sqs.create_queue(QueueName=name, Attributes={"VisibilityTimeout": "60"}))
    assert (error["Code"], error["Message"]) == (
        "QueueAlreadyExists",
        "A queue already exists with the same name and a different value for attribute VisibilityTimeout",
    )


def test_create_queue_with_the_same_attributes_returns_the_existing_queue(sqs):
    name = unique("q")
    url = sqs.create_queue(QueueName=name, Attributes={"VisibilityTimeout": "30"}, tags={"a": "1"})[
        "QueueUrl"
    ]
    assert (
        sqs.create_queue(QueueName=name, Attributes={"VisibilityTimeout": "30"}, tags={"a": "1"})["QueueUrl"]
        == url
    )


# AWS, CreateQueue: "If you provide the name of an existing queue along with the exact names and values of
# all the queue's attributes, CreateQueue returns the queue URL for the existing queue."
# https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_CreateQueue.html
# The same values in another of AWS's accepted spellings are the same values (moto fixed this class of bug
# upstream in getmoto/moto#1764); RedrivePolicy's maxReceiveCount is documented as a number or a string of one.
DLQ_ARN = "arn:aws:sqs:us-east-1:123456789012:{name}-dlq"
QUEUE_POLICY = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "sns.amazonaws.com"}, "Action": "sqs:SendMessage",
                   "Resource": "*"}],
}  # fmt: skip
SAME_ATTRIBUTES = {
    "FifoQueue false on a standard queue": ({}, {"FifoQueue": "false"}),
    "a default spelled out": ({}, {"VisibilityTimeout": "30", "DelaySeconds": "0"}),
    "a boolean in capitals": ({"FifoQueue": "true"}, {"FifoQueue": "True"}),
    "the same request repeated, a boolean misspelt": ({"FifoQueue": "tru"}, {"FifoQueue": "tru"}),
    "RedrivePolicy compact, maxReceiveCount a string": (
        {"RedrivePolicy": '{"deadLetterTargetArn": "DLQ", "maxReceiveCount": 5}'},
        {"RedrivePolicy": '{"deadLetterTargetArn":"DLQ","maxReceiveCount":"5"}'},
    ),
    "RedrivePolicy keys in another order, maxReceiveCount a number": (
        {"RedrivePolicy": '{"maxReceiveCount": "5", "deadLetterTargetArn": "DLQ"}'},
        {"RedrivePolicy": '{"deadLetterTargetArn": "DLQ", "maxReceiveCount": 5}'},
    ),
    "Policy with other whitespace": (
        {"Policy": json.dumps(QUEUE_POLICY, indent=2)},
        {"Policy": json.dumps(QUEUE_POLICY, separators=(",", ":"))},
    ),
}


@pytest.mark.parametrize(("first", "again"), SAME_ATTRIBUTES.values(), ids=SAME_ATTRIBUTES.keys())
def test_create_queue_with_the_same_attributes_in_another_spelling_returns_the_existing_queue(
    sqs, first, again
):
    name = unique("q") + (".fifo" if "FifoQueue" in first else "")
    dlq = sqs.create_queue(
        QueueName=f"{name.removesuffix('.fifo')}-dlq" + (".fifo" if ".fifo" in name else "")
    )
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq["QueueUrl"], AttributeNames=["QueueArn"])["Attributes"]
    spell = {k: v.replace("DLQ", dlq_arn["QueueArn"]) for k, v in first.items()}
    url = sqs.create_queue(QueueName=name, Attributes=spell)["QueueUrl"]
    respelled = {k: v.replace("DLQ", dlq_arn["QueueArn"]) for k, v in again.items()}
    assert sqs.create_queue(QueueName=name, Attributes=respelled)["QueueUrl"] == url


def test_create_queue_with_a_different_redrive_policy_is_refused(sqs):
    name = unique("q")
    dlq = sqs.create_queue(QueueName=f"{name}-dlq")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sqs.create_queue(
        QueueName=name,
        Attributes={"RedrivePolicy": json.dumps({"deadLetterTargetArn": arn, "maxReceiveCount": 5})},
    )
    changed = {"RedrivePolicy": json.dumps({"deadLetterTargetArn": arn, "maxReceiveCount": "6"})}
    error = error_of(lambda: sqs.create_queue(QueueName=name, Attributes=changed))
    assert (error["Code"], error["Message"]) == (
        "QueueAlreadyExists",
        "A queue already exists with the same name and a different value for attribute RedrivePolicy",
    )


def test_create_queue_with_a_different_default_spelled_out_is_refused(sqs):
    name = unique("q")
    sqs.create_queue(QueueName=name)
    error = error_of(lambda: sqs.create_queue(QueueName=name, Attributes={"DelaySeconds": "5"}))
    assert error["Code"] == "QueueAlreadyExists"


def test_create_queue_with_different_tags_is_refused_and_keeps_the_tags(sqs):
    name = unique("q")
    url = sqs.create_queue(QueueName=name, tags={"created": "1"})["QueueUrl"]
    assert (
        error_of(lambda: sqs.create_queue(QueueName=name, tags={"created": "2"}))["Code"]
        == "QueueAlreadyExists"
    )
    assert sqs.list_queue_tags(QueueUrl=url)["Tags"] == {"created": "1"}


def test_a_deleted_queues_name_cannot_be_reused_within_60_seconds(sqs):
    name = unique("q")
    sqs.delete_queue(QueueUrl=sqs.create_queue(QueueName=name)["QueueUrl"])
    error = error_of(lambda: sqs.create_queue(QueueName=name))
    assert (error["Code"], error["Message"]) == (
        "AWS.SimpleQueueService.QueueDeletedRecently",
        local_sqs.DELETED_RECENTLY,
    )


def test_a_deleted_queues_name_is_free_again_60_seconds_after_the_deletion():
    assert local_sqs.wait_before_reuse(1000.0, 1059.0) == pytest.approx(1.0)
    assert local_sqs.wait_before_reuse(1000.0, 1060.0) == 0.0
    assert local_sqs.wait_before_reuse(None, 1000.0) == 0.0


# --- SQS polling --------------------------------------------------------------------------------


def received_counts(sqs, url: str, polls: int, wait: int = 0) -> list[int]:
    """How many messages each receive returns (VisibilityTimeout 0 keeps them all available)."""
    return [
        len(
            sqs.receive_message(
                QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=wait, VisibilityTimeout=0
            ).get("Messages", [])
        )
        for _ in range(polls)
    ]


def queue_with(sqs, n: int) -> str:
    url = sqs.create_queue(QueueName=unique("q"))["QueueUrl"]
    for i in range(n):
        sqs.send_message(QueueUrl=url, MessageBody=f"m{i}")
    return url


def test_short_polling_under_the_aws_profile_returns_a_share_of_the_messages_sometimes_none(sqs):
    url = queue_with(sqs, 5)
    with aws_profile():
        counts = received_counts(
            sqs, url, polls=60
        )  # no empty answer in 60 would be a (5/6)^60 = 2e-5 chance
    assert min(counts) == 0 and max(counts) <= 5 and len(set(counts)) > 2, counts


def test_short_polling_under_the_local_profile_returns_every_available_message(sqs):
    url = queue_with(sqs, 5)
    assert received_counts(sqs, url, polls=3) == [5, 5, 5]


def test_long_polling_under_the_aws_profile_returns_the_messages_there_at_most_10(sqs):
    url = queue_with(sqs, 12)
    with aws_profile():
        assert received_counts(sqs, url, polls=3, wait=1) == [10, 10, 10]


def test_long_polling_waits_for_a_message_when_the_queue_is_empty(sqs):
    url = queue_with(sqs, 0)
    started = time.monotonic()
    with aws_profile():
        assert received_counts(sqs, url, polls=1, wait=1) == [0]
    assert time.monotonic() - started >= 0.9


# --- SNS delivery -------------------------------------------------------------------------------


def visible_messages(sqs, url: str) -> int:
    return int(
        sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])["Attributes"][
            "ApproximateNumberOfMessages"
        ]
    )


def test_sns_delivers_after_publish_returns_under_the_aws_profile(sns, sqs):
    topic, url = subscribed_queue(sns, sqs)
    with aws_profile():
        sns.publish(TopicArn=topic, Message="hello")
        assert visible_messages(sqs, url) == 0
        messages = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=5).get("Messages", [])
    assert [json.loads(m["Body"])["Message"] for m in messages] == ["hello"]


def test_sns_delivers_before_publish_returns_under_the_local_profile(sns, sqs):
    topic, url = subscribed_queue(sns, sqs)
    sns.publish(TopicArn=topic, Message="hello")
    assert visible_messages(sqs, url) == 1


# --- SNS to SQS: only where the queue policy lets the topic send -----------------------------------
# AWS: "Subscribe a queue to an Amazon SNS topic ... give the topic permission to send messages to
# the queue" (https://docs.aws.amazon.com/sns/latest/dg/subscribe-sqs-queue-to-sns-topic.html): without
# a queue policy allowing sns.amazonaws.com sqs:SendMessage for the topic, the queue receives nothing.


def queue_for(sqs, topic: str | None = None, policy: dict | None = None) -> tuple[str, str]:
    """A new queue (URL, ARN), with 8.3's policy for topic, or the given policy, or none."""
    url = sqs.create_queue(QueueName=unique("inbox"))["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    if topic is not None:
        sqs.set_queue_attributes(**queue_policy_request(url, arn, topic))
    if policy is not None:
        sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps(policy)})
    return url, arn


def test_sns_delivers_nothing_to_a_subscribed_queue_without_a_queue_policy(sns, sqs):
    topic = sns.create_topic(Name=unique("topic"))["TopicArn"]
    url, arn = queue_for(sqs)
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn)
    sns.publish(TopicArn=topic, Message="hello")
    assert sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1).get("Messages", []) == []


def test_sns_delivers_to_a_queue_whose_policy_allows_the_topic(sns, sqs):
    topic = sns.create_topic(Name=unique("topic"))["TopicArn"]
    url, arn = queue_for(sqs, topic=topic)
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn)
    sns.publish(TopicArn=topic, Message="hello")
    messages = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1).get("Messages", [])
    assert [json.loads(m["Body"])["Message"] for m in messages] == ["hello"]


def test_sns_delivers_nothing_when_the_queue_policy_allows_another_topic(sns, sqs):
    topic = sns.create_topic(Name=unique("topic"))["TopicArn"]
    other = sns.create_topic(Name=unique("other"))["TopicArn"]
    url, arn = queue_for(sqs, topic=other)
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn)
    sns.publish(TopicArn=topic, Message="hello")
    assert sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1).get("Messages", []) == []


def test_a_deny_for_the_topic_wins_over_an_allow_for_everyone(sns, sqs):
    topic = sns.create_topic(Name=unique("topic"))["TopicArn"]
    statement = {"Principal": "*", "Action": "sqs:SendMessage", "Resource": "*"}
    deny = {**statement, "Effect": "Deny", "Condition": {"ArnEquals": {"aws:SourceArn": topic}}}
    url, arn = queue_for(sqs, policy={"Statement": [{**statement, "Effect": "Allow"}, deny]})
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn)
    sns.publish(TopicArn=topic, Message="hello")
    assert sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1).get("Messages", []) == []


def test_a_policy_for_another_service_principal_does_not_let_sns_send(sns, sqs):
    topic = sns.create_topic(Name=unique("topic"))["TopicArn"]
    allow = {"Effect": "Allow", "Principal": {"Service": "s3.amazonaws.com"}, "Action": "sqs:SendMessage"}
    url, arn = queue_for(sqs, policy={"Statement": [allow]})
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn)
    sns.publish(TopicArn=topic, Message="hello")
    assert sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1).get("Messages", []) == []


# --- the kit: topic and queue looked up, tagged, never re-created ---------------------------------


def kit_tags(created: str) -> dict[str, str]:
    return {"workshop-kit": "ml-pipeline-ch8", "workshop-prefix": "t", "workshop-created-at": created}


def tag_list(tags: dict[str, str]) -> list[dict[str, str]]:
    return [{"Key": k, "Value": v} for k, v in tags.items()]


def test_ensure_topic_twice_keeps_the_first_creation_time(sns):
    name = unique("topic")
    arn = kit_sns.ensure_topic({"Name": name, "Tags": tag_list(kit_tags("2026-01-01T00:00:00Z"))})
    assert kit_sns.ensure_topic({"Name": name, "Tags": tag_list(kit_tags("2026-01-01T00:05:00Z"))}) == arn
    assert {t["Key"]: t["Value"] for t in sns.list_tags_for_resource(ResourceArn=arn)["Tags"]} == kit_tags(
        "2026-01-01T00:00:00Z"
    )


def test_ensure_topic_adds_only_the_kit_tags_a_topic_lacks(sns):
    name = unique("topic")
    arn = sns.create_topic(Name=name, Tags=tags(owner="me", **{"workshop-created-at": "old"}))["TopicArn"]
    kit_sns.ensure_topic({"Name": name, "Tags": tag_list(kit_tags("new"))})
    assert {t["Key"]: t["Value"] for t in sns.list_tags_for_resource(ResourceArn=arn)["Tags"]} == {
        "owner": "me",
        "workshop-created-at": "old",
        "workshop-kit": "ml-pipeline-ch8",
        "workshop-prefix": "t",
    }


def test_ensure_queue_twice_keeps_the_first_creation_time(sqs):
    name = unique("inbox")
    url, arn = kit_sqs.ensure_queue({"QueueName": name, "tags": kit_tags("2026-01-01T00:00:00Z")})
    assert kit_sqs.ensure_queue({"QueueName": name, "tags": kit_tags("2026-01-01T00:05:00Z")}) == (url, arn)
    assert sqs.list_queue_tags(QueueUrl=url)["Tags"] == kit_tags("2026-01-01T00:00:00Z")


def test_ensure_queue_right_after_its_deletion_waits_until_the_name_is_free(sqs, monkeypatch, capsys):
    monkeypatch.setattr(local_sqs, "NAME_REUSE_S", 2.0)
    name = unique("inbox")
    url, _ = kit_sqs.ensure_queue({"QueueName": name, "tags": kit_tags("1")})
    sqs.delete_queue(QueueUrl=url)
    assert kit_sqs.ensure_queue({"QueueName": name, "tags": kit_tags("2")})[0] == url
    assert "deleted less than 60 s ago" in capsys.readouterr().out


# --- the kit: reading the notification it waits for ----------------------------------------------


def note(alarm: str, state: str, at: datetime) -> str:
    """An alarm notification's message as CloudWatch publishes it (the fields the kit reads)."""
    return json.dumps(
        {
            "AlarmName": alarm,
            "NewStateValue": state,
            "OldStateValue": "OK",
            "StateChangeTime": at.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "+0000",
        }
    )


def remaining_notes(sqs, url: str) -> list[tuple[str, str]]:
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get(
        "Messages", []
    )
    return sorted(
        (m["AlarmName"], m["NewStateValue"])
        for m in (json.loads(json.loads(x["Body"])["Message"]) for x in messages)
    )


def test_receive_notifications_returns_the_expected_note_and_leaves_other_alarms_notes(sns, sqs):
    topic, url = subscribed_queue(sns, sqs)
    now = datetime.now(UTC)
    sns.publish(TopicArn=topic, Message=note("latency", "OK", now), Subject="OK")
    sns.publish(TopicArn=topic, Message=note("errors", "ALARM", now), Subject="ALARM")
    found = kit_sqs.receive_notifications(url, alarm="errors", state="ALARM", since=now, timeout_s=5)
    assert [(n["Message"]["AlarmName"], n["Subject"]) for n in found] == [("errors", "ALARM")]
    assert remaining_notes(sqs, url) == [("latency", "OK")]


def test_receive_notifications_skips_and_deletes_a_stale_note_of_the_same_alarm(sns, sqs):
    topic, url = subscribed_queue(sns, sqs)
    now = datetime.now(UTC)
    sns.publish(TopicArn=topic, Message=note("errors", "ALARM", now - timedelta(minutes=10)), Subject="old")
    sns.publish(TopicArn=topic, Message=note("errors", "ALARM", now), Subject="new")
    found = kit_sqs.receive_notifications(url, alarm="errors", state="ALARM", since=now, timeout_s=5)
    assert [n["Subject"] for n in found] == ["new"]
    assert remaining_notes(sqs, url) == []


def test_receive_notifications_waits_for_a_note_delivered_late(sns, sqs):
    topic, url = subscribed_queue(sns, sqs)
    now = datetime.now(UTC)
    with aws_profile(scale=1.0):
        sns.publish(TopicArn=topic, Message=note("errors", "OK", now), Subject="OK")
        found = kit_sqs.receive_notifications(url, alarm="errors", state="OK", since=now, timeout_s=10)
    assert [n["Subject"] for n in found] == ["OK"]


def test_receive_notifications_names_what_it_waited_for_when_nothing_comes(sns, sqs):
    _, url = subscribed_queue(sns, sqs)
    with pytest.raises(WorkshopError, match=r"errors.*ALARM.*2 s"):
        kit_sqs.receive_notifications(
            url, alarm="errors", state="ALARM", since=datetime.now(UTC), timeout_s=2
        )


def test_drain_deletes_what_it_read_and_reports_how_many(sqs):
    url = queue_with(sqs, 13)
    with aws_profile():
        assert kit_sqs.drain(url) == 13
    assert visible_messages(sqs, url) == 0


def test_drain_before_a_moment_keeps_the_notes_of_later_state_changes(sns, sqs):
    topic, url = subscribed_queue(sns, sqs)
    settled = datetime.now(UTC)
    sns.publish(TopicArn=topic, Message=note("errors", "OK", settled - timedelta(minutes=1)), Subject="OK")
    sns.publish(
        TopicArn=topic, Message=note("errors", "ALARM", settled + timedelta(seconds=5)), Subject="ALARM"
    )
    assert kit_sqs.drain(url, before=settled) == 1
    found = kit_sqs.receive_notifications(url, alarm="errors", state="ALARM", since=settled, timeout_s=5)
    assert [n["Subject"] for n in found] == ["ALARM"]

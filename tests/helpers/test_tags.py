"""The kit's tags: re-running a notebook never changes when the kit says a resource was created (its
workshop-created-at tag), and every resource the kit creates names its creator (workshop-creator)."""

from __future__ import annotations

import io
import re
import uuid
import zipfile
from pathlib import Path
from urllib.parse import urlparse

import boto3
import pytest

from helpers import logs
from helpers.config import TAG_CREATOR


def test_ensuring_a_log_group_again_keeps_its_created_at_tag_and_adds_missing_ones(local_cloud):
    name = f"/aws/lambda/tags-{uuid.uuid4().hex[:8]}"
    logs.ensure_log_group({"logGroupName": name, "tags": {"workshop-created-at": "2026-11-29T10:00:00Z"}})

    logs.ensure_log_group(
        {
            "logGroupName": name,
            "tags": {"workshop-created-at": "2026-11-29T11:00:00Z", "workshop-kit": "ml-pipeline-ch8"},
        }
    )

    client = boto3.client("logs", endpoint_url=local_cloud, region_name="us-east-1")
    assert client.list_tags_log_group(logGroupName=name)["tags"] == {
        "workshop-created-at": "2026-11-29T10:00:00Z",
        "workshop-kit": "ml-pipeline-ch8",
    }


# --- The creator tag: every resource the kit creates names the identity that created it (STS's ARN).

LOCAL_CALLER = "arn:aws:sts::123456789012:user/moto"  # the local cloud's STS, for the kit's dummy credentials
TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
    ],
}
HANDLER = b"def lambda_handler(event, context):\n    return {'ok': True}\n"
SOURCES = Path(__file__).resolve().parents[2] / "notebook_sources"


@pytest.fixture(scope="module")
def made(local_cloud, metadata_spec):
    """One resource of each kind the notebooks tag, created through the kit's helpers as the notebooks call them."""
    from helpers import awslambda, cloudwatch, dynamodb, iam, s3, session, sns, sqs

    prefix = f"c{uuid.uuid4().hex[:8]}"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("WORKSHOP_MODE", "local")
        mp.setenv("WORKSHOP_PREFIX", prefix)
        mp.setenv("WORKSHOP_LOCAL_PORT", str(urlparse(local_cloud).port))
        mp.setenv("WORKSHOP_REGION", "us-east-1")
        session.forget()
        settings = session.settings()
        n = settings.names
        session.prepare()
        dynamodb.ensure_table({**metadata_spec(n.metadata_table), "Tags": settings.tag_list()})
        logs.ensure_log_group({"logGroupName": n.function_log_group, "tags": settings.tags()})
        topic = sns.ensure_topic({"Name": n.topic, "Tags": settings.tag_list()})
        queue, _ = sqs.ensure_queue({"QueueName": n.queue, "tags": settings.tags()})
        role = iam.ensure_role(n.role, TRUST, [], settings.tags())
        bucket = s3.ensure_bucket(n.bucket("123456789012", "us-east-1"), settings.tags())
        s3.put_if_changed(bucket, n.model_key, b"model", settings.tags())
        cloudwatch.ensure_alarms(
            [
                {
                    "AlarmName": n.alarm("inference-errors"),
                    "Namespace": n.metric_namespace,
                    "MetricName": "InferenceErrors",
                    "Statistic": "Sum",
                    "Period": 60,
                    "EvaluationPeriods": 1,
                    "Threshold": 0,
                    "ComparisonOperator": "GreaterThanThreshold",
                    "Tags": settings.tag_list(),
                }
            ]
        )
        zipped = io.BytesIO()
        with zipfile.ZipFile(zipped, "w") as archive:
            archive.writestr("app.py", HANDLER)
        function = awslambda.ensure_function(
            {
                "FunctionName": n.function,
                "Runtime": "python3.13",
                "Role": role,
                "Handler": "app.lambda_handler",
                "Tags": settings.tags(),
            },
            zipped.getvalue(),
        )
        creator = settings.creator
    session.forget()
    c = {
        s: boto3.client(s, endpoint_url=local_cloud, region_name="us-east-1")
        for s in ("dynamodb", "logs", "sns", "sqs", "iam", "s3", "cloudwatch", "lambda")
    }
    table_arn = c["dynamodb"].describe_table(TableName=n.metadata_table)["Table"]["TableArn"]
    alarm_arn = c["cloudwatch"].describe_alarms(AlarmNames=[n.alarm("inference-errors")])["MetricAlarms"][0][
        "AlarmArn"
    ]
    pairs = lambda tags: {t["Key"]: t["Value"] for t in tags}  # noqa: E731
    tags = {
        "table": pairs(c["dynamodb"].list_tags_of_resource(ResourceArn=table_arn)["Tags"]),
        "log group": c["logs"].list_tags_log_group(logGroupName=n.function_log_group)["tags"],
        "topic": pairs(c["sns"].list_tags_for_resource(ResourceArn=topic)["Tags"]),
        "queue": c["sqs"].list_queue_tags(QueueUrl=queue)["Tags"],
        "role": pairs(c["iam"].list_role_tags(RoleName=n.role)["Tags"]),
        "bucket": pairs(c["s3"].get_bucket_tagging(Bucket=bucket)["TagSet"]),
        "object": pairs(c["s3"].get_object_tagging(Bucket=bucket, Key=n.model_key)["TagSet"]),
        "alarm": pairs(c["cloudwatch"].list_tags_for_resource(ResourceARN=alarm_arn)["Tags"]),
        "function": c["lambda"].list_tags(Resource=function["FunctionArn"])["Tags"],
    }
    return creator, tags


def test_the_local_clouds_caller_identity_is_the_creator(made):
    creator, _ = made
    assert creator == LOCAL_CALLER


@pytest.mark.parametrize(
    "kind", ["table", "log group", "topic", "queue", "role", "bucket", "object", "alarm", "function"]
)
def test_each_kind_the_kit_creates_carries_the_creator_tag(made, kind):
    _, tags = made
    assert tags[kind].get(TAG_CREATOR) == LOCAL_CALLER
    assert {"workshop-kit", "workshop-prefix", "workshop-created-at"} <= set(tags[kind])


# 00_setup's tags for the SageMaker SDK's resources: the settings' tags as the SDK's Tag shapes.
SDK_TAGS = "[Tag(key=k, value=v) for k, v in settings.tags().items()]"


def test_every_tag_argument_in_the_notebooks_comes_from_the_settings():
    """The notebooks tag what they create with settings.tags()/tag_list() only, so each resource carries the creator."""
    allowed = {"settings.tags()", "settings.tag_list()", "tags"}
    seen = 0
    for source in sorted(SOURCES.glob("*.py")):
        text = source.read_text()
        for value in re.findall(r"""["']Tags["']\s*:\s*([\w.()]+)""", text):
            assert value in allowed, f"{source.name}: Tags from {value}"
            seen += 1
        for value in re.findall(
            r"^\s*tags\s*=\s*(.+?),?$", text, flags=re.M
        ):  # assignments, keyword arguments
            assert value.strip() in allowed | {SDK_TAGS}, f"{source.name}: tags = {value}"
        # The specs built by helpers.specs (8.1's tables, 8.3's alarms) get the settings' tags as an argument.
        seen += len(re.findall(r"specs\.\w+\([^)]*settings\.tag_list\(\)", text))
    specs_source = (SOURCES.parent / "helpers" / "specs.py").read_text()
    assert set(re.findall(r"""["']Tags["']\s*:\s*([\w.()]+)""", specs_source)) == {"tags"}
    assert seen >= 4  # 00_setup's function, 8.1's two tables, 8.3's alarms

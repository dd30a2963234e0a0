"""Every request 8.1-8.3 show is a real request: valid for its operation, the same as the AWS CLI command
printed beside it, and enough to rebuild the chapter with plain boto3.

The requests are read from the notebooks' own sources (`requests_made` in each recap cell, built from the
visible specs; tests/notebook_source.py), for a prefix of the test's own.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import boto3
import botocore.session
import pytest
from botocore import xform_name
from botocore.validate import ParamValidator
from notebook_source import visible_requests

ROOT = Path(__file__).resolve().parents[2]
CHAPTERS = ("8.1_create_dynamodb_table", "8.2_update_lambda_write_dynamodb", "8.3_monitor_with_cloudwatch")
TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
    ],
}
# The operations the chapter teaches (issue 21's "Why"): each must be among the visible requests.
TAUGHT = {
    "CreateTable",
    "UpdateTimeToLive",
    "UpdateContinuousBackups",
    "PutRolePolicy",
    "UpdateFunctionCode",
    "UpdateFunctionConfiguration",
    "PutMetricFilter",
    "PutMetricAlarm",
    "CreateTopic",
    "Subscribe",
    "SetQueueAttributes",
    "PutDashboard",
    "PutRetentionPolicy",
    "CreateQueue",
}
CHANGING_TAGS = ("workshop-created-at",)  # differs between two runs by design


class World:
    """One prefix's settings and plain boto3 clients against the test's local cloud."""

    def __init__(self, local_cloud: str, prefix: str) -> None:
        from helpers import session

        self.prefix, self.url = prefix, local_cloud
        self.env = {
            "WORKSHOP_MODE": "local",
            "WORKSHOP_PREFIX": prefix,
            "WORKSHOP_LOCAL_PORT": str(urlparse(local_cloud).port),
            "WORKSHOP_REGION": "us-east-1",
        }
        with self.settings_of():
            self.settings = session.settings()
            session.prepare()
        self.names = self.settings.names

    def settings_of(self) -> Any:
        """A context in which helpers' settings are this world's."""
        from helpers import session

        world = self

        class Context:
            def __enter__(self) -> None:
                self.patch = pytest.MonkeyPatch()
                for key, value in world.env.items():
                    self.patch.setenv(key, value)
                session.forget()

            def __exit__(self, *exc: object) -> None:
                self.patch.undo()
                session.forget()

        return Context()

    def client(self, service: str) -> Any:
        return boto3.client(service, endpoint_url=self.url, region_name="us-east-1")

    def chapter7(self) -> None:
        """What 00_setup leaves for chapter 8: the role and chapter 7's function (plain boto3)."""
        from helpers import awslambda

        iam, lam = self.client("iam"), self.client("lambda")
        role = iam.create_role(RoleName=self.names.role, AssumeRolePolicyDocument=json.dumps(TRUST))["Role"]
        package = awslambda.build_zip({"app.py": ROOT / "lambda" / "chapter7" / "app.py"})
        lam.create_function(
            FunctionName=self.names.function,
            Runtime="python3.13",
            Role=role["Arn"],
            Handler="app.lambda_handler",
            Code={"ZipFile": package},
            Environment={"Variables": {"ENDPOINT_NAME": self.names.endpoint}},
        )
        lam.get_waiter("function_active_v2").wait(FunctionName=self.names.function)

    def requests(self, package_path: str = "", topic_arn: str = "", queue_url: str = "") -> list[tuple]:
        """Every visible request of 8.1-8.3 for this prefix, in the notebooks' order."""
        from helpers import awslambda, session

        with self.settings_of():
            n = session.settings().names
            queue_arn = session.arn("sqs", n.queue)
            provided = {
                "names": n,
                "role_name": n.role,  # 8.1 reads it from the function's configuration
                "settings": session.settings(),
                "session": session,
                "info": {"account": "123456789012"},
                "ALARM_PERIOD": 60,
                "metadata_table": {"TableArn": session.arn("dynamodb", f"table/{n.metadata_table}")},
                "package": awslambda.build_zip({"app.py": ROOT / "lambda" / "app.py"}),
                "package_path": package_path,
                "topic_arn": topic_arn or session.arn("sns", n.topic),
                "queue_url": queue_url or f"{self.url}/123456789012/{n.queue}",
                "queue_arn": queue_arn,
            }
            return [request for chapter in CHAPTERS for request in visible_requests(chapter, provided)]


@pytest.fixture(scope="module")
def world(local_cloud):
    return World(local_cloud, f"v{uuid.uuid4().hex[:8]}")


def test_every_operation_the_chapter_teaches_is_a_visible_request(world):
    assert TAUGHT <= {operation for _, operation, _ in world.requests()}


def test_every_visible_request_is_valid_for_its_operation(world):
    """botocore's own check of a request against the operation's input shape (what boto3 runs first)."""
    loader = botocore.session.get_session()
    problems = []
    for service, operation, request in world.requests():
        shape = loader.get_service_model(service).operation_model(operation).input_shape
        report = ParamValidator().validate(request, shape)
        if report.has_errors():
            problems.append(f"{service} {operation}: {report.generate_report()}")
    assert not problems, "\n".join(problems)


def replay(world: World, skip: tuple[str, ...] = ()) -> dict[str, str]:
    """Rebuild 8.1-8.3 from the visible requests with plain boto3, waiting where AWS requires; the topic and queue."""
    world.chapter7()
    made: dict[str, str] = {}
    for service, operation, request in world.requests():
        if operation in skip:
            continue
        if operation == "CreateTopic":
            made["topic_arn"] = world.client("sns").create_topic(**request)["TopicArn"]
            continue
        if operation == "CreateQueue":
            made["queue_url"] = world.client("sqs").create_queue(**request)["QueueUrl"]
            continue
        if operation in ("SetQueueAttributes", "Subscribe", "PutMetricAlarm"):
            # built from the topic and queue just made (the same values the notebook's cell reads)
            request = next(
                r for s, o, r in world.requests(topic_arn=made["topic_arn"], queue_url=made["queue_url"])
                if o == operation and (o != "PutMetricAlarm" or r["AlarmName"] == request["AlarmName"])
            )  # fmt: skip
        getattr(world.client(service), xform_name(operation))(**request)
        if service == "lambda":
            world.client("lambda").get_waiter("function_updated_v2").wait(
                FunctionName=request["FunctionName"]
            )
    return made


def kit_build(world: World) -> None:
    """Build 8.1-8.3 from the same requests through the helpers the notebooks call."""
    from helpers import awslambda, cloudwatch, dynamodb, iam, logs, sns, sqs

    world.chapter7()
    with world.settings_of():
        made: dict[str, str] = {}
        for service, operation, request in world.requests():
            if operation in ("SetQueueAttributes", "Subscribe", "PutMetricAlarm"):
                request = next(
                    r for s, o, r in world.requests(topic_arn=made["topic_arn"], queue_url=made["queue_url"])
                    if o == operation and (o != "PutMetricAlarm" or r["AlarmName"] == request["AlarmName"])
                )  # fmt: skip
            kit = {
                "CreateTable": dynamodb.ensure_table,
                "UpdateTimeToLive": dynamodb.ensure_time_to_live,
                "UpdateContinuousBackups": dynamodb.ensure_continuous_backups,
                "PutRolePolicy": iam.put_inline_policy,
                "UpdateFunctionCode": awslambda.update_code,
                "UpdateFunctionConfiguration": awslambda.update_configuration,
                "CreateLogGroup": logs.ensure_log_group,
                "PutMetricFilter": lambda r: logs.ensure_metric_filters([r]),
                "Subscribe": sns.ensure_subscription,
                "PutMetricAlarm": lambda r: cloudwatch.ensure_alarms([r]),
                "PutDashboard": cloudwatch.put_dashboard,
            }
            if operation == "CreateTopic":
                made["topic_arn"] = sns.ensure_topic(request)
            elif operation == "CreateQueue":
                made["queue_url"] = sqs.ensure_queue(request)[0]
            elif operation in kit:
                kit[operation](request)
            else:  # the notebooks send these as they are (idempotent)
                getattr(world.client(service), xform_name(operation))(**request)


def snapshot(world: World) -> dict[str, Any]:
    """What 8.1-8.3 leave for a prefix, as AWS describes it, with the prefix and changing tags masked."""
    n, c = world.names, world.client
    ddb, lam, logs, cw, sns, sqs = c("dynamodb"), c("lambda"), c("logs"), c("cloudwatch"), c("sns"), c("sqs")
    found: dict[str, Any] = {}
    for table in (n.metadata_table, n.registry_table):
        described = ddb.describe_table(TableName=table)["Table"]
        found[table] = {
            "keys": described["KeySchema"],
            "attributes": sorted(described["AttributeDefinitions"], key=str),
            "indexes": [
                (i["KeySchema"], i["Projection"]) for i in described.get("GlobalSecondaryIndexes", [])
            ],
            "billing": described["BillingModeSummary"]["BillingMode"],
            "ttl": ddb.describe_time_to_live(TableName=table)["TimeToLiveDescription"],
            "pitr": ddb.describe_continuous_backups(TableName=table)["ContinuousBackupsDescription"][
                "PointInTimeRecoveryDescription"
            ]["PointInTimeRecoveryStatus"],
            "tags": ddb.list_tags_of_resource(ResourceArn=described["TableArn"])["Tags"],
        }
    iam = c("iam")
    found["role policies"] = {
        p: iam.get_role_policy(RoleName=n.role, PolicyName=p)["PolicyDocument"]
        for p in iam.list_role_policies(RoleName=n.role)["PolicyNames"]
    }
    config = lam.get_function_configuration(FunctionName=n.function)
    found["function"] = {
        k: config.get(k) for k in ("Handler", "Runtime", "Timeout", "MemorySize", "Environment", "CodeSha256")
    }
    for group in (n.function_log_group, n.endpoint_log_group):
        described = logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"][0]
        found[group] = {
            "retention": described.get("retentionInDays"),
            "tags": logs.list_tags_log_group(logGroupName=group)["tags"],
            "filters": [
                {k: v for k, v in f.items() if k != "creationTime"}
                for f in logs.describe_metric_filters(logGroupName=group)["metricFilters"]
            ],
        }
    topic = next(t["TopicArn"] for t in sns.list_topics()["Topics"] if t["TopicArn"].endswith(f":{n.topic}"))
    found["topic tags"] = sns.list_tags_for_resource(ResourceArn=topic)["Tags"]
    found["subscriptions"] = [
        (s["Protocol"], s["Endpoint"])
        for s in sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
    ]
    queue = sqs.get_queue_url(QueueName=n.queue)["QueueUrl"]
    found["queue"] = {
        "policy": json.loads(
            sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["Policy"])["Attributes"]["Policy"]
        ),
        "tags": sqs.list_queue_tags(QueueUrl=queue)["Tags"],
    }
    alarms = cw.describe_alarms(AlarmNamePrefix=n.alarm(""))["MetricAlarms"]
    keep = ("AlarmName", "AlarmDescription", "Namespace", "MetricName", "Statistic", "ExtendedStatistic",
            "Dimensions", "Period", "EvaluationPeriods", "DatapointsToAlarm", "Threshold",
            "ComparisonOperator", "TreatMissingData", "EvaluateLowSampleCountPercentile", "Unit",
            "AlarmActions", "OKActions")  # fmt: skip
    found["alarms"] = sorted(({k: a.get(k) for k in keep} for a in alarms), key=lambda a: a["AlarmName"])
    found["dashboard"] = json.loads(cw.get_dashboard(DashboardName=n.dashboard)["DashboardBody"])
    text = json.dumps(found, sort_keys=True, default=str).replace(world.prefix, "<prefix>")
    return json.loads(re.sub(r'"(workshop-created-at)"(, "Value")?: "[^"]*"', r'"\1"\2: "<time>"', text))


def test_replaying_the_visible_requests_with_plain_boto3_builds_what_the_notebooks_helpers_build(local_cloud):
    replayed = World(local_cloud, f"r{uuid.uuid4().hex[:8]}")
    replay(replayed)
    built = World(local_cloud, f"k{uuid.uuid4().hex[:8]}")
    kit_build(built)
    assert snapshot(replayed) == snapshot(built)


def test_the_replayed_queue_receives_the_topic_s_notifications(local_cloud):
    replayed = World(local_cloud, f"q{uuid.uuid4().hex[:8]}")
    made = replay(replayed)
    replayed.client("sns").publish(TopicArn=made["topic_arn"], Message="hello")
    received = replayed.client("sqs").receive_message(
        QueueUrl=made["queue_url"], WaitTimeSeconds=2, MaxNumberOfMessages=10
    )  # the alarms' first notes may come too
    assert "hello" in [json.loads(m["Body"])["Message"] for m in received.get("Messages", [])]


def test_without_the_visible_queue_policy_sns_delivers_nothing_to_the_queue(local_cloud):
    replayed = World(local_cloud, f"p{uuid.uuid4().hex[:8]}")
    made = replay(replayed, skip=("SetQueueAttributes",))
    replayed.client("sns").publish(TopicArn=made["topic_arn"], Message="hello")
    received = replayed.client("sqs").receive_message(QueueUrl=made["queue_url"], WaitTimeSeconds=2)
    assert received.get("Messages", []) == []  # neither the note nor any alarm's


def test_every_printed_aws_cli_command_makes_its_request_against_the_local_cloud(local_cloud, tmp_path):
    """The CLI commands the recaps print, run with the kit's awscli (.venv/bin/aws), for a fresh prefix."""
    from helpers import awslambda, show

    world = World(local_cloud, f"a{uuid.uuid4().hex[:8]}")
    world.chapter7()
    package_path = tmp_path / "inference-handler.zip"
    package_path.write_bytes(awslambda.build_zip({"app.py": ROOT / "lambda" / "app.py"}))
    env = {**os.environ, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
    aws = str(Path(sys.executable).with_name("aws"))
    made: dict[str, str] = {}
    failures = []
    for service, operation, request in world.requests(package_path=str(package_path)):
        if operation in ("SetQueueAttributes", "Subscribe", "PutMetricAlarm"):
            request = next(
                r for s, o, r in world.requests(str(package_path), made["topic_arn"], made["queue_url"])
                if o == operation and (o != "PutMetricAlarm" or r["AlarmName"] == request["AlarmName"])
            )  # fmt: skip
        with world.settings_of():
            files = {"ZipFile": str(package_path)} if "ZipFile" in request else None
            command = shlex.split(show.cli_input(service, operation, request, files=files))
        answer = subprocess.run([aws, *command[1:]], env=env, capture_output=True, text=True, timeout=60)
        if answer.returncode != 0:
            failures.append(f"{operation}: {answer.stderr.strip()[-300:]}")
            continue
        if operation == "CreateTopic":
            made["topic_arn"] = json.loads(answer.stdout)["TopicArn"]
        if operation == "CreateQueue":
            made["queue_url"] = json.loads(answer.stdout)["QueueUrl"]
        if service == "lambda":
            world.client("lambda").get_waiter("function_updated_v2").wait(
                FunctionName=request["FunctionName"]
            )
    assert not failures, "\n".join(failures)
    config = world.client("lambda").get_function_configuration(FunctionName=world.names.function)
    assert config["CodeSha256"] == awslambda.code_sha256(package_path.read_bytes())
    assert (
        world.client("dynamodb").describe_time_to_live(TableName=world.names.metadata_table)[
            "TimeToLiveDescription"
        ]["TimeToLiveStatus"]
        == "ENABLED"
    )

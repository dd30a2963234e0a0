"""Cleanup against the local cloud: three attendees side by side, one cleaned up, nothing else touched.

The fixture builds every kind of resource the kit makes, named and tagged as the kit does, and
the census lists every service with plain boto3, independently of helpers.inventory.
"""

from __future__ import annotations

import datetime as _dt
import functools
import io
import json
import os
import re
import urllib.request
import uuid
import zipfile
from dataclasses import dataclass
from urllib.parse import urlparse

import boto3
import pytest

from helpers import cleanup, config, inventory, resources, session
from helpers.config import KIT_NAME, LOCAL_ACCOUNT_ID, TAG_CREATED, TAG_KIT, TAG_PREFIX, Names

REGION = "us-east-1"
BASIC_EXECUTION = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
    ],
}
HANDLER = b"def lambda_handler(event, context):\n    return {'ok': True}\n"


def use_local_cloud(monkeypatch, url: str, prefix: str, mode: str = "local") -> None:
    """Point the kit's settings and sessions at the test's local cloud."""
    monkeypatch.setenv("WORKSHOP_MODE", mode)
    monkeypatch.setenv("WORKSHOP_PREFIX", prefix)
    monkeypatch.setenv("WORKSHOP_LOCAL_PORT", str(urlparse(url).port))
    monkeypatch.setenv("WORKSHOP_REGION", REGION)
    for name in ("WORKSHOP_ENDPOINT_NAME", "WORKSHOP_FUNCTION_NAME", "WORKSHOP_MODEL_VERSION"):
        monkeypatch.delenv(name, raising=False)
    forget_session()


def forget_session() -> None:
    """Make the kit re-read its settings; rebuild its clients only when they point elsewhere (building them takes seconds)."""
    settings, prepared = config.reload(), session._prepared
    session._identities.clear()  # a new kernel asks STS who it is again
    if (
        prepared is None
        or prepared["mode"] != settings.mode
        or (settings.is_local and prepared["endpoint"] != settings.local_url)
    ):
        session._prepared = None
        session._clients.cache_clear()


@functools.cache
def shared_session() -> boto3.Session:
    """One boto3 session for all the kit's clients in these tests: a new session per client re-reads the
    service models from disk, which costs seconds per test (helpers.session may want the same cache)."""
    return boto3.Session(region_name=REGION)


def new_prefix() -> str:
    """A prefix no other test uses, so tests share one local cloud without resetting it (a reset costs seconds)."""
    return f"t{uuid.uuid4().hex[:8]}"


@pytest.fixture()
def kit_env(local_cloud, monkeypatch):
    """The kit's settings pointing at the local cloud, local mode, with a fresh prefix; yields the prefix."""
    prefix = new_prefix()
    monkeypatch.setattr(session, "session", shared_session)
    use_local_cloud(monkeypatch, local_cloud, prefix)
    yield prefix
    monkeypatch.undo()
    os.environ["AWS_ENDPOINT_URL"] = local_cloud
    forget_session()


def tags_for(prefix: str, created: str) -> dict[str, str]:
    return {TAG_KIT: KIT_NAME, TAG_PREFIX: prefix, TAG_CREATED: created}


def _zip() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("app.py", HANDLER)
    return out.getvalue()


def build_kit(prefix: str, created: str = "2030-01-01T00:00:00Z") -> set[tuple[str, str, str]]:
    """Create every kind of resource the kit makes for prefix, named and tagged as the kit does; return their census keys."""
    n, tags = Names(prefix), tags_for(prefix, created)
    tag_list = [{"Key": k, "Value": v} for k, v in tags.items()]
    made: set[tuple[str, str, str]] = set()
    s3, iam, sm, lam = (boto3.client(s, region_name=REGION) for s in ("s3", "iam", "sagemaker", "lambda"))
    logs, ddb, sns, sqs, cw = (
        boto3.client(s, region_name=REGION) for s in ("logs", "dynamodb", "sns", "sqs", "cloudwatch")
    )

    bucket = n.bucket(LOCAL_ACCOUNT_ID, REGION)
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": tag_list})
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    for body in (b"v1", b"v2"):  # two versions of the artifact
        s3.put_object(Bucket=bucket, Key=n.model_key, Body=body)
    s3.put_object(Bucket=bucket, Key=n.model_key.replace("model.tar.gz", "metrics.json"), Body=b"{}")
    made |= {
        ("s3", "bucket", bucket),
        ("s3", "object", f"{bucket}/{n.model_key}"),
        ("s3", "object", f"{bucket}/{n.model_key.replace('model.tar.gz', 'metrics.json')}"),
    }

    for role, service in ((n.role, "lambda"), (n.sagemaker_role, "sagemaker")):
        trust = {
            **TRUST,
            "Statement": [{**TRUST["Statement"][0], "Principal": {"Service": f"{service}.amazonaws.com"}}],
        }
        iam.create_role(RoleName=role, AssumeRolePolicyDocument=json.dumps(trust), Tags=tag_list)
        iam.put_role_policy(
            RoleName=role,
            PolicyName="least-privilege",
            PolicyDocument=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}],
                }
            ),
        )
        made |= {("iam", "role", role), ("iam", "inline policy", f"{role}/least-privilege")}
    iam.attach_role_policy(RoleName=n.role, PolicyArn=BASIC_EXECUTION)
    made.add(("iam", "attached policy", f"{n.role}/{BASIC_EXECUTION}"))
    role_arn = f"arn:aws:iam::{LOCAL_ACCOUNT_ID}:role/{n.role}"

    sm.create_model(
        ModelName=n.model,
        ExecutionRoleArn=f"arn:aws:iam::{LOCAL_ACCOUNT_ID}:role/{n.sagemaker_role}",
        PrimaryContainer={
            "Image": "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1",
            "ModelDataUrl": f"s3://{bucket}/{n.model_key}",
        },
        Tags=tag_list,
    )
    sm.create_endpoint_config(
        EndpointConfigName=n.endpoint_config,
        Tags=tag_list,
        ProductionVariants=[
            {
                "VariantName": "AllTraffic",
                "ModelName": n.model,
                "ServerlessConfig": {"MemorySizeInMB": 2048, "MaxConcurrency": 5},
            }
        ],
    )
    sm.create_endpoint(EndpointName=n.endpoint, EndpointConfigName=n.endpoint_config, Tags=tag_list)
    made |= {
        ("sagemaker", "model", n.model),
        ("sagemaker", "endpoint config", n.endpoint_config),
        ("sagemaker", "endpoint", n.endpoint),
    }

    lam.create_function(
        FunctionName=n.function,
        Runtime="python3.13",
        Role=role_arn,
        Handler="app.lambda_handler",
        Code={"ZipFile": _zip()},
        Tags=tags,
    )
    made.add(("lambda", "function", n.function))
    lam.create_function_url_config(FunctionName=n.function, AuthType="AWS_IAM")
    made.add(("lambda", "function url", n.function))

    logs.create_log_group(logGroupName=n.function_log_group)  # as AWS makes it: untagged, on first invocation
    logs.create_log_group(logGroupName=n.endpoint_log_group, tags=tags)
    for group in (n.function_log_group, n.endpoint_log_group):
        logs.put_retention_policy(logGroupName=group, retentionInDays=7)
        made.add(("logs", "log group", group))
    logs.put_metric_filter(
        logGroupName=n.function_log_group,
        filterName="InferenceErrors",
        filterPattern='{ $.status = "model_error" }',
        metricTransformations=[
            {"metricName": "InferenceErrors", "metricNamespace": n.metric_namespace, "metricValue": "1"}
        ],
    )
    made.add(("logs", "metric filter", f"{n.function_log_group}/InferenceErrors"))

    for table in (n.metadata_table, n.registry_table):
        ddb.create_table(
            TableName=table,
            BillingMode="PAY_PER_REQUEST",
            Tags=tag_list,
            KeySchema=[{"AttributeName": "requestId", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "requestId", "AttributeType": "S"}],
        )
        made.add(("dynamodb", "table", table))

    topic = sns.create_topic(Name=n.topic, Tags=tag_list)["TopicArn"]
    queue = sqs.create_queue(QueueName=n.queue, tags=tags)["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)
    lam.create_event_source_mapping(EventSourceArn=queue_arn, FunctionName=n.function, BatchSize=1)
    made |= {
        ("sns", "topic", n.topic),
        ("sns", "subscription", f"{n.topic}/{queue_arn}"),
        ("sqs", "queue", n.queue),
        ("lambda", "event source mapping", f"{n.function}/{queue_arn}"),
    }

    for what in ("inference-errors", "latency-p90"):
        cw.put_metric_alarm(
            AlarmName=n.alarm(what),
            Namespace=n.metric_namespace,
            MetricName="InferenceErrors",
            Statistic="Sum",
            Period=60,
            EvaluationPeriods=1,
            Threshold=0,
            ComparisonOperator="GreaterThanThreshold",
            TreatMissingData="notBreaching",
            AlarmActions=[topic],
            Tags=tag_list,
        )
        made.add(("cloudwatch", "alarm", n.alarm(what)))
    cw.put_dashboard(DashboardName=n.dashboard, DashboardBody=json.dumps({"widgets": []}))
    made.add(("cloudwatch", "dashboard", n.dashboard))
    return made


def build_small_kit(prefix: str, created: str = "2030-01-01T00:00:00Z") -> set[tuple[str, str, str]]:
    """A few of the kit's resources for prefix (a table, an alarm, a queue, the dashboard), for tests about flow, not kinds."""
    n, tags = Names(prefix), tags_for(prefix, created)
    tag_list = [{"Key": k, "Value": v} for k, v in tags.items()]
    ddb, sqs, cw = (boto3.client(s, region_name=REGION) for s in ("dynamodb", "sqs", "cloudwatch"))
    for table in (n.metadata_table, n.registry_table):
        ddb.create_table(
            TableName=table,
            BillingMode="PAY_PER_REQUEST",
            Tags=tag_list,
            KeySchema=[{"AttributeName": "requestId", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "requestId", "AttributeType": "S"}],
        )
    sqs.create_queue(QueueName=n.queue, tags=tags)
    for what in ("inference-errors", "latency-p90"):
        cw.put_metric_alarm(
            AlarmName=n.alarm(what),
            Namespace=n.metric_namespace,
            MetricName="InferenceErrors",
            Statistic="Sum",
            Period=60,
            EvaluationPeriods=1,
            Threshold=0,
            ComparisonOperator="GreaterThanThreshold",
            TreatMissingData="missing",
            Tags=tag_list,
        )
    cw.put_dashboard(DashboardName=n.dashboard, DashboardBody=json.dumps({"widgets": []}))
    return {
        ("dynamodb", "table", n.metadata_table),
        ("dynamodb", "table", n.registry_table),
        ("sqs", "queue", n.queue),
        ("cloudwatch", "alarm", n.alarm("inference-errors")),
        ("cloudwatch", "alarm", n.alarm("latency-p90")),
        ("cloudwatch", "dashboard", n.dashboard),
    }


def build_lookalikes(prefix: str) -> set[tuple[str, str, str]]:
    """Resources named like the kit's for prefix but without the kit's tags: cleanup must leave them."""
    ddb, sqs, iam = (boto3.client(s, region_name=REGION) for s in ("dynamodb", "sqs", "iam"))
    ddb.create_table(
        TableName=f"{prefix}-notes",
        BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        Tags=[{"Key": "team", "Value": "data"}],
    )
    sqs.create_queue(QueueName=f"{prefix}-scratch")
    iam.create_role(
        RoleName=f"{prefix}-readonly",
        AssumeRolePolicyDocument=json.dumps(TRUST),
        Tags=[{"Key": TAG_PREFIX, "Value": prefix}],
    )  # the prefix tag alone is not the kit's tag
    return {
        ("dynamodb", "table", f"{prefix}-notes"),
        ("sqs", "queue", f"{prefix}-scratch"),
        ("iam", "role", f"{prefix}-readonly"),
    }


def census() -> set[tuple[str, str, str]]:
    """Every resource in the cloud, listed service by service with plain boto3 (not through the inventory)."""
    c = {
        s: boto3.client(s, region_name=REGION)
        for s in ("s3", "iam", "sagemaker", "lambda", "logs", "dynamodb", "sns", "sqs", "cloudwatch")
    }
    found: set[tuple[str, str, str]] = set()
    for b in c["s3"].list_buckets()["Buckets"]:
        found.add(("s3", "bucket", b["Name"]))
        for v in c["s3"].list_object_versions(Bucket=b["Name"]).get("Versions", []):
            found.add(("s3", "object", f"{b['Name']}/{v['Key']}"))
    for role in c["iam"].list_roles()["Roles"]:
        name = role["RoleName"]
        found.add(("iam", "role", name))
        found |= {
            ("iam", "inline policy", f"{name}/{p}")
            for p in c["iam"].list_role_policies(RoleName=name)["PolicyNames"]
        }
        found |= {
            ("iam", "attached policy", f"{name}/{p['PolicyArn']}")
            for p in c["iam"].list_attached_role_policies(RoleName=name)["AttachedPolicies"]
        }
    sm = c["sagemaker"]
    found |= {("sagemaker", "model", m["ModelName"]) for m in sm.list_models()["Models"]}
    found |= {
        ("sagemaker", "endpoint config", e["EndpointConfigName"])
        for e in sm.list_endpoint_configs()["EndpointConfigs"]
    }
    found |= {("sagemaker", "endpoint", e["EndpointName"]) for e in sm.list_endpoints()["Endpoints"]}
    for fn in c["lambda"].list_functions()["Functions"]:
        name = fn["FunctionName"]
        found.add(("lambda", "function", name))
        try:
            c["lambda"].get_function_url_config(FunctionName=name)
            found.add(("lambda", "function url", name))
        except c["lambda"].exceptions.ResourceNotFoundException:
            pass
    for esm in c["lambda"].list_event_source_mappings()["EventSourceMappings"]:
        found.add(
            (
                "lambda",
                "event source mapping",
                f"{esm['FunctionArn'].rsplit(':', 1)[-1]}/{esm['EventSourceArn']}",
            )
        )
    for group in c["logs"].describe_log_groups()["logGroups"]:
        name = group["logGroupName"]
        found.add(("logs", "log group", name))
        found |= {
            ("logs", "metric filter", f"{name}/{f['filterName']}")
            for f in c["logs"].describe_metric_filters(logGroupName=name)["metricFilters"]
        }
    found |= {("dynamodb", "table", t) for t in c["dynamodb"].list_tables()["TableNames"]}
    for topic in c["sns"].list_topics()["Topics"]:
        arn = topic["TopicArn"]
        name = arn.rsplit(":", 1)[-1]
        found.add(("sns", "topic", name))
        found |= {
            ("sns", "subscription", f"{name}/{s['Endpoint']}")
            for s in c["sns"].list_subscriptions_by_topic(TopicArn=arn)["Subscriptions"]
        }
    found |= {("sqs", "queue", url.rsplit("/", 1)[-1]) for url in c["sqs"].list_queues().get("QueueUrls", [])}
    found |= {
        ("cloudwatch", "alarm", a["AlarmName"]) for a in c["cloudwatch"].describe_alarms()["MetricAlarms"]
    }
    found |= {
        ("cloudwatch", "dashboard", d["DashboardName"])
        for d in c["cloudwatch"].list_dashboards()["DashboardEntries"]
    }
    return found


PREFIXES = ("ann", "ann-b", "bob")  # 'ann-b' shares the name stem of 'ann' on purpose


def reset(url: str) -> None:
    """Empty the local cloud."""
    urllib.request.urlopen(urllib.request.Request(f"{url}/moto-api/reset", method="POST")).read()


def record_deletes(
    services=("cloudwatch", "logs", "lambda", "sns", "sqs", "dynamodb", "sagemaker", "s3", "iam"),
):
    """Record the operation names of every delete-like call the kit's clients make, in order."""
    calls: list[str] = []

    def hook(model, **_):
        if model.name.startswith(("Delete", "Detach", "Unsubscribe")):
            calls.append(model.name)

    session.prepare()
    for service in services:
        session.client(service).meta.events.register("before-call", hook, unique_id="record-deletes")
    return calls


def stop_recording(
    services=("cloudwatch", "logs", "lambda", "sns", "sqs", "dynamodb", "sagemaker", "s3", "iam"),
) -> None:
    """Remove record_deletes' hook from the kit's clients."""
    for service in services:
        session.client(service).meta.events.unregister("before-call", unique_id="record-deletes")


@dataclass
class World:
    """Three attendees side by side, then ann's cleanup: what was made, found, called and left."""

    made: dict[str, set]
    before: list
    report: cleanup.Report
    calls: list[str]
    after: set


@pytest.fixture(scope="module")
def ann_cleaned(local_cloud):
    """Build three attendees' kits and lookalikes of ann's, clean up ann; the facts, captured once for the module."""
    with pytest.MonkeyPatch.context() as mp:
        reset(local_cloud)
        mp.setattr(session, "session", shared_session)
        use_local_cloud(mp, local_cloud, "ann")
        made = {p: build_kit(p) for p in PREFIXES}
        made["lookalikes"] = build_lookalikes("ann")
        before = inventory.collect("ann")
        calls = record_deletes()
        report = cleanup.cleanup("ann", delete=True)
        stop_recording()
        world = World(made, before, report, calls, census())
    os.environ["AWS_ENDPOINT_URL"] = local_cloud
    forget_session()
    return world


def test_cleanup_deletes_every_resource_of_the_prefix(ann_cleaned):
    assert ann_cleaned.report.ok and not ann_cleaned.report.left
    assert not ann_cleaned.made["ann"] & ann_cleaned.after


def test_cleanup_leaves_other_prefixes_intact(ann_cleaned):
    assert ann_cleaned.made["ann-b"] <= ann_cleaned.after
    assert ann_cleaned.made["bob"] <= ann_cleaned.after


def test_cleanup_leaves_resources_without_the_kit_tag(ann_cleaned):
    assert ann_cleaned.made["lookalikes"] <= ann_cleaned.after
    assert {r.name for r in ann_cleaned.report.left_alone} >= {"ann-notes", "ann-scratch", "ann-readonly"}


def test_cleanup_deletes_in_dependency_order(ann_cleaned):
    calls = ann_cleaned.calls
    order = [op for i, op in enumerate(calls) if i == 0 or calls[i - 1] != op]
    assert order == [
        "DeleteAlarms",
        "DeleteDashboards",
        "DeleteMetricFilter",
        "DeleteLogGroup",
        "DeleteEventSourceMapping",
        "DeleteFunctionUrlConfig",
        "DeleteFunction",
        "Unsubscribe",
        "DeleteTopic",
        "DeleteQueue",
        "DeleteTable",
        "DeleteEndpoint",
        "DeleteEndpointConfig",
        "DeleteModel",
        "DeleteObject",
        "DeleteBucket",
        "DetachRolePolicy",
        "DeleteRolePolicy",
        "DeleteRole",
    ]


def test_cleanup_deletes_every_version_of_every_object(ann_cleaned):
    versions = [r for r in ann_cleaned.report.deleted if r.kind == "object"]
    assert sorted(r.name for r in versions) == sorted(
        ["models/classifier/v1/model.tar.gz"] * 2 + ["models/classifier/v1/metrics.json"]
    )


def test_inventory_finds_every_kind_of_the_kits_resources(ann_cleaned):
    kinds = {(r.service, r.kind) for r in ann_cleaned.before if r.owned}
    assert kinds == {(k.service, k.kind) for k in cleanup.DELETE_ORDER}
    assert all(r.prefix == "ann" for r in ann_cleaned.before)


def test_inventory_finds_exactly_what_the_kit_made_for_the_prefix(ann_cleaned):
    found = {
        r.name
        for r in ann_cleaned.before
        if r.owned and r.kind in ("table", "alarm", "role", "queue", "function")
    }
    made = {
        name
        for _, kind, name in ann_cleaned.made["ann"]
        if kind in ("table", "alarm", "role", "queue", "function")
    }
    assert found == made


def test_inventory_marks_lookalikes_as_not_the_kits(ann_cleaned):
    lookalikes = {r.name for r in ann_cleaned.before if not r.owned}
    assert {"ann-notes", "ann-scratch", "ann-readonly"} <= lookalikes


def test_inventory_estimates_hourly_cost(ann_cleaned):
    found = {(r.kind, r.name): r for r in ann_cleaned.before}
    assert found[("alarm", "ann-inference-errors")].est_hourly_usd == pytest.approx(0.10 / 730)
    assert found[("dashboard", "ann-inference-pipeline")].est_hourly_usd == pytest.approx(3 / 730)
    assert found[("endpoint", "ann-classifier-endpoint")].est_hourly_usd == 0  # serverless, idle
    assert found[("table", "ann-inference-metadata")].est_hourly_usd == 0  # on-demand, idle


def test_show_prints_the_table_and_the_total(ann_cleaned, capsys):
    inventory.show(ann_cleaned.before)
    out = capsys.readouterr().out
    assert "ann-classifier-endpoint" in out and "/hour" in out and resources.PRICES_AS_OF in out


def test_inventory_reads_created_at_from_the_tag(kit_env):
    build_kit(kit_env, created="2024-05-06T07:08:09Z")
    table = next(r for r in inventory.collect(kit_env) if r.kind == "table")
    assert table.created_at == _dt.datetime(2024, 5, 6, 7, 8, 9, tzinfo=_dt.UTC)


def test_inventory_prices_an_instance_endpoint_by_its_type(kit_env):
    sm = boto3.client("sagemaker", region_name=REGION)
    tags = [{"Key": k, "Value": v} for k, v in tags_for(kit_env, "2030-01-01T00:00:00Z").items()]
    sm.create_model(
        ModelName=f"{kit_env}-m",
        ExecutionRoleArn=f"arn:aws:iam::{LOCAL_ACCOUNT_ID}:role/r",
        PrimaryContainer={"Image": "x"},
        Tags=tags,
    )
    sm.create_endpoint_config(
        EndpointConfigName=f"{kit_env}-c",
        Tags=tags,
        ProductionVariants=[
            {
                "VariantName": "AllTraffic",
                "ModelName": f"{kit_env}-m",
                "InstanceType": "ml.m5.large",
                "InitialInstanceCount": 2,
            }
        ],
    )
    sm.create_endpoint(EndpointName=f"{kit_env}-e", EndpointConfigName=f"{kit_env}-c", Tags=tags)
    endpoint = next(r for r in inventory.collect(kit_env) if r.kind == "endpoint")
    assert endpoint.est_hourly_usd == pytest.approx(2 * resources.Endpoint.INSTANCE_USD_HOUR["ml.m5.large"])


def test_cleanup_deletes_the_objects_of_an_unversioned_bucket(kit_env):
    bucket = Names(kit_env).bucket(LOCAL_ACCOUNT_ID, REGION)  # as 00_setup makes it: no versioning
    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_tagging(
        Bucket=bucket,
        Tagging={
            "TagSet": [{"Key": k, "Value": v} for k, v in tags_for(kit_env, "2030-01-01T00:00:00Z").items()]
        },
    )
    s3.put_object(Bucket=bucket, Key="models/classifier/v1/model.tar.gz", Body=b"model")
    report = cleanup.cleanup(kit_env, delete=True)
    assert [r.kind for r in report.deleted] == ["object", "bucket"] and report.ok
    assert ("s3", "bucket", bucket) not in census()


def test_cleanup_takes_the_role_out_of_an_instance_profile_and_leaves_the_profile(kit_env):
    iam = boto3.client("iam", region_name=REGION)
    role = f"{kit_env}-lambda-role"
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }
    iam.create_role(
        RoleName=role,
        AssumeRolePolicyDocument=json.dumps(trust),
        Tags=[{"Key": k, "Value": v} for k, v in tags_for(kit_env, "2030-01-01T00:00:00Z").items()],
    )
    iam.create_instance_profile(InstanceProfileName=f"someones-profile-{kit_env}")
    iam.add_role_to_instance_profile(InstanceProfileName=f"someones-profile-{kit_env}", RoleName=role)
    report = cleanup.cleanup(kit_env, delete=True)
    assert report.ok and [r.name for r in report.deleted] == [role]
    assert (
        iam.get_instance_profile(InstanceProfileName=f"someones-profile-{kit_env}")["InstanceProfile"][
            "Roles"
        ]
        == []
    )
    iam.delete_instance_profile(InstanceProfileName=f"someones-profile-{kit_env}")


@pytest.fixture()
def ann_kit(kit_env):
    """A few of one attendee's resources and lookalikes of them; the census keys of the kit's resources."""
    made = build_small_kit(kit_env)
    build_lookalikes(kit_env)
    return made


def test_cleanup_ignores_resources_already_gone(ann_kit, kit_env, monkeypatch):
    collect = inventory.collect
    calls = []

    def stale_collect(*args, **kwargs):
        """The first inventory is taken just before someone else deletes a table and an alarm."""
        found = collect(*args, **kwargs)
        if not calls:
            boto3.client("dynamodb", region_name=REGION).delete_table(TableName=f"{kit_env}-model-registry")
            boto3.client("cloudwatch", region_name=REGION).delete_alarms(
                AlarmNames=[f"{kit_env}-latency-p90"]
            )
        calls.append(1)
        return found

    monkeypatch.setattr(inventory, "collect", stale_collect)
    report = cleanup.cleanup(kit_env, delete=True)
    assert {r.name for r in report.already_gone} == {f"{kit_env}-model-registry", f"{kit_env}-latency-p90"}
    assert report.ok and not ann_kit & census()


def test_delete_one_says_false_for_a_resource_already_gone(ann_kit, kit_env):
    table = next(r for r in inventory.collect(kit_env) if r.name == f"{kit_env}-inference-metadata")
    assert cleanup.delete_one(table) is True
    assert cleanup.delete_one(table) is False


def test_cleanup_twice_finds_nothing_the_second_time(ann_kit, kit_env):
    cleanup.cleanup(kit_env, delete=True)
    report = cleanup.cleanup(kit_env, delete=True)
    assert report.found == [] and report.deleted == [] and report.ok


def test_delete_one_refuses_a_resource_that_is_not_the_kits(kit_env):
    build_lookalikes(kit_env)
    lookalike = next(r for r in inventory.collect(kit_env) if r.name == f"{kit_env}-notes")
    with pytest.raises(ValueError, match="not the kit's"):
        cleanup.delete_one(lookalike)
    assert ("dynamodb", "table", f"{kit_env}-notes") in census()


@pytest.fixture(scope="module")
def swept(local_cloud):
    """Two attendees started 10 hours ago, one 1 hour ago, lookalikes; the instructor sweeps older than 8 h, then all."""
    old = (_dt.datetime.now(_dt.UTC) - _dt.timedelta(hours=10)).strftime("%Y-%m-%dT%H:%M:%SZ")
    young = (_dt.datetime.now(_dt.UTC) - _dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    with pytest.MonkeyPatch.context() as mp:
        prefix = new_prefix()
        mp.setattr(session, "session", shared_session)
        use_local_cloud(mp, local_cloud, prefix)
        made = {
            "old": build_kit(prefix, old) | build_kit(new_prefix(), old),
            "young": build_kit(f"{prefix}-b", young),
            "lookalikes": build_lookalikes(prefix),
        }
        aged = cleanup.cleanup(all_prefixes=True, older_than=_dt.timedelta(hours=8), delete=True)
        after_aged = census()
        every = cleanup.cleanup(all_prefixes=True, delete=True)
        after_every = census()
    os.environ["AWS_ENDPOINT_URL"] = local_cloud
    forget_session()
    return made, (aged, after_aged), (every, after_every)


def test_sweep_removes_what_the_tags_say_is_older(swept):
    made, (report, after), _ = swept
    assert report.ok and not made["old"] & after


def test_sweep_keeps_what_is_younger(swept):
    made, (report, after), _ = swept
    assert made["young"] <= after
    assert any(r.prefix.endswith("-b") for r in report.left_alone)


def test_sweep_without_age_limit_removes_every_prefix(swept):
    made, _, (report, after) = swept
    assert report.ok and not (made["old"] | made["young"]) & after


def test_sweep_never_touches_resources_without_the_kit_tag(swept):
    made, (_, after_aged), (_, after_every) = swept
    assert made["lookalikes"] <= after_aged and made["lookalikes"] <= after_every


def test_aws_mode_only_lists_unless_told_to_delete(ann_kit, kit_env, local_cloud, monkeypatch):
    use_local_cloud(monkeypatch, local_cloud, kit_env, mode="aws")
    before = census()
    report = cleanup.cleanup(kit_env)
    assert not report.delete and report.deleted == []
    assert {("dynamodb", "table", r.name) for r in report.found if r.kind == "table"} <= ann_kit
    assert census() == before


def test_local_mode_deletes_by_default(ann_kit, kit_env):
    report = cleanup.cleanup(kit_env)
    assert report.delete and report.ok
    assert not ann_kit & census()


# --- The creator tag: one prefix, two identities (e.g. both set the same WORKSHOP_PREFIX).

ME = "arn:aws:sts::123456789012:user/moto"  # the local cloud's caller for the kit's dummy credentials
SOMEONE = "arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_Attendee_0a1b/someone.else@example.com"


def build_created_by(prefix: str, creator: str, what: str) -> set[tuple[str, str, str]]:
    """A table, a queue and a role with an inline policy named prefix-what-*, tagged by the kit as creator made them."""
    tags = {**tags_for(prefix, "2030-01-01T00:00:00Z"), config.TAG_CREATOR: creator}
    tag_list = [{"Key": k, "Value": v} for k, v in tags.items()]
    ddb, sqs, iam = (boto3.client(s, region_name=REGION) for s in ("dynamodb", "sqs", "iam"))
    ddb.create_table(
        TableName=f"{prefix}-{what}-table",
        BillingMode="PAY_PER_REQUEST",
        Tags=tag_list,
        KeySchema=[{"AttributeName": "requestId", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "requestId", "AttributeType": "S"}],
    )
    sqs.create_queue(QueueName=f"{prefix}-{what}-queue", tags=tags)
    iam.create_role(
        RoleName=f"{prefix}-{what}-role", AssumeRolePolicyDocument=json.dumps(TRUST), Tags=tag_list
    )
    iam.put_role_policy(
        RoleName=f"{prefix}-{what}-role",
        PolicyName="least-privilege",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}],
            }
        ),
    )
    return {
        ("dynamodb", "table", f"{prefix}-{what}-table"),
        ("sqs", "queue", f"{prefix}-{what}-queue"),
        ("iam", "role", f"{prefix}-{what}-role"),
        ("iam", "inline policy", f"{prefix}-{what}-role/least-privilege"),
    }


@pytest.fixture()
def two_creators(kit_env):
    """The caller's resources, another identity's and an older kit's (no creator tag), all under one prefix."""
    return {
        "mine": build_created_by(kit_env, ME, "mine"),
        "theirs": build_created_by(kit_env, SOMEONE, "theirs"),
        "untagged": build_small_kit(kit_env),
    }


def test_the_caller_is_the_local_clouds_identity(kit_env):
    assert session.identity_arn() == ME


def test_cleanup_deletes_what_the_caller_created(two_creators, kit_env):
    report = cleanup.cleanup(kit_env, delete=True)
    assert report.ok and not two_creators["mine"] & census()


def test_cleanup_leaves_what_another_identity_created_under_the_same_prefix(two_creators, kit_env):
    cleanup.cleanup(kit_env, delete=True)
    assert two_creators["theirs"] <= census()


def test_cleanup_lists_another_identitys_resources_as_left_alone_with_the_reason(two_creators, kit_env):
    report = cleanup.cleanup(kit_env, delete=True)
    theirs = {r.name: r.note for r in report.left_alone if r.foreign}
    assert set(theirs) == {
        f"{kit_env}-theirs-table",
        f"{kit_env}-theirs-queue",
        f"{kit_env}-theirs-role",
        "least-privilege",
    }
    assert all(
        note.startswith(f"created by {SOMEONE} — not yours; the instructor's --all-prefixes sweep removes it")
        for note in theirs.values()
    )
    assert f"Not yours, left alone: 4 created by {SOMEONE}" in str(report)


def test_resources_without_a_creator_tag_are_cleaned_up_by_prefix_as_before(two_creators, kit_env):
    cleanup.cleanup(kit_env, delete=True)
    assert not two_creators["untagged"] & census()


def test_delete_one_refuses_another_identitys_resource_outside_the_sweep(two_creators, kit_env):
    table = next(r for r in inventory.collect(kit_env) if r.name == f"{kit_env}-theirs-table")
    with pytest.raises(ValueError, match="not yours"):
        cleanup.delete_one(table)
    assert ("dynamodb", "table", f"{kit_env}-theirs-table") in census()


def test_the_dashboard_of_a_prefix_only_another_identity_tagged_is_left_alone(kit_env):
    build_created_by(kit_env, SOMEONE, "theirs")
    boto3.client("cloudwatch", region_name=REGION).put_dashboard(
        DashboardName=Names(kit_env).dashboard, DashboardBody=json.dumps({"widgets": []})
    )
    report = cleanup.cleanup(kit_env, delete=True)
    assert Names(kit_env).dashboard in {r.name for r in report.left_alone if r.foreign}


def test_the_sweep_deletes_every_creators_resources_and_groups_them_by_creator(two_creators, kit_env):
    report = cleanup.cleanup(all_prefixes=True, delete=True)
    assert (
        report.ok
        and not (two_creators["mine"] | two_creators["theirs"] | two_creators["untagged"]) & census()
    )
    whose = str(report).split("By creator: ", 1)[1].rstrip(".")
    groups = {
        who: prefixes.split(", ")
        for who, prefixes in re.findall(r"(.+?): \d+ \(prefix ([^)]*)\)(?:; |$)", whose)
    }
    assert (
        kit_env in groups[SOMEONE]
        and kit_env in groups[ME]
        and kit_env in groups["no creator tag (an older kit's)"]
    )


def test_the_inventory_shown_in_a_notebook_is_narrowed_to_its_width():
    resources = [
        inventory.Resource(
            service="dynamodb",
            kind="table",
            name="jane-inference-metadata",
            prefix="jane",
            tagged=True,
            owned=True,
            note="on-demand: $0 idle",
        ),
        inventory.Resource(
            service="logs",
            kind="metric filter",
            name="inference-count",
            prefix="jane",
            owned=True,
            parent="/aws/lambda/jane-inference",
        ),
    ]
    shown = inventory.compact(inventory.table(resources))
    assert list(shown.columns) == ["what", "name", "kit's", "created", "USD/hour", "note"]
    assert shown.loc[1, "name"] == "inference-count (in /aws/lambda/jane-inference)"
    two_prefixes = resources + [
        inventory.Resource(
            service="sns", kind="topic", name="joe-alarms", prefix="joe", tagged=True, owned=True
        )
    ]
    assert "prefix" in inventory.compact(inventory.table(two_prefixes)).columns

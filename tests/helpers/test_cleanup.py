"""Cleanup against the local cloud: three attendees side by side, one cleaned up, nothing else touched.

The fixture builds every kind of resource the kit makes, named and tagged as the kit does, and
the census lists every service with plain boto3, independently of helpers.inventory.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import re
import urllib.request
from dataclasses import dataclass

import boto3
import pytest
from kit_world import (
    REGION,
    TRUST,
    build_kit,
    build_lookalikes,
    build_small_kit,
    census,
    forget_session,
    kit_bucket,
    new_prefix,
    shared_session,
    tags_for,
    use_local_cloud,
)

from helpers import cleanup, config, inventory, resources, session
from helpers.config import LOCAL_ACCOUNT_ID, Names

PREFIXES = ("ann", "ann-b", "bob")
SERVICES = ("cloudformation", "apigateway", "cloudwatch", "logs", "lambda", "sns", "sqs", "dynamodb", "sagemaker",
            "s3", "iam")  # fmt: skip  # 'ann-b' shares the name stem of 'ann' on purpose


def reset(url: str) -> None:
    """Empty the local cloud."""
    urllib.request.urlopen(urllib.request.Request(f"{url}/moto-api/reset", method="POST")).read()


def record_deletes(services=SERVICES):
    """Record the operation names of every delete-like call the kit's clients make, in order."""
    calls: list[str] = []

    def hook(model, **_):
        if model.name.startswith(("Delete", "Detach", "Unsubscribe")):
            calls.append(model.name)

    session.prepare()
    for service in services:
        session.client(service).meta.events.register("before-call", hook, unique_id="record-deletes")
    return calls


def stop_recording(services=SERVICES) -> None:
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
        "DeleteStack",
        "DeleteRestApi",
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
    s3 = boto3.client("s3", region_name=REGION)
    bucket = kit_bucket(s3, kit_env)
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
    janes = {"prefix": "jane", "owned": True}
    resources = [
        inventory.Resource(
            "dynamodb", "table", "jane-inference-metadata", tagged=True, note="on-demand: $0 idle", **janes
        ),
        inventory.Resource(
            "logs", "metric filter", "inference-count", parent="/aws/lambda/jane-inference", **janes
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


def test_8_3s_recap_prices_every_alarm_with_the_inventorys_prices():
    # A standard-resolution alarm costs $0.10 per metric-month whatever its statistic (CloudWatch pricing:
    # "Standard Resolution Alarm"); the p90 alarm is one. 8.3 prints the inventory's prices, no figure of its own.
    from types import SimpleNamespace

    from notebook_source import SOURCES, assigned

    from helpers import inventory

    names = SimpleNamespace(
        alarm=lambda what: f"ann-{what}", function="ann-inference", endpoint="ann-classifier-endpoint"
    )
    scope = {"names": names, "namespace": "MLWorkshop/ann", "ALARM_PERIOD": 60, "tags": [], "actions": {}}
    specs = assigned("8.3_monitor_with_cloudwatch", "alarm_specs", scope)
    prices = inventory.alarm_prices(specs)
    assert "ann-inference-latency-p90: $0.10 per month" in prices
    recap = (SOURCES / "8.3_monitor_with_cloudwatch.py").read_text().split("## Recap", 1)[1]
    assert "inventory.alarm_prices(alarm_specs)" in recap and "p90: `$0.30`" not in recap

"""The chapter as one CloudFormation template: linted, built from the notebooks' specs, deployed to the local cloud.

A stack of the template, under a second prefix beside a chapter-6 endpoint, passes the chapter's checks (one
record per request, the errors alarm fires on model failures and recovers, both notifications arrive), changes
only what changed on an update, rolls back a failed resource, and leaves nothing when deleted. Its resources
equal the ones the notebooks' own calls build, on every property the chapter sets.
CloudFormation semantics: docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/using-cfn-describing-stacks.html
and using-cfn-updating-stacks-changesets.html.
"""

from __future__ import annotations

import copy
import json
import uuid

import boto3
import pytest
import yaml
from kit_world import REGION, execution_role, forget_session, serverless_endpoint

from helpers import (
    apigateway,
    cloudformation,
    cloudwatch,
    config,
    dynamodb,
    inventory,
    logs,
    sagemaker,
    session,
    sns,
    specs,
    sqs,
    template,
    traffic,
)
from localcloud.cloudwatch.alarms import evaluator

PERIOD = 10
ACCOUNT = "123456789012"


@pytest.mark.parametrize("api", [False, True], ids=["chapter 8", "with chapter 7's API"])
def test_the_template_passes_cfn_lint_with_no_errors(api):
    from cfnlint.api import ManualArgs, lint

    matches = lint(template.render(template.build(api=api)), config=ManualArgs(regions=[REGION]))
    assert [str(m) for m in matches] == []


def test_the_template_command_prints_the_template(capsys):
    from helpers.__main__ import main

    assert main(["template"]) == 0
    assert yaml.safe_load(capsys.readouterr().out) == template.build()


def test_every_alarm_of_the_template_is_the_notebook_s_spec_with_the_stack_s_parameters():
    names = config.Names("p")
    resources = template.build()["Resources"]
    shown = {s["AlarmName"]: s for s in specs.alarms(names, PERIOD, "arn:topic", [])}
    deployed = {r["Properties"]["AlarmName"]["Fn::Sub"].replace("${Prefix}", "p"): r for r in resources.values()
                if r["Type"] == "AWS::CloudWatch::Alarm"}  # fmt: skip
    assert deployed.keys() == shown.keys()
    for name, resource in deployed.items():
        props = resource["Properties"]
        assert props["Period"] == {"Ref": "AlarmPeriod"} and props["AlarmActions"] == [{"Ref": "AlarmTopic"}]
        same = {k for k in shown[name] if k not in ("Period", "AlarmActions", "OKActions", "Tags")}
        assert {k: _plain(props[k], "p") for k in same} == {k: shown[name][k] for k in same}


def _plain(value, prefix):
    """A template value with ${Prefix} (and the endpoint's name) filled in, for comparing with a spec."""
    if isinstance(value, dict) and set(value) == {"Fn::Sub"}:
        return (
            value["Fn::Sub"]
            .replace("${Prefix}", prefix)
            .replace("${EndpointName}", f"{prefix}-classifier-endpoint")
        )
    if isinstance(value, dict) and set(value) == {"Ref"} and value["Ref"] == "EndpointName":
        return f"{prefix}-classifier-endpoint"
    if isinstance(value, dict):
        return {k: _plain(v, prefix) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v, prefix) for v in value]
    return value


# ---- deployed in the local cloud ----


@pytest.fixture(scope="module")
def chapter(local_cloud, tmp_path_factory):
    """Chapter 6's endpoint and bucket (prefix P); the template deployed as a stack under P's second prefix."""
    from helpers import model

    prefix = f"t{uuid.uuid4().hex[:7]}"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("WORKSHOP_MODE", "local")
        mp.setenv("WORKSHOP_PREFIX", prefix)
        mp.setenv("WORKSHOP_LOCAL_PORT", local_cloud.rsplit(":", 1)[1])
        mp.setenv("WORKSHOP_REGION", REGION)
        mp.setenv("WORKSHOP_ENDPOINT_NAME", f"{prefix}-endpoint")
        forget_session()
        aws = {
            s: boto3.client(s, endpoint_url=local_cloud, region_name=REGION)
            for s in ("s3", "iam", "sagemaker")
        }
        bucket = f"{prefix}-artifacts"
        aws["s3"].create_bucket(Bucket=bucket)
        aws["s3"].put_object(Bucket=bucket, Key="models/model.tar.gz", Body=model.train().artifact)
        role = execution_role(aws["iam"], f"{prefix}-sagemaker", "sagemaker.amazonaws.com",
                              {"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/*"})  # fmt: skip
        serverless_endpoint(aws["sagemaker"], prefix, role, f"s3://{bucket}/models/model.tar.gz")
        # 8.2's bad deploy: version 2 knows three features, the handler sends four (the container's 400)
        aws["s3"].put_object(
            Bucket=bucket, Key="models/v2.tar.gz", Body=model.train(features=model.FEATURES_V2).artifact
        )
        serverless_endpoint(aws["sagemaker"], f"{prefix}-v2", role, f"s3://{bucket}/models/v2.tar.gz")
        settings = session.settings()
        second = config.second_prefix(prefix)
        key = cloudformation.upload_code(bucket, settings.tags())
        params = cloudformation.parameters(settings, second, bucket, key, PERIOD)
        stack = cloudformation.deploy(
            cloudformation.stack_name(second), template.render(), params, settings.tags()
        )
        previous = evaluator.interval()
        evaluator.set_interval(1)
        yield {
            "prefix": prefix,
            "second": second,
            "stack": stack,
            "params": params,
            "bucket": bucket,
            "url": local_cloud,
        }
        evaluator.set_interval(previous)
        forget_session()


def test_a_deployed_stack_is_complete_with_an_event_per_resource(chapter):
    assert chapter["stack"]["StackStatus"] == "CREATE_COMPLETE"
    events = cloudformation.events(chapter["stack"]["StackName"])
    resources = template.build()["Resources"]
    completed = set(events[events["status"] == "CREATE_COMPLETE"]["resource"])
    assert completed == set(resources) | {chapter["stack"]["StackName"]}
    assert list(events["status"])[-1] == "CREATE_COMPLETE"


def _api_url(chapter) -> str:
    """The invoke URL of the stack's API, as the local cloud serves it."""
    return apigateway.invoke_url(cloudformation.outputs(chapter["stack"])["ApiId"])


def test_traffic_through_the_stack_s_api_leaves_one_record_per_request(chapter):
    report = traffic.run(n=12, concurrency=3, url=_api_url(chapter), seed=5, progress=False)
    table = f"{chapter['second']}-inference-metadata"
    items = boto3.client("dynamodb", endpoint_url=chapter["url"], region_name=REGION).scan(TableName=table)[
        "Items"
    ]
    assert report.statuses[200] == 12
    assert sorted(i["requestId"]["S"] for i in items) == sorted(report.request_ids)


def test_the_errors_alarm_fires_on_model_failures_recovers_and_both_notes_arrive(chapter):
    second, url = chapter["second"], _api_url(chapter)
    alarm, queue = f"{second}-inference-errors", cloudformation.outputs(chapter["stack"])["AlarmInboxUrl"]
    prefix = chapter["prefix"]
    with sagemaker.rolled_out(f"{prefix}-endpoint", f"{prefix}-v2-config", f"{prefix}-config"):
        traffic.run(n=10, concurrency=2, url=url, seed=6, progress=False)
    fired = cloudwatch.wait_for_alarm(alarm, "ALARM", timeout_s=6 * PERIOD + 60)
    with traffic.background(rate_per_s=2, url=url):
        recovered = cloudwatch.wait_for_alarm(alarm, "OK", timeout_s=8 * PERIOD + 60)
    for change in (fired, recovered):
        since = change.get("StateTransitionedTimestamp", change["StateUpdatedTimestamp"])
        [note] = sqs.receive_notifications(
            queue, alarm=alarm, state=change["StateValue"], since=since, timeout_s=60
        )
        assert note["Subject"].startswith(f'{change["StateValue"]}: "{alarm}"')


def _one_alarm_raised(body: dict, logical_id: str, threshold: float) -> str:
    changed = copy.deepcopy(body)
    changed["Resources"][logical_id]["Properties"]["Threshold"] = threshold
    return template.render(changed)


def test_changing_one_alarm_threshold_modifies_that_alarm_only(chapter):
    name, body = chapter["stack"]["StackName"], template.build()
    cw = boto3.client("cloudwatch", endpoint_url=chapter["url"], region_name=REGION)
    before = {
        a["AlarmName"]: a for a in cw.describe_alarms(AlarmNamePrefix=chapter["second"])["MetricAlarms"]
    }
    planned = cloudformation.plan(
        name, _one_alarm_raised(body, "LambdaErrorsAlarm", 3), chapter["params"], {}
    )
    [change] = [c["ResourceChange"] for c in planned["Changes"]]
    assert (change["Action"], change["LogicalResourceId"], change["Replacement"]) == (
        "Modify",
        "LambdaErrorsAlarm",
        "False",
    )
    assert [d["Target"]["Name"] for d in change["Details"]] == ["Threshold"]
    stack = cloudformation.execute(planned)
    after = {a["AlarmName"]: a for a in cw.describe_alarms(AlarmNamePrefix=chapter["second"])["MetricAlarms"]}
    assert stack["StackStatus"] == "UPDATE_COMPLETE"
    assert after[f"{chapter['second']}-lambda-errors"]["Threshold"] == 3
    changed = [
        n
        for n in after
        if after[n]["AlarmConfigurationUpdatedTimestamp"] != before[n]["AlarmConfigurationUpdatedTimestamp"]
    ]
    assert changed == [f"{chapter['second']}-lambda-errors"]
    cloudformation.deploy(name, template.render(), chapter["params"], {})  # back to the notebooks' threshold


def test_a_failed_update_rolls_the_stack_back_to_what_it_was(chapter):
    name, body = chapter["stack"]["StackName"], template.build()
    broken = yaml.safe_load(_one_alarm_raised(body, "LambdaErrorsAlarm", 7))
    broken["Resources"]["Endpoint5xxAlarm"]["Properties"]["ExtendedStatistic"] = (
        "x99"  # PutMetricAlarm refuses it
    )
    del broken["Resources"]["Endpoint5xxAlarm"]["Properties"]["Statistic"]
    with pytest.raises(Exception, match="UPDATE_ROLLBACK_COMPLETE.*Endpoint5xxAlarm"):
        cloudformation.deploy(name, template.render(broken), chapter["params"], {})
    cw = boto3.client("cloudwatch", endpoint_url=chapter["url"], region_name=REGION)
    [restored] = cw.describe_alarms(AlarmNames=[f"{chapter['second']}-lambda-errors"])["MetricAlarms"]
    statuses = list(cloudformation.events(name)["status"])
    assert restored["Threshold"] == 0
    assert (
        statuses[-3:]
        == [
            "UPDATE_ROLLBACK_IN_PROGRESS",
            "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS",
            "UPDATE_ROLLBACK_COMPLETE",
        ][-3:]
        or statuses[-1] == "UPDATE_ROLLBACK_COMPLETE"
    )


def _described(prefix: str, url: str, endpoint: str) -> dict:
    """What the chapter sets on each resource of a prefix, as AWS describes it; the prefix and chapter 6's
    endpoint (both prefixes' resources use it) replaced by placeholders."""
    c = {
        s: boto3.client(s, endpoint_url=url, region_name=REGION)
        for s in ("dynamodb", "logs", "cloudwatch", "iam", "lambda", "sqs", "sns")
    }
    names = config.Names(prefix)
    out = {}
    for table in (names.metadata_table, names.registry_table):
        t = c["dynamodb"].describe_table(TableName=table)["Table"]
        out[table] = {
            "keys": t["KeySchema"], "attributes": sorted(t["AttributeDefinitions"], key=str),
            "indexes": [(i["IndexName"], i["KeySchema"], i["Projection"]) for i in t.get("GlobalSecondaryIndexes", [])],
            "billing": t["BillingModeSummary"]["BillingMode"],
            "ttl": c["dynamodb"].describe_time_to_live(TableName=table)["TimeToLiveDescription"],
            "pitr": c["dynamodb"].describe_continuous_backups(TableName=table)["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"],
        }  # fmt: skip
    group = names.function_log_group
    out["group"] = {
        "retention": c["logs"]
        .describe_log_groups(logGroupNamePrefix=group)["logGroups"][0]
        .get("retentionInDays")
    }
    out["filters"] = sorted(
        (f["filterName"], f["filterPattern"], f["metricTransformations"])
        for f in c["logs"].describe_metric_filters(logGroupName=group)["metricFilters"]
    )
    keep = ("Namespace", "MetricName", "Statistic", "ExtendedStatistic", "Dimensions", "Period", "EvaluationPeriods",
            "DatapointsToAlarm", "ComparisonOperator", "Threshold", "TreatMissingData", "EvaluateLowSampleCountPercentile",
            "Unit", "AlarmDescription", "AlarmActions", "OKActions")  # fmt: skip
    wanted = [s["AlarmName"] for s in specs.alarms(names, PERIOD, "", [])]
    out["alarms"] = {
        a["AlarmName"]: {k: a.get(k) for k in keep}
        for a in c["cloudwatch"].describe_alarms(AlarmNames=wanted)["MetricAlarms"]
    }
    dashboard = c["cloudwatch"].get_dashboard(DashboardName=names.dashboard)["DashboardBody"]
    out["dashboard"] = json.loads(dashboard)
    queue = c["sqs"].get_queue_url(QueueName=names.queue)["QueueUrl"]
    out["queue policy"] = json.loads(
        c["sqs"].get_queue_attributes(QueueUrl=queue, AttributeNames=["Policy"])["Attributes"]["Policy"]
    )
    topic = f"arn:aws:sns:{REGION}:{ACCOUNT}:{names.topic}"
    out["subscriptions"] = [
        (s["Protocol"], s["Endpoint"])
        for s in c["sns"].list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
    ]
    role = c["iam"].get_role(RoleName=names.role)["Role"]
    out["role"] = {
        "trust": role["AssumeRolePolicyDocument"],
        "managed": [p["PolicyArn"] for p in c["iam"].list_attached_role_policies(RoleName=names.role)["AttachedPolicies"]],
        "write": c["iam"].get_role_policy(RoleName=names.role, PolicyName="write-inference-records")["PolicyDocument"],
    }  # fmt: skip
    fn = c["lambda"].get_function_configuration(FunctionName=names.function)
    out["function"] = {k: fn[k] for k in ("Handler", "Runtime", "Timeout", "MemorySize")}
    out["function"]["env"] = {
        k: v
        for k, v in fn["Environment"]["Variables"].items()
        if k not in ("MODEL_NAME", "FAULT_MODEL_ERROR_RATE")
    }
    return json.loads(
        json.dumps(out, default=str).replace(f'"{endpoint}"', '"ENDPOINT"').replace(prefix, "PREFIX")
    )


def test_the_notebook_built_and_template_built_resources_are_equal(chapter):
    """The notebooks' calls (helpers + helpers.specs) under the first prefix, the stack under the second."""
    from helpers import awslambda, iam

    settings = session.settings()
    names, tags = settings.names, settings.tags()
    session.prepare()
    table = dynamodb.ensure_table(specs.metadata_table(names, settings.tag_list()))
    dynamodb.ensure_table(specs.registry_table(names, settings.tag_list()))
    role = iam.ensure_role(names.role, iam.LAMBDA_TRUST_POLICY, [iam.BASIC_EXECUTION], tags)
    iam.put_inline_policy(
        {
            "RoleName": names.role,
            "PolicyName": "write-inference-records",
            "PolicyDocument": json.dumps(specs.write_records_policy(table["TableArn"])),
        }
    )
    function = specs.handler_function(names, role, settings.model_version, settings.record_ttl_days)
    logs.ensure_log_group({"logGroupName": names.function_log_group, "tags": tags})
    session.client("logs").put_retention_policy(
        logGroupName=names.function_log_group, retentionInDays=specs.LOG_RETENTION_DAYS
    )
    awslambda.ensure_function(function, awslambda.build_zip({"app.py": awslambda.ROOT / "lambda" / "app.py"}))
    logs.ensure_metric_filters(
        [
            {"logGroupName": names.function_log_group, **f}
            for f in specs.metric_filters(names.metric_namespace)
        ]
    )
    topic = sns.ensure_topic({"Name": names.topic, "Tags": settings.tag_list()})
    queue_url, queue_arn = sqs.ensure_queue({"QueueName": names.queue, "tags": tags})
    session.client("sqs").set_queue_attributes(
        QueueUrl=queue_url, Attributes={"Policy": json.dumps(specs.queue_policy(queue_arn, topic))}
    )
    sns.ensure_subscription(
        {"TopicArn": topic, "Protocol": "sqs", "Endpoint": queue_arn, "ReturnSubscriptionArn": True}
    )
    alarms = specs.alarms(names, PERIOD, topic, settings.tag_list())
    cloudwatch.ensure_alarms(alarms)
    arns = [session.arn("cloudwatch", f"alarm:{a['AlarmName']}") for a in alarms]
    cloudwatch.put_dashboard(
        {
            "DashboardName": names.dashboard,
            "DashboardBody": json.dumps(specs.dashboard(names, settings.region, PERIOD, alarms, arns)),
        }
    )
    notebooks = _described(chapter["prefix"], chapter["url"], names.endpoint)
    stack = _described(chapter["second"], chapter["url"], names.endpoint)
    for key in notebooks:
        assert stack[key] == notebooks[key], key


def test_a_resource_that_fails_rolls_the_new_stack_back_and_leaves_nothing(chapter):
    third = f"r{uuid.uuid4().hex[:7]}"
    params = {**chapter["params"], "Prefix": third}
    broken = template.build()
    broken["Resources"]["Endpoint5xxAlarm"]["Properties"]["ExtendedStatistic"] = (
        "x99"  # PutMetricAlarm refuses it
    )
    del broken["Resources"]["Endpoint5xxAlarm"]["Properties"]["Statistic"]
    name = cloudformation.stack_name(third)
    with pytest.raises(Exception, match=r"ROLLBACK_COMPLETE.*Endpoint5xxAlarm"):
        cloudformation.deploy(name, template.render(broken), params, {})
    statuses = list(cloudformation.events(name)["status"])
    assert (
        statuses[-2:] == ["ROLLBACK_IN_PROGRESS", "ROLLBACK_COMPLETE"][-2:]
        or statuses[-1] == "ROLLBACK_COMPLETE"
    )
    assert "CREATE_FAILED" in statuses
    assert inventory.named_under(third, inventory.collect()) == []
    cloudformation.delete(name)  # in ROLLBACK_COMPLETE only deleting is possible


def test_the_stack_s_api_has_post_predict_on_stage_prod_invoking_the_stack_s_function(chapter):
    api_id = cloudformation.outputs(chapter["stack"])["ApiId"]
    ag = boto3.client("apigateway", endpoint_url=chapter["url"], region_name=REGION)
    methods = {
        r["path"]: sorted(r.get("resourceMethods", {})) for r in ag.get_resources(restApiId=api_id)["items"]
    }
    policy = boto3.client("lambda", endpoint_url=chapter["url"], region_name=REGION).get_policy(
        FunctionName=f"{chapter['second']}-inference"
    )
    [statement] = json.loads(policy["Policy"])["Statement"]
    assert methods["/predict"] == ["POST"]
    assert [s["stageName"] for s in ag.get_stages(restApiId=api_id)["item"]] == ["prod"]
    assert statement["Principal"] == {"Service": "apigateway.amazonaws.com"}
    assert cloudformation.outputs(chapter["stack"])["ApiUrl"].endswith(
        f"{api_id}.execute-api.{REGION}.amazonaws.com/prod/predict"
    )


def test_the_stack_s_resources_carry_the_attendee_s_own_prefix_tag(chapter):
    found = inventory.named_under(chapter["second"], inventory.collect(chapter["prefix"]))
    kinds = {r.kind for r in found}
    assert {"stack", "table", "function", "role", "alarm", "rest api", "queue", "topic"} <= kinds
    assert {r.prefix for r in found} == {chapter["prefix"]}


def test_deleting_the_stack_leaves_nothing_of_its_prefix(chapter):
    cloudformation.delete(chapter["stack"]["StackName"])
    assert cloudformation.describe(chapter["stack"]["StackName"]) is None
    assert [(r.kind, r.name) for r in inventory.named_under(chapter["second"], inventory.collect())] == []

"""The kit's resources built as the kit builds them, and a census of what exists, for tests against the local cloud.

The census lists every service with plain boto3, independently of helpers.inventory and helpers.resources.
"""

from __future__ import annotations

import functools
import io
import json
import uuid
import zipfile
from typing import Any
from urllib.parse import urlparse

import boto3
from notebook_source import queue_policy_request

from helpers import config, session
from helpers.config import KIT_NAME, LOCAL_ACCOUNT_ID, TAG_CREATED, TAG_KIT, TAG_PREFIX, Names
from helpers.sagemaker import xgboost_image_uri

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
    for name in (
        "WORKSHOP_ENDPOINT_NAME",
        "WORKSHOP_FUNCTION_NAME",
        "WORKSHOP_API_NAME",
        "WORKSHOP_MODEL_VERSION",
    ):
        monkeypatch.delenv(name, raising=False)
    forget_session()


def forget_session() -> None:
    """Make the kit re-read its settings; its clients stay (they are cached per endpoint, and building
    them takes seconds)."""
    session.forget(clients=False)


@functools.cache
def shared_session() -> boto3.Session:
    """One boto3 session for all the kit's clients in these tests: a new session per client re-reads the
    service models from disk, which costs seconds per test (helpers.session may want the same cache)."""
    return boto3.Session(region_name=REGION)


def new_prefix() -> str:
    """A prefix no other test uses, so tests share one local cloud without resetting it (a reset costs seconds)."""
    return f"t{uuid.uuid4().hex[:8]}"


def tags_for(prefix: str, created: str) -> dict[str, str]:
    return {TAG_KIT: KIT_NAME, TAG_PREFIX: prefix, TAG_CREATED: created}


def kit_bucket(s3: Any, prefix: str, created: str = "2030-01-01T00:00:00Z") -> str:
    """The artifact bucket of prefix as 00_setup makes it (no versioning), with the kit's tags; its name."""
    bucket = Names(prefix).bucket(LOCAL_ACCOUNT_ID, REGION)
    s3.create_bucket(Bucket=bucket)
    tag_set = [{"Key": k, "Value": v} for k, v in tags_for(prefix, created).items()]
    s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": tag_set})
    return bucket


def handler_zip() -> bytes:
    """A deployment package whose handler answers {'ok': True}."""
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
        Code={"ZipFile": handler_zip()},
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
        made.add(("dynamodb", "table", request_table(ddb, table, tag_list)))

    topic = sns.create_topic(Name=n.topic, Tags=tag_list)["TopicArn"]
    queue = sqs.create_queue(QueueName=n.queue, tags=tags)["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    sqs.set_queue_attributes(**queue_policy_request(queue, queue_arn, topic))
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)
    lam.create_event_source_mapping(EventSourceArn=queue_arn, FunctionName=n.function, BatchSize=1)
    made |= {
        ("sns", "topic", n.topic),
        ("sns", "subscription", f"{n.topic}/{queue_arn}"),
        ("sqs", "queue", n.queue),
        ("lambda", "event source mapping", f"{n.function}/{queue_arn}"),
    }

    for what in ("inference-errors", "latency-p90"):
        alarm = n.alarm(what)
        any_error_alarm(
            cw,
            alarm,
            n.metric_namespace,
            TreatMissingData="notBreaching",
            AlarmActions=[topic],
            Tags=tag_list,
        )
        made.add(("cloudwatch", "alarm", alarm))
    cw.put_dashboard(DashboardName=n.dashboard, DashboardBody=json.dumps({"widgets": []}))
    made.add(("cloudwatch", "dashboard", n.dashboard))

    agw = boto3.client("apigateway", region_name=REGION)
    api = agw.create_rest_api(name=n.api, tags=tags)
    predict = agw.create_resource(restApiId=api["id"], parentId=api["rootResourceId"], pathPart="predict")
    agw.put_method(restApiId=api["id"], resourceId=predict["id"], httpMethod="POST", authorizationType="NONE")
    agw.put_integration(
        restApiId=api["id"],
        resourceId=predict["id"],
        httpMethod="POST",
        type="AWS_PROXY",
        integrationHttpMethod="POST",
        uri=f"arn:aws:apigateway:{REGION}:lambda:path/2015-03-31/functions/"
        f"arn:aws:lambda:{REGION}:{LOCAL_ACCOUNT_ID}:function:{n.function}/invocations",
    )
    agw.create_deployment(restApiId=api["id"], stageName="prod")
    made.add(("apigateway", "rest api", n.api))
    return made | build_stack(prefix, created)


def build_stack(prefix: str, created: str) -> set[tuple[str, str, str]]:
    """8.5's stack: names under the prefix's second prefix, tagged with the prefix, with a queue of its own."""
    second = config.second_prefix(prefix)
    tags = [{"Key": k, "Value": v} for k, v in tags_for(prefix, created).items()]
    queue = f"{second}-alarm-inbox"
    inbox = {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": queue, "Tags": tags}}
    body = {"Resources": {"Inbox": inbox}}
    stack = f"{second}-chapter8"
    boto3.client("cloudformation", region_name=REGION).create_stack(
        StackName=stack, TemplateBody=json.dumps(body), Tags=tags
    )
    return {("cloudformation", "stack", stack), ("sqs", "queue", queue)}


def build_small_kit(prefix: str, created: str = "2030-01-01T00:00:00Z") -> set[tuple[str, str, str]]:
    """A few of the kit's resources for prefix (a table, an alarm, a queue, the dashboard), for tests about flow, not kinds."""
    n, tags = Names(prefix), tags_for(prefix, created)
    tag_list = [{"Key": k, "Value": v} for k, v in tags.items()]
    ddb, sqs, cw = (boto3.client(s, region_name=REGION) for s in ("dynamodb", "sqs", "cloudwatch"))
    for table in (n.metadata_table, n.registry_table):
        request_table(ddb, table, tag_list)
    sqs.create_queue(QueueName=n.queue, tags=tags)
    for what in ("inference-errors", "latency-p90"):
        any_error_alarm(cw, n.alarm(what), n.metric_namespace, TreatMissingData="missing", Tags=tag_list)
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


def _keys(service: str, kind: str, names: list[str]) -> set[tuple[str, str, str]]:
    """The census keys of resources of one kind."""
    return {(service, kind, name) for name in names}


def census() -> set[tuple[str, str, str]]:
    """Every resource in the cloud, listed service by service with plain boto3 (not through the inventory)."""
    c = {
        s: boto3.client(s, region_name=REGION)
        for s in (
            "s3",
            "iam",
            "sagemaker",
            "lambda",
            "logs",
            "dynamodb",
            "sns",
            "sqs",
            "cloudwatch",
            "apigateway",
            "cloudformation",
        )
    }
    found: set[tuple[str, str, str]] = set()
    for stack in c["cloudformation"].list_stacks()["StackSummaries"]:
        if stack["StackStatus"] != "DELETE_COMPLETE":
            found.add(("cloudformation", "stack", stack["StackName"]))
    for b in c["s3"].list_buckets()["Buckets"]:
        found.add(("s3", "bucket", b["Name"]))
        for v in c["s3"].list_object_versions(Bucket=b["Name"]).get("Versions", []):
            found.add(("s3", "object", f"{b['Name']}/{v['Key']}"))
    for role in c["iam"].list_roles()["Roles"]:
        name = role["RoleName"]
        found.add(("iam", "role", name))
        inline = c["iam"].list_role_policies(RoleName=name)["PolicyNames"]
        attached = c["iam"].list_attached_role_policies(RoleName=name)["AttachedPolicies"]
        found |= _keys("iam", "inline policy", [f"{name}/{p}" for p in inline])
        found |= _keys("iam", "attached policy", [f"{name}/{p['PolicyArn']}" for p in attached])
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
        filters = c["logs"].describe_metric_filters(logGroupName=name)["metricFilters"]
        found |= _keys("logs", "metric filter", [f"{name}/{f['filterName']}" for f in filters])
    found |= {("dynamodb", "table", t) for t in c["dynamodb"].list_tables()["TableNames"]}
    found |= {("apigateway", "rest api", api["name"]) for api in c["apigateway"].get_rest_apis()["items"]}
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


def execution_role(iam, name: str, service: str, *statements: dict) -> str:
    """A role the service may assume, with the statements as its inline policy (IAM is enforced); its ARN."""
    trust = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}]}  # fmt: skip
    arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    if statements:
        iam.put_role_policy(
            RoleName=name,
            PolicyName="permissions",
            PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": list(statements)}),
        )
    return arn


def any_error_alarm(
    cloudwatch: Any, name: str, namespace: str, metric: str = "InferenceErrors", **extra: Any
) -> str:
    """An alarm that goes to ALARM on any Sum above 0 in one 60 s period of namespace/metric; extra
    adds or overrides PutMetricAlarm's parameters (actions, TreatMissingData, Tags). Its name."""
    cloudwatch.put_metric_alarm(
        **{
            "AlarmName": name,
            "Namespace": namespace,
            "MetricName": metric,
            "Statistic": "Sum",
            "Period": 60,
            "EvaluationPeriods": 1,
            "Threshold": 0,
            "ComparisonOperator": "GreaterThanThreshold",
            **extra,
        }
    )
    return name


def serverless_endpoint(sagemaker: Any, prefix: str, role_arn: str, model_url: str) -> str:
    """A model, a serverless endpoint configuration and an endpoint named after prefix, serving the
    XGBoost artifact at model_url as 00_setup serves it; the endpoint's name."""
    sagemaker.create_model(
        ModelName=f"{prefix}-model",
        ExecutionRoleArn=role_arn,
        PrimaryContainer={"Image": xgboost_image_uri(REGION), "ModelDataUrl": model_url},
    )
    variant = {
        "VariantName": "AllTraffic",
        "ModelName": f"{prefix}-model",
        "ServerlessConfig": {"MemorySizeInMB": 2048, "MaxConcurrency": 5},
    }
    sagemaker.create_endpoint_config(EndpointConfigName=f"{prefix}-config", ProductionVariants=[variant])
    sagemaker.create_endpoint(EndpointName=f"{prefix}-endpoint", EndpointConfigName=f"{prefix}-config")
    return f"{prefix}-endpoint"


def served_model(aws: dict[str, Any], prefix: str, key: str = "model.tar.gz") -> Any:
    """The kit's model trained, its artifact at key in a bucket of prefix, and the serverless endpoint
    {prefix}-endpoint serving it, run by a SageMaker role that may read only that object; the trained model."""
    from helpers import model

    trained = model.train()
    bucket = f"{prefix}-artifacts"
    aws["s3"].create_bucket(Bucket=bucket)
    aws["s3"].put_object(Bucket=bucket, Key=key, Body=trained.artifact)
    read = {"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/{key}"}
    role = execution_role(aws["iam"], f"{prefix}-sagemaker", "sagemaker.amazonaws.com", read)
    serverless_endpoint(aws["sagemaker"], prefix, role, f"s3://{bucket}/{key}")
    return trained


def records_table(dynamodb_client: Any, name: str) -> dict[str, Any]:
    """An on-demand table keyed by requestId, made and waited for by helpers.dynamodb.ensure_table; its description."""
    from helpers import dynamodb

    spec = {
        "TableName": name,
        "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [{"AttributeName": "requestId", "AttributeType": "S"}],
        "KeySchema": [{"AttributeName": "requestId", "KeyType": "HASH"}],
    }
    described: dict[str, Any] = dynamodb.ensure_table(spec, client=dynamodb_client)
    return described


def request_table(dynamodb: Any, name: str, tags: list[dict[str, str]]) -> str:
    """An on-demand table keyed by requestId, tagged; its name."""
    dynamodb.create_table(
        TableName=name,
        BillingMode="PAY_PER_REQUEST",
        Tags=tags,
        KeySchema=[{"AttributeName": "requestId", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "requestId", "AttributeType": "S"}],
    )
    return name

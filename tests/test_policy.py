"""The attendee policy generator: scoped to the prefix wherever AWS allows, '*' only where it must be, small enough."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from helpers import policy
from helpers.errors import explain
from localcloud.iam import policy as iam_policy

EXAMPLE = {"prefix": "ana", "account": "111122223333", "region": "eu-west-1"}


def statements_for(document: dict, action: str) -> list[dict]:
    return [s for s in document["Statement"] if action in s["Action"]]


def allowed(document: dict, action: str, arn: str, context: dict | None = None) -> bool:
    """Whether the local cloud's IAM evaluation allows action on arn under document."""
    return iam_policy.evaluate([document], action, (arn,), context) is iam_policy.Decision.ALLOWED


@pytest.fixture(scope="module")
def document() -> dict:
    return policy.attendee_policy(**EXAMPLE)


def test_every_recorded_action_is_allowed(document):
    granted = {a for s in document["Statement"] for a in s["Action"]}
    assert set(policy.attendee_actions()) <= granted


def test_table_actions_reach_the_prefix_tables_and_their_indexes_only(document):
    table = "arn:aws:dynamodb:eu-west-1:111122223333:table/ana-inference-metadata"
    assert allowed(document, "dynamodb:PutItem", table)
    assert allowed(document, "dynamodb:Query", table + "/index/endpointName-timestamp-index")
    assert not allowed(
        document, "dynamodb:PutItem", "arn:aws:dynamodb:eu-west-1:111122223333:table/bob-inference-metadata"
    )
    assert not allowed(
        document, "dynamodb:PutItem", "arn:aws:dynamodb:us-east-1:111122223333:table/ana-inference-metadata"
    )


@pytest.mark.parametrize(
    "action, arn",
    [
        ("lambda:UpdateFunctionCode", "arn:aws:lambda:eu-west-1:111122223333:function:{p}-inference"),
        ("iam:PutRolePolicy", "arn:aws:iam::111122223333:role/{p}-inference-lambda-role"),
        (
            "s3:PutObject",
            "arn:aws:s3:::{p}-ml-workshop-111122223333-eu-west-1/models/classifier/v1/model.tar.gz",
        ),
        ("s3:CreateBucket", "arn:aws:s3:::{p}-ml-workshop-111122223333-eu-west-1"),
        ("logs:PutMetricFilter", "arn:aws:logs:eu-west-1:111122223333:log-group:/aws/lambda/{p}-inference"),
        (
            "sagemaker:CreateEndpoint",
            "arn:aws:sagemaker:eu-west-1:111122223333:endpoint/{p}-classifier-endpoint",
        ),
        ("sagemaker:CreateModel", "arn:aws:sagemaker:eu-west-1:111122223333:model/{p}-classifier-v1"),
        ("cloudwatch:PutMetricAlarm", "arn:aws:cloudwatch:eu-west-1:111122223333:alarm:{p}-inference-errors"),
        ("cloudwatch:PutDashboard", "arn:aws:cloudwatch::111122223333:dashboard/{p}-inference-pipeline"),
        ("sns:CreateTopic", "arn:aws:sns:eu-west-1:111122223333:{p}-pipeline-alarms"),
        ("sqs:ReceiveMessage", "arn:aws:sqs:eu-west-1:111122223333:{p}-alarm-inbox"),
    ],
)
def test_each_service_is_scoped_to_the_attendees_own_resources(document, action, arn):
    assert allowed(document, action, arn.format(p="ana"))
    assert not allowed(document, action, arn.format(p="bob"))


def test_wildcard_resources_only_for_actions_aws_does_not_scope(document):
    for statement in document["Statement"]:
        if statement["Resource"] == ["*"]:
            assert all(policy.SCOPE[a] == () for a in statement["Action"]), statement


def test_list_and_identity_actions_that_name_no_resource_are_unscoped(document):
    for action in (
        "sts:GetCallerIdentity",
        "dynamodb:ListTables",
        "cloudwatch:GetMetricData",
        "logs:GetQueryResults",
    ):
        assert allowed(document, action, "*")


def test_pass_role_only_for_the_kits_two_roles_each_to_its_own_service(document):
    lambda_role = "arn:aws:iam::111122223333:role/ana-inference-lambda-role"
    sagemaker_role = "arn:aws:iam::111122223333:role/ana-sagemaker-execution"

    def to(service: str) -> dict:
        return {"iam:PassedToService": [service]}

    assert allowed(document, "iam:PassRole", lambda_role, to("lambda.amazonaws.com"))
    assert allowed(document, "iam:PassRole", sagemaker_role, to("sagemaker.amazonaws.com"))
    assert not allowed(document, "iam:PassRole", lambda_role, to("ec2.amazonaws.com"))
    assert not allowed(document, "iam:PassRole", sagemaker_role, to("lambda.amazonaws.com"))
    assert not allowed(
        document, "iam:PassRole", "arn:aws:iam::111122223333:role/ana-other", to("lambda.amazonaws.com")
    )


def test_roles_can_get_only_the_lambda_basic_execution_managed_policy(document):
    role = "arn:aws:iam::111122223333:role/ana-inference-lambda-role"
    basic = {"iam:PolicyARN": ["arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"]}
    admin = {"iam:PolicyARN": ["arn:aws:iam::aws:policy/AdministratorAccess"]}
    assert allowed(document, "iam:AttachRolePolicy", role, basic)
    assert not allowed(document, "iam:AttachRolePolicy", role, admin)


def test_dependent_actions_aws_checks_inside_a_call_are_granted(document):
    granted = {a for s in document["Statement"] for a in s["Action"]}
    assert {"iam:PassRole", "dynamodb:TagResource", "sagemaker:AddTags", "iam:TagRole"} <= granted


def test_fits_in_one_customer_managed_policy(document):
    assert policy.compact_size(document) <= policy.MANAGED_POLICY_MAX_CHARS


def test_an_action_without_a_known_scope_is_refused_with_the_fix():
    with pytest.raises(policy.PolicyError, match=r"ec2:RunInstances.*SCOPE"):
        policy.document(["ec2:RunInstances"], **EXAMPLE)


def test_the_committed_policy_is_what_the_generator_makes_of_the_committed_recording():
    committed = json.loads(policy.RECORDING.read_text())
    assert committed["policy"] == policy.document(committed["actions"], **committed["example"])


def test_recorded_actions_keep_one_callers_distinct_actions():
    calls = [
        {"caller": "AKIA1", "action": "s3:GetObject"},
        {"caller": "AKIA1", "action": "s3:GetObject"},
        {"caller": "ASIA2", "action": "dynamodb:PutItem"},
    ]
    assert policy.recorded_actions(calls, "AKIA1") == ["s3:GetObject"]


@pytest.mark.parametrize(
    "action, arn, service",
    [
        ("dynamodb:PutItem", "arn:aws:dynamodb:us-east-1:1:table/t", "dynamodb"),
        ("s3:GetObject", "arn:aws:s3:::b/k", "s3"),
        ("sns:CreateTopic", "arn:aws:sns:us-east-1:1:t", "sns"),
    ],
)
def test_a_denial_becomes_a_message_naming_the_action_and_resource(action, arn, service):
    refused = iam_policy.denial("arn:aws:iam::1:user/ana", action, (arn,), iam_policy.Decision.IMPLICIT_DENY)
    exc = ClientError({"Error": {"Code": refused.code, "Message": refused.message}}, "Operation")
    message = explain(exc, "doing it")
    assert message.startswith("Permission denied while doing it")
    assert action.partition(":")[2].lower() in message.lower() and f"on {arn}." in message


# The recording the policy is made from: the local cloud's call log (localcloud/calls/log.py)


@pytest.fixture()
def call_record(local_cloud):
    """The local cloud's call record, emptied first; yields (url, reader of the record)."""
    import boto3

    def clients(service: str, key: str = "testing", secret: str = "testing"):
        return boto3.client(
            service,
            endpoint_url=local_cloud,
            region_name="us-east-1",
            aws_access_key_id=key,
            aws_secret_access_key=secret,
        )

    port = int(local_cloud.rsplit(":", 1)[1])
    policy.reset_calls(port)
    yield clients, port


def _user_key(clients, name: str) -> dict:
    iam = clients("iam")
    iam.create_user(UserName=name)
    iam.put_user_policy(
        UserName=name,
        PolicyName="all",
        PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
        ),
    )
    return iam.create_access_key(UserName=name)["AccessKey"]


def test_the_call_log_records_each_callers_iam_actions_and_resources(call_record):
    import uuid

    clients, port = call_record
    name = f"u{uuid.uuid4().hex[:8]}"
    key = _user_key(clients, name)
    mine = clients("dynamodb", key["AccessKeyId"], key["SecretAccessKey"])
    with pytest.raises(ClientError):
        mine.describe_table(TableName=f"{name}-table")
    calls = policy.read_calls(port, key["AccessKeyId"])
    assert [(c["action"], c["resource"], c["identity"]) for c in calls] == [
        (
            "dynamodb:DescribeTable",
            f"arn:aws:dynamodb:us-east-1:123456789012:table/{name}-table",
            f"arn:aws:iam::123456789012:user/{name}",
        )
    ]


def test_the_call_log_names_an_api_call_by_the_iam_action_it_needs(call_record):
    clients, port = call_record
    with pytest.raises(ClientError):
        clients("lambda").invoke(FunctionName="no-such-function")
    assert "lambda:InvokeFunction" in policy.recorded_actions(policy.read_calls(port))


def test_the_call_log_records_s3_calls_with_the_object_arn(call_record):
    import uuid

    clients, port = call_record
    s3, bucket = clients("s3"), f"b{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="a/model.tar.gz", Body=b"x")
    pairs = {(c["action"], c["resource"]) for c in policy.read_calls(port)}
    assert ("s3:PutObject", f"arn:aws:s3:::{bucket}/a/model.tar.gz") in pairs
    assert ("s3:CreateBucket", f"arn:aws:s3:::{bucket}") in pairs


def test_the_call_log_forgets_on_delete(call_record):
    clients, port = call_record
    clients("sts").get_caller_identity()
    assert "sts:GetCallerIdentity" in policy.recorded_actions(policy.read_calls(port))
    policy.reset_calls(port)
    assert "sts:GetCallerIdentity" not in policy.recorded_actions(policy.read_calls(port))


def test_the_policy_command_prints_the_policy_for_a_prefix_account_and_region(capsys):
    from helpers.__main__ import main

    assert main(["policy", "--prefix", "ana", "--account", "111122223333", "--region", "eu-west-1"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out) == policy.attendee_policy(**EXAMPLE)
    assert "characters for a managed policy" in captured.err


def test_the_policy_command_refuses_a_prefix_the_kit_cannot_use(capsys):
    from helpers.__main__ import main

    assert main(["policy", "--prefix", "Ana!", "--account", "1", "--region", "us-east-1"]) == 2
    assert "cannot be used" in capsys.readouterr().err

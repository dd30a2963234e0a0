"""Which IAM actions a botocore call needs (kitformats.iam_actions), and the local cloud seeing the call botocore sent.

AWS's facts: S3 API reference, PutPublicAccessBlock "Permissions" (s3:PutBucketPublicAccessBlock) and
PutObject "Permissions" (s3:PutObjectTagging for x-amz-tagging); Lambda API reference, Invoke
(lambda:InvokeFunction); the Service Authorization Reference, "Actions defined by Amazon API Gateway"
(the HTTP method is the action).
"""

from __future__ import annotations

import uuid

import boto3
import pytest

from kitformats import iam_actions
from kitformats.iam_actions import Operation
from localcloud.calls import record as call_record


@pytest.mark.parametrize(
    "operation, expected",
    [
        (
            Operation("s3", "PutPublicAccessBlock", ("Bucket", "PublicAccessBlockConfiguration")),
            ["s3:PutBucketPublicAccessBlock"],
        ),
        (Operation("s3", "PutObject", ("Body", "Bucket", "Key")), ["s3:PutObject"]),
        (
            Operation("s3", "PutObject", ("Body", "Bucket", "Key", "Tagging")),
            ["s3:PutObject", "s3:PutObjectTagging"],
        ),
        (Operation("s3", "ListObjectsV2", ("Bucket",)), ["s3:ListBucket"]),
        (Operation("lambda", "Invoke", ("FunctionName", "Payload")), ["lambda:InvokeFunction"]),
        (
            Operation("lambda", "CreateFunction", ("Code", "FunctionName", "Role", "Tags")),
            ["lambda:CreateFunction", "lambda:TagResource", "iam:PassRole"],
        ),
        (
            Operation("dynamodb", "CreateTable", ("TableName", "Tags")),
            ["dynamodb:CreateTable", "dynamodb:TagResource"],
        ),
        (
            Operation("sagemaker", "UpdateEndpoint", ("EndpointConfigName", "EndpointName")),
            ["sagemaker:UpdateEndpoint"],
        ),
        (
            Operation("sagemaker-runtime", "InvokeEndpoint", ("Body", "EndpointName")),
            ["sagemaker:InvokeEndpoint"],
        ),
        (Operation("apigateway", "CreateRestApi", ("name",)), ["apigateway:POST"]),
        (Operation("apigateway", "PutMethod", ("httpMethod", "resourceId", "restApiId")), ["apigateway:PUT"]),
        (Operation("apigateway", "PutIntegration", ("httpMethod",)), ["apigateway:PUT"]),
        (Operation("apigateway", "CreateDeployment", ("restApiId",)), ["apigateway:POST"]),
        (Operation("iam", "CreateRole", ("RoleName", "Tags")), ["iam:CreateRole", "iam:TagRole"]),
    ],
    ids=lambda v: v.key if isinstance(v, Operation) else None,
)
def test_an_operation_needs_its_action_and_those_its_members_add(operation, expected):
    assert iam_actions.actions(operation) == expected


def test_every_action_the_mapping_names_is_in_the_service_authorization_reference():
    named = set(iam_actions.RENAMED.values()) | set(iam_actions.WITH_MEMBER.values()) | {"iam:PassRole"}
    assert [a for a in sorted(named) if not iam_actions.exists(a)] == []


def test_every_renamed_operation_is_not_itself_an_action():
    # Renaming is only for operations the SAR has no action of that name for.
    assert [k for k in iam_actions.RENAMED if iam_actions.exists(k)] == []


def test_the_sar_knows_which_actions_name_no_resource():
    assert not iam_actions.scoped("sts:GetCallerIdentity")
    assert iam_actions.scoped("s3:PutBucketPublicAccessBlock")
    assert "iam:PassRole" in iam_actions.dependent("sagemaker:CreateModel")


# The local cloud sees what botocore sent (localcloud/calls/hooks.py)


@pytest.fixture()
def sent(local_cloud):
    """A client whose botocore reports each call it sends; yields (client maker, what was sent)."""
    seen: list[tuple[str, str, tuple[str, ...]]] = []

    def make(service: str):
        client = boto3.client(service, endpoint_url=local_cloud, region_name="us-east-1")

        def note(params, model, **_):
            members = tuple(sorted(k for k, v in params.items() if v is not None))
            seen.append((model.service_model.service_name, model.name, members))

        client.meta.events.register("provide-client-params", lambda params, model, **kw: note(params, model))
        return client

    call_record.reset()
    yield make, seen


def seen_by_the_local_cloud(seen: list[tuple[str, str, tuple[str, ...]]]) -> bool:
    """True when the local cloud recorded each call as botocore sent it: its operation, and at least the members
    the caller gave (botocore adds some itself: checksums, EncodingType)."""
    calls = call_record.calls()
    return all(
        any((c["service"], c["operation"]) == (s, o) and set(m) <= set(c["members"]) for c in calls)
        for s, o, m in seen
    )


def test_the_call_record_names_s3_calls_as_botocore_sent_them(sent):
    make, seen = sent
    s3, bucket = make("s3"), f"b{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket)
    s3.put_public_access_block(
        Bucket=bucket, PublicAccessBlockConfiguration={"BlockPublicAcls": True, "BlockPublicPolicy": True}
    )
    s3.put_object(Bucket=bucket, Key="a/b", Body=b"x", Tagging="workshop-kit=x")
    s3.put_object(Bucket=bucket, Key="a/c", Body=b"x")
    s3.list_objects_v2(Bucket=bucket)
    assert seen and seen_by_the_local_cloud(seen)
    actions = {a for c in call_record.calls() for a in c["actions"]}
    assert {"s3:PutBucketPublicAccessBlock", "s3:PutObjectTagging", "s3:ListBucket"} <= actions


def test_the_call_record_names_json_and_query_calls_as_botocore_sent_them(sent):
    make, seen = sent
    name = f"t{uuid.uuid4().hex[:8]}"
    make("dynamodb").create_table(
        TableName=name,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
        Tags=[{"Key": "a", "Value": "b"}],
    )
    make("sns").create_topic(Name=name, Tags=[{"Key": "a", "Value": "b"}])
    make("sts").get_caller_identity()
    assert seen and seen_by_the_local_cloud(seen)
    actions = {a for c in call_record.calls() for a in c["actions"]}
    assert {"dynamodb:TagResource", "sns:TagResource"} <= actions

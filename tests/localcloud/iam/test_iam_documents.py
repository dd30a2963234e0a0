"""IAM's policy documents and partitions in the local cloud (localcloud/iam/documents.py, hooks.py, enforcement.py).

Grammar: "Grammar of the IAM JSON policy language",
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_grammar.html. The messages are
IAM's MalformedPolicyDocument answers (https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateRole.html
lists MalformedPolicyDocument: "The request was rejected because the policy document was malformed. The error
message describes the specific error."); where AWS documents no wording, the observed answer and its source are
named in localcloud/iam/documents.py.
"""

from __future__ import annotations

import io
import json
import uuid
import zipfile

import boto3
import pytest
from botocore.exceptions import ClientError

from localcloud.iam import documents

LAMBDA_TRUST = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}  # fmt: skip
READ = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}],
}


def unique(stem: str) -> str:
    return f"{stem}-{uuid.uuid4().hex[:8]}"


def statement(**fields) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [fields]})


# ---------------------------------------------------------------------------------------------
# The grammar and IAM's messages (engine)


@pytest.mark.parametrize(
    "document",
    [
        "some policy",  # moto's own tests create roles with this
        "[]",
        "{}",
        json.dumps({"Version": "2012-10-17", "Statement": []}),
        json.dumps({"Version": "2013-01-01", "Statement": LAMBDA_TRUST["Statement"]}),
        json.dumps({**LAMBDA_TRUST, "Extra": 1}),
        statement(Effect="Permit", Principal={"Service": "lambda.amazonaws.com"}, Action="sts:AssumeRole"),
        statement(Effect="Allow", Action="sts:AssumeRole", NotAction="sts:TagSession", Principal="*"),
        statement(Effect="Allow", Action=5, Principal="*"),
    ],
)
def test_a_document_off_the_grammar_is_a_syntax_error(document):
    assert documents.problem(document, documents.TRUST) == "Syntax errors in policy."
    assert documents.problem(document, documents.IDENTITY) == "Syntax errors in policy."


def test_a_trust_policy_names_a_principal():
    document = statement(Effect="Allow", Action="sts:AssumeRole")
    assert documents.problem(document, documents.TRUST) == (
        "Invalid principal in policy: com.amazon.balsa.error.InvalidPolicyException: "
        "The passed in policy has a statement with no principals!"
    )


def test_a_trust_policy_names_no_resource():
    document = statement(Effect="Allow", Principal="*", Action="sts:AssumeRole", Resource="*")
    assert documents.problem(document, documents.TRUST) == "Has prohibited field Resource."


def test_a_trust_policy_allows_only_sts_role_actions():
    document = statement(Effect="Allow", Principal={"Service": "lambda.amazonaws.com"}, Action="s3:GetObject")
    assert documents.problem(document, documents.TRUST) == (
        "Trust Policy statement actions can only be sts:AssumeRole, sts:AssumeRoleWithSAML,  and "
        "sts:AssumeRoleWithWebIdentity"
    )


def test_an_identity_policy_names_no_principal():
    document = statement(Effect="Allow", Principal="*", Action="s3:GetObject", Resource="*")
    assert (
        documents.problem(document, documents.IDENTITY) == "Policy document should not specify a principal."
    )


def test_an_identity_policy_names_actions_and_resources():
    assert documents.problem(statement(Effect="Allow", Resource="*"), documents.IDENTITY) == (
        "Policy statement must contain actions."
    )
    assert documents.problem(statement(Effect="Allow", Action="s3:GetObject"), documents.IDENTITY) == (
        "Policy statement must contain resources."
    )


@pytest.mark.parametrize(
    ("action", "message"),
    [
        ("GetObject", "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc."),
        ("s3:Get:Object", "Actions/Condition can contain only one colon."),
        ("s 3:GetObject", "Vendor s 3 is not valid"),
    ],
)
def test_an_action_is_vendor_colon_action(action, message):
    assert (
        documents.problem(statement(Effect="Allow", Action=action, Resource="*"), documents.IDENTITY)
        == message
    )


def test_statement_ids_are_unique():
    document = json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Sid": "a", **READ["Statement"][0]}] * 2}  # type: ignore[dict-item]
    )
    assert (
        documents.problem(document, documents.IDENTITY)
        == "Statement IDs (SID) in a single policy must be unique."
    )


def test_the_kits_policies_are_valid():
    assert documents.problem(json.dumps(LAMBDA_TRUST), documents.TRUST) is None
    assert documents.problem(READ, documents.IDENTITY) is None  # parsed, as CloudFormation hands it
    assert documents.problem(json.dumps({"Statement": LAMBDA_TRUST["Statement"]}), documents.TRUST) is None


# ---------------------------------------------------------------------------------------------
# IAM's API in the local cloud


@pytest.fixture(scope="module")
def iam(local_cloud):
    return boto3.client("iam", endpoint_url=local_cloud, region_name="us-east-1")


def malformed(call) -> str:
    with pytest.raises(ClientError) as caught:
        call()
    assert caught.value.response["Error"]["Code"] == "MalformedPolicyDocument"
    return caught.value.response["Error"]["Message"]


def test_create_role_refuses_a_trust_policy_that_is_not_json(iam):
    name = unique("role")
    assert malformed(lambda: iam.create_role(RoleName=name, AssumeRolePolicyDocument="some policy")) == (
        "Syntax errors in policy."
    )
    with pytest.raises(ClientError, match="NoSuchEntity"):
        iam.get_role(RoleName=name)


def test_update_assume_role_policy_refuses_a_trust_policy_without_principal(iam):
    name = unique("role")
    iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(LAMBDA_TRUST))
    document = statement(Effect="Allow", Action="sts:AssumeRole")
    assert "no principals" in malformed(
        lambda: iam.update_assume_role_policy(RoleName=name, PolicyDocument=document)
    )
    assert iam.get_role(RoleName=name)["Role"]["AssumeRolePolicyDocument"] == LAMBDA_TRUST


def test_put_role_policy_refuses_a_principal(iam):
    name = unique("role")
    iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(LAMBDA_TRUST))
    document = statement(Effect="Allow", Principal="*", Action="s3:GetObject", Resource="*")
    assert malformed(lambda: iam.put_role_policy(RoleName=name, PolicyName="p", PolicyDocument=document)) == (
        "Policy document should not specify a principal."
    )


def test_create_policy_refuses_a_principal(iam):
    document = statement(Effect="Allow", Principal={"AWS": "*"}, Action="s3:GetObject", Resource="*")
    assert malformed(lambda: iam.create_policy(PolicyName=unique("p"), PolicyDocument=document)) == (
        "Policy document should not specify a principal."
    )


# ---------------------------------------------------------------------------------------------
# Partitions: IAM keeps roles per partition; Lambda looks its role up in the function's partition


def zipped() -> bytes:
    package = io.BytesIO()
    with zipfile.ZipFile(package, "w") as archive:
        archive.writestr("app.py", "def handler(event, context):\n    return 1\n")
    return package.getvalue()


@pytest.mark.parametrize(
    ("region", "partition"),
    [
        ("us-east-1", "aws"),
        ("cn-north-1", "aws-cn"),
        ("us-gov-west-1", "aws-us-gov"),
        ("us-iso-east-1", "aws-iso"),
        ("us-isob-east-1", "aws-iso-b"),
    ],
)
def test_a_role_trusting_lambda_is_assumable_in_every_partition(local_cloud, region, partition):
    """AWS partitions: https://docs.aws.amazon.com/whitepapers/latest/aws-fault-isolation-boundaries/partitions.html"""
    kw = {"endpoint_url": local_cloud, "region_name": region}
    role = boto3.client("iam", **kw).create_role(
        RoleName=unique("role"), AssumeRolePolicyDocument=json.dumps(LAMBDA_TRUST)
    )["Role"]["Arn"]
    assert role.startswith(f"arn:{partition}:iam::")
    created = boto3.client("lambda", **kw).create_function(
        FunctionName=unique("fn"),
        Runtime="python3.13",
        Role=role,
        Handler="app.handler",
        Code={"ZipFile": zipped()},
    )
    assert created["FunctionArn"].startswith(f"arn:{partition}:lambda:{region}:")

"""The local cloud's AWS managed policies: every one AWS's catalogue (as moto ships it) holds, built when named.

AWS: "An AWS managed policy is a standalone policy that is created and administered by AWS", with an
ARN in the aws account (arn:aws:iam::aws:policy/...), available in every account.
https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_managed-vs-inline.html#aws-managed-policies
"""

from __future__ import annotations

import json
import uuid

import boto3
import pytest
from kit_world import execution_role
from moto.iam.aws_managed_policies import aws_managed_policies_data

from localcloud.iam import managed_policies

BASIC = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"


@pytest.fixture()
def iam(local_cloud):
    return boto3.client("iam", endpoint_url=local_cloud, region_name="us-east-1")


@pytest.fixture()
def role(iam):
    """A new role's name."""
    name = f"fn-{uuid.uuid4().hex[:12]}"
    execution_role(iam, name, "lambda.amazonaws.com")
    return name


def test_one_catalogue_entry_reads_as_the_whole_catalogue_parsed():
    catalogue = json.loads(aws_managed_policies_data)
    assert managed_policies.names(aws_managed_policies_data) == list(catalogue)
    for name in [*list(catalogue)[::97], "AWSLambdaBasicExecutionRole"]:
        assert managed_policies.entry(aws_managed_policies_data, name) == catalogue[name]
    assert managed_policies.entry(aws_managed_policies_data, "NoSuchPolicy") is None


def test_an_aws_policy_arn_names_its_policy():
    assert managed_policies.policy_name(BASIC) == "AWSLambdaBasicExecutionRole"
    assert (
        managed_policies.policy_name("arn:aws:iam::aws:policy/AdministratorAccess") == "AdministratorAccess"
    )
    assert managed_policies.policy_name("arn:aws:iam::123456789012:policy/mine") is None


def test_a_named_aws_policy_is_there_with_its_document(iam):
    policy = iam.get_policy(PolicyArn=BASIC)["Policy"]
    assert (policy["PolicyName"], policy["Path"]) == ("AWSLambdaBasicExecutionRole", "/service-role/")
    version = iam.get_policy_version(PolicyArn=BASIC, VersionId=policy["DefaultVersionId"])["PolicyVersion"]
    actions = {a for s in version["Document"]["Statement"] for a in s["Action"]}
    assert "logs:PutLogEvents" in actions


def test_an_aws_policy_attaches_before_anything_listed_it(iam, role):
    iam.attach_role_policy(RoleName=role, PolicyArn=BASIC)
    attached = iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"]
    assert attached == [{"PolicyName": "AWSLambdaBasicExecutionRole", "PolicyArn": BASIC}]
    iam.detach_role_policy(RoleName=role, PolicyArn=BASIC)
    assert iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"] == []


def test_an_unknown_aws_policy_is_not_found(iam, role):
    with pytest.raises(iam.exceptions.NoSuchEntityException):
        iam.get_policy(PolicyArn="arn:aws:iam::aws:policy/NoSuchPolicy")
    with pytest.raises(iam.exceptions.NoSuchEntityException):
        iam.attach_role_policy(RoleName=role, PolicyArn="arn:aws:iam::aws:policy/NoSuchPolicy")


def test_listing_aws_policies_lists_every_one_once(iam):
    iam.get_policy(PolicyArn=BASIC)  # one built before the listing is not listed twice
    names = [
        p["PolicyName"]
        for page in iam.get_paginator("list_policies").paginate(Scope="AWS")
        for p in page["Policies"]
    ]
    assert sorted(names) == sorted(json.loads(aws_managed_policies_data))
    local = [
        p["Arn"]
        for page in iam.get_paginator("list_policies").paginate(Scope="Local")
        for p in page["Policies"]
    ]
    assert not [arn for arn in local if arn.startswith("arn:aws:iam::aws:")]

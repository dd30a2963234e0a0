"""The local cloud's IAM policy language: boundaries, policy variables and the condition keys it supplies.

Each test takes its policy from the IAM user guide's own example (page named in the test) and checks the
decision the page describes.
"""

from __future__ import annotations

from localcloud.iam import policy as iam_policy
from localcloud.iam.policy import Decision, evaluate, evaluate_bounded, substitute

ACCOUNT = "123456789012"


def test_a_boundary_caps_what_the_identity_policy_allows():
    # IAM user guide, "Permissions boundaries for IAM entities": effective permissions are the intersection.
    identity = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "iam:CreateUser", "Resource": "*"}],
    }
    boundary = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": ["s3:*", "cloudwatch:*", "ec2:*"], "Resource": "*"}],
    }
    assert evaluate_bounded([identity], [boundary], "iam:CreateUser") == (Decision.IMPLICIT_DENY, True)
    assert evaluate_bounded([boundary], [boundary], "s3:GetObject") == (Decision.ALLOWED, False)
    assert evaluate_bounded([identity], None, "iam:CreateUser") == (Decision.ALLOWED, False)


def test_an_explicit_deny_in_the_boundary_wins():
    allow_all = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
    boundary = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": "*", "Resource": "*"},
            {"Effect": "Deny", "Action": "iam:DeleteRolePermissionsBoundary", "Resource": "*"},
        ],
    }
    decision, by_boundary = evaluate_bounded([allow_all], [boundary], "iam:DeleteRolePermissionsBoundary")
    assert decision is Decision.EXPLICIT_DENY and by_boundary


def test_username_variable_scopes_s3_to_the_users_home_folder():
    # IAM user guide, "IAM policy elements: Variables and tags", the home-folder example.
    document = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": ["s3:GetObject", "s3:PutObject"],
                "Resource": "arn:aws:s3:::amzn-s3-demo-bucket/home/${aws:username}/*",
            }
        ],
    }
    arn = "arn:aws:s3:::amzn-s3-demo-bucket/home/{}/notes.txt"
    ana = {"aws:username": ["ana"]}
    assert evaluate([document], "s3:GetObject", (arn.format("ana"),), ana) is Decision.ALLOWED
    assert evaluate([document], "s3:GetObject", (arn.format("bob"),), ana) is Decision.IMPLICIT_DENY


def test_a_variable_is_a_literal_in_a_policy_without_version_2012_10_17():
    document = {
        "Statement": [
            {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/${aws:username}/*"}
        ]
    }
    context = {"aws:username": ["ana"]}
    assert evaluate([document], "s3:GetObject", ("arn:aws:s3:::b/ana/x",), context) is Decision.IMPLICIT_DENY
    assert (
        evaluate([document], "s3:GetObject", ("arn:aws:s3:::b/${aws:username}/x",), context)
        is Decision.ALLOWED
    )


def test_an_absent_variable_names_no_resource_unless_it_has_a_default():
    # Same page: a variable whose key is absent makes the Resource match nothing; ${key, 'default'} fills it.
    document = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": "dynamodb:GetItem",
                "Resource": "arn:aws:dynamodb:us-east-1:123456789012:table/${aws:PrincipalTag/team}-*",
            }
        ],
    }
    table = "arn:aws:dynamodb:us-east-1:123456789012:table/{}-orders"
    assert evaluate([document], "dynamodb:GetItem", (table.format("red"),), {}) is Decision.IMPLICIT_DENY
    tagged = {"aws:PrincipalTag/team": ["red"]}
    assert evaluate([document], "dynamodb:GetItem", (table.format("red"),), tagged) is Decision.ALLOWED
    assert substitute("${aws:PrincipalTag/team, 'company-wide'}", {}) == "company-wide"


def test_a_variables_value_is_literal_not_a_wildcard():
    document = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": "sqs:SendMessage",
                "Resource": "arn:aws:sqs:*:*:${aws:SourceIdentity}-q",
            }
        ],
    }
    star = {"aws:SourceIdentity": ["*"]}
    assert (
        evaluate([document], "sqs:SendMessage", ("arn:aws:sqs:us-east-1:1:ana-q",), star)
        is Decision.IMPLICIT_DENY
    )
    assert evaluate([document], "sqs:SendMessage", ("arn:aws:sqs:us-east-1:1:*-q",), star) is Decision.ALLOWED


def test_permissions_boundary_condition_on_create_role():
    # IAM user guide, "Permissions boundaries for IAM entities", the delegation example (for roles).
    boundary = f"arn:aws:iam::{ACCOUNT}:policy/XCompanyBoundaries"
    document = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": ["iam:CreateRole", "iam:PutRolePolicy"],
                "Resource": f"arn:aws:iam::{ACCOUNT}:role/*",
                "Condition": {"StringEquals": {"iam:PermissionsBoundary": boundary}},
            }
        ],
    }
    role = (f"arn:aws:iam::{ACCOUNT}:role/r",)
    assert (
        evaluate([document], "iam:CreateRole", role, {"iam:PermissionsBoundary": [boundary]})
        is Decision.ALLOWED
    )
    other = {"iam:PermissionsBoundary": [f"arn:aws:iam::{ACCOUNT}:policy/Other"]}
    assert evaluate([document], "iam:CreateRole", role, other) is Decision.IMPLICIT_DENY
    assert evaluate([document], "iam:CreateRole", role, {}) is Decision.IMPLICIT_DENY  # no boundary at all


def test_request_tag_must_match_the_principals_tag():
    # IAM user guide, "Controlling access to and for IAM users and roles": aws:RequestTag with ${aws:PrincipalTag}.
    document = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": "iam:CreateRole",
                "Resource": "*",
                "Condition": {"StringEquals": {"aws:RequestTag/team": "${aws:PrincipalTag/team}"}},
            }
        ],
    }
    mine = {"aws:PrincipalTag/team": ["red"], "aws:RequestTag/team": ["red"]}
    theirs = {"aws:PrincipalTag/team": ["red"], "aws:RequestTag/team": ["blue"]}
    untagged = {"aws:PrincipalTag/team": ["red"]}
    assert evaluate([document], "iam:CreateRole", ("*",), mine) is Decision.ALLOWED
    assert evaluate([document], "iam:CreateRole", ("*",), theirs) is Decision.IMPLICIT_DENY
    assert evaluate([document], "iam:CreateRole", ("*",), untagged) is Decision.IMPLICIT_DENY


def test_absent_keys_fail_positive_operators_and_pass_negated_ones():
    # IAM user guide, "IAM JSON policy elements: Condition operators": a missing key.
    def allows(condition: dict, context: dict) -> bool:
        document = {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Action": "iam:TagRole", "Resource": "*", "Condition": condition}
            ],
        }
        return evaluate([document], "iam:TagRole", ("*",), context) is Decision.ALLOWED

    assert not allows({"StringEquals": {"aws:RequestTag/team": "red"}}, {})
    assert allows({"StringNotEquals": {"aws:RequestTag/team": "red"}}, {})
    assert allows({"StringEqualsIfExists": {"aws:RequestTag/team": "red"}}, {})
    assert not allows(
        {"StringEqualsIfExists": {"aws:RequestTag/team": "red"}}, {"aws:RequestTag/team": ["blue"]}
    )
    assert allows({"Null": {"aws:RequestTag/team": "true"}}, {})
    assert not allows({"Null": {"aws:RequestTag/team": "true"}}, {"aws:RequestTag/team": ["red"]})


def test_set_operators_on_tag_keys():
    # IAM user guide, "Multivalued context keys": ForAllValues / ForAnyValue over aws:TagKeys.
    def allows(condition: dict, keys: list[str]) -> bool:
        document = {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Action": "iam:TagRole", "Resource": "*", "Condition": condition}
            ],
        }
        return evaluate([document], "iam:TagRole", ("*",), {"aws:TagKeys": keys}) is Decision.ALLOWED

    only = {"ForAllValues:StringEquals": {"aws:TagKeys": ["team", "cost-center"]}}
    assert allows(only, ["team"]) and not allows(only, ["team", "owner"])
    any_of = {"ForAnyValue:StringEquals": {"aws:TagKeys": ["team"]}}
    assert allows(any_of, ["owner", "team"]) and not allows(any_of, ["owner"])


def test_a_condition_on_a_key_the_local_cloud_does_not_supply_never_refuses():
    document = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": "s3:GetObject",
                "Resource": "*",
                "Condition": {"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}},
            }
        ],
    }
    assert evaluate([document], "s3:GetObject") is Decision.ALLOWED


def test_cloudformation_actions_act_on_the_stack_a_request_names():
    # Service Authorization Reference, AWS CloudFormation: CreateChangeSet, DescribeStacks, DeleteStack, ...
    # act on the "stack" resource type, arn:${Partition}:cloudformation:${Region}:${Account}:stack/${StackName}/${Id}
    by_name = iam_policy.resource_arns("cloudformation:DeleteStack", {"StackName": "ana-s"}, "us-east-1", "1")
    arn = "arn:aws:cloudformation:us-east-1:1:stack/ana-s/0d1e"
    assert by_name == [("arn:aws:cloudformation:us-east-1:1:stack/ana-s/*",)]
    assert iam_policy.resource_arns(
        "cloudformation:DescribeStacks", {"StackName": arn}, "us-east-1", "1"
    ) == [(arn,)]
    assert iam_policy.resource_arns("cloudformation:ListStacks", {}, "us-east-1", "1") == [iam_policy.ANY]

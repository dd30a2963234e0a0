"""The class policy: every operation a recorded run sent is allowed, each on the attendee's own prefix only.

The recording (helpers/attendee_policy.json) keeps what botocore sent in full runs; kitformats.iam_actions
maps each operation to the IAM actions AWS checks (Service Authorization Reference, API reference
"Permissions" sections), and the local cloud's IAM evaluation (localcloud/iam/policy.py) judges them against
the generated policy for an attendee whose principal tag names their prefix.
"""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from helpers import config, policy, policy_scope
from helpers.errors import explain
from kitformats import iam_actions
from localcloud.iam import policy as iam_policy

ACCOUNT, REGION = "123456789012", "us-east-1"  # the recording's
PREFIX = "ana"
CONTEXT = {
    f"aws:PrincipalTag/{policy.PREFIX_TAG}": [PREFIX],
    "aws:SourceIdentity": [PREFIX],
    "aws:username": [PREFIX],
}
BOUNDARY = policy.policy_arn(policy.BOUNDARY_NAME, ACCOUNT, REGION)


@pytest.fixture(scope="module", params=["user-name", "source-identity"])
def document(request) -> dict:
    return policy.attendee_policy(ACCOUNT, REGION, policy.VARIABLES[request.param])


def allowed(document: dict, action: str, arn: str, **context: list[str]) -> bool:
    """Whether the local cloud's IAM evaluation allows action on arn to the attendee under document."""
    found = iam_policy.evaluate([document], action, (arn,), {**CONTEXT, **context})
    return found is iam_policy.Decision.ALLOWED


def request_context(action: str) -> dict[str, list[str]]:
    """What the kit's own requests carry: its tags (the prefix tag), the class boundary on its roles."""
    return {
        f"aws:RequestTag/{policy.PREFIX_TAG}": [PREFIX],
        "aws:TagKeys": [policy.PREFIX_TAG],
        "iam:PermissionsBoundary": [BOUNDARY],
        "iam:PolicyARN": ["arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"],
    }


def test_the_recording_sent_the_calls_the_issue_names():
    actions = set(policy.attendee_actions())
    assert {"s3:PutBucketPublicAccessBlock", "s3:PutObjectTagging", "sagemaker:UpdateEndpoint"} <= actions


def test_every_recorded_operation_has_an_allowing_statement(document):
    missing = []
    for recorded in policy.load()["operations"]:
        operation = policy.as_operation(recorded)
        resource = recorded["resource"].format(prefix=PREFIX) or "*"
        for action in iam_actions.actions(operation):
            if action == "iam:PassRole":
                continue  # the role passed, not the function created: next test
            if not allowed(document, action, resource, **request_context(action)):
                missing.append(f"{operation.key} {list(operation.members)} -> {action} on {resource}")
    assert missing == []


def test_the_kits_two_roles_can_be_passed_each_to_its_own_service(document):
    role = f"arn:aws:iam::{ACCOUNT}:role/{PREFIX}-{{}}"
    to = lambda service: {"iam:PassedToService": [service]}  # noqa: E731
    assert allowed(
        document, "iam:PassRole", role.format("inference-lambda-role"), **to("lambda.amazonaws.com")
    )
    assert allowed(
        document, "iam:PassRole", role.format("sagemaker-execution"), **to("sagemaker.amazonaws.com")
    )
    assert not allowed(
        document, "iam:PassRole", role.format("inference-lambda-role"), **to("ec2.amazonaws.com")
    )
    assert not allowed(
        document, "iam:PassRole", role.format("sagemaker-execution"), **to("lambda.amazonaws.com")
    )


def test_8_5_s_stack_may_create_what_it_holds_with_the_attendee_s_credentials(document):
    # CloudFormation creates a stack's resources with the caller's credentials (no service role): each request
    # must fit the class policy, named under the second prefix and tagged with the attendee's own prefix.
    second = config.second_prefix(PREFIX)
    arn = lambda service, resource: f"arn:aws:{service}:{REGION}:{ACCOUNT}:{resource}"  # noqa: E731
    role = f"arn:aws:iam::{ACCOUNT}:role/{second}-inference-lambda-role"
    requests = [
        ("cloudformation:CreateChangeSet", arn("cloudformation", f"stack/{second}-chapter8/x")),
        ("cloudformation:ExecuteChangeSet", arn("cloudformation", f"stack/{second}-chapter8/x")),
        ("cloudformation:DeleteStack", arn("cloudformation", f"stack/{second}-chapter8/x")),
        ("iam:CreateRole", role),
        ("iam:PutRolePolicy", role),
        ("lambda:CreateFunction", arn("lambda", f"function:{second}-inference")),
        ("dynamodb:CreateTable", arn("dynamodb", f"table/{second}-inference-metadata")),
        ("cloudwatch:PutMetricAlarm", arn("cloudwatch", f"alarm:{second}-inference-errors")),
        ("sns:CreateTopic", arn("sns", f"{second}-pipeline-alarms")),
        ("sqs:CreateQueue", arn("sqs", f"{second}-alarm-inbox")),
    ]
    refused = [(a, r) for a, r in requests if not allowed(document, a, r, **request_context(a))]
    assert refused == []
    assert allowed(document, "iam:PassRole", role, **{"iam:PassedToService": ["lambda.amazonaws.com"]})


def test_no_recorded_operation_reaches_another_prefix(document):
    for recorded in policy.load()["operations"]:
        if "{prefix}" not in recorded["resource"]:
            continue
        other = recorded["resource"].format(prefix="bob")
        for action in iam_actions.actions(policy.as_operation(recorded)):
            if policy_scope.SCOPE.get(action) == ():
                continue  # granted on "*" on purpose (list calls; test above)
            assert not allowed(document, action, other, **request_context(action)), (action, other)


def test_fits_in_one_customer_managed_policy(document):
    assert policy.compact_size(document) <= policy.MANAGED_POLICY_MAX_CHARS


def test_wildcard_resources_only_for_actions_aws_does_not_scope_or_listed_with_the_reason(document):
    for statement in document["Statement"]:
        if statement["Resource"] == "*" and statement["Effect"] == "Allow":
            for action in statement["Action"]:
                assert not iam_actions.scoped(action) or action in policy_scope.UNSCOPED_ON_PURPOSE, action


def test_the_scope_table_agrees_with_the_service_authorization_reference():
    wrong = [
        action
        for action, kinds in policy_scope.SCOPE.items()
        if iam_actions.exists(action)
        and bool(kinds) != iam_actions.scoped(action)
        and action not in policy_scope.UNSCOPED_ON_PURPOSE
    ]
    assert wrong == []


def test_every_dependent_action_the_sar_names_is_granted_or_explained(document):
    granted = {a for s in document["Statement"] if s["Effect"] == "Allow" for a in _list(s["Action"])}
    unexplained = {
        (action, dependent)
        for action in policy.attendee_actions()
        for dependent in iam_actions.dependent(action)
        if dependent not in granted and dependent not in policy_scope.DEPENDENT_NOT_NEEDED
    }
    assert unexplained == set()


def _list(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else value


def test_an_action_without_a_known_scope_is_refused_with_the_fix():
    with pytest.raises(policy.PolicyError, match=r"ec2:RunInstances.*SCOPE"):
        policy.class_policy(["ec2:RunInstances"], ACCOUNT, REGION)


def test_the_boundary_lets_a_role_reach_its_own_prefix_only():
    boundary = policy.boundary_policy(ACCOUNT, REGION)
    table = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{{}}-inference-metadata"
    mine = {f"aws:PrincipalTag/{policy.PREFIX_TAG}": [PREFIX]}
    decide = iam_policy.evaluate
    assert (
        decide([boundary], "dynamodb:PutItem", (table.format(PREFIX),), mine) is iam_policy.Decision.ALLOWED
    )
    assert (
        decide([boundary], "dynamodb:PutItem", (table.format("bob"),), mine)
        is not iam_policy.Decision.ALLOWED
    )
    assert decide([boundary], "iam:CreateUser", ("*",), mine) is not iam_policy.Decision.ALLOWED


def test_recorded_operations_keep_distinct_calls_with_the_prefix_as_a_placeholder():
    calls = [
        {
            "caller": "AKIA1",
            "service": "s3",
            "operation": "PutObject",
            "members": ["Bucket"],
            "resource": "arn:aws:s3:::attendee-ml-workshop-1/k",
        },
        {
            "caller": "AKIA1",
            "service": "s3",
            "operation": "PutObject",
            "members": ["Bucket"],
            "resource": "arn:aws:s3:::attendee-ml-workshop-1/k",
        },
    ]
    assert policy.recorded_operations(calls) == [
        {
            "service": "s3",
            "operation": "PutObject",
            "members": ["Bucket"],
            "resource": "arn:aws:s3:::{prefix}-ml-workshop-1/k",
        }
    ]


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


def test_the_policy_command_prints_the_class_policy(capsys):
    from helpers.__main__ import main

    assert main(["policy", "--account", ACCOUNT, "--region", REGION]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out) == policy.attendee_policy(ACCOUNT, REGION)
    assert "characters for a managed policy" in captured.err


def test_the_policy_command_prints_the_boundary(capsys):
    from helpers.__main__ import main

    assert main(["policy", "--boundary", "--account", ACCOUNT, "--region", REGION]) == 0
    assert json.loads(capsys.readouterr().out) == policy.boundary_policy(ACCOUNT, REGION)


def test_class_setup_refuses_a_prefix_that_starts_another():
    from helpers import classroom
    from helpers.errors import WorkshopError

    with pytest.raises(WorkshopError, match=r"'ana'.*'ana-b'.*Fix"):
        classroom.check_prefixes(["ana", "ana-b"])


def test_the_boundary_allows_every_call_the_kits_roles_made():
    boundary = policy.boundary_policy(ACCOUNT, REGION)
    mine = {f"aws:PrincipalTag/{policy.PREFIX_TAG}": [PREFIX]}
    refused = [
        (action, recorded["resource"])
        for recorded in policy.load()["role_operations"]
        for action in iam_actions.actions(policy.as_operation(recorded))
        if iam_policy.evaluate([boundary], action, (recorded["resource"].format(prefix=PREFIX),), mine)
        is not iam_policy.Decision.ALLOWED
    ]
    assert refused == []


def test_read_only_actions_share_a_wildcard_only_where_it_reads_nothing_else():
    merged = policy.read_wildcards(
        ["lambda:GetFunction", "lambda:GetFunctionConfiguration", "lambda:UpdateFunctionCode",
         "lambda:UpdateFunctionConfiguration", "s3:GetObject", "iam:GetRole", "iam:GetUser"]
    )  # fmt: skip
    assert "lambda:GetFunction*" in merged  # every GetFunction... action reads a function
    assert {"lambda:UpdateFunctionCode", "lambda:UpdateFunctionConfiguration"} <= set(merged)  # writes stay
    assert {"iam:GetRole", "iam:GetUser"} <= set(merged)  # iam:Get* would read groups, policies, the account

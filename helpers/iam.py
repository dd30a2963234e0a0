"""IAM: the Lambda execution role and its least-privilege inline policies."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from botocore.exceptions import ClientError

from helpers import errors, session
from helpers.session import client

LAMBDA_TRUST_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
    ],
}
BASIC_EXECUTION_POLICY = "service-role/AWSLambdaBasicExecutionRole"  # lets a function write its own logs


def managed_policy_arn(name: str) -> str:
    """The ARN of an AWS managed policy (e.g. 'service-role/AWSLambdaBasicExecutionRole') in the workshop's
    partition: arn:aws:iam::aws:policy/..., arn:aws-cn:iam::aws:policy/... in China."""
    return session.arn("iam", f"policy/{name}", region="", account="aws")


def __getattr__(name: str) -> str:
    """iam.BASIC_EXECUTION: AWSLambdaBasicExecutionRole's ARN in the partition of the current settings' region
    (computed when read: the region is a setting, and the partition follows it)."""
    if name == "BASIC_EXECUTION":
        return managed_policy_arn(BASIC_EXECUTION_POLICY)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def ensure_role(
    name: str, trust_policy: Mapping[str, Any], managed_policy_arns: Sequence[str], tags: Mapping[str, str]
) -> str:
    """Create the role (or keep the existing one), attach the managed policies; return its ARN."""
    iam = client("iam")
    try:
        role = iam.get_role(RoleName=name)["Role"]
    except ClientError as exc:
        if errors.code(exc) != "NoSuchEntity":
            raise
        role = iam.create_role(
            RoleName=name,
            AssumeRolePolicyDocument=json.dumps(trust_policy),
            Description="Execution role of the workshop's inference Lambda",
            Tags=[{"Key": k, "Value": v} for k, v in tags.items()],
        )["Role"]
        print(f"created role {name}")
    attached = {p["PolicyArn"] for p in iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"]}
    for policy_arn in managed_policy_arns:
        if policy_arn not in attached:
            iam.attach_role_policy(RoleName=name, PolicyArn=policy_arn)
    arn: str = role["Arn"]
    return arn


def put_inline_policy(request: Mapping[str, Any]) -> bool:
    """Apply a PutRolePolicy request (RoleName, PolicyName, PolicyDocument as JSON text) unless the role
    already has that document; return True when it changed."""
    iam = client("iam")
    role, name = request["RoleName"], request["PolicyName"]
    document = json.loads(request["PolicyDocument"])
    try:
        current = iam.get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"]
        if isinstance(current, str):
            current = json.loads(current)
        if current == document:
            print(f"policy {name} on role {role}: already as requested")
            return False
    except ClientError as exc:
        if errors.code(exc) != "NoSuchEntity":
            raise
    iam.put_role_policy(**request)
    print(f"policy {name} on role {role} set")
    return True


# ---------------------------------------------------------------- least privilege

DATA_SERVICES = ("dynamodb", "sagemaker", "s3")  # data actions: a wildcard resource on them is refused


def _as_list(value: Any) -> list[Any]:
    """An IAM field that may be one string or a list, as a list."""
    if value is None:
        return []
    return [value] if isinstance(value, (str, dict)) else list(value)


def _wildcard_resource(resource: str) -> bool:
    """True when a resource ARN names more than one thing (a table's own indexes are allowed)."""
    if "*" not in resource:
        return False
    stem, sep, rest = resource.partition("/index/")
    return not (sep and rest == "*" and "*" not in stem)


def wildcard_violations(policy_document: dict[str, Any] | str) -> list[str]:
    """Statements that grant a wildcard action, or a wildcard resource on data actions; one line each."""
    document = json.loads(policy_document) if isinstance(policy_document, str) else policy_document
    found = []
    for number, statement in enumerate(_as_list(document.get("Statement")), start=1):
        if statement.get("Effect") != "Allow":
            continue
        label = f"statement {number}" + (f" ({statement['Sid']})" if statement.get("Sid") else "")
        if "NotAction" in statement:
            found.append(f"{label}: NotAction grants every action but those listed; list the actions instead")
        if "NotResource" in statement:
            found.append(
                f"{label}: NotResource grants every resource but those listed; list the resources instead"
            )
        actions = [a for a in _as_list(statement.get("Action")) if isinstance(a, str)]
        for action in actions:
            if "*" in action:
                found.append(
                    f"{label}: action {action!r} is a wildcard; grant only the actions used (e.g. dynamodb:PutItem)"
                )
        data_actions = [a for a in actions if a == "*" or a.split(":", 1)[0].lower() in DATA_SERVICES]
        if data_actions:
            for resource in _as_list(statement.get("Resource")):
                if isinstance(resource, str) and _wildcard_resource(resource):
                    found.append(
                        f"{label}: resource {resource!r} is a wildcard for {', '.join(data_actions)}; "
                        "name the table's or endpoint's ARN"
                    )
    return found

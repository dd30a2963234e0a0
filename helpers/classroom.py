"""What the instructor creates once for a class in one AWS account: `python -m helpers class-setup`.

The plan (``plan``): the class boundary (``ml-workshop-boundary``: the most any attendee's role may do,
on its own prefix), the one class policy (``ml-workshop-attendee``: every attendee, scoped by a policy
variable), and the attendees' identities: an IAM user per attendee, named and tagged with their prefix
(``workshop-prefix``), the class policy attached; or, for SageMaker Studio, the domain setting
``ExecutionRoleIdentityConfig=USER_PROFILE_NAME`` (each user's sessions carry their profile name as
``aws:SourceIdentity``) and the class policy on the domain's execution role. ``apply`` creates the IAM
part, idempotently (a changed policy gets a new default version); the Studio part is printed as the
commands to run, since the domain's apps must be stopped first.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from helpers import config, errors, policy
from helpers.errors import WorkshopError
from helpers.session import client

POLICY_VERSIONS_MAX = 5  # IAM keeps at most five versions of a managed policy


@dataclass
class Plan:
    """What class-setup creates: two managed policies and the attendees' identities."""

    account: str
    region: str
    identity: str  # "user-name" (IAM users named after their prefix) or "source-identity" (SageMaker Studio)
    attendees: list[str]
    policies: dict[str, dict[str, Any]] = field(default_factory=dict)
    studio_domain: str = ""
    execution_role: str = ""

    def commands(self) -> list[str]:
        """The AWS CLI commands that do what apply() does, and the Studio steps apply() leaves to the instructor."""
        lines = [
            f"aws iam create-policy --policy-name {name} --policy-document file://{name}.json"
            for name in self.policies
        ]
        class_arn = policy.policy_arn(policy.CLASS_POLICY_NAME, self.account, self.region)
        for name in self.attendees:
            lines += [
                f"aws iam create-user --user-name {name} --tags Key={policy.PREFIX_TAG},Value={name}",
                f"aws iam attach-user-policy --user-name {name} --policy-arn {class_arn}",
            ]
        if self.identity == "source-identity":
            domain = self.studio_domain or "<domain-id>"
            role = self.execution_role or "<studio-execution-role>"
            lines += [
                "# every app of the domain stopped or deleted first (SageMaker refuses the change otherwise)",
                f"aws sagemaker update-domain --domain-id {domain} "
                "--domain-settings-for-update ExecutionRoleIdentityConfig=USER_PROFILE_NAME",
                f"# {role}'s trust policy: allow sts:AssumeRole and sts:SetSourceIdentity for sagemaker.amazonaws.com",
                f"aws iam attach-role-policy --role-name {role} --policy-arn {class_arn}",
                "# each user profile's name is that attendee's WORKSHOP_PREFIX",
            ]
        return lines


def check_prefixes(attendees: Sequence[str]) -> list[str]:
    """The attendees' prefixes, valid and none the start of another's resource names ('ana' vs 'ana-b')."""
    found = [config.validate_prefix(a) for a in attendees]
    for a in found:
        for b in found:
            if a != b and b.startswith(f"{a}-"):
                raise WorkshopError(
                    f"Prefixes {a!r} and {b!r}: {a}-* names {b}'s resources too, so the class policy could not "
                    f"keep them apart. Fix: give {a!r} a prefix that no other attendee's starts with "
                    f"(e.g. {a}-x)."
                )
    if len(set(found)) != len(found):
        raise WorkshopError("Two attendees have the same prefix. Fix: give each attendee their own.")
    return found


def plan(
    account: str,
    region: str,
    attendees: Sequence[str] = (),
    identity: str = "user-name",
    studio_domain: str = "",
    execution_role: str = "",
) -> Plan:
    """What the class needs: the boundary, the class policy for the identity kind, the attendees."""
    if identity not in policy.VARIABLES:
        raise WorkshopError(f"--identity {identity}: use one of {', '.join(policy.VARIABLES)}.")
    document = policy.attendee_policy(account, region, policy.VARIABLES[identity])
    size = policy.compact_size(document)
    if size > policy.MANAGED_POLICY_MAX_CHARS:
        raise WorkshopError(
            f"The class policy is {size} characters, over IAM's {policy.MANAGED_POLICY_MAX_CHARS} for a managed "
            "policy. Fix: merge statements in helpers/policy.py."
        )
    return Plan(
        account,
        region,
        identity,
        check_prefixes(attendees),
        {
            policy.BOUNDARY_NAME: policy.boundary_policy(account, region),
            policy.CLASS_POLICY_NAME: document,
        },
        studio_domain,
        execution_role,
    )


def _ensure_policy(iam: Any, arn: str, name: str, document: dict[str, Any]) -> str:
    """Create the managed policy, or make document its default version when it differs; say which."""
    text = json.dumps(document)
    try:
        current = iam.get_policy(PolicyArn=arn)["Policy"]
    except ClientError as exc:
        if errors.code(exc) != "NoSuchEntity":
            raise
        iam.create_policy(
            PolicyName=name, PolicyDocument=text, Description="ML workshop, chapter 8 (class-setup)"
        )
        return f"created policy {name}"
    version = iam.get_policy_version(PolicyArn=arn, VersionId=current["DefaultVersionId"])["PolicyVersion"]
    stored = version["Document"]
    if (json.loads(stored) if isinstance(stored, str) else stored) == document:
        return f"policy {name}: up to date"
    versions = iam.list_policy_versions(PolicyArn=arn)["Versions"]
    if len(versions) >= POLICY_VERSIONS_MAX:
        oldest = min((v for v in versions if not v["IsDefaultVersion"]), key=lambda v: v["CreateDate"])
        iam.delete_policy_version(PolicyArn=arn, VersionId=oldest["VersionId"])
    iam.create_policy_version(PolicyArn=arn, PolicyDocument=text, SetAsDefault=True)
    return f"policy {name}: new default version"


def _ensure_user(iam: Any, name: str, class_arn: str) -> str:
    """The attendee's IAM user, named after and tagged with their prefix, holding the class policy."""
    said = f"user {name}: exists"
    try:
        iam.create_user(UserName=name, Tags=[{"Key": policy.PREFIX_TAG, "Value": name}])
        said = f"created user {name}"
    except ClientError as exc:
        if errors.code(exc) != "EntityAlreadyExists":
            raise
        iam.tag_user(UserName=name, Tags=[{"Key": policy.PREFIX_TAG, "Value": name}])
    iam.attach_user_policy(UserName=name, PolicyArn=class_arn)
    return said


def apply(found: Plan) -> list[str]:
    """Create the policies and the attendees' users (idempotent); what was done, a line each."""
    iam = client("iam")
    done = [
        _ensure_policy(iam, policy.policy_arn(name, found.account, found.region), name, document)
        for name, document in found.policies.items()
    ]
    class_arn = policy.policy_arn(policy.CLASS_POLICY_NAME, found.account, found.region)
    done += [_ensure_user(iam, name, class_arn) for name in found.attendees]
    return done

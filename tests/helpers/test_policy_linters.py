"""The field's IAM linters on the generated class policy: every finding fixed, or listed here with why it is safe.

parliament (duo-labs/parliament, pinned) audits the policy's grammar against its copy of the Service
Authorization Reference; cloudsplaining (salesforce/cloudsplaining, pinned), run as
`scan-policy-file --flag-all-risky-actions` runs it, names privilege-escalation methods, data exfiltration,
resource exposure and infrastructure modification.
"""

from __future__ import annotations

import json

import pytest

from helpers import policy

ACCOUNT, REGION = "123456789012", "us-east-1"

# cloudsplaining's privilege-escalation methods (its constants.py names) the policy allows, and why each is
# safe: every role an attendee can create, change or pass carries the class boundary (the policy allows
# CreateRole and every role change only with iam:PermissionsBoundary = the boundary, which it cannot remove,
# replace or rewrite), and the boundary caps the role to its own prefix with no IAM at all.
# tests/workshop/test_class_identity.py attempts each and gets AccessDenied where it leaves the prefix.
ESCALATION_SAFE = {
    "AttachRolePolicy": "only AWSLambdaBasicExecutionRole, only onto a role under the boundary",
    "PutRolePolicy": "only onto the attendee's own roles, all under the boundary: '*:*' there stays in the prefix",
    "PassExistingRoleToNewLambdaThenInvoke": "only the attendee's own two roles, each to its own service",
    "EditExistingLambdaFunctionWithRole": "only the attendee's own functions, whose roles are under the boundary",
    "UpdateAndInvokeLambdaFunction": "only the attendee's own functions, whose roles are under the boundary",
    "UpdateLambdaFunctionAndAddPermission": "only the attendee's own functions, whose roles are under the boundary",
    "PassExistingRoleToNewLambdaThenAddPermission": "only the attendee's own Lambda roles, under the boundary",
    "ExecuteCloudFormationChangeSet": "CloudFormation acts with the attendee's own credentials: no role can be "
    "passed to cloudformation.amazonaws.com (PassRole only to lambda and sagemaker), so a stack does no more",
}
# Other cloudsplaining categories: the chapter's own purpose, each action scoped to the attendee's prefix or
# conditioned (checked below: none of them is granted on "*").
CATEGORY_SAFE = {
    "DataExfiltration": "reading the attendee's own model artifact (s3:GetObject on their bucket only)",
    "ResourceExposure": "policies and settings of the attendee's own bucket, topic, queue and roles",
    "InfrastructureModification": "the chapter builds and deletes the attendee's own resources",
}
# parliament findings that are artefacts of the linter, not of the policy.
PARLIAMENT_SAFE = {
    "RESOURCE_STAR": "only for the actions helpers/policy_scope.py UNSCOPED_ON_PURPOSE lists with reasons",
}


@pytest.fixture(scope="module")
def document() -> dict:
    return policy.attendee_policy(ACCOUNT, REGION)


def as_attendee(document: dict, prefix: str = "jane-doe") -> dict:
    """The policy as IAM reads it for one attendee: parliament cannot parse an ARN holding '${aws:...}'."""
    text = json.dumps(document).replace(policy.USER_VARIABLE, prefix)
    parsed: dict = json.loads(text)
    return parsed


def test_parliament_finds_nothing_unexplained(document):
    from parliament import analyze_policy_string

    findings = analyze_policy_string(json.dumps(as_attendee(document))).findings
    unexplained = [(f.issue, f.detail) for f in findings if f.issue not in PARLIAMENT_SAFE]
    assert unexplained == []


def test_parliaments_resource_star_findings_are_the_deliberate_ones(document):
    from parliament import analyze_policy_string

    from helpers.policy_scope import UNSCOPED_ON_PURPOSE

    findings = analyze_policy_string(json.dumps(as_attendee(document))).findings
    starred = {a for f in findings if f.issue == "RESOURCE_STAR" for a in f.detail}
    assert starred <= set(UNSCOPED_ON_PURPOSE)


@pytest.fixture(scope="module")
def cloudsplaining(document) -> dict:
    from cloudsplaining.command.scan_policy_file import scan_policy

    return scan_policy(document, flag_conditional_statements=True, flag_resource_arn_statements=True)


def test_cloudsplaining_names_only_escalation_methods_the_boundary_contains(cloudsplaining):
    methods = {f["type"] for f in (cloudsplaining.get("PrivilegeEscalation") or {}).get("findings", [])}
    assert methods <= set(ESCALATION_SAFE), methods - set(ESCALATION_SAFE)


@pytest.mark.parametrize("category", sorted(CATEGORY_SAFE))
def test_cloudsplainings_risky_actions_are_all_scoped_or_conditioned(cloudsplaining, document, category):
    flagged = set((cloudsplaining.get(category) or {}).get("findings", []))
    on_any = {
        action.lower()
        for s in document["Statement"]
        if s["Effect"] == "Allow" and s["Resource"] == "*" and "Condition" not in s
        for action in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
    }
    assert not {a.lower() for a in flagged} & on_any

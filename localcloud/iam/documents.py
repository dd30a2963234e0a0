"""Policy documents as IAM accepts them: the JSON policy grammar, and IAM's MalformedPolicyDocument messages.

IAM checks every policy document it is given (``CreateRole`` and ``UpdateAssumeRolePolicy``: a
trust policy; ``PutRolePolicy``, ``PutUserPolicy``, ``PutGroupPolicy``, ``CreatePolicy``,
``CreatePolicyVersion``: an identity policy) and refuses a malformed one with
``MalformedPolicyDocument``. moto 5.2.5 checks the identity policies but takes any text as a trust
policy (its own tests create roles with ``"some policy"``) and lets an identity policy name a
principal.

The grammar is IAM's ("Grammar of the IAM JSON policy language",
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_grammar.html): a JSON object
of an optional ``Version`` (``2008-10-17`` or ``2012-10-17``; omitted, it is ``2008-10-17``), an
optional ``Id`` and a ``Statement`` (one statement or a non-empty list); a statement holds
``Effect`` (``Allow`` | ``Deny``), an optional ``Sid``, at most one of ``Action``/``NotAction``,
``Resource``/``NotResource``, ``Principal``/``NotPrincipal``, and an optional ``Condition``.
The messages are IAM's own, as it answers them: "Syntax errors in policy.", "Statement IDs (SID)
in a single policy must be unique.", "Policy statement must contain actions.", "Policy statement
must contain resources.", "Policy document should not specify a principal.", "Has prohibited field
Resource." (a trust policy), the trust policy's actions message, and for a trust statement
without a principal "Invalid principal in policy: com.amazon.balsa.error.InvalidPolicyException:
The passed in policy has a statement with no principals!" (observed: terraform-aws-modules/
terraform-aws-iam#47).
"""

from __future__ import annotations

import json
import re
from typing import Any

IDENTITY = "identity"  # attached to a role, user or group: names actions and resources, never a principal
TRUST = "trust"  # a role's trust policy: names principals and the sts actions they may take, never a resource

SYNTAX = "Syntax errors in policy."
SID_UNIQUE = "Statement IDs (SID) in a single policy must be unique."
NO_ACTIONS = "Policy statement must contain actions."
NO_RESOURCES = "Policy statement must contain resources."
PRINCIPAL_IN_IDENTITY = "Policy document should not specify a principal."
RESOURCE_IN_TRUST = "Has prohibited field Resource."
NO_PRINCIPAL_IN_TRUST = (
    "Invalid principal in policy: com.amazon.balsa.error.InvalidPolicyException: "
    "The passed in policy has a statement with no principals!"
)
TRUST_ACTIONS = (
    "Trust Policy statement actions can only be sts:AssumeRole, sts:AssumeRoleWithSAML,  and "
    "sts:AssumeRoleWithWebIdentity"
)
NO_VENDOR = "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc."
ONE_COLON = "Actions/Condition can contain only one colon."

VERSIONS = ("2008-10-17", "2012-10-17")
TOP_ELEMENTS = frozenset({"Version", "Id", "Statement"})
STATEMENT_ELEMENTS = frozenset(
    {
        "Sid",
        "Effect",
        "Action",
        "NotAction",
        "Resource",
        "NotResource",
        "Principal",
        "NotPrincipal",
        "Condition",
    }
)
EFFECTS = ("Allow", "Deny")
# The sts actions a trust policy may name (STS's actions a role's trust governs).
TRUST_STS_ACTIONS = frozenset(
    {
        "sts:assumerole",
        "sts:assumerolewithsaml",
        "sts:assumerolewithwebidentity",
        "sts:tagsession",
        "sts:setsourceidentity",
        "sts:setcontext",
    }
)  # fmt: skip  (lower case: actions ignore case)
_VENDOR = re.compile(r"^[a-zA-Z0-9-]+$")


class MalformedPolicy(ValueError):
    """A policy document IAM refuses; the message is IAM's."""


def _strings(value: Any) -> bool:
    """True for a string or a list of strings (the grammar's <action_string> or [<action_string>, ...])."""
    return isinstance(value, str) or (isinstance(value, list) and all(isinstance(v, str) for v in value))


def _principal_syntax(value: Any) -> bool:
    """True for "*" or a map of principal type to a string or list of strings."""
    if value == "*":
        return True
    return isinstance(value, dict) and bool(value) and all(_strings(v) for v in value.values())


def _condition_syntax(value: Any) -> bool:
    """True for a map of condition operator to a map of condition key to a value or list of values."""
    return isinstance(value, dict) and all(isinstance(block, dict) for block in value.values())


def _statement_syntax(statement: Any) -> bool:
    """True when a statement follows the grammar (elements, pairs, value types)."""
    if not isinstance(statement, dict) or not set(statement) <= STATEMENT_ELEMENTS:
        return False
    for pair in (("Action", "NotAction"), ("Resource", "NotResource"), ("Principal", "NotPrincipal")):
        if pair[0] in statement and pair[1] in statement:
            return False
    checks = [
        statement.get("Effect") in EFFECTS,
        all(
            _strings(statement[k])
            for k in ("Action", "NotAction", "Resource", "NotResource")
            if k in statement
        ),
        all(_principal_syntax(statement[k]) for k in ("Principal", "NotPrincipal") if k in statement),
        "Condition" not in statement or _condition_syntax(statement["Condition"]),
        "Sid" not in statement or isinstance(statement["Sid"], str),
    ]
    return all(checks)


def statements(document: Any) -> list[dict[str, Any]]:
    """The statements of a policy document (text or parsed); raise MalformedPolicy(SYNTAX) unless it follows
    the grammar."""
    try:
        policy = json.loads(document) if isinstance(document, str | bytes) else document
    except ValueError:
        raise MalformedPolicy(SYNTAX) from None
    if not isinstance(policy, dict) or not set(policy) <= TOP_ELEMENTS:
        raise MalformedPolicy(SYNTAX)
    if "Version" in policy and policy["Version"] not in VERSIONS:
        raise MalformedPolicy(SYNTAX)
    if "Id" in policy and not isinstance(policy["Id"], str):
        raise MalformedPolicy(SYNTAX)
    found = policy.get("Statement")
    listed = [found] if isinstance(found, dict) else found
    if not isinstance(listed, list) or not listed or not all(_statement_syntax(s) for s in listed):
        raise MalformedPolicy(SYNTAX)
    return listed


def _actions(statement: dict[str, Any]) -> list[str]:
    """The actions (or not-actions) a statement names."""
    value = statement.get("Action", statement.get("NotAction", []))
    return [value] if isinstance(value, str) else list(value)


def _action_problem(action: str) -> str | None:
    """IAM's message for an action not written vendor:action, or None."""
    if action == "*":
        return None
    parts = action.split(":")
    if len(parts) == 1:
        return NO_VENDOR
    if len(parts) > 2:
        return ONE_COLON
    if not _VENDOR.match(parts[0]):
        return f"Vendor {parts[0]} is not valid"
    return None


def problem(document: Any, kind: str) -> str | None:
    """IAM's MalformedPolicyDocument message for document as a policy of kind (IDENTITY or TRUST), or None."""
    try:
        listed = statements(document)
    except MalformedPolicy as malformed:
        return str(malformed)
    sids = [s["Sid"] for s in listed if s.get("Sid")]
    if len(sids) != len(set(sids)):
        return SID_UNIQUE
    for statement in listed:
        names_principal = "Principal" in statement or "NotPrincipal" in statement
        if kind == IDENTITY and names_principal:
            return PRINCIPAL_IN_IDENTITY
        if kind == TRUST and not names_principal:
            return NO_PRINCIPAL_IN_TRUST
        if "Action" not in statement and "NotAction" not in statement:
            return NO_ACTIONS
        names_resource = "Resource" in statement or "NotResource" in statement
        if kind == IDENTITY and not names_resource:
            return NO_RESOURCES
        if kind == TRUST and names_resource:
            return RESOURCE_IN_TRUST
        for action in _actions(statement):
            found = _action_problem(action)
            if found:
                return found
            if kind == TRUST and action.lower() not in TRUST_STS_ACTIONS:
                return TRUST_ACTIONS
    return None


def check(document: Any, kind: str) -> None:
    """Raise MalformedPolicy with IAM's message unless document is a valid policy of kind."""
    found = problem(document, kind)
    if found:
        raise MalformedPolicy(found)

"""IAM's authorization of one request: who asks, what the request carries, which checks IAM makes. No moto.

``localcloud/iam/hooks.py`` looks the identity up in moto's IAM and STS and hands it in as ``Identity``
(its policies, its permissions boundary, its tags and source identity); this module works out the
condition keys the request supplies (``context``) and every check IAM makes (``checks``: each action
``kitformats.iam_actions`` names for the operation, on the resources it acts on; ``iam:PassRole`` on
the role handed to a service), and decides them with ``localcloud/iam/policy.py``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any
from urllib.parse import parse_qsl

from kitformats import iam_actions
from kitformats.iam_actions import Operation
from localcloud.iam import policy as iam_policy
from localcloud.iam.policy import Decision, Denial, Resource

# Services whose identity-policy refusals travel as query-protocol XML.
XML_SERVICES = {"sns", "iam", "sts", "cloudformation"}
# IAM role actions whose iam:PermissionsBoundary is the one named in the request, not the role's current one.
BOUNDARY_IN_REQUEST = {"iam:CreateRole", "iam:PutRolePermissionsBoundary"}
ALWAYS_ALLOWED = {"sts:GetCallerIdentity"}  # IAM cannot deny it (AWS STS API reference)


@dataclass(frozen=True)
class Identity:
    """Who signed a request, as IAM knows them."""

    kind: str  # "role" (an assumed-role session) or "user"
    name: str  # the role's or user's name
    arn: str  # arn:aws:sts::A:assumed-role/ROLE/SESSION or arn:aws:iam::A:user/NAME
    account: str
    principal_arn: str = ""  # the role's ARN for a session, the user's for a user
    unique_id: str = ""  # AIDA... for a user; AROA...:session for a session
    tags: Mapping[str, str] = field(default_factory=dict)
    source_identity: str = ""
    boundary: tuple[Any, ...] | None = None  # the boundary policy's document, None without one

    def context(self) -> dict[str, list[str]]:
        """The global condition keys the principal supplies (IAM's "AWS global condition context keys")."""
        found: dict[str, list[str]] = {
            "aws:principalarn": [self.principal_arn or self.arn],
            "aws:principalaccount": [self.account],
            "aws:principaltype": ["User" if self.kind == "user" else "AssumedRole"],
        }
        if self.unique_id:
            found["aws:userid"] = [self.unique_id]
        if self.kind == "user":
            found["aws:username"] = [self.name]  # IAM users only
        if self.source_identity:
            found["aws:sourceidentity"] = [self.source_identity]
        for key, value in self.tags.items():
            found[f"aws:principaltag/{key.lower()}"] = [value]
        return found


@dataclass(frozen=True)
class Check:
    """One authorization IAM makes for a request: action on resource, with the request's condition keys."""

    action: str
    resource: Resource
    context: Mapping[str, list[str]]


# ---------------------------------------------------------------------------------------------
# What the request supplies


def request_tags(params: Mapping[str, Any], headers: Mapping[str, Any]) -> dict[str, str]:
    """The tags a request sends: JSON lists or maps (``Tags``/``tags``), query ``Tags.member.N``, S3's header."""
    found: dict[str, str] = {}
    for name in ("Tags", "tags"):
        value = params.get(name)
        if isinstance(value, list):
            found.update(
                {str(t.get("Key")): str(t.get("Value", "")) for t in value if isinstance(t, Mapping)}
            )
        elif isinstance(value, Mapping):
            found.update({str(k): str(v) for k, v in value.items()})
    keys = {k: v for k, v in params.items() if k.startswith("Tags.member.")}
    for k, v in keys.items():
        if k.endswith(".Key"):
            found[str(v if not isinstance(v, list) else v[0])] = _first(keys.get(k[:-4] + ".Value", ""))
    header = headers.get("x-amz-tagging") or headers.get("X-Amz-Tagging")
    if header:
        found.update(dict(parse_qsl(str(header), keep_blank_values=True)))
    return found


def _first(value: Any) -> str:
    return str(value[0] if isinstance(value, list) and value else value)


def request_context(
    action: str,
    params: Mapping[str, Any],
    headers: Mapping[str, Any],
    role_boundary: str | None,
    operation: str = "",
) -> dict[str, list[str]]:
    """The condition keys the request itself supplies: tags sent, the boundary and managed policy named.

    iam:PermissionsBoundary (for the actions whose SAR entry lists it) is the boundary the request names for
    CreateRole and PutRolePermissionsBoundary, else the role's current one.
    """
    found: dict[str, list[str]] = {}
    tags = request_tags(params, headers)
    if tags:
        found["aws:tagkeys"] = sorted(tags)
        for key, value in tags.items():
            found[f"aws:requesttag/{key.lower()}"] = [value]
    keys = iam_actions.condition_keys(action) if action.startswith("iam:") else frozenset()
    if "iam:permissionsboundary" in keys:  # only where the SAR lists the key (not for iam:TagRole)
        in_request = action in BOUNDARY_IN_REQUEST or operation in BOUNDARY_IN_REQUEST
        boundary = _first(params.get("PermissionsBoundary", "")) if in_request else role_boundary
        if boundary:
            found["iam:permissionsboundary"] = [boundary]
    policy_arn = params.get("PolicyArn")
    if policy_arn and "iam:policyarn" in keys:
        found["iam:policyarn"] = [_first(policy_arn)]
    return found


def checks(
    who: Identity,
    operation: Operation,
    params: Mapping[str, Any],
    headers: Mapping[str, Any],
    resources: list[Resource],
    role_boundary: str | None,
) -> list[Check]:
    """Every check IAM makes for the request: each action on each resource, and iam:PassRole on a passed role."""
    needed = iam_actions.actions(operation)
    base = who.context()
    found: list[Check] = []
    for action in needed:
        if action in ALWAYS_ALLOWED:
            continue
        context = {**base, **request_context(action, params, headers, role_boundary, operation.key)}
        if action == "iam:PassRole":
            member, service = iam_actions.PASSES_ROLE[operation.key]
            role = params.get(member)
            if isinstance(role, str) and role:
                found.append(Check(action, (role,), {**base, "iam:passedtoservice": [service]}))
            continue
        found += [Check(action, resource, context) for resource in resources]
    return found


def decide(docs: list[Any], boundary: tuple[Any, ...] | None, check: Check) -> tuple[Decision, bool]:
    """(decision, refused by the boundary) for one check, skipping documents that are not valid JSON."""
    return iam_policy.evaluate_bounded(
        _parsed(docs),
        None if boundary is None else _parsed(list(boundary)),
        check.action,
        check.resource,
        check.context,
    )


def _parsed(docs: list[Any]) -> list[Any]:
    found = []
    for doc in docs:
        try:
            found.append(json.loads(doc) if isinstance(doc, str) else doc)
        except ValueError:
            continue
    return found


def first_refusal(who: Identity, docs: list[Any], found: list[Check], service: str) -> Denial | None:
    """The denial of the first check IAM refuses, in the service's words; None when all pass."""
    for check in found:
        decision, by_boundary = decide(docs, who.boundary, check)
        if decision is not Decision.ALLOWED:
            return iam_policy.denial(
                who.arn, check.action, check.resource, decision, service=service, boundary=by_boundary
            )
    return None


# ---------------------------------------------------------------------------------------------
# The refusal, as the service answers it


@cache
def _refusal_class() -> Callable[..., Exception]:
    """The exception class of refusals (werkzeug is imported on first use only)."""
    from werkzeug.exceptions import HTTPException

    class Refusal(HTTPException):
        """A refused request, answered with the service's code, status and body format."""

        def __init__(self, code: str, status: int, message: str, xml: bool, s3: bool = False) -> None:
            super().__init__()
            self.code = status
            self.error_code = code
            self.message = message
            if s3:
                self.description = (
                    f"<?xml version='1.0' encoding='UTF-8'?><Error><Code>{code}</Code>"
                    f"<Message>{_xml(message)}</Message><RequestId/><HostId/></Error>"
                )
            elif xml:
                self.description = (
                    f"<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code>"
                    f"<Message>{_xml(message)}</Message></Error><RequestId/></ErrorResponse>"
                )
            else:
                self.description = json.dumps({"__type": code, "message": message})
            self.content_type = "text/xml" if xml or s3 else "application/x-amz-json-1.0"

        def get_headers(self, *args: Any, **kwargs: Any) -> list[tuple[str, str]]:
            return [("Content-Type", self.content_type), ("x-amzn-ErrorType", self.error_code)]

        def get_body(self, *args: Any, **kwargs: Any) -> str:
            return self.description or ""

    return Refusal


def _xml(text: str) -> str:
    """Text escaped for an XML element."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def refuse(code: str, status: int, message: str, service: str, json_request: bool = True) -> Exception:
    """The exception that makes moto answer code/status/message in service's wire format."""
    xml = service in XML_SERVICES or (service in ("cloudwatch", "sqs") and not json_request)
    return _refusal_class()(code, status, message, xml, s3=service == "s3")

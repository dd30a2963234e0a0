"""IAM enforced where AWS enforces it: a Lambda runs as its role, and a role or user may do only what its policies allow.

moto's own switch (``INITIAL_NO_AUTH_ACTION_COUNT``) enforces for every caller or none and
matches every statement against ``*``. This hook replaces
``ActionAuthenticatorMixin._authenticate_and_authorize_action`` (every request passes it: from
``BaseResponse.call_action``, and S3's own authorization) with a narrower rule:

- a call signed with credentials IAM knows — an assumed-role session (the Lambda runtime's
  ``ASIA...`` keys from ``role_credentials``) or an IAM user's access key — is authorized against
  that identity's inline and attached policies, on the ARN of the resource the call names
  (``iam_policy.resource_arns``), and refused in the service's own words (``iam_policy.denial``);
  calls that pass a role to a service (``CreateFunction``, ``CreateModel``) also need
  ``iam:PassRole`` on it;
- any other caller (the kit's dummy ``testing`` keys, an unsigned request) is the attendee's
  administrator: allowed, as before.

It also makes the checks the services themselves make with a role, for every caller:
``CreateModel`` needs a role SageMaker may assume that may read ``ModelDataUrl``
(``CreateFunction``/``UpdateFunctionConfiguration``'s role, after Lambda's own request validation:
localcloud/awslambda/hooks.py, with ``lambda_can_assume``).

Under the ``aws`` profile IAM changes propagate: a new role (or a changed trust policy) cannot be
used by Lambda or SageMaker for ``profile.delay("iam_propagation", "role/<name>")``, and after a
policy change of a role or user the identity keeps being judged by its policies as they were
before the change until ``iam_propagation`` for ``"<role|user>/<name>/policies"`` has passed:
new permissions are not yet allowed, removed ones are briefly still allowed (as AWS may).
Signatures are not verified: a known access key is trusted as the identity it belongs to.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

from localcloud import patching, profile
from localcloud.calls import log as call_log
from localcloud.iam import policy as iam_policy
from localcloud.iam.policy import ANY, Decision, Resource

PARTITION = "aws"
# Services whose identity-policy refusals travel as query-protocol XML.
XML_SERVICES = {"sns", "iam", "sts"}
# Actions that hand a role to a service: (parameter naming the role, the service it is passed to).
PASSES_ROLE = {
    "lambda:CreateFunction": ("Role", "lambda.amazonaws.com"),
    "lambda:UpdateFunctionConfiguration": ("Role", "lambda.amazonaws.com"),
    "sagemaker:CreateModel": ("ExecutionRoleArn", "sagemaker.amazonaws.com"),
}
# Actions whose body is the caller's payload, not request parameters.
PAYLOAD_ACTIONS = {"lambda:InvokeFunction", "sagemaker:InvokeEndpoint", "sagemaker:InvokeEndpointAsync"}
LAMBDA_ROLE_MESSAGE = "The role defined for the function cannot be assumed by Lambda."
MODEL_DATA_MESSAGE = (
    'Could not access model data at {url}. Please ensure that the role "{role}" exists and that its trust '
    'relationship policy allows the action "sts:AssumeRole" for the service principal "sagemaker.amazonaws.com". '
    'Also ensure that the role has "s3:GetObject" permissions and that the object is located in {region}.'
)

_lock = threading.Lock()
# (account, "role"|"user", name) -> (policy documents IAM still judges by, epoch second the change propagates)
_pending: dict[tuple[str, str, str], tuple[list[Any], float]] = {}
_installed = False


@dataclass(frozen=True)
class Identity:
    """Who signed a request, as IAM knows them."""

    kind: str  # "role" (an assumed-role session) or "user"
    name: str  # the role's or user's name
    arn: str  # arn:aws:sts::A:assumed-role/ROLE/SESSION or arn:aws:iam::A:user/NAME
    account: str


# ---------------------------------------------------------------------------------------------
# Errors


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


# ---------------------------------------------------------------------------------------------
# Identities and their policies


def identity(account: str, access_key_id: str) -> Identity | None:
    """The role session or IAM user an access key belongs to; None for keys IAM does not know."""
    from moto.iam.models import iam_backends
    from moto.sts.models import sts_backends

    if not access_key_id:
        return None
    if access_key_id.startswith("ASIA"):
        for session in reversed(list(sts_backends[account][PARTITION].assumed_roles)):
            if session.access_key_id == access_key_id:
                return Identity("role", session.role_arn.rsplit("/", 1)[-1], session.arn, account)
        return None
    user = iam_backends[account][PARTITION].get_user_from_access_key_id(access_key_id)
    if user is None:
        return None
    return Identity("user", user.name, user.arn, account)


def _default_document(policy: Any) -> Any:
    """The default version's document of a managed policy."""
    for version in policy.versions:
        if version.is_default:
            return version.document
    return "{}"


def documents(account: str, kind: str, name: str) -> list[Any]:
    """The identity policies of a role or user now: inline and attached (a user's groups' too)."""
    from moto.iam.models import iam_backends

    backend = iam_backends[account][PARTITION]
    owners: list[Any] = []
    try:
        if kind == "role":
            owners.append(backend.get_role(name))
        else:
            owners.append(backend.get_user(name))
            owners += backend.get_groups_for_user(name)
    except Exception:  # deleted meanwhile: no policies
        return []
    found: list[Any] = []
    for owner in owners:
        found += list(getattr(owner, "policies", {}).values())
        found += [_default_document(p) for p in getattr(owner, "managed_policies", {}).values()]
    return found


def visible_documents(account: str, kind: str, name: str) -> list[Any]:
    """The policies IAM judges the identity by: as before its last change until that change propagates."""
    with _lock:
        entry = _pending.get((account, kind, name))
    if entry is not None and entry[1] > time.time():
        return entry[0]
    return documents(account, kind, name)


def decide(
    docs: list[Any], action: str, resource: Resource, context: dict[str, Any] | None = None
) -> Decision:
    """iam_policy.evaluate, skipping documents that are not valid JSON (IAM refuses them on input anyway)."""
    parsed = []
    for doc in docs:
        try:
            parsed.append(json.loads(doc) if isinstance(doc, str) else doc)
        except ValueError:
            continue
    return iam_policy.evaluate(parsed, action, resource, context)


# ---------------------------------------------------------------------------------------------
# Propagation (aws profile)


def _policies_changing(account: str, kind: str, name: str) -> None:
    """Before a policy change: keep judging by the current policies until the change propagates."""
    current = profile.current()
    if not current.aws:
        return
    key = (account, kind, name)
    with _lock:
        entry = _pending.get(key)
    before = entry[0] if entry is not None and entry[1] > time.time() else documents(account, kind, name)
    until = current.start("iam_propagation", f"{kind}/{name}/policies")
    with _lock:
        _pending[key] = (before, until)


def _role_changed(name: str) -> None:
    """A role was created or its trust changed: services cannot assume it until that propagates."""
    if profile.current().aws:
        profile.current().start("iam_propagation", f"role/{name}")


def _forget(account: str, kind: str, name: str) -> None:
    """An identity was deleted: a new one of that name starts afresh."""
    with _lock:
        _pending.pop((account, kind, name), None)
    for key in (f"{kind}/{name}", f"{kind}/{name}/policies"):
        profile.current().forget("iam_propagation", key)


def role_propagating(name: str) -> bool:
    """True while a new role (or its new trust policy) is not yet usable by AWS services."""
    return profile.current().remaining("iam_propagation", f"role/{name}") > 0


def _on_policy_change(kind: str, params: list[str]) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """A hook maker: note the identity's policies before moto changes them."""

    def make(original: Callable[..., Any]) -> Callable[..., Any]:
        def changed(self: Any, *args: Any, **kwargs: Any) -> Any:
            bound = dict(zip(params[1:], args, strict=False), **kwargs)
            _policies_changing(self.account_id, kind, bound[f"{kind}_name"])
            return original(self, *args, **kwargs)

        return changed

    return make


PARAMS = {
    "put_role_policy": ["self", "role_name", "policy_name", "policy_json"],
    "delete_role_policy": ["self", "role_name", "policy_name"],
    "attach_role_policy": ["self", "policy_arn", "role_name"],
    "detach_role_policy": ["self", "policy_arn", "role_name"],
    "put_user_policy": ["self", "user_name", "policy_name", "policy_json"],
    "delete_user_policy": ["self", "user_name", "policy_name"],
    "attach_user_policy": ["self", "policy_arn", "user_name"],
    "detach_user_policy": ["self", "policy_arn", "user_name"],
    "add_user_to_group": ["self", "group_name", "user_name"],
    "remove_user_from_group": ["self", "group_name", "user_name"],
}


def _install_propagation() -> None:
    """Hook IAM's changes so the aws profile can delay them."""
    from moto.iam.models import IAMBackend

    for name, params in PARAMS.items():
        kind = "role" if "role_name" in params else "user"
        patching.patch(IAMBackend, name, params, _on_policy_change(kind, params))

    def create_role(original: Callable[..., Any]) -> Callable[..., Any]:
        def create(self: Any, role_name: str, *args: Any, **kwargs: Any) -> Any:
            role = original(self, role_name, *args, **kwargs)
            _forget(self.account_id, "role", role_name)
            _role_changed(role_name)
            return role

        return create

    def update_trust(original: Callable[..., Any]) -> Callable[..., Any]:
        def update(self: Any, role_name: str, policy_document: str) -> None:
            original(self, role_name, policy_document)
            _role_changed(role_name)

        return update

    def deleting(kind: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        def make(original: Callable[..., Any]) -> Callable[..., Any]:
            def delete(self: Any, name: str) -> None:
                original(self, name)
                _forget(self.account_id, kind, name)

            return delete

        return make

    patching.patch(
        IAMBackend,
        "create_role",
        ["self", "role_name", "assume_role_policy_document"],
        create_role,
        prefix=True,
    )
    patching.patch(
        IAMBackend, "update_assume_role_policy", ["self", "role_name", "policy_document"], update_trust
    )
    patching.patch(IAMBackend, "delete_role", ["self", "role_name"], deleting("role"))
    patching.patch(IAMBackend, "delete_user", ["self", "user_name"], deleting("user"))


# ---------------------------------------------------------------------------------------------
# The request


def access_key_of(headers: Any) -> str:
    """The access key id a SigV4 Authorization header names ('' when unsigned)."""
    auth = headers.get("Authorization") or headers.get("authorization") or ""
    return auth.partition("Credential=")[2].partition("/")[0].strip()


def operation(response: Any) -> str:
    """The API operation a moto response object is serving (S3 keeps it in data['Action'])."""
    if (response.service_name or "") == "s3":
        found = (getattr(response, "data", None) or {}).get("Action")
        return (found[0] if isinstance(found, list) else found) or ""
    return response._get_action() or ""


def iam_action(response: Any) -> str:
    """The IAM action the request needs (``lambda:InvokeFunction`` for ``Invoke``)."""
    return call_log.iam_action(response.service_name or "", operation(response))


def request_params(response: Any, action: str = "") -> dict[str, Any]:
    """The request's parameters: query string or form, JSON body, and path parameters (which win)."""
    params: dict[str, Any] = {}
    if action.startswith("s3:"):  # S3's resource comes from moto; its body is an object
        return params
    for key, value in (getattr(response, "querystring", None) or {}).items():
        params[key] = value[0] if isinstance(value, list) and len(value) == 1 else value
    if action not in PAYLOAD_ACTIONS:  # a payload's keys are the caller's data, not parameters
        for parsed in (getattr(response, "params", None), getattr(response, "body", None), _json(response)):
            if isinstance(parsed, dict):  # moto's parsed parameters (DynamoDB keeps them in body)
                params.update(parsed)
    params.update(getattr(response, "uri_match", None) or {})
    return params


def _json(response: Any) -> Any:
    """The raw body parsed as JSON, when it is a JSON object."""
    raw = getattr(response, "raw_body", None)
    if isinstance(raw, bytes):
        if not raw.lstrip().startswith(b"{"):
            return None
        raw = raw.decode("utf-8", errors="replace")
    if not isinstance(raw, str) or not raw.lstrip().startswith("{"):
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return None


def _is_json(response: Any) -> bool:
    """True when the request came in a JSON protocol (so the refusal goes back as JSON)."""
    headers = response.headers
    return bool(headers.get("X-Amz-Target") or "json" in (headers.get("Content-Type") or "").lower())


def resources(response: Any, action: str, params: dict[str, Any], s3_resource: str) -> list[Resource]:
    """The resources the call acts on (S3: the ARN moto worked out; a bucketless call acts on '*')."""
    if action.startswith("s3:"):
        bucketless = s3_resource.endswith(":::*") or s3_resource == "*"
        return [ANY if bucketless else (s3_resource,)]
    return iam_policy.resource_arns(action, params, response.region, response.current_account)


def authorize(response: Any, who: Identity, action: str, params: dict[str, Any], s3_resource: str) -> None:
    """Raise the service's refusal unless who's policies allow action on every resource it names."""
    if action == "sts:GetCallerIdentity":  # always allowed, whatever the policies say
        return
    docs = visible_documents(who.account, who.kind, who.name)
    service = action.partition(":")[0]
    checks: list[tuple[str, Resource, dict[str, list[str]] | None]] = [
        (action, r, None) for r in resources(response, action, params, s3_resource)
    ]
    passed = PASSES_ROLE.get(action)
    if passed and isinstance(params.get(passed[0]), str):
        checks.append(("iam:PassRole", (params[passed[0]],), {"iam:PassedToService": [passed[1]]}))
    for needed, resource, context in checks:
        decision = decide(docs, needed, resource, context)
        if decision is not Decision.ALLOWED:
            refused = iam_policy.denial(who.arn, needed, resource, decision, service=service)
            raise refuse(refused.code, refused.status, refused.message, service, _is_json(response))


# ---------------------------------------------------------------------------------------------
# What the services check themselves


def partition_of(arn: str) -> str:
    """The partition an ARN names (arn:aws-cn:iam::... -> aws-cn); the aws partition for anything else."""
    parts = arn.split(":")
    return parts[1] if len(parts) > 1 and parts[0] == "arn" and parts[1] else PARTITION


def _role(account: str, arn: str) -> Any:
    """The IAM role an ARN names, in the ARN's partition (IAM keeps one per partition), or None."""
    from moto.iam.models import iam_backends

    try:
        return iam_backends[account][partition_of(arn)].get_role_by_arn(arn)
    except Exception:
        return None


def lambda_can_assume(account: str, role_arn: str) -> bool:
    """True when the role exists, trusts lambda.amazonaws.com, and (aws profile) has propagated."""
    role = _role(account, role_arn)
    return (
        role is not None
        and iam_policy.trusts(role.assume_role_policy_document, "lambda.amazonaws.com")
        and not role_propagating(role.name)
    )


def model_data_readable(account: str, role_arn: str, urls: list[str]) -> str | None:
    """The first ModelDataUrl SageMaker could not read with the role (None when all are readable)."""
    role = _role(account, role_arn)
    usable = (
        role is not None
        and iam_policy.trusts(role.assume_role_policy_document, "sagemaker.amazonaws.com")
        and not role_propagating(role.name)
    )
    docs = visible_documents(account, "role", role.name) if usable else []
    for url in urls:
        bucket_key = url.removeprefix("s3://")
        if (
            not usable
            or decide(docs, "s3:GetObject", (f"arn:aws:s3:::{bucket_key}",)) is not Decision.ALLOWED
        ):
            return url
    return None


def role_allows(account: str, role_arn: str, action: str, resource: Resource) -> bool:
    """True when a service acting as the role (SageMaker writing an endpoint's logs, say) may do action on resource."""
    role = _role(account, role_arn)
    if role is None:
        return False
    return decide(visible_documents(account, "role", role.name), action, resource) is Decision.ALLOWED


def service_checks(response: Any, action: str, params: dict[str, Any]) -> None:
    """The checks Lambda and SageMaker make with a role before they accept it (any caller)."""
    account = response.current_account
    # Lambda checks its role after its own request validation: localcloud/awslambda/hooks.py.
    if action == "sagemaker:CreateModel":
        role = params.get("ExecutionRoleArn")
        containers = [params.get("PrimaryContainer") or {}] + list(params.get("Containers") or [])
        urls = [
            c["ModelDataUrl"]
            for c in containers
            if isinstance(c, dict) and isinstance(c.get("ModelDataUrl"), str)
        ]
        if isinstance(role, str) and urls:
            failed = model_data_readable(account, role, urls)
            if failed:
                message = MODEL_DATA_MESSAGE.format(url=failed, role=role, region=response.region)
                raise refuse("ValidationException", 400, message, "sagemaker")


def _authenticate_and_authorize_action(self: Any, iam_request_cls: type, resource: str = "*") -> None:
    """IAM for a request: enforced for role sessions and IAM users, then the services' own role checks."""
    action = iam_action(self)
    if not action or action.endswith(":"):
        return
    params = request_params(self, action)
    who = identity(self.current_account, access_key_of(self.headers))
    if who is not None:
        authorize(self, who, action, params, resource)
    service_checks(self, action, params)


# ---------------------------------------------------------------------------------------------
# The Lambda runtime's credentials, and the call log's resources


def role_credentials(fn: Any) -> dict[str, str]:
    """Temporary credentials of the function's execution role (session name = function name), as Lambda sets them."""
    from moto.sts.models import sts_backends

    session = sts_backends[fn.account_id][PARTITION].assume_role(
        region_name=fn.region,
        role_session_name=fn.function_name[:64],
        role_arn=fn.role,
        # moto's hints say str; its own AssumeRole passes None
        policy=None,  # type: ignore[arg-type]
        duration=43200,
        external_id=None,  # type: ignore[arg-type]
    )
    return {
        "AWS_ACCESS_KEY_ID": session.access_key_id,
        "AWS_SECRET_ACCESS_KEY": session.secret_access_key,
        "AWS_SESSION_TOKEN": session.session_token,
    }


def _resolve_resource(response: Any, action: str) -> str | None:
    """The call log's resolver: the first ARN the request acts on (None for '*')."""
    found = iam_policy.resource_arns(
        action, request_params(response, action), response.region, response.current_account
    )
    return None if found[0] == ANY else found[0][0]


def install() -> None:
    """Enforce IAM for role sessions and IAM users; model the services' role checks and IAM propagation."""
    global _installed
    if _installed:
        return
    from moto.core.authorization import ActionAuthenticatorMixin

    patching.patch(
        ActionAuthenticatorMixin,
        "_authenticate_and_authorize_action",
        ["self", "iam_request_cls", "resource"],
        lambda original: _authenticate_and_authorize_action,
    )
    _install_propagation()
    call_log.add_resolver(_resolve_resource)
    _installed = True

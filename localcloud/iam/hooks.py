"""IAM enforced where AWS enforces it, hooked into moto: a Lambda runs as its role, and a role or user may do
only what its policies and permissions boundary allow. Written against moto 5.2.5.

moto's own switch (``INITIAL_NO_AUTH_ACTION_COUNT``) enforces for every caller or none and
matches every statement against ``*``. This hook replaces
``ActionAuthenticatorMixin._authenticate_and_authorize_action`` (every request passes it: from
``BaseResponse.call_action``, and S3's own authorization) with a narrower rule:

- a call signed with credentials IAM knows — an assumed-role session (the Lambda runtime's
  ``ASIA...`` keys from ``role_credentials``, or an STS ``AssumeRole``, its ``SourceIdentity`` kept) or
  an IAM user's access key — is authorized against that identity's inline and attached policies and
  its permissions boundary, for every action the botocore operation needs
  (``kitformats.iam_actions``, the operation from ``localcloud/calls/hooks.py``) on the ARN of the
  resource the call names, with the condition keys the request supplies
  (``localcloud/iam/authorization.py``), and refused in the service's own words;
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

Policy documents (documents.py): every call that stores a policy document first checks it as IAM does
and answers ``MalformedPolicyDocument`` with IAM's message: ``create_role`` and
``update_assume_role_policy`` a trust policy; ``put_role_policy``, ``put_user_policy``,
``put_group_policy``, ``create_policy`` and ``create_policy_version`` an identity policy (moto's own
checks of those still follow).

AWS managed policies (managed_policies.py), built one at a time when first named:

- ``_init_aws_policies`` builds none when an account's IAM is made (moto built all ~1,600, seconds of
  work on the first signed request of a fresh local cloud);
- ``_init_managed_policies`` gives the backend an ``AccountPolicies`` mapping, which builds an AWS
  managed policy from moto's catalogue when its ARN is first looked up (GetPolicy, GetPolicyVersion, ...);
- the attach and detach actions, which search the mapping's values, look the ARN up first;
- ``list_policies`` and ``get_account_authorization_details``, which enumerate them, build them all
  first, so a listing answers as AWS does.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote, urlparse

from moto.cloudformation.models import cloudformation_backends
from moto.iam.aws_managed_policies import aws_managed_policies_data
from moto.iam.models import AWSManagedPolicy, IAMBackend, ManagedPolicy

from kitformats import iam_actions
from kitformats.iam_actions import Operation
from localcloud import patching, profile
from localcloud.calls import hooks as calls_hooks
from localcloud.iam import authorization, managed_policies
from localcloud.iam import documents as policy_documents
from localcloud.iam import policy as iam_policy
from localcloud.iam.authorization import Identity, refuse
from localcloud.iam.policy import ANY, Decision, Resource

PARTITION = "aws"
# Actions whose body is the caller's payload, not request parameters.
PAYLOAD_ACTIONS = {"lambda:InvokeFunction", "sagemaker:InvokeEndpoint", "sagemaker:InvokeEndpointAsync"}
LAMBDA_ROLE_MESSAGE = "The role defined for the function cannot be assumed by Lambda."
MODEL_DATA_MESSAGE = (
    'Could not access model data at {url}. Please ensure that the role "{role}" exists and that its trust '
    'relationship policy allows the action "sts:AssumeRole" for the service principal "sagemaker.amazonaws.com". '
    'Also ensure that the role has "s3:GetObject" permissions and that the object is located in {region}.'
)

_lock = threading.Lock()
_source_identities: dict[str, str] = {}  # session access key -> the SourceIdentity set at AssumeRole
# (account, "role"|"user", name) -> (policy documents IAM still judges by, epoch second the change propagates)
_pending: dict[tuple[str, str, str], tuple[list[Any], float]] = {}
_installed = False


# ---------------------------------------------------------------------------------------------
# Identities and their policies


def identity(account: str, access_key_id: str) -> Identity | None:
    """The role session or IAM user an access key belongs to, with tags and boundary; None for keys IAM does not know."""
    from moto.iam.models import iam_backends
    from moto.sts.models import sts_backends

    if not access_key_id:
        return None
    backend = iam_backends[account][PARTITION]
    if access_key_id.startswith("ASIA"):
        for session in reversed(list(sts_backends[account][PARTITION].assumed_roles)):
            if session.access_key_id == access_key_id:
                name = session.role_arn.rsplit("/", 1)[-1]
                role = _role(account, session.role_arn)
                return Identity(
                    "role",
                    name,
                    session.arn,
                    account,
                    principal_arn=session.role_arn,
                    unique_id=f"{getattr(role, 'id', '')}:{session.session_name}",
                    tags=_tags(backend, "role", name),
                    source_identity=_source_identities.get(access_key_id, ""),
                    boundary=_boundary(account, getattr(role, "permissions_boundary_arn", None)),
                )
        return None
    user = backend.get_user_from_access_key_id(access_key_id)
    if user is None:
        return None
    return Identity(
        "user",
        user.name,
        user.arn,
        account,
        principal_arn=user.arn,
        unique_id=str(getattr(user, "id", "")),
        tags=_tags(backend, "user", user.name),
        boundary=_boundary(account, getattr(user, "permissions_boundary_arn", None)),
    )


def _tags(backend: Any, kind: str, name: str) -> dict[str, str]:
    """A role's or user's tags (the principal tags of its sessions or requests)."""
    try:
        if kind == "role":
            listed = backend.list_role_tags(name, None, 1000)[0]
        else:
            listed = backend.list_user_tags(name)
    except Exception:
        return {}
    return {t["Key"]: t["Value"] for t in listed}


def _boundary(account: str, arn: str | None) -> tuple[Any, ...] | None:
    """The permissions boundary's document, () when the policy is gone (nothing allowed), None without one."""
    if not arn:
        return None
    from moto.iam.models import iam_backends

    try:
        found = iam_backends[account][PARTITION].get_policy(arn)
    except Exception:
        return ()
    return (_default_document(found),)


def role_boundary(account: str, role_name: str) -> str | None:
    """The ARN of a role's permissions boundary (None without one, or without the role)."""
    from moto.iam.models import iam_backends

    try:
        arn = iam_backends[account][PARTITION].get_role(role_name).permissions_boundary_arn
    except Exception:
        return None
    return str(arn) if arn else None


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
    check = authorization.Check(action, resource, {k: list(v) for k, v in (context or {}).items()})
    return authorization.decide(docs, None, check)[0]


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
    return role_usable_in(name) > 0


def role_usable_in(name: str) -> float:
    """Seconds until a new role (or its new trust policy) is usable by AWS services (0 when it is)."""
    return profile.current().remaining("iam_propagation", f"role/{name}")


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
    if action.startswith("apigateway:"):  # API Gateway authorizes on the request's path
        params[iam_policy.REQUEST_PATH] = getattr(response, "path", "") or ""
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


def resources(
    response: Any, op: Operation, action: str, params: dict[str, Any], s3_resource: str
) -> list[Resource]:
    """The resources the call acts on (S3: the ARN moto worked out; API Gateway: its path; else by parameters)."""
    if action.startswith("s3:"):
        bucketless = s3_resource.endswith(":::*") or s3_resource == "*"
        return [ANY if bucketless else (s3_resource,)]
    if action.startswith("apigateway:"):
        path = unquote(urlparse(getattr(response, "uri", "") or "").path or "/")
        return [(f"arn:aws:apigateway:{response.region}::{path}",)]
    if action.startswith("cloudformation:"):
        params = _with_change_set_stack(params, response.current_account, response.region)
    return iam_policy.resource_arns(
        f"{action.partition(':')[0]}:{op.name}", params, response.region, response.current_account
    )


def _with_change_set_stack(params: dict[str, Any], account: str, region: str) -> dict[str, Any]:
    """params with StackName set from the change set a change-set ARN names (IAM authorizes on its stack)."""
    name = params.get("ChangeSetName")
    if params.get("StackName") or not isinstance(name, str) or not name.startswith("arn:"):
        return params
    change_set = cloudformation_backends[account][region].change_sets.get(name)
    return {**params, "StackName": change_set.stack_id} if change_set is not None else params


def authorize(response: Any, who: Identity, op: Operation, params: dict[str, Any], s3_resource: str) -> None:
    """Raise the service's refusal unless who's policies and boundary allow every check the request needs."""
    primary = iam_actions.primary(op)
    docs = visible_documents(who.account, who.kind, who.name)
    role_name = params.get("RoleName") if primary.startswith("iam:") else None
    boundary = role_boundary(who.account, role_name) if isinstance(role_name, str) else None
    found = authorization.checks(
        who, op, params, response.headers, resources(response, op, primary, params, s3_resource), boundary
    )
    refused = authorization.first_refusal(who, docs, found, op.key.partition(":")[0])
    if refused is not None:
        service = op.key.partition(":")[0]
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
    op = calls_hooks.operation(self)
    if op is None:
        return
    action = iam_actions.primary(op)
    params = request_params(self, action)
    who = identity(self.current_account, calls_hooks.access_key_of(self.headers))
    if who is not None:
        authorize(self, who, op, params, resource)
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


def _resolve_resource(response: Any, op: Operation, moto_resource: str) -> str | None:
    """The call log's resolver: the first ARN the request acts on (None for '*')."""
    action = iam_actions.primary(op)
    found = resources(response, op, action, request_params(response, action), moto_resource)
    return None if found[0] == ANY else found[0][0]


def _note_source_identity(original: Callable[..., Any]) -> Callable[..., Any]:
    """STS AssumeRole: keep the SourceIdentity the caller set for the new session (moto drops it)."""

    def assume_role(self: Any) -> Any:
        answer = original(self)
        source = self._get_param("SourceIdentity")
        if source:
            from moto.sts.models import sts_backends

            sessions = list(sts_backends[self.current_account][PARTITION].assumed_roles)
            if sessions:
                _source_identities[sessions[-1].access_key_id] = str(source)
        return answer

    return assume_role


ATTACHING = {  # action -> its parameters: policy_arn, then the role, user or group
    "attach_role_policy": ["self", "policy_arn", "role_name"],
    "detach_role_policy": ["self", "policy_arn", "role_name"],
    "attach_user_policy": ["self", "policy_arn", "user_name"],
    "detach_user_policy": ["self", "policy_arn", "user_name"],
    "attach_group_policy": ["self", "policy_arn", "group_name"],
    "detach_group_policy": ["self", "policy_arn", "group_name"],
}
LISTING = {
    "list_policies": ["self", "marker", "max_items", "only_attached", "path_prefix", "scope"],
    "get_account_authorization_details": ["self", "policy_filter"],
}


# moto's method -> (its parameters, up to the document; the document's kind)
CHECKED: dict[str, tuple[list[str], str]] = {
    "create_role": (["self", "role_name", "assume_role_policy_document"], policy_documents.TRUST),
    "update_assume_role_policy": (["self", "role_name", "policy_document"], policy_documents.TRUST),
    "put_role_policy": (["self", "role_name", "policy_name", "policy_json"], policy_documents.IDENTITY),
    "put_user_policy": (["self", "user_name", "policy_name", "policy_json"], policy_documents.IDENTITY),
    "put_group_policy": (["self", "group_name", "policy_name", "policy_json"], policy_documents.IDENTITY),
    "create_policy": (["self", "description", "path", "policy_document"], policy_documents.IDENTITY),
    "create_policy_version": (["self", "policy_arn", "policy_document"], policy_documents.IDENTITY),
}


def _checking(params: list[str], kind: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """A hook maker: check the document (the last of params) before moto stores it."""

    def make(original: Callable[..., Any]) -> Callable[..., Any]:
        def checked(self: Any, *args: Any, **kwargs: Any) -> Any:
            from moto.iam.exceptions import MalformedPolicyDocument

            bound = dict(zip(params[1:], args, strict=False), **kwargs)
            found = policy_documents.problem(bound.get(params[-1]), kind)
            if found:
                raise MalformedPolicyDocument(found)
            return original(self, *args, **kwargs)

        return checked

    return make


class AccountPolicies(dict[str, ManagedPolicy]):
    """An account's managed policies by ARN: its own, and AWS's as they are first looked up."""

    def __init__(self, backend: IAMBackend) -> None:
        super().__init__()
        self.backend = backend
        self.complete = False

    def __missing__(self, arn: str) -> ManagedPolicy:
        found = self.aws_policy(arn)
        if found is None:
            raise KeyError(arn)
        return found

    def __contains__(self, arn: object) -> bool:
        return super().__contains__(arn) or (isinstance(arn, str) and self.aws_policy(arn) is not None)

    def get(self, arn: str, default: Any = None) -> Any:
        """The policy with this ARN (an AWS managed one built now if needed), else default."""
        return self[arn] if arn in self else default

    def aws_policy(self, arn: str) -> ManagedPolicy | None:
        """The AWS managed policy with this ARN, built from moto's catalogue and kept; None if there is none."""
        name = managed_policies.policy_name(arn)
        data = managed_policies.entry(aws_managed_policies_data, name) if name else None
        if name is None or data is None:
            return None
        return self._keep(
            AWSManagedPolicy.from_data(name, self.backend.account_id, self.backend.region_name, data), arn
        )

    def build_all(self) -> None:
        """Build every AWS managed policy not built yet (for a listing)."""
        if self.complete:
            return
        for name in managed_policies.names(aws_managed_policies_data):
            data = managed_policies.entry(aws_managed_policies_data, name) or {}
            policy = AWSManagedPolicy.from_data(name, self.backend.account_id, self.backend.region_name, data)
            if not super().__contains__(policy.arn):
                self._keep(policy, policy.arn)
        self.complete = True

    def _keep(self, policy: ManagedPolicy, arn: str) -> ManagedPolicy | None:
        """Keep a policy built for arn (None when its ARN is another partition's)."""
        if policy.arn != arn:
            return None
        self[arn] = policy
        self.backend.aws_managed_policies.append(policy)
        return policy


def _none(original: Callable[..., Any]) -> Callable[..., list[ManagedPolicy]]:
    """_init_aws_policies: none built when the account's IAM is made."""

    def init_aws_policies(self: IAMBackend) -> list[ManagedPolicy]:
        return []

    return init_aws_policies


def _lazy(original: Callable[..., Any]) -> Callable[..., AccountPolicies]:
    """_init_managed_policies: a mapping that builds AWS managed policies when first looked up."""

    def init_managed_policies(self: IAMBackend) -> AccountPolicies:
        return AccountPolicies(self)

    return init_managed_policies


def _looked_up_first(original: Callable[..., Any]) -> Callable[..., Any]:
    """An attach or detach action that looks its policy ARN up before moto searches the values."""

    def attaching(self: IAMBackend, policy_arn: str, *args: Any, **kwargs: Any) -> Any:
        self.managed_policies.get(policy_arn)
        return original(self, policy_arn, *args, **kwargs)

    return attaching


def _all_built_first(original: Callable[..., Any]) -> Callable[..., Any]:
    """A listing that builds every AWS managed policy before moto enumerates them."""

    def listing(self: IAMBackend, *args: Any, **kwargs: Any) -> Any:
        if isinstance(self.managed_policies, AccountPolicies):
            self.managed_policies.build_all()
        return original(self, *args, **kwargs)

    return listing


def _install_documents_and_managed_policies() -> None:
    """Check every policy document IAM is given; build AWS managed policies when first named."""
    for name, (params, kind) in CHECKED.items():
        patching.patch(IAMBackend, name, params, _checking(params, kind), prefix=True)
    patching.patch(IAMBackend, "_init_aws_policies", ["self"], _none)
    patching.patch(IAMBackend, "_init_managed_policies", ["self"], _lazy)
    for name, parameters in ATTACHING.items():
        patching.patch(IAMBackend, name, parameters, _looked_up_first)
    for name, parameters in LISTING.items():
        patching.patch(IAMBackend, name, parameters, _all_built_first)


def install() -> None:
    """Enforce IAM for role sessions and IAM users; model the services' role checks and IAM propagation."""
    global _installed
    _install_documents_and_managed_policies()
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
    from moto.sts.responses import TokenResponse

    patching.patch(TokenResponse, "assume_role", ["self"], _note_source_identity)
    calls_hooks.add_resolver(_resolve_resource)
    _installed = True

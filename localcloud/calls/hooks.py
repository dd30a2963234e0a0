"""Note every request moto serves, as the client's botocore sent it, in the call record.

Every request passes ``ActionAuthenticatorMixin._authenticate_and_authorize_action`` (from
``BaseResponse.call_action``, and from S3's own ``_authenticate_and_authorize_s3_action`` with the
bucket or object ARN). The hook works out the botocore operation — from moto's botocore-model router
for the REST protocols (S3, Lambda, API Gateway: moto's own S3 action names ``?publicAccessBlock`` as
``CreateBucket``), else from the ``Action`` parameter or ``X-Amz-Target`` — and the input members sent
(``localcloud/calls/operations.py``), maps them to IAM actions (``kitformats.iam_actions``), records the
call, then lets IAM authorize it (``localcloud/iam/hooks.py`` reads the same operation). Calls are
recorded whether or not IAM allows them. Written against moto 5.2.5.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kitformats import iam_actions
from kitformats.iam_actions import Operation
from localcloud import patching
from localcloud.calls import operations, record
from localcloud.client import Call

MARK = "_workshop_operation"
REST = ("rest-json", "rest-xml")
_resolvers: list[Callable[[Any, Operation, str], str | None]] = []


def add_resolver(resolver: Callable[[Any, Operation, str], str | None]) -> None:
    """Let resolver(response, operation, moto's resource) name the ARN a request acts on (first answer wins)."""
    if resolver not in _resolvers:
        _resolvers.append(resolver)


def _protocol(service: str) -> str:
    """The botocore protocol of a service ('' when unknown)."""
    from moto.core.utils import get_service_model

    try:
        return str(get_service_model(service).metadata.get("protocol", ""))
    except Exception:
        return ""


def _operation_name(response: Any, service: str) -> str:
    """The botocore operation: the model router's match for REST protocols, else moto's Action/X-Amz-Target."""
    if _protocol(service) in REST:
        from moto.core.routing import get_service_router

        try:
            matched, uri_params = get_service_router(service).match(response.normalized_request)
            if not getattr(response, "uri_match", None):
                response.uri_match = uri_params  # as moto's own routing keeps them
            return str(matched.name)
        except Exception:
            pass
    if service == "s3":
        return ""
    try:
        return str(response._get_action() or "")
    except Exception:
        return ""


def operation(response: Any) -> Operation | None:
    """The operation a moto response object is serving, as botocore sent it (worked out once per request)."""
    if hasattr(response, MARK):
        found: Operation | None = getattr(response, MARK)
        return found
    service = getattr(response, "boto3_service_name", "") or response.service_name or ""
    name = _operation_name(response, service)
    found = None
    if name:
        params = dict(getattr(response, "params", None) or {})
        params.update(getattr(response, "querystring", None) or {})
        found = operations.operation_of(
            service,
            name,
            response.headers,
            getattr(response, "querystring", None) or {},
            params,
            getattr(response, "raw_body", None),
        )
    setattr(response, MARK, found)
    return found


def _identity(account: str, access_key: str) -> str:
    """The ARN IAM knows the access key by: an IAM user, an assumed-role session, else ''."""
    try:
        from moto.iam.models import iam_backends
        from moto.sts.models import sts_backends

        user = iam_backends[account]["aws"].get_user_from_access_key_id(access_key)
        if user is not None:
            return str(user.arn)
        for role in list(sts_backends[account]["aws"].assumed_roles):
            if role.access_key_id == access_key:
                return str(role.arn)
    except Exception:  # an identity lookup must never break the call it observes
        return ""
    return ""


def resource(response: Any, op: Operation, moto_resource: str) -> str:
    """The ARN the request names, as far as a resolver or moto can tell; '' when unknown."""
    for resolver in list(_resolvers):
        try:
            found = resolver(response, op, moto_resource)
        except Exception:
            found = None
        if found:
            return found
    return "" if moto_resource in ("", "*") or moto_resource.endswith(":::*") else moto_resource


def access_key_of(headers: Any) -> str:
    """The access key id a SigV4 Authorization header names ('' when unsigned)."""
    auth = headers.get("Authorization") or headers.get("authorization") or ""
    return str(auth.partition("Credential=")[2].partition("/")[0].strip())


def note(response: Any, moto_resource: str) -> None:
    """Record the call response is about to serve."""
    op = operation(response)
    if op is None:
        return
    needed = iam_actions.actions(op)
    account = getattr(response, "current_account", "") or ""
    key = access_key_of(response.headers)
    record.record(
        Call(
            caller=key,
            identity=_identity(account, key),
            service=op.service,
            operation=op.name,
            members=list(op.members),
            action=needed[0],
            actions=needed,
            resource=resource(response, op, moto_resource),
            region=getattr(response, "region", "") or "",
            account=account,
        )
    )


def _noting(original: Callable[..., Any]) -> Callable[..., Any]:
    def authenticate_and_authorize(self: Any, iam_request_cls: type, resource: str = "*") -> Any:
        try:
            note(self, resource)
        except Exception:
            pass
        return original(self, iam_request_cls, resource)

    return authenticate_and_authorize


def install() -> None:
    """Record every call the local cloud serves (installed after IAM's hook, so it runs first)."""
    from moto.core.authorization import ActionAuthenticatorMixin

    patching.patch(
        ActionAuthenticatorMixin,
        "_authenticate_and_authorize_action",
        ["self", "iam_request_cls", "resource"],
        _noting,
    )

"""Which IAM actions each caller made on which resources: what an attendee's policy must allow.

Every request moto serves passes ``BaseResponse.call_action`` (S3 authorizes each request in
``_authenticate_and_authorize_s3_action`` instead); the hooks note the caller's access key, the
IAM action the request needs (``lambda:InvokeFunction`` for the ``Invoke`` API) and, where the
request names one, the resource's ARN. Calls are recorded whether or not IAM allows them.

Read and reset the record in process (``calls()``, ``reset()``) or over HTTP: ``GET`` and
``DELETE`` on ``/_workshop/calls`` (``?caller=<access key id>`` narrows the answer).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

from localcloud.client import Call, CallRecord

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

PATH = "/_workshop/calls"

# moto's service names -> IAM's service prefixes, where they differ.
SERVICE_PREFIX = {
    "awslambda": "lambda",
    "sagemaker-runtime": "sagemaker",
    "service-quotas": "servicequotas",
    "resourcegroupstaggingapi": "tag",
    "monitoring": "cloudwatch",
}
# API operations whose IAM action has another name (the Service Authorization Reference).
IAM_ACTION = {
    "lambda:Invoke": "lambda:InvokeFunction",
    "lambda:InvokeAsync": "lambda:InvokeFunction",
    "s3:HeadBucket": "s3:ListBucket",
    "s3:ListObjects": "s3:ListBucket",
    "s3:ListObjectsV2": "s3:ListBucket",
    "s3:HeadObject": "s3:GetObject",
    "s3:DeleteObjects": "s3:DeleteObject",
    "sqs:DeleteMessageBatch": "sqs:DeleteMessage",
    "sqs:SendMessageBatch": "sqs:SendMessage",
    "sqs:ChangeMessageVisibilityBatch": "sqs:ChangeMessageVisibility",
}


_lock = threading.Lock()
_calls: dict[tuple[str, ...], CallRecord] = {}  # by the call's values, in Call's field order
_resolvers: list[Callable[[Any, str], str | None]] = []


def iam_action(service: str, operation: str) -> str:
    """The IAM action an API operation of moto's service needs (``awslambda``, ``Invoke`` -> lambda:InvokeFunction)."""
    if service == "apigateway":  # API Gateway's IAM actions are HTTP methods (apigateway:POST)
        from localcloud.iam.policy import apigateway_action

        return apigateway_action(operation)
    name = f"{SERVICE_PREFIX.get(service, service)}:{operation}"
    return IAM_ACTION.get(name, name)


def record(call: Call) -> None:
    """Count one call."""
    with _lock:
        key = tuple(str(value) for value in call.values())
        counted = _calls.get(key)
        _calls[key] = {**call, "count": 1 if counted is None else counted["count"] + 1}


def calls(caller: str | None = None) -> list[CallRecord]:
    """The calls recorded so far (each with its count), for one access key or all, in a stable order."""
    with _lock:
        return [r.copy() for _, r in sorted(_calls.items()) if caller in (None, r["caller"])]


def actions(records: Iterable[CallRecord]) -> list[str]:
    """The distinct IAM actions in a recording, sorted."""
    return sorted({r["action"] for r in records})


def reset() -> None:
    """Forget every recorded call."""
    with _lock:
        _calls.clear()


def add_resolver(resolver: Callable[[Any, str], str | None]) -> None:
    """Let resolver(response, action) name the ARN a request acts on (first answer wins)."""
    if resolver not in _resolvers:
        _resolvers.append(resolver)


def _identity(account: str, access_key: str) -> str:
    """The ARN IAM knows the access key by: an IAM user, an assumed-role session, else ''."""
    try:
        from moto.iam.models import iam_backends
        from moto.sts.models import sts_backends

        iam = iam_backends[account]["aws"]
        user = iam.get_user_from_access_key_id(access_key)
        if user is not None:
            return user.arn
        for role in list(sts_backends[account]["aws"].assumed_roles):
            if role.access_key_id == access_key:
                return role.arn
    except Exception:  # an identity lookup must never break the call it observes
        return ""
    return ""


def _resource(response: Any, action: str) -> str:
    """The ARN the request names, as far as a resolver or moto can tell; '' when unknown."""
    for resolver in list(_resolvers):
        try:
            found = resolver(response, action)
        except Exception:
            found = None
        if found:
            return found
    determine = getattr(response, "_determine_resource", None)
    if determine is not None:
        try:
            found = determine()
        except Exception:
            found = "*"
        return "" if found == "*" else found
    return ""


def _note(response: Any, operation: str, resource: str | None = None) -> None:
    """Record the call response is about to serve."""
    if not operation:
        return
    action = iam_action(response.service_name or "", operation)
    account = getattr(response, "current_account", "") or ""
    key = getattr(response, "access_key", "") or ""
    record(
        Call(
            caller=key,
            identity=_identity(account, key),
            action=action,
            resource=resource if resource is not None else _resource(response, action),
            region=getattr(response, "region", "") or "",
            account=account,
        )
    )


def _record_call_action(original: Callable[..., Any]) -> Callable[..., Any]:
    def call_action(self: Any) -> Any:
        try:
            _note(self, self._get_action())
        except Exception:
            pass
        return original(self)

    return call_action


def _record_s3(self: Any, bucket_name: str | None = None, key_name: str | None = None) -> None:
    """Note an S3 request (its IAM action is already in data['Action']), then authorize it as moto does."""
    from moto.core.authorization import ActionAuthenticatorMixin

    try:
        operation = self.data.get("Action")
        operation = operation[0] if isinstance(operation, list) else operation
        arn = "" if not bucket_name else f"arn:aws:s3:::{bucket_name}" + (f"/{key_name}" if key_name else "")
        _note(self, operation or "", arn)
    except Exception:
        pass
    # Looked up at call time, so an IAM enforcement hook on the mixin still runs.
    return ActionAuthenticatorMixin._authenticate_and_authorize_s3_action(
        self, bucket_name=bucket_name, key_name=key_name
    )


def wsgi(environ: WSGIEnvironment, start_response: StartResponse) -> list[bytes]:
    """GET: the recorded calls as JSON (``?caller=KEY`` narrows); DELETE: forget them."""
    if environ.get("REQUEST_METHOD") == "DELETE":
        reset()
        body: Any = {"reset": True}
    else:
        caller = (parse_qs(environ.get("QUERY_STRING", "")).get("caller") or [None])[0]
        body = {"calls": calls(caller)}
    start_response("200 OK", [("Content-Type", "application/json")])
    return [json.dumps(body).encode()]


def install() -> None:
    """Record every call the local cloud serves."""
    from moto.core.responses import BaseResponse
    from moto.s3.responses import S3Response

    from localcloud import patching

    patching.patch(BaseResponse, "call_action", ["self"], _record_call_action)
    patching.patch(
        S3Response,
        "_authenticate_and_authorize_s3_action",
        ["self", "bucket_name", "key_name"],
        lambda original: _record_s3,
    )

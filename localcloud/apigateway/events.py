"""The event a Lambda proxy integration sends to the function: REST API payload format 1.0.

As "Input format of a Lambda function for proxy integration" documents and as AWS records it
(https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-lambda-proxy-integrations.html):
``resource``, ``path`` (without the stage), ``httpMethod``, ``headers`` (the last value of each name)
and ``multiValueHeaders`` (every value), ``queryStringParameters`` / ``multiValueQueryStringParameters``,
``pathParameters``, ``stageVariables`` (each ``null`` when empty, never ``{}``), ``requestContext``
(``requestId``, ``extendedRequestId``, ``stage``, ``resourcePath``, ``path`` with the stage, ``identity``
with ``sourceIp``/``userAgent`` and the other keys ``null``, ``requestTime`` in CLF form,
``requestTimeEpoch`` in ms, ``apiId``, ``accountId``, ``protocol``...), ``body`` (``null`` when empty) and
``isBase64Encoded`` (true only for a binary media type the API declares).
"""

from __future__ import annotations

import base64
import datetime as dt
import fnmatch
import random
import string
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

# Headers API Gateway does not pass to the integration (hop-by-hop; LocalStack drops them citing AWS).
DROPPED_HEADERS = frozenset({"connection", "content-length", "transfer-encoding", "keep-alive"})
IDENTITY_KEYS = (
    "cognitoIdentityPoolId",
    "accountId",
    "cognitoIdentityId",
    "caller",
    "sourceIp",
    "principalOrgId",
    "accessKey",
    "cognitoAuthenticationType",
    "cognitoAuthenticationProvider",
    "userArn",
    "userAgent",
    "user",
)


@dataclass(frozen=True)
class Request:
    """An HTTP request to an invoke URL, as the client sent it."""

    method: str
    path: str  # the resource path, after the stage
    headers: list[tuple[str, str]]  # in order, names as sent
    query: str = ""
    body: bytes = b""
    source_ip: str = "127.0.0.1"
    protocol: str = "HTTP/1.1"


@dataclass(frozen=True)
class Route:
    """Where API Gateway sent it: API, stage, resource, method, and the deployment serving them."""

    api_id: str
    account_id: str
    stage: str
    resource_path: str  # the resource's template, e.g. /predict or /{proxy+}
    resource_id: str
    http_method: str
    deployment_id: str = ""
    path_parameters: Mapping[str, str] = field(default_factory=dict)
    stage_variables: Mapping[str, str] = field(default_factory=dict)
    domain_name: str = ""
    binary_media_types: tuple[str, ...] = ()


def new_request_id(client_value: str = "") -> str:
    """The request id: the client's x-amzn-RequestId when it is a UUID (clients may set it), else a new UUID.

    "Access logging for REST APIs"
    (https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-access-logging.html).
    """
    try:
        return str(uuid.UUID(client_value)) if client_value else str(uuid.uuid4())
    except ValueError:
        return str(uuid.uuid4())


def new_extended_request_id() -> str:
    """An extended request id in API Gateway's form (e.g. ``ZzIjbGu1IAMEbXw=``: 12 characters and '=')."""
    alphabet = string.ascii_letters + string.digits
    return "".join(random.choices(alphabet, k=14)) + "="


def request_time(moment: dt.datetime) -> str:
    """``$context.requestTime``: CLF-formatted (``dd/MMM/yyyy:HH:mm:ss +0000``)."""
    return moment.astimezone(dt.UTC).strftime("%d/%b/%Y:%H:%M:%S +0000")


def _multi(pairs: Iterable[tuple[str, str]]) -> tuple[dict[str, str] | None, dict[str, list[str]] | None]:
    """(single, multi) maps of name/value pairs: the last value of a name, and all of them; None when empty."""
    single: dict[str, str] = {}
    multi: dict[str, list[str]] = {}
    for name, value in pairs:
        single[name] = value
        multi.setdefault(name, []).append(value)
    return (single or None), (multi or None)


def is_binary(content_type: str, binary_media_types: Iterable[str]) -> bool:
    """True when the request's Content-Type is one of the API's binaryMediaTypes (wildcards allowed)."""
    base = content_type.split(";", 1)[0].strip().lower()
    return bool(base) and any(fnmatch.fnmatch(base, t.lower()) for t in binary_media_types)


def header(headers: Iterable[tuple[str, str]], name: str) -> str:
    """The last value of a header, any case ('' when absent)."""
    found = ""
    for key, value in headers:
        if key.lower() == name.lower():
            found = value
    return found


def proxy_event(
    request: Request, route: Route, request_id: str, extended_request_id: str, now: dt.datetime
) -> dict[str, Any]:
    """The REST API (v1) Lambda proxy event for one request."""
    headers = [(k, v) for k, v in request.headers if k.lower() not in DROPPED_HEADERS]
    single_headers, multi_headers = _multi(headers)
    query_single, query_multi = _multi(parse_qsl(request.query, keep_blank_values=True))
    binary = is_binary(header(headers, "content-type"), route.binary_media_types)
    if not request.body:
        body: str | None = None
    elif binary:
        body = base64.b64encode(request.body).decode()
    else:
        body = request.body.decode("utf-8", errors="replace")
    identity: dict[str, Any] = dict.fromkeys(IDENTITY_KEYS)
    identity["sourceIp"] = request.source_ip
    identity["userAgent"] = header(headers, "user-agent") or None
    return {
        "resource": route.resource_path,
        "path": request.path,
        "httpMethod": request.method,
        "headers": single_headers,
        "multiValueHeaders": multi_headers,
        "queryStringParameters": query_single,
        "multiValueQueryStringParameters": query_multi,
        "pathParameters": dict(route.path_parameters) or None,
        "stageVariables": dict(route.stage_variables) or None,
        "requestContext": {
            "resourceId": route.resource_id,
            "resourcePath": route.resource_path,
            "httpMethod": request.method,
            "extendedRequestId": extended_request_id,
            "requestTime": request_time(now),
            "path": f"/{route.stage}{request.path}",
            "accountId": route.account_id,
            "protocol": request.protocol,
            "stage": route.stage,
            "domainPrefix": route.domain_name.split(".", 1)[0] if route.domain_name else route.api_id,
            "requestTimeEpoch": int(now.timestamp() * 1000),
            "requestId": request_id,
            "identity": identity,
            "domainName": route.domain_name,
            "deploymentId": route.deployment_id,
            "apiId": route.api_id,
        },
        "body": body,
        "isBase64Encoded": binary and body is not None,
    }

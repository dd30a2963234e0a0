"""Which botocore operation a request is, and which of its input members it carries: the same facts the client sent.

No moto: the hooks (``localcloud/calls/hooks.py``) hand in what moto parsed (the operation its
botocore-model router matched, headers, query string, parameters, the raw body) and get back a
``kitformats.iam_actions.Operation``, which names the IAM actions the request needs. Two corrections
to a router that matches on method and path alone: S3's ``PUT /{Bucket}/{Key+}`` is ``CopyObject``
only with an ``x-amz-copy-source`` header (botocore sends no ``x-id``), and ``UploadPartCopy``
likewise.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import cache
from typing import Any

from kitformats.iam_actions import Operation

# operation -> (header that must be present, the operation it is otherwise), for same method and path.
NEEDS_HEADER = {
    ("s3", "CopyObject"): ("x-amz-copy-source", "PutObject"),
    ("s3", "UploadPartCopy"): ("x-amz-copy-source", "UploadPart"),
}


@cache
def _input_members(service: str, operation: str) -> tuple[tuple[str, str, str], ...]:
    """(member name, location, wire name) of the operation's top-level input members; () when unknown."""
    import botocore.session

    try:
        model = botocore.session.get_session().get_service_model(service).operation_model(operation)
    except Exception:
        return ()
    shape = model.input_shape
    if shape is None:
        return ()
    found = []
    for name, member in shape.members.items():
        location = member.serialization.get("location", "")
        wire = member.serialization.get("name", name)
        if shape.serialization.get("payload") == name:
            location = "payload"
        found.append((name, location, wire))
    return tuple(found)


def _lower_keys(headers: Mapping[str, Any]) -> set[str]:
    return {str(k).lower() for k in headers.keys()}


def _top_keys(params: Mapping[str, Any]) -> set[str]:
    """Parameter names at the top level (``Tags.member.1.Key`` -> ``Tags``)."""
    return {str(k).split(".", 1)[0].split("[", 1)[0] for k in params}


def members_sent(
    service: str,
    operation: str,
    headers: Mapping[str, Any],
    query: Mapping[str, Any],
    params: Mapping[str, Any],
    body: bytes | str | None,
) -> tuple[str, ...]:
    """The operation's top-level input members the request carries, sorted."""
    header_names = _lower_keys(headers)
    query_names = set(query)
    param_names = _top_keys(params) | _top_keys(_json_object(body))
    found = []
    for name, location, wire in _input_members(service, operation):
        if location == "header":
            present = wire.lower() in header_names
        elif location == "headers":
            present = any(h.startswith(wire.lower()) for h in header_names)
        elif location == "querystring":
            present = wire in query_names
        elif location == "uri":
            present = True
        elif location == "payload":
            present = bool(body) or name in param_names
        else:
            present = name in param_names or wire in param_names
        if present:
            found.append(name)
    return tuple(sorted(found))


def _json_object(body: bytes | str | None) -> Mapping[str, Any]:
    """The body as a JSON object, or {}."""
    if isinstance(body, bytes):
        body = body.decode("utf-8", errors="replace")
    if not body or not body.lstrip().startswith("{"):
        return {}
    try:
        parsed = json.loads(body)
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


def corrected(service: str, operation: str, headers: Mapping[str, Any]) -> str:
    """The operation, told apart from its twin by a header the router does not look at."""
    rule = NEEDS_HEADER.get((service, operation))
    if rule and rule[0] not in _lower_keys(headers):
        return rule[1]
    return operation


def operation_of(
    service: str,
    operation: str,
    headers: Mapping[str, Any],
    query: Mapping[str, Any],
    params: Mapping[str, Any],
    body: bytes | str | None,
) -> Operation:
    """The request as the client's botocore sent it: service, operation, members."""
    name = corrected(service, operation, headers)
    return Operation(service, name, members_sent(service, name, headers, query, params, body))

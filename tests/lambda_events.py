"""The events and context Lambda hands the inference handler: API Gateway REST (v1), HTTP API (2.0)."""

from __future__ import annotations

import uuid
from types import SimpleNamespace


def context(request_id: str | None = None) -> SimpleNamespace:
    """A Lambda context object with the fields the handler reads."""
    return SimpleNamespace(
        aws_request_id=request_id or str(uuid.uuid4()),
        function_version="$LATEST",
        function_name="t-inference",
    )


def rest_event(body, request_id: str | None = None, base64_encoded: bool = False) -> dict:
    """An API Gateway REST (v1) proxy event."""
    event = {
        "resource": "/predict",
        "path": "/predict",
        "httpMethod": "POST",
        "headers": {"Content-Type": "application/json"},
        "requestContext": {"requestId": request_id or str(uuid.uuid4()), "stage": "prod"},
        "isBase64Encoded": base64_encoded,
    }
    if body is not ...:
        event["body"] = body
    return event


def http_event(body: str, request_id: str) -> dict:
    """An API Gateway HTTP API (payload 2.0) event."""
    return {
        "version": "2.0",
        "routeKey": "POST /predict",
        "rawPath": "/predict",
        "headers": {"content-type": "application/json"},
        "requestContext": {"requestId": request_id, "http": {"method": "POST", "path": "/predict"}},
        "body": body,
        "isBase64Encoded": False,
    }

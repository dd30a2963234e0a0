"""The client's answer: a Lambda proxy response mapped as API Gateway maps it, or a gateway response.

"Output format of a Lambda function for proxy integration"
(https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-lambda-proxy-integrations.html):
a JSON object with any of ``statusCode``, ``headers``, ``multiValueHeaders``, ``body`` and
``isBase64Encoded``; anything else (another key, a non-numeric status, a body that is not a string,
a header list that is not a list, a function error) answers 502 ``{"message": "Internal server
error"}``. A header named in both maps answers every value, comma-joined (as AWS was recorded doing).
Gateway responses ("Gateway response types for API Gateway",
https://docs.aws.amazon.com/apigateway/latest/developerguide/supported-gateway-response-types.html) are
the answers API Gateway gives itself; their bodies are AWS's, byte for byte where recorded.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from typing import Any

PROXY_KEYS = frozenset({"statusCode", "headers", "multiValueHeaders", "body", "isBase64Encoded"})


@dataclass(frozen=True)
class Answer:
    """What the client gets: status, headers (name, value in order) and body; the error type when API Gateway failed."""

    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    error_type: str = ""  # $context.error.responseType: INTEGRATION_FAILURE, THROTTLED, ... ('' on success)
    error_message: str = ""


@dataclass(frozen=True)
class GatewayResponse:
    """One of API Gateway's own answers: response type, default status, body and x-amzn-ErrorType."""

    response_type: str
    status: int
    body: bytes
    error_type: str

    def answer(self) -> Answer:
        """The answer as the client receives it."""
        headers = [("Content-Type", "application/json"), ("x-amzn-ErrorType", self.error_type)]
        message = json.loads(self.body)["message"]
        return Answer(self.status, headers, self.body, self.response_type, message)


# Bodies as AWS answers them: note the 403's missing space, recorded against AWS.
MISSING_AUTHENTICATION_TOKEN = GatewayResponse(
    "MISSING_AUTHENTICATION_TOKEN",
    403,
    b'{"message":"Missing Authentication Token"}',
    "MissingAuthenticationTokenException",
)
THROTTLED = GatewayResponse("THROTTLED", 429, b'{"message":"Too Many Requests"}', "TooManyRequestsException")
INTEGRATION_FAILURE = GatewayResponse(
    "INTEGRATION_FAILURE", 502, b'{"message": "Internal server error"}', "InternalServerErrorException"
)
INTEGRATION_TIMEOUT = GatewayResponse(
    "INTEGRATION_TIMEOUT", 504, b'{"message": "Endpoint request timed out"}', "InternalServerErrorException"
)
API_CONFIGURATION_ERROR = GatewayResponse(
    "API_CONFIGURATION_ERROR", 500, b'{"message": "Internal server error"}', "InternalServerErrorException"
)


class MalformedProxyResponse(ValueError):
    """The function answered something that is not a proxy response."""


def _status(value: Any) -> int:
    """The statusCode as a number (a numeric string is accepted, as AWS does)."""
    if value is None:
        return 200
    if isinstance(value, bool):
        raise MalformedProxyResponse("statusCode is a boolean")
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    raise MalformedProxyResponse(f"statusCode {value!r} is not a number")


def _text(value: Any) -> str:
    """A header value as API Gateway writes it (true/false for booleans)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        raise MalformedProxyResponse("a header value is not a scalar")
    return "" if value is None else str(value)


def _headers(response: dict[str, Any]) -> list[tuple[str, str]]:
    """The response headers: every multiValueHeaders value, then headers' value, comma-joined per name."""
    single = response.get("headers")
    multi = response.get("multiValueHeaders")
    if single is not None and not isinstance(single, dict):
        raise MalformedProxyResponse("headers is not an object")
    if multi is not None and not isinstance(multi, dict):
        raise MalformedProxyResponse("multiValueHeaders is not an object")
    joined: dict[str, list[str]] = {}
    for name, values in (multi or {}).items():
        if not isinstance(values, list):
            raise MalformedProxyResponse(f"multiValueHeaders[{name!r}] is not a list")
        joined.setdefault(name, []).extend(_text(v) for v in values)
    for name, value in (single or {}).items():
        joined.setdefault(name, []).append(_text(value))
    return [(name, ", ".join(values)) for name, values in joined.items()]


def map_proxy_response(payload: bytes, accept_binary: bool = False) -> Answer:
    """The client's answer for the function's payload; raise MalformedProxyResponse when it is not one.

    accept_binary: the request's Accept header names one of the API's binaryMediaTypes, so a body
    flagged isBase64Encoded is decoded (otherwise the base64 text goes to the client as it is).
    """
    try:
        response = json.loads(payload or b"null")
    except ValueError:
        raise MalformedProxyResponse("the payload is not JSON") from None
    if not isinstance(response, dict):
        raise MalformedProxyResponse("the payload is not a JSON object")
    unknown = set(response) - PROXY_KEYS
    if unknown:
        raise MalformedProxyResponse(f"unknown keys {sorted(unknown)}")
    status = _status(response.get("statusCode"))
    headers = _headers(response)
    body = response.get("body")
    if body is not None and not isinstance(body, str):
        raise MalformedProxyResponse("body is not a string")
    data = (body or "").encode()
    if response.get("isBase64Encoded") is True and accept_binary and body:
        try:
            data = base64.b64decode(body, validate=True)
        except ValueError:
            raise MalformedProxyResponse("body is flagged isBase64Encoded but is not base64") from None
    if not any(name.lower() == "content-type" for name, _ in headers):
        headers.append(("Content-Type", "application/json"))
    return Answer(status, headers, data)

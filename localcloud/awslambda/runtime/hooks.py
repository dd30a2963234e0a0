"""Where moto gets patched for running Lambda functions: Invoke, DeleteFunction, the Invoke answer's id.

install() hooks moto's Lambda (all through localcloud.patching) so that:

- ``LambdaFunction.invoke`` (every invocation path reaches it: the Invoke API, Event
  invocations, SNS/SQS triggers) runs the handler in the kit's runtime (``invocations.Runtime``),
  on the version the function's state serves (``lambda_states``), answering a throttle as AWS's
  ``TooManyRequestsException`` (429 with its Reason);
- ``LambdaBackend.create_function`` readies the function's Python in the background (found on this
  machine, boto3 compiled for it), so its first cold start does not wait for that;
- ``LambdaBackend.delete_function`` also ends the deleted function's warm environments;
- ``LambdaResponse._enrich_response`` keeps the invocation's request id (moto draws a random one).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any

from moto.awslambda.exceptions import LambdaClientError
from moto.awslambda.models import LambdaBackend, LambdaFunction
from moto.awslambda.responses import LambdaResponse

from localcloud import patching, profile
from localcloud.awslambda import states as lambda_states
from localcloud.awslambda.runtime.concurrency import TooManyRequests
from localcloud.awslambda.runtime.environments import prepare_python
from localcloud.awslambda.runtime.invocations import runtime, started


class TooManyRequestsException(LambdaClientError):
    """AWS's throttling answer: 429 with the Reason and Type fields boto3 reads."""

    code = 429

    def __init__(self, reason: str) -> None:
        super().__init__("TooManyRequestsException", "Rate Exceeded.")
        self.description = json.dumps(
            {
                "__type": "TooManyRequestsException",
                "message": "Rate Exceeded.",
                "Reason": reason,
                "Type": "User",
            }
        )


def _invoke_in_runtime(original: Callable[..., Any]) -> Callable[..., bytes]:
    """LambdaFunction.invoke that runs the handler in the kit's runtime."""

    def invoke(
        self: LambdaFunction, body: str, request_headers: Any, response_headers: dict[str, str]
    ) -> bytes:
        # Pending refuses the Invoke API (internal triggers pass no headers); an update runs the previous version
        fn = lambda_states.serving(self, trigger=not request_headers)
        try:
            return runtime(profile.current).invoke(fn, body, request_headers, response_headers)
        except TooManyRequests as exc:
            raise TooManyRequestsException(exc.args[0]) from None

    return invoke


def _forgetting_environments(original: Callable[..., None]) -> Callable[..., None]:
    """LambdaBackend.delete_function that also ends the deleted function's warm environments."""

    def delete_function(self: LambdaBackend, function_name: str, qualifier: str | None = None) -> None:
        try:
            arn: str | None = self.get_function(function_name).function_arn
        except Exception:  # moto raises its own not-found error below
            arn = None
        original(self, function_name, qualifier)
        running = started()
        if arn and qualifier is None and running is not None:
            running.forget(arn)  # AWS reclaims a deleted function's environments; we do at once

    return delete_function


def _keeping_request_id(original: Callable[..., Any]) -> Callable[..., tuple[dict[str, str], Any]]:
    """LambdaResponse._enrich_response that keeps the invocation's request id (moto would draw a random one)."""

    def enrich_response(headers: dict[str, str], body: Any) -> tuple[dict[str, str], Any]:
        request_id = headers.get("x-amzn-requestid")
        headers, body = original(headers, body)
        if request_id:
            headers["x-amzn-requestid"] = request_id
        return headers, body

    return enrich_response


def _readying_python(original: Callable[..., LambdaFunction]) -> Callable[..., LambdaFunction]:
    """CreateFunction that readies the function's Python on a background thread."""

    def create_function(self: LambdaBackend, spec: dict[str, Any]) -> LambdaFunction:
        fn = original(self, spec)
        threading.Thread(
            target=prepare_python, args=(fn.run_time or "",), name="lambda-python", daemon=True
        ).start()
        return fn

    return create_function


def install() -> None:
    """Replace moto's LambdaFunction.invoke with the kit's runtime; DeleteFunction ends warm environments."""
    patching.patch(
        LambdaFunction, "invoke", ["self", "body", "request_headers", "response_headers"], _invoke_in_runtime
    )
    patching.patch(
        LambdaBackend, "delete_function", ["self", "function_name", "qualifier"], _forgetting_environments
    )
    patching.patch(LambdaBackend, "create_function", ["self", "spec"], _readying_python)
    # A staticmethod LambdaResponse inherits from BaseResponse: hooked for Lambda's responses alone.
    patching.patch(LambdaResponse, "_enrich_response", ["headers", "body"], _keeping_request_id)

"""Where moto's SageMaker runtime gets the real model: InvokeEndpoint resolves endpoint, endpoint
configuration, variant, model and its artifact in the local S3, predicts, and reports.
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import unquote

from moto.core.exceptions import ServiceException

from localcloud import patching
from localcloud.sagemaker import endpoints as sagemaker_endpoints
from localcloud.sagemaker import hooks as sagemaker_hooks
from localcloud.sagemaker.runtime import instances, reports, warmup
from localcloud.sagemaker.runtime.container import (
    ContainerError,
    access_line,
    booster_for,
    error_line,
    format_predictions,
    parse_rows,
)
from localcloud.sagemaker.runtime.reports import invocation_metrics, publish_metrics
from localcloud.sagemaker.runtime.routing import choose_variant

MAX_PAYLOAD_BYTES = 6 * 1024 * 1024  # InvokeEndpoint's limit


class EndpointValidationError(ServiceException):
    """SageMaker runtime's ValidationError (moto has only the control plane's)."""

    code = "ValidationError"


class ModelError(ServiceException):
    """SageMaker runtime's ModelError: the container answered an error status."""

    code = "ModelError"

    def __init__(self, message: str, status: int, original: str, log_stream_arn: str) -> None:
        super().__init__(message)
        self.original_status_code = status
        self.original_message = original
        self.log_stream_arn = log_stream_arn


def _role_may_log(account: str, region: str, endpoint: str, stream: str, role_arn: str) -> bool:
    """Whether SageMaker, acting as the model's execution role, may write the container's lines to stream.

    "CreateModel API: Execution Role Permissions": logs:CreateLogStream and logs:PutLogEvents (and
    logs:CreateLogGroup while the group does not exist); without them the lines are lost, as in AWS.
    """
    from localcloud.iam import hooks as iam_hooks

    group_arn = f"arn:aws:logs:{region}:{account}:log-group:{reports.log_group(endpoint)}"
    stream_resource: tuple[str, ...] = (reports.stream_arn(account, region, endpoint, stream),)
    needed: list[tuple[str, tuple[str, ...]]] = [
        ("logs:CreateLogStream", stream_resource),
        ("logs:PutLogEvents", stream_resource),
    ]
    if not reports.group_exists(account, region, endpoint):
        needed.append(("logs:CreateLogGroup", (group_arn, f"{group_arn}:*")))
    return all(iam_hooks.role_allows(account, role_arn, action, where) for action, where in needed)


def _container_answer(body: bytes, headers: Any, booster: Any) -> tuple[bytes, str]:
    """What the XGBoost container answers for a request (ContainerError for its error statuses)."""
    from kitformats import model_artifact as kit_model

    rows = parse_rows(body, headers.get("Content-Type", ""))
    try:
        scores = kit_model.predict(booster, rows)
    except Exception as exc:  # XGBoost refuses the data (more columns than the model's features, say)
        raise ContainerError(400, f"Unable to evaluate payload provided: {str(exc).splitlines()[0]}") from exc
    return format_predictions(scores, headers.get("Accept", ""))


def invoke_endpoint(response: Any) -> tuple[int, dict[str, str], bytes]:
    """InvokeEndpoint as the SageMaker runtime answers it, with the endpoint's real model."""
    from moto.sagemaker.models import sagemaker_backends

    account, region = response.current_account, response.region
    started = time.perf_counter()
    endpoint_name = unquote(response.path.split("/")[2])
    backend = sagemaker_backends[account][region]
    # An endpoint still Creating, Failed or Deleting is not routed to: SageMaker answers as for none.
    endpoint = sagemaker_endpoints.serving(backend, endpoint_name)
    if endpoint is None:
        raise EndpointValidationError(f"Endpoint {endpoint_name} of account {account} not found.")
    config = backend.endpoint_configs.get(endpoint.endpoint_config_name)
    if config is None:
        raise EndpointValidationError(f"Endpoint {endpoint_name} has no endpoint configuration.")
    headers = response.headers
    body = response.raw_body or b""
    if isinstance(body, str):
        body = body.encode()
    if len(body) > MAX_PAYLOAD_BYTES:
        raise EndpointValidationError("Request payload size exceeds the 6 MB limit of InvokeEndpoint.")
    try:
        variant = choose_variant(config.production_variants, headers.get("X-Amzn-SageMaker-Target-Variant"))
    except LookupError as exc:
        raise EndpointValidationError(
            f"Variant {exc.args[0]} not found for endpoint {endpoint_name}."
        ) from None
    variant_name = variant["VariantName"]
    serverless = bool(variant.get("ServerlessConfig"))
    model = backend.describe_model(variant["ModelName"])
    key = (account, region, endpoint_name, config.endpoint_config_name, variant_name, variant["ModelName"])
    url = (model.primary_container or {}).get("ModelDataUrl") or ""
    stream = f"{variant_name}/{instances.instance_id(key, serverless)}"
    setup_us: float | None = None
    model_started = time.perf_counter()
    try:
        instance, setup_us = instances.serving(key, serverless, lambda: _load(account, region, url))
        stream = f"{variant_name}/{instance.id}"
        model_started = time.perf_counter()
        answer, answer_type = _container_answer(body, headers, instance.model)
        status, lines = 200, [access_line(200, len(answer))]
    except ContainerError as exc:
        answer, answer_type, status = b"", "", exc.status
        lines = [error_line(str(exc)), access_line(exc.status, 0)]
        error: ContainerError | None = exc
    else:
        error = None
    model_us = (time.perf_counter() - model_started) * 1e6
    overhead_us = (time.perf_counter() - started) * 1e6 - model_us
    if _role_may_log(account, region, endpoint_name, stream, model.execution_role_arn):
        reports.log(account, region, endpoint_name, stream, lines)
    publish_metrics(account, region, endpoint_name, variant_name,
                    invocation_metrics(status, model_us, overhead_us, serverless=serverless, setup_us=setup_us))  # fmt: skip
    if error is not None:
        kind = "client" if error.status < 500 else "server"
        raise ModelError(
            f'Received {kind} error ({error.status}) from primary with message "{error}". '
            f"See {reports.console_url(region, endpoint_name)} in account {account} for more information.",
            error.status,
            str(error),
            reports.stream_arn(account, region, endpoint_name, stream),
        )
    return 200, {"Content-Type": answer_type, "x-Amzn-Invoked-Production-Variant": variant_name}, answer


def _load(account: str, region: str, url: str) -> Any:
    """The booster a container loads from the model's artifact (ContainerError 500 when it cannot)."""
    if not url.startswith("s3://"):
        raise ContainerError(500, f"ModelDataUrl {url!r} is not an s3:// URL")
    artifact = sagemaker_hooks.read_s3_object(account, region, url)
    if artifact is None:
        raise ContainerError(500, f"Failed to download model data from {url}: MissingKey")
    try:
        return booster_for(artifact)
    except ValueError as exc:
        raise ContainerError(500, f"Failed to load model artifact {url}: {exc}") from exc


def install() -> None:
    """Replace moto's canned InvokeEndpoint with the real model."""
    from moto.sagemakerruntime.responses import SageMakerRuntimeResponse

    patching.patch(SageMakerRuntimeResponse, "invoke_endpoint", ["self"], lambda original: invoke_endpoint)
    # XGBoost takes about half a second to import: do it while the cloud waits for its first requests.
    warmup.start()

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
from localcloud.sagemaker.runtime import warmup
from localcloud.sagemaker.runtime.container import (
    ContainerError,
    access_line,
    booster_for,
    format_predictions,
    parse_rows,
)
from localcloud.sagemaker.runtime.reports import invocation_metrics, log, publish_metrics
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


def _artifact(account: str, region: str, url: str) -> bytes:
    from moto.s3.models import s3_backends
    from moto.utilities.utils import get_partition

    if not url.startswith("s3://"):
        raise ContainerError(500, f"ModelDataUrl {url!r} is not an s3:// URL")
    bucket, _, key = url[5:].partition("/")
    try:
        found = s3_backends[account][get_partition(region)].get_object(bucket, key)
    except Exception as exc:  # MissingBucket / MissingKey
        raise ContainerError(500, f"Failed to download model data from {url}: {type(exc).__name__}") from exc
    if found is None:
        raise ContainerError(500, f"Failed to download model data from {url}: MissingKey")
    return found.value


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
    model_started = time.perf_counter()
    try:
        model = backend.describe_model(variant["ModelName"])
        url = (model.primary_container or {}).get("ModelDataUrl") or ""
        artifact = _artifact(account, region, url)
        try:
            booster = booster_for(artifact)
        except ValueError as exc:
            raise ContainerError(500, f"Failed to load model artifact {url}: {exc}") from exc
        rows = parse_rows(body, headers.get("Content-Type", ""))
        from kitformats import model_artifact as kit_model

        try:
            scores = kit_model.predict(booster, rows)
        except Exception as exc:  # xgboost refuses the shape of the data
            raise ContainerError(
                400, f"Unable to evaluate payload provided: {str(exc).splitlines()[0]}"
            ) from exc
        answer, answer_type = format_predictions(scores, headers.get("Accept", ""))
    except ContainerError as exc:
        model_us = (time.perf_counter() - model_started) * 1e6
        stream_arn = log(
            account,
            region,
            endpoint_name,
            variant_name,
            [f"[ERROR] {exc}", access_line(exc.status, 0)],
        )
        publish_metrics(
            account, region, endpoint_name, variant_name, invocation_metrics(exc.status, model_us)
        )
        kind = "client" if exc.status < 500 else "server"
        raise ModelError(
            f'Received {kind} error ({exc.status}) from primary with message "{exc}". '
            f"See {stream_arn} in account {account} for more information.",
            exc.status,
            str(exc),
            stream_arn,
        ) from None
    model_us = (time.perf_counter() - model_started) * 1e6
    overhead_us = (time.perf_counter() - started) * 1e6 - model_us
    log(account, region, endpoint_name, variant_name, [access_line(200, len(answer))])
    publish_metrics(
        account, region, endpoint_name, variant_name, invocation_metrics(200, model_us, overhead_us)
    )
    return 200, {"Content-Type": answer_type, "x-Amzn-Invoked-Production-Variant": variant_name}, answer


def install() -> None:
    """Replace moto's canned InvokeEndpoint with the real model."""
    from moto.sagemakerruntime.responses import SageMakerRuntimeResponse

    patching.patch(SageMakerRuntimeResponse, "invoke_endpoint", ["self"], lambda original: invoke_endpoint)
    # XGBoost takes about half a second to import: do it while the cloud waits for its first requests.
    warmup.start()

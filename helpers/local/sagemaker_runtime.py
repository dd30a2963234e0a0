"""SageMaker runtime for the local cloud: InvokeEndpoint predicts with the endpoint's real model.

moto answers canned bytes, even for endpoints that do not exist. This hook replaces the
response method ``SageMakerRuntimeResponse.invoke_endpoint``: it resolves endpoint, endpoint
config, production variant (by weight), model and ``ModelDataUrl`` in the local S3, loads the
``model.tar.gz`` with XGBoost (cached by content) and predicts, in this process. It writes the
container's access log lines to ``/aws/sagemaker/Endpoints/<name>`` and publishes AWS/SageMaker
metrics, like the built-in XGBoost container behind a real endpoint.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import random
import threading
import time
from collections.abc import Sequence
from functools import cache
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from helpers.local import hooks, sagemaker_endpoints
from helpers.local.locks import cloudwatch_lock

if TYPE_CHECKING:
    import xgboost as xgb

MAX_PAYLOAD_BYTES = 6 * 1024 * 1024
_boosters: dict[str, xgb.Booster] = {}
_boosters_lock = threading.Lock()
_variant_rng = random.Random(0)


@cache
def _exceptions() -> tuple[type[Exception], type[Exception]]:
    """SageMaker runtime's ValidationError and ModelError (moto is imported on first use only)."""
    from moto.core.exceptions import ServiceException

    class EndpointValidationError(ServiceException):
        code = "ValidationError"

    class ModelError(ServiceException):
        code = "ModelError"

        def __init__(self, message: str, status: int, original: str, log_stream_arn: str) -> None:
            super().__init__(message)
            self.original_status_code = status
            self.original_message = original
            self.log_stream_arn = log_stream_arn

    return EndpointValidationError, ModelError


class ContainerError(Exception):
    """The model container answered an error status (becomes ModelError)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def parse_rows(body: bytes, content_type: str) -> list[list[float]]:
    """Rows of numbers from a text/csv or application/json request, as the XGBoost container reads them."""
    kind = (content_type or "").split(";")[0].strip().lower()
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ContainerError(400, f"Unable to decode payload as UTF-8: {exc}") from exc
    if kind == "text/csv":
        lines = [line for line in text.splitlines() if line.strip()]
        try:
            rows = [[float(cell) for cell in line.split(",")] for line in lines]
        except ValueError as exc:
            raise ContainerError(
                400, f"Loading csv data failed with Exception, please ensure data is in csv format: {exc}"
            ) from exc
    elif kind == "application/json":
        try:
            doc = json.loads(text)
            instances = doc["instances"] if isinstance(doc, dict) else doc
            rows = [
                [float(v) for v in (item["features"] if isinstance(item, dict) else item)]
                for item in instances
            ]
        except (ValueError, KeyError, TypeError) as exc:
            raise ContainerError(
                400, f'Unable to parse JSON: expected {{"instances": [[f1, f2, ...], ...]}} ({exc})'
            ) from exc
    else:
        raise ContainerError(
            415, f"Content type {content_type or '(none)'} is not supported by this algorithm."
        )
    if not rows:
        raise ContainerError(400, "The payload holds no rows to predict.")
    widths = {len(r) for r in rows}
    if len(widths) != 1:
        raise ContainerError(400, f"Rows have different numbers of columns: {sorted(widths)}")
    return rows


def format_predictions(scores: list[float], accept: str) -> tuple[bytes, str]:
    """The answer body in the requested type: one score per line for CSV, predictions for JSON."""
    if (accept or "").split(";")[0].strip().lower() == "application/json":
        return json.dumps({"predictions": [{"score": s} for s in scores]}).encode(), "application/json"
    return "\n".join(repr(s) for s in scores).encode(), "text/csv; charset=utf-8"


def booster_for(artifact: bytes) -> xgb.Booster:
    """The XGBoost booster of an artifact, loaded once per content digest."""
    from helpers import model

    digest = hashlib.sha256(artifact).hexdigest()
    with _boosters_lock:
        booster = _boosters.get(digest)
        if booster is None:
            booster = _boosters[digest] = model.load_booster(artifact)
    return booster


def choose_variant(variants: Sequence[dict[str, Any]], requested: str | None) -> dict[str, Any]:
    """The production variant for this request: the one targeted, else by weight."""
    if requested:
        for variant in variants:
            if variant["VariantName"] == requested:
                return variant
        raise LookupError(requested)
    weights = [float(v.get("InitialVariantWeight", 1.0) or 0.0) for v in variants]
    if sum(weights) <= 0:
        weights = [1.0] * len(variants)
    return _variant_rng.choices(variants, weights=weights)[0]


def _stream_for(endpoint: str, variant: str) -> str:
    instance = hashlib.sha1(f"{endpoint}/{variant}".encode()).hexdigest()[:17]
    return f"{variant}/i-{instance}"


def _log(account: str, region: str, endpoint: str, variant: str, messages: list[str]) -> str:
    """Append container log lines for one variant; return the stream's ARN."""
    from moto.logs.models import logs_backends

    group = f"/aws/sagemaker/Endpoints/{endpoint}"
    stream = _stream_for(endpoint, variant)
    logs = logs_backends[account][region]
    logs.ensure_log_group(group)
    logs.ensure_log_stream(group, stream)
    now = int(time.time() * 1000)
    logs.put_log_events(group, stream, [{"timestamp": now, "message": m} for m in messages])
    return f"arn:aws:logs:{region}:{account}:log-group:{group}:log-stream:{stream}"


def invocation_metrics(
    status: int, model_us: float, overhead_us: float | None = None
) -> dict[str, tuple[float, str]]:
    """The AWS/SageMaker metrics (value, unit) of one invocation answered with status."""
    metrics: dict[str, tuple[float, str]] = {
        "Invocations": (1, "None"),
        "InvocationsPerInstance": (1, "None"),
        "Invocation4XXErrors": (1 if 400 <= status < 500 else 0, "None"),
        "Invocation5XXErrors": (1 if status >= 500 else 0, "None"),
        "ModelLatency": (model_us, "Microseconds"),
    }
    if overhead_us is not None:
        metrics["OverheadLatency"] = (max(overhead_us, 0.0), "Microseconds")
    return metrics


def _metrics(
    account: str, region: str, endpoint: str, variant: str, values: dict[str, tuple[float, str]]
) -> None:
    """Publish an invocation's metrics for one variant of endpoint."""
    from moto.cloudwatch.models import cloudwatch_backends

    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    dims = [{"Name": "EndpointName", "Value": endpoint}, {"Name": "VariantName", "Value": variant}]
    data = [
        {"MetricName": name, "Value": float(v), "Unit": unit, "Dimensions": dims, "Timestamp": now}
        for name, (v, unit) in values.items()
    ]
    with cloudwatch_lock:
        cloudwatch_backends[account][region].put_metric_data("AWS/SageMaker", data)


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

    validation_error, model_error = _exceptions()
    account, region = response.current_account, response.region
    started = time.perf_counter()
    endpoint_name = unquote(response.path.split("/")[2])
    backend = sagemaker_backends[account][region]
    # An endpoint still Creating, Failed or Deleting is not routed to: SageMaker answers as for none.
    endpoint = sagemaker_endpoints.serving(backend, endpoint_name)
    if endpoint is None:
        raise validation_error(f"Endpoint {endpoint_name} of account {account} not found.")
    config = backend.endpoint_configs.get(endpoint.endpoint_config_name)
    if config is None:
        raise validation_error(f"Endpoint {endpoint_name} has no endpoint configuration.")
    headers = response.headers
    body = response.raw_body or b""
    if isinstance(body, str):
        body = body.encode()
    if len(body) > MAX_PAYLOAD_BYTES:
        raise validation_error("Request payload size exceeds the 6 MB limit of InvokeEndpoint.")
    try:
        variant = choose_variant(config.production_variants, headers.get("X-Amzn-SageMaker-Target-Variant"))
    except LookupError as exc:
        raise validation_error(f"Variant {exc.args[0]} not found for endpoint {endpoint_name}.") from None
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
        from helpers import model as kit_model

        try:
            scores = kit_model.predict(booster, rows)
        except Exception as exc:  # xgboost refuses the shape of the data
            raise ContainerError(
                400, f"Unable to evaluate payload provided: {str(exc).splitlines()[0]}"
            ) from exc
        answer, answer_type = format_predictions(scores, headers.get("Accept", ""))
    except ContainerError as exc:
        model_us = (time.perf_counter() - model_started) * 1e6
        stream_arn = _log(
            account,
            region,
            endpoint_name,
            variant_name,
            [f"[ERROR] {exc}", _access_line(exc.status, 0)],
        )
        _metrics(account, region, endpoint_name, variant_name, invocation_metrics(exc.status, model_us))
        kind = "client" if exc.status < 500 else "server"
        raise model_error(
            f'Received {kind} error ({exc.status}) from primary with message "{exc}". '
            f"See {stream_arn} in account {account} for more information.",
            exc.status,
            str(exc),
            stream_arn,
        ) from None
    model_us = (time.perf_counter() - model_started) * 1e6
    overhead_us = (time.perf_counter() - started) * 1e6 - model_us
    _log(account, region, endpoint_name, variant_name, [_access_line(200, len(answer))])
    _metrics(account, region, endpoint_name, variant_name, invocation_metrics(200, model_us, overhead_us))
    return 200, {"Content-Type": answer_type, "x-Amzn-Invoked-Production-Variant": variant_name}, answer


def _access_line(status: int, size: int) -> str:
    stamp = dt.datetime.now(dt.UTC).strftime("%d/%b/%Y:%H:%M:%S +0000")
    return f'169.254.178.2 - - [{stamp}] "POST /invocations HTTP/1.1" {status} {size} "-" "AHC/2.0"'


def install() -> None:
    """Replace moto's canned InvokeEndpoint with the real model."""
    from moto.sagemakerruntime.responses import SageMakerRuntimeResponse

    hooks.patch(SageMakerRuntimeResponse, "invoke_endpoint", ["self"], lambda original: invoke_endpoint)
    # XGBoost takes about half a second to import: do it while the cloud waits for its first requests.
    threading.Thread(target=_import_model_libraries, daemon=True, name="xgboost-import").start()


def _import_model_libraries() -> None:
    """Import what predicting needs, so the first InvokeEndpoint does not wait for it."""
    import xgboost  # noqa: F401

    from helpers import model  # noqa: F401

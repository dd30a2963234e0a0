"""SageMaker endpoints as SageMaker's control plane answers: states, model failures, the serverless quota.

moto 5.2.5 makes every endpoint ``InService`` at once, even one whose model cannot load, lets
``CreateEndpoint`` overwrite an existing endpoint, has no ``UpdateEndpoint`` and no quotas. Here:

- Under the ``aws`` profile ``CreateEndpoint`` leaves the endpoint ``Creating`` for
  ``profile.delay("endpoint_create")``, ``UpdateEndpoint`` leaves it ``Updating`` (the old
  configuration keeps serving, the new one shows in ``PendingDeploymentSummary``) and
  ``DeleteEndpoint`` leaves it ``Deleting`` before it is gone. Under ``local`` each is done at once.
- In both profiles a model whose image SageMaker could not pull (not the region's registry image of
  its framework and version, or not in the local ECR: ``sagemaker_images``) or that cannot load
  (artifact missing in the local S3, not a tar.gz, no XGBoost booster inside) ends the creation
  ``Failed`` with SageMaker's ``FailureReason``; a failed
  update rolls back to ``InService`` on the old configuration with the reason. A ``Failed``
  endpoint can only be deleted; an endpoint in progress can be neither updated nor deleted.
- ``DescribeModel``/``DescribeEndpointConfig``/``DescribeEndpoint`` leave out ``VpcConfig`` and
  ``DataCaptureConfig`` unless set, as SageMaker does (moto answers ``{}``, which the SageMaker
  Python SDK's typed resources refuse).
- The account's serverless concurrency (the sum of ``MaxConcurrency`` over the serverless
  variants of every endpoint in the region) may not exceed
  the profile's quota ``sagemaker_serverless_total_concurrency``: ``ResourceLimitExceeded``.

States move on when an endpoint is next looked at (``settle``), so no thread is needed.

This is the engine (no moto import): it works on the backend it is handed and refuses with
``Refused``; ``localcloud/sagemaker/hooks.py`` puts it into moto and turns ``Refused`` into
SageMaker's errors.
"""

from __future__ import annotations

import datetime as dt
import io
import tarfile
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from localcloud.profile import Profile
from localcloud.sagemaker import images as sagemaker_images

SERVERLESS_QUOTA = "sagemaker_serverless_total_concurrency"
SERVERLESS_QUOTA_TITLE = "Maximum total concurrency that can be allocated across all serverless endpoints"
MAX_CONCURRENCY = (1, 200)
IN_PROGRESS = frozenset({"Creating", "Updating", "Deleting", "SystemUpdating", "RollingBack"})
SERVING = frozenset({"InService", "Updating"})


@dataclass
class Change:
    """A change of one endpoint that completes at ready_at."""

    endpoint: Any  # the moto FakeEndpoint it belongs to (a reset or re-creation replaces it)
    kind: str  # "create", "update" or "delete"
    ready_at: float
    config_name: str = ""


_changes: dict[tuple[str, str, str], Change] = {}
_lock = threading.RLock()


ReadObject = Callable[
    [str, str, str], "bytes | None"
]  # (account, region, s3 URL) -> the object's bytes or None


class Refused(Exception):
    """SageMaker refuses the request: code is its error code (ValidationException, ResourceLimitExceeded)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def _validation(message: str) -> Refused:
    return Refused("ValidationException", message)


def _utcnow() -> dt.datetime:
    """Now, as SageMaker's backend stamps times (naive UTC)."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def _key(backend: Any, name: str) -> tuple[str, str, str]:
    """The key of an endpoint's pending change: account, region, name."""
    return backend.account_id, backend.region_name, name


# ---------------------------------------------------------------- the model check


def _no_object(account: str, region: str, url: str) -> bytes | None:
    """The object reader before the hooks give the real one: nothing is there."""
    return None


_reader: list[ReadObject] = [_no_object]
_profile: list[Callable[[], Profile]] = []  # the timing profile in force, given by the hooks (use_profile)


def use_profile(current: Callable[[], Profile]) -> None:
    """Take delays and quotas from current() (the hooks give the local cloud's profile)."""
    _profile[:] = [current]


def use_object_reader(read_object: ReadObject) -> None:
    """Read model artifacts with read_object (the hooks give the local S3's reader)."""
    _reader[0] = read_object


def artifact_failure(account: str, region: str, url: str, variant: str) -> str | None:
    """SageMaker's FailureReason for a variant whose model artifact cannot load, or None when it loads."""
    from localcloud.sagemaker.runtime import booster_for

    bucket, _, key = url[5:].partition("/") if url.startswith("s3://") else ("", "", url)
    artifact = _reader[0](account, region, url) if url.startswith("s3://") else None
    if artifact is None:
        return (
            f"Failed to download model data (bucket: {bucket}, key: {key}). Please ensure that there is an "
            "object located at the URL and that the role passed to CreateModel has permissions to download the model."
        )
    try:
        with tarfile.open(fileobj=io.BytesIO(artifact), mode="r:gz"):
            pass
    except (tarfile.TarError, OSError, EOFError):
        return (
            f'Failed to extract model data archive from URL "{url}". '
            "Please ensure that the object located at the URL is a valid tar.gz archive."
        )
    try:
        booster_for(artifact)
    except ValueError:
        return (
            f"The primary container for production variant {variant} did not pass the ping health check. "
            "Please check CloudWatch logs for this endpoint."
        )
    return None


def config_failure(backend: Any, config_name: str) -> str | None:
    """The FailureReason of the first variant of a configuration whose model cannot load, or None."""
    config = backend.endpoint_configs.get(config_name)
    if config is None:
        return f"Could not find endpoint configuration '{config_name}'."
    for variant in config.production_variants:
        model = backend._models.get(variant.get("ModelName", ""))
        if model is None:
            return f"Could not find model '{variant.get('ModelName')}'."
        containers = [model.primary_container] if model.primary_container else list(model.containers or [])
        for container in containers:  # SageMaker pulls the images first
            reason = sagemaker_images.image_failure(container, backend.account_id, backend.region_name,
                                                    variant["VariantName"])  # fmt: skip
            if reason:
                return reason
        url = (model.primary_container or {}).get("ModelDataUrl") or ""
        if not url:
            continue  # an image that carries its own model: nothing to download
        reason = artifact_failure(backend.account_id, backend.region_name, url, variant["VariantName"])
        if reason:
            return reason
    return None


# ---------------------------------------------------------------- states


def _finish(backend: Any, name: str, change: Change) -> None:
    """Complete a change: the endpoint is InService, Failed, rolled back or gone."""
    endpoint = change.endpoint
    if change.kind == "delete":
        backend.endpoints.pop(name, None)
        return
    reason = config_failure(backend, change.config_name)
    endpoint.last_modified_time = _utcnow()
    endpoint.pending_deployment_summary = None
    if change.kind == "create":
        endpoint.endpoint_status = "Failed" if reason else "InService"
        endpoint.failure_reason = reason
        return
    # A failed update rolls back: the old configuration keeps serving, the reason is reported.
    endpoint.endpoint_status = "InService"
    endpoint.failure_reason = reason
    if reason is None:
        config = backend.endpoint_configs[change.config_name]
        endpoint.endpoint_config_name = change.config_name
        endpoint.production_variants = endpoint._process_production_variants(config.production_variants)


def settle(backend: Any) -> None:
    """Complete every change of this backend's endpoints whose time has come."""
    now = time.time()
    with _lock:
        for key, change in list(_changes.items()):
            if key[:2] != (backend.account_id, backend.region_name):
                continue
            if backend.endpoints.get(key[2]) is not change.endpoint:
                _changes.pop(key)  # deleted, reset or replaced meanwhile
            elif now >= change.ready_at:
                _changes.pop(key)
                _finish(backend, key[2], change)


def _begin(backend: Any, endpoint: Any, kind: str, config_name: str = "") -> None:
    """Start a change: at once under the local profile, after the profile's delay under aws."""
    delay_kind = {"create": "endpoint_create", "update": "endpoint_update", "delete": "endpoint_delete"}[kind]
    change = Change(endpoint, kind, time.time() + _profile[0]().delay(delay_kind, endpoint.endpoint_name),
                    config_name)  # fmt: skip
    with _lock:
        _changes[_key(backend, endpoint.endpoint_name)] = change
    settle(backend)


def serving(backend: Any, name: str) -> Any:
    """The endpoint that answers InvokeEndpoint under name (InService, or Updating on its old config), or None."""
    settle(backend)
    endpoint = backend.endpoints.get(name)
    return endpoint if endpoint is not None and endpoint.endpoint_status in SERVING else None


# ---------------------------------------------------------------- the serverless quota


def _concurrency(variants: Sequence[Mapping[str, Any]] | None) -> int:
    """The serverless concurrency a configuration's variants take."""
    return sum(int((v.get("ServerlessConfig") or {}).get("MaxConcurrency") or 0) for v in variants or [])


def _in_use(backend: Any, leaving_out: str = "") -> int:
    """Serverless concurrency held by the region's endpoints (a Failed endpoint holds none)."""
    used = 0
    for name, endpoint in list(backend.endpoints.items()):
        if name == leaving_out or endpoint.endpoint_status == "Failed":
            continue
        config = backend.endpoint_configs.get(endpoint.endpoint_config_name)
        held = _concurrency(config.production_variants) if config else 0
        change = _changes.get(_key(backend, name))
        if change is not None and change.kind == "update" and change.config_name in backend.endpoint_configs:
            held = max(held, _concurrency(backend.endpoint_configs[change.config_name].production_variants))
        used += held
    return used


def check_quota(backend: Any, config_name: str, leaving_out: str = "") -> None:
    """Refuse a deployment of config_name that would take the region beyond the serverless quota."""
    config = backend.endpoint_configs.get(config_name)
    wanted = _concurrency(config.production_variants) if config else 0
    if not wanted:
        return
    limit = _profile[0]().quota(SERVERLESS_QUOTA)
    used = _in_use(backend, leaving_out)
    if used + wanted > limit:
        raise Refused(
            "ResourceLimitExceeded",
            f"The account-level service limit '{SERVERLESS_QUOTA_TITLE}' is {limit}, with current utilization of "
            f"{used} and a request delta of {wanted}. Please use AWS Service Quotas to request an increase for "
            "this quota. If AWS Service Quotas is not available, contact AWS support to request an increase for "
            "this quota.",
        )


def validate_serverless(production_variants: Sequence[Mapping[str, Any]] | None) -> None:
    """Refuse a MaxConcurrency outside 1-200, as SageMaker's request validation does."""
    low, high = MAX_CONCURRENCY
    for number, variant in enumerate(production_variants or [], start=1):
        value = (variant.get("ServerlessConfig") or {}).get("MaxConcurrency")
        if value is None:
            continue
        where = f"productionVariants.{number}.member.serverlessConfig.maxConcurrency"
        if int(value) > high:
            rule = f"Member must have value less than or equal to {high}"
        elif int(value) < low:
            rule = f"Member must have value greater than or equal to {low}"
        else:
            continue
        raise _validation(
            f"1 validation error detected: Value '{value}' at '{where}' failed to satisfy constraint: {rule}"
        )


# ---------------------------------------------------------------- the operations


def create_endpoint(
    original: Callable[..., Any],
    backend: Any,
    endpoint_name: str,
    endpoint_config_name: str,
    tags: list[dict[str, str]] | None,
) -> Any:
    """CreateEndpoint: refuse an existing name and the quota; start Creating (or finish at once)."""
    settle(backend)
    existing = backend.endpoints.get(endpoint_name)
    if existing is not None:
        raise _validation(f'Cannot create already existing endpoint "{existing.arn}".')
    if endpoint_config_name in backend.endpoint_configs:
        check_quota(backend, endpoint_config_name)
    endpoint = original(
        backend, endpoint_name=endpoint_name, endpoint_config_name=endpoint_config_name, tags=tags
    )
    endpoint.endpoint_status = "Creating"
    _begin(backend, endpoint, "create", endpoint_config_name)
    return endpoint


def update_endpoint(backend: Any, endpoint_name: str, endpoint_config_name: str) -> Any:
    """UpdateEndpoint: only an InService endpoint; the new configuration deploys while the old one serves."""
    settle(backend)
    endpoint = backend.endpoints.get(endpoint_name)
    if endpoint is None:
        backend.describe_endpoint(endpoint_name)  # moto's "Could not find endpoint ..."
    if endpoint.endpoint_status == "Failed":
        raise _validation(f'Cannot update failed endpoint "{endpoint.arn}".')
    if endpoint.endpoint_status != "InService":
        raise _validation(f'Cannot update in-progress endpoint "{endpoint.arn}".')
    backend.describe_endpoint_config(
        endpoint_config_name
    )  # moto's "Could not find endpoint configuration ..."
    check_quota(backend, endpoint_config_name, leaving_out=endpoint_name)
    endpoint.endpoint_status = "Updating"
    endpoint.failure_reason = None
    endpoint.pending_deployment_summary = {"EndpointConfigName": endpoint_config_name, "StartTime": _utcnow()}
    _begin(backend, endpoint, "update", endpoint_config_name)
    return endpoint


def delete_endpoint(original: Callable[..., Any], backend: Any, endpoint_name: str) -> None:
    """DeleteEndpoint: not while Creating or Updating; Deleting for a while under the aws profile."""
    settle(backend)
    endpoint = backend.endpoints.get(endpoint_name)
    if endpoint is None:
        original(backend, endpoint_name=endpoint_name)
        return
    if endpoint.endpoint_status == "Deleting":
        return
    if endpoint.endpoint_status in IN_PROGRESS:
        raise _validation(f'Cannot update in-progress endpoint "{endpoint.arn}".')
    endpoint.endpoint_status = "Deleting"
    _begin(backend, endpoint, "delete")


def create_endpoint_config(
    original: Callable[..., Any],
    backend: Any,
    endpoint_config_name: str,
    production_variants: list[dict[str, Any]],
    data_capture_config: dict[str, Any] | None,
    async_inference_config: dict[str, Any] | None,
    tags: list[dict[str, str]] | None,
    kms_key_id: str | None,
) -> Any:
    """CreateEndpointConfig: refuse an existing name and a serverless MaxConcurrency outside 1-200."""
    existing = backend.endpoint_configs.get(endpoint_config_name)
    if existing is not None:
        raise _validation(
            f'Cannot create already existing endpoint configuration "{existing.endpoint_config_arn}".'
        )
    validate_serverless(production_variants)
    return original(backend, endpoint_config_name=endpoint_config_name, production_variants=production_variants,
                    data_capture_config=data_capture_config, async_inference_config=async_inference_config,
                    tags=tags, kms_key_id=kms_key_id)  # fmt: skip

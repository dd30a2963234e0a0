"""Where the SageMaker control plane's engine (``endpoints.py``) goes into moto 5.2.5.

Endpoint states, model failures, UpdateEndpoint and the serverless quota (``endpoints``); the
Describe* answers without empty ``VpcConfig``/``DataCaptureConfig``; the engine's ``Refused``
becomes SageMaker's error (``ValidationException``, ``ResourceLimitExceeded``). Deleting an
endpoint also retires the compute its runtime launched (``runtime/instances.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache, wraps
from typing import Any

from moto.core.responses import ActionResult
from moto.sagemaker.exceptions import SagemakerClientError

from localcloud import patching, profile
from localcloud.sagemaker import endpoints
from localcloud.sagemaker.endpoints import Refused
from localcloud.sagemaker.runtime import instances


@cache
def _error_class(code: str) -> type[Exception]:
    """moto's exception class answering SageMaker's error code."""
    return type(code, (SagemakerClientError,), {"code": code})


def _answering_refusals(call: Callable[..., Any]) -> Callable[..., Any]:
    """call, with the engine's Refused raised as SageMaker's error."""

    @wraps(call)
    def answer(*args: Any, **kwargs: Any) -> Any:
        try:
            return call(*args, **kwargs)
        except Refused as refused:
            raise _error_class(refused.code)(str(refused)) from None

    return answer


def read_s3_object(account: str, region: str, url: str) -> bytes | None:
    """The bytes at an s3:// URL in the local S3, or None when there is no such object."""
    from moto.s3.models import s3_backends
    from moto.utilities.utils import get_partition

    bucket, _, key = url.removeprefix("s3://").partition("/")
    try:
        found = s3_backends[account][get_partition(region)].get_object(bucket, key)
    except Exception:  # MissingBucket / MissingKey
        return None
    if found is None:
        return None
    value: bytes = found.value
    return value


EMPTY_UNLESS_SET = ("VpcConfig", "DataCaptureConfig")


def without_empty_configs(original: Callable[..., Any]) -> Callable[..., Any]:
    """A Describe* response method answering as SageMaker does: no VpcConfig or DataCaptureConfig unless set.

    moto answers ``VpcConfig: {}`` and ``DataCaptureConfig: {}`` for resources created without
    them; SageMaker leaves them out, and the SageMaker Python SDK's typed resources (``Model``,
    ``EndpointConfig``, ``Endpoint``) refuse the empty ones (their fields are required there).
    """

    def describe(self: Any) -> Any:
        answer = original(self)
        result = getattr(answer, "result", None)
        if isinstance(result, dict) and any(key in result and not result[key] for key in EMPTY_UNLESS_SET):
            return ActionResult({k: v for k, v in result.items() if k not in EMPTY_UNLESS_SET or v})
        return answer

    return describe


@_answering_refusals
def _update_endpoint_action(self: Any) -> Any:
    """The UpdateEndpoint action moto lacks."""
    endpoint = endpoints.update_endpoint(self.sagemaker_backend, self._get_param("EndpointName"),
                               self._get_param("EndpointConfigName"))  # fmt: skip
    return ActionResult({"EndpointArn": endpoint.arn})


def _settled(backend: Any, call: Callable[..., Any], *args: Any) -> Any:
    """call(*args) once the backend's endpoints have moved on to the states their delays allow."""
    endpoints.settle(backend)
    return call(*args)


def _deleting(original: Callable[..., Any], backend: Any, endpoint_name: str) -> None:
    """DeleteEndpoint through the engine; the endpoint's launched compute goes with it."""
    endpoints.delete_endpoint(original, backend, endpoint_name)
    instances.forget(backend.account_id, backend.region_name, endpoint_name)


def install() -> None:
    """Put endpoint states, failures and the serverless quota into moto's SageMaker."""
    from moto.sagemaker.models import SageMakerModelBackend
    from moto.sagemaker.responses import SageMakerResponse

    endpoints.use_object_reader(read_s3_object)
    endpoints.use_profile(profile.current)
    backend = SageMakerModelBackend
    create = _answering_refusals(endpoints.create_endpoint)
    delete = _answering_refusals(_deleting)
    create_config = _answering_refusals(endpoints.create_endpoint_config)
    patching.patch(backend, "create_endpoint", ["self", "endpoint_name", "endpoint_config_name", "tags"],
                   lambda original: lambda self, endpoint_name, endpoint_config_name, tags: create(
                       original, self, endpoint_name, endpoint_config_name, tags))  # fmt: skip
    patching.patch(
        backend,
        "delete_endpoint",
        ["self", "endpoint_name"],
        lambda original: lambda self, endpoint_name: delete(original, self, endpoint_name),
    )
    patching.patch(
        backend,
        "describe_endpoint",
        ["self", "endpoint_name"],
        lambda original: lambda self, endpoint_name: _settled(self, original, self, endpoint_name),
    )
    patching.patch(
        backend, "create_endpoint_config",
        ["self", "endpoint_config_name", "production_variants", "data_capture_config", "async_inference_config",
         "tags", "kms_key_id"],
        lambda original: lambda self, endpoint_config_name, production_variants, data_capture_config,
        async_inference_config, tags, kms_key_id: create_config(
            original, self, endpoint_config_name, production_variants, data_capture_config,
            async_inference_config, tags, kms_key_id),
    )  # fmt: skip
    for describe in ("describe_model", "describe_endpoint_config", "describe_endpoint"):
        patching.patch(SageMakerResponse, describe, ["self"], without_empty_configs)
    patching.patch(
        SageMakerResponse,
        "list_endpoints",
        ["self"],
        lambda original: lambda self: _settled(self.sagemaker_backend, original, self),
    )
    patching.add_action(SageMakerResponse, "update_endpoint", _update_endpoint_action)

"""Puts the local cloud's account quotas (quotas.py) into moto 5.2.5's Service Quotas.

``ServiceQuotasBackend.get_service_quota`` answers the profile's quotas; the actions moto lacks,
``GetAWSDefaultServiceQuota`` and ``ListServiceQuotas``, are added to ``ServiceQuotasResponse``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from localcloud import patching
from localcloud.servicequotas import quotas


def _params(response: Any) -> dict[str, Any]:
    """The JSON parameters of the request response is serving."""
    params: dict[str, Any] = json.loads(response.body or "{}")
    return params


def _no_such_resource() -> Exception:
    """Service Quotas' NoSuchResourceException."""
    from moto.servicequotas.exceptions import NoSuchResource

    return NoSuchResource()


def _get_service_quota(original: Callable[..., Any]) -> Callable[..., Any]:
    """GetServiceQuota answering the profile's quotas, moto's own for the others."""

    def get_service_quota(self: Any, service_code: str, quota_code: str) -> dict[str, Any]:
        name = quotas.quota_name(service_code, quota_code)
        if name is None:
            found: dict[str, Any] = original(self, service_code, quota_code)
            return found
        return quotas.applied(name, self.region_name, self.account_id)

    return get_service_quota


def get_aws_default_service_quota(self: Any) -> str:
    """GetAWSDefaultServiceQuota for the profile's quotas."""
    params = _params(self)
    name = quotas.quota_name(str(params.get("ServiceCode")), str(params.get("QuotaCode")))
    if name is None:
        raise _no_such_resource()
    return json.dumps({"Quota": quotas.default(name, self.region)})


def list_service_quotas(self: Any) -> str:
    """ListServiceQuotas: the profile's applied quotas of one service."""
    service = str(_params(self).get("ServiceCode"))
    found = [
        quotas.applied(name, self.region, self.current_account)
        for name, (code, *_rest) in quotas.QUOTA_CODES.items()
        if code == service
    ]
    if not found:
        raise _no_such_resource()
    return json.dumps({"Quotas": found})


def install() -> None:
    """Answer the profile's quotas through moto's Service Quotas (idempotent)."""
    from moto.servicequotas.models import ServiceQuotasBackend
    from moto.servicequotas.responses import ServiceQuotasResponse

    patching.patch(
        ServiceQuotasBackend, "get_service_quota", ["self", "service_code", "quota_code"], _get_service_quota
    )
    patching.add_action(ServiceQuotasResponse, "get_aws_default_service_quota", get_aws_default_service_quota)
    patching.add_action(ServiceQuotasResponse, "list_service_quotas", list_service_quotas)

"""Service Quotas answering the account quotas the local cloud enforces (localcloud/profile.py).

moto 5.2.5 knows only VPC quotas and lacks GetAWSDefaultServiceQuota and ListServiceQuotas. Here
``GetServiceQuota`` answers the value in force (``WORKSHOP_LOCAL_LAMBDA_CONCURRENCY``,
``WORKSHOP_LOCAL_SERVERLESS_CONCURRENCY``, else the profile's default), ``GetAWSDefaultServiceQuota``
AWS's documented default, ``ListServiceQuotas`` the service's applied quotas. Any other quota
answers as moto does (VPC) or ``NoSuchResourceException``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from localcloud import patching, profile

# Service Quotas' codes for the profile's quotas: (service code, quota code, service name, quota name).
QUOTA_CODES: dict[str, tuple[str, str, str, str]] = {
    "lambda_concurrent_executions": ("lambda", "L-B99A9384", "AWS Lambda", "Concurrent executions"),
    "sagemaker_serverless_total_concurrency": (
        "sagemaker",
        "L-96300102",
        "Amazon SageMaker",
        "Maximum total concurrency that can be allocated across all serverless endpoints",
    ),
}


def quota_name(service_code: str, quota_code: str) -> str | None:
    """The profile quota a Service Quotas code names, or None."""
    for name, (service, code, _, _) in QUOTA_CODES.items():
        if (service, code) == (service_code, quota_code):
            return name
    return None


def describe(name: str, value: float, region: str, account: str | None) -> dict[str, Any]:
    """The ServiceQuota structure for one of the profile's quotas (account None: AWS's default)."""
    service, code, service_name, quota = QUOTA_CODES[name]
    return {
        "ServiceCode": service,
        "ServiceName": service_name,
        "QuotaCode": code,
        "QuotaName": quota,
        "QuotaArn": f"arn:aws:servicequotas:{region}:{account or ''}:{service}/{code}",
        "Value": float(value),
        "Unit": "None",
        "Adjustable": True,
        "GlobalQuota": False,
    }


def applied(name: str, region: str, account: str) -> dict[str, Any]:
    """The quota in force in the local cloud."""
    return describe(name, profile.current().quota(name), region, account)


def default(name: str, region: str) -> dict[str, Any]:
    """AWS's documented default for the quota."""
    return describe(name, profile.QUOTAS[name][0], region, None)


def _params(response: Any) -> dict[str, Any]:
    """The JSON parameters of the request response is serving."""
    params: dict[str, Any] = json.loads(response.body or "{}")
    return params


def _no_such_resource() -> Exception:
    from moto.servicequotas.exceptions import NoSuchResource

    return NoSuchResource()


def _get_service_quota(original: Callable[..., Any]) -> Callable[..., Any]:
    def get_service_quota(self: Any, service_code: str, quota_code: str) -> dict[str, Any]:
        name = quota_name(service_code, quota_code)
        if name is None:
            found: dict[str, Any] = original(self, service_code, quota_code)
            return found
        return applied(name, self.region_name, self.account_id)

    return get_service_quota


def get_aws_default_service_quota(self: Any) -> str:
    """GetAWSDefaultServiceQuota for the profile's quotas."""
    params = _params(self)
    name = quota_name(str(params.get("ServiceCode")), str(params.get("QuotaCode")))
    if name is None:
        raise _no_such_resource()
    return json.dumps({"Quota": default(name, self.region)})


def list_service_quotas(self: Any) -> str:
    """ListServiceQuotas: the profile's applied quotas of one service."""
    service = str(_params(self).get("ServiceCode"))
    quotas = [
        applied(name, self.region, self.current_account)
        for name, (code, *_rest) in QUOTA_CODES.items()
        if code == service
    ]
    if not quotas:
        raise _no_such_resource()
    return json.dumps({"Quotas": quotas})


def install() -> None:
    """Answer the profile's quotas through moto's Service Quotas."""
    from moto.servicequotas.models import ServiceQuotasBackend
    from moto.servicequotas.responses import ServiceQuotasResponse

    patching.patch(
        ServiceQuotasBackend, "get_service_quota", ["self", "service_code", "quota_code"], _get_service_quota
    )
    patching.add_action(ServiceQuotasResponse, "get_aws_default_service_quota", get_aws_default_service_quota)
    patching.add_action(ServiceQuotasResponse, "list_service_quotas", list_service_quotas)

"""Service Quotas answering the account quotas the local cloud enforces (localcloud/profile.py).

moto 5.2.5 knows only VPC quotas and lacks GetAWSDefaultServiceQuota and ListServiceQuotas. Here
``GetServiceQuota`` answers the value in force (``WORKSHOP_LOCAL_LAMBDA_CONCURRENCY``,
``WORKSHOP_LOCAL_SERVERLESS_CONCURRENCY``, else the profile's default), ``GetAWSDefaultServiceQuota``
AWS's documented default, ``ListServiceQuotas`` the service's applied quotas. Any other quota
answers as moto does (VPC) or ``NoSuchResourceException``.
"""

from __future__ import annotations

from typing import Any

from localcloud import profile

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

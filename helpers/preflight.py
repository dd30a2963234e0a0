"""Before a workshop: can this identity, in this region, run the kit for N attendees?

Checks the identity (STS), the region (the kit knows the XGBoost image there, and SageMaker
serverless inference is offered: its concurrency quota exists), and the account quotas N
attendees share: Lambda concurrent executions and SageMaker's total serverless concurrency,
read with Service Quotas (``GetServiceQuota``, else AWS's default with
``GetAWSDefaultServiceQuota``). Says what to raise, by how much, and where.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from helpers import errors

# What one attendee uses at once: 8.3 and 8.4 send traffic with 4 concurrent requests, and
# 00_setup's endpoint allows 5 concurrent invocations (ServerlessConfig.MaxConcurrency).
TRAFFIC_CONCURRENCY = 4
ENDPOINT_MAX_CONCURRENCY = 5
# Lambda executions beyond the attendees' traffic: retries of Event invocations, the account's other functions.
LAMBDA_HEADROOM = 10
LAMBDA_QUOTA = ("lambda", "L-B99A9384", "Lambda concurrent executions")
SERVERLESS_QUOTA = ("sagemaker", "L-96300102", "SageMaker total serverless concurrency")


@dataclass(frozen=True)
class Check:
    """One preflight finding: what was checked, whether it passed, and what to do when not."""

    name: str
    ok: bool
    detail: str

    def line(self) -> str:
        """The finding as one line of the report."""
        return f"{'ok  ' if self.ok else 'FAIL'}  {self.name:<52} {self.detail}"


def quota_console_url(region: str, service: str, code: str) -> str:
    """The Service Quotas console page where a quota increase is requested."""
    from helpers import regions

    path = f"servicequotas/home/services/{service}/quotas/{code}"
    return regions.console_url(region, path) or f"the Service Quotas console, {path}"


def quota_value(quotas: Any, service: str, code: str) -> tuple[float | None, str]:
    """The applied value of a quota (else AWS's default) and where it came from; None when the region lacks it."""
    try:
        return quotas.get_service_quota(ServiceCode=service, QuotaCode=code)["Quota"]["Value"], "applied"
    except ClientError as exc:
        if errors.code(exc) != "NoSuchResourceException":
            raise
    try:
        return quotas.get_aws_default_service_quota(ServiceCode=service, QuotaCode=code)["Quota"][
            "Value"
        ], "AWS default"
    except ClientError as exc:
        if errors.code(exc) != "NoSuchResourceException":
            raise
    return None, "not offered in this region"


def needs(attendees: int) -> dict[str, int]:
    """The concurrency N attendees need at once, per quota code."""
    return {
        LAMBDA_QUOTA[1]: attendees * TRAFFIC_CONCURRENCY + LAMBDA_HEADROOM,
        SERVERLESS_QUOTA[1]: attendees * ENDPOINT_MAX_CONCURRENCY,
    }


def quota_check(quotas: Any, region: str, quota: tuple[str, str, str], need: int, attendees: int) -> Check:
    """Whether a quota covers what the attendees need, and the increase to request when not."""
    service, code, label = quota
    value, source = quota_value(quotas, service, code)
    name = f"{label} ({code})"
    if value is None:
        return Check(name, False, f"{source}. Fix: choose another region (WORKSHOP_REGION).")
    if value >= need:
        return Check(name, True, f"{value:g} ({source}) covers {need} for {attendees} attendees")
    return Check(
        name,
        False,
        (
            f"{value:g} ({source}) is below the {need} that {attendees} attendees need. Fix: request an increase to "
            f"at least {need} (+{need - value:g}) at {quota_console_url(region, service, code)}"
        ),
    )


def region_check(region: str) -> Check:
    """Whether SageMaker's built-in XGBoost image (per the SDK's registry) and serverless inference are in the region."""
    from helpers import regions

    name = f"XGBoost image in {region}"
    if region in regions.workshop_regions():
        from helpers.sagemaker import xgboost_image_uri

        return Check(name, True, xgboost_image_uri(region))
    return Check(
        name,
        False,
        (
            f"the workshop cannot run in {region} (SageMaker's XGBoost image or serverless inference is not offered "
            "there). Fix: use one of " + ", ".join(regions.alternatives(region)) + "."
        ),
    )


def run(attendees: int) -> list[Check]:
    """Every preflight check for a workshop of that many attendees."""
    from helpers import session
    from helpers.errors import WorkshopError

    if attendees < 1:
        raise WorkshopError(f"--attendees {attendees}: a workshop needs at least 1 attendee.")
    info = session.prepare()
    region = info["region"]
    checks = [
        Check(
            "identity (STS)", True, f"{info['identity']} in account {info['account']} ({info['mode']} mode)"
        ),
        region_check(region),
    ]
    quotas = session.client("service-quotas")
    need = needs(attendees)
    checks.append(quota_check(quotas, region, LAMBDA_QUOTA, need[LAMBDA_QUOTA[1]], attendees))
    checks.append(quota_check(quotas, region, SERVERLESS_QUOTA, need[SERVERLESS_QUOTA[1]], attendees))
    return checks


def report(checks: list[Check]) -> str:
    """The findings, one a line, and a verdict."""
    failed = [c for c in checks if not c.ok]
    verdict = "ready" if not failed else f"NOT ready: {len(failed)} check(s) failed"
    return "\n".join([c.line() for c in checks] + [verdict])

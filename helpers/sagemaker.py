"""SageMaker: the model, its endpoint configuration and the endpoint (chapters 6-7 state)."""

from __future__ import annotations

from botocore.exceptions import ClientError

from helpers.errors import WorkshopError
from helpers.session import client, settings
from helpers.waiters import retry, wait_for_state

# Account of the built-in XGBoost images per region (AWS's published list; used when the
# sagemaker SDK, which knows every region, is not installed).
XGBOOST_IMAGE_ACCOUNTS = {
    "us-east-1": "683313688378", "us-east-2": "257758044811", "us-west-1": "746614075791",
    "us-west-2": "246618743249", "eu-west-1": "141502667606", "eu-west-2": "764974769150",
    "eu-central-1": "492215442770", "ap-northeast-1": "354813040037", "ap-southeast-1": "121021644041",
    "ap-southeast-2": "783357654285", "ca-central-1": "341280168497",
}


def xgboost_image_uri(region: str, version: str = "1.7-1") -> str:
    """The built-in XGBoost container image for a region (the sagemaker SDK's lookup when installed)."""
    try:
        from sagemaker import image_uris  # heavy (~600 MB, ~2 s import): only when present

        return image_uris.retrieve("xgboost", region=region, version=version)
    except Exception:
        account = XGBOOST_IMAGE_ACCOUNTS.get(region, XGBOOST_IMAGE_ACCOUNTS["us-east-1"])
        return f"{account}.dkr.ecr.{region}.amazonaws.com/sagemaker-xgboost:{version}"


ROLE_PROPAGATION_TEXT = "Could not access model data at"
ROLE_PROPAGATION_TIMEOUT_S = 180
SERVERLESS_QUOTA_CODE = "L-96300102"
IN_PROGRESS = {"Creating", "Updating", "SystemUpdating", "RollingBack", "Deleting"}


def _missing(exc: ClientError) -> bool:
    error = exc.response["Error"]
    return error["Code"] in ("ValidationException", "ValidationError", "ResourceNotFound") and (
        "Could not find" in error["Message"] or "does not exist" in error["Message"] or "not found" in error["Message"]
    )


def _describe_or_create(kind: str, key: str, spec: dict, create=None) -> dict:
    """Describe the resource named spec[key]; create it from spec first when it does not exist."""
    sm = client("sagemaker")
    describe = getattr(sm, f"describe_{kind}")
    try:
        return describe(**{key: spec[key]})
    except ClientError as exc:
        if not _missing(exc):
            raise
    (create or getattr(sm, f"create_{kind}"))(**spec)
    print(f"created {kind.replace('_', ' ')} {spec[key]}")
    return describe(**{key: spec[key]})


def _create_model(**spec) -> dict:
    """CreateModel, retried while SageMaker cannot yet use a new execution role (IAM propagates in seconds)."""
    sm = client("sagemaker")
    print_reason = [True]

    def create() -> dict:
        try:
            return sm.create_model(**spec)
        except ClientError as exc:
            error = exc.response["Error"]
            if print_reason[0] and ROLE_PROPAGATION_TEXT in error.get("Message", ""):
                print_reason[0] = False
                print(f"  SageMaker cannot read the model data with role {spec.get('ExecutionRoleArn')} yet: "
                      "a new role and its policy take a few seconds to reach SageMaker (IAM is eventually "
                      "consistent). Retrying.")  # fmt: skip
            raise

    try:
        return retry(create, what=f"creating model {spec['ModelName']}", codes={"ValidationException"},
                     message_contains=ROLE_PROPAGATION_TEXT, timeout_s=ROLE_PROPAGATION_TIMEOUT_S)  # fmt: skip
    except WorkshopError as exc:
        raise WorkshopError(
            f"{exc}\nFix: check that the role trusts sagemaker.amazonaws.com and may s3:GetObject the artifact "
            "(Step 3's policy), that the object exists, and that the bucket is in this region; then re-run the cell."
        ) from exc.__cause__


def ensure_model(spec: dict) -> dict:
    """Create the SageMaker model from spec unless it exists (waiting out role propagation); return its description."""
    return _describe_or_create("model", "ModelName", spec, create=_create_model)


def ensure_endpoint_config(spec: dict) -> dict:
    """Create the endpoint configuration from spec unless it exists; return its description."""
    return _describe_or_create("endpoint_config", "EndpointConfigName", spec)


def _quota_error(exc: ClientError, name: str, config_name: str) -> WorkshopError:
    """The attendee's message for ResourceLimitExceeded: what the quota is and the three ways out."""
    return WorkshopError(
        f"SageMaker refused endpoint {name} with configuration {config_name}: {exc.response['Error']['Message']}\n"
        "Serverless concurrency is shared by every serverless endpoint of the account in this region. Fix: lower "
        "MaxConcurrency in the endpoint configuration spec (then delete the old configuration or give the spec a "
        "new name); or delete serverless endpoints you no longer need (in a shared account another attendee may "
        "hold the rest: python -m helpers cleanup --all-prefixes --older-than 8h lists old ones); or ask for an "
        f"increase of the quota \"Maximum total concurrency that can be allocated across all serverless endpoints\" "
        f"({SERVERLESS_QUOTA_CODE}) in Service Quotas."
    )


def _describe(sm, name: str) -> dict | None:
    """The endpoint's description, or None when there is none."""
    try:
        return sm.describe_endpoint(EndpointName=name)
    except ClientError as exc:
        if _missing(exc):
            return None
        raise


def _status(sm, name: str) -> str:
    """The endpoint's status, or "Gone" once it no longer exists."""
    described = _describe(sm, name)
    return described["EndpointStatus"] if described else "Gone"


def _interval() -> float:
    return 1 if settings().is_local else 15


def _wait_settled(sm, name: str, goal: str = "be InService") -> dict | None:
    """Wait while the endpoint is Creating, Updating or Deleting; return its description (None when gone)."""
    wait_for_state(
        lambda: _status(sm, name),
        what=f"endpoint {name} to {goal}",
        done={"InService", "Failed", "OutOfService", "Gone"},
        timeout_s=1800,
        interval_s=_interval(),
        hint="SageMaker is still working on it; re-run this cell to keep waiting.",
    )
    return _describe(sm, name)


def _delete_failed(sm, name: str, reason: str) -> None:
    """Delete a Failed endpoint and wait until it is gone (SageMaker cannot update or re-create it)."""
    print(f"endpoint {name} is Failed: {reason}\n  deleting it to create it again")
    sm.delete_endpoint(EndpointName=name)
    wait_for_state(lambda: _status(sm, name), what=f"endpoint {name} to be deleted", done={"Gone"},
                   timeout_s=900, interval_s=_interval())  # fmt: skip


def _create(sm, name: str, config_name: str, tags: list[dict]) -> None:
    try:
        sm.create_endpoint(EndpointName=name, EndpointConfigName=config_name, Tags=tags)
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "ResourceLimitExceeded":
            raise _quota_error(exc, name, config_name) from None
        raise
    print(f"creating endpoint {name} (in AWS this takes a few minutes)")


def _update(sm, name: str, config_name: str) -> None:
    try:
        sm.update_endpoint(EndpointName=name, EndpointConfigName=config_name)
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "ResourceLimitExceeded":
            raise _quota_error(exc, name, config_name) from None
        raise
    print(f"updating endpoint {name} to {config_name} (the old configuration serves meanwhile)")


def ensure_endpoint(name: str, config_name: str, tags: list[dict], reuse_existing: bool = False) -> dict:
    """Create (or point at config_name) the endpoint and wait until it is InService.

    A change in progress is waited for; a Failed endpoint is deleted and created again (SageMaker
    allows nothing else). With reuse_existing, an existing endpoint keeps its configuration (an
    attendee's own chapter-6 endpoint) and is never deleted.
    """
    sm = client("sagemaker")
    current = _describe(sm, name)
    if current and current["EndpointStatus"] in IN_PROGRESS:
        print(f"endpoint {name} is {current['EndpointStatus']}: waiting for SageMaker to finish")
        current = _wait_settled(sm, name, f"finish {current['EndpointStatus']}")
    if current and reuse_existing:
        print(f"endpoint {name}: exists, reused as it is ({current['EndpointConfigName']})")
    elif current and current["EndpointStatus"] == "Failed":
        _delete_failed(sm, name, current.get("FailureReason", "no reason given"))
        current = None
    elif current and current["EndpointConfigName"] != config_name:
        _update(sm, name, config_name)
    if current is None:
        _create(sm, name, config_name, tags)
    _wait_settled(sm, name)
    described = sm.describe_endpoint(EndpointName=name)
    status, reason = described["EndpointStatus"], described.get("FailureReason")
    if status != "InService":
        raise WorkshopError(
            f"endpoint {name} ended {status}: {reason or 'no reason given'}\n"
            "Fix: check the model artifact (tools/check_sagemaker_artifact.py) and the model's role, then re-run "
            "this cell: a Failed endpoint is deleted and created again."
        )
    if not reuse_existing and described["EndpointConfigName"] != config_name:
        raise WorkshopError(
            f"endpoint {name} could not switch to {config_name} and still serves {described['EndpointConfigName']}: "
            f"{reason or 'no reason given'}\nFix: correct the model or configuration, then re-run this cell."
        )
    return described

"""SageMaker: the model, its endpoint configuration and the endpoint (chapters 6-7 state)."""

from __future__ import annotations

from botocore.exceptions import ClientError

from helpers.session import client, settings
from helpers.waiters import wait_for_state

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


def _missing(exc: ClientError) -> bool:
    error = exc.response["Error"]
    return error["Code"] in ("ValidationException", "ValidationError", "ResourceNotFound") and (
        "Could not find" in error["Message"] or "does not exist" in error["Message"] or "not found" in error["Message"]
    )


def _describe_or_create(kind: str, key: str, spec: dict) -> dict:
    """Describe the resource named spec[key]; create it from spec first when it does not exist."""
    sm = client("sagemaker")
    describe = getattr(sm, f"describe_{kind}")
    try:
        return describe(**{key: spec[key]})
    except ClientError as exc:
        if not _missing(exc):
            raise
    getattr(sm, f"create_{kind}")(**spec)
    print(f"created {kind.replace('_', ' ')} {spec[key]}")
    return describe(**{key: spec[key]})


def ensure_model(spec: dict) -> dict:
    """Create the SageMaker model from spec unless it exists; return its description."""
    return _describe_or_create("model", "ModelName", spec)


def ensure_endpoint_config(spec: dict) -> dict:
    """Create the endpoint configuration from spec unless it exists; return its description."""
    return _describe_or_create("endpoint_config", "EndpointConfigName", spec)


def ensure_endpoint(name: str, config_name: str, tags: list[dict], reuse_existing: bool = False) -> dict:
    """Create (or point at config_name) the endpoint and wait until it is InService.

    With reuse_existing, an existing endpoint keeps its configuration (an attendee's own chapter-6 endpoint).
    """
    sm = client("sagemaker")
    try:
        current = sm.describe_endpoint(EndpointName=name)
        if reuse_existing:
            print(f"endpoint {name}: exists, reused as it is ({current['EndpointConfigName']})")
        elif current["EndpointConfigName"] != config_name and current["EndpointStatus"] == "InService":
            sm.update_endpoint(EndpointName=name, EndpointConfigName=config_name)
            print(f"endpoint {name} now uses {config_name}")
    except ClientError as exc:
        if not _missing(exc):
            raise
        sm.create_endpoint(EndpointName=name, EndpointConfigName=config_name, Tags=tags)
        print(f"creating endpoint {name} (in AWS this takes a few minutes)")
    wait_for_state(
        lambda: sm.describe_endpoint(EndpointName=name)["EndpointStatus"],
        what=f"endpoint {name} to be InService",
        done={"InService"},
        failed={"Failed", "OutOfService"},
        timeout_s=1200,
        interval_s=2 if settings().is_local else 15,
        hint="See the endpoint's FailureReason in the SageMaker console, then re-run this cell.",
    )
    return sm.describe_endpoint(EndpointName=name)

"""Errors attendees commonly hit, turned into messages that say what to do."""

from __future__ import annotations

import re

from botocore.exceptions import (
    ClientError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
    PartialCredentialsError,
    TokenRetrievalError,
    UnauthorizedSSOTokenError,
)


class WorkshopError(RuntimeError):
    """A failure with a message written for the attendee: the problem, then the fix."""


EXPIRED_CODES = {"ExpiredToken", "ExpiredTokenException", "RequestExpired", "InvalidClientTokenId"}
DENIED_CODES = {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "AuthorizationError"}
THROTTLE_CODES = {
    "Throttling",
    "ThrottlingException",
    "TooManyRequestsException",
    "ProvisionedThroughputExceededException",
}


def code(exc: BaseException) -> str:
    """The AWS error code an exception carries ('' for one that is not an AWS error)."""
    response = getattr(exc, "response", None)
    return str(response.get("Error", {}).get("Code", "")) if isinstance(response, dict) else ""


def explain(exc: BaseException, doing: str = "") -> str | None:
    """A message saying what went wrong and what to do, or None when the error is not a common one."""
    where = f" while {doing}" if doing else ""
    if isinstance(exc, (NoCredentialsError, PartialCredentialsError)):
        return (
            f"No AWS credentials were found{where}. Fix: run `aws configure` (or `aws sso login --profile NAME` "
            "and export AWS_PROFILE=NAME), then restart the kernel. To work offline instead: export WORKSHOP_MODE=local."
        )
    if isinstance(exc, (TokenRetrievalError, UnauthorizedSSOTokenError)):
        return f"Your AWS SSO session has expired{where}. Fix: run `aws sso login`, then re-run this cell."
    if isinstance(exc, NoRegionError):
        return f"No AWS region is set{where}. Fix: export WORKSHOP_REGION=us-east-1 (or AWS_DEFAULT_REGION)."
    if isinstance(exc, EndpointConnectionError):
        return (
            f"Could not connect to {exc.kwargs.get('endpoint_url', 'the endpoint')}{where}. In local mode: "
            "`python -m localcloud status` tells whether the local cloud runs, `python -m localcloud up` starts it. "
            "In aws mode: check the network and that WORKSHOP_REGION names a real region."
        )
    if not isinstance(exc, ClientError):
        return None
    error = exc.response.get("Error", {})
    code, message = error.get("Code", ""), error.get("Message", "")
    operation = getattr(exc, "operation_name", "")
    if code in EXPIRED_CODES:
        return (
            f"Your AWS credentials are expired or invalid{where} ({code}). Fix: refresh them "
            "(`aws sso login`, or new keys in `aws configure`), then re-run this cell."
        )
    if code in DENIED_CODES or "not authorized to perform" in message:
        action = re.search(r"perform: ([\w:-]+)", message)
        resource = re.search(r'on resource: "?([^\s"]+)', message)  # S3 quotes the ARN
        return (
            f"Permission denied{where}: {operation} needs "
            f"{action.group(1) if action else 'a permission your identity lacks'}"
            f"{' on ' + resource.group(1) if resource else ''}. Fix: ask the workshop admin to grant it "
            "(docs/identity.md lists the permissions an attendee needs), or use WORKSHOP_MODE=local."
        )
    if code == "ResourceConflictException":
        return (
            f"The resource is still being updated{where} ({message}). Fix: wait a few seconds and re-run this cell; "
            "the kit's helpers wait and retry by themselves."
        )
    if code == "DeleteConflict":
        return (
            f"IAM refuses to delete it{where}: something still uses it ({message}). Fix: remove what the message "
            "names (an instance profile, an attached policy) or run the kit's cleanup, which removes them in order."
        )
    if "deletion protection" in message.lower():
        return (
            f"The resource has deletion protection{where}. Fix: turn it off first (DynamoDB: update_table with "
            "DeletionProtectionEnabled=False), then delete it; the kit never turns it on."
        )
    if code in THROTTLE_CODES:
        return f"AWS is throttling requests{where} ({code}). Fix: wait a minute and re-run; lower the traffic rate."
    if code == "UnrecognizedClientException":
        return f"AWS does not recognise the access key{where}. Fix: check the credentials and region, then re-run."
    return None


def friendly(exc: BaseException, doing: str = "") -> BaseException:
    """A WorkshopError carrying the explanation when there is one, else the original exception."""
    message = explain(exc, doing)
    return WorkshopError(message) if message else exc


# Error codes that mean "no such resource", across the services the kit uses.
NOT_FOUND_CODES = {
    "ResourceNotFoundException", "ResourceNotFound", "NoSuchEntity", "NoSuchBucket", "NoSuchKey", "NotFound",
    "NotFoundException", "404", "AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist",
    "NoSuchVersion",
}  # fmt: skip


def is_not_found(exc: BaseException) -> bool:
    """True when an AWS error says the resource does not exist (the kit's one test for it)."""
    response = getattr(exc, "response", None)
    if not isinstance(response, dict):
        return False
    error = response.get("Error", {})
    code, message = error.get("Code", ""), error.get("Message", "")
    if code in NOT_FOUND_CODES:
        return True
    # SageMaker answers ValidationException for missing things; other validation errors are real.
    return code in ("ValidationException", "ValidationError") and any(
        s in message for s in ("Could not find", "does not exist", "not found")
    )

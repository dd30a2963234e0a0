"""aws-mode hardening, against the local cloud with faults injected through botocore's event hooks.

A `before-send` hook that returns a response stands in for AWS's answer: it goes through botocore's
parsing and retry machinery exactly as a real answer would.
"""

from __future__ import annotations

import json

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from kit_world import REGION, TRUST, handler_zip, kit_bucket, tags_for, use_local_cloud

from helpers import awslambda, cleanup, inventory, resources, session
from helpers.errors import WorkshopError
from helpers.waiters import wait_for_state


class _Raw:
    """The raw stream botocore reads a response body from."""

    def __init__(self, body: bytes) -> None:
        self.body = body

    def stream(self, **_):
        yield self.body


def answer(status: int, body: dict | str, headers: dict | None = None) -> AWSResponse:
    """A canned HTTP answer, as AWS would send it."""
    data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
    return AWSResponse("https://aws.invalid/", status, headers or {}, _Raw(data))


def inject(monkeypatch, operation: str, fault, times: int = 1) -> list[str]:
    """Answer the first `times` sends of operation ('dynamodb.DeleteTable') with fault; return a log of every send."""
    sends: list[str] = []

    def hook(request, event_name, **_):
        sends.append(event_name)
        if len(sends) <= times:
            return fault

    def faulty():
        s = boto3.Session(region_name=REGION)  # its own session: the hook must not reach other tests' clients
        s.events.register(f"before-send.{operation}", hook)
        return s

    monkeypatch.setattr(session, "session", faulty)
    session.forget()
    return sends


def json_error(code: str, message: str, status: int = 400) -> AWSResponse:
    return answer(
        status,
        {"__type": f"com.amazonaws.service#{code}", "message": message},
        {"x-amzn-ErrorType": code, "Content-Type": "application/x-amz-json-1.0"},
    )


def rest_json_error(code: str, message: str, status: int) -> AWSResponse:
    return answer(
        status,
        {"Type": "User", "message": message},
        {"x-amzn-ErrorType": code, "Content-Type": "application/json"},
    )


def tagged_table(prefix: str) -> str:
    name = f"{prefix}-inference-metadata"
    boto3.client("dynamodb", region_name=REGION).create_table(
        TableName=name,
        BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "requestId", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "requestId", "AttributeType": "S"}],
        Tags=[{"Key": k, "Value": v} for k, v in tags_for(prefix, "2030-01-01T00:00:00Z").items()],
    )
    return name


@pytest.fixture(autouse=True)
def forget_faulty_clients():
    """Clients built with injected faults must not outlive their test."""
    yield
    session.forget()


@pytest.fixture()
def aws_mode(kit_env, local_cloud, monkeypatch):
    """aws mode, whose clients reach the local cloud through AWS_ENDPOINT_URL; yields the prefix."""
    use_local_cloud(monkeypatch, local_cloud, kit_env, mode="aws")
    monkeypatch.setenv("AWS_ENDPOINT_URL", local_cloud)
    return kit_env


def test_missing_credentials_say_how_to_configure_them(aws_mode, monkeypatch, tmp_path):
    for name in (
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_PROFILE",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")  # never ask an instance metadata service
    monkeypatch.setattr(
        session, "session", lambda: boto3.Session(region_name=REGION)
    )  # looks for credentials afresh
    session.forget()
    with pytest.raises(WorkshopError, match=r"No AWS credentials were found.*aws configure"):
        session.prepare()


def test_an_expired_token_says_to_refresh_the_credentials(aws_mode, monkeypatch):
    expired = answer(
        403,
        '<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type>'
        "<Code>ExpiredToken</Code><Message>The security token included in the request is expired"
        "</Message></Error><RequestId>1</RequestId></ErrorResponse>",
        {"Content-Type": "text/xml"},
    )
    inject(monkeypatch, "sts.GetCallerIdentity", expired)
    with pytest.raises(WorkshopError, match=r"expired or invalid.*ExpiredToken.*aws sso login"):
        session.prepare()


def test_access_denied_names_the_action_and_the_resource(aws_mode, monkeypatch):
    table = tagged_table(aws_mode)
    arn = f"arn:aws:dynamodb:{REGION}:123456789012:table/{table}"
    inject(
        monkeypatch,
        "dynamodb.DeleteTable",
        json_error(
            "AccessDeniedException",
            f"User: arn:aws:sts::123456789012:assumed-role/attendee/jane is not authorized to "
            f"perform: dynamodb:DeleteTable on resource: {arn} because no identity-based policy allows the dynamodb:DeleteTable action",
        ),
    )
    with pytest.raises(WorkshopError) as error:
        cleanup.cleanup(aws_mode, delete=True)
    assert "dynamodb:DeleteTable" in str(error.value) and arn in str(error.value)


def test_a_terse_access_denied_still_names_the_operation_and_the_resource(aws_mode, monkeypatch):
    s3 = boto3.client("s3", region_name=REGION)
    bucket = kit_bucket(s3, aws_mode)
    inject(
        monkeypatch,
        "s3.DeleteBucket",
        answer(403, "<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>"),
    )
    with pytest.raises(WorkshopError) as error:
        cleanup.cleanup(aws_mode, delete=True)
    assert "DeleteBucket" in str(error.value) and bucket in str(error.value)


def test_throttling_is_absorbed_by_standard_retries(aws_mode, monkeypatch):
    sends = inject(
        monkeypatch, "dynamodb.ListTables", json_error("ThrottlingException", "Rate exceeded"), times=2
    )
    session.client("dynamodb").list_tables()
    assert len(sends) == 3  # two throttled attempts, then the one that went through


def test_a_role_not_yet_assumable_is_retried_when_creating_the_function(aws_mode, monkeypatch):
    role = boto3.client("iam").create_role(
        RoleName=f"{aws_mode}-inference-lambda-role", AssumeRolePolicyDocument=json.dumps(TRUST)
    )
    sends = inject(
        monkeypatch,
        "lambda.CreateFunction",
        rest_json_error(
            "InvalidParameterValueException",
            "The role defined for the function cannot be assumed by Lambda.",
            400,
        ),
    )
    spec = function_spec(aws_mode, role["Role"]["Arn"])
    awslambda.ensure_function(spec, handler_zip())
    assert len(sends) == 2
    assert (
        boto3.client("lambda").get_function(FunctionName=spec["FunctionName"])["Configuration"]["State"]
        == "Active"
    )


def test_an_update_in_progress_is_retried(aws_mode, monkeypatch):
    role = boto3.client("iam").create_role(
        RoleName=f"{aws_mode}-inference-lambda-role", AssumeRolePolicyDocument=json.dumps(TRUST)
    )
    spec = function_spec(aws_mode, role["Role"]["Arn"])
    awslambda.ensure_function(spec, handler_zip())
    sends = inject(
        monkeypatch,
        "lambda.UpdateFunctionCode",
        rest_json_error(
            "ResourceConflictException",
            f"The operation cannot be performed at this time. An update is in progress for "
            f"resource: arn:aws:lambda:{REGION}:123456789012:function:{spec['FunctionName']}",
            409,
        ),
    )
    awslambda.ensure_function(
        spec, awslambda.build_zip({"app.py": awslambda.ROOT / "lambda" / "chapter7" / "app.py"})
    )
    assert len(sends) == 2


def test_a_wait_gives_up_at_its_timeout_saying_what_it_waited_for():
    with pytest.raises(
        WorkshopError,
        match=r"Gave up waiting for endpoint e to be InService after 0 s \(last state Creating\)\. See",
    ):
        wait_for_state(
            lambda: "Creating",
            what="endpoint e to be InService",
            done={"InService"},
            timeout_s=0.2,
            interval_s=0.05,
            hint="See the endpoint's FailureReason.",
        )


def test_a_deletion_that_never_shows_is_bounded(kit_env, monkeypatch):
    table = tagged_table(kit_env)
    resource = next(r for r in inventory.collect(kit_env) if r.name == table)
    monkeypatch.setattr(resources, "exists", lambda r: True)  # AWS keeps showing it
    with pytest.raises(
        WorkshopError, match=rf"Gave up waiting for table {table} to be deleted.*run the cleanup again"
    ):
        cleanup.delete_one(resource, timeout_s=0.2)


def test_an_iam_delete_conflict_says_what_still_uses_the_role():
    from botocore.exceptions import ClientError

    from helpers.errors import explain

    exc = ClientError(
        {
            "Error": {
                "Code": "DeleteConflict",
                "Message": "Cannot delete entity, must remove roles from instance profile first.",
            }
        },
        "DeleteRole",
    )
    assert "instance profile" in explain(exc, "deleting role x") and "Fix:" in explain(exc)


def test_deletion_protection_says_how_to_turn_it_off():
    from botocore.exceptions import ClientError

    from helpers.errors import explain

    exc = ClientError(
        {
            "Error": {
                "Code": "ValidationException",
                "Message": "Resource cannot be deleted as it is currently protected against deletion. Disable deletion protection first.",
            }
        },
        "DeleteTable",
    )
    assert "DeletionProtectionEnabled=False" in explain(exc)


def test_the_error_code_of_an_aws_error_and_of_anything_else():
    from botocore.exceptions import ClientError

    from helpers import errors

    denied = ClientError({"Error": {"Code": "AccessDenied", "Message": "no"}}, "GetRole")
    assert errors.code(denied) == "AccessDenied"
    assert errors.code(ValueError("not AWS's")) == ""


def function_spec(prefix: str, role_arn: str) -> dict[str, str]:
    """The inference function's CreateFunction parameters, as 00_setup gives them (code aside)."""
    return {
        "FunctionName": f"{prefix}-inference",
        "Runtime": "python3.13",
        "Role": role_arn,
        "Handler": "app.lambda_handler",
    }

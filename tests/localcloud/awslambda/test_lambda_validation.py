"""Lambda validates a CreateFunction request before it checks the execution role's trust (localcloud/awslambda/hooks.py).

The constraints are CreateFunction's (https://docs.aws.amazon.com/lambda/latest/api/API_CreateFunction.html):
Role "Pattern: arn:(aws[a-zA-Z-]*)?:iam::\\d{12}:role/?[a-zA-Z_0-9+=,.@\\-_/]+", Architectures "Valid Values:
x86_64 | arm64", EphemeralStorage Size "Valid Range: Minimum value of 512. Maximum value of 10240.", Layers
and Code naming what exists. AWS answers a request's input-constraint violations (ValidationException) and
its parameters' problems before the role's trust, which it checks by assuming the role: "The role defined for
the function cannot be assumed by Lambda." only for a well-formed request. Observed order: moto 5.2.5's own
tests (getmoto/moto tests/test_awslambda) expect each of these answers for requests whose role Lambda could
not assume, as AWS gave them when those tests were written against it.
"""

from __future__ import annotations

import io
import json
import uuid
import zipfile

import boto3
import pytest
from botocore.exceptions import ClientError

REGION = "us-east-1"
SAGEMAKER_TRUST = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "sagemaker.amazonaws.com"}, "Action": "sts:AssumeRole"}]}  # fmt: skip
LAMBDA_TRUST = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}  # fmt: skip


def unique(stem: str) -> str:
    return f"{stem}-{uuid.uuid4().hex[:8]}"


def zipped() -> bytes:
    package = io.BytesIO()
    with zipfile.ZipFile(package, "w") as archive:
        archive.writestr("app.py", "def handler(event, context):\n    return 1\n")
    return package.getvalue()


@pytest.fixture(scope="module")
def clients(local_cloud):
    return lambda service: boto3.client(service, endpoint_url=local_cloud, region_name=REGION)


@pytest.fixture(scope="module")
def untrusted(clients) -> str:
    """A role that exists but does not trust lambda.amazonaws.com."""
    return clients("iam").create_role(
        RoleName=unique("sagemaker-role"), AssumeRolePolicyDocument=json.dumps(SAGEMAKER_TRUST)
    )["Role"]["Arn"]


def answer(clients, **request) -> tuple[str, str]:
    """The error code and message CreateFunction answers for a zip function with request's parameters."""
    spec = {"FunctionName": unique("fn"), "Runtime": "python3.13", "Handler": "app.handler"}
    spec.update({"Code": {"ZipFile": zipped()}} if "Code" not in request else {})
    with pytest.raises(ClientError) as caught:
        clients("lambda").create_function(**spec, **request)
    return caught.value.response["Error"]["Code"], caught.value.response["Error"]["Message"]


def test_a_role_that_is_not_a_role_arn_is_a_validation_error(clients):
    assert answer(clients, Role="lambda-role") == (
        "ValidationException",
        "1 validation error detected: Value 'lambda-role' at 'role' failed to satisfy constraint: Member must "
        "satisfy regular expression pattern: arn:(aws[a-zA-Z-]*)?:iam::\\d{12}:role/?[a-zA-Z_0-9+=,.@\\-_/]+",
    )


def test_another_accounts_role_is_a_cross_account_pass_role(clients):
    assert answer(clients, Role="arn:aws:iam::999999999999:role/lambda-role") == (
        "AccessDeniedException",
        "Cross-account pass role is not allowed.",
    )


def test_an_unknown_architecture_answers_before_the_role(clients, untrusted):
    code, message = answer(clients, Role=untrusted, Architectures=["sparc"])
    assert (code, "at 'architectures'" in message) == ("ValidationException", True)


def test_too_much_ephemeral_storage_answers_before_the_role(clients, untrusted):
    code, message = answer(clients, Role=untrusted, EphemeralStorage={"Size": 20480})
    assert (code, "at 'ephemeralStorage.size'" in message) == ("ValidationException", True)


def test_an_unknown_layer_answers_before_the_role(clients, untrusted):
    layer = f"arn:aws:lambda:{REGION}:123456789012:layer:{unique('layer')}:1"
    code, message = answer(clients, Role=untrusted, Layers=[layer])
    assert (code, layer in message) == ("ResourceNotFoundException", True)


def test_a_missing_code_bucket_answers_before_the_role(clients, untrusted):
    assert answer(
        clients, Role=untrusted, Code={"S3Bucket": unique("no-such-bucket"), "S3Key": "app.zip"}
    ) == (
        "InvalidParameterValueException",
        "Error occurred while GetObject. S3 Error Code: NoSuchBucket. S3 Error Message: The specified bucket "
        "does not exist",
    )


def test_a_missing_image_answers_before_the_role(clients, untrusted, monkeypatch):
    monkeypatch.setenv("MOTO_LAMBDA_STUB_ECR", "false")  # moto then looks the image up in its ECR
    repository = clients("ecr").create_repository(repositoryName=unique("repo"))["repository"][
        "repositoryUri"
    ]
    uri = f"{repository}:latest"  # a repository without that image
    code, _ = answer(clients, Role=untrusted, PackageType="Image", Code={"ImageUri": uri})
    assert code == "ImageNotFoundException"


def test_a_well_formed_request_with_an_untrusted_role_is_refused_for_the_role(clients, untrusted):
    assert answer(clients, Role=untrusted) == (
        "InvalidParameterValueException",
        "The role defined for the function cannot be assumed by Lambda.",
    )


def test_a_well_formed_request_with_a_trusted_role_creates_the_function(clients):
    role = clients("iam").create_role(
        RoleName=unique("role"), AssumeRolePolicyDocument=json.dumps(LAMBDA_TRUST)
    )
    name = unique("fn")
    clients("lambda").create_function(
        FunctionName=name,
        Runtime="python3.13",
        Handler="app.handler",
        Role=role["Role"]["Arn"],
        Code={"ZipFile": zipped()},
    )
    assert clients("lambda").get_function(FunctionName=name)["Configuration"]["Role"] == role["Role"]["Arn"]


def test_update_function_configuration_checks_a_new_role_the_same_way(clients, untrusted):
    role = clients("iam").create_role(
        RoleName=unique("role"), AssumeRolePolicyDocument=json.dumps(LAMBDA_TRUST)
    )
    name = unique("fn")
    lam = clients("lambda")
    lam.create_function(
        FunctionName=name, Runtime="python3.13", Handler="app.handler", Role=role["Role"]["Arn"],
        Code={"ZipFile": zipped()},
    )  # fmt: skip
    for bad, code in [("lambda-role", "ValidationException"), (untrusted, "InvalidParameterValueException")]:
        with pytest.raises(ClientError) as caught:
            lam.update_function_configuration(FunctionName=name, Role=bad)
        assert caught.value.response["Error"]["Code"] == code

"""Lambda's runtime lifecycle: deprecated runtimes refused as AWS refuses them (localcloud/awslambda/runtimes.py)."""

from __future__ import annotations

import datetime as dt
import io
import json
import re
import uuid
import zipfile
from pathlib import Path

import boto3
import pytest
from botocore.exceptions import ClientError
from notebook_source import SOURCES

from localcloud.awslambda import runtimes as lambda_runtimes

ROOT = Path(__file__).resolve().parents[3]
TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
    ],
}


@pytest.fixture()
def lam(local_cloud):
    return boto3.client("lambda", endpoint_url=local_cloud, region_name="us-east-1")


@pytest.fixture(scope="module")
def role(local_cloud) -> str:
    iam = boto3.client("iam", endpoint_url=local_cloud, region_name="us-east-1")
    name = f"test-runtimes-{uuid.uuid4().hex[:8]}"
    return iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(TRUST))["Role"]["Arn"]


def package() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("app.py", "def handler(event, context):\n    return event\n")
    return out.getvalue()


def create(lam, role: str, runtime: str) -> str:
    name = f"rt-{uuid.uuid4().hex[:8]}"
    lam.create_function(
        FunctionName=name, Runtime=runtime, Role=role, Handler="app.handler", Code={"ZipFile": package()}
    )
    return name


def test_creating_a_function_on_a_runtime_past_its_create_block_is_refused_with_aws_message(lam, role):
    with pytest.raises(ClientError) as caught:
        create(lam, role, "python3.8")
    error = caught.value.response["Error"]
    assert error["Code"] == "InvalidParameterValueException"
    assert error["Message"] == lambda_runtimes.refusal("python3.8")
    assert error["Message"].startswith("The runtime parameter of python3.8 is no longer supported")


def test_a_current_runtime_is_accepted(lam, role):
    name = create(lam, role, "python3.13")
    assert lam.get_function_configuration(FunctionName=name)["Runtime"] == "python3.13"


def test_moving_a_function_to_a_blocked_runtime_is_refused(lam, role):
    name = create(lam, role, "python3.13")
    with pytest.raises(ClientError, match="python3.9 is no longer supported"):
        lam.update_function_configuration(FunctionName=name, Runtime="python3.9")


def test_a_create_block_comes_before_the_update_block():
    day = dt.date(2026, 8, 15)  # between python3.11's create block (Jul 31) and update block (Aug 31)
    assert lambda_runtimes.blocked("python3.11", "create", day)
    assert not lambda_runtimes.blocked("python3.11", "update", day)
    assert lambda_runtimes.blocked("python3.11", "update", dt.date(2026, 9, 1))


def test_a_runtime_is_usable_before_its_deprecation():
    assert not lambda_runtimes.blocked("python3.11", "create", dt.date(2026, 6, 1))


def test_the_kit_deploys_a_runtime_aws_still_accepts_today():
    sources = [SOURCES / name for name in ("00_setup.py", "8.2_update_lambda_write_dynamodb.py")]
    runtimes = {m for path in sources for m in re.findall(r'"Runtime": "([^"]+)"', path.read_text())}
    assert runtimes and not any(lambda_runtimes.blocked(r, "create") for r in runtimes), runtimes

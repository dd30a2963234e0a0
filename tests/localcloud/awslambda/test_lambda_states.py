"""Lambda function states as AWS answers them under the local cloud's aws profile, and the kit surviving them."""

from __future__ import annotations

import io
import json
import re
import textwrap
import time
import uuid
import zipfile
from types import SimpleNamespace

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from kit_world import execution_role
from notebook_source import SOURCES

from helpers import awslambda
from localcloud import profile

REGION = "us-east-1"
ACCOUNT = "123456789012"
PENDING = "The operation cannot be performed at this time. The function is currently in the following state: Pending"


@pytest.fixture()
def lam(local_cloud):
    """A Lambda client that tries each call once (a conflict must reach the test, not be retried)."""
    return boto3.client("lambda", endpoint_url=local_cloud, region_name=REGION,
                        config=Config(retries={"total_max_attempts": 1}))  # fmt: skip


@pytest.fixture()
def aws_profile():
    """The aws profile, its delays shortened (create and update take 0.6-3 s: long against load jitter), for one test."""
    current = profile.current()
    old = profile.use(profile.Profile(name="aws", seed=1, scale=0.6, quotas=dict(current.quotas)))
    yield profile.current()
    profile.use(old)


@pytest.fixture(scope="module")
def role(local_cloud) -> str:
    """An execution role Lambda may assume."""
    iam = boto3.client("iam", endpoint_url=local_cloud, region_name=REGION)
    return execution_role(iam, f"test-lambda-states-{uuid.uuid4().hex[:8]}", "lambda.amazonaws.com")


def zip_of(source: str) -> bytes:
    """A package holding lambda_function.py."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("lambda_function.py", textwrap.dedent(source))
    return out.getvalue()


def returning(value: str) -> bytes:
    """A package whose handler returns value."""
    return zip_of(f"def handler(event, context):\n    return {value!r}\n")


def create(lam, role: str, code: bytes | None = None) -> dict:
    """Create a function with a unique name; return CreateFunction's answer."""
    return lam.create_function(
        FunctionName=f"fn-{uuid.uuid4().hex[:16]}", Runtime="python3.13", Role=role,
        Handler="lambda_function.handler", Code={"ZipFile": code or returning("v1")}, Timeout=10,
    )  # fmt: skip


def active(lam, role: str, code: bytes | None = None) -> str:
    """A created function, waited for until Active; return its name."""
    name = create(lam, role, code)["FunctionName"]
    lam.get_waiter("function_active_v2").wait(
        FunctionName=name, WaiterConfig={"Delay": 0.2, "MaxAttempts": 100}
    )
    return name


def invoke(lam, name: str):
    """The decoded payload of a synchronous invocation."""
    return json.loads(lam.invoke(FunctionName=name, Payload=b"{}")["Payload"].read())


def conflict(call) -> str:
    """The message of the ResourceConflictException (HTTP 409) that call raises."""
    with pytest.raises(ClientError) as caught:
        call()
    error = caught.value.response
    assert (error["Error"]["Code"], error["ResponseMetadata"]["HTTPStatusCode"]) == (
        "ResourceConflictException",
        409,
    )
    return error["Error"]["Message"]


# -- creation ------------------------------------------------------------------------------------


def test_a_new_function_is_pending_while_it_is_created(lam, role, aws_profile):
    created = create(lam, role)
    assert (created["State"], created["StateReason"], created["StateReasonCode"]) == (
        "Pending",
        "The function is being created.",
        "Creating",
    )
    shown = lam.get_function(FunctionName=created["FunctionName"])["Configuration"]
    assert (shown["State"], shown["StateReasonCode"], shown["LastUpdateStatus"]) == (
        "Pending",
        "Creating",
        "InProgress",
    )


def test_a_pending_function_becomes_active(lam, role, aws_profile):
    name = active(lam, role)
    shown = lam.get_function_configuration(FunctionName=name)
    assert (shown["State"], shown["LastUpdateStatus"]) == ("Active", "Successful")
    assert "StateReasonCode" not in shown


def test_list_functions_shows_a_pending_function(lam, role, aws_profile):
    name = create(lam, role)["FunctionName"]
    [listed] = [f for f in lam.list_functions()["Functions"] if f["FunctionName"] == name]
    assert listed["State"] == "Pending"


def test_invoking_a_pending_function_is_a_conflict(lam, role, aws_profile):
    name = create(lam, role)["FunctionName"]
    assert conflict(lambda: lam.invoke(FunctionName=name, Payload=b"{}")) == PENDING


def test_updating_a_pending_function_is_a_conflict(lam, role, aws_profile):
    name = create(lam, role)["FunctionName"]
    assert conflict(lambda: lam.update_function_configuration(FunctionName=name, Timeout=20)) == PENDING
    assert conflict(lambda: lam.update_function_code(FunctionName=name, ZipFile=returning("v2"))) == PENDING


def test_a_function_is_active_at_once_under_the_local_profile(lam, role):
    created = create(lam, role)
    assert created["State"] == "Active"
    assert invoke(lam, created["FunctionName"]) == "v1"


# -- updates -------------------------------------------------------------------------------------


def test_an_update_is_in_progress_then_successful(lam, role, aws_profile):
    name = active(lam, role)
    answered = lam.update_function_configuration(FunctionName=name, Timeout=20)
    assert (answered["State"], answered["LastUpdateStatus"], answered["LastUpdateStatusReasonCode"]) == (
        "Active",
        "InProgress",
        "Creating",
    )
    assert lam.get_function(FunctionName=name)["Configuration"]["LastUpdateStatus"] == "InProgress"
    lam.get_waiter("function_updated_v2").wait(
        FunctionName=name, WaiterConfig={"Delay": 0.2, "MaxAttempts": 100}
    )
    shown = lam.get_function_configuration(FunctionName=name)
    assert (shown["LastUpdateStatus"], shown["Timeout"]) == ("Successful", 20)


def test_a_code_update_is_in_progress(lam, role, aws_profile):
    name = active(lam, role)
    answered = lam.update_function_code(FunctionName=name, ZipFile=returning("v2"))
    assert answered["LastUpdateStatus"] == "InProgress"


def test_a_second_update_during_an_update_is_a_conflict(lam, role, aws_profile):
    name = active(lam, role)
    arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}"
    lam.update_function_code(FunctionName=name, ZipFile=returning("v2"))
    message = conflict(lambda: lam.update_function_configuration(FunctionName=name, Timeout=20))
    assert (
        message
        == f"The operation cannot be performed at this time. An update is in progress for resource: {arn}"
    )
    assert conflict(lambda: lam.update_function_code(FunctionName=name, ZipFile=returning("v3"))) == message


def test_an_update_after_the_last_one_finished_is_accepted(lam, role, aws_profile):
    name = active(lam, role)
    lam.update_function_code(FunctionName=name, ZipFile=returning("v2"))
    lam.get_waiter("function_updated_v2").wait(
        FunctionName=name, WaiterConfig={"Delay": 0.2, "MaxAttempts": 100}
    )
    assert (
        lam.update_function_configuration(FunctionName=name, Timeout=20)["LastUpdateStatus"] == "InProgress"
    )


def test_invocations_during_a_code_update_run_the_previous_code(lam, role, aws_profile):
    name = active(lam, role)
    lam.update_function_code(FunctionName=name, ZipFile=returning("v2"))
    assert invoke(lam, name) == "v1"
    lam.get_waiter("function_updated_v2").wait(
        FunctionName=name, WaiterConfig={"Delay": 0.2, "MaxAttempts": 100}
    )
    assert invoke(lam, name) == "v2"


def test_invocations_during_a_configuration_update_run_the_previous_configuration(lam, role, aws_profile):
    name = active(
        lam, role, zip_of("import os\n\ndef handler(event, context):\n    return os.environ.get('COLOR')\n")
    )
    lam.update_function_configuration(FunctionName=name, Environment={"Variables": {"COLOR": "green"}})
    assert invoke(lam, name) is None
    lam.get_waiter("function_updated_v2").wait(
        FunctionName=name, WaiterConfig={"Delay": 0.2, "MaxAttempts": 100}
    )
    assert invoke(lam, name) == "green"


# -- the kit's helper ----------------------------------------------------------------------------


def test_ensure_function_waits_for_active_and_between_updates(local_cloud, role, aws_profile, capsys):
    spec = {"FunctionName": f"fn-{uuid.uuid4().hex[:16]}", "Runtime": "python3.13", "Role": role,
            "Handler": "lambda_function.handler", "Timeout": 10}  # fmt: skip
    assert awslambda.ensure_function(spec, returning("v1"))["State"] == "Active"
    changed, v2 = {**spec, "Timeout": 20, "Environment": {"Variables": {"COLOR": "green"}}}, returning("v2")
    deployed = awslambda.ensure_function(changed, v2)
    assert (deployed["LastUpdateStatus"], deployed["Timeout"]) == ("Successful", 20)
    assert deployed["CodeSha256"] == awslambda.code_sha256(v2)
    assert "updated Timeout, Environment" in capsys.readouterr().out  # the code: CodeSha256 above


def _step5_cell() -> str:
    """00_setup's cell that deploys the chapter-7 function, as the notebook holds it."""
    cells = re.split(r"^# %%.*$", (SOURCES / "00_setup.py").read_text(), flags=re.M)
    [cell] = [c for c in cells if "awslambda.ensure_function(" in c]
    return cell


def test_setup_run_again_after_8_2_leaves_8_2s_handler(local_cloud, role, aws_profile, capsys):
    names = SimpleNamespace(function=f"fn-{uuid.uuid4().hex[:16]}", endpoint="ep")
    scope = {"awslambda": awslambda, "names": names, "role_arn": role,
             "settings": SimpleNamespace(tags=lambda: {"workshop-kit": "ml-pipeline-ch8"}, function_name="")}  # fmt: skip
    exec(_step5_cell(), dict(scope))  # 00_setup: the chapter-7 function  # noqa: S102 - our own notebook
    handler_spec = {"FunctionName": names.function, "Runtime": "python3.13", "Role": role, "Handler": "app.lambda_handler",
                    "Environment": {"Variables": {"ENDPOINT_NAME": "ep", "TABLE_NAME": "t"}}}  # fmt: skip
    chapter_8_2 = awslambda.ensure_function(
        handler_spec, awslambda.build_zip({"app.py": awslambda.ROOT / "lambda" / "app.py"})
    )
    exec(_step5_cell(), dict(scope))  # 00_setup again
    after = boto3.client("lambda", endpoint_url=local_cloud, region_name=REGION).get_function_configuration(
        FunctionName=names.function
    )
    assert after["CodeSha256"] == chapter_8_2["CodeSha256"]
    assert after["Environment"] == chapter_8_2["Environment"]
    assert f"function {names.function}: exists, left as it is" in capsys.readouterr().out


def test_a_trigger_reaching_a_pending_function_runs_once_it_is_active(local_cloud, lam, role, aws_profile):
    sns = boto3.client("sns", endpoint_url=local_cloud, region_name=REGION)
    logs = boto3.client("logs", endpoint_url=local_cloud, region_name=REGION)
    created = create(
        lam,
        role,
        zip_of(
            "def handler(event, context):\n    print('delivered', event['Records'][0]['Sns']['Message'])\n"
        ),
    )
    topic = sns.create_topic(Name=f"test-lambda-states-{uuid.uuid4().hex[:8]}")["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="lambda", Endpoint=created["FunctionArn"])
    sns.publish(TopicArn=topic, Message="while pending")

    def delivered() -> list[str]:
        try:
            events = logs.filter_log_events(logGroupName=f"/aws/lambda/{created['FunctionName']}")["events"]
        except ClientError:
            return []
        return [e["message"] for e in events if e["message"].startswith("delivered")]

    deadline = time.monotonic() + 20
    while not delivered() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert delivered() == ["delivered while pending"]

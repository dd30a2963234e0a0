"""awslambda.invoke right after a role policy change: IAM is eventually consistent, so the helper waits it out.

IAM user guide, "Troubleshoot IAM" / "Changes that I make are not always immediately visible": a policy just
put may not reach the function's own calls for seconds. In the local cloud the function's role first lacks
the permission its handler's call needs (the propagation still under way), and gets it two seconds into the
helper's retries.
"""

from __future__ import annotations

import ast
import json
import threading
import time
import uuid

import boto3
import pytest
from kit_world import TRUST, use_local_cloud
from notebook_source import SOURCES

from helpers import awslambda

REGION = "us-east-1"
HANDLER = (
    "import boto3\n"
    "def lambda_handler(event, context):\n"
    "    return {'tables': len(boto3.client('dynamodb').list_tables()['TableNames'])}\n"
)
LIST_TABLES = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "dynamodb:ListTables", "Resource": "*"}],
}


@pytest.fixture()
def denied_function(local_cloud, monkeypatch, tmp_path):
    """A function whose role lacks the one permission its handler's call needs; yields (name, role, iam)."""
    prefix = f"inv{uuid.uuid4().hex[:6]}"
    use_local_cloud(monkeypatch, local_cloud, prefix)
    iam = boto3.client("iam", endpoint_url=local_cloud, region_name=REGION)
    lam = boto3.client("lambda", endpoint_url=local_cloud, region_name=REGION)
    role = iam.create_role(RoleName=f"{prefix}-role", AssumeRolePolicyDocument=json.dumps(TRUST))["Role"]
    name = f"{prefix}-fn"
    source = tmp_path / "app.py"
    source.write_text(HANDLER)
    lam.create_function(
        FunctionName=name,
        Runtime="python3.13",
        Role=role["Arn"],
        Handler="app.lambda_handler",
        Code={"ZipFile": awslambda.build_zip({"app.py": source})},
    )
    deadline = time.monotonic() + 60
    while lam.get_function(FunctionName=name)["Configuration"]["State"] != "Active":
        assert time.monotonic() < deadline
        time.sleep(0.5)
    return name, f"{prefix}-role", iam


def test_without_waiting_a_denied_call_fails_at_once(denied_function):
    name, _, _ = denied_function
    with pytest.raises(RuntimeError, match="is not authorized to perform"):
        awslambda.invoke(name, {})


def test_after_a_policy_change_the_helper_invokes_again_until_the_policy_reaches_the_function(
    denied_function,
):
    name, role, iam = denied_function

    def propagated() -> None:
        time.sleep(2)
        iam.put_role_policy(RoleName=role, PolicyName="list", PolicyDocument=json.dumps(LIST_TABLES))

    threading.Thread(target=propagated, daemon=True).start()
    assert "tables" in awslambda.invoke(name, {}, after_policy_change=True)


def test_00_setup_invokes_the_lambda_waiting_for_its_new_policy():
    tree = ast.parse((SOURCES / "00_setup.py").read_text())
    calls = [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and ast.unparse(node.func) == "awslambda.invoke"
    ]
    assert calls and all(
        any(k.arg == "after_policy_change" and ast.literal_eval(k.value) is True for k in c.keywords)
        for c in calls
    )

"""An attendee identity holding exactly the generated policy runs the whole workshop; without one action it stops
at the step that needs that action, and the error names it.

One local cloud for the module, with IAM enforced for an IAM user created there ("ana", the committed
policy attached as a managed policy). The tests run in file order on that one stack, as an attendee
would: every chapter, then each chapter again with one representative action taken away, then cleanup.
The other actions are covered through the generator (tests/test_policy.py).
"""

from __future__ import annotations

import copy
import json
import socket
import subprocess
import sys
from pathlib import Path

import boto3
import pytest

from helpers import policy

pytestmark = pytest.mark.notebooks

ROOT = Path(__file__).resolve().parents[1]
PREFIX = "ana"
ACCOUNT, REGION = "123456789012", "us-east-1"
CHAPTERS = policy.FULL_RUN[:-1]
CLEANUP = policy.FULL_RUN[-1]
# One action each notebook makes on every run, and where it stops without it.
REPRESENTATIVES = [
    ("00_setup.ipynb", "sagemaker:DescribeEndpoint"),
    ("8.1_create_dynamodb_table.ipynb", "dynamodb:PutItem"),
    ("8.2_update_lambda_write_dynamodb.ipynb", "lambda:InvokeFunction"),
    ("8.3_monitor_with_cloudwatch.ipynb", "cloudwatch:PutMetricAlarm"),
    ("8.4_analyze_inference_history.ipynb", "dynamodb:Query"),
    ("99_cleanup.ipynb", "dynamodb:DeleteTable"),
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def without(document: dict, action: str) -> dict:
    """The policy document with one action taken out of every statement."""
    trimmed = copy.deepcopy(document)
    for statement in trimmed["Statement"]:
        statement["Action"] = [a for a in statement["Action"] if a != action]
    trimmed["Statement"] = [s for s in trimmed["Statement"] if s["Action"]]
    return trimmed


class Attendee:
    """The attendee's IAM user on the module's local cloud, and the notebooks run with its keys."""

    def __init__(self, port: int, state: Path) -> None:
        self.port, self.state = port, state
        self.admin_env = policy.run_env(port, state, PREFIX)
        url = f"http://127.0.0.1:{port}"
        self.iam = boto3.client(
            "iam",
            endpoint_url=url,
            region_name=REGION,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        self.document = policy.attendee_policy(PREFIX, ACCOUNT, REGION)
        self.policy_arn = self.iam.create_policy(
            PolicyName="workshop-attendee", PolicyDocument=json.dumps(self.document)
        )["Policy"]["Arn"]
        self.iam.create_user(UserName=PREFIX)
        self.iam.attach_user_policy(UserName=PREFIX, PolicyArn=self.policy_arn)
        key = self.iam.create_access_key(UserName=PREFIX)["AccessKey"]
        self.key = key["AccessKeyId"]
        self.env = {
            **self.admin_env,
            "AWS_ACCESS_KEY_ID": key["AccessKeyId"],
            "AWS_SECRET_ACCESS_KEY": key["SecretAccessKey"],
        }
        self.recorded: set[str] = set()

    def grant(self, document: dict) -> None:
        """Make document the attendee policy's only version (the administrator's change)."""
        self.iam.create_policy_version(
            PolicyArn=self.policy_arn, PolicyDocument=json.dumps(document), SetAsDefault=True
        )
        for version in self.iam.list_policy_versions(PolicyArn=self.policy_arn)["Versions"]:
            if not version["IsDefaultVersion"]:
                self.iam.delete_policy_version(PolicyArn=self.policy_arn, VersionId=version["VersionId"])

    def run(self, names: list[str]) -> tuple[bool, str]:
        """Run notebooks as the attendee; keep the actions the attendee's key made (denied ones too)."""
        policy.reset_calls(self.port)
        ok, output = policy.run_notebooks(names, self.env, self.state / "notebooks")
        self.recorded |= set(policy.recorded_actions(policy.read_calls(self.port, self.key)))
        return ok, output


@pytest.fixture(scope="module")
def attendee(tmp_path_factory):
    port = _free_port()
    state = tmp_path_factory.mktemp("attendee-state")
    env = policy.run_env(port, state, PREFIX)
    subprocess.run(
        [sys.executable, "-m", "localcloud", "up"], env=env, cwd=ROOT, check=True, capture_output=True
    )
    yield Attendee(port, state)
    subprocess.run([sys.executable, "-m", "localcloud", "down"], env=env, cwd=ROOT, capture_output=True)


def test_every_chapter_runs_under_exactly_the_attendee_policy(attendee):
    ok, output = attendee.run(CHAPTERS)
    assert ok, output[-4000:]


@pytest.mark.parametrize("notebook, action", REPRESENTATIVES, ids=[a for _, a in REPRESENTATIVES])
def test_without_one_action_the_notebook_stops_with_an_error_naming_it(attendee, notebook, action):
    attendee.grant(without(attendee.document, action))
    try:
        ok, output = attendee.run([notebook])
    finally:
        attendee.grant(attendee.document)
    assert not ok, f"{notebook} passed without {action}"
    failure = [line for line in output.splitlines() if line.startswith("FAILED:")]
    assert failure and notebook in failure[0] and action in failure[0], output[-3000:]


def test_cleanup_runs_under_the_attendee_policy(attendee):
    ok, output = attendee.run([CLEANUP])
    assert ok, output[-4000:]


def test_the_committed_recording_is_what_a_fresh_full_run_records(attendee):
    # Every run above counts: the cleanup without DeleteTable already deleted what comes before the tables.
    recorded = attendee.recorded
    committed = set(policy.attendee_actions())
    assert recorded == committed, (
        f"missing from helpers/attendee_policy.json: {sorted(recorded - committed)}; "
        f"no longer made: {sorted(committed - recorded)}. Fix: python -m helpers policy --record"
    )

"""Three attendees under the one class policy each run the whole workshop in their prefix; without one action a
notebook stops at the step that needs it, and the error names it.

One local cloud for the module, with IAM enforced for IAM users created there as `class-setup` creates them
(the boundary, the class policy, a user per attendee tagged with their prefix). The tests run in file order
on that one stack, as a class would: ana, bob and cyd run every chapter side by side (00_setup's first run
under the policy included); then ana's chapters again with one representative action taken
away, then everyone's cleanup. The other actions are covered through the generator (tests/helpers/test_policy.py).
"""

from __future__ import annotations

import copy
import json
import socket
import subprocess
import sys
from fnmatch import fnmatchcase
from pathlib import Path

import boto3
import pytest

from helpers import policy

pytestmark = pytest.mark.notebooks

ROOT = Path(__file__).resolve().parents[2]
PREFIX = "ana"
OTHERS = ("bob", "cyd")
ACCOUNT, REGION = "123456789012", "us-east-1"
CHAPTERS = policy.FULL_RUN[:-1]
# bob and cyd run the chapter's notebooks; ana also 8.5 (a second copy of the same resources, as a stack): the
# suite's time on two vCPUs, and 8.5's calls are the same for every attendee.
CHAPTER_8 = [n for n in CHAPTERS if not n.startswith("8.5")]
CLEANUP = policy.FULL_RUN[-1]
# One action each notebook makes on every run, and where it stops without it.
REPRESENTATIVES = [
    ("00_setup.ipynb", "sagemaker:DescribeEndpoint"),
    ("8.1_create_dynamodb_table.ipynb", "dynamodb:PutItem"),
    ("8.2_update_lambda_write_dynamodb.ipynb", "dynamodb:GetItem"),  # its requests go through the API
    ("8.3_monitor_with_cloudwatch.ipynb", "cloudwatch:PutMetricAlarm"),
    ("8.4_analyze_inference_history.ipynb", "dynamodb:Query"),
    ("99_cleanup.ipynb", "dynamodb:DeleteTable"),
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def without(document: dict, action: str) -> dict:
    """The policy document with one action taken out of every Allow statement (a wildcard naming it is
    replaced by the other recorded actions it stood for)."""
    trimmed = copy.deepcopy(document)
    recorded = policy.attendee_actions()
    for statement in trimmed["Statement"]:
        if statement["Effect"] == "Allow":
            actions = [statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"]
            kept: list[str] = []
            for granted in actions:
                if fnmatchcase(action, granted) and granted != action:
                    kept += [a for a in recorded if fnmatchcase(a, granted) and a != action]
                elif granted != action:
                    kept.append(granted)
            statement["Action"] = kept
    trimmed["Statement"] = [s for s in trimmed["Statement"] if s["Action"]]
    return trimmed


class Attendee:
    """An attendee's IAM user on the module's local cloud, and the notebooks run with its keys."""

    def __init__(self, port: int, state: Path, iam, prefix: str) -> None:
        self.port, self.state, self.prefix = port, state / prefix, prefix
        iam.create_user(UserName=prefix, Tags=[{"Key": policy.PREFIX_TAG, "Value": prefix}])
        iam.attach_user_policy(
            UserName=prefix, PolicyArn=policy.policy_arn(policy.CLASS_POLICY_NAME, ACCOUNT, REGION)
        )
        key = iam.create_access_key(UserName=prefix)["AccessKey"]
        self.key = key["AccessKeyId"]
        self.env = {
            **policy.run_env(port, state, prefix),
            "AWS_ACCESS_KEY_ID": key["AccessKeyId"],
            "AWS_SECRET_ACCESS_KEY": key["SecretAccessKey"],
        }
        self.recorded: set[str] = set()

    def run(self, names: list[str]) -> tuple[bool, str]:
        """Run notebooks as the attendee; keep the actions the attendee's key needed (denied ones too)."""
        ok, output = policy.run_notebooks(names, self.env, self.state / "notebooks")
        self.recorded |= set(policy.recorded_actions(policy.read_calls(self.port, self.key)))
        return ok, output


class Class:
    """class-setup's IAM on the module's local cloud, and its attendees."""

    def __init__(self, port: int, state: Path) -> None:
        url = f"http://127.0.0.1:{port}"
        self.iam = boto3.client(
            "iam",
            endpoint_url=url,
            region_name=REGION,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        self.document = policy.attendee_policy(ACCOUNT, REGION)
        for name, document in (
            (policy.BOUNDARY_NAME, policy.boundary_policy(ACCOUNT, REGION)),
            (policy.CLASS_POLICY_NAME, self.document),
        ):
            self.iam.create_policy(PolicyName=name, PolicyDocument=json.dumps(document))
        self.policy_arn = policy.policy_arn(policy.CLASS_POLICY_NAME, ACCOUNT, REGION)
        self.ana = Attendee(port, state, self.iam, PREFIX)
        self.others = [Attendee(port, state, self.iam, name) for name in OTHERS]

    def grant(self, document: dict) -> None:
        """Make document the class policy's only version (the instructor's change)."""
        self.iam.create_policy_version(
            PolicyArn=self.policy_arn, PolicyDocument=json.dumps(document), SetAsDefault=True
        )
        for version in self.iam.list_policy_versions(PolicyArn=self.policy_arn)["Versions"]:
            if not version["IsDefaultVersion"]:
                self.iam.delete_policy_version(PolicyArn=self.policy_arn, VersionId=version["VersionId"])


@pytest.fixture(scope="module")
def klass(tmp_path_factory):
    port = _free_port()
    state = tmp_path_factory.mktemp("attendee-state")
    env = policy.run_env(port, state, PREFIX)
    subprocess.run(
        [sys.executable, "-m", "localcloud", "up"], env=env, cwd=ROOT, check=True, capture_output=True
    )
    yield Class(port, state)
    subprocess.run([sys.executable, "-m", "localcloud", "down"], env=env, cwd=ROOT, capture_output=True)


@pytest.fixture(scope="module")
def attendee(klass):
    return klass.ana


@pytest.fixture(scope="module")
def others_running(klass):
    """bob's and cyd's runs of every chapter, started beside ana's (a class works side by side)."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(len(klass.others)) as pool:
        yield [pool.submit(a.run, CHAPTER_8) for a in klass.others]


def test_every_chapter_runs_under_exactly_the_class_policy(attendee, others_running):
    ok, output = attendee.run(CHAPTERS)
    assert ok, output[-4000:]


def test_two_more_attendees_run_every_chapter_in_their_own_prefix_under_the_same_policy(
    klass, others_running
):
    for attendee, running in zip(klass.others, others_running, strict=True):
        ok, output = running.result()
        assert ok, f"{attendee.prefix}: {output[-3000:]}"


@pytest.mark.parametrize("notebook, action", REPRESENTATIVES, ids=[a for _, a in REPRESENTATIVES])
def test_without_one_action_the_notebook_stops_with_an_error_naming_it(klass, attendee, notebook, action):
    klass.grant(without(klass.document, action))
    try:
        ok, output = attendee.run([notebook])
    finally:
        klass.grant(klass.document)
    assert not ok, f"{notebook} passed without {action}"
    failure = [line for line in output.splitlines() if line.startswith("FAILED:")]
    assert failure and notebook in failure[0] and action in failure[0], output[-3000:]


def test_cleanup_runs_under_the_class_policy(klass, attendee):
    for each in (attendee, *klass.others):
        ok, output = each.run([CLEANUP])
        assert ok, f"{each.prefix}: {output[-4000:]}"


def test_the_committed_recording_has_every_action_these_runs_needed(klass, attendee):
    # Every run above counts (the recording also has the update path and the aws profile's).
    recorded = set().union(*(a.recorded for a in (attendee, *klass.others)))
    committed = set(policy.attendee_actions())
    assert recorded <= committed, (
        f"missing from helpers/attendee_policy.json: {sorted(recorded - committed)}. "
        "Fix: python -m helpers policy --record"
    )

"""Shared hosted notebooks: attendees with one login name (SageMaker Studio's `sagemaker-user`) in aws mode.

On the module's local cloud (aws mode: the kit's clients reach it through AWS_ENDPOINT_URL, as in
tests/helpers/test_cleanup.py) the administrator creates two IAM users with access keys. Each attendee's kernel
has the login name `sagemaker-user` and no WORKSHOP_PREFIX; each builds a table, a log group and an SNS
topic through the kit's helpers, then both build under one prefix they both set. Each cleans up; then the
instructor sweeps with `python -m helpers cleanup --all-prefixes --yes`. The census is taken with plain
boto3 as the administrator, independently of helpers.inventory. Last, the devcontainer attendees may
start from (GitHub Codespaces, VS Code).
"""

from __future__ import annotations

import contextlib
import getpass
import io
import json
import os
import uuid
from dataclasses import dataclass, field

import boto3
import pytest

from helpers import __main__ as cli
from helpers import cleanup, config, dynamodb, logs, session, sns
from helpers.config import TAG_CREATOR, SettingsError
from localcloud.calls import record as call_log

REGION = "us-east-1"
ACCOUNT = "123456789012"
ADMIN = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
EVERYTHING = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
RUN = uuid.uuid4().hex[:5]


def admin(service: str):
    return boto3.client(service, region_name=REGION, **ADMIN)


@dataclass
class Attendee:
    """An IAM user of the local cloud and what the kit made with its keys."""

    user: str
    key: str
    secret: str
    prefix: str = ""
    creator: str = ""
    made: dict[str, set[tuple[str, str]]] = field(default_factory=dict)

    @property
    def arn(self) -> str:
        return f"arn:aws:iam::{ACCOUNT}:user/{self.user}"


def new_attendee(user: str) -> Attendee:
    iam = admin("iam")
    iam.create_user(UserName=user)
    iam.put_user_policy(UserName=user, PolicyName="workshop", PolicyDocument=json.dumps(EVERYTHING))
    key = iam.create_access_key(UserName=user)["AccessKey"]
    return Attendee(user, key["AccessKeyId"], key["SecretAccessKey"])


def become(
    mp: pytest.MonkeyPatch, key: str, secret: str, prefix: str | None = None, token: str = ""
) -> config.Settings:
    """This process is now a hosted notebook's kernel in aws mode with these keys: login `sagemaker-user`."""
    mp.setattr(getpass, "getuser", lambda: "sagemaker-user")
    mp.setenv("WORKSHOP_MODE", "aws")
    mp.setenv("WORKSHOP_REGION", REGION)
    mp.setenv("AWS_ACCESS_KEY_ID", key)
    mp.setenv("AWS_SECRET_ACCESS_KEY", secret)
    for name in (
        "WORKSHOP_PREFIX",
        "WORKSHOP_ENDPOINT_NAME",
        "WORKSHOP_FUNCTION_NAME",
        "WORKSHOP_MODEL_VERSION",
        "AWS_SESSION_TOKEN",
        "AWS_PROFILE",
    ):
        mp.delenv(name, raising=False)
    if prefix:
        mp.setenv("WORKSHOP_PREFIX", prefix)
    if token:
        mp.setenv("AWS_SESSION_TOKEN", token)
    forget()
    return session.settings()


def forget() -> None:
    """A new kernel: settings, sessions and clients built again."""
    session.forget()


def build(
    settings: config.Settings, metadata_spec, *, table: bool = True, group: bool = True, topic: bool = True
) -> set[tuple[str, str]]:
    """Some of the kit's resources, made as the notebooks make them; their census keys."""
    session.prepare()
    n, made = settings.names, set()
    if table:
        dynamodb.ensure_table({**metadata_spec(n.metadata_table), "Tags": settings.tag_list()})
        made.add(("table", n.metadata_table))
    if group:
        logs.ensure_log_group({"logGroupName": n.function_log_group, "tags": settings.tags()})
        made.add(("log group", n.function_log_group))
    if topic:
        sns.ensure_topic({"Name": n.topic, "Tags": settings.tag_list()})
        made.add(("topic", n.topic))
    return made


def census() -> set[tuple[str, str]]:
    """Tables, log groups and topics in the cloud, listed by the administrator with plain boto3."""
    # Every page: the suite's shared local cloud holds more than one page (50 log groups) of others' resources.
    pages = {
        service: admin(service).get_paginator(operation).paginate()
        for service, operation in (
            ("dynamodb", "list_tables"),
            ("logs", "describe_log_groups"),
            ("sns", "list_topics"),
        )
    }
    found = {("table", t) for page in pages["dynamodb"] for t in page["TableNames"]}
    found |= {("log group", g["logGroupName"]) for page in pages["logs"] for g in page["logGroups"]}
    found |= {("topic", t["TopicArn"].rsplit(":", 1)[-1]) for page in pages["sns"] for t in page["Topics"]}
    return found


def creator_tags(made: set[tuple[str, str]]) -> dict[tuple[str, str], str]:
    """The creator tag of each resource, read by the administrator."""
    tags = {}
    for kind, name in made:
        if kind == "table":
            arn = admin("dynamodb").describe_table(TableName=name)["Table"]["TableArn"]
            found = {
                t["Key"]: t["Value"] for t in admin("dynamodb").list_tags_of_resource(ResourceArn=arn)["Tags"]
            }
        elif kind == "log group":
            found = admin("logs").list_tags_log_group(logGroupName=name)["tags"]
        else:
            arn = f"arn:aws:sns:{REGION}:{ACCOUNT}:{name}"
            found = {
                t["Key"]: t["Value"] for t in admin("sns").list_tags_for_resource(ResourceArn=arn)["Tags"]
            }
        tags[(kind, name)] = found.get(TAG_CREATOR, "")
    return tags


@dataclass
class World:
    jane: Attendee
    john: Attendee
    shared: str
    sts_calls: int
    refused_login: str
    tags: dict[tuple[str, str], str]
    john_shared_report: cleanup.Report
    after_john_shared: set[tuple[str, str]]
    jane_report: cleanup.Report
    after_jane: set[tuple[str, str]]
    sweep_output: str
    sweep_exit: int
    after_sweep: set[tuple[str, str]]


@pytest.fixture(scope="module")
def world(local_cloud, metadata_spec):
    jane, john = new_attendee(f"jane.doe.{RUN}"), new_attendee(f"john.roe.{RUN}")
    shared = f"lab-{RUN}"
    with pytest.MonkeyPatch.context() as mp:
        call_log.reset()
        s = become(mp, jane.key, jane.secret)
        jane.prefix, jane.creator = s.prefix, s.creator
        jane.made["own"] = build(s, metadata_spec)
        sts_calls = sum(1 for c in call_log.calls(jane.key) if c["action"] == "sts:GetCallerIdentity")

        mp.setenv("WORKSHOP_PREFIX", "sagemaker-user")
        session.forget(clients=False)
        try:
            session.settings()
            refused = ""
        except SettingsError as exc:
            refused = str(exc)

        s = become(mp, john.key, john.secret)
        john.prefix, john.creator = s.prefix, s.creator
        john.made["own"] = build(s, metadata_spec)

        # both set the same WORKSHOP_PREFIX: Jane makes the table and the log group, John the topic
        jane.made["shared"] = build(become(mp, jane.key, jane.secret, shared), metadata_spec, topic=False)
        john.made["shared"] = build(
            become(mp, john.key, john.secret, shared), metadata_spec, table=False, group=False
        )
        tags = creator_tags(jane.made["own"] | john.made["own"] | jane.made["shared"] | john.made["shared"])

        john_shared_report = cleanup.cleanup(shared, delete=True)  # John, in his kernel
        after_john_shared = census()
        become(mp, jane.key, jane.secret)
        jane_report = cleanup.cleanup(delete=True)  # Jane's own prefix
        after_jane = census()

        become(mp, ADMIN["aws_access_key_id"], ADMIN["aws_secret_access_key"], "instructor")
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            sweep_exit = cli.main(["cleanup", "--all-prefixes", "--yes"])
        after_sweep = census()
    os.environ["AWS_ENDPOINT_URL"] = local_cloud
    forget()
    return World(
        jane,
        john,
        shared,
        sts_calls,
        refused,
        tags,
        john_shared_report,
        after_john_shared,
        jane_report,
        after_jane,
        out.getvalue(),
        sweep_exit,
        after_sweep,
    )


def test_two_attendees_with_the_same_login_name_get_different_prefixes(world):
    assert world.jane.prefix == f"jane-doe-{RUN}" and world.john.prefix == f"john-roe-{RUN}"


def test_the_shared_login_name_set_as_prefix_is_refused_with_what_to_set(world):
    assert "WORKSHOP_PREFIX='sagemaker-user' cannot be used in aws mode" in world.refused_login
    assert "%env WORKSHOP_PREFIX=jane-doe" in world.refused_login


def test_the_caller_identity_is_asked_once_for_the_prefix_the_tags_and_prepare(world):
    assert world.sts_calls == 1


def test_every_resource_carries_its_creators_identity_arn(world):
    expected = {key: world.jane.arn for key in world.jane.made["own"] | world.jane.made["shared"]}
    expected |= {key: world.john.arn for key in world.john.made["own"] | world.john.made["shared"]}
    assert world.tags == expected
    assert world.jane.creator == world.jane.arn


def test_cleanup_of_a_shared_prefix_deletes_the_callers_own_resources(world):
    assert not world.john.made["shared"] & world.after_john_shared


def test_cleanup_of_a_shared_prefix_leaves_the_other_identitys_resources(world):
    assert world.jane.made["shared"] <= world.after_john_shared


def test_the_other_identitys_resources_are_listed_as_left_alone_with_the_reason(world):
    reason = f"created by {world.jane.arn} — not yours; the instructor's --all-prefixes sweep removes it"
    left = {(r.kind, r.name): r.note for r in world.john_shared_report.left_alone}
    assert set(left) == world.jane.made["shared"]
    assert all(note.startswith(reason) for note in left.values())
    assert world.jane.arn in str(world.john_shared_report)


def test_an_attendees_cleanup_never_touches_the_other_attendees_resources(world):
    assert world.john.made["own"] <= world.after_john_shared and world.john.made["own"] <= world.after_jane
    assert world.jane.made["own"] <= world.after_john_shared


def test_an_attendees_cleanup_deletes_their_own_prefix(world):
    assert world.jane_report.ok and not world.jane.made["own"] & world.after_jane


def test_the_instructors_sweep_removes_both_attendees_resources(world):
    assert world.sweep_exit == 0
    assert not (world.jane.made["shared"] | world.john.made["own"]) & world.after_sweep


def test_the_instructors_sweep_says_whose_it_deletes(world):
    whose = world.sweep_output.split("By creator: ", 1)[1]
    assert f"{world.jane.arn}: 2 (prefix {world.shared})" in whose
    assert f"{world.john.arn}: 3 (prefix {world.john.prefix})" in whose


def test_a_studio_execution_role_session_gets_no_derived_prefix_but_the_fix(local_cloud):
    iam, role = admin("iam"), f"AmazonSageMaker-ExecutionRole-{RUN}"
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "sagemaker.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    iam.create_role(RoleName=role, AssumeRolePolicyDocument=json.dumps(trust))
    iam.put_role_policy(RoleName=role, PolicyName="workshop", PolicyDocument=json.dumps(EVERYTHING))
    creds = admin("sts").assume_role(
        RoleArn=f"arn:aws:iam::{ACCOUNT}:role/{role}", RoleSessionName="SageMaker"
    )["Credentials"]
    with pytest.MonkeyPatch.context() as mp, pytest.raises(SettingsError) as caught:
        become(
            mp, creds["AccessKeyId"], creds["SecretAccessKey"], token=creds["SessionToken"]
        )  # WORKSHOP_PREFIX unset
    forget()
    message = str(caught.value)
    assert f"assumed-role/{role}/SageMaker" in message and "%env WORKSHOP_PREFIX=jane-doe" in message


def test_the_devcontainer_opens_the_kit_with_make_install_done():
    from pathlib import Path

    spec = json.loads(
        (Path(__file__).resolve().parents[2] / ".devcontainer" / "devcontainer.json").read_text()
    )
    assert spec["postCreateCommand"] == "make install"
    assert spec["image"] == "mcr.microsoft.com/devcontainers/python:3.11" and 8888 in spec["forwardPorts"]
    assert spec["customizations"]["vscode"]["settings"]["python.defaultInterpreterPath"].endswith(
        "/.venv/bin/python"
    )


def test_in_studio_the_shared_execution_role_session_takes_the_user_profiles_name(tmp_path, monkeypatch):
    # With ExecutionRoleIdentityConfig=USER_PROFILE_NAME the domain sets that name as aws:SourceIdentity, which the
    # class policy scopes to (docs/identity.md); the app's metadata file names it for the kit.
    metadata = tmp_path / "resource-metadata.json"
    metadata.write_text(json.dumps({"DomainId": "d-x", "UserProfileName": "jane-doe", "SpaceName": "s"}))
    monkeypatch.setattr(config, "STUDIO_METADATA", metadata)
    session_arn = f"arn:aws:sts::{ACCOUNT}:assumed-role/AmazonSageMaker-ExecutionRole-1/SageMaker"
    assert config.prefix_from_identity(session_arn) == "jane-doe"
    metadata.write_text(json.dumps({"DomainId": "d-x", "SpaceName": "shared"}))  # a shared space: no one user
    with pytest.raises(SettingsError, match="WORKSHOP_PREFIX"):
        config.prefix_from_identity(session_arn)

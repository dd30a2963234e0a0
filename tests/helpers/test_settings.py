"""Workshop settings: mode, attendee prefix, region and port, validated with a message that says the fix."""

from __future__ import annotations

import getpass

import pytest

from helpers import config
from helpers.config import Settings, SettingsError, default_prefix, validate_prefix


@pytest.mark.parametrize("prefix", ["jane", "jane-doe", "j", "a1", "team-7-west", "abcdefghijklmnopqrst"])
def test_valid_prefixes_are_accepted(prefix):
    assert validate_prefix(prefix) == prefix


@pytest.mark.parametrize(
    "prefix",
    [
        "Jane",
        "jane_doe",
        "jane.doe",
        "1jane",
        "-jane",
        "jane-",
        "jane--doe",
        "abcdefghijklmnopqrstu",
        "",
        "jané",
    ],
)
def test_invalid_prefixes_are_refused_with_the_rule_and_a_fix(prefix):
    with pytest.raises(SettingsError) as caught:
        validate_prefix(prefix)
    message = str(caught.value)
    assert (
        repr(prefix) in message
        and "at most 20 characters" in message
        and "export WORKSHOP_PREFIX=" in message
    )


@pytest.mark.parametrize(
    ("user", "expected"),
    [("Jane.Doe", "jane-doe"), ("jdoe", "jdoe"), ("42admin", "admin"), ("ROOT", "root"),
     ("a_very_long_user_name_indeed", "a-very-long-user-nam"), ("___", "attendee"), ("", "attendee"),
     ("x" * 19 + "-y", "x" * 19)],
)  # fmt: skip
def test_default_prefix_is_derived_from_the_user_name(monkeypatch, user, expected):
    monkeypatch.setattr(getpass, "getuser", lambda: user)
    assert default_prefix() == expected
    assert validate_prefix(default_prefix()) == expected


def test_default_prefix_without_a_user_name(monkeypatch):
    def no_user():
        raise OSError("no user")

    monkeypatch.setattr(getpass, "getuser", no_user)
    assert default_prefix() == "attendee"


def test_defaults_are_local_mode_us_east_1_port_4566(monkeypatch):
    monkeypatch.setattr(getpass, "getuser", lambda: "jane")
    s = Settings.from_env({})
    assert (s.mode, s.prefix, s.region, s.local_port) == ("local", "jane", "us-east-1", 4566)
    assert s.is_local and s.local_url == "http://127.0.0.1:4566"


def test_prefix_from_the_environment_wins():
    assert Settings.from_env({"WORKSHOP_PREFIX": "team-7"}).prefix == "team-7"


def test_invalid_prefix_in_the_environment_is_refused():
    with pytest.raises(SettingsError, match="WORKSHOP_PREFIX='Team_7'"):
        Settings.from_env({"WORKSHOP_PREFIX": "Team_7"})


def test_mode_is_case_insensitive():
    assert Settings.from_env({"WORKSHOP_MODE": "AWS", "WORKSHOP_PREFIX": "x"}).mode == "aws"


def test_unknown_mode_is_refused_with_the_choices():
    with pytest.raises(SettingsError) as caught:
        Settings.from_env({"WORKSHOP_MODE": "cloud"})
    assert "WORKSHOP_MODE='cloud'" in str(caught.value) and "WORKSHOP_MODE=local" in str(caught.value)
    assert "WORKSHOP_MODE=aws" in str(caught.value)


def test_aws_mode_takes_the_region_from_aws_variables():
    env = {"WORKSHOP_MODE": "aws", "WORKSHOP_PREFIX": "x", "AWS_DEFAULT_REGION": "eu-west-1"}
    assert Settings.from_env(env).region == "eu-west-1"
    assert Settings.from_env({**env, "AWS_REGION": "eu-central-1"}).region == "eu-central-1"


def test_local_mode_ignores_the_aws_region_variables():
    assert (
        Settings.from_env({"WORKSHOP_PREFIX": "x", "AWS_DEFAULT_REGION": "eu-west-1"}).region == "us-east-1"
    )


def test_workshop_region_wins_in_both_modes():
    for mode in ("local", "aws"):
        env = {
            "WORKSHOP_MODE": mode,
            "WORKSHOP_PREFIX": "x",
            "WORKSHOP_REGION": "us-west-2",
            "AWS_REGION": "eu-west-1",
        }
        assert Settings.from_env(env).region == "us-west-2"


@pytest.mark.parametrize("region", ["useast1", "US-EAST-1", "us-east", "mars-north-1a"])
def test_malformed_region_is_refused(region):
    with pytest.raises(SettingsError, match="WORKSHOP_REGION=us-east-1"):
        Settings.from_env({"WORKSHOP_PREFIX": "x", "WORKSHOP_REGION": region})


def test_gov_cloud_region_is_accepted():
    assert (
        Settings.from_env({"WORKSHOP_PREFIX": "x", "WORKSHOP_REGION": "us-gov-west-1"}).region
        == "us-gov-west-1"
    )


def test_port_from_the_environment():
    s = Settings.from_env({"WORKSHOP_PREFIX": "x", "WORKSHOP_LOCAL_PORT": "4599"})
    assert s.local_port == 4599 and s.local_url == "http://127.0.0.1:4599"


@pytest.mark.parametrize("port", ["80", "65536", "abc", "-1", "4566.0", ""])
def test_unusable_port_is_refused_with_the_fix(port):
    with pytest.raises(SettingsError) as caught:
        Settings.from_env({"WORKSHOP_PREFIX": "x", "WORKSHOP_LOCAL_PORT": port})
    assert f"WORKSHOP_LOCAL_PORT={port!r}" in str(caught.value) and "1024 to 65535" in str(caught.value)


def test_names_carry_the_prefix():
    names = Settings.from_env({"WORKSHOP_PREFIX": "jane"}).names
    assert names.function == "jane-inference" and names.endpoint == "jane-classifier-endpoint"
    assert names.function_log_group == "/aws/lambda/jane-inference"
    assert names.endpoint_log_group == "/aws/sagemaker/Endpoints/jane-classifier-endpoint"
    assert names.bucket("123456789012", "us-east-1") == "jane-ml-workshop-123456789012-us-east-1"


def test_existing_endpoint_and_function_names_are_reused():
    env = {
        "WORKSHOP_PREFIX": "x",
        "WORKSHOP_ENDPOINT_NAME": "shared-ep",
        "WORKSHOP_FUNCTION_NAME": "shared-fn",
    }
    names = Settings.from_env(env).names
    assert (names.endpoint, names.function) == ("shared-ep", "shared-fn")


def test_tags_name_the_kit_the_prefix_and_the_creator():
    arn = "arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_Attendee_0a1b/jane.doe@example.com"
    tags = Settings.from_env({"WORKSHOP_PREFIX": "jane"}, identity=lambda s: arn).tags(chapter="8")
    assert (
        tags[config.TAG_KIT] == config.KIT_NAME
        and tags[config.TAG_PREFIX] == "jane"
        and tags["chapter"] == "8"
    )
    assert tags[config.TAG_CREATOR] == arn


def test_the_creator_tag_is_the_arn_in_characters_every_service_accepts():
    arn = "arn:aws:sts::123456789012:assumed-role/workshop/jane,doe+lab@example.com"
    tags = Settings.from_env({"WORKSHOP_PREFIX": "jane"}, identity=lambda s: arn + "x" * 300).tags()
    assert tags[config.TAG_CREATOR].startswith(
        "arn:aws:sts::123456789012:assumed-role/workshop/jane_doe+lab@example.com"
    )
    assert len(tags[config.TAG_CREATOR]) == 256


def _asked(arn: str = "arn:aws:iam::123456789012:user/jane.doe"):
    """An identity function that counts how often it is asked."""
    calls = []

    def identity(settings):
        calls.append(settings.mode)
        return arn

    return identity, calls


@pytest.mark.parametrize(
    ("arn", "expected"),
    [("arn:aws:iam::123456789012:user/jane.doe", "jane-doe"),
     ("arn:aws:iam::123456789012:user/engineering/Ann_Lee", "ann-lee"),
     ("arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_Attendee_0a1b2c3d/jane.doe@example.com", "jane-doe"),
     ("arn:aws:sts::123456789012:assumed-role/workshop-attendee/bob", "bob"),
     ("arn:aws:sts::123456789012:federated-user/carol", "carol")],
)  # fmt: skip
def test_aws_mode_without_a_prefix_derives_it_from_the_callers_identity(monkeypatch, arn, expected):
    monkeypatch.setattr(getpass, "getuser", lambda: "sagemaker-user")
    assert Settings.from_env({"WORKSHOP_MODE": "aws"}, identity=lambda s: arn).prefix == expected


@pytest.mark.parametrize(
    "arn",
    ["arn:aws:sts::123456789012:assumed-role/AmazonSageMaker-ExecutionRole-20240101T000000/SageMaker",
     "arn:aws:iam::123456789012:root",
     "arn:aws:iam::123456789012:user/admin",
     "arn:aws:sts::123456789012:assumed-role/JupyterHubInstanceRole/i-0123456789abcdef0",
     "arn:aws:sts::123456789012:assumed-role/workshop/botocore-session-1764000000"],
)  # fmt: skip
def test_aws_mode_refuses_an_identity_many_people_share_and_says_what_to_set(arn):
    with pytest.raises(SettingsError) as caught:
        Settings.from_env({"WORKSHOP_MODE": "aws"}, identity=lambda s: arn)
    message = str(caught.value)
    assert (
        arn in message
        and "%env WORKSHOP_PREFIX=jane-doe" in message
        and "export WORKSHOP_PREFIX=jane-doe" in message
    )


@pytest.mark.parametrize(
    "prefix",
    [
        "sagemaker-user",
        "jovyan",
        "ec2-user",
        "ubuntu",
        "root",
        "admin",
        "user",
        "sagemaker",
        "studio",
        "default",
        "attendee",
        "vscode",
        "codespace",
    ],
)
def test_aws_mode_refuses_a_shared_name_set_in_workshop_prefix(prefix):
    with pytest.raises(SettingsError) as caught:
        Settings.from_env({"WORKSHOP_MODE": "aws", "WORKSHOP_PREFIX": prefix}, identity=lambda s: "unused")
    message = str(caught.value)
    assert f"WORKSHOP_PREFIX={prefix!r}" in message and "many people share" in message
    assert "%env WORKSHOP_PREFIX=jane-doe" in message and "export WORKSHOP_PREFIX=jane-doe" in message


def test_local_mode_keeps_the_login_name_even_a_shared_one(monkeypatch):
    monkeypatch.setattr(getpass, "getuser", lambda: "sagemaker-user")
    identity, calls = _asked()
    assert Settings.from_env({}, identity=identity).prefix == "sagemaker-user"
    assert Settings.from_env({"WORKSHOP_PREFIX": "jovyan"}, identity=identity).prefix == "jovyan"
    assert calls == []


def test_aws_mode_never_takes_the_login_name(monkeypatch):
    monkeypatch.setattr(getpass, "getuser", lambda: "jane")
    assert (
        Settings.from_env({"WORKSHOP_MODE": "aws"}, identity=lambda s: "arn:aws:iam::1:user/ann").prefix
        == "ann"
    )


def test_settings_ask_who_you_are_only_for_an_aws_prefix_to_derive(monkeypatch):
    identity, calls = _asked()
    Settings.from_env({"WORKSHOP_MODE": "aws", "WORKSHOP_PREFIX": "jane-doe"}, identity=identity)
    Settings.from_env({"WORKSHOP_PREFIX": "jane-doe"}, identity=identity)
    assert calls == []
    Settings.from_env({"WORKSHOP_MODE": "aws"}, identity=identity)
    assert calls == ["aws"]


def test_the_settings_module_does_not_import_boto3():
    import subprocess
    import sys

    code = "import sys, helpers.config; print('boto3' in sys.modules, 'botocore' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=str(config.__file__).rsplit("/helpers/", 1)[0],
    ).stdout
    assert out.split() == ["False", "False"]


def test_reload_reads_changed_variables(monkeypatch):
    from helpers import session

    monkeypatch.setattr(session, "_current", None)  # restored after the test
    monkeypatch.setenv("WORKSHOP_PREFIX", "first")
    assert session.reload().prefix == "first"
    monkeypatch.setenv("WORKSHOP_PREFIX", "second")
    assert session.settings().prefix == "first"
    assert session.reload().prefix == "second"


class _Shell:
    """Records how IPython was asked to show an exception."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.lines: list[str] = []

    def showtraceback(self, exc_tuple, tb_offset=None, exception_only=False) -> None:
        self.calls.append("exception only" if exception_only else "full traceback")

    def _showtraceback(self, etype, evalue, stb) -> None:
        self.calls.append("one line")
        self.lines += stb


def test_a_permission_error_in_a_notebook_is_shown_in_one_line_with_the_missing_action(capsys):
    from botocore.exceptions import ClientError

    from helpers.session import show_error

    denied = ClientError(
        {
            "Error": {
                "Code": "AccessDeniedException",
                "Message": (
                    "User: arn:aws:sts::123456789012:assumed-role/r/f is not authorized to perform: dynamodb:PutItem "
                    "on resource: arn:aws:dynamodb:us-east-1:123456789012:table/t because no identity-based policy allows it"
                ),
            }
        },
        "PutItem",
    )
    shell = _Shell()
    show_error(shell, ClientError, denied, None)
    assert shell.calls == ["one line"]
    assert (
        "needs dynamodb:PutItem on arn:aws:dynamodb:us-east-1:123456789012:table/t" in capsys.readouterr().err
    )


def test_an_error_the_kit_cannot_explain_keeps_its_full_traceback(capsys):
    from botocore.exceptions import ClientError

    from helpers.session import show_error

    shell = _Shell()
    show_error(shell, ClientError, ClientError({"Error": {"Code": "Odd", "Message": "odd"}}, "Op"), None)
    assert shell.calls == ["full traceback"] and capsys.readouterr().err == ""


def test_a_refused_setting_in_a_notebook_is_shown_as_its_message_without_a_traceback(capsys):
    from helpers.session import show_error

    shell = _Shell()
    refused = SettingsError("WORKSHOP_PREFIX='jovyan' cannot be used in aws mode")
    show_error(shell, SettingsError, refused, None)
    assert shell.calls == ["one line"]
    assert len(shell.lines) == 1 and shell.lines[0].endswith("SettingsError\x1b[0m: " + str(refused))


def test_a_client_shared_by_many_threads_keeps_a_connection_per_thread_and_is_built_once():
    from helpers import session

    wide = session.client("dynamodb", pool=32)
    assert wide.meta.config.max_pool_connections == 32
    assert session.client("dynamodb", pool=32) is wide


def test_a_client_never_keeps_fewer_connections_than_botocores_default():
    from helpers import session

    assert session.client("dynamodb", pool=2) is session.client("dynamodb")
    assert session.client("dynamodb").meta.config.max_pool_connections == session.POOL == 10


def test_a_client_made_before_a_local_cloud_was_chosen_is_not_reused_after(monkeypatch):
    from helpers import session

    monkeypatch.setenv("WORKSHOP_MODE", "local")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    session.reload()
    default = session.client("dynamodb")
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:4999")
    moved = session.client("dynamodb")
    assert moved is not default and moved.meta.endpoint_url == "http://127.0.0.1:4999"

"""Partitions and regions: 00_setup's image and the kit's ARNs for every region the SageMaker SDK knows,
console links on each partition's console, and a clear refusal where the workshop cannot run."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import botocore.session
import pytest
from sagemaker.core import image_uris  # the SDK's own registry: the reference 00_setup's image must equal

from helpers import config, iam, policy, policy_scope, regions, session
from helpers import sagemaker as kit_sagemaker
from helpers.config import Settings, SettingsError

ROOT = Path(__file__).resolve().parents[2]
ACCOUNT = "123456789012"
BOTOCORE = botocore.session.get_session()
# The XGBoost version 00_setup deploys, read from its image_uris.retrieve(...) call.
KIT_VERSION = next(
    keyword.value.value
    for node in ast.walk(ast.parse((ROOT / "notebook_sources" / "00_setup.py").read_text()))
    if isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "retrieve"
    for keyword in node.keywords
    if keyword.arg == "version" and isinstance(keyword.value, ast.Constant)
)
SDK_REGIONS = sorted(
    image_uris.config_for_framework("xgboost")["inference"]["versions"][KIT_VERSION]["registries"]
)


def aws_settings(region: str) -> Settings:
    return Settings.from_env(
        {"WORKSHOP_MODE": "aws", "WORKSHOP_PREFIX": "jane-doe", "WORKSHOP_REGION": region}
    )


def test_the_sdk_lists_regions_of_several_partitions():
    partitions = {regions.partition(r) for r in SDK_REGIONS}
    assert len(SDK_REGIONS) >= 30 and {"aws", "aws-cn", "aws-us-gov"} <= partitions


def test_the_kit_reads_the_same_image_registry_as_the_sdk_and_deploys_the_same_version():
    assert regions.xgboost_image_regions(KIT_VERSION) == frozenset(SDK_REGIONS)
    assert regions.XGBOOST_VERSION == KIT_VERSION


@pytest.mark.parametrize("region", SDK_REGIONS)
def test_00_setups_image_is_the_sdks_own(region):
    assert kit_sagemaker.xgboost_image_uri(region) == image_uris.retrieve(
        "xgboost", region=region, version=KIT_VERSION
    )


@pytest.mark.parametrize("region", SDK_REGIONS)
def test_the_kits_arns_are_in_the_regions_partition(region, monkeypatch):
    part = BOTOCORE.get_partition_for_region(region)  # botocore's own answer
    assert regions.partition(region) == part
    s = aws_settings(region)
    monkeypatch.setattr(session, "_current", s)
    n = s.names
    built = {
        "role": session.arn("iam", f"role/{n.role}", region="", account=ACCOUNT),
        "table": session.arn("dynamodb", f"table/{n.metadata_table}", account=ACCOUNT),
        "function": session.arn("lambda", f"function:{n.function}", account=ACCOUNT),
        "endpoint": session.arn("sagemaker", f"endpoint/{n.endpoint}", account=ACCOUNT),
        "topic": session.arn("sns", n.topic, account=ACCOUNT),
        "log group": session.arn("logs", f"log-group:{n.function_log_group}", account=ACCOUNT),
        "alarm": session.arn("cloudwatch", f"alarm:{n.alarm('inference-errors')}", account=ACCOUNT),
        "bucket": session.arn("s3", n.bucket(ACCOUNT, region), region="", account=""),
        "managed policy": iam.BASIC_EXECUTION,
    }
    assert built["role"] == f"arn:{part}:iam::{ACCOUNT}:role/jane-doe-inference-lambda-role"
    assert built["table"] == f"arn:{part}:dynamodb:{region}:{ACCOUNT}:table/jane-doe-inference-metadata"
    assert built["bucket"] == f"arn:{part}:s3:::{n.bucket(ACCOUNT, region)}"
    assert built["managed policy"] == f"arn:{part}:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
    for what, arn in built.items():
        assert arn.split(":")[1] == part, what
    every = [
        *policy_scope.SCOPE,
        "iam:PassRole",
        "iam:CreateRole",
        "iam:PutRolePolicy",
        "iam:AttachRolePolicy",
    ]
    document = policy.class_policy(every, ACCOUNT, region)  # every resource type
    arns = re.findall(r'"(arn:[^"]+)"', json.dumps(document))
    assert arns and all(a.startswith(f"arn:{part}:") for a in arns)


@pytest.mark.parametrize(
    ("region", "host"),
    [
        ("eu-west-1", "https://eu-west-1.console.aws.amazon.com/"),
        ("cn-northwest-1", "https://console.amazonaws.cn/"),
        ("us-gov-east-1", "https://console.amazonaws-us-gov.com/"),
    ],
)
def test_console_links_use_the_partitions_console(region, host, monkeypatch):
    monkeypatch.setattr(session, "_current", aws_settings(region))
    url = session.console_url(f"lambda/home#/functions/{session.settings().names.function}")
    assert url == f"{host}lambda/home?region={region}#/functions/jane-doe-inference"
    assert session.console_url("resource-groups/tag-editor/find-resources?x=1").endswith(
        f"?x=1&region={region}"
    )


def test_the_local_cloud_has_no_console(monkeypatch):
    monkeypatch.setattr(session, "_current", Settings.from_env({"WORKSHOP_PREFIX": "x"}))
    assert session.console_url("lambda/home") is None


def test_every_sdk_region_of_the_commercial_partition_can_run_the_workshop():
    commercial = [r for r in SDK_REGIONS if regions.partition(r) == "aws"]
    assert commercial and all(config.require_workshop_region(r) == r for r in commercial)
    assert set(commercial) <= set(regions.workshop_regions())


@pytest.mark.parametrize("region", ["cn-north-1", "us-gov-west-1", "us-iso-east-1"])
def test_a_region_without_serverless_inference_is_refused_naming_it_and_what_to_choose(region):
    assert region in SDK_REGIONS  # the image is there: serverless inference is what is missing
    with pytest.raises(SettingsError) as caught:
        config.require_workshop_region(region)
    message = str(caught.value)
    assert f"WORKSHOP_REGION={region!r}" in message and "Serverless Inference" in message
    assert regions.partition(region) in message and "XGBoost" not in message
    choice = re.search(r"%env WORKSHOP_REGION=([a-z0-9-]+)", message).group(1)
    assert config.require_workshop_region(choice) == choice and regions.partition(choice) == "aws"


def test_a_region_without_the_xgboost_image_is_refused_with_nearby_regions():
    missing = sorted(
        r
        for p in BOTOCORE.get_available_partitions()
        if p == "aws"
        for r in BOTOCORE.get_available_regions("sagemaker", p)
        if r not in SDK_REGIONS
    )
    if not missing:
        pytest.skip("every commercial SageMaker region has the image")
    region = missing[0]
    with pytest.raises(SettingsError) as caught:
        config.require_workshop_region(region)
    message = str(caught.value)
    assert region in message and f"sagemaker-xgboost:{KIT_VERSION}" in message and "Serverless" not in message
    suggested = re.search(r"Fix: choose ([a-z0-9 -]+):", message).group(1).split(" or ")
    assert all(config.require_workshop_region(r) == r for r in suggested)


def test_prepare_refuses_the_region_before_anything_is_created(monkeypatch):
    from localcloud import client as process

    def no_cloud(*a, **kw):
        raise AssertionError("the local cloud was started for a refused region")

    monkeypatch.setattr(process, "up", no_cloud)
    monkeypatch.setattr(session, "caller_identity", no_cloud)
    monkeypatch.setattr(session, "_prepared", None)
    monkeypatch.setenv("WORKSHOP_MODE", "local")
    monkeypatch.setenv("WORKSHOP_PREFIX", "jane-doe")
    monkeypatch.setenv("WORKSHOP_REGION", "us-gov-west-1")
    monkeypatch.setattr(session, "_current", None)
    with pytest.raises(SettingsError, match="us-gov-west-1"):
        session.prepare()
    assert session._current is None  # the %env fix is read when the cell runs again
    monkeypatch.setenv("WORKSHOP_REGION", "us-west-2")
    assert session.settings().region == "us-west-2"


@pytest.mark.parametrize("region", ["aws-global", "aws-cn-global", "mars-north-1", "us-east-1a"])
def test_pseudo_and_unknown_regions_are_refused(region):
    with pytest.raises(SettingsError, match="WORKSHOP_REGION=us-east-1"):
        Settings.from_env({"WORKSHOP_PREFIX": "x", "WORKSHOP_REGION": region})


def test_every_partition_botocore_knows_resolves_as_botocore_does():
    for name in BOTOCORE.get_available_partitions():
        for region in BOTOCORE.get_available_regions("ec2", name) + BOTOCORE.get_available_regions(
            "sagemaker", name
        ):
            assert regions.partition(region) == BOTOCORE.get_partition_for_region(region) == name


@pytest.mark.parametrize(
    "path",
    sorted([*ROOT.glob("helpers/*.py"), *ROOT.glob("notebook_sources/*.py"), *ROOT.glob("lambda/*.py")]),
    ids=lambda p: str(p.relative_to(ROOT)),
)
def test_no_arn_is_written_with_a_fixed_partition(path):
    """ARNs come from session.arn / regions.arn (the local cloud, helpers/local, serves the aws partition only)."""
    code = [line for line in path.read_text().splitlines() if not line.lstrip().startswith(("#", '"""'))]
    fixed = [line.strip() for line in code if re.search(r"""["']arn:aws:|f["']arn:aws""", line)]
    assert not fixed, f"{path.relative_to(ROOT)} writes the aws partition into ARNs: use helpers.session.arn"

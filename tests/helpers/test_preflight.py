"""python -m helpers preflight: identity, region and the account quotas N attendees share, against the local cloud."""

from __future__ import annotations

import ast
import os

import boto3
import pytest
from botocore.exceptions import ClientError
from conftest import ROOT
from notebook_source import SOURCES

from helpers import preflight
from helpers.__main__ import main
from localcloud import profile


@pytest.fixture()
def quotas(local_cloud):
    """Set the local cloud's account quotas for one test: quotas(lambda_=.., serverless=..)."""
    old = profile.current()

    def use(lambda_: int = 1000, serverless: int = 200) -> None:
        profile.use(
            profile.Profile(
                name="local",
                quotas={
                    "lambda_concurrent_executions": lambda_,
                    "sagemaker_serverless_total_concurrency": serverless,
                },
            )
        )

    yield use
    profile.use(old)


def service_quotas(url: str):
    return boto3.client("service-quotas", endpoint_url=url, region_name="us-east-1")


def test_get_service_quota_answers_the_configured_serverless_concurrency(local_cloud, quotas):
    quotas(serverless=10)
    quota = service_quotas(local_cloud).get_service_quota(ServiceCode="sagemaker", QuotaCode="L-96300102")[
        "Quota"
    ]
    assert quota["Value"] == 10 and quota["QuotaName"].startswith("Maximum total concurrency")


def test_get_aws_default_service_quota_answers_awss_documented_default(local_cloud, quotas):
    quotas(lambda_=10)
    quota = service_quotas(local_cloud).get_aws_default_service_quota(
        ServiceCode="lambda", QuotaCode="L-B99A9384"
    )
    assert quota["Quota"]["Value"] == 1000


def test_list_service_quotas_answers_the_services_applied_quotas(local_cloud, quotas):
    quotas(lambda_=50)
    listed = service_quotas(local_cloud).list_service_quotas(ServiceCode="lambda")["Quotas"]
    assert [(q["QuotaCode"], q["Value"]) for q in listed] == [("L-B99A9384", 50)]


def test_an_unknown_quota_answers_no_such_resource(local_cloud):
    with pytest.raises(ClientError, match="NoSuchResourceException"):
        service_quotas(local_cloud).get_aws_default_service_quota(ServiceCode="ec2", QuotaCode="L-0263D0A3")


def test_three_attendees_need_fifteen_serverless_concurrency_and_ten_fail_naming_the_quota(
    kit_env, quotas, capsys
):
    quotas(serverless=10)
    assert main(["preflight", "--attendees", "3"]) == 1
    out = capsys.readouterr().out
    assert "FAIL  SageMaker total serverless concurrency (L-96300102)" in out
    assert "10 (applied) is below the 15 that 3 attendees need" in out and "(+5)" in out
    assert "servicequotas/home/services/sagemaker/quotas/L-96300102" in out


def test_lambda_concurrency_needs_the_attendees_traffic_plus_headroom(kit_env, quotas, capsys):
    quotas(lambda_=20)
    assert main(["preflight", "--attendees", "3"]) == 1
    out = capsys.readouterr().out
    assert (
        "FAIL  Lambda concurrent executions (L-B99A9384)" in out
        and "below the 22 that 3 attendees need" in out
    )


def test_enough_quota_passes_and_names_the_identity(kit_env, quotas, capsys):
    quotas(lambda_=1000, serverless=200)
    assert main(["preflight", "--attendees", "3"]) == 0
    out = capsys.readouterr().out
    assert "ok    identity (STS)" in out and "account 123456789012" in out and out.rstrip().endswith("ready")


def test_a_quota_the_region_lacks_falls_back_to_the_default_then_fails_naming_the_region():
    class NoQuotas:
        def get_service_quota(self, **kw):
            raise ClientError(
                {"Error": {"Code": "NoSuchResourceException", "Message": "no"}}, "GetServiceQuota"
            )

        get_aws_default_service_quota = get_service_quota

    check = preflight.quota_check(NoQuotas(), "xx-east-1", preflight.SERVERLESS_QUOTA, 5, 1)
    assert not check.ok and "not offered in this region" in check.detail and "WORKSHOP_REGION" in check.detail


def test_zero_attendees_is_refused(kit_env, capsys):
    assert main(["preflight", "--attendees", "0"]) == 2
    assert "at least 1 attendee" in capsys.readouterr().err


def test_the_endpoint_concurrency_preflight_assumes_is_what_00_setup_creates():
    tree = ast.parse((SOURCES / "00_setup.py").read_text())
    given = [  # the SDK's ProductionVariantServerlessConfig(max_concurrency=...)
        keyword.value.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        for keyword in node.keywords
        if keyword.arg == "max_concurrency" and isinstance(keyword.value, ast.Constant)
    ]
    assert given == [preflight.ENDPOINT_MAX_CONCURRENCY]


def test_the_command_reads_the_local_clouds_quota_from_its_setting(tmp_path):
    import socket
    import subprocess
    import sys

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "WORKSHOP_"))}
    env.update(
        WORKSHOP_MODE="local",
        WORKSHOP_PREFIX="pre",
        WORKSHOP_LOCAL_PORT=str(port),
        WORKSHOP_STATE_DIR=str(tmp_path),
        WORKSHOP_LOCAL_SERVERLESS_CONCURRENCY="10",
    )
    try:
        done = subprocess.run(
            [sys.executable, "-m", "helpers", "preflight", "--attendees", "3"],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        subprocess.run([sys.executable, "-m", "localcloud", "down"], env=env, cwd=ROOT, capture_output=True)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "FAIL  SageMaker total serverless concurrency (L-96300102)" in done.stdout
    assert "below the 15 that 3 attendees need" in done.stdout

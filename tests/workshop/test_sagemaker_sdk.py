"""The SageMaker Python SDK's import cost stays in 00_setup: importing the kit, the handler or starting the local
cloud never imports `sagemaker`; the SDK's calls reach the local cloud through the kit's session."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run(code: str, **env: str) -> str:
    """Run code in a fresh interpreter at the repository root; its stdout."""
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=ROOT, capture_output=True, text=True,
                          timeout=120, env={**os.environ, "PYTHONPATH": str(ROOT), **env})  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_importing_the_kit_and_starting_the_local_cloud_does_not_import_the_sdk():
    out = run("""
        import sys
        import helpers
        from helpers import (awslambda, cloudwatch, dynamodb, history, iam, inventory, logs, model, s3, sagemaker,
                             session, show, traffic)
        from localcloud.server import InProcessCloud, install_hooks
        install_hooks()
        cloud = InProcessCloud(port=0).start()
        cloud.stop()
        sys.path.insert(0, "lambda")
        import app  # the 8.2 handler
        print(sorted(m for m in sys.modules if m == "sagemaker" or m.startswith("sagemaker.")))
    """)
    assert out.strip() == "[]"


def test_the_sdk_reaches_the_local_cloud_through_the_kits_session(local_cloud):
    out = run(
        """
        from helpers import sagemaker
        from sagemaker.core.resources import Endpoint
        from botocore.exceptions import ClientError
        options = sagemaker.sdk()
        try:
            Endpoint.get("no-such-endpoint", **options)
        except ClientError as exc:
            print(exc.response["Error"]["Message"])
        from sagemaker.core.utils.utils import SageMakerClient
        clients = SageMakerClient(session=options["session"], region_name=options["region"])
        print(clients.sagemaker_client.meta.endpoint_url, clients.sagemaker_runtime_client.meta.endpoint_url)
    """,
        AWS_ENDPOINT_URL=local_cloud,
        WORKSHOP_MODE="local",
    )
    message, urls = out.strip().splitlines()
    assert "no-such-endpoint" in message and "123456789012" in message  # the local cloud answered
    assert urls.split() == [local_cloud, local_cloud]


def test_the_xgboost_image_is_the_sdks_answer():
    from sagemaker.core import image_uris

    from helpers import sagemaker

    for region in ("us-east-1", "ap-south-1", "eu-north-1", "cn-north-1", "us-gov-west-1"):
        assert sagemaker.xgboost_image_uri(region) == image_uris.retrieve(
            "xgboost", region=region, version="1.7-1"
        )
    assert sagemaker.xgboost_image_uri("ap-south-1").startswith(
        "720646828776.dkr.ecr.ap-south-1.amazonaws.com/"
    )


def test_the_kits_s3_client_can_still_be_made_after_the_sdks_session(local_cloud):
    out = run(
        """
        from helpers import sagemaker, session
        sagemaker.sdk()
        print(session.client("s3").list_buckets()["ResponseMetadata"]["HTTPStatusCode"])
    """,
        AWS_ENDPOINT_URL=local_cloud,
        WORKSHOP_MODE="local",
    )
    assert out.strip() == "200"

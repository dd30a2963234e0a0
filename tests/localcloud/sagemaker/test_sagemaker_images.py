"""The local cloud checks a model's image as SageMaker does: only the region's registry image of a framework and
version (or an image pushed to the account's own ECR) can be pulled; any other ends the endpoint Failed."""

from __future__ import annotations

import json
import uuid
from types import SimpleNamespace

import boto3
import pytest
from aws_errors import error_of
from botocore.config import Config
from sagemaker.core import image_uris  # the SDK's own answer: the reference

from helpers import model
from localcloud.sagemaker import images as sagemaker_images

ACCOUNT = "123456789012"
VERSION = "1.7-1"
SDK_REGIONS = sorted(
    image_uris.config_for_framework("xgboost")["inference"]["versions"][VERSION]["registries"]
)


@pytest.mark.parametrize("region", SDK_REGIONS)
def test_the_local_clouds_registry_image_is_the_sdks_own(region):
    assert sagemaker_images.registry_image("xgboost", region, VERSION) == image_uris.retrieve(
        "xgboost", region=region, version=VERSION
    )


def test_every_published_version_of_the_region_is_pullable():
    for version in ("1.5-1", "1.7-1", "3.0-5"):
        assert sagemaker_images.pullable(image_uris.retrieve("xgboost", region="eu-west-1", version=version),
                                         ACCOUNT, "eu-west-1")  # fmt: skip


@pytest.mark.parametrize("image, region", [
    # us-east-1's account on another region's host: the kit's old fallback for regions its table lacked
    ("683313688378.dkr.ecr.ap-south-1.amazonaws.com/sagemaker-xgboost:1.7-1", "ap-south-1"),
    # the right image of another region
    ("683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1", "us-west-2"),
    # a tag the registry does not publish
    ("683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:9.9-9", "us-east-1"),
    # the wrong partition's host
    ("450853457545.dkr.ecr.cn-north-1.amazonaws.com/sagemaker-xgboost:1.7-1", "cn-north-1"),
    # another account's private repository, and no registry at all
    ("111122223333.dkr.ecr.us-east-1.amazonaws.com/my-model:latest", "us-east-1"),
    ("sagemaker-xgboost:1.7-1", "us-east-1"),
])  # fmt: skip
def test_an_image_sagemaker_cannot_pull_is_refused(image, region):
    assert not sagemaker_images.pullable(image, ACCOUNT, region)


def test_the_china_regions_image_is_on_the_china_host():
    assert sagemaker_images.pullable("450853457545.dkr.ecr.cn-north-1.amazonaws.com.cn/sagemaker-xgboost:1.7-1",
                                     ACCOUNT, "cn-north-1")  # fmt: skip


# Every built-in image the SDK's registry publishes for the region is genuine (SageMaker's "Docker Registry Paths
# and Example Code": https://docs.aws.amazon.com/sagemaker/latest/dg-ecr-paths/sagemaker-algo-docker-registry-paths.html;
# the SDK's image_uris.retrieve answers from the same data), not only XGBoost.
BUILT_IN = [
    ("factorization-machines", {}),
    ("kmeans", {}),
    ("linear-learner", {}),
    ("blazingtext", {}),
    ("sklearn", {"version": "1.2-1"}),
    (
        "pytorch",
        {
            "version": "2.1",
            "py_version": "py310",
            "instance_type": "ml.m5.xlarge",
            "image_scope": "inference",
        },
    ),
    ("tensorflow", {"version": "2.13", "instance_type": "ml.m5.xlarge", "image_scope": "inference"}),
]


@pytest.mark.parametrize("region", ["eu-west-1", "ap-south-1", "cn-north-1"])
@pytest.mark.parametrize(("framework", "options"), BUILT_IN, ids=[f for f, _ in BUILT_IN])
def test_every_built_in_image_of_the_sdks_registry_is_pullable_in_its_region(framework, options, region):
    image = image_uris.retrieve(framework, region=region, **options)
    assert sagemaker_images.pullable(image, ACCOUNT, region), image


def test_a_built_in_image_is_not_pullable_in_another_region():
    image = image_uris.retrieve("factorization-machines", region="eu-west-1")
    assert not sagemaker_images.pullable(image, ACCOUNT, "us-west-2")


@pytest.mark.parametrize("image", [
    # factorization-machines from XGBoost's registry account of the region (eu-west-1: 141502667606)
    "141502667606.dkr.ecr.eu-west-1.amazonaws.com/factorization-machines:1",
    # a version the registry does not publish, and a tag it does not publish
    "438346466558.dkr.ecr.eu-west-1.amazonaws.com/factorization-machines:7",
    "438346466558.dkr.ecr.eu-west-1.amazonaws.com/factorization-machines:latest-and-greatest",
    # a repository no registry holds
    "438346466558.dkr.ecr.eu-west-1.amazonaws.com/factorisation-machines:1",
])  # fmt: skip
def test_a_built_in_name_sagemaker_could_not_pull_is_refused(image):
    assert not sagemaker_images.pullable(image, ACCOUNT, "eu-west-1")


# -- endpoints in the local cloud ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cloud(local_cloud):
    """Clients in several regions, a role SageMaker may use, and the kit's model artifact in S3."""

    def make(service: str, region: str = "us-east-1", **kwargs):
        return boto3.client(service, endpoint_url=local_cloud, region_name=region, **kwargs)

    bucket = f"test-images-{uuid.uuid4().hex[:8]}"
    make("s3").create_bucket(Bucket=bucket)
    make("s3").put_object(Bucket=bucket, Key="model.tar.gz", Body=model.train().artifact)
    iam, role_name = make("iam"), f"test-images-{uuid.uuid4().hex[:8]}"
    trust = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "sagemaker.amazonaws.com"}, "Action": "sts:AssumeRole"}]}  # fmt: skip
    role = iam.create_role(RoleName=role_name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    iam.put_role_policy(RoleName=role_name, PolicyName="read", PolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/*"}]}))  # fmt: skip
    return SimpleNamespace(make=make, role=role, url=f"s3://{bucket}/model.tar.gz")


def deploy(cloud, region: str, image: str) -> str:
    """Model, serverless configuration and endpoint for image in region; the endpoint's name."""
    sm, name = cloud.make("sagemaker", region), f"img-{uuid.uuid4().hex[:10]}"
    sm.create_model(ModelName=name, ExecutionRoleArn=cloud.role,
                    PrimaryContainer={"Image": image, "ModelDataUrl": cloud.url})  # fmt: skip
    sm.create_endpoint_config(EndpointConfigName=name, ProductionVariants=[
        {"VariantName": "AllTraffic", "ModelName": name, "ServerlessConfig": {"MemorySizeInMB": 2048, "MaxConcurrency": 1}}])  # fmt: skip
    sm.create_endpoint(EndpointName=name, EndpointConfigName=name)
    return name


def test_a_genuine_built_in_image_other_than_xgboost_serves(cloud):
    name = deploy(cloud, "eu-west-1", image_uris.retrieve("factorization-machines", region="eu-west-1"))
    described = cloud.make("sagemaker", "eu-west-1").describe_endpoint(EndpointName=name)
    assert (described["EndpointStatus"], described.get("FailureReason")) == ("InService", None)


def invoke(cloud, region: str, name: str) -> dict:
    runtime = cloud.make("sagemaker-runtime", region, config=Config(retries={"total_max_attempts": 1}))
    return runtime.invoke_endpoint(EndpointName=name, ContentType="text/csv", Body="10,3,0.5,100")


@pytest.mark.parametrize("region", ["ap-south-1", "eu-north-1"])
def test_the_regions_own_image_serves(cloud, region):
    name = deploy(cloud, region, image_uris.retrieve("xgboost", region=region, version=VERSION))
    described = cloud.make("sagemaker", region).describe_endpoint(EndpointName=name)
    assert (described["EndpointStatus"], described.get("FailureReason")) == ("InService", None)
    assert 0 <= float(invoke(cloud, region, name)["Body"].read()) <= 1


@pytest.mark.parametrize("region, image", [
    ("ap-south-1", "683313688378.dkr.ecr.ap-south-1.amazonaws.com/sagemaker-xgboost:1.7-1"),  # wrong account
    ("eu-north-1", "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1"),  # wrong region
])  # fmt: skip
def test_another_image_fails_the_endpoint_and_it_is_not_invoked(cloud, region, image):
    name = deploy(cloud, region, image)
    described = cloud.make("sagemaker", region).describe_endpoint(EndpointName=name)
    assert described["EndpointStatus"] == "Failed"
    assert described["FailureReason"] == (
        "Please make sure all images included in the model for the production variant AllTraffic exist, and that "
        "the execution role used to create the model has permissions to access them."
    )
    code, message = error_of(lambda: invoke(cloud, region, name))
    assert (code, message) == ("ValidationError", f"Endpoint {name} of account {ACCOUNT} not found.")


def test_an_image_in_the_accounts_own_ecr_is_pulled_once_pushed(cloud):
    ecr, repository = cloud.make("ecr"), f"own-{uuid.uuid4().hex[:8]}"
    uri = ecr.create_repository(repositoryName=repository)["repository"]["repositoryUri"]
    assert status_of(cloud, deploy(cloud, "us-east-1", f"{uri}:v1")) == "Failed"  # nothing pushed yet
    manifest = {"schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
                "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": 1,
                           "digest": "sha256:" + "0" * 64}, "layers": []}  # fmt: skip
    ecr.put_image(repositoryName=repository, imageManifest=json.dumps(manifest), imageTag="v1")
    assert status_of(cloud, deploy(cloud, "us-east-1", f"{uri}:v1")) == "InService"


def status_of(cloud, name: str, region: str = "us-east-1") -> str:
    return cloud.make("sagemaker", region).describe_endpoint(EndpointName=name)["EndpointStatus"]

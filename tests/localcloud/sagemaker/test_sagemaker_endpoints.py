"""The local cloud's SageMaker endpoints pass through SageMaker's states, fail and count against quotas as AWS does."""

from __future__ import annotations

import io
import json
import tarfile
import time
import uuid
from types import SimpleNamespace

import boto3
import pytest
from aws_errors import error_of
from botocore.config import Config
from botocore.exceptions import ClientError

from helpers import model
from localcloud import profile

IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1"
# The built-in XGBoost image of each region the tests use (the SDK's registry; a wrong one fails the endpoint).
IMAGES = {
    "us-east-1": IMAGE,
    "ap-southeast-2": "783357654285.dkr.ecr.ap-southeast-2.amazonaws.com/sagemaker-xgboost:1.7-1",
}
QUOTA = "sagemaker_serverless_total_concurrency"


def use_profile(name: str, scale: float = 0.01, serverless_quota: int = 200) -> profile.Profile:
    """Switch the in-process cloud to a profile; return the old one."""
    quotas = {**profile.from_env({}).quotas, QUOTA: serverless_quota}
    return profile.use(profile.Profile(name=name, seed=1, scale=scale, quotas=quotas))


class FixedDelays(profile.Profile):
    """The aws profile with chosen delays (others none), for tests that need a delay to be long enough."""

    def __init__(self, delays: dict[str, float]) -> None:
        super().__init__(name="aws", seed=1, scale=1.0, quotas={**profile.from_env({}).quotas, QUOTA: 200})
        self.fixed = delays

    def delay(self, kind: str, key: str = "") -> float:
        return self.fixed.get(kind, 0.0)


@pytest.fixture()
def aws_profile():
    """AWS's endpoint delays at 1/100 (Creating ~1-2 s, Updating ~1-2 s, Deleting < 0.3 s)."""
    old = use_profile("aws")
    yield
    profile.use(old)


@pytest.fixture()
def local_profile():
    old = use_profile("local")
    yield
    profile.use(old)


@pytest.fixture(scope="module")
def cloud(local_cloud):
    """Clients, a bucket and a SageMaker role; each test uses its own region's endpoints where quotas matter."""

    def make(service: str, region: str = "us-east-1", **kwargs):
        return boto3.client(service, endpoint_url=local_cloud, region_name=region, **kwargs)

    s3 = make("s3")
    bucket = f"test-endpoints-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket)
    trust = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "sagemaker.amazonaws.com"}, "Action": "sts:AssumeRole"}]}  # fmt: skip
    iam, role_name = make("iam"), f"test-endpoints-{uuid.uuid4().hex[:8]}"
    role = iam.create_role(RoleName=role_name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    iam.put_role_policy(RoleName=role_name, PolicyName="read-models", PolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/*"}]}))  # fmt: skip
    return SimpleNamespace(make=make, s3=s3, bucket=bucket, role=role, sm=make("sagemaker"),
                           runtime=make("sagemaker-runtime", config=Config(retries={"total_max_attempts": 1})))  # fmt: skip


@pytest.fixture(scope="module")
def good_artifact() -> bytes:
    return model.train().artifact


def tar_gz(files: dict[str, bytes]) -> bytes:
    """A tar.gz holding files."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def new_model(cloud, artifact: bytes | None, sm=None) -> str:
    """A SageMaker model whose ModelDataUrl holds artifact (None: the object is deleted after CreateModel)."""
    name = f"m-{uuid.uuid4().hex[:10]}"
    key = f"models/{name}/model.tar.gz"
    cloud.s3.put_object(Bucket=cloud.bucket, Key=key, Body=artifact or b"placeholder")
    sm = sm or cloud.sm
    sm.create_model(ModelName=name, ExecutionRoleArn=cloud.role, PrimaryContainer={
        "Image": IMAGES[sm.meta.region_name], "ModelDataUrl": f"s3://{cloud.bucket}/{key}"})  # fmt: skip
    if artifact is None:
        cloud.s3.delete_object(Bucket=cloud.bucket, Key=key)
    return name


def new_config(
    cloud, model_name: str, variant: str = "AllTraffic", concurrency: int | None = None, sm=None
) -> str:
    """An endpoint configuration serving model_name: serverless with concurrency, else one instance."""
    name = f"c-{uuid.uuid4().hex[:10]}"
    hosting = ({"ServerlessConfig": {"MemorySizeInMB": 2048, "MaxConcurrency": concurrency}} if concurrency
               else {"InstanceType": "ml.m5.large", "InitialInstanceCount": 1})  # fmt: skip
    (sm or cloud.sm).create_endpoint_config(
        EndpointConfigName=name,
        ProductionVariants=[{"VariantName": variant, "ModelName": model_name, **hosting}],
    )
    return name


def new_endpoint(cloud, config: str, sm=None) -> str:
    name = f"e-{uuid.uuid4().hex[:10]}"
    (sm or cloud.sm).create_endpoint(EndpointName=name, EndpointConfigName=config)
    return name


def status(cloud, name: str, sm=None) -> str:
    return (sm or cloud.sm).describe_endpoint(EndpointName=name)["EndpointStatus"]


def wait_until_not(cloud, name: str, state: str, timeout_s: float = 15) -> dict:
    """Describe the endpoint until it leaves state; return the description."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        described = cloud.sm.describe_endpoint(EndpointName=name)
        if described["EndpointStatus"] != state:
            return described
        time.sleep(0.1)
    raise AssertionError(f"endpoint {name} still {state} after {timeout_s} s")


def invoke(cloud, name: str) -> str:
    """The production variant that answered one row."""
    answer = cloud.runtime.invoke_endpoint(EndpointName=name, ContentType="text/csv", Body="42.5,14,0.12,900")
    return answer["InvokedProductionVariant"]


# -- states under the aws profile -------------------------------------------------------------------


def test_a_new_endpoint_is_creating_then_in_service(cloud, good_artifact, aws_profile):
    name = new_endpoint(cloud, new_config(cloud, new_model(cloud, good_artifact)))
    assert status(cloud, name) == "Creating"
    assert wait_until_not(cloud, name, "Creating")["EndpointStatus"] == "InService"


def test_list_endpoints_shows_the_creating_state(cloud, good_artifact, aws_profile):
    name = new_endpoint(cloud, new_config(cloud, new_model(cloud, good_artifact)))
    listed = cloud.sm.list_endpoints(NameContains=name)["Endpoints"]
    assert [(e["EndpointName"], e["EndpointStatus"]) for e in listed] == [(name, "Creating")]


def test_the_endpoint_in_service_waiter_waits_through_creating(cloud, good_artifact, aws_profile):
    name = new_endpoint(cloud, new_config(cloud, new_model(cloud, good_artifact)))
    assert status(cloud, name) == "Creating"
    cloud.sm.get_waiter("endpoint_in_service").wait(
        EndpointName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 15}
    )
    assert status(cloud, name) == "InService"


def test_invoking_an_endpoint_that_is_still_creating_answers_not_found(cloud, good_artifact, aws_profile):
    name = new_endpoint(cloud, new_config(cloud, new_model(cloud, good_artifact)))
    code, message = error_of(lambda: invoke(cloud, name))
    assert (code, message) == ("ValidationError", f"Endpoint {name} of account 123456789012 not found.")


def test_an_update_keeps_the_old_configuration_serving_while_updating(cloud, good_artifact, aws_profile):
    name = new_endpoint(cloud, new_config(cloud, new_model(cloud, good_artifact), variant="Old"))
    wait_until_not(cloud, name, "Creating")
    new = new_config(cloud, new_model(cloud, good_artifact), variant="New")
    cloud.sm.update_endpoint(EndpointName=name, EndpointConfigName=new)
    described = cloud.sm.describe_endpoint(EndpointName=name)
    assert described["EndpointStatus"] == "Updating"
    assert described["PendingDeploymentSummary"]["EndpointConfigName"] == new
    assert invoke(cloud, name) == "Old"
    described = wait_until_not(cloud, name, "Updating")
    assert (described["EndpointStatus"], described["EndpointConfigName"]) == ("InService", new)
    assert invoke(cloud, name) == "New"


def test_updating_an_endpoint_that_is_creating_is_refused(cloud, good_artifact, aws_profile):
    config = new_config(cloud, new_model(cloud, good_artifact))
    name = new_endpoint(cloud, config)
    code, message = error_of(lambda: cloud.sm.update_endpoint(EndpointName=name, EndpointConfigName=config))
    assert code == "ValidationException" and message.startswith("Cannot update in-progress endpoint")


def test_deleting_an_endpoint_that_is_creating_is_refused(cloud, good_artifact, aws_profile):
    name = new_endpoint(cloud, new_config(cloud, new_model(cloud, good_artifact)))
    code, message = error_of(lambda: cloud.sm.delete_endpoint(EndpointName=name))
    assert code == "ValidationException" and message.startswith("Cannot update in-progress endpoint")


def test_a_deleted_endpoint_is_deleting_then_gone(cloud, good_artifact, aws_profile):
    name = new_endpoint(cloud, new_config(cloud, new_model(cloud, good_artifact)))
    wait_until_not(cloud, name, "Creating")
    old = use_profile("aws", scale=0.2)  # Deleting for 1-6 s: long enough to see
    try:
        cloud.sm.delete_endpoint(EndpointName=name)
        assert status(cloud, name) == "Deleting"
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                status(cloud, name)
            except ClientError as exc:
                assert exc.response["Error"]["Message"].startswith("Could not find endpoint")
                return
            time.sleep(0.1)
        raise AssertionError("the endpoint was never gone")
    finally:
        profile.use(old)


# -- models that cannot load (both profiles) --------------------------------------------------------


def test_an_endpoint_whose_artifact_is_missing_fails_at_once_under_the_local_profile(cloud, local_profile):
    name = new_endpoint(cloud, new_config(cloud, new_model(cloud, None)))
    described = cloud.sm.describe_endpoint(EndpointName=name)
    assert described["EndpointStatus"] == "Failed"
    assert described["FailureReason"].startswith(
        f"Failed to download model data (bucket: {cloud.bucket}, key: models/"
    )


def test_an_endpoint_whose_artifact_is_not_a_tar_gz_fails_to_extract(cloud, local_profile):
    name = new_endpoint(cloud, new_config(cloud, new_model(cloud, b"PK\x03\x04 a zip, not a tar.gz")))
    described = cloud.sm.describe_endpoint(EndpointName=name)
    assert described["EndpointStatus"] == "Failed"
    assert described["FailureReason"].startswith('Failed to extract model data archive from URL "s3://')


def test_an_endpoint_whose_archive_holds_no_booster_fails_the_ping_health_check(cloud, local_profile):
    name = new_endpoint(cloud, new_config(cloud, new_model(cloud, tar_gz({"README.txt": b"no model here"}))))
    described = cloud.sm.describe_endpoint(EndpointName=name)
    assert described["EndpointStatus"] == "Failed"
    assert described["FailureReason"] == (
        "The primary container for production variant AllTraffic did not pass the ping health check. "
        "Please check CloudWatch logs for this endpoint."
    )


def test_an_endpoint_whose_model_has_no_model_data_is_in_service(cloud, local_profile):
    model_name = f"m-{uuid.uuid4().hex[:10]}"
    cloud.sm.create_model(
        ModelName=model_name, ExecutionRoleArn=cloud.role, PrimaryContainer={"Image": IMAGE}
    )
    assert status(cloud, new_endpoint(cloud, new_config(cloud, model_name))) == "InService"


def test_under_the_aws_profile_a_broken_model_fails_only_after_creating(cloud, aws_profile):
    name = new_endpoint(cloud, new_config(cloud, new_model(cloud, None)))
    assert status(cloud, name) == "Creating"
    assert wait_until_not(cloud, name, "Creating")["EndpointStatus"] == "Failed"


def test_a_failed_endpoint_is_not_invoked(cloud, local_profile):
    name = new_endpoint(cloud, new_config(cloud, new_model(cloud, None)))
    assert error_of(lambda: invoke(cloud, name))[0] == "ValidationError"


def on_a_failed_endpoint(cloud, artifact, action: str) -> tuple[str, tuple[str, str]]:
    """action (update_endpoint, create_endpoint) with a failed endpoint's name and a good config: the
    endpoint's name and the error (code, message with the endpoint's ARN written ARN)."""
    name = new_endpoint(cloud, new_config(cloud, new_model(cloud, None)))
    good = new_config(cloud, new_model(cloud, artifact))
    code, message = error_of(lambda: getattr(cloud.sm, action)(EndpointName=name, EndpointConfigName=good))
    return name, (code, message.replace(cloud.sm.describe_endpoint(EndpointName=name)["EndpointArn"], "ARN"))


def test_a_failed_endpoint_cannot_be_updated(cloud, good_artifact, local_profile):
    _, error = on_a_failed_endpoint(cloud, good_artifact, "update_endpoint")
    assert error == ("ValidationException", 'Cannot update failed endpoint "ARN".')


def test_an_endpoint_name_in_use_cannot_be_created_again(cloud, good_artifact, local_profile):
    name, error = on_a_failed_endpoint(cloud, good_artifact, "create_endpoint")
    assert error == ("ValidationException", 'Cannot create already existing endpoint "ARN".')
    assert status(cloud, name) == "Failed"


def test_a_failed_endpoint_can_be_deleted_and_created_again(cloud, good_artifact, local_profile):
    name = new_endpoint(cloud, new_config(cloud, new_model(cloud, None)))
    assert status(cloud, name) == "Failed"
    cloud.sm.delete_endpoint(EndpointName=name)
    cloud.sm.create_endpoint(
        EndpointName=name, EndpointConfigName=new_config(cloud, new_model(cloud, good_artifact))
    )
    assert status(cloud, name) == "InService"


def test_a_failed_update_rolls_back_to_the_old_configuration_with_a_reason(
    cloud, good_artifact, local_profile
):
    old_config = new_config(cloud, new_model(cloud, good_artifact))
    name = new_endpoint(cloud, old_config)
    cloud.sm.update_endpoint(EndpointName=name, EndpointConfigName=new_config(cloud, new_model(cloud, None)))
    described = cloud.sm.describe_endpoint(EndpointName=name)
    assert (described["EndpointStatus"], described["EndpointConfigName"]) == ("InService", old_config)
    assert described["FailureReason"].startswith("Failed to download model data")
    assert invoke(cloud, name) == "AllTraffic"


# -- the serverless quota (both profiles) -----------------------------------------------------------


@pytest.fixture()
def quota_of_10():
    """The local profile with a new account's serverless quota of 10."""
    old = use_profile("local", serverless_quota=10)
    yield
    profile.use(old)


def test_serverless_concurrency_beyond_the_quota_is_refused_at_create(cloud, good_artifact, quota_of_10):
    sm = cloud.make("sagemaker", region="ap-southeast-2")
    first = new_endpoint(
        cloud, new_config(cloud, new_model(cloud, good_artifact, sm), concurrency=6, sm=sm), sm=sm
    )
    try:
        second = new_config(cloud, new_model(cloud, good_artifact, sm), concurrency=5, sm=sm)
        code, message = error_of(lambda: sm.create_endpoint(EndpointName="second", EndpointConfigName=second))
        assert code == "ResourceLimitExceeded"
        assert message.startswith(
            "The account-level service limit 'Maximum total concurrency that can be allocated across all serverless "
            "endpoints' is 10, with current utilization of 6 and a request delta of 5."
        )
    finally:
        sm.delete_endpoint(EndpointName=first)


def test_serverless_concurrency_beyond_the_quota_is_refused_at_update(cloud, good_artifact, quota_of_10):
    sm = cloud.make("sagemaker", region="ap-southeast-2")
    model_name = new_model(cloud, good_artifact, sm)
    name = new_endpoint(cloud, new_config(cloud, model_name, concurrency=5, sm=sm), sm=sm)
    try:
        bigger = new_config(cloud, model_name, concurrency=11, sm=sm)
        code, _ = error_of(lambda: sm.update_endpoint(EndpointName=name, EndpointConfigName=bigger))
        assert code == "ResourceLimitExceeded"
        sm.update_endpoint(
            EndpointName=name, EndpointConfigName=new_config(cloud, model_name, concurrency=10, sm=sm)
        )
        assert status(cloud, name, sm) == "InService"
    finally:
        sm.delete_endpoint(EndpointName=name)


def test_a_failed_endpoint_holds_no_serverless_concurrency(cloud, good_artifact, quota_of_10):
    sm = cloud.make("sagemaker", region="ap-southeast-2")
    failed = new_endpoint(cloud, new_config(cloud, new_model(cloud, None, sm), concurrency=10, sm=sm), sm=sm)
    good = new_endpoint(
        cloud, new_config(cloud, new_model(cloud, good_artifact, sm), concurrency=10, sm=sm), sm=sm
    )
    assert (status(cloud, failed, sm), status(cloud, good, sm)) == ("Failed", "InService")
    sm.delete_endpoint(EndpointName=failed)
    sm.delete_endpoint(EndpointName=good)


# -- ServerlessConfig validation --------------------------------------------------------------------


def serverless_config_error(cloud, artifact, memory_mb: int, max_concurrency: int) -> tuple[str, str]:
    """The error code and message of CreateEndpointConfig for a serverless variant of this size."""
    model_name = new_model(cloud, artifact)
    return error_of(lambda: cloud.sm.create_endpoint_config(
        EndpointConfigName=f"c-{uuid.uuid4().hex[:10]}",
        ProductionVariants=[{"VariantName": "AllTraffic", "ModelName": model_name,
                             "ServerlessConfig": {"MemorySizeInMB": memory_mb, "MaxConcurrency": max_concurrency}}]))  # fmt: skip


def test_max_concurrency_above_200_is_refused(cloud, good_artifact):
    code, message = serverless_config_error(cloud, good_artifact, 2048, 201)
    assert code == "ValidationException"
    assert "Member must have value less than or equal to 200" in message


def test_memory_size_outside_1_gb_steps_is_refused(cloud, good_artifact):
    code, _ = serverless_config_error(cloud, good_artifact, 1536, 5)
    assert code == "ValidationException"


def test_an_endpoint_config_name_in_use_cannot_be_created_again(cloud, good_artifact):
    model_name = new_model(cloud, good_artifact)
    config = new_config(cloud, model_name)
    code, message = error_of(lambda: cloud.sm.create_endpoint_config(
        EndpointConfigName=config,
        ProductionVariants=[{"VariantName": "X", "ModelName": model_name, "InstanceType": "ml.m5.large",
                             "InitialInstanceCount": 1}]))  # fmt: skip
    assert code == "ValidationException" and message.startswith(
        "Cannot create already existing endpoint configuration"
    )


# -- the kit: helpers.sagemaker ---------------------------------------------------------------------


def artifact_key(cloud, model_name: str) -> str:
    url = cloud.sm.describe_model(ModelName=model_name)["PrimaryContainer"]["ModelDataUrl"]
    return url.split("/", 3)[3]


@pytest.fixture()
def sdk(cloud):
    """The SDK's resources and the session/region arguments reaching the test's local cloud (helpers.sagemaker.sdk())."""
    from sagemaker.core.resources import Endpoint, Model

    from helpers import sagemaker

    return SimpleNamespace(Endpoint=Endpoint, Model=Model, options=sagemaker.sdk())


def ensure_endpoint(sdk, name: str, config: str):
    from helpers import sagemaker

    return sagemaker.ensure_endpoint(
        sdk.Endpoint.create, endpoint_name=name, endpoint_config_name=config, **sdk.options
    )


def test_create_once_waits_while_a_new_role_propagates(cloud, good_artifact, sdk, capsys):
    from sagemaker.core.shapes import ContainerDefinition

    from helpers import sagemaker

    old = profile.use(FixedDelays({"iam_propagation": 6.0}))  # a new role is unusable by SageMaker for 6 s
    try:
        trust = {"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "sagemaker.amazonaws.com"}, "Action": "sts:AssumeRole"}]}  # fmt: skip
        iam = cloud.make("iam")
        role_name = f"test-propagating-{uuid.uuid4().hex[:8]}"
        role = iam.create_role(RoleName=role_name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
        iam.put_role_policy(RoleName=role_name, PolicyName="read", PolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{cloud.bucket}/*"}]}))  # fmt: skip
        key = f"models/propagating-{uuid.uuid4().hex[:8]}/model.tar.gz"
        cloud.s3.put_object(Bucket=cloud.bucket, Key=key, Body=good_artifact)
        name = f"m-{uuid.uuid4().hex[:10]}"
        made = sagemaker.create_once(sdk.Model.create, model_name=name, execution_role_arn=role,
                                     primary_container=ContainerDefinition(
                                         image=IMAGE, model_data_url=f"s3://{cloud.bucket}/{key}"), **sdk.options)  # fmt: skip
    finally:
        profile.use(old)
    assert made.model_name == name and made.model_arn.endswith(f":model/{name}")
    out = capsys.readouterr().out
    assert "IAM is eventually consistent" in out and f"Model {name}: created" in out
    again = sagemaker.create_once(sdk.Model.create, model_name=name, execution_role_arn=role,
                                  primary_container=ContainerDefinition(image="changed"), **sdk.options)  # fmt: skip
    assert again.primary_container.image == IMAGE  # kept as it is
    assert f"Model {name}: exists, kept as it is" in capsys.readouterr().out


def test_ensure_endpoint_waits_through_creating(cloud, good_artifact, sdk, aws_profile, capsys):
    config = new_config(cloud, new_model(cloud, good_artifact))
    name = f"e-{uuid.uuid4().hex[:10]}"
    endpoint = ensure_endpoint(sdk, name, config)
    assert endpoint.endpoint_status == "InService"
    assert "Creating" in capsys.readouterr().out
    answer = endpoint.invoke(body="10,3,0.5,100", content_type="text/csv")
    assert answer.invoked_production_variant == "AllTraffic" and float(answer.body.read())


def test_ensure_endpoint_waits_for_an_update_in_progress(cloud, good_artifact, sdk, aws_profile):
    name = new_endpoint(cloud, new_config(cloud, new_model(cloud, good_artifact)))
    wait_until_not(cloud, name, "Creating")
    new = new_config(cloud, new_model(cloud, good_artifact))
    cloud.sm.update_endpoint(EndpointName=name, EndpointConfigName=new)
    endpoint = ensure_endpoint(sdk, name, new)
    assert (endpoint.endpoint_status, endpoint.endpoint_config_name) == ("InService", new)


def test_ensure_endpoint_moves_an_endpoint_to_a_new_configuration(cloud, good_artifact, sdk, local_profile):
    name = new_endpoint(cloud, new_config(cloud, new_model(cloud, good_artifact)))
    new = new_config(cloud, new_model(cloud, good_artifact))
    assert ensure_endpoint(sdk, name, new).endpoint_config_name == new


def test_ensure_endpoint_keeps_an_endpoint_that_serves_the_configuration(
    cloud, good_artifact, sdk, local_profile
):
    config = new_config(cloud, new_model(cloud, good_artifact))
    name = new_endpoint(cloud, config)
    created = cloud.sm.describe_endpoint(EndpointName=name)
    endpoint = ensure_endpoint(sdk, name, config)
    assert (endpoint.endpoint_status, endpoint.endpoint_config_name) == ("InService", config)
    assert cloud.sm.describe_endpoint(EndpointName=name)["LastModifiedTime"] == created["LastModifiedTime"]


def test_ensure_endpoint_repairs_a_failed_endpoint(cloud, good_artifact, sdk, local_profile, capsys):
    model_name = new_model(cloud, None)
    config = new_config(cloud, model_name)
    name = new_endpoint(cloud, config)
    assert status(cloud, name) == "Failed"
    cloud.s3.put_object(Bucket=cloud.bucket, Key=artifact_key(cloud, model_name), Body=good_artifact)  # fixed
    endpoint = ensure_endpoint(sdk, name, config)
    assert endpoint.endpoint_status == "InService"
    assert "is Failed: Failed to download model data" in capsys.readouterr().out


def test_ensure_endpoint_names_the_failure_reason_when_the_model_stays_broken(cloud, sdk, local_profile):
    from helpers.errors import WorkshopError

    config = new_config(cloud, new_model(cloud, None))
    with pytest.raises(WorkshopError, match="ended Failed: Failed to download model data"):
        ensure_endpoint(sdk, f"e-{uuid.uuid4().hex[:10]}", config)


def test_ensure_endpoint_says_what_to_do_beyond_the_serverless_quota(cloud, good_artifact, sdk):
    from moto.sagemaker.models import sagemaker_backends

    from helpers.errors import WorkshopError
    from localcloud.sagemaker import endpoints as sagemaker_endpoints

    used = sagemaker_endpoints._in_use(sagemaker_backends["123456789012"]["us-east-1"])
    old = use_profile("local", serverless_quota=used + 4)
    try:
        config = new_config(cloud, new_model(cloud, good_artifact), concurrency=5)
        with pytest.raises(WorkshopError) as caught:
            ensure_endpoint(sdk, f"e-{uuid.uuid4().hex[:10]}", config)
    finally:
        profile.use(old)
    message = str(caught.value)
    assert "ResourceLimitExceeded" not in message and "account-level service limit" in message
    assert "lower MaxConcurrency" in message and "another attendee" in message and "L-96300102" in message

"""The local cloud's SageMaker runtime answers InvokeEndpoint with the endpoint's real model, as AWS does."""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
from collections import Counter
from types import SimpleNamespace

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from helpers import model

REGION = "us-east-1"
ACCOUNT = "123456789012"
ROWS = [[42.5, 14, 0.12, 900], [1890.0, 3, 0.91, 12], [250.0, 23, 0.5, 30], [5.0, 9, 0.01, 3000]]


@pytest.fixture(scope="module")
def aws(local_cloud):
    """boto3 clients for the local cloud (the runtime client never retries, so each call is one invocation)."""

    def make(service: str, **kwargs):
        return boto3.client(service, endpoint_url=local_cloud, region_name=REGION, **kwargs)

    once = Config(retries={"total_max_attempts": 1})
    return SimpleNamespace(
        sm=make("sagemaker"), runtime=make("sagemaker-runtime", config=once), s3=make("s3"),
        logs=make("logs"), cloudwatch=make("cloudwatch"), iam=make("iam"),
    )  # fmt: skip


@pytest.fixture(scope="module")
def trained() -> model.TrainedModel:
    """The kit's model, trained once for this module."""
    return model.train()


@pytest.fixture(scope="module")
def booster(trained):
    """The model loaded in this process, for reference predictions."""
    return model.load_booster(trained.artifact)


@pytest.fixture(scope="module")
def bucket(aws) -> str:
    name = f"test-sagemaker-runtime-{uuid.uuid4().hex[:8]}"
    aws.s3.create_bucket(Bucket=name)
    return name


LOG_ACTIONS = ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"]


def make_role(aws, bucket: str, may_log: bool) -> str:
    """SageMaker's execution role: it may read the bucket's artifacts (CreateModel checks) and, if may_log,
    write the endpoints' logs ("CreateModel API: Execution Role Permissions")."""
    trust = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "sagemaker.amazonaws.com"}, "Action": "sts:AssumeRole"}]}  # fmt: skip
    statements = [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/*"}]
    if may_log:
        logs = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/sagemaker/Endpoints/*"
        statements.append({"Effect": "Allow", "Action": LOG_ACTIONS, "Resource": logs})
    name = f"test-sagemaker-{uuid.uuid4().hex[:8]}"
    arn = aws.iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    aws.iam.put_role_policy(RoleName=name, PolicyName="model", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": statements}))  # fmt: skip
    return arn


@pytest.fixture(scope="module")
def role(aws, bucket) -> str:
    return make_role(aws, bucket, may_log=True)


@pytest.fixture(scope="module")
def make_endpoint(aws, bucket, role):
    """Create an endpoint whose variants serve the given artifacts: {variant: (artifact bytes, weight)};
    serverless or on instances, run by the given execution role (one that may write logs by default)."""

    def create(
        variants: dict[str, tuple[bytes, float]], serverless: bool = False, role_arn: str = role
    ) -> str:
        name = f"ep-{uuid.uuid4().hex[:12]}"
        specs = []
        for variant, (artifact, weight) in variants.items():
            key = f"{name}/{variant}/model.tar.gz"
            aws.s3.put_object(Bucket=bucket, Key=key, Body=artifact)
            model_name = f"{name}-{variant}"
            aws.sm.create_model(
                ModelName=model_name, ExecutionRoleArn=role_arn,
                PrimaryContainer={"Image": "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1",
                                  "ModelDataUrl": f"s3://{bucket}/{key}"},
            )  # fmt: skip
            hosting = ({"ServerlessConfig": {"MemorySizeInMB": 2048, "MaxConcurrency": 1}} if serverless
                       else {"InstanceType": "ml.m5.large", "InitialInstanceCount": 1})  # fmt: skip
            specs.append(
                {"VariantName": variant, "ModelName": model_name, "InitialVariantWeight": weight, **hosting}
            )
        aws.sm.create_endpoint_config(EndpointConfigName=f"{name}-config", ProductionVariants=specs)
        aws.sm.create_endpoint(EndpointName=name, EndpointConfigName=f"{name}-config")
        return name

    return create


@pytest.fixture(scope="module")
def endpoint(make_endpoint, trained) -> str:
    """An endpoint serving the kit's model on one variant, AllTraffic."""
    return make_endpoint({"AllTraffic": (trained.artifact, 1.0)})


def csv_of(rows: list[list[float]]) -> str:
    return "\n".join(",".join(str(x) for x in row) for row in rows)


def model_error(aws, endpoint: str, body, content_type: str = "text/csv") -> dict:
    """The error response of an invocation that must fail."""
    with pytest.raises(ClientError) as caught:
        aws.runtime.invoke_endpoint(EndpointName=endpoint, ContentType=content_type, Body=body)
    return caught.value.response


def metric(aws, endpoint: str, variant: str, name: str, statistic: str = "Sum") -> float | None:
    """An AWS/SageMaker statistic for one endpoint variant over the last ten minutes."""
    now = dt.datetime.now(dt.UTC)
    points = aws.cloudwatch.get_metric_statistics(
        Namespace="AWS/SageMaker", MetricName=name,
        Dimensions=[{"Name": "EndpointName", "Value": endpoint}, {"Name": "VariantName", "Value": variant}],
        StartTime=now - dt.timedelta(minutes=10), EndTime=now + dt.timedelta(minutes=1),
        Period=600, Statistics=[statistic],
    )["Datapoints"]  # fmt: skip
    return sum(p[statistic] for p in points) if points else None


def endpoint_log(aws, endpoint: str) -> list[tuple[str, str]]:
    """(stream, message) of every event in the endpoint's log group."""
    group = f"/aws/sagemaker/Endpoints/{endpoint}"
    out = []
    for stream in aws.logs.describe_log_streams(logGroupName=group)["logStreams"]:
        events = aws.logs.get_log_events(
            logGroupName=group, logStreamName=stream["logStreamName"], startFromHead=True
        )
        out += [(stream["logStreamName"], e["message"]) for e in events["events"]]
    return out


# -- predictions ----------------------------------------------------------------------------------


def test_csv_predictions_equal_the_models_own(aws, endpoint, booster):
    answer = aws.runtime.invoke_endpoint(EndpointName=endpoint, ContentType="text/csv", Body=csv_of(ROWS))
    scores = [float(line) for line in answer["Body"].read().decode().splitlines()]
    assert scores == model.predict(booster, ROWS)
    assert answer["ContentType"].startswith("text/csv")


def test_json_predictions_equal_the_models_own(aws, endpoint, booster):
    answer = aws.runtime.invoke_endpoint(
        EndpointName=endpoint, ContentType="application/json", Accept="application/json",
        Body=json.dumps({"instances": ROWS}),
    )  # fmt: skip
    assert answer["ContentType"] == "application/json"
    assert [p["score"] for p in json.loads(answer["Body"].read())["predictions"]] == model.predict(
        booster, ROWS
    )


def test_answer_names_the_production_variant(aws, endpoint):
    answer = aws.runtime.invoke_endpoint(EndpointName=endpoint, ContentType="text/csv", Body=csv_of(ROWS[:1]))
    assert answer["InvokedProductionVariant"] == "AllTraffic"


def test_traffic_is_split_by_variant_weight(aws, make_endpoint, trained):
    name = make_endpoint({"Blue": (trained.artifact, 3.0), "Green": (trained.artifact, 1.0)})
    counts = Counter(
        aws.runtime.invoke_endpoint(EndpointName=name, ContentType="text/csv", Body="1,2,0.3,4")[
            "InvokedProductionVariant"
        ]
        for _ in range(400)
    )
    assert set(counts) == {"Blue", "Green"}
    assert 0.65 < counts["Blue"] / 400 < 0.85  # 0.75 expected; 400 draws keep it within ±0.1 by far


def test_target_variant_chooses_the_variant_and_its_model(aws, make_endpoint, trained):
    other = model.train(seed=7)
    name = make_endpoint({"Current": (trained.artifact, 1.0), "Candidate": (other.artifact, 0.0)})
    answer = aws.runtime.invoke_endpoint(
        EndpointName=name, ContentType="text/csv", Body=csv_of(ROWS), TargetVariant="Candidate"
    )
    assert answer["InvokedProductionVariant"] == "Candidate"
    scores = [float(s) for s in answer["Body"].read().decode().splitlines()]
    assert scores == model.predict(model.load_booster(other.artifact), ROWS)
    assert scores != model.predict(model.load_booster(trained.artifact), ROWS)


def test_unknown_target_variant_is_a_validation_error(aws, endpoint):
    with pytest.raises(ClientError) as caught:
        aws.runtime.invoke_endpoint(
            EndpointName=endpoint, ContentType="text/csv", Body="1,2,3,4", TargetVariant="Nope"
        )
    assert caught.value.response["Error"]["Code"] == "ValidationError"
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


# -- errors ---------------------------------------------------------------------------------------


def test_unknown_endpoint_is_a_validation_error(aws):
    with pytest.raises(ClientError) as caught:
        aws.runtime.invoke_endpoint(EndpointName="no-such-endpoint", ContentType="text/csv", Body="1,2,3,4")
    error = caught.value.response
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert error["Error"]["Code"] == "ValidationError"
    assert error["Error"]["Message"] == f"Endpoint no-such-endpoint of account {ACCOUNT} not found."


def test_bad_csv_is_a_model_error_with_the_containers_answer(aws, endpoint):
    error = model_error(aws, endpoint, "1,2,three,4")
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 424
    assert error["Error"]["Code"] == "ModelError"
    assert error["OriginalStatusCode"] == 400
    assert "csv" in error["OriginalMessage"] and "three" in error["OriginalMessage"]
    assert error["LogStreamArn"] == (
        f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/sagemaker/Endpoints/{endpoint}:log-stream:"
        + endpoint_log(aws, endpoint)[0][0]
    )


def test_more_columns_than_the_model_knows_is_a_400_from_xgboost(aws, endpoint):
    # aws/sagemaker-xgboost-container serve.py: "Unable to evaluate payload provided"; XGBoost's ValidateDMatrix
    error = model_error(aws, endpoint, "1,2,3,4,5")
    assert error["Error"]["Code"] == "ModelError" and error["OriginalStatusCode"] == 400
    assert error["OriginalMessage"].startswith("Unable to evaluate payload provided: ")
    assert "Number of columns does not match number of features in booster" in error["OriginalMessage"]


def test_fewer_columns_than_the_model_knows_is_a_silent_200(aws, endpoint, booster):
    answer = aws.runtime.invoke_endpoint(EndpointName=endpoint, ContentType="text/csv", Body="42.5,14,0.12")
    [score] = [float(line) for line in answer["Body"].read().decode().splitlines()]
    assert score == model.predict(booster, [[42.5, 14, 0.12]])[0] != model.predict(booster, [ROWS[0]])[0]


def test_model_error_message_is_sagemakers_one_line_with_the_log_group_link(aws, endpoint):
    # botocore sagemaker-runtime ModelError; message as reported in aws/amazon-sagemaker-examples#1881
    error = model_error(aws, endpoint, "1,2,3,4,5")
    assert error["Error"]["Message"] == (
        f'Received client error (400) from primary with message "{error["OriginalMessage"]}". See '
        f"https://{REGION}.console.aws.amazon.com/cloudwatch/home?region={REGION}#logEventViewer:group="
        f"/aws/sagemaker/Endpoints/{endpoint} in account {ACCOUNT} for more information."
    )


def test_unsupported_content_type_is_a_model_error(aws, endpoint):
    error = model_error(aws, endpoint, b"\x00\x01", content_type="image/png")
    assert error["Error"]["Code"] == "ModelError" and error["OriginalStatusCode"] == 415
    assert "image/png" in error["OriginalMessage"]


def replace_artifact(aws, bucket: str, endpoint: str, artifact: bytes) -> None:
    """Overwrite an InService endpoint's artifact (a serverless cold start reads it again; a broken one never
    reaches InService, see test_sagemaker_endpoints)."""
    aws.s3.put_object(Bucket=bucket, Key=f"{endpoint}/AllTraffic/model.tar.gz", Body=artifact)


def test_corrupt_artifact_is_a_model_error_naming_it(aws, make_endpoint, bucket, trained):
    name = make_endpoint({"AllTraffic": (trained.artifact, 1.0)})
    replace_artifact(aws, bucket, name, b"this is not a tar.gz")
    error = model_error(aws, name, "1,2,3,4")
    assert error["Error"]["Code"] == "ModelError" and error["OriginalStatusCode"] == 500
    assert f"s3://{bucket}/{name}/AllTraffic/model.tar.gz" in error["OriginalMessage"]


def test_artifact_without_a_booster_is_a_model_error_naming_it(aws, make_endpoint, bucket, trained):
    import io
    import tarfile

    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz") as tar:
        info = tarfile.TarInfo("README.txt")
        info.size = 2
        tar.addfile(info, io.BytesIO(b"hi"))
    name = make_endpoint({"AllTraffic": (trained.artifact, 1.0)})
    replace_artifact(aws, bucket, name, out.getvalue())
    message = model_error(aws, name, "1,2,3,4")["OriginalMessage"]
    assert f"s3://{bucket}/{name}/AllTraffic/model.tar.gz" in message and "xgboost-model" in message


# -- logs and metrics -----------------------------------------------------------------------------


def test_endpoint_logs_go_to_the_endpoints_log_group(aws, make_endpoint, trained):
    # "Log groups and streams that Amazon SageMaker AI sends to Amazon CloudWatch Logs":
    # /aws/sagemaker/Endpoints/[EndpointName], stream [production-variant-name]/[instance-id]
    name = make_endpoint({"AllTraffic": (trained.artifact, 1.0)})
    aws.runtime.invoke_endpoint(EndpointName=name, ContentType="text/csv", Body="1,2,0.3,4")
    model_error(aws, name, "1,2,3,4,5")
    events = endpoint_log(aws, name)
    streams = {stream for stream, _ in events}
    assert len(streams) == 1 and streams.pop().startswith("AllTraffic/i-")
    assert any('"POST /invocations HTTP/1.1" 200' in m for _, m in events)
    assert any('"POST /invocations HTTP/1.1" 400' in m for _, m in events)


def test_the_container_error_line_is_in_the_stream_named_by_log_stream_arn(aws, make_endpoint, trained):
    name = make_endpoint({"AllTraffic": (trained.artifact, 1.0)}, serverless=True)
    error = model_error(aws, name, "1,2,3,4,5")
    stream = error["LogStreamArn"].split(":log-stream:")[1]
    lines = [message for in_stream, message in endpoint_log(aws, name) if in_stream == stream]
    assert any(re.fullmatch(r"\[\d{4}-\d\d-\d\d:\d\d:\d\d:\d\d:ERROR\] (.*)", m, re.S) and
               m.endswith(f":ERROR] {error['OriginalMessage']}") for m in lines), lines  # fmt: skip


def test_a_serverless_endpoints_stream_is_named_after_its_variant(aws, make_endpoint, trained):
    # Serverless stream names are not documented; the kit uses <variant>/<32 hex digits> (README: fidelity)
    name = make_endpoint({"AllTraffic": (trained.artifact, 1.0)}, serverless=True)
    aws.runtime.invoke_endpoint(EndpointName=name, ContentType="text/csv", Body="1,2,0.3,4")
    [(stream, _)] = endpoint_log(aws, name)
    variant, _, instance = stream.partition("/")
    assert variant == "AllTraffic" and len(instance) == 32 and int(instance, 16) >= 0


def test_without_log_permissions_in_the_execution_role_the_container_writes_no_lines(aws, make_endpoint, bucket,
                                                                                      trained):  # fmt: skip
    # "CreateModel API: Execution Role Permissions": logs:CreateLogGroup/CreateLogStream/PutLogEvents
    name = make_endpoint(
        {"AllTraffic": (trained.artifact, 1.0)}, role_arn=make_role(aws, bucket, may_log=False)
    )
    error = model_error(aws, name, "1,2,3,4,5")
    assert error["Error"]["Code"] == "ModelError" and error["LogStreamArn"]
    groups = aws.logs.describe_log_groups(logGroupNamePrefix=f"/aws/sagemaker/Endpoints/{name}")["logGroups"]
    assert groups == []
    assert (
        metric(aws, name, "AllTraffic", "Invocation4XXErrors") == 1.0
    )  # SageMaker's own metrics still count


def test_metrics_count_invocations_per_endpoint_and_variant(aws, make_endpoint, trained):
    # "Monitor Amazon SageMaker AI with Amazon CloudWatch": AWS/SageMaker, dimensions EndpointName, VariantName
    name = make_endpoint({"AllTraffic": (trained.artifact, 1.0)})
    for _ in range(3):
        aws.runtime.invoke_endpoint(EndpointName=name, ContentType="text/csv", Body="1,2,0.3,4")
    model_error(aws, name, "1,2,3,4,5")
    assert metric(aws, name, "AllTraffic", "Invocations") == 4.0
    assert metric(aws, name, "AllTraffic", "Invocation4XXErrors") == 1.0
    assert metric(aws, name, "AllTraffic", "Invocation5XXErrors") == 0.0
    assert metric(aws, name, "AllTraffic", "InvocationModelErrors") == 1.0
    assert metric(aws, name, "AllTraffic", "InvocationsPerInstance") == 4.0


def test_a_serverless_endpoint_publishes_only_the_serverless_metrics(aws, make_endpoint, trained):
    # "Alarms and logs for tracking metrics from serverless endpoints": "Any metric not listed ... is not published"
    name = make_endpoint({"AllTraffic": (trained.artifact, 1.0)}, serverless=True)
    aws.runtime.invoke_endpoint(EndpointName=name, ContentType="text/csv", Body="1,2,0.3,4")
    model_error(aws, name, "1,2,3,4,5")
    published = {
        m["MetricName"]
        for m in aws.cloudwatch.list_metrics(
            Namespace="AWS/SageMaker", Dimensions=[{"Name": "EndpointName", "Value": name}]
        )["Metrics"]
    }
    assert published == {"Invocations", "Invocation4XXErrors", "Invocation5XXErrors", "ModelLatency",
                         "OverheadLatency", "ModelSetupTime"}  # fmt: skip
    assert metric(aws, name, "AllTraffic", "Invocation4XXErrors") == 1.0


def test_model_setup_time_is_published_once_for_the_cold_start(aws, make_endpoint, trained):
    # ModelSetupTime: "the time it takes to launch new compute resources for a serverless endpoint"
    name = make_endpoint({"AllTraffic": (trained.artifact, 1.0)}, serverless=True)
    for _ in range(3):
        aws.runtime.invoke_endpoint(EndpointName=name, ContentType="text/csv", Body="1,2,0.3,4")
    assert metric(aws, name, "AllTraffic", "ModelSetupTime", "SampleCount") == 1.0
    assert metric(aws, name, "AllTraffic", "Invocations") == 3.0


def test_an_update_to_a_new_configuration_starts_new_compute(aws, make_endpoint, trained):
    name = make_endpoint({"AllTraffic": (trained.artifact, 1.0)}, serverless=True)
    aws.runtime.invoke_endpoint(EndpointName=name, ContentType="text/csv", Body="1,2,0.3,4")
    config = aws.sm.describe_endpoint_config(EndpointConfigName=f"{name}-config")["ProductionVariants"]
    aws.sm.create_endpoint_config(EndpointConfigName=f"{name}-config-2", ProductionVariants=config)
    aws.sm.update_endpoint(EndpointName=name, EndpointConfigName=f"{name}-config-2")
    aws.runtime.invoke_endpoint(EndpointName=name, ContentType="text/csv", Body="1,2,0.3,4")
    assert metric(aws, name, "AllTraffic", "ModelSetupTime", "SampleCount") == 2.0
    assert len({stream for stream, _ in endpoint_log(aws, name)}) == 2


def test_latency_metrics_are_in_microseconds(aws, make_endpoint, trained):
    name = make_endpoint({"AllTraffic": (trained.artifact, 1.0)})
    aws.runtime.invoke_endpoint(EndpointName=name, ContentType="text/csv", Body="1,2,0.3,4")
    now = dt.datetime.now(dt.UTC)
    [point] = aws.cloudwatch.get_metric_statistics(
        Namespace="AWS/SageMaker", MetricName="ModelLatency",
        Dimensions=[{"Name": "EndpointName", "Value": name}, {"Name": "VariantName", "Value": "AllTraffic"}],
        StartTime=now - dt.timedelta(minutes=10), EndTime=now + dt.timedelta(minutes=1),
        Period=600, Statistics=["Maximum"],
    )["Datapoints"]  # fmt: skip
    assert point["Unit"] == "Microseconds"
    assert 10 < point["Maximum"] < 30_000_000  # a prediction takes more than 10 µs and less than 30 s
    assert metric(aws, name, "AllTraffic", "OverheadLatency", "SampleCount") == 1.0
    assert metric(aws, name, "AllTraffic", "ModelSetupTime", "SampleCount") is None  # serverless only


def test_corrupt_artifact_counts_as_a_5xx_error(aws, make_endpoint, bucket, trained):
    name = make_endpoint({"AllTraffic": (trained.artifact, 1.0)})
    replace_artifact(aws, bucket, name, b"garbage")
    model_error(aws, name, "1,2,3,4")
    assert metric(aws, name, "AllTraffic", "Invocation5XXErrors") == 1.0
    assert metric(aws, name, "AllTraffic", "Invocation4XXErrors") == 0.0


def test_metrics_of_one_variant_are_not_the_others(aws, make_endpoint, trained):
    name = make_endpoint({"Blue": (trained.artifact, 1.0), "Green": (trained.artifact, 1.0)})
    for _ in range(2):
        aws.runtime.invoke_endpoint(
            EndpointName=name, ContentType="text/csv", Body="1,2,0.3,4", TargetVariant="Green"
        )
    assert metric(aws, name, "Green", "Invocations") == 2.0
    assert metric(aws, name, "Blue", "Invocations") is None


def test_lambda_calling_the_endpoint_gets_the_models_prediction(aws, endpoint, booster, local_cloud):
    import io
    import zipfile
    from pathlib import Path

    lam = boto3.client("lambda", endpoint_url=local_cloud, region_name=REGION)
    trust = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}  # fmt: skip
    role = aws.iam.create_role(
        RoleName=f"fn-{uuid.uuid4().hex[:8]}", AssumeRolePolicyDocument=json.dumps(trust)
    )
    aws.iam.put_role_policy(RoleName=role["Role"]["RoleName"], PolicyName="invoke", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sagemaker:InvokeEndpoint",
                                                "Resource": f"arn:aws:sagemaker:{REGION}:123456789012:endpoint/{endpoint.lower()}"}]}))  # fmt: skip
    package = io.BytesIO()
    with zipfile.ZipFile(package, "w") as archive:
        archive.write(Path(__file__).resolve().parents[3] / "lambda" / "chapter7" / "app.py", "app.py")
    name = f"chapter7-{uuid.uuid4().hex[:8]}"
    lam.create_function(FunctionName=name, Runtime="python3.13", Role=role["Role"]["Arn"], Handler="app.lambda_handler",
                        Code={"ZipFile": package.getvalue()}, Environment={"Variables": {"ENDPOINT_NAME": endpoint}})  # fmt: skip
    answer = lam.invoke(FunctionName=name, Payload=json.dumps({"features": ROWS[1]}))
    reply = json.loads(answer["Payload"].read())
    assert "FunctionError" not in answer, reply
    assert json.loads(reply["body"])["prediction"] == model.predict(booster, [ROWS[1]])[0]
